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


def cached_tiny_base(dataset: Path) -> Path:
    """The tiny base for an export: tokenizer and head start on all its texts (it only has to
    answer in the call format; the tests never grade it). Kept in scout's cache folder, keyed by
    everything that shapes it (texts, the builder's source, library versions), since it costs a
    minute or two of CPU."""
    import hashlib
    import shutil

    import sentencepiece
    import torch
    import transformers

    from scout.train import tiny
    from scout.train.gguf import cache_root

    texts = dataset_texts(dataset, "train", "validation", "test")
    splits = dataset_texts(dataset, "train", "validation")
    key = hashlib.sha256(json.dumps([texts, splits, PRETRAIN_STEPS,
                                     Path(tiny.__file__).read_text(), torch.__version__,
                                     transformers.__version__, sentencepiece.__version__]
                                    ).encode()).hexdigest()[:16]
    folder = cache_root() / "test-models" / f"tiny-base-{key}"
    if not (folder / "model.safetensors").is_file():
        scratch = folder.with_name(folder.name + ".partial")
        shutil.rmtree(scratch, ignore_errors=True)
        tiny.build_tiny_base(scratch, texts, pretrain_steps=PRETRAIN_STEPS)
        shutil.rmtree(folder, ignore_errors=True)
        scratch.rename(folder)
    return folder
