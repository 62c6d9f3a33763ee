#!/usr/bin/env bash
# On the GPU machine: bench/qwen35_moe/run.sh [bench.py options]
# (after prepare.sh here; carry bench/qwen35_moe/build). README.md.
cd "$(dirname "$0")"
PY=python3
for p in /opt/torch/.venv/bin/python3 python3; do
  if command -v $p >/dev/null && $p -c 'import numpy, torch' 2>/dev/null; then PY=$p; break; fi
done
OUT="${OUT:-/tmp/qwen35_moe_bench}"; mkdir -p "$OUT"
set -o pipefail
PYTHONUNBUFFERED=1 $PY bench.py --out "$OUT" "$@" 2>&1 | tee "$OUT/bench.log"
