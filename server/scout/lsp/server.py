"""`scout serve`: the language server. Thin handlers over the library (``ScoutSession``).

It offers code actions, code lenses, commands, work-done progress and the custom messages of
docs/protocol.md, and nothing else (no hover, completion, diagnostics or formatting), so it sits
next to HLS without competing. Blocking work (indexing, questions, export) runs off the event
loop: indexing on each folder's owner thread, the rest on a small pool; every handler answers,
with a result, an empty result or a JSON-RPC error, and none can block the editor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInternalError, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import from_fs_path, to_fs_path

from scout import __version__
from scout.cancel import Cancelled, CancelToken
from scout.explore.actions import questions_at
from scout.explore.model import ChangeKind, Node
from scout.haskell.discover import is_haskell
from scout.lsp import present
from scout.lsp.folders import Folder, Folders
from scout.settings import CONFIG_SECTION, Settings, SettingsError, resolve_settings

log = logging.getLogger("scout.lsp")
T = TypeVar("T")

CODE_ACTION_KIND = "refactor.scout"
EDIT_DEBOUNCE = 0.15  # seconds: a burst of keystrokes becomes one index update
MAX_RESTARTS = 2  # explorations restarted because an edit superseded their revision
HOVER_CAPABILITY = "scoutHover"
COMMANDS = ("scout.ask", "scout.scoutAt", "scout.showResults", "scout.clearResults",
            "scout.selectScorer", "scout.toggleShadow", "scout.export", "scout.agreement",
            "scout.indexStatus", "scout.status")


@dataclass(frozen=True, slots=True)
class _Malformed:
    """A request whose params did not match its method's type: answered with the error."""

    id: Any
    method: str
    error: JsonRpcException
    jsonrpc: str = "2.0"


