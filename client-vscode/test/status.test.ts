import assert from "node:assert/strict";
import { describe, it } from "node:test";

import type { Status } from "../src/protocol";
import { indexText, statusView } from "../src/status";

const base: Status = {
  scorer: "hybrid",
  answering: "heuristic",
  why: "ollama unreachable: connection refused",
  ollama: { host: "http://127.0.0.1:11434", reachable: false, model: "functiongemma" },
  shadow: { enabled: false, model: "claude-haiku-4-5", keyPresent: false },
  database: "/home/u/.local/share/scout/scout.db",
  index: { state: "ready", files: 7, indexed: 7, filesWithErrors: 0, revision: 3, roots: ["/w"] },
};

describe("status bar", () => {
  it("shows the scorer, Ollama reachability and shadowing", () => {
    const v = statusView({ phase: "running", status: base });
    assert.equal(v.text, "$(telescope) Scout: hybrid · Ollama $(x) · shadow off");
    assert.equal(v.severity, "normal");
    assert.match(v.tooltip, /answering with heuristic: ollama unreachable/);
    assert.match(v.tooltip, /Ollama http:\/\/127\.0\.0\.1:11434 \(model functiongemma\): unreachable/);
    assert.match(v.tooltip, /7 files indexed/);
  });

  it("leaves Ollama out for scorers that do not use it", () => {
    const v = statusView({ phase: "running", status: { ...base, scorer: "heuristic", answering: "heuristic", why: null } });
    assert.equal(v.text, "$(telescope) Scout: heuristic · shadow off");
  });

  it("warns when the chosen backend cannot answer", () => {
    assert.equal(statusView({ phase: "running", status: { ...base, scorer: "ollama" } }).severity, "warning");
    const shadowNoKey = statusView({ phase: "running", status: { ...base, shadow: { enabled: true, keyPresent: false } } });
    assert.equal(shadowNoKey.severity, "warning");
    assert.match(shadowNoKey.text, /\$\(eye\) shadow$/);
    const reachable = statusView({ phase: "running", status: { ...base, ollama: { ...base.ollama, reachable: true } } });
    assert.match(reachable.text, /Ollama \$\(check\)/);
  });

  it("spins while indexing", () => {
    const v = statusView({ phase: "running", status: { ...base, index: { state: "indexing", files: 10, indexed: 4 } } });
    assert.match(v.text, /^\$\(sync~spin\) Scout: hybrid/);
    assert.equal(indexText({ state: "indexing", files: 10, indexed: 4 }), "indexing 4/10 files");
    assert.equal(indexText({ state: "ready", files: 10, filesWithErrors: 2 }), "10 files indexed, 2 with parse errors");
  });

  it("says when the server is starting, installing or not running", () => {
    assert.equal(statusView({ phase: "starting" }).text, "$(sync~spin) Scout: starting");
    assert.match(statusView({ phase: "installing", detail: "installing dependencies (3/40)" }).tooltip, /first start\): installing dependencies \(3\/40\)/);
    const failed = statusView({ phase: "failed", message: "Python 3.9.2 is too old" });
    assert.equal(failed.severity, "error");
    assert.match(failed.tooltip, /Python 3\.9\.2 is too old/);
  });
});

describe("status bar without a folder", () => {
  it("says no folder is open", () => {
    const v = statusView({ phase: "running", status: { scorer: null, answering: undefined, why: "no workspace folder is open" } });
    assert.equal(v.text, "$(telescope) Scout: no folder");
  });
});
