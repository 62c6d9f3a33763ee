//===- GemvPrologue.h - a GEMV that computes its own activation -*- C++ -*-===//
//
// The decode step's RMSNorm (with the residual add before it) feeds a GEMV:
// instead of a one-block norm kernel and a launch, every GEMV block
// recomputes the normalized row (the row template's register path,
// RowReduction.cpp) into shared memory and reads its activation from there
// (Gemv.cpp); block 0 also stores the group's outputs for later kernels.
// The same for a norm over several rows that the GEMV reads flattened (a
// GatedDeltaNet layer's gated RMSNorm per value head before out_proj).
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_LIB_TARGET_CUDA_GEMVPROLOGUE_H
#define SINTER_LIB_TARGET_CUDA_GEMVPROLOGUE_H

#include "Kernels.h"

#include <functional>

namespace sinter::cuda {

struct GemvPrologue {
  /// The buffer the prologue computes: the GEMV's only activation, one row
  /// (for a group of several rows, the contiguous reshape of their output
  /// that the GEMV reads as its one row: element k of the row is element k
  /// of the rows in row-major order).
  mlir::Value activation;
  /// Buffers the prologue reads from memory (every block) and writes (block
  /// 0): the GEMV must neither write them nor read what it writes.
  llvm::SmallVector<mlir::Value> reads, writes;
  /// Whether it can run with `threads` threads, each keeping vectors of
  /// `vec` elements (the GEMV's vector width); else the reason.
  std::function<bool(int64_t vec, int64_t threads, std::string &why)> fits;
  /// Emits it at the builder's insertion point in the GEMV's launch:
  /// `scratch` is memref<threads/32 x f32> and `staged` memref<K/vec x
  /// vector<vec x activation type>>, both workgroup memory. Block-wide
  /// barriers inside; the caller adds the one after it.
  std::function<void(mlir::RewriterBase &rw, mlir::Value tid, mlir::Value bid,
                     mlir::Value scratch, mlir::Value staged)>
      emit;
};

/// The GEMV of `op` (a contraction the GEMV template takes, M = 1, not
/// gated) with `prologue` computing its activation; replaces `op` (and its
/// init/epilogue as emitGemv does). The prologue's own ops are the caller's
/// to erase. On failure nothing is changed and `why` says why.
mlir::LogicalResult emitGemvWithPrologue(mlir::RewriterBase &rw,
                                         mlir::linalg::LinalgOp op,
                                         const KernelOptions &options,
                                         const GemvPrologue &prologue,
                                         std::string &why);

} // namespace sinter::cuda

#endif // SINTER_LIB_TARGET_CUDA_GEMVPROLOGUE_H