class ScoutProtocol(LanguageServerProtocol):
    """pygls drops a request whose params fail validation (it logs and answers nothing, and
    the client waits forever); JSON-RPC wants an InvalidParams answer. This answers it."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if isinstance(data, dict) and "id" in data and isinstance(data.get("method"), str):
                return _Malformed(data["id"], data["method"], exc)
            raise

    def _execute_handler(self, msg_id: Any, handler: Any, callback: Any,
                         args: Any = None, kwargs: Any = None) -> None:
        # pygls 2.1.1 files the future of every generator or async handler under an id, but
        # removes it only for the request it answers: the futures of notifications (didOpen,
        # didChange: one per keystroke) and of the handler a builtin generator delegates to
        # (every workspace/executeCommand, holding its whole result) stay forever. Forget each
        # one when it is done.
        super()._execute_handler(msg_id, handler, callback, args=args, kwargs=kwargs)
        future = self._request_futures.get(msg_id)
        if future is not None:
            def forget(done: Any, msg_id: Any = msg_id) -> None:
                if self._request_futures.get(msg_id) is done:
                    self._request_futures.pop(msg_id, None)
            future.add_done_callback(forget)

    def handle_message(self, message: Any) -> None:
        if isinstance(message, _Malformed):
            log.warning("malformed %s request answered with an error", message.method)
            self._send_response(message.id, None, JsonRpcInvalidParams(
                f"malformed params for {message.method}").to_response_error())
            return
        super().handle_message(message)


class ScoutServer(LanguageServer):
    """Holds the editor's folders; every feature is a function of ``make_server``."""

    def __init__(self) -> None:
        super().__init__("semantic-scout", __version__,
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
                         protocol_cls=ScoutProtocol)
        self.folders = Folders()
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="scout-work")
        self.init_options: dict[str, Any] = {}
        self.editor_config: dict[str, dict[str, Any]] = {}  # folder root -> section
        self.lines = present.LineTracker()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.debounce: dict[str, asyncio.TimerHandle] = {}
        self._status_cache: dict[str, Any] = {}
        # folder root -> (registration id, the `#include`d files it watches)
        self.include_watchers: dict[str, tuple[str, list[str]]] = {}

    def report_server_error(self, error: Exception, source: Any) -> None:
        """A malformed notification or an internal error outside a request: logged (to
        stderr and the editor's output), not thrown at the user as a dialog."""
        log.warning("server error (%s): %s", getattr(source, "__name__", source), error)

    # -- client capabilities ------------------------------------------------------------
    @property
    def caps(self) -> types.ClientCapabilities:
        return self.client_capabilities

    def supports_progress(self) -> bool:
        window = self.caps.window
        return bool(window and window.work_done_progress)

    def supports_lens_refresh(self) -> bool:
        ws = self.caps.workspace
        return bool(ws and ws.code_lens and ws.code_lens.refresh_support)

    def supports_configuration(self) -> bool:
        ws = self.caps.workspace
        return bool(ws and ws.configuration)

    def supports_hover_bridge(self) -> bool:
        experimental = self.caps.experimental
        if isinstance(experimental, dict):
            return bool(experimental.get(HOVER_CAPABILITY))
        return bool(getattr(experimental, HOVER_CAPABILITY, False))

    # -- threads -------------------------------------------------------------------------
    async def blocking(self, work: Callable[[CancelToken], T]) -> T:
        """Run ``work`` on the pool; ``$/cancelRequest`` (the handler's task is cancelled)
        cancels its token, and the work stops at its next check."""
        token = CancelToken()
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self.pool, work, token)
        try:
            return await future
        except asyncio.CancelledError:
            token.cancel("cancelled by the client")
            raise

    def from_thread(self, callback: Callable[[], Any]) -> None:
        """Run ``callback`` on the event loop (sending messages is not thread-safe)."""
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(callback)

    def notify_safe(self, method: str, params: Any) -> None:
        self.from_thread(lambda: self.protocol.notify(method, params))

    def refresh_lenses(self) -> None:
        if self.supports_lens_refresh():
            self.from_thread(lambda: self.workspace_code_lens_refresh(None))

    def on_session_event(self, key: int, what: str) -> None:
        """An answer arrived, was logged, got its teacher's labels, or answers were cleared."""
        self.notify_safe("scout/resultsChanged", {"key": key, "reason": what})
        if what in ("answer", "cleared", "shadow"):
            self.refresh_lenses()

    # -- folders and settings ------------------------------------------------------------
    def settings_for(self, root: Path) -> Settings:
        try:
            settings = resolve_settings(root, editor=self.editor_config.get(str(root)),
                                        init_options=self.init_options)
        except SettingsError as exc:
            self.show(f"Semantic Scout: {exc}; using the defaults until it is fixed.",
                      types.MessageType.Error)
            settings = Settings()
        for warning in settings.warnings:
            log.warning("%s", warning)
        return settings

    def show(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        self.from_thread(lambda: self.window_show_message(
            types.ShowMessageParams(type=kind, message=message)))

    def locate(self, uri: str) -> tuple[Folder, str] | None:
        path = to_fs_path(uri) if uri.startswith("file:") else None
        if not path:
            return None
        return self.folders.for_path(Path(path))

    def current_lines(self, folder: Folder) -> Callable[[str], Sequence[str] | None]:
        """A file's lines now: the editor's text when it is open, else the index's."""
        snapshot = folder.snapshot()

        def lines(path: str) -> Sequence[str] | None:
            uri = from_fs_path(str(folder.root / path))
            document = self.workspace.text_documents.get(uri) if uri else None
            if document is not None:
                return document.source.splitlines()
            return snapshot.source_lines(path) if snapshot is not None else None
        return lines


def make_server() -> ScoutServer:
    """A new server with every feature registered (no module-level server: tests and the
    CLI each make their own)."""
    server = ScoutServer()

    # -- lifecycle -----------------------------------------------------------------------
    @server.feature(types.INITIALIZE)
    def initialize(ls: ScoutServer, params: types.InitializeParams) -> None:
        options = params.initialization_options
        ls.init_options = options if isinstance(options, dict) else {}

    @server.feature(types.INITIALIZED)
    async def initialized(ls: ScoutServer, params: types.InitializedParams) -> None:
        ls.loop = asyncio.get_running_loop()
        roots = _workspace_roots(ls)
        await _pull_configuration(ls, roots)
        for root in roots:
            _open_folder(ls, root)
        await _watch_files(ls)

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: ScoutServer, params: None) -> None:
        for folder in ls.folders.all():
            with contextlib.suppress(Exception):  # answers given just before are logged
                folder.session.drain(timeout=5)
            folder.close()
        ls.pool.shutdown(wait=False, cancel_futures=True)

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def folders_changed(ls: ScoutServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        for removed in params.event.removed:
            folder = ls.folders.remove(Path(to_fs_path(removed.uri) or ""))
            if folder is not None:
                folder.close()
        for added in params.event.added:
            path = to_fs_path(added.uri)
            if path and Path(path).is_dir():
                _open_folder(ls, Path(path))

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def configuration_changed(ls: ScoutServer,
                                    params: types.DidChangeConfigurationParams) -> None:
        folders = ls.folders.all()
        if not ls.supports_configuration():
            pushed = params.settings
            section = pushed.get(CONFIG_SECTION, pushed) if isinstance(pushed, dict) else None
            if isinstance(section, dict):
                for folder in folders:
                    ls.editor_config[str(folder.root)] = section
        else:
            await _pull_configuration(ls, [f.root for f in folders])
        for folder in folders:
            folder.configure(ls.settings_for(folder.root))
        ls.notify_safe("scout/statusChanged", await _status(ls))

    # -- documents -----------------------------------------------------------------------
    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: ScoutServer, params: types.DidOpenTextDocumentParams) -> None:
        _schedule_edit(ls, params.text_document.uri, from_editor=True)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: ScoutServer, params: types.DidChangeTextDocumentParams) -> None:
        _schedule_edit(ls, params.text_document.uri, from_editor=True)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: ScoutServer, params: types.DidSaveTextDocumentParams) -> None:
        _schedule_edit(ls, params.text_document.uri, from_editor=False)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: ScoutServer, params: types.DidCloseTextDocumentParams) -> None:
        _schedule_edit(ls, params.text_document.uri, from_editor=False)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched_files(ls: ScoutServer, params: types.DidChangeWatchedFilesParams) -> None:
        for change in params.changes:
            open_in_editor = change.uri in ls.workspace.text_documents
            if open_in_editor and change.type is not types.FileChangeType.Deleted:
                continue  # the editor's text wins over the disk's while the file is open
            _schedule_edit(ls, change.uri, from_editor=False)

    # -- code actions and lenses ------------------------------------------------------------
    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=[CODE_ACTION_KIND],
                                            resolve_provider=False))
    def code_action(ls: ScoutServer, params: types.CodeActionParams
                    ) -> list[types.CodeAction] | None:
        located = ls.locate(params.text_document.uri)
        if located is None:
            return []
        only = params.context.only if params.context else None
        if only and not any(CODE_ACTION_KIND.startswith(kind) for kind in only):
            return []
        folder, rel = located
        snapshot = folder.snapshot()
        document = ls.workspace.text_documents.get(params.text_document.uri)
        if snapshot is None or document is None:
            return []
        position = params.range.start
        lines = document.source.splitlines()
        if not 0 <= position.line < len(lines):
            return []
        suggestions = questions_at(snapshot, rel, lines[position.line], position.line + 1,
                                   position.character)
        return [types.CodeAction(
            title=f"Scout: {s.text[0].lower()}{s.text[1:]}", kind=CODE_ACTION_KIND,
            command=types.Command(title=s.text, command="scout.scoutAt", arguments=[{
                "uri": params.text_document.uri,
                "position": {"line": position.line, "character": position.character},
                "change": s.change.value, "target": s.target}]))
            for s in suggestions]

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS)
    def code_lens(ls: ScoutServer, params: types.CodeLensParams) -> list[types.CodeLens]:
        located = ls.locate(params.text_document.uri)
        if located is None:
            return []
        folder, rel = located
        return _lenses(ls, folder, rel)

    # -- commands ------------------------------------------------------------------------
    @server.command("scout.ask")
    async def ask(ls: ScoutServer, *args: Any) -> dict[str, Any]:
        arg = _argument(args)
        question = _string(arg, "question")
        folder = _folder_for(ls, arg.get("uri"))
        return await _answer(ls, folder, question, arg.get("budget"), title=question)

    @server.command("scout.scoutAt")
    async def scout_at(ls: ScoutServer, *args: Any) -> dict[str, Any]:
        arg = _argument(args)
        uri = _string(arg, "uri")
        position = arg.get("position")
        if not isinstance(position, dict) or not all(
                isinstance(position.get(k), int) and position.get(k) >= 0
                for k in ("line", "character")):
            raise JsonRpcInvalidParams("position must be {line, character} (0-based integers)")
        change, target = arg.get("change"), arg.get("target")
        if change is not None and change not in {k.value for k in ChangeKind}:
            raise JsonRpcInvalidParams(f"unknown change kind {change!r}")
        if target is not None and not isinstance(target, str):
            raise JsonRpcInvalidParams("target must be a symbol name")
        located = ls.locate(uri)
        if located is None:
            return _error(f"{uri} is not in an open workspace folder")
        folder, rel = located
        if not target:
            snapshot = folder.snapshot()
            document = ls.workspace.text_documents.get(uri)
            lines = (document.source.splitlines() if document is not None else
                     snapshot.source_lines(rel) if snapshot is not None else [])
            if snapshot is None or position["line"] >= len(lines):
                return _error("no symbol here that Semantic Scout knows (is indexing done?)")
            suggestions = questions_at(snapshot, rel, lines[position["line"]],
                                       position["line"] + 1, position["character"])
            if change is not None:
                suggestions = [s for s in suggestions if s.change.value == change]
            if not suggestions:
                return _error("no symbol here that a change applies to: put the cursor on a "
                              "type, constructor, field, function, class or export")
            chosen = suggestions[0]
            target, change, title = chosen.target, chosen.change.value, chosen.text
        else:
            from scout.explore.actions import question_text

            title = question_text(ChangeKind(change or "change"), target.rpartition(".")[2])
        structured = {"target": target, "query": title, **({"change": change} if change else {})}
        return await _answer(ls, folder, structured, arg.get("budget"), title=title)

    @server.command("scout.showResults")
    def show_results(ls: ScoutServer, *args: Any) -> dict[str, Any]:
        arg = _argument(args, optional=True)
        return {"status": "ok", "results": _results(ls, arg.get("uri"), arg.get("key"))}

    @server.feature("scout/results")
    def results_request(ls: ScoutServer, params: Any) -> dict[str, Any]:
        uri = getattr(params, "uri", None) if params is not None else None
        return {"results": _results(ls, uri if isinstance(uri, str) else None, None)}

    @server.command("scout.clearResults")
    def clear_results(ls: ScoutServer, *args: Any) -> dict[str, Any]:
        cleared = sum(folder.session.clear_results() for folder in ls.folders.all())
        return {"status": "ok", "cleared": cleared}

    @server.command("scout.selectScorer")
    async def select_scorer(ls: ScoutServer, *args: Any) -> dict[str, Any]:
        scorer = _string(_argument(args), "scorer")
        try:
            for folder in ls.folders.all():
                folder.configure(folder.session.settings.with_changes("editor command",
                                                                      scorer=scorer))
        except SettingsError as exc:
            raise JsonRpcInvalidParams(str(exc)) from None
        status = await _status(ls, refresh=True)
        ls.notify_safe("scout/statusChanged", status)
        return {"status": "ok", "statusInfo": status}

    @server.command("scout.toggleShadow")
    async def toggle_shadow(ls: ScoutServer, *args: Any) -> dict[str, Any]:
        arg = _argument(args, optional=True)
        wanted = arg.get("enabled")
        if wanted is not None and not isinstance(wanted, bool):
            raise JsonRpcInvalidParams("enabled must be true or false")
        for folder in ls.folders.all():
            enabled = (not folder.session.settings.shadow) if wanted is None else wanted
            folder.configure(folder.session.settings.with_changes("editor command",
                                                                  shadow=enabled))
        status = await _status(ls, refresh=True)
        ls.notify_safe("scout/statusChanged", status)
        return {"status": "ok", "statusInfo": status}

    @server.command("scout.export")
    async def export(ls: ScoutServer, *args: Any) -> dict[str, Any]:
        arg = _argument(args)
        fmt = _string(arg, "format")
        try:
            out = Path(_string(arg, "folder")).expanduser()
        except RuntimeError:  # `~name` for a user this machine does not know
            raise JsonRpcInvalidParams("folder: no such user's home") from None
        from scout.export.formats import FORMATS

        if fmt not in FORMATS:
            raise JsonRpcInvalidParams(f"format must be one of {', '.join(FORMATS)}")
        folder = _folder_for(ls, arg.get("uri"))

        def work(cancel: CancelToken) -> dict[str, Any]:
            from scout.export.cli import EmptySelection, ExportOptions, export_dataset
            from scout.export.select import Filters, SelectionError
            from scout.export.split import SplitPlan
            from scout.store import StoreError

            try:
                store = folder.session.store()
                result = export_dataset(store, ExportOptions(
                    fmt=fmt, out=out, filters=Filters(), plan=SplitPlan((0.8, 0.1, 0.1)),
                    progress=False))
            except (EmptySelection, SelectionError, StoreError, OSError) as exc:
                return _error(str(exc))
            return {"status": "ok", "files": [str(p) for p in (*result.files, result.card)],
                    "examples": result.examples, "folder": str(out)}
        return await ls.blocking(work)

    @server.command("scout.agreement")
    async def agreement_command(ls: ScoutServer, *args: Any) -> dict[str, Any]:
        folder = _folder_for(ls, _argument(args, optional=True).get("uri"))

        arg = _argument(args, optional=True)
        field = arg.get("field", "risk")
        from scout.agreement import FIELDS, agreement, table

        if field not in FIELDS:
            raise JsonRpcInvalidParams(f"field must be one of {', '.join(FIELDS)}")

        def work(cancel: CancelToken) -> dict[str, Any]:
            from scout.store import StoreError

            try:
                store = folder.session.store()
                reports = agreement(store, field)
            except StoreError as exc:
                return _error(str(exc))
            text = table(reports, field) if reports else (
                f"no two label sources labelled the same node in {store.path} yet: turn on "
                "shadowing or run `scout label` / `scout gen-training` with a teacher")
            return {"status": "ok", "report": {
                "field": field, "database": str(store.path),
                "pairs": [r.as_json() for r in reports], "text": text}}
        return await ls.blocking(work)

    @server.command("scout.indexStatus")
    def index_status(ls: ScoutServer, *args: Any) -> dict[str, Any]:
        return {"status": "ok", "index": _index_status(ls)}

    @server.command("scout.status")
    async def status_command(ls: ScoutServer, *args: Any) -> dict[str, Any]:
        return {"status": "ok", "statusInfo": await _status(ls, refresh=True)}

    @server.feature("scout/status")
    async def status_request(ls: ScoutServer, params: Any) -> dict[str, Any]:
        return await _status(ls)

    return server


