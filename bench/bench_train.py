"""Figures for the training loop (issue 15), on this CPU, offline.

1. Training time per 1,000 examples: LoRA SFT steps (batch 4, TRL, loss on the answer) on the
   tiny FunctionGemma-shaped model (the baseline) and on a model shaped like FunctionGemma 270M
   (Gemma 3: 18 layers, hidden 640, vocabulary 262,144; random weights, the tiny tokenizer's
   ids), on the same texts: median seconds per step, per 1,000 examples, and the ratio.
2. Tokens per node served: the tiny GGUF on llama.cpp, function tokens printed (stops fire) and
   hidden (as Ollama 0.30+): median completion tokens per node and median seconds, beside the
   answer budget now sent (``answer_token_budget``) and the old fixed cap (160).
3. Student against teacher: ``scout eval --scorer ollama`` on the example workspace, the model
   being the tiny base fine-tuned by ``scout train`` and served behind Ollama's protocol; and
   the heuristics on the same mutations as the baseline.

    .venv/bin/python bench/bench_train.py                # all three (~20 min: the 270M-shaped
                                                         # model takes 1-3 min a step here)
    .venv/bin/python bench/bench_train.py --only serve   # one part: train | serve | eval
    .venv/bin/python bench/bench_train.py --only train --train-steps 3

Needs ``scripts/setup-train.sh`` (and GHC for part 3).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "train"))
from train_support import (  # noqa: E402
    EXAMPLE,
    QUESTIONS,
    cached_tiny_base,
    dataset_texts,
)

SCOUT = [sys.executable, "-m", "scout.cli"]


def scout(*args: str) -> str:
    done = subprocess.run([*SCOUT, *args], capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        raise SystemExit(f"scout {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


def make_dataset(work: Path) -> Path:
    db = work / "scout.db"
    for question in QUESTIONS:
        scout("query", question, "--root", str(EXAMPLE), "--scorer", "heuristic", "--budget",
              "high", "--db", str(db), "--json")
    out = work / "dataset"
    from scout.export.cli import main as export_main

    export_main(["--format", "functiongemma", "--out", str(out), "--db", str(db), "--quiet"])
    return out


def shaped_270m(tiny: Path, work: Path) -> Path:
    """A random model with FunctionGemma 270M's shape and the tiny tokenizer."""
    import torch
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    folder = work / "shaped-270m"
    shutil.copytree(tiny, folder)
    config = Gemma3TextConfig(vocab_size=262_144, hidden_size=640, intermediate_size=2048,
                              num_hidden_layers=18, num_attention_heads=4, num_key_value_heads=1,
                              head_dim=256, query_pre_attn_scalar=256, sliding_window=512,
                              max_position_embeddings=32_768, tie_word_embeddings=True,
                              pad_token_id=0, eos_token_id=1, bos_token_id=2)
    torch.manual_seed(0)
    model = Gemma3ForCausalLM(config)
    for stale in folder.glob("*.safetensors"):
        stale.unlink()
    model.save_pretrained(str(folder))
    params = sum(p.numel() for p in model.parameters())
    print(f"270M-shaped model: {params / 1e6:.0f}M parameters")
    return folder


def bench_train(work: Path, dataset: Path, base: Path, steps: int) -> None:
    from scout.tasks import load_task
    from scout.train.sft import TrainParams, fit_lora, load_split

    task = load_task("score_node")
    train_set = load_split(dataset, "train", task)
    rows = []
    for label, folder in (("tiny (baseline)", base),
                          ("FunctionGemma-270M-shaped", shaped_270m(base, work))):
        fit = fit_lora(train_set, [], folder, work / f"fit-{len(rows)}",
                       TrainParams(steps=steps, batch_size=4), None, lambda message: None)
        rows.append((label, fit.train_seconds / steps, fit.train_seconds / fit.seen * 1000))
    base_per = rows[0][1]
    print(f"\nLoRA SFT, batch 4, {len(train_set)} training examples, {steps} steps each (the "
          "optimizer loop only)")
    print(f"{'model':28} {'s/step':>8} {'s per 1,000 examples':>22} {'ratio':>7}")
    for label, per, thousand in rows:
        print(f"{label:28} {per:8.2f} {thousand:22.1f} {per / base_per:7.1f}x")


