// The results view's model: answered questions -> a tree (query -> risk -> file -> node).
// Pure: no `vscode` import; resultsView.ts turns these into TreeItems.

import type { FileGroup, Result, ResultNode, RiskGroup } from "./protocol";

export type ItemKind = "query" | "risk" | "file" | "node";

export interface Icon {
  id: string;
  color?: string;
}

export interface ResultItem {
  /** Stable across refreshes, so the view keeps expansion and selection. No "/" in it: VS Code
   * 1.100 mixes up revealed tree items whose ids contain slashes (the e2e test saw it). */
  id: string;
  kind: ItemKind;
  label: string;
  description?: string;
  /** Markdown. */
  tooltip: string;
  /** Theme icon; files use their file icon instead (resourceUri). */
  icon?: Icon;
  resourceUri?: string;
  expanded: boolean;
  /** Where a click goes (0-based line). */
  open?: { uri: string; line: number };
  /** What "Copy as JSON" copies. */
  json: unknown;
  /** The answer this item belongs to. */
  key: number;
  children: ResultItem[];
}

const RISK_NAMES: Record<number, string> = {
  5: "breaks",
  4: "likely breaks",
  3: "worth a look",
  2: "unlikely to break",
  1: "safe",
};

/** Rated 1..5; 0 or null means no scorer rated the place. */
export function isRated(risk: number | null | undefined): risk is number {
  return risk != null && risk >= 1;
}

export function riskName(risk: number | null | undefined): string {
  return risk != null && RISK_NAMES[risk] ? RISK_NAMES[risk] : "not scored";
}

/** Theme icon per risk: red error, orange/yellow warning, blue info, green pass. */
export function riskIcon(risk: number | null | undefined): Icon {
  switch (risk) {
    case 5:
      return { id: "error", color: "charts.red" };
    case 4:
      return { id: "warning", color: "charts.orange" };
    case 3:
      return { id: "warning", color: "charts.yellow" };
    case 2:
      return { id: "info", color: "charts.blue" };
    case 1:
      return { id: "pass", color: "charts.green" };
    default:
      return { id: "circle-outline" };
  }
}

/** A node's one-line label: its lens text without the "risk N · " prefix the group already says. */
export function nodeLabel(node: ResultNode): string {
  const lens = node.lens?.replace(/^risk\s+\d+\s*·\s*/i, "").trim();
  if (lens) return lens;
  if (node.facts?.detail) return node.facts.detail;
  return node.location;
}

