import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { candidatePicks, changePicks, outcomeOf, questionTemplate, suggestionText, summaryMessage, withTarget } from "../src/answers";
import type { Result } from "../src/protocol";

const result = {
  key: 1,
  query: { query: "q" },
  target: { name: "LLMKind", qualified: "LLM.Types.LLMKind", kind: "data", location: "src/LLM/Types.hs:35", uri: "file:///t", line: 34 },
  summary: { text: "7 break · 3 silent · 10 safe" },
  scorer: "hybrid",
  answeredBy: "heuristic",
  why: "ollama unreachable",
  groups: [],
} as Result;

describe("outcomeOf", () => {
  it("ok answers carry a one-line summary", () => {
    const o = outcomeOf({ status: "ok", result });
    assert.equal(o.kind, "ok");
    assert.equal(o.kind === "ok" && o.message, "LLMKind: 7 break · 3 silent · 10 safe (answered by heuristic: ollama unreachable).");
  });

  it("ambiguous answers become a pick list that re-asks with the target", () => {
    const o = outcomeOf({
      status: "ambiguous",
      name: "Shape",
      candidates: [{ qualified: "Geo.Shape", kind: "data", location: "src/Geo.hs:3", uri: "file:///g", line: 2 }],
      message: "Shape names 2 symbols",
    });
    assert.equal(o.kind, "ambiguous");
    if (o.kind !== "ambiguous") return;
    assert.deepEqual(candidatePicks(o.candidates), [{ label: "Geo.Shape", description: "data", detail: "src/Geo.hs:3", qualified: "Geo.Shape" }]);
    assert.deepEqual(withTarget({ question: "q", uri: "u" }, "Geo.Shape"), { question: "q", uri: "u", target: "Geo.Shape" });
  });

  it("not understood answers offer the server's reading", () => {
    const o = outcomeOf({ status: "not_understood", message: "no symbol named Foo", suggestion: { question: "What breaks if I remove Opus?" } });
    assert.deepEqual(o, { kind: "not_understood", message: "no symbol named Foo", suggestion: "What breaks if I remove Opus?" });
    assert.equal(suggestionText({ target: "X" }), null);
    assert.equal(suggestionText("  "), null);
  });

  it("errors and malformed answers are errors", () => {
    assert.deepEqual(outcomeOf({ status: "error", message: "index failed" }), { kind: "error", message: "index failed" });
    assert.equal(outcomeOf(null).kind, "error");
    assert.match((outcomeOf({ status: "weird" }) as { message: string }).message, /unknown status "weird"/);
  });

  it("a partial answer says so", () => {
    assert.match(summaryMessage({ ...result, coverage: { partial: true } }), /Partial answer/);
  });
});

describe("changePicks", () => {
  it("keeps the server's scout actions, without the prefix", () => {
    const arg = { uri: "file:///t", position: { line: 34, character: 5 }, change: "add_constructor", target: "LLM.Types.LLMKind" };
    const picks = changePicks(
      [
        { title: "Scout: what breaks if I add a constructor to LLMKind?", command: { command: "scout.scoutAt", arguments: [arg] } },
        { title: "Add missing import", command: { command: "hls.fix", arguments: [] } },
        { title: "Plain command", command: "scout.scoutAt" },
      ],
      "scout.scoutAt",
    );
    assert.deepEqual(picks, [{ label: "what breaks if I add a constructor to LLMKind?", arg }]);
  });
});

describe("questionTemplate", () => {
  it("prefills the word at the cursor and selects the verb", () => {
    const t = questionTemplate("LLMKind");
    assert.equal(t.value, "What breaks if I change LLMKind?");
    assert.deepEqual(t.selection, [17, 23]);
    assert.equal(t.value.slice(17, 23), "change");
    assert.deepEqual(questionTemplate(undefined), { value: "" });
  });
});