def bench_serve(work: Path, dataset: Path, base: Path, nodes: int) -> None:
    from llama_cpp import Llama

    from scout.export.formats import split_prompt
    from scout.functiongemma import answer_token_budget, raw_stop_sequences
    from scout.tasks import load_task
    from scout.train.gguf import convert, set_token_types

    task = load_task("score_node")
    prompts = [split_prompt(text)[0] for text in dataset_texts(dataset, "test")][:nodes]
    budget = answer_token_budget(task)
    print(f"\nserving {len(prompts)} test prompts on llama.cpp (tiny GGUF, f32), num_predict "
          f"{budget} (was 160)")
    print(f"{'token types':12} {'median tokens/node':>19} {'max':>5} {'median s/node':>14} "
          f"{'stopped by':>12}")
    for kind in ("printed", "hidden"):
        folder = work / f"hf-{kind}"
        shutil.copytree(base, folder)
        set_token_types(folder, printed=kind == "printed")
        gguf = convert(folder, work / f"tiny-{kind}.gguf", outtype="f32")
        llm = Llama(model_path=str(gguf), n_ctx=2048, n_threads=2, seed=0, verbose=False)
        tokens, seconds, reasons = [], [], []
        for prompt in prompts:
            started = time.perf_counter()
            result = llm.create_completion(prompt, max_tokens=budget, temperature=0,
                                           stop=list(raw_stop_sequences(task)))
            seconds.append(time.perf_counter() - started)
            tokens.append(result["usage"]["completion_tokens"])
            reasons.append(result["choices"][0]["finish_reason"])
        llm.close()
        stops = ", ".join(f"{r} {reasons.count(r)}" for r in sorted(set(reasons)))
        print(f"{kind:12} {statistics.median(tokens):19.0f} {max(tokens):5d} "
              f"{statistics.median(seconds):14.3f} {stops:>12}")


def bench_eval(work: Path, dataset: Path, base: Path, steps: int) -> None:
    from engine import EngineServer

    out = work / "trained"
    result = json.loads(scout("train", "--data", str(dataset), "--base", str(base), "--out",
                              str(out), "--steps", str(steps), "--outtype", "f32", "--name",
                              "scout-tiny", "--db", str(work / "scout.db"), "--json"))
    print(f"\nscout train: {result['steps']} steps, {result['train_seconds']:.1f} s, "
          f"{result['seconds_per_1000_examples']:.1f} s per 1,000 examples")
    root = work / "llm-service"
    shutil.copytree(EXAMPLE, root)
    server = EngineServer({"scout-tiny:latest": out / "model.gguf"})
    try:
        for scorer in ("ollama", "heuristic"):
            table = scout("eval", "--scorer", scorer, "--ollama-host", server.url,
                          "--ollama-model", "scout-tiny", "--root", str(root), "--per-kind", "1",
                          "--cache-dir", str(work / "oracle"), "--db", str(work / "scout.db"))
            print(f"\n{table}")
    finally:
        server.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("train", "serve", "eval"))
    parser.add_argument("--train-steps", type=int, default=6)
    parser.add_argument("--nodes", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="scout-bench-train-") as scratch:
        work = Path(scratch)
        dataset = make_dataset(work)
        total = len(dataset_texts(dataset, 'train', 'validation', 'test'))
        print(f"dataset: {total} "
              "examples from the example workspace")
        started = time.perf_counter()
        base = cached_tiny_base(dataset)  # the tests' tiny base (built once, then cached)
        print(f"tiny base: {base.name} ({time.perf_counter() - started:.1f} s)")
        if args.only in (None, "train"):
            bench_train(work, dataset, base, args.train_steps)
        if args.only in (None, "serve"):
            bench_serve(work, dataset, base, args.nodes)
        if args.only in (None, "eval"):
            bench_eval(work, dataset, base, 8)
    return 0


if __name__ == "__main__":
    sys.exit(main())
