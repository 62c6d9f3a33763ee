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
//   partial output to a workspace global, and a combine launch per head
//   rebuilds the softmax weights of the chunks from the same bodies. The
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
//===----------------------------------------------------------------------===//

#include "AttentionPrologue.h"
#include "GemmBuffers.h"
#include "Kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/Support/FormatVariadic.h"

#include <mutex>

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
                           ArrayRef<int64_t> sharedFloats, StringRef tag,
                           ArrayRef<MemRefType> extraShared = {}) {
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(rw, loc, v);
  };
  SmallVector<Type> shared;
  for (int64_t n : sharedFloats)
    shared.push_back(
        MemRefType::get({n}, rw.getF32Type(), MemRefLayoutAttrInterface{},
                        gpu::AddressSpaceAttr::get(
                            rw.getContext(), gpu::AddressSpace::Workgroup)));
  shared.append(extraShared.begin(), extraShared.end());
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

/// A device buffer of `n` elements shared by every split attention of the
/// module (they run one after the other): a constant zero memref.global,
/// which sinter-bind-weights gives a device copy like any embedded weight
/// (the memory plan, and so the arena, is fixed before the templates run).
/// The kernels write it (the chunks' partial results), which no host code
/// can observe. The form-kernels pass runs per function, possibly on
/// several threads: the module's symbol table is only touched under a lock.
Value workspace(RewriterBase &rw, Location loc, Operation *anchor, Type elt,
                int64_t n, StringRef prefix) {
  static std::mutex lock;
  auto module = anchor->getParentOfType<ModuleOp>();
  std::string name = (prefix + "_" + Twine(n)).str();
  auto type = MemRefType::get({n}, elt);
  {
    std::lock_guard<std::mutex> guard(lock);
    if (!SymbolTable::lookupSymbolIn(module, name)) {
      OpBuilder b(module.getContext());
      b.setInsertionPointToStart(module.getBody());
      Attribute zero = isa<FloatType>(elt) ? Attribute(b.getFloatAttr(elt, 0))
                                           : Attribute(b.getIntegerAttr(elt, 0));
      memref::GlobalOp::create(
          b, loc, name, b.getStringAttr("private"), type,
          DenseElementsAttr::get(RankedTensorType::get({n}, elt), zero),
          /*constant=*/true, b.getI64IntegerAttr(256));
    }
  }
  return memref::GetGlobalOp::create(rw, loc, type, name);
}

/// The element of `cache` at `ivs` after the folded in-place update
/// `scatter` (its body applied to the old value `old`); the new value is
/// stored where its bits differ, so that the cache ends as the update
/// leaves it while the kernel writes only the new token's elements.
Value updateCached(RewriterBase &rw, Location loc, linalg::GenericOp scatter,
                   Value cache, Value old, ArrayRef<Value> ivs) {
  Value now = cloneBody(rw, loc, scatter, {old}, ivs);
  auto intTy = rw.getIntegerType(old.getType().getIntOrFloatBitWidth());
  Value changed = arith::CmpIOp::create(
      rw, loc, arith::CmpIPredicate::ne,
      arith::BitcastOp::create(rw, loc, intTy, now),
      arith::BitcastOp::create(rw, loc, intTy, old));
  auto ifOp = scf::IfOp::create(rw, loc, changed, false);
  OpBuilder::InsertionGuard guard(rw);
  rw.setInsertionPointToStart(ifOp.thenBlock());
  memref::StoreOp::create(rw, loc, now, cache, ivs);
  return now;
}

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
};

/// Where staged gate operand `s` of head h, column e lives in the workspace.
Value stagedAt(RewriterBase &rw, Location loc, Chain &c, const SplitPlan &plan,
               int64_t s, Value bat, Value h, Value e) {
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(rw, loc, v);
  };
  Value row = arith::AddIOp::create(
      rw, loc, arith::MulIOp::create(rw, loc, bat, idx(c.Hq)), h);
  Value at = arith::AddIOp::create(
      rw, loc, arith::MulIOp::create(rw, loc, row, idx(c.Dv)), e);
  return arith::AddIOp::create(
      rw, loc, at, idx(plan.gateBase + s * c.B * c.Hq * c.Dv));
}

