//===- Attention.cpp - decode attention kernels ---------------------------===//
//
// See Kernels.h and docs/cuda-target.md ("Decode attention"). The lowering
// of sinter.attention (lib/Conversion/GraphToLinalg/LLMOps.cpp) is a chain
// of generics over the cache: scores = q . k (the kv head is `h floordiv
// G`), the logits ops (mask, causal bias, softcap: elementwise, in place on
// the scores), row max, row sum of exp, probabilities, and p . v. With one
// query (decode) the generic mapping runs each contraction as one thread
// per output looping over the cache or the head dim. This template
// recognizes the bufferized chain and replaces it with:
//
// - when the probabilities are f(x, max) / g(sum) with no rounding (f32
//   attention), the split over the cache length (flash-decoding): a launch
//   over (chunk of keys, kv head, batch) writes each chunk's max, sum and
//   partial output to a workspace global, and the last block of each kv
//   head to finish (an arrival counter) rebuilds the softmax weights of
//   the chunks from the same bodies and combines them. The
//   in-place cache write of the new token before the chain and the
//   transpose + elementwise op after it (the output gate) are folded in
//   where the IR allows, each with a remark either way, and so are the
//   small ops that compute q and the new key/value row (the prologue,
//   AttentionPrologue.h: replayed by every block of the first kernel);
// - otherwise two launches: scores (a warp per key, the G query heads
//   sharing its kv head at once) and softmax . v (blocks of 32 value
//   columns walking the cache in tiles of 256 keys).
//
// The bodies of every generic are cloned (conversions of bf16 inputs, the
// scale, the masked-row rules, the rounding of the probabilities to the
// input type), so only the order of the f32 operations differs from the
// generic path.
//
// This file recognizes the chain's neighbours (the cache writes, the output
// gate, the prologue) and plans the split; the chain matching and shared
// helpers are in AttentionChain.cpp (AttentionChain.h), the split's two
// launches in AttentionSplit.cpp, the two-launch path in
// AttentionScores.cpp.
//
//===----------------------------------------------------------------------===//

