"""``scout train``: LoRA fine-tuning of a FunctionGemma checkpoint on scout's own export, then
merge, GGUF and an Ollama Modelfile.

Data: the ``functiongemma`` export (``train.jsonl``, optional ``validation.jsonl``; each row's
``text`` is byte for byte what the scorer sends Ollama, then the answer). Each text is split at
the last model turn into prompt and completion, and the loss is on the completion only (the call
and its closing ``<start_function_response>``, then ``<eos>`` that TRL appends, so the model
stops by itself even where an engine hides the stop tokens).

Output folder: ``merged/`` (the merged Hugging Face checkpoint, function tokens marked printed),
``model.gguf`` (llama.cpp's converter), ``Modelfile`` (``FROM ./model.gguf`` and the raw-mode
parameters) and ``training.json`` (what was trained on what, with digests). The run is recorded
in the scout database (``trained_models``), so every later rubric of the served model traces
back to its dataset and base.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from scout.cancel import CancelToken
from scout.functiongemma import answer_token_budget, parse_task_output, raw_stop_sequences
from scout.functiongemma.format import FORMAT_VERSION, FUNCTION_TOKENS
from scout.tasks import TaskDefinition, load_task

Say = Callable[[str], None]


class TrainError(RuntimeError):
    """The data, the base or the run is not usable; the message says what to do."""


@dataclass(frozen=True, slots=True)
class TrainParams:
    steps: int | None = None  # default: one pass over the training examples
    epochs: float = 1.0
    batch_size: int = 4
    learning_rate: float = 2e-4
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.0
    max_length: int = 2048
    seed: int = 0
    outtype: str = "q8_0"  # GGUF tensor type: q8_0 (Ollama's functiongemma), f16, bf16, f32


@dataclass(slots=True)
class TrainResult:
    out: Path
    gguf: Path
    gguf_sha256: str
    modelfile: Path
    name: str
    task: str
    dataset: str
    dataset_digest: str
    train_examples: int
    validation_examples: int
    base: str
    base_digest: str
    steps: int
    examples_seen: int
    train_seconds: float
    train_loss: float | None
    validation_loss: float | None
    convert_seconds: float
    params: dict[str, Any] = field(default_factory=dict)
    trained_model_id: int | None = None

    @property
    def seconds_per_1000_examples(self) -> float:
        return self.train_seconds / max(1, self.examples_seen) * 1000

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("out", "gguf", "modelfile"):
            data[key] = str(data[key])
        data["seconds_per_1000_examples"] = round(self.seconds_per_1000_examples, 2)
        return data

    def ollama_create(self) -> str:
        return f"ollama create {self.name} -f {self.modelfile}"


# --------------------------------------------------------------------------- data


@dataclass(frozen=True, slots=True)
class Example:
    prompt: str
    completion: str


def load_split(folder: Path, split: str, task: TaskDefinition) -> list[Example]:
    from scout.export.formats import split_prompt

    path = folder / f"{split}.jsonl"
    if not path.is_file():
        return []
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            text = json.loads(line)["text"]
            prompt, completion = split_prompt(text)
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise TrainError(f"{path}:{number}: not a `scout-export --format functiongemma` row "
                             f"({type(exc).__name__}: {exc})") from None
        try:
            parse_task_output(task, completion)
        except ValueError as exc:
            raise TrainError(f"{path}:{number}: the answer is not a valid {task.name} call "
                             f"({exc}); was this exported for another task?") from None
        examples.append(Example(prompt, completion))
    return examples


def digest_files(paths: list[Path], root: Path) -> str:
    """sha256 over the files' relative names and contents, in name order."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def dataset_digest(folder: Path) -> str:
    return digest_files([p for p in (folder / "train.jsonl", folder / "validation.jsonl")
                         if p.is_file()], folder)


def checkpoint_digest(folder: Path) -> str:
    return digest_files([p for p in folder.rglob("*") if p.is_file()], folder)


def check_base(folder: Path) -> None:
    missing = [name for name in ("config.json", "tokenizer.model") if not (folder / name).is_file()]
    if missing:
        raise TrainError(f"--base {folder} is not a FunctionGemma checkpoint folder (no "
                         f"{', '.join(missing)}): download google/functiongemma-270m-it, or pass "
                         "the folder that holds it")


