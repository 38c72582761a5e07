"""``scout train``: registered in the ``scout`` CLI by :func:`add_train_parser`.

Prints progress to stderr, then the ``ollama create`` command (or, with ``--json``, exactly one
object: the run's :meth:`TrainResult.as_json` plus ``ollama_create``). Errors go to stderr with
exit status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from scout.cancel import Cancelled, CancelToken

EXIT_ERROR = 2


def add_train_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "train", help="fine-tune FunctionGemma on a functiongemma export (LoRA), make a GGUF",
        description="LoRA fine-tuning on `scout-export --format functiongemma` data (loss on the "
                    "answer only), merge, GGUF via llama.cpp's converter, an Ollama Modelfile; "
                    "records which dataset and base produced which model. Needs the train "
                    "extra: pip install 'semantic-scout[train]'.")
    p.add_argument("--data", type=Path, required=True,
                   help="folder with train.jsonl (and validation.jsonl) from scout-export "
                        "--format functiongemma")
    p.add_argument("--base", type=Path, required=True,
                   help="local checkpoint folder, e.g. google/functiongemma-270m-it downloaded")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--task", default="score_node", help="task the data was exported for")
    p.add_argument("--name", help="model name for `ollama create` (default: from the GGUF "
                                  "digest)")
    p.add_argument("--steps", type=int, help="optimizer steps (default: --epochs passes)")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--learning-rate", type=float, default=2e-4)
    p.add_argument("--lora-r", type=int, default=16)
    p.add_argument("--lora-alpha", type=int, default=32)
    p.add_argument("--max-length", type=int, default=2048, help="tokens per example")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--outtype", default="q8_0", choices=("q8_0", "f16", "bf16", "f32"),
                   help="GGUF tensor type (default q8_0, as Ollama's functiongemma)")
    p.add_argument("--db", type=Path, help="database to record the run in (default: $SCOUT_DB, "
                                           "then the per-user database)")
    p.add_argument("--json", action="store_true", help="print exactly one JSON object")
    p.set_defaults(func=run_train)
    return p


def run_train(args: argparse.Namespace) -> int:
    from scout.store.db import Store, StoreError
    from scout.train.gguf import GgufError
    from scout.train.sft import TrainError, TrainParams, train

    def say(message: str) -> None:
        print(f"scout train: {message}", file=sys.stderr)

    params = TrainParams(steps=args.steps, epochs=args.epochs, batch_size=args.batch_size,
                         learning_rate=args.learning_rate, lora_r=args.lora_r,
                         lora_alpha=args.lora_alpha, max_length=args.max_length, seed=args.seed,
                         outtype=args.outtype)
    cancel = CancelToken()
    try:
        # stdout carries the result only: the trainer's own log lines go to stderr
        with contextlib.redirect_stdout(sys.stderr):
            result = train(args.data, args.base, args.out, params=params,
                           task_name=args.task, name=args.name, cancel=cancel, say=say)
    except (TrainError, GgufError, OSError) as exc:
        print(f"scout: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except (KeyboardInterrupt, Cancelled):
        cancel.cancel("interrupted")
        print("scout: interrupted", file=sys.stderr)
        return 130
    try:
        with Store.open(args.db) as store:
            result.trained_model_id = record_training(store, result)
        say(f"recorded as trained model {result.trained_model_id} in {store.path}")
    except StoreError as exc:
        say(f"warning: the run was not recorded: {exc}")
    if args.json:
        print(json.dumps({**result.as_json(), "ollama_create": result.ollama_create()}))
        return 0
    print(f"model: {result.gguf} (sha256 {result.gguf_sha256[:12]}, "
          f"{result.train_seconds:.1f} s training, "
          f"{result.seconds_per_1000_examples:.1f} s per 1,000 examples)")
    print("serve it with Ollama:")
    print(f"  {result.ollama_create()}")
    print("then measure it against GHC before it answers first:")
    print(f"  scout eval --scorer ollama --ollama-model {result.name} --root YOUR_PROJECT")
    return 0


def record_training(store: Any, result: Any) -> int:
    """One ``trained_models`` row: which dataset and base produced which GGUF (by digest)."""
    from scout.functiongemma.format import FORMAT_VERSION
    from scout.store.db import now_utc
    from scout.tasks import load_task

    task = load_task(result.task)

    def work(conn: Any) -> int:
        conn.execute("DELETE FROM trained_models WHERE gguf_sha256 = ?", (result.gguf_sha256,))
        return int(conn.execute(
            "INSERT INTO trained_models (name, task, task_version, prompt_hash, gguf_sha256, "
            "gguf_path, base_path, base_digest, dataset_path, dataset_digest, train_examples, "
            "validation_examples, steps, train_seconds, train_loss, validation_loss, params, "
            "created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (result.name, task.name, task.version, task.prompt_hash(FORMAT_VERSION),
             result.gguf_sha256, str(result.gguf), result.base, result.base_digest,
             result.dataset, result.dataset_digest, result.train_examples,
             result.validation_examples, result.steps, result.train_seconds, result.train_loss,
             result.validation_loss, json.dumps(result.params), now_utc())).lastrowid or 0)

    return int(store._write(work, "recording a training run"))