#include "AttentionChain.h"
#include "AttentionPrologue.h"
#include "GemmBuffers.h"
#include "Kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace sinter::cuda {
using namespace attention;
namespace {

/// Whether `v` is computed (inside `body`) from block argument `arg`.
bool dependsOn(Value v, BlockArgument arg) {
  SmallVector<Value> work{v};
  llvm::SmallPtrSet<Value, 16> seen;
  while (!work.empty()) {
    Value cur = work.pop_back_val();
    if (!seen.insert(cur).second)
      continue;
    if (cur == arg)
      return true;
    Operation *def = cur.getDefiningOp();
    if (def && def->getBlock() == arg.getOwner())
      llvm::append_range(work, def->getOperands());
  }
  return false;
}

/// The split over the cache recombines per-chunk results through the
/// bodies of the chain: the chunk's weight is probs(m_c, M, L) and the
/// rescaled chunk sum is l_c * f(m_c, M), with f the sum's term. That holds
/// when the probabilities are f(x, m) / g(l): a divf whose dividend does
/// not read the sum and whose divisor reads nothing but the sum, with no
/// rounding in between (a rounded probability cannot be rebuilt from a
/// chunk's partial output).
LogicalResult checkSplittable(Chain &c, std::string &why) {
  for (linalg::GenericOp op : {c.sum, c.probs})
    for (Operation &inner : op.getBlock()->without_terminator())
      if (isa<arith::TruncFOp>(inner)) {
        why = "the probabilities are rounded ('" +
              op->getName().getStringRef().str() + "')";
        return failure();
      }
  // p . v must not round p either (its first operand is the probability).
  for (Operation &inner : c.pv.getBlock()->without_terminator())
    if (isa<arith::TruncFOp>(inner) &&
        dependsOn(inner.getOperand(0), c.pv.getBlock()->getArgument(0))) {
      why = "p . v rounds the probabilities";
      return failure();
    }
  Block *body = c.probs.getBlock();
  auto div = body->getTerminator()->getOperand(0).getDefiningOp<arith::DivFOp>();
  BlockArgument x = body->getArgument(0), m = body->getArgument(1),
                l = body->getArgument(2);
  if (!div || div->getBlock() != body || dependsOn(div.getLhs(), l) ||
      dependsOn(div.getRhs(), x) || dependsOn(div.getRhs(), m)) {
    why = "the probabilities are not f(logit, max) / g(sum)";
    return failure();
  }
  return success();
}

/// Whether `op` (or an op nested in it) names a buffer that may share
/// bytes with `buffer`.
bool touches(Operation *op, Value buffer) {
  bool hit = false;
  op->walk([&](Operation *inner) {
    for (Value v : inner->getOperands())
      if (isa<MemRefType>(v.getType()) && mayOverlap(v, buffer))
        hit = true;
  });
  return hit;
}

/// Whether `op` (or an op nested in it) may write bytes of `buffer`.
bool mayWrite(Operation *op, Value buffer) {
  bool hit = false;
  op->walk([&](Operation *inner) {
    auto iface = dyn_cast<MemoryEffectOpInterface>(inner);
    if (!iface) {
      if (!inner->hasTrait<OpTrait::HasRecursiveMemoryEffects>() &&
          !isMemoryEffectFree(inner))
        hit = true;
      return;
    }
    SmallVector<MemoryEffects::EffectInstance> effects;
    iface.getEffects(effects);
    for (auto &e : effects)
      if (isa<MemoryEffects::Write>(e.getEffect()) &&
          (!e.getValue() || mayOverlap(e.getValue(), buffer)))
        hit = true;
  });
  return hit;
}

/// The write of the new token into `cache` in place (the lowering of the
/// sinter.tensor_scatter before the attention): an all-parallel generic
/// whose only operand is the cache, over its whole shape, yielding a value
/// computed from the old element. It is the last op before the chain that
/// touches the cache, and nothing between writes what its body reads, so
/// the split kernel can apply the body to each element where it reads it
/// (and store the elements it changes): one launch less, and the cache
/// read once.
///
/// With a prologue (AttentionPrologue.h) absorbed, the update reads what
/// the prologue leaves in shared memory at its end: no absorbed op after
/// the update may write a buffer it reads, and the ops left in place are
/// checked against its other reads only. `structural`: only the form of
/// the update is checked (before the prologue is known).
/// Whether an absorbed op (a linalg op or a memref.copy) writes `root`.
bool writesRoot(Operation *op, Value root) {
  if (auto copy = dyn_cast<memref::CopyOp>(op))
    return viewSource(copy.getTarget()) == root;
  auto dps = cast<DestinationStyleOpInterface>(op);
  return llvm::any_of(dps.getDpsInits(),
                      [&](Value v) { return viewSource(v) == root; });
}

linalg::GenericOp foldScatter(Chain &c, Value cache, std::string &why,
                              const AttentionPrologue *pro = nullptr,
                              bool structural = false) {
  Operation *cur = c.scoresFill->getPrevNode();
  SmallVector<Operation *> between;
  for (; cur; cur = cur->getPrevNode()) {
    if (isViewOrPure(cur) && cur->getNumRegions() == 0)
      continue;
    if (touches(cur, cache))
      break;
    between.push_back(cur);
  }
  if (!cur) {
    why = "nothing writes the cache before the attention";
    return nullptr;
  }
  auto op = dyn_cast<linalg::GenericOp>(cur);
  auto type = cast<MemRefType>(cache.getType());
  if (!op || op.getNumDpsInputs() != 0 || op.getNumDpsInits() != 1 ||
      op.getDpsInits()[0] != cache || !allParallel(op) ||
      op.getIndexingMapsArray()[0] !=
          AffineMap::getMultiDimIdentityMap(type.getRank(), op.getContext()) ||
      op.getStaticLoopRanges() != SmallVector<int64_t>(type.getShape()) ||
      !type.getLayout().isIdentity()) {
    why = "the last write of the cache before the attention is not an "
          "in-place elementwise update of it";
    return nullptr;
  }
  BlockArgument old = op.getBlock()->getArgument(0);
  if (!dependsOn(op.getBlock()->getTerminator()->getOperand(0), old)) {
    why = "the cache update does not read the old element";
    return nullptr;
  }
  // What the body reads must still hold the same bytes at the chain.
  SmallVector<Value> reads;
  op.getBlock()->walk([&](memref::LoadOp load) {
    reads.push_back(load.getMemRef());
  });
  for (Operation *mid : between) {
    if (structural)
      break;
    bool absorbed = pro && llvm::is_contained(pro->ops, mid);
    for (Value r : reads) {
      if (pro && pro->writes(r)) {
        if (absorbed && writesRoot(mid, viewSource(r))) {
          why = "'" + mid->getName().getStringRef().str() +
                "' after the cache update writes what the update reads";
          return nullptr;
        }
        continue;
      }
      if (absorbed)
        continue;
      if (mayWrite(mid, r)) {
        why = "'" + mid->getName().getStringRef().str() +
              "' between the cache update and the attention writes what the "
              "update reads";
        return nullptr;
      }
    }
  }
  for (Operation &inner : op.getBlock()->without_terminator())
    if (!isMemoryEffectFree(&inner) && !isa<memref::LoadOp>(inner)) {
      why = "the cache update's body has side effects";
      return nullptr;
    }
  return op;
}

/// The output's transpose [B, Hq, 1, Dv] -> [B, 1, Hq, Dv] and the
/// all-parallel op after it reading it at the same element (the output
/// gate, attn * sigmoid(gate), and its rounding), when nothing else reads
/// the output or its transpose.
LogicalResult foldEpilogue(Chain &c, std::string &why) {
  auto next = [](Operation *op) {
    Operation *n = op->getNextNode();
    while (n && isViewOrPure(n) && n->getNumRegions() == 0)
      n = n->getNextNode();
    return n;
  };
  auto t = dyn_cast_or_null<linalg::TransposeOp>(next(c.pv));
  if (!t || t.getInput() != c.y ||
      t.getPermutation() != ArrayRef<int64_t>{0, 2, 1, 3}) {
    why = "no transpose of the output to [b, 1, h, e] after it";
    return failure();
  }
  Value yt = t.getInit();
  auto gate = dyn_cast_or_null<linalg::GenericOp>(next(t));
  if (!gate || !gate.hasPureBufferSemantics() || !allParallel(gate) ||
      gate.getNumDpsInits() != 1 ||
      !llvm::is_contained(gate.getDpsInputs(), yt) ||
      !llvm::all_of(gate.getIndexingMapsArray(), [](AffineMap m) {
        return m.isIdentity();
      }) ||
      !gate.getBlock()->getArguments().back().use_empty()) {
    why = "no elementwise op on the transposed output";
    return failure();
  }
  for (Operation *user : c.y.getUsers())
    if (user != c.pv.getOperation() && user != c.outFill.getOperation() &&
        user != t.getOperation()) {
      why = "the output is read by '" + user->getName().getStringRef().str() +
            "'";
      return failure();
    }
  for (Operation *user : yt.getUsers())
    if (user != t.getOperation() && user != gate.getOperation()) {
      why = "the transposed output is read by '" +
            user->getName().getStringRef().str() + "'";
      return failure();
    }
  gate.getBlock()->walk([&](Operation *inner) {
    if (!isMemoryEffectFree(inner) && !isa<linalg::YieldOp>(inner))
      why = "the op after the transpose has side effects in its body";
  });
  if (!why.empty())
    return failure();
  if (gate.getStaticLoopRanges() !=
      SmallVector<int64_t>{c.B, 1, c.Hq, c.Dv}) {
    why = "the op after the transpose is not over [b, 1, h, e]";
    return failure();
  }
  c.outT = t;
  c.gate = gate;
  c.z = gate.getDpsInits()[0];
  return success();
}

/// The chunks, the key loads' width and the workspace of a split.
bool planShape(Chain &c, SplitPlan &p, std::string &why) {
  // At most 16 chunks a head where the chunk's logits fit (the last block
  // of a kv head reads G x chunks x Dv partials to combine them), else 32.
  auto chunkFor = [&](int64_t maxSplits) {
    int64_t want = (c.T + maxSplits - 1) / maxSplits;
    return want <= 16 ? int64_t(16) : (want + 31) / 32 * 32;
  };
  p.chunk = chunkFor(16);
  if (c.G * p.chunk + 2 * c.G > 12 * 1024)
    p.chunk = chunkFor(kWarp);
  p.nSplit = (c.T + p.chunk - 1) / p.chunk;
  if (c.G * p.chunk + 2 * c.G > 12 * 1024) {
    why = "the chunk's logits do not fit in shared memory";
    return false;
  }
  // 16-byte key loads: a contiguous head dim of f32/f16/bf16 whose rows
  // start 16-byte aligned.
  auto kType = cast<MemRefType>(c.k.getType());
  int64_t bytes = kType.getElementTypeBitWidth() / 8;
  SmallVector<int64_t> strides;
  int64_t offset = 0;
  if (bytes > 0 && 16 % bytes == 0 && c.D % (16 / bytes) == 0 &&
      knownBaseAlignment(c.k) >= 16 &&
      succeeded(kType.getStridesAndOffset(strides, offset)) &&
      strides.back() == 1 && !ShapedType::isDynamic(offset) &&
      (offset * bytes) % 16 == 0 &&
      llvm::all_of(ArrayRef(strides).drop_back(), [&](int64_t st) {
        return !ShapedType::isDynamic(st) && (st * bytes) % 16 == 0;
      }))
    p.vec = 16 / bytes;
  p.wsFloats = c.B * c.Hkv * p.nSplit * c.G * (c.Dv + 2);
  return true;
}

/// The combine runs in the partial kernel's last block of each kv head
/// (it keeps the chunk weights in the chunk's logits buffer: chunk >=
/// nSplit by planShape). That block would write the output while the
/// blocks of other kv heads still read `reads` (and their chunks of the
/// caches); where the output may share their bytes (the memory plan gives
/// a dead input's bytes to the output), the output waits in the workspace
/// for the last of those blocks.
void planFusedCombine(Chain &c, SplitPlan &p, ArrayRef<Value> reads) {
  Value out = c.gate ? c.z : c.y;
  p.deferOutput =
      llvm::any_of(reads, [&](Value r) { return mayOverlap(out, r); }) ||
      mayOverlap(out, c.k) || mayOverlap(out, c.v);
  if (p.deferOutput) {
    p.outBase = p.wsFloats;
    p.wsFloats += c.B * c.Hq * c.Dv;
  }
  p.notes.push_back(p.deferOutput
                        ? "combine in the last block of each kv head, the "
                          "output stored by the last of them (it may overlap "
                          "what other blocks read)"
                        : "combine in the last block of each kv head");
}

/// The split of the cache: at most 32 chunks a head (the combine reduces
/// them in one warp) of 16 keys or a multiple of 32 (whole rounds of the
/// unrolled key loops); the chunk's logits stay in shared memory.
std::optional<SplitPlan> planSplit(Chain &c, std::string &why) {
  if (failed(checkSplittable(c, why)))
    return std::nullopt;
  SplitPlan p;
  if (!planShape(c, p, why))
    return std::nullopt;

  // What every block reads (q, the caches, the logits ops' inputs): the
  // last block writes the output while blocks of other kv heads may still
  // read them.
  SmallVector<Value> reads{c.q, c.k, c.v};
  for (linalg::GenericOp op : c.logits)
    for (Value in : op.getDpsInputs())
      if (!llvm::is_contained(c.logitBuffers, in))
        reads.push_back(in);
  for (auto [cache, slot, name] :
       {std::make_tuple(c.k, &c.kScatter, "key"),
        std::make_tuple(c.v, &c.vScatter, "value")}) {
    std::string foldWhy;
    linalg::GenericOp scatter = foldScatter(c, cache, foldWhy);
    if (scatter) {
      SmallVector<Value> sources;
      scatter.getBlock()->walk([&](memref::LoadOp load) {
        sources.push_back(load.getMemRef());
      });
      if (llvm::any_of(sources, [&](Value src) {
            return mayOverlap(src, c.k) || mayOverlap(src, c.v);
          })) {
        scatter = nullptr;
        foldWhy = "the update reads a buffer that may overlap a cache";
      } else {
        reads.append(sources);
      }
    }
    *slot = scatter;
    p.notes.push_back(scatter ? std::string(name) + " cache write folded"
                              : std::string(name) + " cache write not "
                                                    "folded: " + foldWhy);
  }
  std::string epiWhy;
  if (succeeded(foldEpilogue(c, epiWhy))) {
    // Each element of the gate's output is written by the thread that
    // reads its inputs there.
    bool ok = true;
    for (Value in : c.gate.getDpsInputs())
      if (in != c.outT.getInit() && mayOverlap(in, c.z))
        ok = false;
    if (!ok) {
      epiWhy = "the output gate's output may overlap its other inputs";
      c.gate = nullptr;
      c.outT = nullptr;
      c.z = nullptr;
    }
  }
  p.notes.push_back(c.gate ? std::string("output transpose and gate folded")
                           : "output epilogue not folded: " + epiWhy);
  planFusedCombine(c, p, reads);
  return p;
}


/// Forgets the folds of a plan that was not taken.
void resetFolds(Chain &c) {
  c.kScatter = c.vScatter = c.gate = nullptr;
  c.outT = nullptr;
  c.z = nullptr;
}

/// The split with the small ops that compute q and the new key/value row
/// absorbed into its first kernel (AttentionPrologue.h). Taken only whole:
/// both cache writes and the output epilogue fold; otherwise (reason in
/// `why`) the plain split is planned instead. `candidate` tells whether
/// there was a prologue to absorb (a refusal worth a remark).
std::optional<SplitPlan> planSplitPrologue(Chain &c, AttentionPrologue &pro,
                                           bool &candidate, std::string &why) {
  candidate = false;
  SplitPlan p;
  if (failed(checkSplittable(c, why)) || !planShape(c, p, why))
    return std::nullopt;
  std::string w;
  linalg::GenericOp kS = foldScatter(c, c.k, w, nullptr, true);
  if (!kS) {
    why = "key cache write: " + w;
    return std::nullopt;
  }
  linalg::GenericOp vS = foldScatter(c, c.v, w, nullptr, true);
  if (!vS) {
    why = "value cache write: " + w;
    return std::nullopt;
  }
  if (failed(foldEpilogue(c, w))) {
    why = "output epilogue: " + w;
    resetFolds(c);
    return std::nullopt;
  }
  SmallVector<Value> consumed{c.q};
  for (linalg::GenericOp scatter : {kS, vS})
    scatter.getBlock()->walk(
        [&](memref::LoadOp load) { consumed.push_back(load.getMemRef()); });
  SmallVector<Operation *> kept = c.ops();
  kept.append({kS, vS, c.outT, c.gate});
  FailureOr<AttentionPrologue> matched =
      matchAttentionPrologue(c.scoresFill, consumed, kept, candidate, why);
  if (failed(matched)) {
    resetFolds(c);
    return std::nullopt;
  }
  pro = std::move(*matched);
  auto fail = [&](const std::string &reason) -> std::optional<SplitPlan> {
    why = reason;
    resetFolds(c);
    return std::nullopt;
  };
  c.kScatter = foldScatter(c, c.k, w, &pro);
  if (!c.kScatter)
    return fail("key cache write: " + w);
  c.vScatter = foldScatter(c, c.v, w, &pro);
  if (!c.vScatter)
    return fail("value cache write: " + w);
  // The kernel writes the caches while other blocks read what the
  // prologue reads (and the updates' other sources).
  auto isCache = [&](Value v) {
    auto a = dyn_cast<BlockArgument>(viewSource(v));
    for (Value cache : {c.k, c.v}) {
      auto ca = dyn_cast<BlockArgument>(cache);
      if (mayOverlap(v, cache) || (a && ca && argumentsMayAlias(a, ca)))
        return true;
    }
    return false;
  };
  SmallVector<Value> reads(pro.externals);
  for (Value v : consumed)
    if (v != c.q && !pro.writes(v))
      reads.push_back(v);
  if (llvm::any_of(reads, isCache))
    return fail("the prologue or a cache update reads a buffer that may be a "
                "cache");
  // The gate's operands the prologue computes go through the workspace.
  for (OpOperand *in : c.gate.getDpsInputOperands()) {
    if (in->get() == c.outT.getInit())
      continue;
    if (!pro.writes(in->get())) {
      reads.push_back(in->get());
      continue;
    }
    auto elt = dyn_cast<FloatType>(
        cast<MemRefType>(in->get().getType()).getElementType());
    if (!elt || elt.getWidth() > 32)
      return fail("an output gate operand the prologue computes is not a "
                  "float of at most 32 bits");
    p.staged.push_back(in->getOperandNumber());
  }
  p.gateBase = p.wsFloats;
  p.wsFloats += p.staged.size() * c.B * c.Hq * c.Dv;
  // The combine writes the gate's output after the split kernel is done:
  // only what the combine reads (the gate's other operands) and the
  // caches must not share its bytes.
  SmallVector<Value> combineReads{c.k, c.v};
  for (OpOperand *in : c.gate.getDpsInputOperands())
    if (in->get() != c.outT.getInit() && !pro.writes(in->get()))
      combineReads.push_back(in->get());
  if (llvm::any_of(combineReads,
                   [&](Value r) { return mayOverlap(c.z, r); }) ||
      isCache(c.z))
    return fail("the output gate's output may overlap what the combine "
                "reads");
  int64_t sharedBytes = (c.G * p.chunk + 2 * c.G) * 4;
  for (MemRefType t : pro.sharedTypes(c.scores.getContext()))
    sharedBytes += t.getNumElements() * t.getElementTypeBitWidth() / 8;
  if (sharedBytes > 48 * 1024)
    return fail("the prologue's and the chunk's shared memory exceed 48 KB");
  int64_t inlined = pro.inlined.size();
  p.notes.push_back(llvm::formatv("prologue of {0} ops absorbed ({1} run in "
                                  "the kernel, {2} buffers recomputed where "
                                  "read, {3} in shared memory, {4} gate "
                                  "operands staged)",
                                  pro.ops.size(), pro.replayed.size(),
                                  inlined, pro.shared.size(),
                                  p.staged.size())
                        .str());
  p.notes.push_back("key cache write folded");
  p.notes.push_back("value cache write folded");
  p.notes.push_back("output transpose and gate folded");
  // The replay's buffers are in shared memory: the output cannot be one
  // (its stores would be redirected there).
  if (pro.writes(c.z))
    return fail("the output gate's output is a buffer the prologue writes");
  p.prologue = &pro;
  SmallVector<Value> blockReads(reads);
  blockReads.append(combineReads);
  for (linalg::GenericOp op : c.logits)
    for (Value in : op.getDpsInputs())
      if (!llvm::is_contained(c.logitBuffers, in))
        blockReads.push_back(in);
  planFusedCombine(c, p, blockReads);
  return p;
}

} // namespace

