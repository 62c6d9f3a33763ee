// The experimental kernel forms (not yet run on a GPU, off by default) are
// turned on by name: sinterc --cuda-experimental=NAME,... and the
// form-kernels pass's experimental=NAME,...; an unknown name is an error
// that lists the known ones (docs/cli.md).
// RUN: not sinterc %s --target=cuda --emit=ptx --cuda-experimental=transpose-fold,early-loads 2>&1 | FileCheck %s --check-prefix=SINTERC
// RUN: not sinter-opt %s --sinter-cuda-form-kernels=experimental=attention-early-loads,bogus 2>&1 | FileCheck %s --check-prefix=PASS
// RUN: not sinter-opt %s "--pass-pipeline=builtin.module(func.func(sinter-cuda-form-kernels{experimental=bogus}))" 2>&1 | FileCheck %s --check-prefix=PASS
// RUN: sinter-opt %s "--pass-pipeline=builtin.module(func.func(sinter-cuda-form-kernels{experimental=attention-early-loads,attention-prologue-fewer-barriers,expert-down-deep,scan-hoist-vector,grouped-fold-fill,transpose-fold}))" | FileCheck %s

// SINTERC: sinterc: error: unknown --cuda-experimental 'early-loads' (known: attention-early-loads, attention-prologue-fewer-barriers, expert-down-deep, scan-hoist-vector, grouped-fold-fill, transpose-fold)
// PASS: error: sinter-cuda-form-kernels: unknown experimental kernel form 'bogus' (known: attention-early-loads, attention-prologue-fewer-barriers, expert-down-deep, scan-hoist-vector, grouped-fold-fill, transpose-fold)

// CHECK-LABEL: func.func @f
func.func @f() {
  return
}
