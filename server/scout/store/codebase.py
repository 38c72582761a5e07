"""Which codebase a query ran in: its root, and the git remote and commit when there are any.

Git metadata is read from the ``.git`` directory directly (HEAD, refs, packed-refs, config):
no ``git`` binary needed and no subprocess on every logged query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from scout.store.redact import redact

_COMMIT = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")


@dataclass(frozen=True, slots=True)
class CodebaseInfo:
    root: str  # absolute POSIX path
    name: str  # the root's directory name: what held-out splits and dataset cards show
    git_remote: str | None
    git_commit: str | None


def _git_dir(root: Path) -> Path | None:
    for directory in (root, *root.parents):
        dot_git = directory / ".git"
        if dot_git.is_dir():
            return dot_git
        if dot_git.is_file():  # worktree or submodule: "gitdir: <path>"
            text = dot_git.read_text(encoding="utf-8", errors="replace").strip()
            if text.startswith("gitdir:"):
                target = Path(text[len("gitdir:"):].strip())
                return target if target.is_absolute() else (directory / target).resolve()
    return None


def _common_dir(git_dir: Path) -> Path:
    common = git_dir / "commondir"
    if common.is_file():
        return (git_dir / common.read_text(encoding="utf-8").strip()).resolve()
    return git_dir


def _resolve_ref(git_dir: Path, ref: str) -> str | None:
    for base in (git_dir, _common_dir(git_dir)):
        loose = base / ref
        if loose.is_file():
            value = loose.read_text(encoding="utf-8", errors="replace").strip()
            return value if _COMMIT.match(value) else None
    packed = _common_dir(git_dir) / "packed-refs"
    if packed.is_file():
        for line in packed.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.split(" ", 1)
            if len(parts) == 2 and parts[1] == ref and _COMMIT.match(parts[0]):
                return parts[0]
    return None


def _head_commit(git_dir: Path) -> str | None:
    head = git_dir / "HEAD"
    if not head.is_file():
        return None
    value = head.read_text(encoding="utf-8", errors="replace").strip()
    if value.startswith("ref:"):
        return _resolve_ref(git_dir, value[4:].strip())
    return value if _COMMIT.match(value) else None  # detached HEAD


def _origin_url(git_dir: Path) -> str | None:
    config = _common_dir(git_dir) / "config"
    if not config.is_file():
        return None
    section = None
    first_url = None
    for raw in config.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.strip()
        if line.startswith("["):
            section = line
            continue
        if section and section.startswith("[remote ") and "=" in line:
            key, value = (part.strip() for part in line.split("=", 1))
            if key == "url":
                if section == '[remote "origin"]':
                    return value
                first_url = first_url or value
    return first_url


@dataclass(frozen=True, slots=True)
class CodebaseLocation:
    root: Path  # resolved
    git_dir: Path | None


def locate_codebase(root: Path) -> CodebaseLocation:
    """The resolved root and its git directory: stable for a root, so callers may keep it."""
    resolved = root.resolve()
    return CodebaseLocation(resolved, _git_dir(resolved))


def describe_codebase(root: Path | CodebaseLocation) -> CodebaseInfo:
    """Root, name and (when the root is inside a git repository) remote and HEAD commit, read
    fresh each call. Credentials in a remote URL (``https://user:token@host``) are redacted."""
    location = root if isinstance(root, CodebaseLocation) else locate_codebase(root)
    resolved, git_dir = location.root, location.git_dir
    remote = commit = None
    if git_dir is not None:
        try:
            commit = _head_commit(git_dir)
            url = _origin_url(git_dir)
            remote = redact(url) if url else None
        except OSError:
            # Unreadable .git: the codebase is still recorded, only without git metadata.
            remote = commit = None
    return CodebaseInfo(root=resolved.as_posix(), name=resolved.name or resolved.as_posix(),
                        git_remote=remote, git_commit=commit)
