//===- Attention.cpp - decode attention as two kernels --------------------===//
//
// See Kernels.h and docs/cuda-target.md ("Decode attention"). The lowering
// of sinter.attention (lib/Conversion/GraphToLinalg/LLMOps.cpp) is a chain
// of generics over the cache: scores = q . k (the kv head is `h floordiv
// G`), the logits ops (mask, causal bias, softcap: elementwise, in place on
// the scores), row max, row sum of exp, probabilities, and p . v. With one
// query (decode) the generic mapping runs each contraction as one thread
// per output looping over the cache or the head dim (16 blocks of
// latency-bound loops at Qwen3.5's shapes). This template recognizes the
// bufferized chain and replaces it with two launches:
//
// 1. scores: blocks of (cache chunk, kv head, batch); a warp per key reads
//    the key row once (lanes over the head dim, coalesced) and forms the
//    dot products of all G query heads sharing that kv head, reduced with
//    shuffles; the logits ops' bodies are applied and the logit stored.
// 2. softmax . v: blocks of (32 value columns, kv head, batch); each warp
//    computes the max and sum of a head's logits (L2-resident), then the
//    block walks the cache in tiles of 256 keys: probabilities into shared
//    memory, then each warp accumulates 32 keys x 32 columns for the G
//    heads, and the warps' partials are added through shared memory.
//
// The bodies of every generic are cloned (conversions of bf16 inputs, the
// scale, the masked-row rules, the rounding of the probabilities to the
// input type), so only the order of the f32 additions differs from the
// generic path. The split of the second kernel is over the value columns,
// not the cache: a split over the cache would need a workspace for partial
// outputs (heads x chunks x Dv floats) and the memory plan has already run;
// the logits buffer the chain already owns (heads x cache) is all the
// scratch it needs.
//
//===----------------------------------------------------------------------===//

