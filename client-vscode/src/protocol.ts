// The language server's protocol as the client sees it (docs/protocol.md is the contract).
// Type declarations and names only: no logic, no `vscode` import.

/** Server commands (workspace/executeCommand). The client auto-registers these ids from the
 * server's executeCommandProvider: never registerCommand them here. */
export const ServerCommand = {
  ask: "scout.ask",
  scoutAt: "scout.scoutAt",
  showResults: "scout.showResults",
  clearResults: "scout.clearResults",
  selectScorer: "scout.selectScorer",
  toggleShadow: "scout.toggleShadow",
  export: "scout.export",
  agreement: "scout.agreement",
  indexStatus: "scout.indexStatus",
  status: "scout.status",
} as const;
export type ServerCommandId = (typeof ServerCommand)[keyof typeof ServerCommand];

/** Custom methods. */
export const Method = {
  results: "scout/results",
  status: "scout/status",
  hover: "scout/hover",
  resultsChanged: "scout/resultsChanged",
  statusChanged: "scout/statusChanged",
} as const;

export const SCORERS = ["hybrid", "heuristic", "ollama", "haiku"] as const;
export type ScorerName = (typeof SCORERS)[number];

export const EXPORT_FORMATS = ["json", "functiongemma", "messages", "prompt-completion"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface Position {
  line: number;
  character: number;
}

export interface Rubric {
  relevance: number;
  risk: number;
  confidence: number;
  reasoning: string;
}

export interface NodeFacts {
  edge?: string;
  breaks?: boolean;
  silent?: boolean;
  detail?: string;
}

export interface ResultNode {
  location: string;
  path: string;
  uri: string;
  /** 0-based, follows edits; null when the line was edited away. */
  line: number | null;
  hover?: string;
  hover_source?: string;
  snippet?: string;
  rubric?: Rubric | null;
  scorer?: string;
  fallback_reason?: string | null;
  error?: string | null;
  facts?: NodeFacts;
  lens?: string;
}

export interface FileGroup {
  path: string;
  uri: string;
  nodes: ResultNode[];
}

export interface RiskGroup {
  /** 1..5; 0 (or null) for places no scorer rated. */
  risk: number | null;
  files: FileGroup[];
}

export interface Target {
  name: string;
  qualified: string;
  kind: string;
  location: string;
  uri: string;
  line: number;
}

export interface Coverage {
  files_indexed?: number;
  files_with_errors?: number;
  nodes_found?: number;
  nodes_kept?: number;
  skipped?: { path: string; reason: string }[];
  partial?: boolean;
}

export interface Result {
  key: number;
  query: { query: string; tags?: string[]; target?: string; change?: string; budget?: number };
  target?: Target | null;
  summary?: { break?: number; silent?: number; safe?: number; text?: string };
  scorer?: string;
  answeredBy?: string;
  why?: string | null;
  coverage?: Coverage;
  shadow?: { state: "off" | "pending" | "done" | "failed"; scorer?: string; error?: string | null };
  groups: RiskGroup[];
  stale?: boolean;
}

export interface IndexStatus {
  state: "indexing" | "ready" | string;
  files?: number;
  indexed?: number;
  filesWithErrors?: number;
  skipped?: { path: string; reason: string }[];
  revision?: number;
  roots?: string[];
}

export interface Status {
  /** null when no workspace folder is open. */
  scorer: string | null;
  answering?: string;
  why?: string | null;
  ollama?: { host?: string; reachable?: boolean | null; model?: string };
  shadow?: { enabled?: boolean; model?: string; keyPresent?: boolean; error?: string | null };
  database?: string;
  index?: IndexStatus;
}

export interface Candidate {
  qualified: string;
  kind?: string;
  location?: string;
  uri?: string;
  line?: number;
}

/** Every command answer carries a status. */
export interface Answer {
  status: "ok" | "ambiguous" | "not_understood" | "error" | string;
  message?: string;
  // ok
  result?: Result;
  results?: Result[];
  statusInfo?: Status;
  cleared?: number;
  files?: string[];
  examples?: number;
  folder?: string;
  report?: unknown;
  index?: IndexStatus;
  // ambiguous
  name?: string;
  candidates?: Candidate[];
  // not_understood
  understood?: unknown;
  suggestion?: unknown;
}

export interface HoverParams {
  textDocument: { uri: string };
  position: Position;
}

export interface ResultsChangedParams {
  key: number;
  reason: "answer" | "shadow" | "cleared" | "edit" | string;
}
