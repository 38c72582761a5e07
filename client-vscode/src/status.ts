// The status bar item's text: active scorer, Ollama reachability, shadowing, server state.
// Pure: no `vscode` import.

import type { IndexStatus, Status } from "./protocol";

export type ClientState =
  | { phase: "starting"; detail?: string }
  | { phase: "installing"; detail?: string }
  | { phase: "running"; status?: Status }
  | { phase: "failed"; message: string }
  | { phase: "stopped" };

export interface StatusView {
  text: string;
  /** Markdown. */
  tooltip: string;
  severity: "normal" | "warning" | "error";
}

const USES_OLLAMA = new Set(["ollama", "hybrid"]);

export function ollamaPart(status: Status): string | null {
  if (!status.scorer || !USES_OLLAMA.has(status.scorer)) return null;
  const reachable = status.ollama?.reachable;
  if (reachable === true) return "Ollama $(check)";
  if (reachable === false) return "Ollama $(x)";
  return "Ollama ?";
}

export function shadowPart(status: Status): string {
  return status.shadow?.enabled ? "$(eye) shadow" : "shadow off";
}

export function indexText(index: IndexStatus | undefined): string {
  if (!index) return "index: unknown";
  const files = index.files ?? 0;
  if (index.state === "indexing") return `indexing ${index.indexed ?? 0}/${files} files`;
  const errors = index.filesWithErrors ? `, ${index.filesWithErrors} with parse errors` : "";
  return `${files} files indexed${errors}`;
}

export function statusView(state: ClientState): StatusView {
  switch (state.phase) {
    case "starting":
      return {
        text: "$(sync~spin) Scout: starting",
        tooltip: `Semantic Scout: starting the language server${state.detail ? ` (${state.detail})` : ""}`,
        severity: "normal",
      };
    case "installing":
      return {
        text: "$(sync~spin) Scout: installing",
        tooltip: `Semantic Scout: installing the language server into the extension's storage (first start)${state.detail ? `: ${state.detail}` : ""}`,
        severity: "normal",
      };
    case "failed":
      return {
        text: "$(error) Scout: not running",
        tooltip: `Semantic Scout's language server is not running: ${state.message}\n\nClick for options (Show Server Log, Restart Server).`,
        severity: "error",
      };
    case "stopped":
      return { text: "$(circle-slash) Scout: stopped", tooltip: "Semantic Scout's language server is stopped.", severity: "warning" };
    case "running":
      return runningView(state.status);
  }
}

function runningView(status: Status | undefined): StatusView {
  if (!status) {
    return { text: "$(telescope) Scout", tooltip: "Semantic Scout: running", severity: "normal" };
  }
  if (!status.scorer) {
    return {
      text: "$(telescope) Scout: no folder",
      tooltip: `Semantic Scout: ${status.why ?? "no workspace folder is open"}. Open a Haskell project folder.`,
      severity: "normal",
    };
  }
  const spin = status.index?.state === "indexing" ? "$(sync~spin)" : "$(telescope)";
  const parts = [`${spin} Scout: ${status.scorer}`];
  const ollama = ollamaPart(status);
  if (ollama) parts.push(ollama);
  parts.push(shadowPart(status));

  const lines = [`**Semantic Scout** · scorer **${status.scorer}**`];
  if (status.answering && status.answering !== status.scorer) {
    lines.push(`answering with ${status.answering}${status.why ? `: ${status.why}` : ""}`);
  } else if (status.why) {
    lines.push(status.why);
  }
  if (status.ollama) {
    const reach = status.ollama.reachable === true ? "reachable" : status.ollama.reachable === false ? "unreachable" : "not checked";
    lines.push(`Ollama ${status.ollama.host ?? ""} (model ${status.ollama.model ?? "?"}): ${reach}`);
  }
  if (status.shadow) {
    const key = status.shadow.keyPresent ? "API key set" : "no API key";
    lines.push(`Haiku shadowing ${status.shadow.enabled ? "on" : "off"} (${status.shadow.model ?? "?"}, ${key})`);
  }
  lines.push(indexText(status.index));
  if (status.database) lines.push(`database: ${status.database}`);

  let severity: StatusView["severity"] = "normal";
  if (status.scorer === "ollama" && status.ollama?.reachable === false) severity = "warning";
  if ((status.scorer === "haiku" || status.shadow?.enabled) && status.shadow?.keyPresent === false) severity = "warning";
  return { text: parts.join(" · "), tooltip: lines.join("\n\n"), severity };
}
