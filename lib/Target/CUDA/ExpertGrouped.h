//===- ExpertGrouped.h - the grouped-expert projection's match --*- C++ -*-===//
//
// What ExpertGrouped.cpp recognizes in the lowered sinter.expert_linear
// generic over T > 1 tokens, shared by its two kernels: the scalar one
// (ExpertGrouped.cpp, any element types) and the tensor-core one
// (ExpertGroupedMma.cpp, f16/bf16 x and weights).
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_LIB_TARGET_CUDA_EXPERTGROUPED_H
#define SINTER_LIB_TARGET_CUDA_EXPERTGROUPED_H

#include "Kernels.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace sinter::cuda {

/// out[t, j, n] += body(x[t, (j,) k], W[expert(idx[t, j]), k, n]).
struct ExpertGroupedMatch {
  mutable mlir::linalg::GenericOp op;
  mlir::Value x, ids, out;
  /// The body's load of the stacked expert weights [E, K, N].
  mutable mlir::memref::LoadOp wLoad;
  int64_t T, J, N, K, E;
  /// x has a row per pick [T, J, K] (the down projection), else per token.
  bool xPerPick;
  /// The body ops computing the expert from the routing index, in order.
  llvm::SmallVector<mlir::Operation *> expertOps;
  /// The fill of `out` right before the projection (null if the op was not
  /// reached from one). A kernel that stores every routed out[t, j, n]
  /// exactly once may start its sums from the fill's value and erase it.
  mutable mlir::linalg::FillOp fill;

  /// The expert of routing index `index` (the body's own expression).
  mlir::Value expertOf(mlir::OpBuilder &b, mlir::Value index) const;
};

/// Fills the shared `list` (i32 [T * J]) with the picks p = t * J + j whose
/// expert is `e`, and the shared `count` (i32 [1]) with their number: every
/// one of `threads` threads (thread id `tid`) scans a strided share of the
/// index array and appends through a shared atomic counter (so the list
/// order varies from run to run). Ends on a barrier.
void emitPickList(mlir::OpBuilder &b, mlir::Location loc,
                  const ExpertGroupedMatch &m, mlir::Value tid,
                  int64_t threads, mlir::Value e, mlir::Value list,
                  mlir::Value count);

/// The tensor-core kernel (ExpertGroupedMma.cpp); refuses, with `why` and
/// the IR untouched, shapes and types it cannot take.
mlir::LogicalResult emitExpertGroupedMma(mlir::RewriterBase &rw,
                                         const ExpertGroupedMatch &m,
                                         const KernelOptions &options,
                                         std::string &why);

} // namespace sinter::cuda

#endif // SINTER_LIB_TARGET_CUDA_EXPERTGROUPED_H
