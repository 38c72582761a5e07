#!/usr/bin/env bash
# Set up the training stack (`scout train`, the `train` extra) and the real inference engine the
# serving tests run (llama-cpp-python, the `engine` extra), on top of scripts/setup.sh.
# Idempotent; pip's caches make a second run on the same machine take seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PIP=(.venv/bin/python -m pip install -q)

# torch must be the CPU build. On these machines pip takes torch 2.13.0+cpu from the local wheel
# folder it is configured with; elsewhere PyPI's torch for Linux is a CUDA build of several GB.
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  "${PIP[@]}" "torch==2.13.0"
fi
"${PIP[@]}" -e ".[test,train]"
if ! .venv/bin/python -c "import torch, sys; sys.exit(torch.version.cuda is not None)"; then
  echo "setup-train: warning: torch is a CUDA build ($(.venv/bin/python -c 'import torch; print(torch.__version__)')); training runs on the CPU anyway" >&2
fi

# llama-cpp-python has no binary wheels on PyPI: it compiles llama.cpp (about 9 minutes on 2
# cores; pip's wheel cache keeps the result for later runs on this machine). GGML_NATIVE=OFF:
# a build for the local CPU reported AMX here and crashed on q8_0 models.
if ! .venv/bin/python -c "import llama_cpp" 2>/dev/null; then
  echo "setup-train: installing llama-cpp-python (compiles unless pip's cache has the wheel)" >&2
  started=$(date +%s)
  CMAKE_ARGS="-DGGML_NATIVE=OFF" nice -n 10 "${PIP[@]}" -e ".[engine]"
  echo "setup-train: llama-cpp-python ready in $(( $(date +%s) - started )) s" >&2
fi
