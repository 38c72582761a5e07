#!/usr/bin/env bash
# Put the language server into the extension: bundled/ gets the `semantic-scout` wheel built
# from this checkout (pure Python), the hash-pinned runtime requirements
# (server-requirements.txt) and manifest.json naming both. On first start the extension creates a
# virtual environment in its own storage and installs exactly these (see src/serverInstall.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(cd .. && pwd)
PYTHON=${PYTHON:-python3}
rm -rf bundled
mkdir -p bundled
PIP_DISABLE_PIP_VERSION_CHECK=1 "$PYTHON" -m pip wheel -q --no-deps -w bundled "$ROOT"
WHEEL=$(cd bundled && ls semantic_scout-*.whl)
cp server-requirements.txt bundled/requirements.txt
"$PYTHON" - "$WHEEL" <<'PY'
import hashlib, json, pathlib, re, sys
wheel = sys.argv[1]
version = re.match(r"semantic_scout-([^-]+)-", wheel).group(1)
b = pathlib.Path("bundled")
sha = {name: hashlib.sha256((b / name).read_bytes()).hexdigest() for name in (wheel, "requirements.txt")}
json.dump({"wheel": wheel, "requirements": "requirements.txt", "version": version, "sha256": sha},
          open(b / "manifest.json", "w"), indent=2)
PY
echo "bundle-server: bundled/$WHEEL ($(du -k "bundled/$WHEEL" | cut -f1) KiB) + requirements.txt"
