import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { changeEffect, expandPath, explicitValue, parseBudget, serverConfig, SERVER_SETTINGS, type Inspected } from "../src/settings";

const ctx = { home: "/home/u", workspaceFolder: "/work/proj" };

function inspectFrom(values: Record<string, Inspected>) {
  return (key: string) => values[key];
}

describe("serverConfig", () => {
  it("sends nothing when the user set nothing, so the server's own precedence applies", () => {
    const defaults: Record<string, Inspected> = {
      scorer: { defaultValue: "hybrid" },
      "ollama.host": { defaultValue: "http://127.0.0.1:11434" },
      budget: { defaultValue: "medium" },
    };
    assert.deepEqual(serverConfig(inspectFrom(defaults), ctx), { config: {}, problems: [] });
  });

  it("nests dotted keys and takes the most specific scope", () => {
    const { config, problems } = serverConfig(
      inspectFrom({
        scorer: { defaultValue: "hybrid", globalValue: "ollama", workspaceValue: "heuristic" },
        "ollama.host": { globalValue: "http://10.0.0.5:11434" },
        "ollama.model": { workspaceFolderValue: "my-gemma", workspaceValue: "other" },
        "shadow.enabled": { globalValue: true },
        "timeouts.hover": { workspaceValue: 0.5 },
        log: { globalValue: false },
      }),
      ctx,
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(config, {
      scorer: "heuristic",
      ollama: { host: "http://10.0.0.5:11434", model: "my-gemma" },
      shadow: { enabled: true },
      timeouts: { hover: 0.5 },
      log: false,
    });
  });

  it("turns a numeric budget into an integer and keeps presets as strings", () => {
    assert.deepEqual(serverConfig(inspectFrom({ budget: { globalValue: "35" } }), ctx).config, { budget: 35 });
    assert.deepEqual(serverConfig(inspectFrom({ budget: { globalValue: "HIGH" } }), ctx).config, { budget: "high" });
  });

  it("reports invalid values instead of sending them", () => {
    const { config, problems } = serverConfig(
      inspectFrom({
        scorer: { globalValue: "gpt" },
        budget: { globalValue: "lots" },
        "timeouts.model": { globalValue: -1 },
        "ollama.mode": { globalValue: "chat" },
      }),
      ctx,
    );
    assert.deepEqual(config, { ollama: { mode: "chat" } });
    assert.equal(problems.length, 3);
    assert.match(problems[0], /semanticScout\.scorer: "gpt" is not valid \(one of hybrid, heuristic, ollama, haiku\)/);
    assert.match(problems[1], /semanticScout\.budget/);
    assert.match(problems[2], /semanticScout\.timeouts\.model: -1 .*>= 0/);
  });

  it("treats an empty string as not set and expands paths in the database setting", () => {
    assert.deepEqual(serverConfig(inspectFrom({ database: { globalValue: "  " } }), ctx), { config: {}, problems: [] });
    assert.deepEqual(serverConfig(inspectFrom({ database: { globalValue: "${workspaceFolder}/.scout/db.sqlite" } }), ctx).config, {
      database: "/work/proj/.scout/db.sqlite",
    });
    assert.deepEqual(serverConfig(inspectFrom({ database: { globalValue: "~/scout.db" } }), ctx).config, {
      database: "/home/u/scout.db",
    });
  });

  it("covers exactly the protocol's configuration keys", () => {
    assert.deepEqual(
      SERVER_SETTINGS.map((s) => s.key).sort(),
      [
        "anthropic.model",
        "budget",
        "database",
        "log",
        "ollama.host",
        "ollama.mode",
        "ollama.model",
        "scorer",
        "shadow.enabled",
        "timeouts.deadline",
        "timeouts.hover",
        "timeouts.model",
      ],
    );
  });
});

describe("helpers", () => {
  it("explicitValue ignores the default", () => {
    assert.equal(explicitValue({ defaultValue: 1 }), undefined);
    assert.equal(explicitValue({ defaultValue: 1, globalValue: 2 }), 2);
    assert.equal(explicitValue(undefined), undefined);
  });

  it("parseBudget", () => {
    assert.equal(parseBudget("low"), "low");
    assert.equal(parseBudget(7), 7);
    assert.equal(parseBudget(0), undefined);
    assert.equal(parseBudget("0"), undefined);
    assert.equal(parseBudget(2.5), undefined);
    assert.equal(parseBudget(true), undefined);
  });

  it("expandPath leaves ${workspaceFolder} alone without a folder", () => {
    assert.equal(expandPath("${workspaceFolder}/x", { home: "/h" }), "${workspaceFolder}/x");
    assert.equal(expandPath("${userHome}/x", { home: "/h" }), "/h/x");
    assert.equal(expandPath("a~b", { home: "/h" }), "a~b");
  });

  it("changeEffect: launch settings restart, server settings are pushed, trace is neither", () => {
    const only = (section: string) => (s: string) => s === section;
    assert.equal(changeEffect(only("semanticScout.server.interpreter")), "restart");
    assert.equal(changeEffect(only("semanticScout.server.command")), "restart");
    assert.equal(changeEffect(only("semanticScout.ollama.host")), "push");
    assert.equal(changeEffect(only("semanticScout.trace.server")), "none");
    assert.equal(changeEffect(only("editor.fontSize")), "none");
  });
});