/// The split decode attention (flash-decoding), first launch: block
/// (split, kv head, batch) owns `chunk` keys; it forms their logits for the
/// G heads (the key rows read once, in 16-byte vectors where aligned, a
/// few keys of a warp loaded before their use), the chunk's max m_c, the
/// terms f(x, m_c), their sum l_c and the partial output
/// o_c = sum_j f(x_j, m_c) v_j (the chunk's value loads issued together),
/// and writes o_c, m_c and l_c to the workspace.
gpu::LaunchOp emitSplitPartial(RewriterBase &rw, Location loc, Chain &c,
                               Value ws, int64_t chunk, int64_t nSplit,
                               int64_t vec, const SplitPlan &plan) {
  const AttentionPrologue *pro = plan.prologue;
  int64_t G = c.G;
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(rw, loc, v);
  };
  // Shared: the logits, then the terms, of the chunk [G][chunk] (0 past
  // the cache); the chunk's max and sum [2G].
  gpu::LaunchOp launch = createLaunch(
      rw, loc, {nSplit, c.Hkv, c.B}, {G * chunk, 2 * G},
      llvm::formatv("attention_split heads={0}/{1} d={2} t={3} dv={4} "
                    "chunk={5} vec={6} grid={7}x{1}x{8}{9}",
                    c.Hq, c.Hkv, c.D, c.T, c.Dv, chunk, vec, nSplit, c.B,
                    pro ? " prologue=" + std::to_string(pro->ops.size())
                        : std::string())
          .str(),
      pro ? pro->sharedTypes(rw.getContext()) : SmallVector<MemRefType>{});
  Value tile = launch.getWorkgroupAttributions()[0];
  Value stats = launch.getWorkgroupAttributions()[1];
  Value tid = launch.getThreadIds().x;
  if (pro) {
    SmallVector<Value> buffers(
        launch.getWorkgroupAttributions().drop_front(2));
    emitPrologueReplay(rw, loc, *pro, tid, kThreads, buffers);
  }
  Value warp = arith::DivUIOp::create(rw, loc, tid, idx(kWarp));
  Value lane = arith::RemUIOp::create(rw, loc, tid, idx(kWarp));
  Value split = launch.getBlockIds().x, kvh = launch.getBlockIds().y,
        bat = launch.getBlockIds().z;
  Value zeroIdx = idx(0);
  Value zero = arith::ConstantOp::create(rw, loc, rw.getF32FloatAttr(0));
  Value first = arith::MulIOp::create(rw, loc, split, idx(chunk));
  if (!plan.staged.empty()) {
    // The output gate's operands that the prologue computes: the first
    // chunk's block of each kv head stores its heads' to the workspace,
    // where the combine reads them.
    Value isFirst =
        arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq, split,
                              zeroIdx);
    auto ifOp = scf::IfOp::create(rw, loc, isFirst, false);
    OpBuilder::InsertionGuard guard(rw);
    rw.setInsertionPointToStart(ifOp.thenBlock());
    auto loop = scf::ForOp::create(rw, loc, tid, idx(G * c.Dv), idx(kThreads));
    rw.setInsertionPointToStart(loop.getBody());
    Value i = loop.getInductionVar();
    Value e = arith::RemUIOp::create(rw, loc, i, idx(c.Dv));
    Value h = arith::AddIOp::create(
        rw, loc, arith::MulIOp::create(rw, loc, kvh, idx(G)),
        arith::DivUIOp::create(rw, loc, i, idx(c.Dv)));
    for (auto [s, operand] : llvm::enumerate(plan.staged)) {
      Value v = memref::LoadOp::create(rw, loc, c.gate->getOperand(operand),
                                       ValueRange{bat, zeroIdx, h, e});
      if (!v.getType().isF32())
        v = arith::ExtFOp::create(rw, loc, rw.getF32Type(), v);
      memref::StoreOp::create(rw, loc, v, ws,
                              ValueRange{stagedAt(rw, loc, c, plan, s, bat,
                                                  h, e)});
    }
  }
  // Keys of this chunk inside the cache.
  Value count = arith::MinUIOp::create(
      rw, loc, idx(chunk), arith::SubIOp::create(rw, loc, idx(c.T), first));
  SmallVector<Value> heads;
  for (int64_t g = 0; g < G; ++g)
    heads.push_back(arith::AddIOp::create(
        rw, loc, arith::MulIOp::create(rw, loc, kvh, idx(G)), idx(g)));
  AffineMap qMap = c.scores.getIndexingMapsArray()[0];
  AffineMap kMap = c.scores.getIndexingMapsArray()[1];
  Type kElt = cast<MemRefType>(c.k.getType()).getElementType();

  // 1. Logits: warp w takes keys w, w + 8, ... of the chunk, `unroll` at a
  // time (past the cache: the last key, not stored).
  int64_t perWarp = chunk / kWarps;
  int64_t unroll = std::min<int64_t>(perWarp, 4);
  {
    auto rounds =
        scf::ForOp::create(rw, loc, zeroIdx, idx(perWarp), idx(unroll));
    OpBuilder::InsertionGuard guard(rw);
    rw.setInsertionPointToStart(rounds.getBody());
    SmallVector<Value> jls, js;
    for (int64_t u = 0; u < unroll; ++u) {
      Value r = arith::AddIOp::create(rw, loc, rounds.getInductionVar(),
                                      idx(u));
      Value jl = arith::AddIOp::create(
          rw, loc, warp, arith::MulIOp::create(rw, loc, r, idx(kWarps)));
      jls.push_back(jl);
      js.push_back(arith::MinUIOp::create(
          rw, loc, arith::AddIOp::create(rw, loc, first, jl), idx(c.T - 1)));
    }
    SmallVector<Value> init(unroll * G, zero);
    auto dims = scf::ForOp::create(
        rw, loc, arith::MulIOp::create(rw, loc, lane, idx(vec)), idx(c.D),
        idx(kWarp * vec), init);
    {
      OpBuilder::InsertionGuard g2(rw);
      rw.setInsertionPointToStart(dims.getBody());
      Value d0 = dims.getInductionVar();
      // The keys first (their loads in flight together), then q.
      SmallVector<SmallVector<Value>> ks(unroll);
      for (int64_t u = 0; u < unroll; ++u) {
        SmallVector<Value> kIvs{bat, heads[0], zeroIdx, js[u], d0, kvh};
        if (vec > 1) {
          unsigned align = vec * kElt.getIntOrFloatBitWidth() / 8;
          Value kv = vector::LoadOp::create(
              rw, loc, VectorType::get({vec}, kElt), c.k,
              indicesOf(rw, loc, kMap, kIvs), /*nontemporal=*/false,
              llvm::MaybeAlign(align));
          for (int64_t e = 0; e < vec; ++e)
            ks[u].push_back(vector::ExtractOp::create(rw, loc, kv, e));
        } else {
          ks[u].push_back(memref::LoadOp::create(
              rw, loc, c.k, indicesOf(rw, loc, kMap, kIvs)));
        }
      }
      SmallVector<Value> acc(dims.getRegionIterArgs());
      for (int64_t e = 0; e < vec; ++e) {
        Value d = arith::AddIOp::create(rw, loc, d0, idx(e));
        for (int64_t g = 0; g < G; ++g) {
          SmallVector<Value> ivs{bat, heads[g], zeroIdx, js[0], d, kvh};
          Value q = memref::LoadOp::create(rw, loc, c.q,
                                           indicesOf(rw, loc, qMap, ivs));
          for (int64_t u = 0; u < unroll; ++u) {
            SmallVector<Value> uIvs{bat, heads[g], zeroIdx, js[u], d, kvh};
            Value k = ks[u][e];
            if (c.kScatter) {
              // Each key element is read by one lane of one warp.
              Value inChunk = arith::CmpIOp::create(
                  rw, loc, arith::CmpIPredicate::ult, jls[u], count);
              if (g == 0) {
                auto ifOp = scf::IfOp::create(rw, loc, rw.getF32Type(),
                                              inChunk, true);
                OpBuilder::InsertionGuard g3(rw);
                rw.setInsertionPointToStart(ifOp.thenBlock());
                Value now = updateCached(rw, loc, c.kScatter, c.k, k,
                                         {bat, kvh, js[u], d});
                scf::YieldOp::create(rw, loc, now);
                rw.setInsertionPointToStart(ifOp.elseBlock());
                scf::YieldOp::create(rw, loc, k);
                ks[u][e] = ifOp.getResult(0);
              }
              k = ks[u][e];
            }
            acc[u * G + g] =
                cloneBody(rw, loc, c.scores, {q, k, acc[u * G + g]}, uIvs);
          }
        }
      }
      scf::YieldOp::create(rw, loc, acc);
    }
    for (int64_t u = 0; u < unroll; ++u) {
      Value inChunk = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult,
                                            jls[u], count);
      for (int64_t g = 0; g < G; ++g) {
        Value total =
            warpReduce(rw, loc, dims.getResult(u * G + g), false, false);
        Value writer = arith::AndIOp::create(
            rw, loc, inChunk,
            arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq, lane,
                                  idx((u * G + g) % kWarp)));
        auto ifOp = scf::IfOp::create(rw, loc, writer, false);
        OpBuilder::InsertionGuard g2(rw);
        rw.setInsertionPointToStart(ifOp.thenBlock());
        Value s = arith::AddFOp::create(rw, loc, c.scoresFill.value(), total);
        SmallVector<Value> ivs{bat, heads[g], zeroIdx, js[u], kvh};
        for (linalg::GenericOp op : c.logits) {
          SmallVector<Value> args(op->getNumOperands());
          for (OpOperand &operand : op->getOpOperands())
            if (llvm::is_contained(c.logitBuffers, operand.get()))
              args[operand.getOperandNumber()] = s;
          s = cloneBody(rw, loc, op, args, ivs);
        }
        memref::StoreOp::create(
            rw, loc, s, tile,
            ValueRange{arith::AddIOp::create(rw, loc, jls[u], idx(g * chunk))});
      }
    }
  }
  gpu::BarrierOp::create(rw, loc);

  // 2. The chunk's max and terms of head g by warp g % 8 (terms past the
  // cache are 0).
  Value negInf = arith::ConstantOp::create(
      rw, loc, rw.getF32FloatAttr(-std::numeric_limits<float>::infinity()));
  for (int64_t g = 0; g < G; ++g) {
    Value mine = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq, warp,
                                       idx(g % kWarps));
    auto ifOp = scf::IfOp::create(rw, loc, mine, false);
    OpBuilder::InsertionGuard guard(rw);
    rw.setInsertionPointToStart(ifOp.thenBlock());
    auto at = [&](Value jl) -> Value {
      return arith::AddIOp::create(rw, loc, jl, idx(g * chunk));
    };
    auto maxLoop = scf::ForOp::create(rw, loc, lane, count, idx(kWarp), negInf);
    {
      OpBuilder::InsertionGuard g2(rw);
      rw.setInsertionPointToStart(maxLoop.getBody());
      Value jl = maxLoop.getInductionVar();
      Value j = arith::AddIOp::create(rw, loc, first, jl);
      SmallVector<Value> ivs{bat, heads[g], zeroIdx, j, kvh};
      Value s = memref::LoadOp::create(rw, loc, tile, ValueRange{at(jl)});
      scf::YieldOp::create(
          rw, loc,
          cloneBody(rw, loc, c.max, {s, maxLoop.getRegionIterArg(0)}, ivs));
    }
    Value mx = warpReduce(rw, loc, maxLoop.getResult(0), true, c.maxNum);
    Value fillM = c.maxFill.value();
    mx = c.maxNum ? arith::MaxNumFOp::create(rw, loc, fillM, mx).getResult()
                  : arith::MaximumFOp::create(rw, loc, fillM, mx).getResult();
    auto sumLoop = scf::ForOp::create(rw, loc, lane, idx(chunk), idx(kWarp),
                                      zero);
    {
      OpBuilder::InsertionGuard g2(rw);
      rw.setInsertionPointToStart(sumLoop.getBody());
      Value jl = sumLoop.getInductionVar();
      Value j = arith::AddIOp::create(rw, loc, first, jl);
      Value inChunk =
          arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, jl, count);
      SmallVector<Value> ivs{bat, heads[g], zeroIdx, j, kvh};
      auto termIf =
          scf::IfOp::create(rw, loc, rw.getF32Type(), inChunk, true);
      {
        OpBuilder::InsertionGuard g3(rw);
        rw.setInsertionPointToStart(termIf.thenBlock());
        Value s = memref::LoadOp::create(rw, loc, tile, ValueRange{at(jl)});
        // The term alone (the sum's body from 0), kept for p . v.
        scf::YieldOp::create(rw, loc,
                             cloneBody(rw, loc, c.sum, {s, mx, zero}, ivs));
        rw.setInsertionPointToStart(termIf.elseBlock());
        scf::YieldOp::create(rw, loc, zero);
      }
      Value term = termIf.getResult(0);
      memref::StoreOp::create(rw, loc, term, tile, ValueRange{at(jl)});
      scf::YieldOp::create(
          rw, loc,
          arith::AddFOp::create(rw, loc, sumLoop.getRegionIterArg(0), term)
              .getResult());
    }
    Value sm = warpReduce(rw, loc, sumLoop.getResult(0), false, false);
    Value isFirst =
        arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq, lane, zeroIdx);
    auto store = scf::IfOp::create(rw, loc, isFirst, false);
    rw.setInsertionPointToStart(store.thenBlock());
    memref::StoreOp::create(rw, loc, mx, stats, idx(g));
    memref::StoreOp::create(rw, loc, sm, stats, idx(G + g));
  }
  gpu::BarrierOp::create(rw, loc);

  // 3. The partial output of the chunk, a thread per value column, the
  // values of `vUnroll` keys loaded together.
  Value bk = arith::AddIOp::create(
      rw, loc, arith::MulIOp::create(rw, loc, bat, idx(c.Hkv)), kvh);
  Value slot = arith::AddIOp::create(
      rw, loc, arith::MulIOp::create(rw, loc, bk, idx(nSplit)), split);
  int64_t statsBase = c.B * c.Hkv * nSplit * G * c.Dv;
  int64_t sumBase = statsBase + c.B * c.Hkv * nSplit * G;
  AffineMap vMap = c.pv.getIndexingMapsArray()[1];
  int64_t vUnroll = std::min<int64_t>(chunk, 16);
  {
    auto cols = scf::ForOp::create(rw, loc, tid, idx(c.Dv), idx(kThreads));
    OpBuilder::InsertionGuard guard(rw);
    rw.setInsertionPointToStart(cols.getBody());
    Value e = cols.getInductionVar();
    SmallVector<Value> init(G, zero);
    auto keys =
        scf::ForOp::create(rw, loc, zeroIdx, idx(chunk), idx(vUnroll), init);
    {
      OpBuilder::InsertionGuard g2(rw);
      rw.setInsertionPointToStart(keys.getBody());
      SmallVector<Value> jls, js, vs;
      for (int64_t u = 0; u < vUnroll; ++u) {
        Value jl = arith::AddIOp::create(rw, loc, keys.getInductionVar(),
                                         idx(u));
        Value j = arith::MinUIOp::create(
            rw, loc, arith::AddIOp::create(rw, loc, first, jl), idx(c.T - 1));
        SmallVector<Value> ivs{bat, heads[0], zeroIdx, e, j, kvh};
        jls.push_back(jl);
        js.push_back(j);
        vs.push_back(memref::LoadOp::create(rw, loc, c.v,
                                            indicesOf(rw, loc, vMap, ivs)));
      }
      SmallVector<Value> acc(keys.getRegionIterArgs());
      for (int64_t u = 0; u < vUnroll; ++u) {
        Value v = vs[u];
        if (c.vScatter) {
          Value inChunk = arith::CmpIOp::create(
              rw, loc, arith::CmpIPredicate::ult, jls[u], count);
          auto ifOp =
              scf::IfOp::create(rw, loc, v.getType(), inChunk, true);
          OpBuilder::InsertionGuard g3(rw);
          rw.setInsertionPointToStart(ifOp.thenBlock());
          scf::YieldOp::create(rw, loc,
                               updateCached(rw, loc, c.vScatter, c.v, v,
                                            {bat, kvh, js[u], e}));
          rw.setInsertionPointToStart(ifOp.elseBlock());
          scf::YieldOp::create(rw, loc, v);
          v = ifOp.getResult(0);
        }
        for (int64_t g = 0; g < G; ++g) {
          Value p = memref::LoadOp::create(
              rw, loc, tile,
              ValueRange{arith::AddIOp::create(rw, loc, jls[u],
                                               idx(g * chunk))});
          SmallVector<Value> gIvs{bat, heads[g], zeroIdx, e, js[u], kvh};
          acc[g] = cloneBody(rw, loc, c.pv, {p, v, acc[g]}, gIvs);
        }
      }
      scf::YieldOp::create(rw, loc, acc);
    }
    for (int64_t g = 0; g < G; ++g) {
      Value at = arith::AddIOp::create(
          rw, loc,
          arith::MulIOp::create(
              rw, loc,
              arith::AddIOp::create(
                  rw, loc, arith::MulIOp::create(rw, loc, slot, idx(G)),
                  idx(g)),
              idx(c.Dv)),
          e);
      memref::StoreOp::create(rw, loc, keys.getResult(g), ws, ValueRange{at});
    }
  }
  Value statThread =
      arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, tid, idx(G));
  auto ifOp = scf::IfOp::create(rw, loc, statThread, false);
  rw.setInsertionPointToStart(ifOp.thenBlock());
  Value at = arith::AddIOp::create(
      rw, loc, arith::MulIOp::create(rw, loc, slot, idx(G)), tid);
  memref::StoreOp::create(
      rw, loc, memref::LoadOp::create(rw, loc, stats, ValueRange{tid}), ws,
      ValueRange{arith::AddIOp::create(rw, loc, at, idx(statsBase))});
  memref::StoreOp::create(
      rw, loc,
      memref::LoadOp::create(
          rw, loc, stats,
          ValueRange{arith::AddIOp::create(rw, loc, tid, idx(G))}),
      ws, ValueRange{arith::AddIOp::create(rw, loc, at, idx(sumBase))});
  return launch;
}