#include "GemmBuffers.h"
#include "Kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace sinter::cuda {
namespace {

constexpr int64_t kWarp = 32, kWarps = 8, kThreads = kWarp * kWarps;
/// Query heads per kv head the kernels keep in registers and shared memory.
constexpr int64_t kMaxGroup = 16;

std::string str(int64_t v) { return std::to_string(v); }

bool isViewOrPure(Operation *op) {
  return isMemoryEffectFree(op) ||
         isa<memref::ViewOp, memref::SubViewOp, memref::ExpandShapeOp,
             memref::CollapseShapeOp, memref::GetGlobalOp,
             memref::ReinterpretCastOp, memref::CastOp>(op);
}

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

AffineMap map(MLIRContext *ctx, unsigned n, ArrayRef<AffineExpr> e) {
  return AffineMap::get(n, 0, e, ctx);
}

/// The kv head of a q head: d1 (one q head per kv head) or d1 floordiv G.
std::optional<int64_t> groupOf(AffineExpr e) {
  if (auto d = dyn_cast<AffineDimExpr>(e))
    return d.getPosition() == 1 ? std::optional<int64_t>(1) : std::nullopt;
  auto bin = dyn_cast<AffineBinaryOpExpr>(e);
  if (!bin || bin.getKind() != AffineExprKind::FloorDiv)
    return std::nullopt;
  auto d = dyn_cast<AffineDimExpr>(bin.getLHS());
  auto c = dyn_cast<AffineConstantExpr>(bin.getRHS());
  if (!d || d.getPosition() != 1 || !c || c.getValue() <= 0)
    return std::nullopt;
  return c.getValue();
}

/// `out + f(ins)` with the accumulator used only there: partial sums of the
/// body from 0 add up to the whole.
bool isSumBody(linalg::GenericOp op) {
  Block *body = op.getBlock();
  BlockArgument acc = body->getArguments().back();
  auto add =
      body->getTerminator()->getOperand(0).getDefiningOp<arith::AddFOp>();
  return add && add->getBlock() == body && acc.hasOneUse() &&
         (add.getLhs() == acc || add.getRhs() == acc) &&
         add.getLhs() != add.getRhs();
}

bool allParallel(linalg::GenericOp op) {
  return op.getNumLoops() == op.getNumParallelLoops();
}

bool f32Buffer(Value v) {
  return cast<MemRefType>(v.getType()).getElementType().isF32();
}

/// The score contraction of an attention: 5 loops (b, h, i, j, d), q at
/// (b, h, i, d), k at (b, h / G, j, d), scores at (b, h, i, j). Fills the
/// shapes; fails with a reason. `recognized` tells whether the op is an
/// attention's score contraction (a refusal worth a remark).
LogicalResult matchScores(linalg::GenericOp op, Chain &c, bool &recognized,
                          std::string &why) {
  MLIRContext *ctx = op.getContext();
  if (!op.hasPureBufferSemantics() || op.getNumLoops() != 5 ||
      op.getNumReductionLoops() != 1 ||
      op.getIteratorTypesArray()[4] != utils::IteratorType::reduction ||
      op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1) {
    why = "not an attention score contraction (5 loops, the last a "
          "reduction, 2 inputs)";
    return failure();
  }
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  auto maps = op.getIndexingMapsArray();
  if (maps[0] != map(ctx, 5, {d(0), d(1), d(2), d(4)}) ||
      maps[2] != map(ctx, 5, {d(0), d(1), d(2), d(3)}) ||
      maps[1].getNumResults() != 4 || maps[1].getResult(0) != d(0) ||
      maps[1].getResult(2) != d(3) || maps[1].getResult(3) != d(4) ||
      !groupOf(maps[1].getResult(1))) {
    why = "indexing maps are not attention scores (q[b,h,i,d] k[b,h/G,j,d] "
          "-> s[b,h,i,j])";
    return failure();
  }
  SmallVector<int64_t> r = op.getStaticLoopRanges();
  if (llvm::any_of(r, ShapedType::isDynamic)) {
    why = "dynamic loop ranges";
    return failure();
  }
  c.scores = op;
  c.G = *groupOf(maps[1].getResult(1));
  c.B = r[0];
  c.Hq = r[1];
  c.T = r[3];
  c.D = r[4];
  c.q = op.getDpsInputs()[0];
  c.k = op.getDpsInputs()[1];
  c.logitBuffers = {op.getDpsInits()[0]};
  c.Hkv = cast<MemRefType>(c.k.getType()).getDimSize(1);
  recognized = true;
  if (r[2] != 1) {
    why = "query length " + str(r[2]) +
          " > 1 (prefill): left to the generic mapping";
    return failure();
  }
  return success();
}

/// The rest of the chain after a recognized score contraction.
LogicalResult matchChain(Chain &c, std::string &why) {
  MLIRContext *ctx = c.scores.getContext();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  AffineMap id4 = AffineMap::getMultiDimIdentityMap(4, ctx);
  AffineMap row = map(ctx, 4, {d(0), d(1), d(2)});
  SmallVector<int64_t> sRanges{c.B, c.Hq, 1, c.T};

  if (c.Hq % c.G || c.Hq / c.G != c.Hkv) {
    why = "q heads " + str(c.Hq) + " are not G=" + str(c.G) + " x kv heads " +
          str(c.Hkv);
    return failure();
  }
  if (c.G > kMaxGroup) {
    why =
        str(c.G) + " query heads per kv head (at most " + str(kMaxGroup) + ")";
    return failure();
  }
  if (!f32Buffer(c.s()) || !isSumBody(c.scores)) {
    why = "scores are not an f32 sum of products";
    return failure();
  }
  // The fill of the scores right before the contraction.
  Operation *prev = c.scores->getPrevNode();
  while (prev && isViewOrPure(prev))
    prev = prev->getPrevNode();
  c.scoresFill = dyn_cast_or_null<linalg::FillOp>(prev);
  if (!c.scoresFill || c.scoresFill.getOutputs()[0] != c.s()) {
    why = "the scores are not initialized by a fill right before them";
    return failure();
  }

  // Walk forward: logits ops, then max, sum, probabilities, p . v, with the
  // fills of their outputs anywhere before them.
  llvm::DenseMap<Value, linalg::FillOp> fills;
  auto takeFill = [&](Value buffer, linalg::FillOp &into) {
    auto it = fills.find(buffer);
    if (it == fills.end())
      return false;
    into = it->second;
    fills.erase(it);
    return true;
  };
  enum Stage { Logits, Max, Sum, Probs, PV, Done } stage = Logits;
  for (Operation *cur = c.scores->getNextNode(); cur && stage != Done;
       cur = cur->getNextNode()) {
    if (isViewOrPure(cur))
      continue;
    if (auto fill = dyn_cast<linalg::FillOp>(cur)) {
      if (!fill.hasPureBufferSemantics())
        break;
      fills[fill.getOutputs()[0]] = fill;
      continue;
    }
    auto op = dyn_cast<linalg::GenericOp>(cur);
    if (!op || !op.hasPureBufferSemantics() || op.getNumDpsInits() != 1) {
      why = "'" + cur->getName().getStringRef().str() +
            "' inside the attention chain";
      return failure();
    }
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    auto maps = op.getIndexingMapsArray();
    Value out = op.getDpsInits()[0];
    if (stage == Logits) {
      // Elementwise over the logits so far (read at the same element),
      // into a buffer of their shape (the same one, or a new one).
      bool chained = allParallel(op) && ranges == sRanges &&
                     maps.back() == id4 && f32Buffer(out) &&
                     llvm::is_contained(op.getDpsInputs(), c.x());
      for (OpOperand *in : op.getDpsInputOperands())
        if ((in->get() == c.x() && op.getMatchingIndexingMap(in) != id4) ||
            (in->get() != c.x() &&
             llvm::is_contained(c.logitBuffers, in->get())))
          chained = false;
      if (chained) {
        for (OpOperand *in : op.getDpsInputOperands())
          if (in->get() != c.x() &&
              !op.getMatchingIndexingMap(in).isProjectedPermutation(true)) {
            why = "a logits operand with an indexing map that is not a "
                  "projected permutation";
            return failure();
          }
        if (out != c.x() && !op.getBlock()->getArguments().back().use_empty()) {
          why = "a logits op reading its own output";
          return failure();
        }
        c.logits.push_back(op);
        if (out != c.x())
          c.logitBuffers.push_back(out);
        continue;
      }
      stage = Max;
    }
    if (stage == Max) {
      Block *body = op.getBlock();
      Operation *comb = body->getTerminator()->getOperand(0).getDefiningOp();
      bool ok = op.getNumDpsInputs() == 1 && op.getDpsInputs()[0] == c.x() &&
                maps[0] == id4 && maps[1] == row && ranges == sRanges &&
                op.getNumReductionLoops() == 1 && f32Buffer(out) && comb &&
                isa<arith::MaximumFOp, arith::MaxNumFOp>(comb) &&
                comb->getBlock() == body &&
                ((comb->getOperand(0) == body->getArgument(0) &&
                  comb->getOperand(1) == body->getArgument(1)) ||
                 (comb->getOperand(1) == body->getArgument(0) &&
                  comb->getOperand(0) == body->getArgument(1)));
      if (!ok || !takeFill(out, c.maxFill)) {
        why = "no f32 row max of the logits initialized by a fill after them";
        return failure();
      }
      c.max = op;
      c.m = out;
      c.maxNum = isa<arith::MaxNumFOp>(comb);
      stage = Sum;
      continue;
    }
    if (stage == Sum) {
      bool ok = op.getNumDpsInputs() == 2 && op.getDpsInputs()[0] == c.x() &&
                op.getDpsInputs()[1] == c.m && maps[0] == id4 &&
                maps[1] == row && maps[2] == row && ranges == sRanges &&
                op.getNumReductionLoops() == 1 && f32Buffer(out) &&
                isSumBody(op);
      if (!ok || !takeFill(out, c.sumFill)) {
        why = "no f32 row sum of exp(logits - max) initialized by a fill "
              "after the max";
        return failure();
      }
      c.sum = op;
      c.l = out;
      stage = Probs;
      continue;
    }
    if (stage == Probs) {
      bool ok =
          allParallel(op) && op.getNumDpsInputs() == 3 &&
          op.getDpsInputs()[0] == c.x() && op.getDpsInputs()[1] == c.m &&
          op.getDpsInputs()[2] == c.l && maps[0] == id4 && maps[1] == row &&
          maps[2] == row && maps[3] == id4 && ranges == sRanges &&
          f32Buffer(out) &&
          (out == c.x() || op.getBlock()->getArguments().back().use_empty());
      if (!ok) {
        why = "no probabilities (logits, max, sum) after the row sum";
        return failure();
      }
      c.probs = op;
      c.p = out;
      stage = PV;
      continue;
    }
    // stage == PV
    if (op.getNumLoops() != 5 || op.getNumReductionLoops() != 1 ||
        op.getIteratorTypesArray()[4] != utils::IteratorType::reduction ||
        op.getNumDpsInputs() != 2 || op.getDpsInputs()[0] != c.p ||
        maps[0] != map(ctx, 5, {d(0), d(1), d(2), d(4)}) ||
        maps[2] != map(ctx, 5, {d(0), d(1), d(2), d(3)}) ||
        maps[1].getNumResults() != 4 || maps[1].getResult(0) != d(0) ||
        groupOf(maps[1].getResult(1)) != c.G || maps[1].getResult(2) != d(4) ||
        maps[1].getResult(3) != d(3) || ranges[4] != c.T || !f32Buffer(out) ||
        !isSumBody(op) || !takeFill(out, c.outFill)) {
      why = "no f32 p . v (p[b,h,i,j] v[b,h/G,j,e]) initialized by a fill "
            "after the probabilities";
      return failure();
    }
    c.pv = op;
    c.v = op.getDpsInputs()[1];
    c.y = out;
    c.Dv = ranges[3];
    stage = Done;
  }
  if (stage != Done) {
    why = "the chain ends before p . v";
    return failure();
  }
  if (!fills.empty()) {
    why = "a fill of another buffer inside the attention chain";
    return failure();
  }
  // The kernels keep the max, the sum and the probabilities in registers
  // and shared memory and pass the logits through one buffer: nothing else
  // may read the chain's buffers.
  SmallVector<Operation *> ops = c.ops();
  llvm::SmallPtrSet<Operation *, 16> members(ops.begin(), ops.end());
  SmallVector<Value> internal(c.logitBuffers);
  internal.append({c.m, c.l, c.p});
  for (Value buffer : internal)
    for (Operation *user : buffer.getUsers())
      if (!members.contains(user)) {
        why = "an intermediate buffer of the chain is read by '" +
              user->getName().getStringRef().str() + "'";
        return failure();
      }
  // The logits buffer: written by the first kernel while it reads q, k and
  // the logits ops' inputs, read by the second while it reads v and writes
  // the output, so disjoint from all of them (the plan may have put a
  // later logits buffer where q was).
  SmallVector<Value> others{c.q, c.k, c.v, c.y};
  for (linalg::GenericOp op : c.logits)
    for (Value in : op.getDpsInputs())
      if (!llvm::is_contained(c.logitBuffers, in))
        others.push_back(in);
  SmallVector<Value> candidates(c.logitBuffers);
  candidates.push_back(c.p);
  for (Value candidate : candidates) {
    if (llvm::none_of(others,
                      [&](Value o) { return mayAlias(candidate, o); })) {
      c.scratch = candidate;
      return success();
    }
  }
  why = "no logits buffer is disjoint from q, k, v, the mask and the output";
  return failure();
}

/// The indices `map` gives at loop values `ivs` (dims and constants).
SmallVector<Value> indicesOf(OpBuilder &b, Location loc, AffineMap map,
                             ArrayRef<Value> ivs) {
  SmallVector<Value> idx;
  for (AffineExpr e : map.getResults()) {
    if (auto d = dyn_cast<AffineDimExpr>(e))
      idx.push_back(ivs[d.getPosition()]);
    else if (auto c = dyn_cast<AffineConstantExpr>(e))
      idx.push_back(arith::ConstantIndexOp::create(b, loc, c.getValue()));
    else // the k/v head: ivs[1] floordiv G, passed as ivs.back()
      idx.push_back(ivs.back());
  }
  return idx;
}

/// Clones the body of `op` with its block arguments bound to `args` (null:
/// loaded through the operand's map at `ivs`) and linalg.index to `ivs`;
/// returns the yielded value.
Value cloneBody(OpBuilder &b, Location loc, linalg::GenericOp op,
                ArrayRef<Value> args, ArrayRef<Value> ivs) {
  Block *body = op.getBlock();
  IRMapping mapping;
  for (OpOperand &operand : op->getOpOperands()) {
    BlockArgument arg = op.getMatchingBlockArgument(&operand);
    Value bound = args[operand.getOperandNumber()];
    if (!bound && !arg.use_empty())
      bound = memref::LoadOp::create(
          b, loc, operand.get(),
          indicesOf(b, loc, op.getMatchingIndexingMap(&operand), ivs));
    if (bound)
      mapping.map(arg, bound);
  }
  for (Operation &inner : body->without_terminator()) {
    if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
      mapping.map(index.getResult(), ivs[index.getDim()]);
      continue;
    }
    b.clone(inner, mapping);
  }
  return mapping.lookupOrDefault(body->getTerminator()->getOperand(0));
}