# -- helpers of the handlers -------------------------------------------------------------

def _argument(args: Sequence[Any], *, optional: bool = False) -> dict[str, Any]:
    if not args:
        if optional:
            return {}
        raise JsonRpcInvalidParams("this command takes one argument: a JSON object")
    if len(args) > 1 or not isinstance(args[0], dict):
        raise JsonRpcInvalidParams("this command takes one argument: a JSON object")
    return args[0]


def _string(arg: dict[str, Any], key: str) -> str:
    value = arg.get(key)
    if not isinstance(value, str) or not value.strip():
        raise JsonRpcInvalidParams(f"{key!r} must be a non-empty string")
    if len(value) > 10_000:
        raise JsonRpcInvalidParams(f"{key!r} is too long")
    return value


def _error(message: str) -> dict[str, Any]:
    return {"status": "error", "message": message}


def _workspace_roots(ls: ScoutServer) -> list[Path]:
    roots: list[Path] = []
    for folder in ls.workspace.folders.values():
        path = to_fs_path(folder.uri)
        if path and Path(path).is_dir():
            roots.append(Path(path).resolve())
    if not roots and ls.workspace.root_path and Path(ls.workspace.root_path).is_dir():
        roots.append(Path(ls.workspace.root_path).resolve())
    return roots


