// Which Python runs the language server: the fixed, documented order and its messages.
// Pure: no `vscode` import; probing (a subprocess) lives in launcher.ts.
//
// Order: 1. the `semanticScout.server.interpreter` setting (if set, it must work: no fallback),
// 2. the Python extension's active environment (skipped, with the reason logged, when it is not
// a usable Python 3.11+), 3. `python3` on PATH (`python`, then `py -3` on Windows).

export const MIN_PYTHON = [3, 11] as const;
export const MIN_PYTHON_TEXT = `${MIN_PYTHON[0]}.${MIN_PYTHON[1]}`;

export type Source = "setting" | "python-extension" | "path";

export interface Candidate {
  source: Source;
  command: string;
  args: string[];
}

/** What the probe script reports about an interpreter. */
export interface Probe {
  version: [number, number, number];
  executable: string;
  /** Can it create a virtual environment with pip in it? (Debian needs python3-venv.) */
  venv: boolean;
  /** Version of the `semantic-scout` distribution installed in it, if any. */
  scout: string | null;
  /** Is the `scout` package importable (and so `python -m scout serve` runs)? */
  scoutImportable: boolean;
}

export type ProbeOutcome = { ok: true; probe: Probe } | { ok: false; error: string };

/** Printed as one JSON line by the interpreter under test. Runs on any Python 3. */
export const PROBE_SCRIPT = [
  "import json, sys, importlib.util as u",
  "scout = None",
  "try:",
  "    from importlib.metadata import version",
  "    scout = version('semantic-scout')",
  "except Exception:",
  "    pass",
  "print(json.dumps({'version': list(sys.version_info[:3]), 'executable': sys.executable,",
  "    'venv': u.find_spec('venv') is not None and u.find_spec('ensurepip') is not None,",
  "    'scout': scout, 'scoutImportable': u.find_spec('scout') is not None}))",
].join("\n");

export function parseProbe(stdout: string): ProbeOutcome {
  const line = stdout.trim().split(/\r?\n/).pop() ?? "";
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch {
    return { ok: false, error: `unexpected probe output: ${JSON.stringify(line.slice(0, 200))}` };
  }
  const d = data as Partial<Probe>;
  if (!Array.isArray(d.version) || d.version.length < 2 || typeof d.executable !== "string") {
    return { ok: false, error: `unexpected probe output: ${JSON.stringify(line.slice(0, 200))}` };
  }
  return {
    ok: true,
    probe: {
      version: [d.version[0], d.version[1], d.version[2] ?? 0],
      executable: d.executable,
      venv: d.venv === true,
      scout: typeof d.scout === "string" ? d.scout : null,
      scoutImportable: d.scoutImportable === true,
    },
  };
}

export function versionText(v: readonly number[]): string {
  return v.join(".");
}

export function isSupported(v: readonly number[]): boolean {
  return v[0] > MIN_PYTHON[0] || (v[0] === MIN_PYTHON[0] && v[1] >= MIN_PYTHON[1]);
}

export function describeCandidate(c: Candidate): string {
  const cmd = [c.command, ...c.args].join(" ");
  switch (c.source) {
    case "setting":
      return `${cmd} (setting semanticScout.server.interpreter)`;
    case "python-extension":
      return `${cmd} (the Python extension's active environment)`;
    case "path":
      return `${cmd} (on PATH)`;
  }
}

/** The interpreters to try, in order. `python3`/`python`/`py -3` only when nothing is set. */
export function candidates(opts: { setting?: string; pythonExtension?: string; platform: NodeJS.Platform }): Candidate[] {
  const out: Candidate[] = [];
  if (opts.setting && opts.setting.trim()) {
    return [{ source: "setting", command: opts.setting.trim(), args: [] }];
  }
  if (opts.pythonExtension) out.push({ source: "python-extension", command: opts.pythonExtension, args: [] });
  if (opts.platform === "win32") {
    out.push({ source: "path", command: "python", args: [] });
    out.push({ source: "path", command: "py", args: ["-3"] });
  } else {
    out.push({ source: "path", command: "python3", args: [] });
  }
  return out;
}