/// Adds `v` across the 32 lanes of a warp (every lane gets the result).
Value warpReduce(OpBuilder &b, Location loc, Value v, bool max, bool maxNum) {
  for (int32_t offset = 16; offset >= 1; offset /= 2) {
    Value o =
        gpu::ShuffleOp::create(b, loc, v, offset, kWarp, gpu::ShuffleMode::XOR)
            .getShuffleResult();
    if (!max)
      v = arith::AddFOp::create(b, loc, v, o);
    else if (maxNum)
      v = arith::MaxNumFOp::create(b, loc, v, o);
    else
      v = arith::MaximumFOp::create(b, loc, v, o);
  }
  return v;
}

/// A launch of kThreads threads on a (x, y, z) grid with the given shared
/// buffers; the insertion point is left at the start of its body.
gpu::LaunchOp createLaunch(RewriterBase &rw, Location loc,
                           std::array<int64_t, 3> grid,
                           ArrayRef<int64_t> sharedFloats, StringRef tag) {
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(rw, loc, v);
  };
  SmallVector<Type> shared;
  for (int64_t n : sharedFloats)
    shared.push_back(
        MemRefType::get({n}, rw.getF32Type(), MemRefLayoutAttrInterface{},
                        gpu::AddressSpaceAttr::get(
                            rw.getContext(), gpu::AddressSpace::Workgroup)));
  Value one = idx(1);
  auto launch = gpu::LaunchOp::create(
      rw, loc, idx(grid[0]), idx(grid[1]), idx(grid[2]), idx(kThreads), one,
      one, /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
      /*asyncDependencies=*/{}, shared);
  launch->setAttr("sinter.kernel", rw.getStringAttr(tag));
  Block &body = launch.getBody().front();
  rw.setInsertionPointToStart(&body);
  gpu::TerminatorOp::create(rw, loc);
  rw.setInsertionPointToStart(&body);
  return launch;
}

