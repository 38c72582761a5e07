import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { codeBlocks, plainText, reduceHover } from "../src/hover";

// What HLS 2.x puts in a hover: the signature in a haskell block, then where it is defined and docs.
const HLS_HOVER = [
  "```haskell",
  "modelName :: LLMKind -> Text",
  "```",
  "",
  "*Defined at /work/examples/llm-service/src/LLM/Types.hs:58:1*",
  "",
  "* * *",
  "",
  "The model's API name.",
].join("\n");

describe("reduceHover", () => {
  it("keeps the signature of an HLS hover and drops the prose", () => {
    assert.equal(reduceHover([HLS_HOVER]), "modelName :: LLMKind -> Text");
  });

  it("joins several code blocks in order, without repeats", () => {
    const hover = "```haskell\n_ :: LLMKind\n```\n\n```haskell\ndata LLMKind = Sonnet | Opus | Haiku\n```\n";
    assert.equal(reduceHover([hover, "```haskell\n_ :: LLMKind\n```"]), "_ :: LLMKind\ndata LLMKind = Sonnet | Opus | Haiku");
  });

  it("accepts the MarkedString code form", () => {
    assert.equal(reduceHover([{ language: "haskell", value: "x :: Int " }]), "x :: Int");
  });

  it("ignores code blocks in other languages", () => {
    assert.equal(reduceHover(["```json\n{}\n```", "```haskell\nf :: a\n```"]), "f :: a");
  });

  it("falls back to the prose when there is no code", () => {
    assert.equal(reduceHover(["**Opus**: the largest `model`"]), "Opus: the largest model");
  });

  it("is null when nothing is shown", () => {
    assert.equal(reduceHover([]), null);
    assert.equal(reduceHover(["", "   "]), null);
  });

  it("codeBlocks and plainText", () => {
    assert.deepEqual(codeBlocks("a\n~~~hs\nx\ny\n~~~\n"), [["hs", "x\ny"]]);
    assert.equal(plainText("# Title\n[link](http://x) <b>b</b>\n\n\n\nend"), "Title\nlink b\n\nend");
  });
});
