"""The real language server over stdio, driven by pytest-lsp with VS Code's capabilities."""

from __future__ import annotations

import asyncio
import inspect
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest_lsp
from lsprotocol import types
from lsprotocol.converters import get_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import register_lsp_features

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "llm-service"
SERVER = [sys.executable, "-m", "scout", "serve"]


def scratch_env(name: str) -> tuple[Path, dict[str, str]]:
    """A private cache, database and config home for one server under test."""
    base = Path(tempfile.mkdtemp(prefix=f"scout-lsp-{name}-"))
    env = {"XDG_CACHE_HOME": str(base / "cache"), "XDG_CONFIG_HOME": str(base / "config"),
           "XDG_DATA_HOME": str(base / "data"), "SCOUT_DB": str(base / "scout.db"),
           "SCOUT_SCORER": "heuristic", "PATH": "/usr/bin:/bin", "HOME": str(base),
           "PYTHONPATH": ":".join(p for p in sys.path if p)}
    return base, env


def copy_example(base: Path) -> Path:
    root = base / "llm-service"
    if not root.exists():
        shutil.copytree(EXAMPLE, root)
    return root


def _converter() -> Any:
    """lsprotocol decodes a CodeAction that carries a command as a Command (FACTS.md): treat
    an item as a Command only when its ``command`` field is a string."""
    converter = get_converter()

    def structure(obj: Any, _: Any) -> types.Command | types.CodeAction:
        if isinstance(obj.get("command"), str):
            return converter.structure(obj, types.Command)
        return converter.structure(obj, types.CodeAction)
    converter.register_structure_hook(types.Command | types.CodeAction, structure)
    converter.register_structure_hook(types.CodeAction | types.Command, structure)
    return converter


class ScoutClient(LanguageClient):
    """Records the server's custom notifications and answers its requests like VS Code."""

    def __init__(self) -> None:
        super().__init__(converter_factory=_converter)
        self.notifications: dict[str, list[Any]] = {}
        self.lens_refreshes = 0
        self.hover_answer: Callable[[Any], Any] | None = None
        self.hover_requests: list[Any] = []

    def received(self, method: str) -> list[Any]:
        return self.notifications.setdefault(method, [])

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 60) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                await asyncio.sleep(0.05)


def make_client() -> ScoutClient:
    client = ScoutClient()
    register_lsp_features(client)

    @client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
    def lens_refresh(ls: ScoutClient, params: None) -> None:
        ls.lens_refreshes += 1

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(ls: ScoutClient, params: types.RegistrationParams) -> None:
        ls.received("client/registerCapability").append(params)

    for method in ("scout/resultsChanged", "scout/statusChanged"):
        def record(ls: ScoutClient, params: Any, method: str = method) -> None:
            ls.received(method).append(params)
        client.feature(method)(record)

    @client.feature("scout/hover")
    async def hover(ls: ScoutClient, params: Any) -> Any:
        ls.hover_requests.append(params)
        answer = ls.hover_answer(params) if ls.hover_answer else None
        return await answer if inspect.isawaitable(answer) else answer

    return client


def config(env: dict[str, str]) -> ClientServerConfig:
    return ClientServerConfig(server_command=SERVER, server_env=env, client_factory=make_client)


def module_client(env: dict[str, str], root: Path) -> Any:
    """The fixture of a test module's server on ``root``: started and initialized once for
    the module, shut down after its last test."""
    @pytest_lsp.fixture(config=config(env), scope="module")
    async def client(lsp_client: LanguageClient):
        await lsp_client.initialize_session(initialize_params(root))
        yield
        await lsp_client.shutdown_session()
    return client


def initialize_params(root: Path, *, experimental: dict[str, Any] | None = None,
                      init_options: dict[str, Any] | None = None) -> types.InitializeParams:
    capabilities = client_capabilities("visual-studio-code")
    if experimental is not None:
        capabilities.experimental = experimental
    return types.InitializeParams(
        capabilities=capabilities, root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
        initialization_options=init_options)


async def wait_indexed(client: ScoutClient, timeout: float = 120) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            answer = await client.workspace_execute_command_async(
                types.ExecuteCommandParams(command="scout.indexStatus"))
            if answer["index"]["state"] == "ready":
                return answer["index"]
            await asyncio.sleep(0.1)


def open_document(client: ScoutClient, root: Path, rel: str, version: int = 1) -> str:
    uri = (root / rel).as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="haskell", version=version,
                                             text=(root / rel).read_text())))
    return uri
