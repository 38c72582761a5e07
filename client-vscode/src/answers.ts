// What to do with a command's answer (docs/protocol.md: every answer has a `status`).
// Pure: no `vscode` import; commands.ts shows the messages and pick lists.

import type { Answer, Candidate, Result } from "./protocol";

export type Outcome =
  | { kind: "ok"; answer: Answer; result?: Result; message?: string }
  | { kind: "ambiguous"; message: string; candidates: Candidate[] }
  | { kind: "not_understood"; message: string; suggestion: string | null }
  | { kind: "error"; message: string };

export function isAnswer(value: unknown): value is Answer {
  return typeof value === "object" && value !== null && typeof (value as Answer).status === "string";
}

export function summaryMessage(result: Result): string {
  const name = result.target?.name ?? result.query.target ?? result.query.query;
  const summary = result.summary?.text ?? "answered";
  let by = "";
  if (result.answeredBy && result.scorer && result.answeredBy !== result.scorer) {
    by = ` (answered by ${result.answeredBy}${result.why ? `: ${result.why}` : ""})`;
  }
  const partial = result.coverage?.partial ? " Partial answer: some files could not be read." : "";
  return `${name}: ${summary}${by}.${partial}`;
}

/** A structured reading the server offers, as a question the user can accept. */
export function suggestionText(suggestion: unknown): string | null {
  if (typeof suggestion === "string") return suggestion.trim() || null;
  if (typeof suggestion === "object" && suggestion !== null) {
    const s = suggestion as Record<string, unknown>;
    for (const key of ["question", "query", "text"]) {
      if (typeof s[key] === "string" && (s[key] as string).trim()) return (s[key] as string).trim();
    }
  }
  return null;
}

export function outcomeOf(value: unknown): Outcome {
  if (!isAnswer(value)) {
    return { kind: "error", message: `the server sent an answer without a status: ${JSON.stringify(value)?.slice(0, 200)}` };
  }
  switch (value.status) {
    case "ok":
      return { kind: "ok", answer: value, result: value.result, message: value.result ? summaryMessage(value.result) : undefined };
    case "ambiguous":
      return {
        kind: "ambiguous",
        message: value.message ?? `"${value.name ?? "the name"}" names more than one symbol: pick one`,
        candidates: value.candidates ?? [],
      };
    case "not_understood":
      return {
        kind: "not_understood",
        message: value.message ?? "the question was not understood",
        suggestion: suggestionText(value.suggestion),
      };
    case "error":
      return { kind: "error", message: value.message ?? "the server reported an error" };
    default:
      return { kind: "error", message: `the server answered with an unknown status ${JSON.stringify(value.status)}` };
  }
}

export interface CandidatePick {
  label: string;
  description?: string;
  detail?: string;
  qualified: string;
}

export function candidatePicks(candidates: readonly Candidate[]): CandidatePick[] {
  return candidates.map((c) => ({
    label: c.qualified,
    description: c.kind,
    detail: c.location,
    qualified: c.qualified,
  }));
}

/** The same command argument, re-asked for one candidate. */
export function withTarget(arg: unknown, qualified: string): Record<string, unknown> {
  const base = typeof arg === "object" && arg !== null ? (arg as Record<string, unknown>) : {};
  return { ...base, target: qualified };
}

/** A code action the server offers at a symbol ("Scout: what breaks if I add a constructor to
 * LLMKind?"), as the palette's pick list shows it. */
export interface ChangePick {
  label: string;
  arg: unknown;
}

/** The server's scout actions among all code actions at a position (HLS offers others). */
export function changePicks(
  actions: ReadonlyArray<{ title: string; command?: { command: string; arguments?: unknown[] } | string }>,
  scoutAtCommand: string,
): ChangePick[] {
  const picks: ChangePick[] = [];
  for (const action of actions) {
    const cmd = action.command;
    if (typeof cmd !== "object" || cmd === null || cmd.command !== scoutAtCommand) continue;
    picks.push({ label: action.title.replace(/^Scout:\s*/i, ""), arg: cmd.arguments?.[0] });
  }
  return picks;
}

export const SCORER_DESCRIPTIONS: Record<string, string> = {
  hybrid: "the local model through Ollama first, the heuristics when it cannot answer",
  heuristic: "rules only: offline, instant, never calls a model",
  ollama: "the local model through Ollama only",
  haiku: "Claude Haiku through the Anthropic API (code leaves the machine)",
};

export const EXPORT_DESCRIPTIONS: Record<string, string> = {
  json: "the binding seed format: one record per (query, node, rubric)",
  functiongemma: "pre-rendered FunctionGemma text, byte-identical to what the scorer sends Ollama",
  messages: "chat messages plus the tool definition",
  "prompt-completion": "prompt and completion pairs",
};

/** A free question prefilled from the word at the cursor, with "change" selected to overwrite. */
export function questionTemplate(word: string | undefined): { value: string; selection?: [number, number] } {
  if (!word) return { value: "" };
  const value = `What breaks if I change ${word}?`;
  const start = value.indexOf("change");
  return { value, selection: [start, start + "change".length] };
}
