//===- AttentionPrologue.h - ops before a decode attention, per block -*- C++ -*-===//
//
// The split decode attention (Attention.cpp) can absorb the small ops that
// compute its query and the new key/value row from an earlier kernel's
// output (the q/k per-head RMSNorm, the partial RoPE, casts, transposes and
// copies of Qwen3.5's attention): every block of the split kernel replays
// them for the whole (small) problem, the buffers they write held in shared
// memory or recomputed where they are read, so that none of them is a
// launch of its own. AttentionPrologue.cpp; docs/cuda-target.md ("Decode
// attention", "Prologue").
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_LIB_TARGET_CUDA_ATTENTIONPROLOGUE_H
#define SINTER_LIB_TARGET_CUDA_ATTENTIONPROLOGUE_H

#include "Kernels.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/MapVector.h"

#include <string>

namespace sinter::cuda {

struct AttentionPrologue {
  /// Every absorbed op, in program order (all erased with the chain).
  llvm::SmallVector<mlir::Operation *> ops;
  /// The absorbed ops the kernel runs, in order (a barrier between two
  /// that share a buffer, after the last).
  llvm::SmallVector<mlir::Operation *> replayed;
  /// Buffers (memref.view roots) the replay keeps in shared memory, with
  /// the index of their workgroup buffer.
  llvm::MapVector<mlir::Value, unsigned> shared;
  /// Buffers recomputed where they are read: root -> its only writer (an
  /// elementwise op over the whole buffer).
  llvm::DenseMap<mlir::Value, mlir::Operation *> inlined;
  /// What the absorbed ops read from outside themselves.
  llvm::SmallVector<mlir::Value> externals;

  /// Whether `buffer` (or the buffer it is a view of) is one the prologue
  /// writes (no longer in global memory).
  bool writes(mlir::Value buffer) const;
  /// The shared-memory buffer types of `shared`, in order.
  llvm::SmallVector<mlir::MemRefType> sharedTypes(mlir::MLIRContext *ctx) const;
};

/// Collects the ops before `chainStart` that compute `consumed` (the
/// buffers the attention reads that are worth absorbing: q, what the
/// folded cache writes read). `kept` are the ops after them that may still
/// read the prologue's buffers (the attention chain, the cache writes, a
/// folded epilogue, last: its kernel still writes its output). Fails with the reason when nothing can be absorbed
/// (`candidate` false) or something would observe the difference.
mlir::FailureOr<AttentionPrologue>
matchAttentionPrologue(mlir::Operation *chainStart,
                       llvm::ArrayRef<mlir::Value> consumed,
                       llvm::ArrayRef<mlir::Operation *> kept,
                       bool &candidate, std::string &why);

/// Emits the replay at the insertion point, inside a launch of `threads`
/// threads (a multiple of 32) whose thread id is `tid`; `buffers` are the
/// workgroup buffers of `p.shared`. A barrier separates an op from the
/// ops since the last one when it reads or writes what they wrote or
/// writes what they read, with the experimental form
/// attention-prologue-fewer-barriers (KernelOptions::Experimental); else
/// after every op. Ends with one.
void emitPrologueReplay(mlir::RewriterBase &rw, mlir::Location loc,
                        const AttentionPrologue &p, mlir::Value tid,
                        int64_t threads, llvm::ArrayRef<mlir::Value> buffers,
                        const KernelOptions &options);

/// Rewrites the loads and stores inside `launch` of the prologue's buffers:
/// to the shared buffers `buffers`, or, for the inlined ones, loads to
/// their writer's body at that element. With no `buffers` (a later kernel)
/// only loads are rewritten, and none may be of a shared one.
mlir::LogicalResult redirectPrologueAccesses(mlir::RewriterBase &rw,
                                             mlir::Operation *launch,
                                             const AttentionPrologue &p,
                                             llvm::ArrayRef<mlir::Value> buffers,
                                             std::string &why);

} // namespace sinter::cuda

#endif // SINTER_LIB_TARGET_CUDA_ATTENTIONPROLOGUE_H
