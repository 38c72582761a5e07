"""Hugging Face checkpoint -> GGUF, with the token types that decide what the engine prints.

The converter is llama.cpp's ``convert_hf_to_gguf.py``. PyPI's ``gguf`` package has no HF
converter, but the ``llama-cpp-python`` source distribution ships llama.cpp with it and its
matching ``gguf-py``: :func:`converter_dir` uses ``$SCOUT_LLAMA_CPP`` (a llama.cpp checkout or
the unpacked sdist's ``vendor/llama.cpp``), else fetches the pinned sdist once with pip (from
its cache when it has it) and unpacks the converter into scout's cache folder.

Token types: the converter reads them from ``tokenizer_config.json``'s ``added_tokens_decoder``.
``"special": true`` makes a token CONTROL (llama.cpp and Ollama hide it from the text, and stop
strings on it never fire), ``false`` makes it USER_DEFINED (printed: stops fire, the call
markers reach the parser). :func:`set_token_types` writes FunctionGemma's nine turn, function and
escape tokens one way or the other; ``scout train`` writes them printed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

from scout.cancel import CancelToken
from scout.functiongemma.format import FUNCTION_TOKENS

LLAMA_CPP_PYTHON_VERSION = "0.3.36"  # the pin in the train extra; its sdist carries the converter
ENV_LLAMA_CPP = "SCOUT_LLAMA_CPP"
CONVERTER = "convert_hf_to_gguf.py"


class GgufError(RuntimeError):
    """The conversion could not run or failed; the message says what to do."""


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME")
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".cache"
    return root / "semantic-scout"


def converter_dir(*, say: Callable[[str], None] = lambda message: None) -> Path:
    """A folder holding ``convert_hf_to_gguf.py``, ``conversion/`` and ``gguf-py/``."""
    configured = os.environ.get(ENV_LLAMA_CPP)
    if configured:
        folder = Path(configured).expanduser()
        for candidate in (folder, folder / "vendor" / "llama.cpp"):
            if (candidate / CONVERTER).is_file():
                return candidate
        raise GgufError(f"{ENV_LLAMA_CPP}={configured} holds no {CONVERTER}: point it at a "
                        "llama.cpp checkout or an unpacked llama-cpp-python sdist")
    target = cache_root() / f"llama.cpp-from-llama-cpp-python-{LLAMA_CPP_PYTHON_VERSION}"
    if (target / CONVERTER).is_file():
        return target
    say(f"fetching llama.cpp's converter (llama-cpp-python=={LLAMA_CPP_PYTHON_VERSION} "
        "source distribution, through pip)")
    with tempfile.TemporaryDirectory(prefix="scout-sdist-") as scratch:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                   "--no-binary", ":all:", "--dest", scratch,
                   f"llama-cpp-python=={LLAMA_CPP_PYTHON_VERSION}"]
        done = subprocess.run(command, capture_output=True, text=True)
        archives = list(Path(scratch).glob("llama_cpp_python-*.tar.gz"))
        if done.returncode != 0 or not archives:
            raise GgufError(
                f"could not fetch the llama-cpp-python sdist with pip ({done.stderr.strip()[-400:]})"
                f"; set {ENV_LLAMA_CPP} to a llama.cpp checkout instead")
        _unpack_converter(archives[0], target)
    return target


def _unpack_converter(archive: Path, target: Path) -> None:
    wanted = (CONVERTER, "conversion/", "gguf-py/")
    staging = Path(tempfile.mkdtemp(prefix="scout-llama-", dir=target.parent
                                    if target.parent.exists() else None))
    try:
        with tarfile.open(archive) as tar:
            members = []
            for member in tar.getmembers():
                parts = member.name.split("/", 3)
                if len(parts) < 4 or parts[1:3] != ["vendor", "llama.cpp"]:
                    continue
                inner = parts[3]
                if inner == CONVERTER or inner.startswith(wanted[1:]):
                    member.name = inner
                    members.append(member)
            tar.extractall(staging, members=members, filter="data")
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def set_token_types(folder: Path, *, printed: bool) -> None:
    """Mark FunctionGemma's nine turn/function/escape tokens USER_DEFINED (``printed``) or
    CONTROL (hidden) for the converter; BOS, EOS, PAD and UNK stay CONTROL."""
    config_path = folder / "tokenizer_config.json"
    config = json.loads(config_path.read_text()) if config_path.is_file() else {}
    decoder = config.get("added_tokens_decoder") or _decoder_from_tokenizer_json(folder)
    present = {entry["content"] for entry in decoder.values()}
    missing = [token for token in FUNCTION_TOKENS if token not in present]
    if missing:
        raise GgufError(f"{folder} has no added tokens {missing}: is this a FunctionGemma "
                        "checkpoint?")
    for entry in decoder.values():
        if entry["content"] in FUNCTION_TOKENS:
            entry["special"] = not printed
    config["added_tokens_decoder"] = decoder
    config_path.write_text(json.dumps(config, indent=1, ensure_ascii=False) + "\n")


def _decoder_from_tokenizer_json(folder: Path) -> dict[str, dict]:
    path = folder / "tokenizer.json"
    if not path.is_file():
        return {}
    added = json.loads(path.read_text()).get("added_tokens", [])
    return {str(token["id"]): {key: token[key] for key in
                               ("content", "lstrip", "normalized", "rstrip", "single_word",
                                "special") if key in token}
            for token in added}


def convert(folder: Path, outfile: Path, *, outtype: str = "q8_0",
            cancel: CancelToken | None = None,
            say: Callable[[str], None] = lambda message: None) -> Path:
    """Run llama.cpp's converter on a Hugging Face folder (which must hold the SentencePiece
    ``tokenizer.model``: transformers 5 no longer saves it, callers copy it)."""
    if not (folder / "tokenizer.model").is_file():
        raise GgufError(f"{folder} has no tokenizer.model: the converter reads FunctionGemma's "
                        "SentencePiece vocabulary from it (copy it from the base checkpoint)")
    tool = converter_dir(say=say)
    outfile.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.pop("NO_LOCAL_GGUF", None)  # the converter must use its own gguf-py, not PyPI's gguf
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tool / "gguf-py"),
                                                      env.get("PYTHONPATH")]))
    command = [sys.executable, str(tool / CONVERTER), str(folder), "--outfile", str(outfile),
               "--outtype", outtype]
    process = subprocess.Popen(command, cwd=tool, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    if cancel is not None:
        cancel.on_cancel(process.kill)
    output, _ = process.communicate()
    if cancel is not None:
        cancel.check()
    if process.returncode != 0 or not outfile.is_file():
        raise GgufError(f"llama.cpp's converter failed (exit {process.returncode}): "
                        f"{output.strip()[-1200:]}")
    return outfile


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
