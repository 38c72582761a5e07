import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";

import {
  candidates,
  choose,
  isSupported,
  noVenvMessage,
  parseProbe,
  PROBE_SCRIPT,
  venvPython,
  type Candidate,
  type Probe,
  type ProbeOutcome,
} from "../src/interpreter";

function probe(version: [number, number, number], extra: Partial<Probe> = {}): ProbeOutcome {
  return { ok: true, probe: { version, executable: `/usr/bin/python${version[0]}.${version[1]}`, venv: true, scout: null, scoutImportable: false, ...extra } };
}

const setting: Candidate = { source: "setting", command: "/opt/py/bin/python", args: [] };
const pyext: Candidate = { source: "python-extension", command: "/proj/.venv/bin/python", args: [] };
const path3: Candidate = { source: "path", command: "python3", args: [] };

describe("candidates", () => {
  it("a setting is the only candidate", () => {
    assert.deepEqual(candidates({ setting: " /opt/py/bin/python ", pythonExtension: "/x", platform: "linux" }), [setting]);
  });
  it("then the Python extension's environment, then python3", () => {
    assert.deepEqual(candidates({ pythonExtension: "/proj/.venv/bin/python", platform: "linux" }), [pyext, path3]);
    assert.deepEqual(candidates({ platform: "darwin" }), [path3]);
  });
  it("python, then py -3 on Windows", () => {
    assert.deepEqual(candidates({ platform: "win32" }), [
      { source: "path", command: "python", args: [] },
      { source: "path", command: "py", args: ["-3"] },
    ]);
  });
});

describe("choose", () => {
  it("takes the first Python 3.11+", () => {
    const c = choose([{ candidate: path3, outcome: probe([3, 12, 1]) }]);
    assert.ok("candidate" in c);
    assert.equal(c.candidate, path3);
    assert.deepEqual(c.skipped, []);
  });

  it("passes over an old Python extension environment, saying why", () => {
    const c = choose([
      { candidate: pyext, outcome: probe([3, 9, 2]) },
      { candidate: path3, outcome: probe([3, 11, 7]) },
    ]);
    assert.ok("candidate" in c);
    assert.equal(c.candidate, path3);
    assert.equal(c.skipped.length, 1);
    assert.match(c.skipped[0], /Python extension's active environment\): Python 3\.9\.2 is older than 3\.11/);
  });

  it("never falls back from a setting that does not work", () => {
    const missing = choose([{ candidate: setting, outcome: { ok: false, error: "not found" } }]);
    assert.ok("message" in missing);
    assert.match(missing.message, /cannot run the interpreter set in semanticScout\.server\.interpreter \(\/opt\/py\/bin\/python\): not found/);
    const old = choose([{ candidate: setting, outcome: probe([3, 10, 4]) }]);
    assert.ok("message" in old);
    assert.match(old.message, /Python 3\.10\.4 at \/usr\/bin\/python3\.10 \(semanticScout\.server\.interpreter\) is too old/);
  });

  it("says how to fix a missing Python", () => {
    const c = choose([{ candidate: path3, outcome: { ok: false, error: "not found" } }]);
    assert.ok("message" in c);
    assert.match(c.message, /needs Python 3\.11 or newer, and none was found \(tried python3\)/);
    assert.match(c.message, /apt-get install python3 python3-venv/);
    assert.match(c.message, /semanticScout\.server\.interpreter/);
  });

  it("names the version of a Python that is too old", () => {
    const c = choose([{ candidate: path3, outcome: probe([3, 8, 10]) }]);
    assert.ok("message" in c);
    assert.match(c.message, /^Python 3\.8\.10 at \/usr\/bin\/python3\.8 is too old/);
  });
});

describe("probe", () => {
  it("parses the last line of the probe's output", () => {
    const out = 'noise\n{"version": [3, 11, 7], "executable": "/usr/bin/python3", "venv": true, "scout": "0.1.0", "scoutImportable": true}\n';
    assert.deepEqual(parseProbe(out), {
      ok: true,
      probe: { version: [3, 11, 7], executable: "/usr/bin/python3", venv: true, scout: "0.1.0", scoutImportable: true },
    });
    const bad = parseProbe("Python 2.7.18");
    assert.equal(bad.ok, false);
  });

  it("runs on this machine's python3 and reports its version", () => {
    const out = execFileSync("python3", ["-c", PROBE_SCRIPT], { encoding: "utf8" });
    const parsed = parseProbe(out);
    assert.ok(parsed.ok);
    const real = execFileSync("python3", ["-c", "import sys; print('.'.join(map(str, sys.version_info[:3])))"], { encoding: "utf8" }).trim();
    assert.equal(parsed.probe.version.join("."), real);
    assert.equal(typeof parsed.probe.venv, "boolean");
  });
});

describe("misc", () => {
  it("isSupported", () => {
    assert.equal(isSupported([3, 11, 0]), true);
    assert.equal(isSupported([3, 10, 99]), false);
    assert.equal(isSupported([4, 0, 0]), true);
  });
  it("venvPython", () => {
    assert.equal(venvPython("/s/env", "linux"), "/s/env/bin/python");
    assert.equal(venvPython("C:\\s\\env", "win32"), "C:\\s\\env\\Scripts\\python.exe");
  });
  it("noVenvMessage names the Debian package", () => {
    const p = probe([3, 11, 2]);
    assert.ok(p.ok);
    assert.match(noVenvMessage(p.probe), /apt-get install python3-venv` \(or python3\.11-venv\)/);
  });
});
