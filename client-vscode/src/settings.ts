// VS Code settings -> the server's configuration object (section `semanticScout`, the same
// object as initializationOptions; docs/protocol.md). Pure: no `vscode` import.
//
// Only values the user set (user, workspace or folder settings) are sent. A default is never
// sent, so the server's own precedence still applies below the editor: `.scout/config.toml`,
// then the environment (OLLAMA_HOST, SCOUT_DB), then its defaults.

import { SCORERS } from "./protocol";

/** What `WorkspaceConfiguration.inspect(key)` returns, reduced to what we read. */
export interface Inspected<T = unknown> {
  defaultValue?: T;
  globalValue?: T;
  workspaceValue?: T;
  workspaceFolderValue?: T;
}

export type InspectFn = (key: string) => Inspected | undefined;

type Kind =
  | { type: "string"; path?: boolean }
  | { type: "enum"; values: readonly string[] }
  | { type: "boolean" }
  | { type: "number"; min?: number }
  | { type: "budget" };

/** Every server setting, by its dotted key under `semanticScout`. */
export const SERVER_SETTINGS: ReadonlyArray<{ key: string; kind: Kind }> = [
  { key: "scorer", kind: { type: "enum", values: SCORERS } },
  { key: "ollama.host", kind: { type: "string" } },
  { key: "ollama.model", kind: { type: "string" } },
  { key: "ollama.mode", kind: { type: "enum", values: ["raw", "chat"] } },
  { key: "shadow.enabled", kind: { type: "boolean" } },
  { key: "anthropic.model", kind: { type: "string" } },
  { key: "budget", kind: { type: "budget" } },
  { key: "database", kind: { type: "string", path: true } },
  { key: "timeouts.model", kind: { type: "number", min: 0 } },
  { key: "timeouts.deadline", kind: { type: "number", min: 0 } },
  { key: "timeouts.hover", kind: { type: "number", min: 0 } },
  { key: "log", kind: { type: "boolean" } },
];

/** Settings that concern starting the server, not the server itself: never sent to it. */
export const LAUNCH_SETTINGS = ["server.interpreter", "server.command", "trace.server"] as const;

export const BUDGET_PRESETS = ["low", "medium", "high"] as const;

export interface PathContext {
  home: string;
  workspaceFolder?: string;
}

/** `~` and `${workspaceFolder}`, `${userHome}` in a path setting. */
export function expandPath(value: string, ctx: PathContext): string {
  let out = value.trim();
  if (out === "~" || out.startsWith("~/") || out.startsWith("~\\")) out = ctx.home + out.slice(1);
  out = out.replace(/\$\{userHome\}/g, ctx.home);
  if (ctx.workspaceFolder !== undefined) {
    out = out.replace(/\$\{workspaceFolder\}/g, ctx.workspaceFolder);
  }
  return out;
}

/** The user's own value, most specific scope first; undefined when only the default exists. */
export function explicitValue<T>(inspected: Inspected<T> | undefined): T | undefined {
  if (!inspected) return undefined;
  return inspected.workspaceFolderValue ?? inspected.workspaceValue ?? inspected.globalValue;
}

/** "low" | "medium" | "high" stay strings, a number (or numeric string) becomes an integer. */
export function parseBudget(value: unknown): string | number | undefined {
  if (typeof value === "number") {
    return Number.isInteger(value) && value > 0 ? value : undefined;
  }
  if (typeof value !== "string") return undefined;
  const v = value.trim().toLowerCase();
  if ((BUDGET_PRESETS as readonly string[]).includes(v)) return v;
  if (/^[1-9][0-9]*$/.test(v)) return Number.parseInt(v, 10);
  return undefined;
}

export interface ServerConfig {
  config: Record<string, unknown>;
  /** Values that were set but are invalid: not sent, shown to the user. */
  problems: string[];
}

function setDotted(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split(".");
  let obj = target;
  for (const part of parts.slice(0, -1)) {
    const next = obj[part];
    if (typeof next !== "object" || next === null) obj[part] = {};
    obj = obj[part] as Record<string, unknown>;
  }
  obj[parts[parts.length - 1]] = value;
}

function convert(kind: Kind, value: unknown, ctx: PathContext): { ok: true; value: unknown } | { ok: false; skip?: boolean } {
  switch (kind.type) {
    case "string":
      if (typeof value !== "string") return { ok: false };
      if (value.trim() === "") return { ok: false, skip: true }; // empty means "not set"
      return { ok: true, value: kind.path ? expandPath(value, ctx) : value.trim() };
    case "enum":
      return typeof value === "string" && kind.values.includes(value) ? { ok: true, value } : { ok: false };
    case "boolean":
      return typeof value === "boolean" ? { ok: true, value } : { ok: false };
    case "number":
      return typeof value === "number" && Number.isFinite(value) && value >= (kind.min ?? -Infinity)
        ? { ok: true, value }
        : { ok: false };
    case "budget": {
      const b = parseBudget(value);
      return b === undefined ? { ok: false } : { ok: true, value: b };
    }
  }
}

/** The configuration object sent to the server: only explicitly set, valid values. */
export function serverConfig(inspect: InspectFn, ctx: PathContext): ServerConfig {
  const config: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const { key, kind } of SERVER_SETTINGS) {
    const value = explicitValue(inspect(key));
    if (value === undefined || value === null) continue;
    const converted = convert(kind, value, ctx);
    if (converted.ok) {
      setDotted(config, key, converted.value);
    } else if (!converted.skip) {
      problems.push(`semanticScout.${key}: ${JSON.stringify(value)} is not valid (${describe(kind)}); the server's default applies`);
    }
  }
  return { config, problems };
}

function describe(kind: Kind): string {
  switch (kind.type) {
    case "enum":
      return `one of ${kind.values.join(", ")}`;
    case "budget":
      return "low, medium, high or a positive whole number";
    case "number":
      return kind.min !== undefined ? `a number >= ${kind.min}` : "a number";
    default:
      return `a ${kind.type}`;
  }
}

/** Does a configuration change need a server restart (launch settings) or only a push? */
export function changeEffect(affects: (section: string) => boolean): "restart" | "push" | "none" {
  if (LAUNCH_SETTINGS.some((k) => k !== "trace.server" && affects(`semanticScout.${k}`))) return "restart";
  if (SERVER_SETTINGS.some(({ key }) => affects(`semanticScout.${key}`))) return "push";
  return "none";
}