function escapeMd(text: string): string {
  return text.replace(/([\\`*_{}[\]()#+\-.!|<>])/g, "\\$1");
}

function fence(code: string): string {
  const ticks = code.includes("```") ? "````" : "```";
  return `${ticks}haskell\n${code}\n${ticks}`;
}

export function nodeTooltip(node: ResultNode): string {
  const parts: string[] = [];
  const r = node.rubric;
  if (r) {
    parts.push(`**risk ${r.risk}** · relevance ${r.relevance} · confidence ${r.confidence}`);
    if (r.reasoning) parts.push(escapeMd(r.reasoning));
  } else {
    parts.push("**not scored**");
  }
  if (node.facts?.detail && node.facts.detail !== r?.reasoning) parts.push(`_${escapeMd(node.facts.detail)}_`);
  if (node.snippet) parts.push(fence(node.snippet));
  if (node.hover) parts.push(`Type (${node.hover_source ?? "index"}):\n\n${fence(node.hover)}`);
  const by: string[] = [];
  if (node.scorer) by.push(`scored by ${node.scorer}`);
  if (node.fallback_reason) by.push(`fallback: ${escapeMd(node.fallback_reason)}`);
  if (node.error) by.push(`error: ${escapeMd(node.error)}`);
  if (by.length) parts.push(by.join(" · "));
  parts.push(escapeMd(node.location));
  return parts.join("\n\n");
}

export function queryTooltip(result: Result): string {
  const parts: string[] = [`**${escapeMd(result.query.query)}**`];
  if (result.target) parts.push(`target: \`${result.target.qualified}\` (${result.target.kind}, ${escapeMd(result.target.location)})`);
  if (result.query.change) parts.push(`change: ${escapeMd(result.query.change)}`);
  if (result.summary?.text) parts.push(escapeMd(result.summary.text));
  const scorer = [`scorer ${result.scorer ?? "?"}`];
  if (result.answeredBy && result.answeredBy !== result.scorer) scorer.push(`answered by ${result.answeredBy}`);
  if (result.why) scorer.push(escapeMd(result.why));
  parts.push(scorer.join(" · "));
  const c = result.coverage;
  if (c) {
    const cov = [`${c.nodes_kept ?? "?"} of ${c.nodes_found ?? "?"} places kept`, `${c.files_indexed ?? "?"} files indexed`];
    if (c.files_with_errors) cov.push(`${c.files_with_errors} with parse errors`);
    if (c.partial) cov.push("**partial answer**");
    parts.push(cov.join(" · "));
  }
  if (result.shadow && result.shadow.state !== "off") {
    parts.push(`shadow (${result.shadow.scorer ?? "haiku"}): ${result.shadow.state}${result.shadow.error ? ` (${escapeMd(result.shadow.error)})` : ""}`);
  }
  if (result.stale) parts.push("_A file changed since this answer: ask again to refresh it._");
  return parts.join("\n\n");
}

function countNodes(groups: RiskGroup[] | FileGroup[]): number {
  let n = 0;
  for (const g of groups) {
    if ("nodes" in g) n += g.nodes.length;
    else n += countNodes(g.files);
  }
  return n;
}

function basename(p: string): string {
  const parts = p.split(/[\\/]/);
  return parts[parts.length - 1] || p;
}

function dirname(p: string): string {
  const i = Math.max(p.lastIndexOf("/"), p.lastIndexOf("\\"));
  return i > 0 ? p.slice(0, i) : "";
}

function fileItem(result: Result, risk: RiskGroup, file: FileGroup, parentId: string): ResultItem {
  const id = `${parentId}|f:${encodeURIComponent(file.path)}`;
  const nodes = file.nodes.map((node, i): ResultItem => ({
    id: `${id}|n:${i}`,
    kind: "node",
    label: nodeLabel(node),
    description: node.line == null ? "line edited away" : `line ${node.line + 1}`,
    tooltip: nodeTooltip(node),
    icon: riskIcon(node.rubric ? node.rubric.risk : risk.risk),
    expanded: false,
    open: node.line == null ? undefined : { uri: node.uri, line: node.line },
    json: node,
    key: result.key,
    children: [],
  }));
  return {
    id,
    kind: "file",
    label: basename(file.path),
    description: [dirname(file.path), `${file.nodes.length}`].filter(Boolean).join(" · "),
    tooltip: escapeMd(file.path),
    resourceUri: file.uri,
    expanded: true,
    json: file,
    key: result.key,
    children: nodes,
  };
}

/** One answered question as a tree. */
export function queryItem(result: Result): ResultItem {
  const id = `q:${result.key}`;
  const risks = result.groups.map((group): ResultItem => {
    const rid = `${id}|r:${group.risk ?? "none"}`;
    const n = countNodes(group.files);
    return {
      id: rid,
      kind: "risk",
      label: isRated(group.risk) ? `risk ${group.risk} · ${riskName(group.risk)}` : riskName(null),
      description: `${n} ${n === 1 ? "place" : "places"}`,
      tooltip: `${n} ${n === 1 ? "place" : "places"} rated ${riskName(group.risk)}`,
      icon: riskIcon(group.risk),
      expanded: isRated(group.risk) && group.risk >= 3,
      json: group,
      key: result.key,
      children: group.files.map((f) => fileItem(result, group, f, rid)),
    };
  });
  const summary = result.summary?.text ?? `${countNodes(result.groups)} places`;
  return {
    id,
    kind: "query",
    label: result.query.query,
    description: result.stale ? `${summary} · stale` : summary,
    tooltip: queryTooltip(result),
    icon: { id: result.stale ? "history" : "search" },
    expanded: true,
    open: result.target ? { uri: result.target.uri, line: result.target.line } : undefined,
    json: result,
    key: result.key,
    children: risks,
  };
}

/** Every answer, newest first. */
export function buildTree(results: readonly Result[]): ResultItem[] {
  return [...results].sort((a, b) => b.key - a.key).map(queryItem);
}

/** Depth-first search by id (to reveal an answer). */
export function findItem(items: readonly ResultItem[], id: string): ResultItem | undefined {
  for (const item of items) {
    if (item.id === id) return item;
    const found = findItem(item.children, id);
    if (found) return found;
  }
  return undefined;
}

/** Node count per risk level over all answers (for tests and the view's message). */
export function nodeCount(results: readonly Result[]): number {
  return results.reduce((n, r) => n + countNodes(r.groups), 0);
}

/** What the view shows of a tree (not the JSON behind it): equal signatures need no redraw. */
export function treeSignature(items: readonly ResultItem[]): string {
  const parts: string[] = [];
  const walk = (item: ResultItem) => {
    parts.push(JSON.stringify([item.id, item.label, item.description, item.tooltip, item.icon, item.open, item.expanded, item.children.length]));
    item.children.forEach(walk);
  };
  items.forEach(walk);
  return parts.join("\n");
}