def check_tokenizer(tokenizer: Any, folder: Path) -> None:
    """Every function token must be one token, or training text would not be served text."""
    split = [token for token in FUNCTION_TOKENS
             if len(tokenizer(token, add_special_tokens=False)["input_ids"]) != 1]
    if split:
        raise TrainError(f"the tokenizer in {folder} splits {split} into pieces: not a "
                         "FunctionGemma tokenizer")


# --------------------------------------------------------------------------- the run


def train(data: Path, base: Path, out: Path, *, params: TrainParams = TrainParams(),
          task_name: str = "score_node", name: str | None = None,
          cancel: CancelToken | None = None, say: Say = lambda message: None) -> TrainResult:
    """LoRA SFT, merge, GGUF, Modelfile. Does not touch the database (see :func:`record`)."""
    task = load_task(task_name)
    data, base, out = data.resolve(), base.resolve(), out.resolve()
    if not (data / "train.jsonl").is_file():
        raise TrainError(f"--data {data} has no train.jsonl: export one with `scout-export "
                         "--format functiongemma --out DIR`")
    check_base(base)
    train_set = load_split(data, "train", task)
    validation = load_split(data, "validation", task)
    if not train_set:
        raise TrainError(f"{data / 'train.jsonl'} holds no examples")
    out.mkdir(parents=True, exist_ok=True)
    say(f"{len(train_set)} training and {len(validation)} validation examples from {data}")
    fit = fit_lora(train_set, validation, base, out, params, cancel, say)
    merged, steps, seen, train_seconds = fit.merged, fit.steps, fit.seen, fit.train_seconds
    say(f"trained {steps} steps on {seen} examples in {train_seconds:.1f} s "
        f"({train_seconds / max(1, seen) * 1000:.1f} s per 1,000 examples)")

    from scout.train.gguf import convert, set_token_types, sha256_file

    shutil.copy2(base / "tokenizer.model", merged / "tokenizer.model")
    set_token_types(merged, printed=True)
    converting = time.perf_counter()
    gguf = convert(merged, out / "model.gguf", outtype=params.outtype, cancel=cancel, say=say)
    convert_seconds = time.perf_counter() - converting
    gguf_sha = sha256_file(gguf)
    model_name = name or f"scout-{task.name.replace('_', '-')}-{gguf_sha[:8]}"
    modelfile = write_modelfile(out, task)
    result = TrainResult(
        out=out, gguf=gguf, gguf_sha256=gguf_sha, modelfile=modelfile, name=model_name,
        task=task.name, dataset=str(data), dataset_digest=dataset_digest(data),
        train_examples=len(train_set), validation_examples=len(validation), base=str(base),
        base_digest=checkpoint_digest(base), steps=steps, examples_seen=seen,
        train_seconds=train_seconds, train_loss=fit.train_loss,
        validation_loss=fit.validation_loss,
        convert_seconds=convert_seconds,
        params={**asdict(params), "format": FORMAT_VERSION, "task_version": task.version,
                "token_types": "printed"})
    (out / "training.json").write_text(json.dumps(result.as_json(), indent=1) + "\n")
    return result


@dataclass(frozen=True, slots=True)
class Fit:
    merged: Path  # the merged Hugging Face checkpoint
    steps: int
    seen: int  # examples seen (steps x batch size)
    train_seconds: float  # the optimizer loop only (no loading, merging or saving)
    train_loss: float | None
    validation_loss: float | None


