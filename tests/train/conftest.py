"""Session fixtures for the training and real-engine tests: a dataset logged and exported by
scout itself, a tiny FunctionGemma-shaped base checkpoint, its GGUFs, and the engine.

They need the ``train`` extra and llama-cpp-python (``scripts/setup-train.sh``). Without them the
tests skip, except where ``SCOUT_REQUIRE_ENGINE=1`` (CI sets it): there a missing piece fails.
The tiny base takes a minute or two of CPU to build, so it is kept in scout's cache folder,
keyed by everything that shapes it (the texts, the builder's source, library versions).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from train_support import EXAMPLE, QUESTIONS, cached_tiny_base, require_engine, run_cli


@pytest.fixture(scope="session")
def logged_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scout database holding heuristic answers to five questions about the example."""
    db = tmp_path_factory.mktemp("log") / "scout.db"
    for question in QUESTIONS:
        assert run_cli(["query", question, "--root", str(EXAMPLE), "--scorer", "heuristic",
                        "--budget", "high", "--db", str(db), "--json"]) == 0
    return db


@pytest.fixture(scope="session")
def dataset(logged_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``functiongemma`` export of that log (train/validation/test JSONL + card)."""
    out = tmp_path_factory.mktemp("export") / "fg"
    from scout.export.cli import main as export_main

    assert export_main(["--format", "functiongemma", "--out", str(out), "--db", str(logged_db),
                        "--quiet"]) == 0
    return out


@pytest.fixture(scope="session")
def tiny_base(dataset: Path) -> Path:
    """The tiny base checkpoint, with a head start on the train and validation texts
    (cached)."""
    require_engine()
    return cached_tiny_base(dataset)


@pytest.fixture(scope="session")
def tiny_ggufs(tiny_base: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The tiny base as GGUF twice: function tokens printed (USER_DEFINED, as Ollama
    0.13.5-0.29 serves FunctionGemma) and hidden (CONTROL, as Ollama 0.30+ does)."""
    from scout.train.gguf import convert, set_token_types

    out = tmp_path_factory.mktemp("gguf")
    ggufs = {}
    for kind in ("printed", "hidden"):
        folder = out / f"hf-{kind}"
        shutil.copytree(tiny_base, folder)
        set_token_types(folder, printed=kind == "printed")
        ggufs[kind] = convert(folder, out / f"tiny-{kind}.gguf", outtype="f32")
    return ggufs


@pytest.fixture(scope="session")
def engine(tiny_ggufs: dict[str, Path]):
    """One loopback Ollama-protocol server running both GGUFs on llama.cpp."""
    from engine import EngineServer

    server = EngineServer({"tiny-printed:latest": tiny_ggufs["printed"],
                           "tiny-hidden:latest": tiny_ggufs["hidden"]})
    yield server
    server.close()