def _folder_for(ls: ScoutServer, uri: Any) -> Folder:
    if isinstance(uri, str):
        located = ls.locate(uri)
        if located is not None:
            return located[0]
    folders = ls.folders.all()
    if not folders:
        raise JsonRpcException("no workspace folder is open: open a Haskell project first",
                               code=types.LSPErrorCodes.RequestFailed.value)
    return folders[0]


async def _pull_configuration(ls: ScoutServer, roots: Sequence[Path]) -> None:
    if not ls.supports_configuration() or not roots:
        return
    items = [types.ConfigurationItem(scope_uri=root.as_uri(), section=CONFIG_SECTION)
             for root in roots]
    try:
        answers = await asyncio.wait_for(
            ls.workspace_configuration_async(types.ConfigurationParams(items=items)), 5)
    except Exception as exc:  # the client may not answer: defaults and init options stand
        log.warning("workspace/configuration failed: %s", exc)
        return
    for root, answer in zip(roots, answers or [], strict=False):
        ls.editor_config[str(root)] = answer if isinstance(answer, dict) else {}


class _IndexProgress:
    """The indexing progress, driven from the owner thread. Everything runs on the event loop,
    and nothing is reported or ended before the client has seen `begin` (a small workspace can
    finish before the client acknowledged the token)."""

    def __init__(self, ls: ScoutServer, folder: Folder) -> None:
        self.ls = ls
        self.folder = folder
        self.token = str(uuid.uuid4()) if ls.supports_progress() else None
        self.begun = False
        self.ended: str | None = None
        self.last_percent = -1

    async def begin(self) -> None:
        if self.token is None:
            return
        try:
            await self.ls.work_done_progress.create_async(self.token)
            cancelled = self.ls.work_done_progress.tokens.get(self.token)
            if cancelled is not None:  # the user pressed Cancel on the progress
                cancelled.add_done_callback(lambda f: f.cancelled() and self.folder.load_token
                                            .cancel("indexing was cancelled by the user"))
            self.ls.work_done_progress.begin(self.token, types.WorkDoneProgressBegin(
                title="Semantic Scout: indexing", message=self.folder.root.name,
                percentage=0, cancellable=True))
            self.begun = True
        except Exception as exc:  # progress is a courtesy; indexing goes on
            log.info("progress not shown: %s", exc)
            self.token = None
        if self.ended is not None:
            self._end(self.ended)

    def report(self, done: int, total: int) -> None:  # any thread
        percent = int(100 * done / total) if total else 100
        if self.token is None or percent == self.last_percent:
            return
        self.last_percent = percent
        self.ls.from_thread(lambda: self.begun and self.ended is None and _report(
            self.ls, self.token, f"{done}/{total} files", percent))

    def end(self, message: str) -> None:  # any thread
        self.ls.from_thread(lambda: self._end(message))

    def _end(self, message: str) -> None:
        self.ended = message
        if self.begun and self.token is not None:
            _end(self.ls, self.token, message)
            self.token = None


