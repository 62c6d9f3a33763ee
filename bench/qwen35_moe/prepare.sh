#!/usr/bin/env bash
# Here (no GPU): exports and compiles the graphs bench.py runs on the GPU
# machine into bench/qwen35_moe/build/ (git-ignored; about 37 MB, 44 with
# --full: no weights).
#   bench/qwen35_moe/prepare.sh [--full] [--variant NAME=FLAGS ...]
#   (--full: also the 40-layer decode executable, run by bench.py --full
#   with --random-weights; --variant: also build/NAME, the bench8 decode
#   graph compiled with the extra sinterc FLAGS (space-separated), for
#   bench.py --variants bench8,NAME: an A/B in the same run)
# BUILD=DIR writes DIR instead of bench/qwen35_moe/build.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"; ROOT="$(cd "$HERE/../.." && pwd)"
PY="$ROOT/.venv/bin/python"; SINTERC="${SINTERC:-$ROOT/build/bin/sinterc}"
ARCH="${GPU_ARCH:-sm_90a}"; B="$(mkdir -p "${BUILD:-$HERE/build}" && cd "${BUILD:-$HERE/build}" && pwd)"
ANCHORS="${ANCHORS:-$ROOT/../shared/anchors}"
FULL=0; VARIANTS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --full) FULL=1 ;;
    --variant) [ $# -ge 2 ] || { echo "prepare.sh: --variant needs NAME=FLAGS" >&2; exit 2; }
               case "$2" in *=*) VARIANTS+=("$2") ;; *) echo "prepare.sh: --variant $2: not NAME=FLAGS" >&2; exit 2 ;; esac
               shift ;;
    *) echo "prepare.sh: unknown argument '$1' (--full, --variant NAME=FLAGS)" >&2; exit 2 ;;
  esac
  shift