/// Second launch: block (head, batch) combines the chunks of its head in
/// order. Lane c of warp 0 holds chunk c's max and sum: M = max m_c and
/// L = sum l_c f(m_c, M) by shuffles, the chunk weights probs(m_c, M, L)
/// go to shared memory, then a thread per value column adds
/// sum_c w_c o_c (the chunks' loads issued together) and stores the output,
/// or the folded epilogue's value.
gpu::LaunchOp emitSplitCombine(RewriterBase &rw, Location loc, Chain &c,
                               Value ws, int64_t nSplit,
                               const SplitPlan &plan) {
  int64_t G = c.G;
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(rw, loc, v);
  };
  gpu::LaunchOp launch = createLaunch(
      rw, loc, {c.Hq, c.B, 1}, {nSplit},
      llvm::formatv("attention_combine heads={0} dv={1} chunks={2}{3}", c.Hq,
                    c.Dv, nSplit, c.gate ? " epilogue" : "")
          .str());
  Value weights = launch.getWorkgroupAttributions()[0];
  Value tid = launch.getThreadIds().x;
  Value h = launch.getBlockIds().x, bat = launch.getBlockIds().y;
  Value zeroIdx = idx(0);
  Value zero = arith::ConstantOp::create(rw, loc, rw.getF32FloatAttr(0));
  Value negInf = arith::ConstantOp::create(
      rw, loc, rw.getF32FloatAttr(-std::numeric_limits<float>::infinity()));
  Value kvh = arith::DivUIOp::create(rw, loc, h, idx(G));
  Value g = arith::RemUIOp::create(rw, loc, h, idx(G));
  Value bk = arith::AddIOp::create(
      rw, loc, arith::MulIOp::create(rw, loc, bat, idx(c.Hkv)), kvh);
  Value bkSplits = arith::MulIOp::create(rw, loc, bk, idx(nSplit));
  int64_t statsBase = c.B * c.Hkv * nSplit * G * c.Dv;
  int64_t sumBase = statsBase + c.B * c.Hkv * nSplit * G;
  // Row of chunk s of this head in the workspace.
  auto rowOf = [&](Value s) -> Value {
    return arith::AddIOp::create(
        rw, loc,
        arith::MulIOp::create(rw, loc,
                              arith::AddIOp::create(rw, loc, bkSplits, s),
                              idx(G)),
        g);
  };
  SmallVector<Value> ivs{bat, h, zeroIdx, zeroIdx, kvh};
  {
    Value inWarp =
        arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, tid,
                              idx(kWarp));
    auto ifOp = scf::IfOp::create(rw, loc, inWarp, false);
    OpBuilder::InsertionGuard guard(rw);
    rw.setInsertionPointToStart(ifOp.thenBlock());
    Value own = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, tid,
                                      idx(nSplit));
    Value s = arith::MinUIOp::create(rw, loc, tid, idx(nSplit - 1));
    Value row = rowOf(s);
    Value m = memref::LoadOp::create(
        rw, loc, ws, ValueRange{arith::AddIOp::create(rw, loc, row, idx(statsBase))});
    Value l = memref::LoadOp::create(
        rw, loc, ws, ValueRange{arith::AddIOp::create(rw, loc, row, idx(sumBase))});
    // Lanes past the chunks take the max's identity (-inf) and no sum.
    Value mMine = arith::SelectOp::create(rw, loc, own, m, negInf);
    Value M = warpReduce(
        rw, loc, cloneBody(rw, loc, c.max, {mMine, c.maxFill.value()}, ivs),
        true, c.maxNum);
    Value scale = cloneBody(rw, loc, c.sum, {m, M, zero}, ivs);
    Value part = arith::SelectOp::create(
        rw, loc, own, arith::MulFOp::create(rw, loc, l, scale), zero);
    Value L = arith::AddFOp::create(rw, loc, c.sumFill.value(),
                                    warpReduce(rw, loc, part, false, false));
    Value w = cloneBody(rw, loc, c.probs, {m, M, L, m}, ivs);
    auto store = scf::IfOp::create(rw, loc, own, false);
    rw.setInsertionPointToStart(store.thenBlock());
    memref::StoreOp::create(rw, loc, w, weights, ValueRange{tid});
  }
  gpu::BarrierOp::create(rw, loc);
  auto cols = scf::ForOp::create(rw, loc, tid, idx(c.Dv), idx(kThreads));
  OpBuilder::InsertionGuard guard(rw);
  rw.setInsertionPointToStart(cols.getBody());
  Value e = cols.getInductionVar();
  SmallVector<Value> os;
  for (int64_t s = 0; s < nSplit; ++s)
    os.push_back(memref::LoadOp::create(
        rw, loc, ws,
        ValueRange{arith::AddIOp::create(
            rw, loc, arith::MulIOp::create(rw, loc, rowOf(idx(s)), idx(c.Dv)),
            e)}));
  Value y = c.outFill.value();
  for (int64_t s = 0; s < nSplit; ++s)
    y = arith::AddFOp::create(
        rw, loc, y,
        arith::MulFOp::create(
            rw, loc, memref::LoadOp::create(rw, loc, weights, idx(s)), os[s]));
  if (!c.gate) {
    memref::StoreOp::create(rw, loc, y, c.y, ValueRange{bat, h, zeroIdx, e});
    return launch;
  }
  // The folded epilogue at element [b, 0, h, e] of the transpose.
  SmallVector<Value> args(c.gate->getNumOperands());
  for (OpOperand &operand : c.gate->getOpOperands())
    if (operand.get() == c.outT.getInit())
      args[operand.getOperandNumber()] = y;
  for (auto [s, operand] : llvm::enumerate(plan.staged)) {
    Value v = memref::LoadOp::create(
        rw, loc, ws, ValueRange{stagedAt(rw, loc, c, plan, s, bat, h, e)});
    Type t = c.gate->getOperand(operand).getType();
    Type elt = cast<MemRefType>(t).getElementType();
    if (!elt.isF32())
      v = arith::TruncFOp::create(rw, loc, elt, v);
    args[operand] = v;
  }
  SmallVector<Value> gIvs{bat, zeroIdx, h, e};
  Value zv = cloneBody(rw, loc, c.gate, args, gIvs);
  memref::StoreOp::create(rw, loc, zv, c.z, gIvs);
  return launch;
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
  int64_t want = (c.T + kWarp - 1) / kWarp;
  p.chunk = want <= 16 ? 16 : (want + 31) / 32 * 32;
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
  auto overlapsReads = [&](Value out) {
    return llvm::any_of(reads, [&](Value r) { return mayOverlap(out, r); });
  };
  std::string epiWhy;
  if (succeeded(foldEpilogue(c, epiWhy))) {
    bool ok = !overlapsReads(c.z);
    for (Value in : c.gate.getDpsInputs())
      if (in != c.outT.getInit() && mayOverlap(in, c.z))
        ok = false;
    if (!ok) {
      epiWhy = "the output gate's output may overlap what the kernel reads";
      c.gate = nullptr;
      c.outT = nullptr;
      c.z = nullptr;
    }
  }
  p.notes.push_back(c.gate ? std::string("output transpose and gate folded")
                           : "output epilogue not folded: " + epiWhy);
  if (!c.gate && overlapsReads(c.y)) {
    why = "the output may overlap q, the caches or the mask, which other "
          "blocks still read when the last block writes it";
    c.kScatter = c.vScatter = nullptr;
    return std::nullopt;
  }
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
  p.prologue = &pro;
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
      gpu::LaunchOp partial = emitSplitPartial(rw, loc, c, ws, plan->chunk,
                                               plan->nSplit, plan->vec, *plan);
      rw.setInsertionPointAfter(partial);
      gpu::LaunchOp combine =
          emitSplitCombine(rw, loc, c, ws, plan->nSplit, *plan);
      SmallVector<Value> buffers(
          partial.getWorkgroupAttributions().drop_front(2));
      if (failed(redirectPrologueAccesses(rw, partial, pro, buffers,
                                          proWhy)) ||
          failed(redirectPrologueAccesses(rw, combine, pro, {}, proWhy))) {
        rw.eraseOp(combine);
        rw.eraseOp(partial);
        if (ws.use_empty())
          rw.eraseOp(ws.getDefiningOp());
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
      gpu::LaunchOp partial = emitSplitPartial(rw, loc, c, ws, plan->chunk,
                                               plan->nSplit, plan->vec, *plan);
      rw.setInsertionPointAfter(partial);
      emitSplitCombine(rw, loc, c, ws, plan->nSplit, *plan);
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