LogicalResult emitDecodeAttention(RewriterBase &rw, linalg::LinalgOp op,
                                  const KernelOptions &options,
                                  std::string &why) {
  auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
  if (!generic) {
    why = "not a linalg.generic";
    return failure();
  }
  Chain c;
  bool recognized = false;
  if (succeeded(matchScores(generic, c, recognized, why)) &&
      succeeded(matchChain(c, why))) {
    Location loc = op.getLoc();
    std::string splitWhy, proWhy;
    AttentionPrologue pro;
    bool candidate = false;
    std::optional<SplitPlan> plan;
    if (options.attentionPrologue)
      plan = planSplitPrologue(c, pro, candidate, proWhy);
    if (plan) {
      rw.setInsertionPointAfter(c.gate);
      Value ws = workspace(rw, loc, op, rw.getF32Type(), plan->wsFloats,
                           "__sinter_attention_ws");
      plan->counters =
          workspace(rw, loc, op, rw.getI32Type(),
                    plan->counterCount(c.B, c.Hkv), "__sinter_attention_cnt");
      gpu::LaunchOp partial =
          emitSplitPartial(rw, loc, c, ws, plan->chunk, plan->nSplit,
                           plan->vec, *plan, options);
      SmallVector<Value> buffers(
          partial.getWorkgroupAttributions().drop_front(2));
      if (failed(redirectPrologueAccesses(rw, partial, pro, buffers,
                                          proWhy))) {
        rw.eraseOp(partial);
        for (Value global : {ws, plan->counters})
          if (global.use_empty())
            rw.eraseOp(global.getDefiningOp());
        resetFolds(c);
        plan = std::nullopt;
      }
    }
    if (!plan) {
      if (options.remarks && candidate)
        op->emitRemark() << "sinter-cuda-form-kernels: split decode "
                            "attention: prologue not absorbed: "
                         << proWhy;
      pro = AttentionPrologue();
      rw.setInsertionPointAfter(c.pv);
      plan = planSplit(c, splitWhy);
      if (plan && c.gate)
        rw.setInsertionPointAfter(c.gate);
    }
    if (plan && !plan->prologue) {
      Value ws = workspace(rw, loc, op, rw.getF32Type(), plan->wsFloats,
                           "__sinter_attention_ws");
      plan->counters =
          workspace(rw, loc, op, rw.getI32Type(),
                    plan->counterCount(c.B, c.Hkv), "__sinter_attention_cnt");
      emitSplitPartial(rw, loc, c, ws, plan->chunk, plan->nSplit, plan->vec,
                       *plan, options);
    }
    if (plan) {
      if (options.remarks)
        for (const std::string &note : plan->notes)
          op->emitRemark() << "sinter-cuda-form-kernels: split decode "
                              "attention: "
                           << note;
    } else {
      if (options.remarks)
        op->emitRemark() << "sinter-cuda-form-kernels: decode attention not "
                            "split over the cache: "
                         << splitWhy;
      gpu::LaunchOp scores = emitScores(rw, loc, c);
      rw.setInsertionPointAfter(scores);
      emitSoftmaxPV(rw, loc, c);
    }
    SmallVector<Operation *> erase(pro.ops);
    erase.append(c.ops());
    for (Operation *extra : {c.kScatter.getOperation(),
                             c.vScatter.getOperation(), c.outT.getOperation(),
                             c.gate.getOperation()})
      if (extra)
        erase.push_back(extra);
    for (Operation *chainOp : llvm::reverse(erase))
      rw.eraseOp(chainOp);
    return success();
  }
  if (recognized && options.remarks)
    op->emitRemark() << "sinter-cuda-form-kernels: decode attention kernel "
                        "not used: "
                     << why;
  return failure();
}

} // namespace sinter::cuda
