// The experimental kernel forms (measured without a gain or not measured yet,
// off by default) are turned on by name: sinterc --cuda-experimental=NAME,...
// form-kernels pass's experimental=NAME,...; an unknown name is an error
// that lists the known ones (docs/cli.md). grouped-fold-fill and
// transpose-fold, measured on a GPU, are no longer forms but the only
// behaviour: their names are unknown now; attention-prologue-prefetch
// (measured with a gain, 2026-11-27) is the default, turned off with the
// pass's attention-prologue-prefetch=0.
// RUN: not sinterc %s --target=cuda --emit=ptx --cuda-experimental=attention-prologue-prefetch 2>&1 | FileCheck %s --check-prefix=DEFAULT
// DEFAULT: sinterc: error: unknown --cuda-experimental 'attention-prologue-prefetch' (known: attention-early-loads, attention-prologue-fewer-barriers, expert-down-deep, expert-cluster-combine, scan-hoist-vector)
// RUN: not sinterc %s --target=cuda --emit=ptx --cuda-experimental=scan-hoist-vector,early-loads 2>&1 | FileCheck %s --check-prefix=SINTERC
// RUN: not sinterc %s --target=cuda --emit=ptx --cuda-experimental=grouped-fold-fill 2>&1 | FileCheck %s --check-prefix=GONE
// RUN: not sinter-opt %s --sinter-cuda-form-kernels=experimental=transpose-fold 2>&1 | FileCheck %s --check-prefix=GONE-PASS
// RUN: not sinter-opt %s --sinter-cuda-form-kernels=experimental=attention-early-loads,bogus 2>&1 | FileCheck %s --check-prefix=PASS
// RUN: not sinter-opt %s "--pass-pipeline=builtin.module(func.func(sinter-cuda-form-kernels{experimental=bogus}))" 2>&1 | FileCheck %s --check-prefix=PASS
// RUN: sinter-opt %s "--pass-pipeline=builtin.module(func.func(sinter-cuda-form-kernels{experimental=attention-early-loads,attention-prologue-fewer-barriers,expert-down-deep,expert-cluster-combine,scan-hoist-vector}))" | FileCheck %s

// SINTERC: sinterc: error: unknown --cuda-experimental 'early-loads' (known: attention-early-loads, attention-prologue-fewer-barriers, expert-down-deep, expert-cluster-combine, scan-hoist-vector)
// PASS: error: sinter-cuda-form-kernels: unknown experimental kernel form 'bogus' (known: attention-early-loads, attention-prologue-fewer-barriers, expert-down-deep, expert-cluster-combine, scan-hoist-vector)
// GONE: sinterc: error: unknown --cuda-experimental 'grouped-fold-fill' (known: attention-early-loads, attention-prologue-fewer-barriers, expert-down-deep, expert-cluster-combine, scan-hoist-vector)
// GONE-PASS: error: sinter-cuda-form-kernels: unknown experimental kernel form 'transpose-fold' (known: attention-early-loads, attention-prologue-fewer-barriers, expert-down-deep, expert-cluster-combine, scan-hoist-vector)

// CHECK-LABEL: func.func @f
func.func @f() {
  return
}
