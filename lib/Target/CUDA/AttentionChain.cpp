//===- AttentionChain.cpp - the decode attention's chain --------------------===//
//
// Recognizes the bufferized chain of sinter.attention's lowering (the score
// contraction, the logits ops, max, sum of exp, probabilities, p . v) for
// the decode attention template (Attention.cpp), and holds the small
// emission helpers both of its kernel shapes use (body cloning, warp
// shuffles, the launch). Separate from the kernels so that the matching
// rules read on their own; AttentionChain.h, docs/cuda-target.md ("Decode
// attention").
//
//===----------------------------------------------------------------------===//

#include "AttentionChain.h"
#include "GemmBuffers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;

namespace sinter::cuda::attention {
namespace {

/// Query heads per kv head the kernels keep in registers and shared memory.
constexpr int64_t kMaxGroup = 16;

std::string str(int64_t v) { return std::to_string(v); }

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

bool f32Buffer(Value v) {
  return cast<MemRefType>(v.getType()).getElementType().isF32();
}

} // namespace

bool isViewOrPure(Operation *op) {
  return isMemoryEffectFree(op) ||
         isa<memref::ViewOp, memref::SubViewOp, memref::ExpandShapeOp,
             memref::CollapseShapeOp, memref::GetGlobalOp,
             memref::ReinterpretCastOp, memref::CastOp>(op);
}

bool allParallel(linalg::GenericOp op) {
  return op.getNumLoops() == op.getNumParallelLoops();
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
                ArrayRef<Value> args, ArrayRef<Value> ivs,
                const IRMapping *pre) {
  Block *body = op.getBlock();
  IRMapping mapping;
  if (pre)
    mapping = *pre;
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
    if (inner.getNumResults() && llvm::all_of(inner.getResults(), [&](Value r) {
          return mapping.contains(r);
        }))
      continue;
    b.clone(inner, mapping);
  }
  return mapping.lookupOrDefault(body->getTerminator()->getOperand(0));
}

void cloneInvariant(OpBuilder &b, Location loc, linalg::GenericOp op,
                    IRMapping &pre) {
  Block *body = op.getBlock();
  for (Operation &inner : body->without_terminator()) {
    bool invariant =
        inner.getNumResults() && !inner.getNumRegions() &&
        !isa<linalg::IndexOp>(inner) &&
        (isa<memref::LoadOp>(inner) || isMemoryEffectFree(&inner)) &&
        llvm::all_of(inner.getOperands(), [&](Value v) {
          return pre.contains(v) ||
                 !op->getRegion(0).isAncestor(v.getParentRegion());
        });
    if (invariant)
      b.clone(inner, pre);
  }
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

gpu::LaunchOp createLaunch(RewriterBase &rw, Location loc,
                           std::array<int64_t, 3> grid,
                           ArrayRef<int64_t> sharedFloats, StringRef tag,
                           ArrayRef<MemRefType> extraShared, int64_t threads) {
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
      rw, loc, idx(grid[0]), idx(grid[1]), idx(grid[2]), idx(threads), one, one,
      /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
      /*asyncDependencies=*/{}, shared);
  launch->setAttr("sinter.kernel", rw.getStringAttr(tag));
  Block &body = launch.getBody().front();
  rw.setInsertionPointToStart(&body);
  gpu::TerminatorOp::create(rw, loc);
  rw.setInsertionPointToStart(&body);
  return launch;
}

} // namespace sinter::cuda::attention
