//===- KernelCount.h - kernels per forward, weight bytes packed at load -*- C++ -*-===//
//
// "Kernels per forward" is what `sinterc --report` compares before and after
// the fuse phase. It is counted on the graph-level IR (after the graph and
// the fuse phases), on the top-level ops of each function:
//
//   - not counted, constants (any ConstantLike op);
//   - not counted, views and metadata: tensor.expand_shape,
//     tensor.collapse_shape, tensor.reshape, tensor.cast, tensor.bitcast,
//     tensor.extract_slice, tensor.empty and `sinter.split` (its pieces are
//     strided views of the operand that consumers read in place);
//   - not counted, the weight-pack plan: `sinter.pack_weights` and views of
//     constants run once when the weights are loaded, not every forward.
//     The bytes pack_weights ops write are the "bytes of weights moved at
//     load time";
//   - elementwise ops (sinter ops with the Broadcasting trait, the unary
//     math ops, cast, clip, isnan/isinf, and sinter.pad as a producer)
//     connected producer-to-consumer (directly or through views) count as
//     ONE kernel: the elementwise-chain fusion that kernel formation does
//     (and that any GPU backend, e.g. Inductor, does). Without this rule a
//     rewrite into several elementwise ops (the depthwise conv1d as shifted
//     multiply-adds) would look like more kernels though it is one loop;
//   - every other op (linear, matmul, conv, reductions, softmax, norms,
//     transpose, gather, ...) is one kernel.
//
// `ops` is the plain count (every counted op one kernel, no chain rule): what
// the CPU target runs today, one loop nest per op.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_PIPELINES_KERNELCOUNT_H
#define SINTER_PIPELINES_KERNELCOUNT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <string>
#include <utility>

namespace sinter {

struct KernelCount {
  /// Kernels per forward, elementwise chains counted once.
  int64_t kernels = 0;
  /// Ops that run every forward (each counted once; no chain rule).
  int64_t ops = 0;
  /// Weight-pack plan ops (sinter.pack_weights) and the bytes they write.
  int64_t packOps = 0;
  int64_t packBytes = 0;
};

/// Counts the kernels per forward of `module` (see the file comment).
KernelCount countKernels(mlir::ModuleOp module);

/// Kernels per forward of the lowered (tensor or bufferized linalg) IR,
/// after kernel formation (sinter-form-kernels): every linalg op and every
/// memref.copy is one loop nest on the CPU and one launch of the generic
/// CUDA mapping (the CUDA row-reduction template merges further).
int64_t countLoweredKernels(mlir::ModuleOp module);

/// Kernel launches (gpu.launch_func) of the CUDA codegen output grouped by
/// the model layer their op came from: the first name in the launch's
/// location (the ONNX node name, e.g. "/layers.3/mlp/MatMul") that holds
/// `layers.N` (also `layers_N`, `layer.N`, `h.N`, `blocks.N`) gives the key
/// "layers.N"; launches without one count under "other" (embedding,
/// final norm, lm_head). A launch whose location names an earlier layer than
/// one already seen in its function (CSE gives twins of different layers
/// the first one's location) counts in the later layer. Empty when there
/// are no launches.
llvm::SmallVector<std::pair<std::string, int64_t>>
countLaunchesByLayer(mlir::ModuleOp module);

/// Whether `op` is a view or metadata op that launches no kernel.
bool isViewOp(mlir::Operation *op);

/// Whether `op` joins the elementwise chain of its producers and consumers.
bool isElementwiseOp(mlir::Operation *op);

} // namespace sinter

#endif // SINTER_PIPELINES_KERNELCOUNT_H
