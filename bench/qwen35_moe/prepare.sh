#!/usr/bin/env bash
# Here (no GPU): exports and compiles the graphs bench.py runs on the GPU
# machine into bench/qwen35_moe/build/ (git-ignored; a few MB: no weights).
#   bench/qwen35_moe/prepare.sh [--full]   (--full: also time the 40-layer compile)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"; ROOT="$(cd "$HERE/../.." && pwd)"
PY="$ROOT/.venv/bin/python"; SINTERC="${SINTERC:-$ROOT/build/bin/sinterc}"
ARCH="${GPU_ARCH:-sm_90a}"; B="$HERE/build"
ANCHORS="${ANCHORS:-$ROOT/../shared/anchors}"
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
cp "$ANCHORS/fast_torch_decode.py" "$ANCHORS/torch_baseline.py" "$B/anchors/"
if [ "${1:-}" = --full ]; then
  d=$(mktemp -d); export_big full "$d"
  echo "full (40 layers) bf16, weights not read: compile $(compile "$d/qwen35_full_decode_opset27.onnx" "$d/exe" "$d/report.json") s"
  cp "$d/report.json" "$B/full.report.json"; rm -rf "$d"
fi
du -sh "$B"