/// Kernel 1: scores and logits. Warp w of block (chunk, kvh, b) owns keys
/// chunk * 8 * kpw + r * 8 + w (r < kpw).
gpu::LaunchOp emitScores(RewriterBase &rw, Location loc, Chain &c) {
  int64_t kpw = 1;
  auto chunks = [&](int64_t n) {
    return (c.T + kWarps * n - 1) / (kWarps * n);
  };
  // More keys per warp only while the grid stays above two waves of an
  // H100 (132 SMs): fewer, longer blocks re-read the queries less.
  while (kpw < 4 && chunks(kpw * 2) * c.Hkv * c.B >= 2 * 132)
    kpw *= 2;
  int64_t nChunks = chunks(kpw);
  gpu::LaunchOp launch =
      createLaunch(rw, loc, {nChunks, c.Hkv, c.B}, {},
                   llvm::formatv("attention_scores heads={0}/{1} d={2} t={3} "
                                 "keys_per_warp={4} grid={5}x{1}x{6}",
                                 c.Hq, c.Hkv, c.D, c.T, kpw, nChunks, c.B)
                       .str());
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(rw, loc, v);
  };
  Value tid = launch.getThreadIds().x;
  Value warp = arith::DivUIOp::create(rw, loc, tid, idx(kWarp));
  Value lane = arith::RemUIOp::create(rw, loc, tid, idx(kWarp));
  Value chunk = launch.getBlockIds().x, kvh = launch.getBlockIds().y,
        bat = launch.getBlockIds().z;
  Value zeroIdx = idx(0);
  Value base = arith::MulIOp::create(rw, loc, chunk, idx(kWarps * kpw));
  SmallVector<Value> keys, clamped, heads;
  for (int64_t r = 0; r < kpw; ++r) {
    Value j = arith::AddIOp::create(
        rw, loc, base, arith::AddIOp::create(rw, loc, warp, idx(r * kWarps)));
    keys.push_back(j);
    // Keys past the cache read the last one; their logits are not stored.
    clamped.push_back(arith::MinUIOp::create(rw, loc, j, idx(c.T - 1)));
  }
  for (int64_t g = 0; g < c.G; ++g)
    heads.push_back(arith::AddIOp::create(
        rw, loc, arith::MulIOp::create(rw, loc, kvh, idx(c.G)), idx(g)));

  Value zero = arith::ConstantOp::create(rw, loc, rw.getF32FloatAttr(0));
  SmallVector<Value> init(kpw * c.G, zero);
  auto loop = scf::ForOp::create(rw, loc, lane, idx(c.D), idx(kWarp), init);
  {
    OpBuilder::InsertionGuard guard(rw);
    rw.setInsertionPointToStart(loop.getBody());
    Value dd = loop.getInductionVar();
    SmallVector<Value> qs;
    for (int64_t g = 0; g < c.G; ++g) {
      SmallVector<Value> ivs{bat, heads[g], zeroIdx, zeroIdx, dd, kvh};
      qs.push_back(memref::LoadOp::create(
          rw, loc, c.q,
          indicesOf(rw, loc, c.scores.getIndexingMapsArray()[0], ivs)));
    }
    SmallVector<Value> next;
    for (int64_t r = 0; r < kpw; ++r) {
      SmallVector<Value> ivs{bat, heads[0], zeroIdx, clamped[r], dd, kvh};
      Value kv = memref::LoadOp::create(
          rw, loc, c.k,
          indicesOf(rw, loc, c.scores.getIndexingMapsArray()[1], ivs));
      for (int64_t g = 0; g < c.G; ++g) {
        SmallVector<Value> gIvs{bat, heads[g], zeroIdx, clamped[r], dd, kvh};
        next.push_back(
            cloneBody(rw, loc, c.scores,
                      {qs[g], kv, loop.getRegionIterArg(r * c.G + g)}, gIvs));
      }
    }
    scf::YieldOp::create(rw, loc, next);
  }
  Value initS = c.scoresFill.value();
  for (int64_t r = 0; r < kpw; ++r) {
    Value inCache = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult,
                                          keys[r], idx(c.T));
    for (int64_t g = 0; g < c.G; ++g) {
      Value total =
          warpReduce(rw, loc, loop.getResult(r * c.G + g), false, false);
      // Each (key, head) is finished by one lane.
      Value writer = arith::AndIOp::create(
          rw, loc, inCache,
          arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq, lane,
                                idx((r * c.G + g) % kWarp)));
      auto ifOp = scf::IfOp::create(rw, loc, writer, false);
      OpBuilder::InsertionGuard guard(rw);
      rw.setInsertionPointToStart(ifOp.thenBlock());
      Value s = arith::AddFOp::create(rw, loc, initS, total);
      SmallVector<Value> ivs{bat, heads[g], zeroIdx, keys[r], kvh};
      for (linalg::GenericOp op : c.logits) {
        SmallVector<Value> args(op->getNumOperands());
        for (OpOperand &operand : op->getOpOperands())
          if (llvm::is_contained(c.logitBuffers, operand.get()))
            args[operand.getOperandNumber()] = s;
        s = cloneBody(rw, loc, op, args, ivs);
      }
      memref::StoreOp::create(rw, loc, s, c.scratch,
                              ValueRange{bat, heads[g], zeroIdx, keys[r]});
    }
  }
  return launch;
}