def _open_folder(ls: ScoutServer, root: Path) -> None:
    folder = Folder(root, ls.settings_for(root), ls.on_session_event)
    ls.folders.add(folder)
    progress = _IndexProgress(ls, folder)
    assert ls.loop is not None
    ls.loop.create_task(progress.begin())

    def finished(folder: Folder) -> None:
        progress.end(folder.load_error or "ready")
        if folder.load_error:
            ls.show(f"Semantic Scout: {folder.load_error} ({folder.root})",
                    types.MessageType.Warning)
        ls.notify_safe("scout/statusChanged", {"index": _index_status(ls)})
        ls.refresh_lenses()
        ls.from_thread(lambda: ls.loop.create_task(_watch_included(ls, folder)))
    folder.start_loading(progress.report, finished)


def _report(ls: ScoutServer, token: str, message: str, percent: int) -> None:
    try:
        ls.work_done_progress.report(token, types.WorkDoneProgressReport(
            message=message, percentage=percent))
    except Exception:  # the token may not be created yet, or the client went away
        pass


def _end(ls: ScoutServer, token: str, message: str) -> None:
    try:
        ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message=message))
    except Exception:
        pass
    ls.work_done_progress.tokens.pop(token, None)  # pygls never forgets a token by itself


async def _watch_files(ls: ScoutServer) -> None:
    ws = ls.caps.workspace
    watched = ws.did_change_watched_files if ws else None
    if not (watched and watched.dynamic_registration):
        return
    options = types.DidChangeWatchedFilesRegistrationOptions(watchers=[
        types.FileSystemWatcher(glob_pattern="**/*.{hs,lhs,hs-boot,lhs-boot}")])
    try:
        await ls.client_register_capability_async(types.RegistrationParams(registrations=[
            types.Registration(id=str(uuid.uuid4()),
                               method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                               register_options=options)]))
    except Exception as exc:
        log.info("watched files not registered: %s", exc)


def _schedule_edit(ls: ScoutServer, uri: str, *, from_editor: bool) -> None:
    """Index a document's new text after a short pause (a burst of keystrokes is one update).
    ``from_editor``: the editor's buffer; otherwise the file on disk (saved, closed, changed
    outside the editor, deleted)."""
    located = ls.locate(uri)
    if located is None or not _indexed_here(*located):
        return
    folder, rel = located
    if ls.loop is None:
        ls.loop = asyncio.get_running_loop()
    pending = ls.debounce.pop(uri, None)
    if pending is not None:
        pending.cancel()

    def flush() -> None:
        ls.debounce.pop(uri, None)
        document = ls.workspace.text_documents.get(uri)
        text = document.source.encode("utf-8") if from_editor and document is not None else None
        folder.edit(rel, text, lambda _rel: _after_edit(ls, folder))
    ls.debounce[uri] = ls.loop.call_later(EDIT_DEBOUNCE, flush)


