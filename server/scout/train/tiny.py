"""A tiny FunctionGemma-shaped checkpoint, built offline, for tests and benchmarks.

It has Gemma 3's architecture (6 layers, hidden size 64, about 0.3M parameters) and a
SentencePiece BPE tokenizer (vocabulary 1,000, byte fallback) holding FunctionGemma's turn,
function and escape tokens as whole pieces, with Gemma's ids for pad 0, eos 1, bos 2, unk 3. It
is a stand-in for ``google/functiongemma-270m-it`` wherever the real one cannot be downloaded:
``scout train --base`` takes it like any local checkpoint folder, llama.cpp's converter turns it
into a GGUF, and llama.cpp serves it token for token as Hugging Face generates.

``pretrain_steps`` gives it a head start on the texts (full fine-tuning, loss on the answers), so
it answers in the call format at all; the answers are poor, which is the point of the tiny model:
the loop runs, not the model judges. Needs the ``train`` extra.
"""

from __future__ import annotations

import io
import json
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scout.functiongemma.format import FUNCTION_TOKENS

SPECIAL_IDS = {"<pad>": 0, "<eos>": 1, "<bos>": 2, "<unk>": 3}
VOCAB = 1000


def tiny_config() -> Any:
    from transformers import Gemma3TextConfig

    # 6 layers and query_pre_attn_scalar == head_dim make llama.cpp match Hugging Face token for
    # token (FACTS.md); a sliding window longer than any prompt keeps every layer's attention
    # the same in both engines.
    return Gemma3TextConfig(
        vocab_size=VOCAB + 1, hidden_size=64, intermediate_size=128, num_hidden_layers=6,
        num_attention_heads=4, num_key_value_heads=1, head_dim=16, query_pre_attn_scalar=16,
        sliding_window=2048, max_position_embeddings=2048, tie_word_embeddings=True,
        pad_token_id=0, eos_token_id=1, bos_token_id=2)


def build_tokenizer(folder: Path, texts: Sequence[str]) -> None:
    """SentencePiece BPE on ``texts`` (one piece per FunctionGemma token), saved as
    ``tokenizer.model`` plus the Hugging Face files, with BOS added to every sequence."""
    import sentencepiece as spm
    from transformers import GemmaTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    lines = [line for text in texts for line in text.split("\n") if line]
    if not lines:
        raise ValueError("the tiny tokenizer needs some text to learn its pieces from")
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_writer=model, model_type="bpe",
        vocab_size=VOCAB, byte_fallback=True, user_defined_symbols=list(FUNCTION_TOKENS),
        pad_id=0, eos_id=1, bos_id=2, unk_id=3, pad_piece="<pad>", eos_piece="<eos>",
        bos_piece="<bos>", unk_piece="<unk>", normalization_rule_name="identity",
        add_dummy_prefix=False, remove_extra_whitespaces=False, split_digits=True,
        allow_whitespace_only_pieces=True, character_coverage=1.0, hard_vocab_limit=False,
        minloglevel=2, num_threads=1)
    (folder / "tokenizer.model").write_bytes(model.getvalue())
    # GemmaTokenizer.from_pretrained reads tokenizer.model (constructing it from vocab_file=
    # silently yields 14 tokens in transformers 5); add_bos_token goes into tokenizer.json.
    tokenizer = GemmaTokenizer.from_pretrained(str(folder), add_bos_token=True)
    tokenizer.save_pretrained(str(folder))
    write_tokenizer_config(folder, tokenizer)


def write_tokenizer_config(folder: Path, tokenizer: Any) -> None:
    """``tokenizer_config.json`` with ``added_tokens_decoder``: llama.cpp's converter reads token
    types from it (transformers 5 no longer writes it)."""
    decoder = {str(index): {"content": token.content, "lstrip": False, "normalized": False,
                            "rstrip": False, "single_word": False,
                            "special": bool(token.special)}
               for index, token in sorted(tokenizer.added_tokens_decoder.items())}
    config = {"tokenizer_class": "GemmaTokenizer", "add_bos_token": True,
              "add_eos_token": False, "bos_token": "<bos>", "eos_token": "<eos>",
              "pad_token": "<pad>", "unk_token": "<unk>", "model_max_length": 2048,
              "added_tokens_decoder": decoder}
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=1) + "\n")


def build_tiny_base(folder: Path, texts: Sequence[str], *, seed: int = 0,
                    pretrain_steps: int = 0, batch_size: int = 4,
                    learning_rate: float = 3e-3) -> dict[str, float]:
    """Write a tiny checkpoint to ``folder`` (tokenizer + safetensors). Returns timings."""
    import torch
    from transformers import Gemma3ForCausalLM, GemmaTokenizer

    started = time.perf_counter()
    build_tokenizer(folder, texts)
    tokenizer = GemmaTokenizer.from_pretrained(str(folder))
    torch.manual_seed(seed)
    model = Gemma3ForCausalLM(tiny_config())
    trained = 0.0
    if pretrain_steps:
        trained = _pretrain(model, tokenizer, texts, steps=pretrain_steps,
                            batch_size=batch_size, learning_rate=learning_rate, seed=seed)
    model.save_pretrained(str(folder))
    return {"seconds": time.perf_counter() - started, "pretrain_seconds": trained}


def _pretrain(model: Any, tokenizer: Any, texts: Sequence[str], *, steps: int,
              batch_size: int, learning_rate: float, seed: int) -> float:
    import torch

    started = time.perf_counter()
    # Matrices this small gain nothing from a second thread, and on a loaded machine the
    # threads' spin-waits cost more than the work: train on one, then restore the setting.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _pretrain_steps(model, tokenizer, texts, steps=steps, batch_size=batch_size,
                        learning_rate=learning_rate, seed=seed)
    finally:
        torch.set_num_threads(threads)
    return time.perf_counter() - started


def _pretrain_steps(model: Any, tokenizer: Any, texts: Sequence[str], *, steps: int,
                    batch_size: int, learning_rate: float, seed: int) -> None:
    import torch

    from scout.export.formats import split_prompt

    encoded: list[tuple[list[int], int]] = []
    for text in texts:
        prompt, _ = split_prompt(text)
        ids = tokenizer(text + tokenizer.eos_token)["input_ids"]
        encoded.append((ids, len(tokenizer(prompt)["input_ids"])))
    rng = random.Random(seed)
    optimiser = torch.optim.AdamW(model.parameters(), lr=learning_rate)
    model.train()
    for _ in range(steps):
        batch = [encoded[rng.randrange(len(encoded))] for _ in range(batch_size)]
        width = max(len(seq) for seq, _ in batch)
        ids = torch.zeros((len(batch), width), dtype=torch.long)
        labels = torch.full((len(batch), width), -100, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, (seq, prompt_len) in enumerate(batch):
            ids[row, :len(seq)] = torch.tensor(seq)
            labels[row, prompt_len:len(seq)] = torch.tensor(seq[prompt_len:])  # the answer
            mask[row, :len(seq)] = 1
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        optimiser.step()
        optimiser.zero_grad()
    model.eval()
