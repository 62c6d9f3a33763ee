//===- GemmBuffers.h - where the GEMM template's buffers live ---*- C++ -*-===//
//
// The tensor-core GEMM reads its operands with 16-byte cp.async copies and,
// when it fuses the f32 -> f16/bf16 epilogue, writes the output while other
// blocks still read the operands. Both are only safe when something is known
// about the buffers: their base alignment, and that the written buffer does
// not share bytes with a read one (the memory plan may reuse a dead
// activation's arena bytes for the output). These helpers look through the
// few ops that produce the forward's buffers (function arguments, weight
// globals, memref.view of the arena) and answer conservatively otherwise.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_LIB_TARGET_CUDA_GEMMBUFFERS_H
#define SINTER_LIB_TARGET_CUDA_GEMMBUFFERS_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>

namespace sinter::cuda {

/// The largest power of two (up to 256) that the buffer's base address is
/// known to be a multiple of at run time; 0 when unknown. Function
/// arguments and weights are driver allocations (256-byte aligned);
/// a memref.view adds its constant byte shift; a collapse_shape or
/// expand_shape with an identity layout has its source's.
int64_t knownBaseAlignment(mlir::Value memref);

/// False only when `a` and `b` provably share no byte: distinct function
/// arguments / globals / allocations, or disjoint constant ranges of one
/// arena. (Shared by the GEMM, expert GEMV and decode attention templates.)
bool mayAlias(mlir::Value a, mlir::Value b);

/// mayAlias that also sees through memref.subview, expand_shape and
/// collapse_shape with static layouts (the bytes from a view's first
/// element to its last). Used by the split decode attention.
bool mayOverlap(mlir::Value a, mlir::Value b);

/// The buffer a chain of memref.subview / expand_shape / collapse_shape /
/// reshape / cast is carved from; `v` itself when it is none of those.
/// (The walk of the gated-delta templates' view analysis, GatedDeltaBuffers.)
mlir::Value viewSource(mlir::Value v);

/// mayAlias of the buffers `a` and `b` are carved from (viewSource): whole
/// buffers, not the views' bytes. Not mayOverlap: coarser for subviews of
/// one buffer (any two may alias), but it sees through reshape and cast,
/// which mayOverlap does not. The expert GEMV's check, kept separate so
/// that its fusion decisions stay what they were.
bool mayAliasViewSources(mlir::Value a, mlir::Value b);

/// Whether two distinct function arguments may be one buffer at run time:
/// when they have the same type (state donation passes an input's buffer
/// for the output of that type). Stricter than mayAlias, which takes
/// distinct arguments as distinct buffers; the gated-delta templates write
/// the recurrent state in place and use this rule.
bool argumentsMayAlias(mlir::BlockArgument a, mlir::BlockArgument b);

/// A device buffer of `type` (identity layout) that kernels use as
/// scratch: a constant zero memref.global named `name`, created once per
/// module and listed in the module attribute `sinter.workspaces`, which
/// sinter-bind-weights moves into the forward's arena after the memory
/// plan's bytes (per session; zeroed once by the runtime). The contract:
/// zero when a forward starts; a kernel that needs zeros at entry leaves
/// them zero at exit. No host code observes it. The form-kernels pass runs
/// per function, possibly on several threads: every template's workspace
/// goes through this one lock on the module's symbol table (and attribute).
mlir::Value zeroWorkspace(mlir::RewriterBase &rw, mlir::Location loc,
                          mlir::Operation *anchor, mlir::MemRefType type,
                          llvm::StringRef name);

/// Adds 1 to the arrival counter `counters[at]` (an i32 workspace) and
/// returns the count before (as f32, exact below 2^24): the semaphore by
/// which the last block of a group to finish knows it is last (the split
/// decode attention, the expert GEMV split over its experts). Call it from
/// one thread, between two barriers.
mlir::Value countArrival(mlir::RewriterBase &rw, mlir::Location loc,
                         mlir::Value counters, mlir::Value at);

/// The block's arrival at `counters[at]` once every thread's stores are
/// done: a barrier, thread 0 (`isFirst`) counts (countArrival) into
/// `scratch[scratchIndex]` (workgroup memory), a barrier; returns the count
/// before, loaded by every thread (uniform over the block).
mlir::Value arriveBlock(mlir::RewriterBase &rw, mlir::Location loc,
                        mlir::Value counters, mlir::Value at,
                        mlir::Value isFirst, mlir::Value scratch,
                        mlir::ValueRange scratchIndex);

/// Marks inline asm that a template creates without side effects but that
/// must be neither dropped nor moved (an L2 prefetch, a cluster barrier):
/// the templates that look across launches for memory effects (the
/// gated-delta conv window's) refuse ops of unknown effects, so until every
/// template has run such asm shows none; giveDeferredEffects (run at the end
/// of sinter-cuda-form-kernels) then makes each marked op side-effecting.
inline constexpr llvm::StringLiteral kDeferredEffects =
    "sinter.deferred_effects";

/// Makes every inline asm under `root` marked kDeferredEffects
/// side-effecting and drops the mark.
void giveDeferredEffects(mlir::Operation *root);

/// A barrier over the thread-block cluster (sm_90): every thread of every
/// block of the cluster arrives (release) and waits (acquire), so the
/// shared-memory stores before it are visible to the cluster's loads after
/// it. Every thread of the cluster must reach it; not `.aligned`, since
/// LLVM may duplicate the asm into both arms of a branch that a warp takes
/// divergently. Marked kDeferredEffects.
void clusterBarrier(mlir::RewriterBase &rw, mlir::Location loc);

/// The f32 at element `index` (linear, in elements) of the workgroup buffer
/// `smem` of the cluster's block `rank` (distributed shared memory: mapa,
/// ld.shared::cluster; sm_90). The buffer is the same attribution in every
/// block of the kernel, so its offset is this block's.
mlir::Value loadClusterF32(mlir::RewriterBase &rw, mlir::Location loc,
                           mlir::Value smem, mlir::Value index,
                           mlir::Value rank);

} // namespace sinter::cuda

#endif // SINTER_LIB_TARGET_CUDA_GEMMBUFFERS_H