def _indexed_here(folder: Folder, rel: str) -> bool:
    """Does an edit of ``rel`` change the folder's index: a Haskell source, or a file whose
    code one `#include`s?"""
    if is_haskell(rel):
        return True
    snapshot = folder.snapshot()
    return snapshot is not None and rel in snapshot.included_paths()


async def _watch_included(ls: ScoutServer, folder: Folder) -> None:
    """Ask the editor to report changes of the files the folder's Haskell code `#include`s
    (no Haskell extension, so the static watcher misses them), again whenever that set
    changes: one registration per folder, replaced."""
    snapshot = folder.snapshot()
    ws = ls.caps.workspace
    watched = ws.did_change_watched_files if ws else None
    if snapshot is None or not (watched and watched.dynamic_registration):
        return
    paths = sorted(snapshot.included_paths())
    key = str(folder.root)
    old = ls.include_watchers.get(key)
    if (old[1] if old else []) == paths:
        return
    method = types.WORKSPACE_DID_CHANGE_WATCHED_FILES
    registration = str(uuid.uuid4())
    ls.include_watchers[key] = (registration, paths)
    try:
        if old is not None:
            await ls.client_unregister_capability_async(types.UnregistrationParams(
                unregisterations=[types.Unregistration(id=old[0], method=method)]))
        if paths:
            watchers = [types.FileSystemWatcher(glob_pattern=str(folder.root / p))
                        for p in paths]
            await ls.client_register_capability_async(types.RegistrationParams(registrations=[
                types.Registration(id=registration, method=method, register_options=types.
                                   DidChangeWatchedFilesRegistrationOptions(watchers=watchers))]))
    except Exception as exc:
        log.info("included files not watched: %s", exc)


def _after_edit(ls: ScoutServer, folder: Folder) -> None:
    """Lenses and the results view follow the edit (lines move, edited lines drop out)."""
    ls.refresh_lenses()
    ls.from_thread(lambda: ls.loop.create_task(_watch_included(ls, folder)))
    if folder.session.results():
        ls.notify_safe("scout/resultsChanged", {"key": 0, "reason": "edit"})


def _lenses(ls: ScoutServer, folder: Folder, rel: str) -> list[types.CodeLens]:
    """Lenses of every kept answer on this file: one per scored node, one summary on the
    target's declaration. From cached answers only: no exploration here."""
    current = ls.current_lines(folder)
    lenses: list[types.CodeLens] = []
    for result in reversed(folder.session.results()):  # newest first
        mapper = ls.lines.mapper(result, current)
        target = result.exploration.target
        show = [{"key": result.key}]
        if target.path == rel:
            line = mapper(target.path, target.line)
            if line is not None:
                text = present.summary(result)["text"]
                lenses.append(_lens(line, f"Scout: {text}", show))
        for node, scored in result.ranked():
            if node.path != rel:
                continue
            line = mapper(node.path, node.line)
            if line is not None:
                lenses.append(_lens(line, present.lens_title(scored), show))
    return lenses


def _lens(line: int, title: str, arguments: list[Any]) -> types.CodeLens:
    position = types.Position(line=line - 1, character=0)
    return types.CodeLens(range=types.Range(start=position, end=position),
                          command=types.Command(title=title, command="scout.showResults",
                                                arguments=arguments))


def _results(ls: ScoutServer, uri: str | None, key: Any) -> list[dict[str, Any]]:
    out = []
    located = ls.locate(uri) if isinstance(uri, str) else None
    for folder in ls.folders.all():
        if located is not None and located[0] is not folder:
            continue
        snapshot = folder.snapshot()
        current = ls.current_lines(folder)
        for result in reversed(folder.session.results()):
            if isinstance(key, int) and result.key != key:
                continue
            if located is not None and all(n.path != located[1]
                                           for n in result.exploration.nodes):
                continue
            out.append(present.result_json(result, folder.root, snapshot,
                                           ls.lines.mapper(result, current)))
    return out


def _index_status(ls: ScoutServer) -> dict[str, Any]:
    folders = ls.folders.all()
    if not folders:
        return present.index_json(None, [], indexing=False)
    states = [present.index_json(f.snapshot(), [f.root], indexing=f.indexing) for f in folders]
    merged = states[0]
    for other in states[1:]:
        merged = {**merged, "files": merged["files"] + other["files"],
                  "indexed": merged["indexed"] + other["indexed"],
                  "filesWithErrors": merged["filesWithErrors"] + other["filesWithErrors"],
                  "skipped": merged["skipped"] + other["skipped"],
                  "roots": merged["roots"] + other["roots"],
                  "state": "indexing" if "indexing" in (merged["state"], other["state"])
                  else merged["state"]}
    errors = [f.load_error for f in folders if f.load_error]
    if errors:
        merged["error"] = errors[0]
    return merged