/// Kernel 2: max, sum, probabilities and p . v for 32 value columns of the
/// G heads of a kv head.
void emitSoftmaxPV(RewriterBase &rw, Location loc, Chain &c) {
  int64_t colBlocks = (c.Dv + kWarp - 1) / kWarp;
  int64_t G = c.G;
  // Shared: the probabilities of a tile [G][256], the warps' partial
  // outputs [8][G][32], the max and the sum of each head [2G].
  gpu::LaunchOp launch = createLaunch(
      rw, loc, {colBlocks, c.Hkv, c.B},
      {G * kThreads, kWarps * G * kWarp, 2 * G},
      llvm::formatv("attention_softmax_pv heads={0}/{1} t={2} dv={3} "
                    "tile={4} grid={5}x{1}x{6}",
                    c.Hq, c.Hkv, c.T, c.Dv, kThreads, colBlocks, c.B)
          .str());
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(rw, loc, v);
  };
  Value probsTile = launch.getWorkgroupAttributions()[0];
  Value partials = launch.getWorkgroupAttributions()[1];
  Value stats = launch.getWorkgroupAttributions()[2];
  Value tid = launch.getThreadIds().x;
  Value warp = arith::DivUIOp::create(rw, loc, tid, idx(kWarp));
  Value lane = arith::RemUIOp::create(rw, loc, tid, idx(kWarp));
  Value colBlock = launch.getBlockIds().x, kvh = launch.getBlockIds().y,
        bat = launch.getBlockIds().z;
  Value zeroIdx = idx(0);
  Value col = arith::AddIOp::create(
      rw, loc, arith::MulIOp::create(rw, loc, colBlock, idx(kWarp)), lane);
  Value colC = arith::MinUIOp::create(rw, loc, col, idx(c.Dv - 1));
  SmallVector<Value> heads;
  for (int64_t g = 0; g < G; ++g)
    heads.push_back(arith::AddIOp::create(
        rw, loc, arith::MulIOp::create(rw, loc, kvh, idx(G)), idx(g)));
  Value zero = arith::ConstantOp::create(rw, loc, rw.getF32FloatAttr(0));
  Value negInf = arith::ConstantOp::create(
      rw, loc, rw.getF32FloatAttr(-std::numeric_limits<float>::infinity()));
  auto loadS = [&](Value h, Value j) {
    return memref::LoadOp::create(rw, loc, c.scratch,
                                  ValueRange{bat, h, zeroIdx, j})
        .getResult();
  };

  // Max and sum of head g's logits by warp g % 8.
  for (int64_t g = 0; g < G; ++g) {
    Value mine = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq, warp,
                                       idx(g % kWarps));
    auto ifOp = scf::IfOp::create(rw, loc, mine, false);
    OpBuilder::InsertionGuard guard(rw);
    rw.setInsertionPointToStart(ifOp.thenBlock());
    auto maxLoop =
        scf::ForOp::create(rw, loc, lane, idx(c.T), idx(kWarp), negInf);
    {
      OpBuilder::InsertionGuard g2(rw);
      rw.setInsertionPointToStart(maxLoop.getBody());
      SmallVector<Value> ivs{bat, heads[g], zeroIdx, maxLoop.getInductionVar(),
                             kvh};
      Value next = cloneBody(rw, loc, c.max,
                             {loadS(heads[g], maxLoop.getInductionVar()),
                              maxLoop.getRegionIterArg(0)},
                             ivs);
      scf::YieldOp::create(rw, loc, next);
    }
    Value mx = warpReduce(rw, loc, maxLoop.getResult(0), true, c.maxNum);
    Value fillM = c.maxFill.value();
    mx = c.maxNum ? arith::MaxNumFOp::create(rw, loc, fillM, mx).getResult()
                  : arith::MaximumFOp::create(rw, loc, fillM, mx).getResult();
    auto sumLoop =
        scf::ForOp::create(rw, loc, lane, idx(c.T), idx(kWarp), zero);
    {
      OpBuilder::InsertionGuard g2(rw);
      rw.setInsertionPointToStart(sumLoop.getBody());
      Value j = sumLoop.getInductionVar();
      SmallVector<Value> ivs{bat, heads[g], zeroIdx, j, kvh};
      Value next =
          cloneBody(rw, loc, c.sum,
                    {loadS(heads[g], j), mx, sumLoop.getRegionIterArg(0)}, ivs);
      scf::YieldOp::create(rw, loc, next);
    }
    Value sm = warpReduce(rw, loc, sumLoop.getResult(0), false, false);
    sm = arith::AddFOp::create(rw, loc, c.sumFill.value(), sm);
    Value first =
        arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq, lane, zeroIdx);
    auto store = scf::IfOp::create(rw, loc, first, false);
    rw.setInsertionPointToStart(store.thenBlock());
    memref::StoreOp::create(rw, loc, mx, stats, idx(g));
    memref::StoreOp::create(rw, loc, sm, stats, idx(G + g));
  }
  gpu::BarrierOp::create(rw, loc);
  SmallVector<Value> mxs, sums;
  for (int64_t g = 0; g < G; ++g) {
    mxs.push_back(memref::LoadOp::create(rw, loc, stats, idx(g)));
    sums.push_back(memref::LoadOp::create(rw, loc, stats, idx(G + g)));
  }

  // The cache in tiles of 256 keys.
  SmallVector<Value> init(G, zero);
  auto tiles =
      scf::ForOp::create(rw, loc, zeroIdx, idx(c.T), idx(kThreads), init);
  {
    OpBuilder::InsertionGuard guard(rw);
    rw.setInsertionPointToStart(tiles.getBody());
    Value j0 = tiles.getInductionVar();
    // Probabilities of key j0 + tid (0 past the cache).
    Value j = arith::AddIOp::create(rw, loc, j0, tid);
    Value inCache =
        arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, j, idx(c.T));
    Value jc = arith::MinUIOp::create(rw, loc, j, idx(c.T - 1));
    for (int64_t g = 0; g < G; ++g) {
      SmallVector<Value> ivs{bat, heads[g], zeroIdx, jc, kvh};
      Value s = loadS(heads[g], jc);
      Value p = cloneBody(rw, loc, c.probs, {s, mxs[g], sums[g], s}, ivs);
      p = arith::SelectOp::create(rw, loc, inCache, p, zero);
      memref::StoreOp::create(
          rw, loc, p, probsTile,
          ValueRange{arith::AddIOp::create(rw, loc, tid, idx(g * kThreads))});
    }
    gpu::BarrierOp::create(rw, loc);
    // Warp w: keys j0 + 32 w + jj of the tile (those inside the cache).
    Value warpBase = arith::MulIOp::create(rw, loc, warp, idx(kWarp));
    Value first = arith::AddIOp::create(rw, loc, j0, warpBase);
    Value left = arith::SubIOp::create(
        rw, loc, idx(c.T), arith::MinUIOp::create(rw, loc, first, idx(c.T)));
    Value count = arith::MinUIOp::create(rw, loc, left, idx(kWarp));
    auto keys = scf::ForOp::create(rw, loc, zeroIdx, count, idx(1),
                                   tiles.getRegionIterArgs());
    {
      OpBuilder::InsertionGuard g2(rw);
      rw.setInsertionPointToStart(keys.getBody());
      Value jl =
          arith::AddIOp::create(rw, loc, warpBase, keys.getInductionVar());
      Value key = arith::AddIOp::create(rw, loc, j0, jl);
      SmallVector<Value> ivs{bat, heads[0], zeroIdx, colC, key, kvh};
      Value v = memref::LoadOp::create(
          rw, loc, c.v,
          indicesOf(rw, loc, c.pv.getIndexingMapsArray()[1], ivs));
      SmallVector<Value> next;
      for (int64_t g = 0; g < G; ++g) {
        Value p = memref::LoadOp::create(
            rw, loc, probsTile,
            ValueRange{arith::AddIOp::create(rw, loc, jl, idx(g * kThreads))});
        SmallVector<Value> gIvs{bat, heads[g], zeroIdx, colC, key, kvh};
        next.push_back(
            cloneBody(rw, loc, c.pv, {p, v, keys.getRegionIterArg(g)}, gIvs));
      }
      scf::YieldOp::create(rw, loc, next);
    }
    // The next tile overwrites the probabilities.
    gpu::BarrierOp::create(rw, loc);
    scf::YieldOp::create(rw, loc, keys.getResults());
  }
  // The warps' partial outputs, added by thread (g, column).
  for (int64_t g = 0; g < G; ++g) {
    Value at = arith::AddIOp::create(
        rw, loc, arith::MulIOp::create(rw, loc, warp, idx(G * kWarp)),
        arith::AddIOp::create(rw, loc, lane, idx(g * kWarp)));
    memref::StoreOp::create(rw, loc, tiles.getResult(g), partials,
                            ValueRange{at});
  }
  gpu::BarrierOp::create(rw, loc);
  auto outs = scf::ForOp::create(rw, loc, tid, idx(G * kWarp), idx(kThreads));
  OpBuilder::InsertionGuard guard(rw);
  rw.setInsertionPointToStart(outs.getBody());
  Value i = outs.getInductionVar();
  Value g = arith::DivUIOp::create(rw, loc, i, idx(kWarp));
  Value e = arith::AddIOp::create(
      rw, loc, arith::MulIOp::create(rw, loc, colBlock, idx(kWarp)),
      arith::RemUIOp::create(rw, loc, i, idx(kWarp)));
  Value inRange =
      arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, e, idx(c.Dv));
  auto ifOp = scf::IfOp::create(rw, loc, inRange, false);
  rw.setInsertionPointToStart(ifOp.thenBlock());
  Value total = memref::LoadOp::create(rw, loc, partials, ValueRange{i});
  for (int64_t w = 1; w < kWarps; ++w)
    total = arith::AddFOp::create(
        rw, loc, total,
        memref::LoadOp::create(
            rw, loc, partials,
            ValueRange{arith::AddIOp::create(rw, loc, i, idx(w * G * kWarp))}));
  Value y = arith::AddFOp::create(rw, loc, c.outFill.value(), total);
  Value h = arith::AddIOp::create(
      rw, loc, arith::MulIOp::create(rw, loc, kvh, idx(G)), g);
  memref::StoreOp::create(rw, loc, y, c.y, ValueRange{bat, h, zeroIdx, e});
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
    rw.setInsertionPointAfter(c.pv);
    gpu::LaunchOp scores = emitScores(rw, loc, c);
    rw.setInsertionPointAfter(scores);
    emitSoftmaxPV(rw, loc, c);
    SmallVector<Operation *> erase = c.ops();
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
