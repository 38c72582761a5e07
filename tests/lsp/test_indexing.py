"""Start-up on a workspace big enough to watch: indexing runs in the background with progress,
the server answers meanwhile (and says the answer is partial), and the user can cancel it."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient
from tests.lsp.conftest import ScoutClient, module_client, scratch_env

pytestmark = pytest.mark.asyncio(loop_scope="module")
BASE, ENV = scratch_env("indexing")
ROOT = BASE / "big"
MODULES = 1500


def _write_workspace() -> None:
    ROOT.mkdir(exist_ok=True)
    # the biggest file, so the index (largest first) reads it early
    padding = "".join(f"-- {'x' * 70}\n" for _ in range(400))
    (ROOT / "Shape.hs").write_text(f"module Shape where\n\ndata Shape = Circle | Square\n"
                                   f"{padding}")
    body = "\n".join(f"f{j} :: Shape -> Int\nf{j} s = case s of\n  Circle -> {j}\n"
                     f"  Square -> {j + 1}\n" for j in range(40))
    for i in range(MODULES):
        (ROOT / f"M{i:04d}.hs").write_text(f"module M{i:04d} where\n\nimport Shape\n\n{body}\n")


_write_workspace()


client = module_client(ENV, ROOT)


async def command(client: LanguageClient, name: str, argument=None):
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=name, arguments=[argument] if argument is not None else None))


async def test_indexing_can_be_watched_answered_during_and_cancelled(client: ScoutClient
                                                                     ) -> None:
    async with asyncio.timeout(60):  # the progress begins, cancellable
        while not any(reports for reports in client.progress_reports.values()):
            await asyncio.sleep(0.02)
    [(token, reports)] = list(client.progress_reports.items())
    assert reports[0].title == "Semantic Scout: indexing" and reports[0].cancellable
    async with asyncio.timeout(60):  # some files are in, not all
        while True:
            index = (await command(client, "scout.indexStatus"))["index"]
            if index["indexed"] > 0:
                break
            await asyncio.sleep(0.05)
    assert index["state"] == "indexing" and index["indexed"] < index["files"] == MODULES + 1
    answer = await command(client, "scout.ask", {"question": "What breaks if I add a "
                                                 "constructor to Shape?"})
    assert answer["status"] == "ok", answer
    assert answer["result"]["coverage"]["partial"] is True
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    async with asyncio.timeout(60):
        while (index := (await command(client, "scout.indexStatus"))["index"])["state"] == \
                "indexing":
            await asyncio.sleep(0.05)
    assert index["state"] == "partial", index
    assert index["indexed"] < MODULES + 1
    assert "cancelled" in index.get("error", "")
    assert isinstance(reports[-1], types.WorkDoneProgressEnd)