async def _status(ls: ScoutServer, *, refresh: bool = False) -> dict[str, Any]:
    """Who answers and why, Ollama's reachability, shadowing, the database, the index. The
    network probe runs on the pool, never on the event loop."""
    folders = ls.folders.all()
    if not folders:
        return {"scorer": None, "answering": None, "why": "no workspace folder is open",
                "index": _index_status(ls)}
    session = folders[0].session

    def probe(cancel: CancelToken) -> dict[str, Any]:
        return session.answering(max_age=0 if refresh else 30)
    answering = await ls.blocking(probe)
    s = session.settings
    return {"scorer": s.scorer, "answering": answering["answering"], "why": answering["why"],
            "ollama": answering["ollama"],
            "shadow": {"enabled": s.shadow, "model": s.anthropic_model,
                       "keyPresent": bool(os.environ.get("ANTHROPIC_API_KEY")),
                       "error": session.scorer_error},
            "database": str(s.db_path), "databaseSource": s.source("db"),
            "index": _index_status(ls), "process": _process_status()}


def _process_status() -> dict[str, Any]:
    """The server's own footprint: resident memory and live Python objects (a leak shows in
    the second even when the allocator keeps freed memory resident)."""
    import resource
    import sys

    rss_kb = 0
    try:
        with open(f"/proc/{os.getpid()}/statm") as statm:
            rss_kb = int(statm.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    except (OSError, ValueError, IndexError):
        rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"rssMb": round(rss_kb / 1024, 1), "allocatedBlocks": sys.getallocatedblocks()}


async def _answer(ls: ScoutServer, folder: Folder, question: Any, budget: Any, *,
                  title: str) -> dict[str, Any]:
    """Ask a question on the pool with progress; explorations superseded by an edit restart on
    the new revision (at most MAX_RESTARTS times, then the answer is kept and marked stale)."""
    from scout.explore.question import Interpretation, QuestionError, interpret
    from scout.explore.resolve import ExploreError
    from scout.scoring.factory import ScorerConfigError

    if budget is not None and not isinstance(budget, int | str):
        raise JsonRpcInvalidParams("budget must be low, medium, high or a number")
    if not folder.session.indexed:
        return _error("the workspace is not indexed yet; try again in a moment")
    bridge = ls.supports_hover_bridge()
    token = str(uuid.uuid4()) if ls.supports_progress() else None
    if token is not None:
        try:
            await ls.work_done_progress.create_async(token)
            ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(
                title="Semantic Scout", message=title, cancellable=False))
        except Exception:
            token = None

    def work(cancel: CancelToken) -> Any:
        reading = interpret(folder.session.snapshot(), question,
                            budget=budget if budget is not None else
                            folder.session.settings.budget)
        if reading.status != "ok" or reading.question is None:
            return reading  # an ambiguity or a question not understood: the editor shows it
        hovers = _hover_bridge(ls, folder, cancel) if bridge else None
        for attempt in range(MAX_RESTARTS + 1):
            edits = folder.watch_edits() if attempt < MAX_RESTARTS else None
            try:
                return folder.session.ask(reading.question, cancel=cancel,
                                          superseded_by=edits, hovers=hovers)
            except Cancelled as exc:
                if cancel.cancelled or not exc.reason.startswith("superseded"):
                    raise
        raise AssertionError("unreachable")
    try:
        result = await ls.blocking(work)
    except (QuestionError, ExploreError) as exc:  # e.g. the index changed under the reading
        result = Interpretation("not_understood", str(exc))
    except ScorerConfigError as exc:
        return _error(str(exc))
    except NotADirectoryError as exc:
        return _error(str(exc))
    finally:
        if token is not None:
            _end(ls, token, "done")
    if isinstance(result, Interpretation):
        answer = result.to_protocol(folder.root)
        snapshot = folder.snapshot()
        if result.status == "not_understood" and snapshot is not None and \
                not snapshot.complete:
            answer["message"] += (f" (the index is still being built: "
                                  f"{len(snapshot.summaries)} of {snapshot.expected_files} "
                                  "files so far)")
        return answer
    mapper = ls.lines.mapper(result, ls.current_lines(folder))
    return {"status": "ok", "result": present.result_json(result, folder.root,
                                                          folder.snapshot(), mapper)}


def _hover_bridge(ls: ScoutServer, folder: Folder, cancel: CancelToken
                  ) -> Callable[[Sequence[Node]], list[str | None]]:
    """Ask the client (which asks HLS) for the hover at each node, in parallel, within the
    hover timeout; whatever does not arrive keeps the index's text. Cancelling the question
    stops the wait at once."""
    timeout = folder.session.settings.hover_timeout

    def hovers(nodes: Sequence[Node]) -> list[str | None]:
        loop = ls.loop
        if loop is None:
            return [None] * len(nodes)

        async def one(node: Node) -> str | None:
            params = {"textDocument": {"uri": present.file_uri(folder.root, node.path)},
                      "position": {"line": node.line - 1, "character": node.col}}
            msg_id = str(uuid.uuid4())
            try:
                answer = await ls.protocol.send_request_async("scout/hover", params,
                                                              msg_id=msg_id)
            except asyncio.CancelledError:  # timed out or cancelled: tell the client to stop
                # and forget the request, so a late answer is dropped (pygls would try to set
                # the result of the cancelled future and log a traceback)
                ls.protocol._request_futures.pop(msg_id, None)
                ls.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
                raise
            contents = answer.get("contents") if isinstance(answer, dict) else \
                getattr(answer, "contents", None)
            return contents.strip() if isinstance(contents, str) and contents.strip() else None

        async def everything() -> list[Any]:
            tasks = [asyncio.ensure_future(one(n)) for n in nodes]
            done, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                task.cancel()
            return [t.result() if t in done and not t.exception() else None for t in tasks]
        future = asyncio.run_coroutine_threadsafe(everything(), loop)
        cancel.on_cancel(future.cancel)
        try:
            return future.result(timeout + 2)
        except Exception as exc:  # timeout, cancellation, a client that answered nonsense
            log.info("hover bridge: %s", exc)
            return [None] * len(nodes)
    return hovers


