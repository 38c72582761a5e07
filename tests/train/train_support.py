"""Helpers of the training and real-engine tests (imported by conftest.py and the tests)."""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "llm-service"
QUESTIONS = (
    "What breaks if I add a variant to LLMKind?",
    "What breaks if I add a field to Config?",
    "What breaks if I remove the Opus constructor?",
    "if costOf takes one more argument",
    "What breaks if I rename the field name in Config?",
)
PRETRAIN_STEPS = 300
NEEDED = ("torch", "transformers", "peft", "trl", "datasets", "sentencepiece", "llama_cpp")


def require_engine() -> None:
    missing = []
    for module in NEEDED:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            missing.append(f"{module} ({exc})")
    if missing:
        message = (f"training/engine stack missing: {', '.join(missing)}; run "
                   "scripts/setup-train.sh")
        if os.environ.get("SCOUT_REQUIRE_ENGINE") == "1":
            pytest.fail(message)
        pytest.skip(message)


def run_cli(argv: list[str]) -> int:
    from scout.cli import main

    return main(argv)


def dataset_texts(folder: Path, *splits: str) -> list[str]:
    texts = []
    for split in splits:
        path = folder / f"{split}.jsonl"
        if path.is_file():
            texts += [json.loads(line)["text"] for line in path.read_text().splitlines() if line]
    return texts