def fit_lora(train_set: list[Example], validation: list[Example], base: Path, out: Path,
             params: TrainParams, cancel: CancelToken | None, say: Say) -> Fit:
    try:
        import torch
        from datasets import Dataset
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
        from trl import SFTConfig, SFTTrainer
    except ImportError as exc:
        raise TrainError(f"scout train needs the training extra ({exc}): pip install "
                         "'semantic-scout[train]' (scripts/setup-train.sh)") from exc

    torch.manual_seed(params.seed)
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    check_tokenizer(tokenizer, base)
    model = AutoModelForCausalLM.from_pretrained(str(base), dtype=torch.float32)
    lora = LoraConfig(r=params.lora_r, lora_alpha=params.lora_alpha,
                      lora_dropout=params.lora_dropout, target_modules="all-linear",
                      task_type="CAUSAL_LM")
    model = get_peft_model(model, lora)
    steps = params.steps or max(1, math.ceil(len(train_set) * params.epochs / params.batch_size))

    class Cancellable(TrainerCallback):  # type: ignore[misc]
        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
            if cancel is not None:
                cancel.check()
            if state.global_step % 10 == 0 or state.global_step == steps:
                say(f"step {state.global_step}/{steps}")
            return control

    def rows(examples: list[Example]) -> Any:
        return Dataset.from_list([{"prompt": e.prompt, "completion": e.completion}
                                  for e in examples])

    config = SFTConfig(
        output_dir=str(out / "checkpoints"), max_steps=steps,
        per_device_train_batch_size=params.batch_size, per_device_eval_batch_size=params.batch_size,
        learning_rate=params.learning_rate, lr_scheduler_type="constant", warmup_steps=0,
        logging_steps=max(1, steps // 10), save_strategy="no", report_to="none",
        completion_only_loss=True, max_length=params.max_length, packing=False,
        use_cpu=True, seed=params.seed, data_seed=params.seed, bf16=False, fp16=False,
        disable_tqdm=True, dataloader_num_workers=0)
    trainer = SFTTrainer(model=model, args=config, train_dataset=rows(train_set),
                         eval_dataset=rows(validation) if validation else None,
                         processing_class=tokenizer, callbacks=[Cancellable()])
    _check_tokenized(trainer.train_dataset, tokenizer)
    started = time.perf_counter()
    output = trainer.train()
    train_seconds = time.perf_counter() - started
    validation_loss = None
    if validation:
        validation_loss = float(trainer.evaluate()["eval_loss"])
    merged_model = trainer.model.merge_and_unload()
    merged = out / "merged"
    if merged.exists():
        shutil.rmtree(merged)
    merged_model.save_pretrained(str(merged))
    tokenizer.save_pretrained(str(merged))
    _copy_tokenizer_config(base, merged)
    shutil.rmtree(out / "checkpoints", ignore_errors=True)
    return Fit(merged, steps, steps * params.batch_size, train_seconds,
               float(output.training_loss), validation_loss)


def _check_tokenized(dataset: Any, tokenizer: Any) -> None:
    """The first example as TRL tokenized it: BOS first, EOS last, loss on the answer only."""
    first = dataset[0]
    ids = first["input_ids"]
    if "labels" in first:  # trl builds labels: -100 where no loss is taken
        mask = [label != -100 for label in first["labels"]]
    else:
        mask = first.get("completion_mask")
    if ids[0] != tokenizer.bos_token_id or ids[-1] != tokenizer.eos_token_id or mask is None:
        raise TrainError("the training text was not tokenized as served (BOS first, EOS last, "
                         f"loss on the answer): starts {ids[:3]}, ends {ids[-3:]}, columns "
                         f"{sorted(first)}; check the base's tokenizer (add_bos_token) and the "
                         "trl version")
    answer = tokenizer.decode([t for t, m in zip(ids, mask, strict=True) if m])
    if not answer.startswith("<start_function_call>"):
        raise TrainError(f"the loss would not be on the answer only: masked text starts "
                         f"{answer[:60]!r}")


def _copy_tokenizer_config(base: Path, merged: Path) -> None:
    """Keep the base's tokenizer_config.json (with ``added_tokens_decoder``, which the converter
    reads and transformers 5 does not write) when the merged one lacks it."""
    source = base / "tokenizer_config.json"
    target = merged / "tokenizer_config.json"
    if not source.is_file():
        return
    written = json.loads(target.read_text()) if target.is_file() else {}
    if not written.get("added_tokens_decoder"):
        shutil.copy2(source, target)


def write_modelfile(out: Path, task: TaskDefinition) -> Path:
    """An Ollama Modelfile for raw mode: the GGUF's function tokens are USER_DEFINED, so Ollama
    prints them and the stop strings fire; no RENDERER/PARSER (Ollama's chat renderer sends other
    bytes than the model was trained on)."""
    stops = "\n".join(f"PARAMETER stop {json.dumps(stop)}" for stop in raw_stop_sequences(task))
    text = (f"# Fine-tuned by `scout train` for the {task.name} task. Serve it to scout in raw "
            "mode\n# (scout query --scorer hybrid --ollama-mode raw): scout renders the prompt "
            "itself, byte for\n# byte as in training. The GGUF marks FunctionGemma's turn and "
            "function tokens USER_DEFINED,\n# so Ollama prints them and these stops fire.\n"
            "FROM ./model.gguf\n"
            "PARAMETER temperature 0\n"
            f"PARAMETER num_predict {answer_token_budget(task)}\n"
            f"{stops}\n")
    path = out / "Modelfile"
    path.write_text(text)
    return path
