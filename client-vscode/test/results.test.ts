import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";

import type { Result } from "../src/protocol";
import { buildTree, findItem, nodeCount, nodeLabel, nodeTooltip, riskIcon, treeSignature, type ResultItem } from "../src/results";

const FIXTURES = path.join(__dirname, "..", "..", "test", "fixtures");
const result: Result = JSON.parse(fs.readFileSync(path.join(FIXTURES, "protocol-result.json"), "utf8"));

function shape(item: ResultItem): unknown {
  return item.children.length ? { [item.label]: item.children.map(shape) } : item.label;
}

describe("results tree", () => {
  const [query] = buildTree([result]);

  it("is query -> risk -> file -> node, risk 5 first", () => {
    assert.deepEqual(shape(query), {
      "What breaks if I add a constructor to LLMKind?": [
        {
          "risk 5 · breaks": [
            { "Pricing.hs": ["case on LLMKind has no catch-all: add an alternative", "edited line"] },
            { "Router.hs": ["function clauses"] },
          ],
        },
        { "risk 3 · worth a look": [{ "Report.hs": ["_ takes the new constructor silently"] }] },
        { "risk 1 · safe": [{ "Service.hs": ["mentions LLMKind"] }] },
      ],
    });
  });

  it("says the summary, the scorer that answered and why", () => {
    assert.equal(query.description, "2 break · 1 silent · 1 safe");
    assert.match(query.tooltip, /answered by heuristic · ollama unreachable: connection refused/);
    assert.deepEqual(query.open, { uri: "file:///w/src/LLM/Types.hs", line: 34 });
  });

  it("gives risk groups theme icons and counts", () => {
    const [r5, r3, r1] = query.children;
    assert.deepEqual(r5.icon, { id: "error", color: "charts.red" });
    assert.equal(r5.description, "3 places");
    assert.deepEqual(r3.icon, { id: "warning", color: "charts.yellow" });
    assert.deepEqual(r1.icon, { id: "pass", color: "charts.green" });
    assert.equal(r5.expanded, true);
    assert.equal(r1.expanded, false);
  });

  it("opens a node at its line, and not a node whose line was edited away", () => {
    const pricing = query.children[0].children[0];
    assert.equal(pricing.resourceUri, "file:///w/src/LLM/Pricing.hs");
    assert.equal(pricing.description, "src/LLM · 2");
    const [site, edited] = pricing.children;
    assert.deepEqual(site.open, { uri: "file:///w/src/LLM/Pricing.hs", line: 41 });
    assert.equal(site.description, "line 42");
    assert.equal(edited.open, undefined);
    assert.equal(edited.description, "line edited away");
  });

  it("puts the reasoning, snippet and type in the node's tooltip", () => {
    const site = query.children[0].children[0].children[0];
    assert.match(site.tooltip, /\*\*risk 5\*\* · relevance 5 · confidence 4/);
    assert.match(site.tooltip, /case on LLMKind has no catch\\-all/);
    assert.match(site.tooltip, /```haskell\ncostOf Sonnet u = \.\.\.\n```/);
    assert.match(site.tooltip, /fallback: ollama unreachable/);
  });

  it("copies the protocol's own objects as JSON", () => {
    assert.equal(query.json, result);
    assert.equal(query.children[0].children[0].children[0].json, result.groups[0].files[0].nodes[0]);
  });

  it("has stable, unique ids and finds an answer by key", () => {
    const ids: string[] = [];
    const walk = (i: ResultItem) => {
      ids.push(i.id);
      i.children.forEach(walk);
    };
    walk(query);
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual(buildTree([result]).map((i) => i.id), ["q:3"]);
    assert.equal(findItem(buildTree([result]), "q:3")?.label, result.query.query);
    assert.equal(nodeCount([result]), 5);
  });

  it("lists newest answers first and marks stale ones", () => {
    const older: Result = { ...result, key: 1, stale: true };
    const tree = buildTree([older, result]);
    assert.deepEqual(tree.map((i) => i.key), [3, 1]);
    assert.equal(tree[1].description, "2 break · 1 silent · 1 safe · stale");
    assert.deepEqual(tree[1].icon, { id: "history" });
  });
});

describe("unrated places", () => {
  it("group risk 0 reads 'not scored' with a neutral icon", () => {
    const unrated: Result = {
      ...result,
      groups: [{ risk: 0, files: [{ path: "a.hs", uri: "file:///a.hs", nodes: [{ location: "a.hs:3", path: "a.hs", uri: "file:///a.hs", line: 2, rubric: null, lens: "not scored · timed out" }] }] }],
    };
    const [group] = buildTree([unrated])[0].children;
    assert.equal(group.label, "not scored");
    assert.deepEqual(group.icon, { id: "circle-outline" });
    assert.deepEqual(group.children[0].children[0].icon, { id: "circle-outline" });
    assert.equal(group.children[0].children[0].label, "not scored · timed out");
  });
});

describe("node helpers", () => {
  it("nodeLabel falls back to the facts, then the location", () => {
    assert.equal(nodeLabel({ location: "a.hs:1", path: "a.hs", uri: "file:///a.hs", line: 0, lens: "risk 4 · x" }), "x");
    assert.equal(nodeLabel({ location: "a.hs:1", path: "a.hs", uri: "file:///a.hs", line: 0 }), "a.hs:1");
  });
  it("an unscored node says so", () => {
    assert.match(nodeTooltip({ location: "a.hs:1", path: "a.hs", uri: "file:///a.hs", line: 0, rubric: null, error: "model timed out" }), /\*\*not scored\*\*[\s\S]*error: model timed out/);
    assert.deepEqual(riskIcon(null), { id: "circle-outline" });
  });
});

describe("treeSignature", () => {
  it("ignores what the view does not show, and sees what it does", () => {
    const a = treeSignature(buildTree([result]));
    const logged = { ...result, log: { queryId: 7 } } as Result;
    assert.equal(treeSignature(buildTree([logged])), a);
    const stale = { ...result, stale: true };
    assert.notEqual(treeSignature(buildTree([stale])), a);
  });
});