done
rm -rf "$B"; mkdir -p "$B/anchors"
cd "$ROOT/python"
export_big() {  # config dir [args]: graph + layout + small.npz + sparse weights.bin
  local cfg=$1 dir=$2; shift 2
  "$PY" -m sinter.models.qwen35.bench_weights export --config "$cfg" -o "$dir" "$@" >/dev/null
}
compile() {     # onnx exe report -> prints wall seconds
  local t0=$(date +%s.%N)
  "$SINTERC" "$1" --target=cuda --gpu-arch="$ARCH" -o "$2" --report="$3"
  echo "$(date +%s.%N) - $t0" | bc
}
# tiny, f32, weights embedded
"$PY" -m sinter.models.qwen35.export --config tiny -o "$B/tiny_f32_src" >/dev/null
echo "tiny f32: $(compile "$B/tiny_f32_src/qwen35_tiny_decode_opset27.onnx" "$B/qwen35_tiny_f32" "$B/tiny_f32.report.json") s"
rm -rf "$B/tiny_f32_src"
for c in tiny:tiny_bf16 bench8:bench8; do
  cfg=${c%%:*}; d="$B/${c##*:}"
  export_big "$cfg" "$d"
  s=$(compile "$d/qwen35_${cfg}_decode_opset27.onnx" "$d/qwen35_${c##*:}" "$d/report.json")
  echo "$cfg bf16 (external weights, not read): compile $s s"
  echo "{\"config\": \"$cfg\", \"compile_s\": $s}" > "$d/compile.json"
  if [ "$cfg" = bench8 ]; then
    for v in "${VARIANTS[@]}"; do   # NAME=FLAGS: bench8's files, compiled with FLAGS
      name=${v%%=*}; flags=${v#*=}; vd="$B/$name"; mkdir -p "$vd"
      cp "$d/qwen35_bench8_decode_opset27.onnx" "$d/layout.json" "$d/small.npz" "$d/compile.json" "$vd/"
      # shellcheck disable=SC2086 # FLAGS are split on spaces on purpose
      "$SINTERC" "$d/qwen35_bench8_decode_opset27.onnx" --target=cuda --gpu-arch="$ARCH" $flags \
        -o "$vd/qwen35_bench8" --report="$vd/report.json"
      echo "bench8 variant $name ($flags): compiled"
    done
  fi
  rm -f "$d/weights.bin"   # regenerated on the GPU machine (bench_weights fill)
done
# bench8 prefill, 512 tokens from empty state (same weight layout as the
# decode graph: bench.py links its weights.bin)
d="$B/bench8_prefill512"; export_big bench8 "$d" --prefill 512
if s=$(compile "$d/qwen35_bench8_prefill512_opset27.onnx" "$d/qwen35_bench8_prefill" "$d/report.json" 2>"$d/compile.log"); then
  echo "bench8 prefill 512: compile $s s"
else
  echo "bench8 prefill 512: the compile failed (bench.py skips prefill): $(grep -m1 error "$d/compile.log")"
  rm -rf "$d"
fi
rm -f "$d/weights.bin"
# bench8 generation (bench.py's generate row): the prefill 512 and decode
# graphs in one executable (sinterc --generate-driver). Both are exported
# into one folder so that the driver loads their common weights once; on
# the GPU it reads bench8's weights.bin (--weights: the KV cache is state,
# not weights, so the layout is bench8's). Their KV cache holds 1024
# positions: bench8's 512 cannot take a 512-token prompt and 32 tokens
# more. Only the executable and its report stay (about 5 MB).
d="$B/bench8_generate"; g=$(mktemp -d)
"$PY" -c "import dataclasses, sys
from sinter.models.qwen35 import bench_weights
from sinter.models.qwen35.configs import BENCH8
cfg = dataclasses.replace(BENCH8, max_len=1024)
for seq in (1, 512):
    bench_weights.do_export(cfg, sys.argv[1], seq=seq)" "$g"
mkdir -p "$d"; t0=$(date +%s.%N)
if "$SINTERC" "$g/qwen35_bench8_prefill512_opset27.onnx" "$g/qwen35_bench8_decode_opset27.onnx" \
     --generate-driver --target=cuda --gpu-arch="$ARCH" -o "$d/qwen35_bench8_generate" \
     --report="$d/report.json" 2>"$d/compile.log"; then
  s=$(echo "$(date +%s.%N) - $t0" | bc)
  echo "bench8 generation (prefill 512 + decode): compile $s s, executable $(du -h "$d/qwen35_bench8_generate" | cut -f1)"
  echo "{\"config\": \"bench8\", \"compile_s\": $s}" > "$d/compile.json"
else
  echo "bench8 generation: the compile failed (bench.py skips generate): $(grep -m1 error "$d/compile.log")"
  rm -rf "$d"
fi
rm -rf "$g"
cp "$ANCHORS/fast_torch_decode.py" "$ANCHORS/torch_baseline.py" "$B/anchors/"
# The --random-weights check of the CUDA fill kernel (bench.py random_check):
# Y = X + W, Z = B with W, B external; the weights file is deleted.
d="$B/random_check"
"$PY" -c "import sys; sys.path.insert(0, '$HERE'); import random_weights as r; r.check_model('$d')"
"$SINTERC" "$d/rw.onnx" --target=cuda --gpu-arch="$ARCH" -o "$d/rw_cuda"
"$SINTERC" "$d/rw.onnx" --target=cuda --gpu-arch="$ARCH" --compile-to=codegen -o "$d/codegen.mlir"
"$PY" -c "import sys, json; sys.path.insert(0, '$HERE'); import random_weights as r; json.dump(r.weight_names(open('$d/codegen.mlir').read()), open('$d/weights.json', 'w'))"
rm -f "$d/rw.bin" "$d/codegen.mlir"
if [ "$FULL" = 1 ]; then
  # 40 layers: only the executable, its report and the weights' size go to
  # the GPU machine (the weights are made there: --random-weights).
  d=$(mktemp -d); export_big full "$d"; f="$B/full"; mkdir -p "$f"
  s=$(compile "$d/qwen35_full_decode_opset27.onnx" "$f/qwen35_full" "$f/report.json")
  echo "full (40 layers) bf16, weights not read: compile $s s, executable $(du -h "$f/qwen35_full" | cut -f1)"
  echo "{\"config\": \"full\", \"compile_s\": $s, \"weights_bytes\": $(stat -c %s "$d/weights.bin")}" > "$f/compile.json"
  rm -rf "$d"
fi
du -sh "$B"
