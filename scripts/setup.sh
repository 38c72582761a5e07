#!/usr/bin/env bash
# Set up everything Semantic Scout needs on a fresh Debian machine (idempotent):
# GHC from Debian (for the compiler oracle and its tests), a virtualenv with the pinned
# Python dependencies, and the project installed in it.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v ghc >/dev/null 2>&1 || ! command -v cabal >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing GHC and cabal from Debian (apt-get install ghc cabal-install)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends ghc cabal-install >/dev/null
  else
    echo "setup: ghc not found and cannot apt-get install it here; GHC tests will be skipped" >&2
  fi
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"
