"""The loop, end to end on the tiny model, offline: scout's own log -> functiongemma export ->
``scout train`` (LoRA, merge, GGUF, Modelfile, recorded by digest) -> served by a real engine
behind Ollama's protocol -> ``scout eval`` reads its answers against GHC and records them for
promotion -> every rubric traces back to the dataset and base that trained the model."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
from train_support import EXAMPLE, run_cli

from scout.functiongemma.format import FUNCTION_TOKENS
from scout.train.gguf import sha256_file
from scout.train.sft import checkpoint_digest, dataset_digest

pytestmark = pytest.mark.ghc  # scout eval measures against GHC


def test_scout_train_then_serve_then_eval(dataset, tiny_base, tmp_path, capsys):
    out, db = tmp_path / "model", tmp_path / "scout.db"
    assert run_cli(["train", "--data", str(dataset), "--base", str(tiny_base), "--out", str(out),
                    "--steps", "8", "--learning-rate", "1e-3", "--outtype", "f32",
                    "--name", "scout-tiny", "--db", str(db), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    gguf = out / "model.gguf"
    assert result["ollama_create"] == f"ollama create scout-tiny -f {out / 'Modelfile'}"
    assert result["gguf_sha256"] == sha256_file(gguf)
    assert result["steps"] == 8 and result["examples_seen"] == 32
    assert result["train_loss"] > 0 and result["seconds_per_1000_examples"] > 0
    modelfile = (out / "Modelfile").read_text()
    assert "FROM ./model.gguf" in modelfile and 'PARAMETER stop "<end_function_call>"' in modelfile
    assert "RENDERER" not in modelfile  # Ollama's chat renderer is not what the model saw
    # the merged checkpoint marks the function tokens printed (USER_DEFINED in the GGUF)
    decoder = json.loads((out / "merged" / "tokenizer_config.json").read_text())[
        "added_tokens_decoder"]
    assert {e["content"]: e["special"] for e in decoder.values()
            if e["content"] in FUNCTION_TOKENS} == dict.fromkeys(FUNCTION_TOKENS, False)

    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT name, gguf_sha256, dataset_digest, base_digest, "
                           "train_examples FROM trained_models").fetchone()
    assert row == ("scout-tiny", result["gguf_sha256"], dataset_digest(dataset),
                   checkpoint_digest(tiny_base), result["train_examples"])

    from engine import EngineServer

    server = EngineServer({"scout-tiny:latest": gguf})
    root = tmp_path / "llm-service"
    shutil.copytree(EXAMPLE, root)
    mutations = tmp_path / "mutations.json"
    mutations.write_text(json.dumps([{"target": "LLMKind", "change": "add_constructor"}]))
    try:
        code = run_cli(["eval", "--scorer", "ollama", "--ollama-host", server.url,
                        "--ollama-model", "scout-tiny", "--root", str(root), "--mutations",
                        str(mutations), "--cache-dir", str(tmp_path / "oracle-cache"),
                        "--db", str(db), "--json"])
        captured = capsys.readouterr()
    finally:
        server.close()
    assert code == 0, captured.err
    report = json.loads(captured.out)
    assert report["scorer"] == "ollama" and report["overall"]["mutations"] == 1
    assert report["overall"]["errors"] == 0, report["cases"]
    # the engine really answered: every node went through llama.cpp, with the markers printed
    assert server.generated and all(g["text"].startswith("<start_function_call>")
                                    or not g["text"] for g in server.generated), \
        [g["text"][:80] for g in server.generated[:3]]
    assert "scout-tiny@" in captured.err and "agreement" in captured.err

    from scout.scoring.promotion import latest_evaluation, training_origin
    from scout.store.db import Store

    digest = sha256_file(gguf)  # the test engine lists the GGUF's sha256 as the model digest
    with Store.open(db) as store:
        evaluation = latest_evaluation(store, digest, root)
        assert evaluation is not None and evaluation.model == "scout-tiny"
        assert evaluation.nodes == len(server.generated)
        origin = training_origin(store, digest)
    assert origin["dataset_digest"] == dataset_digest(dataset)
    assert origin["base_digest"] == checkpoint_digest(tiny_base)
