//===- AttentionChain.h - the decode attention's pieces ---------*- C++ -*-===//
//
// What the files of the decode attention template share (Attention.cpp is
// the entry and the split's planning; AttentionChain.cpp recognizes the
// bufferized chain and holds the emission helpers; AttentionScores.cpp the
// two-launch scores / softmax . v path; AttentionSplit.cpp the split
// (flash-decoding) launch with its last-block combine). Private to the
// template;
// docs/cuda-target.md ("Decode attention").
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_LIB_TARGET_CUDA_ATTENTIONCHAIN_H
#define SINTER_LIB_TARGET_CUDA_ATTENTIONCHAIN_H

#include "AttentionPrologue.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"

#include <array>
#include <string>

namespace sinter::cuda::attention {

using mlir::AffineMap;
using mlir::ArrayRef;
using mlir::IRMapping;
using mlir::Location;
using mlir::LogicalResult;
using mlir::MemRefType;
using mlir::OpBuilder;
using mlir::Operation;
using mlir::RewriterBase;
using mlir::SmallVector;
using mlir::StringRef;
using mlir::Type;
using mlir::Value;
namespace gpu = mlir::gpu;
namespace linalg = mlir::linalg;

constexpr int64_t kWarp = 32, kWarps = 8, kThreads = kWarp * kWarps;
/// The split decode attention's blocks (AttentionSplit.cpp): 16 warps. A
/// block's time is a chain of dependent steps (the prologue replay, the
/// chunk's key and value loads, the combine), and twice the threads halve
/// each thread's share of the replay and issue twice the loads at once:
/// bench8 decode 0.8268 -> 0.8234 ms a step on an H100 (twelfth session,
/// docs/benchmarks.md). The two-kernel path keeps kThreads.
constexpr int64_t kSplitWarps = 16, kSplitThreads = kWarp * kSplitWarps;

bool isViewOrPure(Operation *op);

/// The recognized chain (operand roles as in AttentionLowering).
struct Chain {
  linalg::GenericOp scores, max, sum, probs, pv;
  SmallVector<linalg::GenericOp> logits;
  linalg::FillOp scoresFill, maxFill, sumFill, outFill;
  bool maxNum = false; // maxnumf rather than maximumf
  int64_t B = 0, Hq = 0, Hkv = 0, G = 0, D = 0, T = 0, Dv = 0;
  // q, k, v, the output; the scores and each logits op's output (the memory
  // plan may give each its own buffer), the max, the sum, the probabilities.
  Value q, k, v, y, m, l, p;
  SmallVector<Value> logitBuffers;
  // The [B, Hq, 1, T] f32 buffer the kernels pass the logits through.
  Value scratch;
  // Folded into the split kernel where they match (null otherwise): the
  // in-place writes of the new token into the caches (foldScatter), and
  // the output's transpose to [B, 1, Hq, Dv] with the elementwise op after
  // it (the output gate), whose output `z` the kernel then writes.
  linalg::GenericOp kScatter, vScatter, gate;
  linalg::TransposeOp outT;
  Value z;
  Value s() const { return logitBuffers.front(); }
  Value x() const { return logitBuffers.back(); }
  SmallVector<Operation *> ops() const {
    SmallVector<Operation *> all{scoresFill, scores};
    for (linalg::GenericOp op : logits)
      all.push_back(op);
    all.append({maxFill, max, sumFill, sum, probs, outFill, pv});
    return all;
  }
};

bool allParallel(linalg::GenericOp op);

/// The score contraction of an attention: 5 loops (b, h, i, j, d), q at
/// (b, h, i, d), k at (b, h / G, j, d), scores at (b, h, i, j). Fills the
/// shapes; fails with a reason. `recognized` tells whether the op is an
/// attention's score contraction (a refusal worth a remark).
LogicalResult matchScores(linalg::GenericOp op, Chain &c, bool &recognized,
                          std::string &why);

/// The rest of the chain after a recognized score contraction.
LogicalResult matchChain(Chain &c, std::string &why);

/// The indices `map` gives at loop values `ivs` (dims and constants).
SmallVector<Value> indicesOf(OpBuilder &b, Location loc, AffineMap map,
                             ArrayRef<Value> ivs);

/// Clones the body of `op` with its block arguments bound to `args` (null:
/// loaded through the operand's map at `ivs`) and linalg.index to `ivs`;
/// returns the yielded value. Body ops whose results `pre` maps
/// (cloneInvariant) are not cloned again.
Value cloneBody(OpBuilder &b, Location loc, linalg::GenericOp op,
                ArrayRef<Value> args, ArrayRef<Value> ivs,
                const IRMapping *pre = nullptr);

/// Clones at the builder's point, into `pre`, the ops of `op`'s body that
/// depend neither on its block arguments nor on linalg.index: computations
/// and loads (a cache update's position), for cloneBody to reuse. The
/// caller guarantees that the kernel writes nothing those loads read
/// after that point: cloned per element after the kernel's own cache
/// stores, the loads were issued again after each store (LLVM cannot
/// tell the buffers apart), each an L2 round trip in a row.
void cloneInvariant(OpBuilder &b, Location loc, linalg::GenericOp op,
                    IRMapping &pre);

/// Adds `v` across the 32 lanes of a warp (every lane gets the result).
Value warpReduce(OpBuilder &b, Location loc, Value v, bool max, bool maxNum);

/// A launch of `threads` threads on a (x, y, z) grid with the given shared
/// buffers; the insertion point is left at the start of its body.
gpu::LaunchOp createLaunch(RewriterBase &rw, Location loc,
                           std::array<int64_t, 3> grid,
                           ArrayRef<int64_t> sharedFloats, StringRef tag,
                           ArrayRef<MemRefType> extraShared = {},
                           int64_t threads = kThreads);

/// Kernel 1: scores and logits. Warp w of block (chunk, kvh, b) owns keys
/// chunk * 8 * kpw + r * 8 + w (r < kpw).
gpu::LaunchOp emitScores(RewriterBase &rw, Location loc, Chain &c);

/// Kernel 2: max, sum, probabilities and p . v for 32 value columns of the
/// G heads of a kv head.
void emitSoftmaxPV(RewriterBase &rw, Location loc, Chain &c);

struct SplitPlan {
  int64_t chunk = 0, nSplit = 0, vec = 1, wsFloats = 0;
  // What was folded and, if not, why (remarks).
  SmallVector<std::string> notes;
  // The absorbed ops before the attention (null: none), the output gate's
  // operands (operand numbers) they compute, passed through the workspace
  // from `gateBase` on, [operand][b][h][e].
  const AttentionPrologue *prologue = nullptr;
  SmallVector<unsigned> staged;
  int64_t gateBase = 0;
  // The combine is run by the last block of each (batch, kv head) to
  // finish the partial kernel, found by an i32 counter per (batch, kv
  // head) in `counters` (a zero workspace of counterCount() elements),
  // which that block sets back to 0.
  Value counters;
  // With an output that may share bytes with what blocks of other kv
  // heads read: each kv head's combined values go to the workspace at
  // `outBase` ([b][h][e]) and the last of those blocks (the counter after
  // the per-kv-head ones) stores every head's output.
  bool deferOutput = false;
  int64_t outBase = 0;
  int64_t counterCount(int64_t b, int64_t hkv) const {
    return b * hkv + (deferOutput ? 1 : 0);
  }
};

/// A device buffer of `n` elements shared by every split attention of the
/// module (they run one after the other): a constant zero memref.global,
/// which sinter-bind-weights gives a device copy like any embedded weight
/// (the memory plan, and so the arena, is fixed before the templates run).
/// The kernels write it (the chunks' partial results), which no host code
/// can observe. The form-kernels pass runs per function, possibly on
/// several threads: the module's symbol table is only touched under a lock.
Value workspace(RewriterBase &rw, Location loc, Operation *anchor, Type elt,
                int64_t n, StringRef prefix);

/// The split decode attention (flash-decoding), one launch: block
/// (split, kv head, batch) owns `chunk` keys; it forms their logits for the
/// G heads (the key rows read once, in 16-byte vectors where aligned, a
/// few keys of a warp loaded before their use), the chunk's max m_c, the
/// terms f(x, m_c), their sum l_c and the partial output
/// o_c = sum_j f(x_j, m_c) v_j (the chunk's value loads issued together),
/// and writes o_c, m_c and l_c to the workspace.
gpu::LaunchOp emitSplitPartial(RewriterBase &rw, Location loc, Chain &c,
                               Value ws, int64_t chunk, int64_t nSplit,
                               int64_t vec, const SplitPlan &plan,
                               const KernelOptions &options);

/// The end of the partial kernel (`tile`, `stats`: its shared buffers,
/// free by then). Each block counts itself on its (batch, kv head)'s
/// counter (acq_rel, after a barrier); the block that sees nSplit - 1
/// combines the chunks of the G heads (one chunk order: deterministic),
/// writes the output (or the folded epilogue's value; with deferOutput,
/// the last such block writes every head's) and resets the counter, so
/// every launch finds it at 0.
void emitLastBlockCombine(RewriterBase &rw, Location loc, Chain &c, Value ws,
                          int64_t nSplit, const SplitPlan &plan, Value tid,
                          Value kvh, Value bat, Value tile, Value stats);

} // namespace sinter::cuda::attention

#endif // SINTER_LIB_TARGET_CUDA_ATTENTIONCHAIN_H