def _expected_errors(record: logging.LogRecord) -> bool:
    """pygls logs every error answer with a traceback, even "invalid params": keep only the
    unexpected ones (internal errors), which are worth a traceback."""
    error = record.exc_info[1] if record.exc_info else None
    if isinstance(error, JsonRpcException) and not isinstance(error, JsonRpcInternalError):
        return False
    cause = error.__cause__ if error is not None else None
    return not (isinstance(error, JsonRpcException) and cause is not None and
                type(cause).__name__ == "ClassValidationError")


def _limit_malloc_arenas() -> None:
    """glibc gives each thread that allocates its own malloc arena, and a long-running server
    with an owner thread per folder and a work pool keeps their freed memory resident (RSS
    grew ~25 MB over an hour of scripted edits while live Python objects stayed flat). Two
    arenas are plenty here. Elsewhere (no glibc) this does nothing."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name or "libc.so" not in name:
        return
    try:
        ctypes.CDLL(name).mallopt(-8, 2)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


class _ClientLog(logging.Handler):
    """Forwards log records to the editor's output (``window/logMessage``), from any thread."""

    LEVELS = {logging.ERROR: types.MessageType.Error, logging.WARNING: types.MessageType.Warning,
              logging.INFO: types.MessageType.Info}

    def __init__(self, server: ScoutServer) -> None:
        super().__init__(level=logging.INFO)
        self.server = server

    def emit(self, record: logging.LogRecord) -> None:
        if self.server.loop is None:
            return
        kind = self.LEVELS.get(record.levelno, types.MessageType.Log)
        message = self.format(record)
        self.server.from_thread(lambda: self.server.window_log_message(
            types.LogMessageParams(type=kind, message=message)))


def _stop_on_signals(server: ScoutServer, grace: float = 5.0) -> None:
    """SIGTERM or SIGHUP (the editor died or was killed) ends the server within ``grace``
    seconds: index builds are cancelled (their worker processes stopped), answers still
    being logged get a moment to land, then the process exits with 128 + the signal. (The
    event loop cannot be unwound from a signal: pygls reads stdin on a thread that never
    returns.) Worker processes that outlive this anyway die with their parent."""
    def stop(signum: int, frame: Any) -> None:
        log.warning("stopping on %s", signal.Signals(signum).name)

        def finish() -> None:
            for folder in server.folders.all():
                with contextlib.suppress(Exception):
                    folder.load_token.cancel("the server is stopping")
            for folder in server.folders.all():
                with contextlib.suppress(Exception):
                    folder.session.drain(timeout=grace / 2)
                    folder.close()
            os._exit(128 + signum)

        threading.Thread(target=finish, name="scout-stop", daemon=True).start()
        threading.Timer(grace, os._exit, args=(128 + signum,)).start()

    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(signum) is not signal.SIG_IGN:  # nohup stays nohup
                signal.signal(signum, stop)


class _RepairingStdin:
    """stdin for pygls, which reads each message's header lines with ``readline`` and its body
    with ``read(n)``: a body that is not valid UTF-8 (a question with a stray byte) has the
    bad bytes replaced by U+FFFD, so the request is parsed and answered rather than dropped
    unanswered (pygls cannot decode it, and the client would wait for ever)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def readline(self) -> bytes:
        return self.stream.readline()

    def read(self, n: int) -> bytes:
        body = self.stream.read(n)
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            log.warning("a message that is not valid UTF-8: bad bytes replaced")
            return body.decode("utf-8", "replace").encode("utf-8")
        return body


def serve(*, tcp: str | None = None) -> int:
    """Run the server on stdio (or TCP, for debugging). Logs go to stderr and the editor's
    output, never stdout (the protocol channel)."""
    logging.basicConfig(level=os.environ.get("SCOUT_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    _limit_malloc_arenas()
    pygls_log = logging.getLogger("pygls")
    pygls_log.setLevel(logging.WARNING)  # it logs every message at INFO
    pygls_log.addFilter(_expected_errors)
    server = make_server()
    client_log = _ClientLog(server)
    client_log.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    logging.getLogger("scout").addHandler(client_log)
    _stop_on_signals(server)
    if tcp:
        host, _, port = tcp.rpartition(":")
        server.start_tcp(host or "127.0.0.1", int(port))
    else:
        server.start_io(_RepairingStdin(sys.stdin.buffer))
    return 0