export interface Choice {
  candidate: Candidate;
  probe: Probe;
  /** Why earlier candidates were passed over (logged). */
  skipped: string[];
}

export interface NoPython {
  /** What the user reads: what is wrong and how to fix it. */
  message: string;
  skipped: string[];
}

function rejection(c: Candidate, outcome: ProbeOutcome): string | null {
  if (!outcome.ok) return `${describeCandidate(c)}: ${outcome.error}`;
  if (!isSupported(outcome.probe.version)) {
    return `${describeCandidate(c)}: Python ${versionText(outcome.probe.version)} is older than ${MIN_PYTHON_TEXT}`;
  }
  return null;
}

/** The first candidate that is a usable Python 3.11+, or the message to show. A candidate from the
 * setting is never passed over: if it does not work, that is the error. */
export function choose(tried: Array<{ candidate: Candidate; outcome: ProbeOutcome }>): Choice | NoPython {
  const skipped: string[] = [];
  for (const { candidate, outcome } of tried) {
    const why = rejection(candidate, outcome);
    if (why === null && outcome.ok) return { candidate, probe: outcome.probe, skipped };
    skipped.push(why ?? "");
    if (candidate.source === "setting") {
      return { message: settingMessage(candidate, outcome), skipped };
    }
  }
  return { message: noPythonMessage(tried), skipped };
}

export const INSTALL_HINT =
  "Install Python 3.11 or newer (Debian/Ubuntu: `sudo apt-get install python3 python3-venv`; macOS: `brew install python@3.12`; Windows: the python.org installer)";

function settingMessage(c: Candidate, outcome: ProbeOutcome): string {
  if (!outcome.ok) {
    return `cannot run the interpreter set in semanticScout.server.interpreter (${c.command}): ${outcome.error}. Fix the setting, or clear it to use python3.`;
  }
  return `Python ${versionText(outcome.probe.version)} at ${outcome.probe.executable} (semanticScout.server.interpreter) is too old: the language server needs Python ${MIN_PYTHON_TEXT} or newer. Point the setting at a Python ${MIN_PYTHON_TEXT}+ interpreter.`;
}

function noPythonMessage(tried: Array<{ candidate: Candidate; outcome: ProbeOutcome }>): string {
  const old = tried.find((t) => t.outcome.ok && !isSupported(t.outcome.probe.version));
  if (old && old.outcome.ok) {
    return `Python ${versionText(old.outcome.probe.version)} at ${old.outcome.probe.executable} is too old: the language server needs Python ${MIN_PYTHON_TEXT} or newer. ${INSTALL_HINT}, or set semanticScout.server.interpreter to one.`;
  }
  const names = tried.map((t) => [t.candidate.command, ...t.candidate.args].join(" ")).join(", ");
  return `the language server needs Python ${MIN_PYTHON_TEXT} or newer, and none was found (tried ${names}). ${INSTALL_HINT}, or set semanticScout.server.interpreter to one.`;
}

/** When the chosen Python cannot create the extension's virtual environment. */
export function noVenvMessage(p: Probe): string {
  const minor = `${p.version[0]}.${p.version[1]}`;
  return `Python ${versionText(p.version)} at ${p.executable} cannot create virtual environments (its venv/ensurepip module is missing), so Semantic Scout cannot install its language server. On Debian/Ubuntu: \`sudo apt-get install python3-venv\` (or python${minor}-venv). Or install the server yourself (\`pip install semantic-scout\`) and set semanticScout.server.interpreter to that Python.`;
}

/** A virtual environment's interpreter. */
export function venvPython(venvDir: string, platform: NodeJS.Platform): string {
  return platform === "win32" ? `${venvDir}\\Scripts\\python.exe` : `${venvDir}/bin/python`;
}
