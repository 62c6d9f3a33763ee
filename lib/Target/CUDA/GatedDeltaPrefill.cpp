//===- GatedDeltaPrefill.cpp - the delta-rule recurrence over T tokens ----===//
//
// See Kernels.h. sinter.linear_attention with T > 1 tokens is lowered
// (lib/Conversion/GraphToLinalg/LLMOps.cpp) to an scf.for over the tokens
// whose body is the decode step's chain, unmarked: fill + "retrieve"
// (r = sum_d f(S[d,m], k[d], g)), "update" (S[d,m] = F(S[d,m], k[d], v[m],
// g, beta, r[m]), in place), fill + "readout" (o = sum_d q[d] S'[d,m]),
// "output" (scale, conversion) and a copy of the token's output row. The
// generic mapping runs that as about 7 launches per token, each reading
// the whole f32 state (prefill of 512 tokens: 3584 launches per layer).
//
// This template runs the whole loop as ONE launch: a block per (batch,
// head, tile of value columns), a warp per 32 / G value columns with its
// lanes split over G key-row groups (lane = column + (32 / G) * group), so
// a thread keeps Dk / G state elements of its column in registers for the
// whole sequence. The tokens go in order inside the kernel; the state is
// read once before the first and written once after the last, and the
// reductions over Dk are xor shuffles across the row groups (no block
// barrier: a warp's columns are independent of the other warps'). The
// bodies are the generics' own, cloned per state element; the per-token
// inputs are loaded through the loop's subviews, with the induction
// variable replaced by the kernel's token counter.
//
// Refusals (a reason each) when the loop is not exactly that chain, a
// reduction is not `out + term`, the heads of the readout differ from the
// state's, the shapes do not split over warps, or the written buffers
// (state, output) may share bytes with what the kernel reads.
//
//===----------------------------------------------------------------------===//

#include "GatedDeltaBuffers.h"
#include "Kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace sinter::cuda {
using namespace gated_delta;
namespace {

/// Key-row groups per warp (lanes sharing a column); 32 / kGroups columns.
constexpr int64_t kGroups = 8;
constexpr int64_t kMaxRowsPerThread = 64;
constexpr int64_t kMaxWarps = 4;

/// How a generic's operand is read at one token: directly (a loop-invariant
/// buffer) or through a subview made in the loop (offsets constant or the
/// induction variable, unit strides).
struct TokenRead {
  Value source;
  SmallVector<int64_t> offsets; // kDynamic where the offset is the token
  llvm::SmallBitVector dropped;
};

std::optional<TokenRead> tokenRead(Value v, scf::ForOp loop,
                                   std::string &why) {
  TokenRead r;
  if (!loop->isAncestor(v.getParentRegion()->getParentOp())) {
    r.source = v;
    auto type = cast<MemRefType>(v.getType());
    r.offsets.assign(type.getRank(), 0);
    r.dropped.resize(type.getRank());
    return r;
  }
  auto sub = v.getDefiningOp<memref::SubViewOp>();
  if (!sub || loop->isAncestor(sub.getSource().getParentRegion()->getParentOp())) {
    why = "an operand of the step is not a loop-invariant buffer or a "
          "subview of one";
    return std::nullopt;
  }
  if (!llvm::all_of(sub.getStaticStrides(),
                    [](int64_t s) { return s == 1; })) {
    why = "a per-token subview has non-unit strides";
    return std::nullopt;
  }
  r.source = sub.getSource();
  r.dropped = sub.getDroppedDims();
  unsigned dyn = 0;
  for (int64_t o : sub.getStaticOffsets()) {
    if (!ShapedType::isDynamic(o)) {
      r.offsets.push_back(o);
      continue;
    }
    if (sub.getOffsets()[dyn++] != loop.getInductionVar()) {
      why = "a per-token subview's offset is not the token index";
      return std::nullopt;
    }
    r.offsets.push_back(ShapedType::kDynamic);
  }
  return r;
}

/// The value of `e` over `dims` (non-negative index values).
Value expand(OpBuilder &b, Location l, AffineExpr e, ArrayRef<Value> dims) {
  if (auto c = dyn_cast<AffineConstantExpr>(e))
    return arith::ConstantIndexOp::create(b, l, c.getValue());
  if (auto d = dyn_cast<AffineDimExpr>(e))
    return dims[d.getPosition()];
  auto bin = cast<AffineBinaryOpExpr>(e);
  Value x = expand(b, l, bin.getLHS(), dims),
        y = expand(b, l, bin.getRHS(), dims);
  switch (e.getKind()) {
  case AffineExprKind::Add:
    return arith::AddIOp::create(b, l, x, y);
  case AffineExprKind::Mul:
    return arith::MulIOp::create(b, l, x, y);
  case AffineExprKind::FloorDiv:
    return arith::DivUIOp::create(b, l, x, y);
  case AffineExprKind::Mod:
    return arith::RemUIOp::create(b, l, x, y);
  default:
    return arith::CeilDivUIOp::create(b, l, x, y);
  }
}

/// Loads element `at` (in the operand's own index space) of a token read.
Value load(OpBuilder &b, Location l, const TokenRead &r, ArrayRef<Value> at,
           Value token) {
  SmallVector<Value> idx;
  unsigned k = 0;
  for (auto [i, off] : llvm::enumerate(r.offsets)) {
    Value base = ShapedType::isDynamic(off)
                     ? token
                     : arith::ConstantIndexOp::create(b, l, off).getResult();
    if (r.dropped.test(i)) {
      idx.push_back(base);
      continue;
    }
    idx.push_back(off == 0 ? at[k] : arith::AddIOp::create(b, l, base, at[k]));
    ++k;
  }
  return memref::LoadOp::create(b, l, r.source, idx);
}

/// Whether the generic's body yields `out + term` with `out` (its single
/// init block argument) used only there.
bool isSumOfTerms(linalg::GenericOp g) {
  Block &body = g.getRegion().front();
  BlockArgument out = body.getArguments().back();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  return add && out.hasOneUse() &&
         (add.getLhs() == out || add.getRhs() == out);
}

AffineMap dimsMap(MLIRContext *ctx, ArrayRef<unsigned> d) {
  SmallVector<AffineExpr> e;
  for (unsigned i : d)
    e.push_back(getAffineDimExpr(i, ctx));
  return AffineMap::get(4, 0, e, ctx);
}

bool sameRanges(linalg::GenericOp g, ArrayRef<int64_t> ranges) {
  SmallVector<int64_t> r = g.getStaticLoopRanges();
  return ArrayRef<int64_t>(r) == ranges;
}

std::optional<double> fillValue(linalg::FillOp f) {
  FloatAttr a;
  if (!matchPattern(f.getInputs()[0], m_Constant(&a)))
    return std::nullopt;
  return a.getValueAsDouble();
}

} // namespace

LogicalResult emitGatedDeltaScan(RewriterBase &rw, scf::ForOp loop,
                                 const KernelOptions &options,
                                 std::string &why) {
  (void)options;
  if (loop.getNumResults() != 0) {
    why = "the loop carries values (the bufferized recurrence carries none)";
    return failure();
  }
  auto lb = getConstantIntValue(loop.getLowerBound()),
       ub = getConstantIntValue(loop.getUpperBound()),
       st = getConstantIntValue(loop.getStep());
  if (!lb || !ub || !st || *lb != 0 || *st != 1 || *ub < 1) {
    why = "the loop is not 0 to a constant T by 1";
    return failure();
  }
  int64_t T = *ub;

  // The effectful ops of the body, in order; the rest must be views.
  SmallVector<Operation *> chain;
  for (Operation &op : loop.getBody()->without_terminator()) {
    if (isa<linalg::LinalgOp, memref::CopyOp>(op)) {
      chain.push_back(&op);
      continue;
    }
    if (!isViewOrPure(&op)) {
      why = "the loop body has an op other than views, fills, generics and "
            "a copy: " +
            op.getName().getStringRef().str();
      return failure();
    }
  }
  auto fillR = chain.size() == 7 ? dyn_cast<linalg::FillOp>(chain[0]) : nullptr;
  auto retrieve =
      fillR ? dyn_cast<linalg::GenericOp>(chain[1]) : linalg::GenericOp();
  auto update =
      retrieve ? dyn_cast<linalg::GenericOp>(chain[2]) : linalg::GenericOp();
  auto fillO = update ? dyn_cast<linalg::FillOp>(chain[3]) : nullptr;
  auto readout =
      fillO ? dyn_cast<linalg::GenericOp>(chain[4]) : linalg::GenericOp();
  auto output =
      readout ? dyn_cast<linalg::GenericOp>(chain[5]) : linalg::GenericOp();
  auto copy = output ? dyn_cast<memref::CopyOp>(chain[6]) : nullptr;
  if (!copy) {
    why = "the loop body is not fill, retrieve, update, fill, readout, "
          "output, copy (a delta-rule recurrence)";
    return failure();
  }
  for (linalg::GenericOp g : {retrieve, update, readout, output})
    if (!g.hasPureBufferSemantics() || g.getNumDpsInits() != 1) {
      why = "a step generic is not bufferized with one output";
      return failure();
    }

  MLIRContext *ctx = loop.getContext();
  Value rBuf = retrieve.getDpsInits()[0], S = update.getDpsInits()[0],
        oBuf = readout.getDpsInits()[0], yBuf = output.getDpsInits()[0];
  if (fillR.getDpsInits()[0] != rBuf || fillO.getDpsInits()[0] != oBuf) {
    why = "the fills do not initialize the retrieve and readout outputs";
    return failure();
  }
  auto sType = dyn_cast<MemRefType>(S.getType());
  if (!sType || sType.getRank() != 4 || !sType.hasStaticShape() ||
      !sType.getElementType().isF32() ||
      loop->isAncestor(S.getParentRegion()->getParentOp())) {
    why = "the updated state is not a loop-invariant static 4-D f32 buffer";
    return failure();
  }
  int64_t B = sType.getDimSize(0), H = sType.getDimSize(1),
          Dk = sType.getDimSize(2), Dv = sType.getDimSize(3);

  auto iters = [](linalg::GenericOp g, int reductions) {
    auto it = g.getIteratorTypesArray();
    for (auto [i, t] : llvm::enumerate(it))
      if ((t == utils::IteratorType::reduction) !=
          (int(i) >= int(it.size()) - reductions))
        return false;
    return true;
  };
  // retrieve and readout: loops (b, h, m, d), reduction over d, the state
  // read at (b, h, d, m); update: loops (b, h, d, m), the state in place.
  AffineMap bhm = dimsMap(ctx, {0, 1, 2}), bhdm = dimsMap(ctx, {0, 1, 3, 2});
  SmallVector<int64_t> reduceRanges{B, H, Dv, Dk}, stateRanges{B, H, Dk, Dv};
  for (linalg::GenericOp g : {retrieve, readout}) {
    if (g.getNumLoops() != 4 || !iters(g, 1) ||
        !sameRanges(g, reduceRanges) ||
        g.getIndexingMapsArray().back() != bhm || !isSumOfTerms(g) ||
        !isa<MemRefType>(g.getDpsInits()[0].getType()) ||
        !cast<MemRefType>(g.getDpsInits()[0].getType())
             .getElementType()
             .isF32()) {
      why = "the retrieve/readout is not an f32 sum over the key rows of "
            "the state's heads (b, h, m, d) -> (b, h, m)";
      return failure();
    }
    bool readsState = false;
    for (OpOperand *in : g.getDpsInputOperands())
      if (in->get() == S) {
        if (g.getMatchingIndexingMap(in) != bhdm) {
          why = "the retrieve/readout reads the state other than at "
                "(b, h, d, m) (query heads differ from the state's?)";
          return failure();
        }
        readsState = true;
      }
    if (!readsState) {
      why = "the retrieve/readout does not read the state";
      return failure();
    }
  }
  if (update.getNumLoops() != 4 || !iters(update, 0) ||
      !sameRanges(update, stateRanges) ||
      !update.getIndexingMapsArray().back().isIdentity()) {
    why = "the update is not elementwise over the state";
    return failure();
  }
  AffineMap bhmOfUpdate = dimsMap(ctx, {0, 1, 3});
  for (OpOperand *in : update.getDpsInputOperands()) {
    if (in->get() == S || in->get() == oBuf || in->get() == yBuf) {
      why = "the update reads the state or the readout through an input";
      return failure();
    }
    if (in->get() == rBuf && update.getMatchingIndexingMap(in) != bhmOfUpdate) {
      why = "the update reads the retrieved vector other than at (b, h, m)";
      return failure();
    }
  }
  if (output.getNumLoops() != 3 || !iters(output, 0) ||
      output.getNumDpsInputs() != 1 || output.getDpsInputs()[0] != oBuf ||
      !llvm::all_of(output.getIndexingMapsArray(),
                    [](AffineMap m) { return m.isIdentity(); }) ||
      !sameRanges(output, {B, H, Dv}) ||
      output.getRegion().front().getArguments().back().use_empty() == false) {
    why = "the output is not elementwise over the readout alone";
    return failure();
  }
  auto yType = dyn_cast<MemRefType>(yBuf.getType());
  if (!yType || !yType.getLayout().isIdentity()) {
    why = "the output row is not an identity-layout buffer";
    return failure();
  }
  // The copy: the output row (maybe collapsed) into the token's row.
  Value src = copy.getSource();
  if (auto c = src.getDefiningOp<memref::CollapseShapeOp>())
    src = c.getSrc();
  if (src != yBuf) {
    why = "the copy does not store the output row";
    return failure();
  }
  auto dstType = cast<MemRefType>(copy.getTarget().getType());
  if (output.getRegion().front().getTerminator()->getOperand(0).getType() !=
      dstType.getElementType()) {
    why = "the output row's element type differs from its destination's";
    return failure();
  }
  std::optional<TokenRead> dst = tokenRead(copy.getTarget(), loop, why);
  if (!dst)
    return failure();
  if (!llvm::is_contained(dst->offsets, ShapedType::kDynamic)) {
    why = "the copy's destination does not move with the token";
    return failure();
  }

  // Every per-token input, by the generic operand that reads it.
  DenseMap<OpOperand *, TokenRead> reads;
  SmallVector<Value> sources;
  for (linalg::GenericOp g : {retrieve, update, readout})
    for (OpOperand *in : g.getDpsInputOperands()) {
      if (in->get() == S || in->get() == rBuf)
        continue;
      if (in->get() == oBuf || in->get() == yBuf) {
        why = "a step generic reads the readout";
        return failure();
      }
      std::optional<TokenRead> r = tokenRead(in->get(), loop, why);
      if (!r)
        return failure();
      reads[in] = *r;
      sources.push_back(r->source);
    }

  // The kernel reads the inputs of every token before writing the state
  // and all output rows: neither may share bytes with an input.
  std::optional<Buf> sBuf = bufOf(S), dBuf = bufOf(dst->source);
  if (!sBuf || !dBuf) {
    why = "the state or output buffer is not a static view";
    return failure();
  }
  if (overlap(*sBuf, *dBuf)) {
    why = "the state and the output may share bytes";
    return failure();
  }
  for (Value s : sources) {
    std::optional<Buf> b = bufOf(s);
    if (!b || overlap(*b, *sBuf) || overlap(*b, *dBuf)) {
      why = "a per-token input may share bytes with the state or output";
      return failure();
    }
  }
  // The scratch rows are not written: nothing after the loop may read them.
  for (Value scratch : {rBuf, oBuf, yBuf}) {
    std::optional<Buf> b = bufOf(scratch);
    if (!b || readAfter(*b, loop.getOperation())) {
      why = "a per-token scratch buffer may be read after the loop";
      return failure();
    }
  }

  if (Dk % kGroups != 0 || Dk / kGroups > kMaxRowsPerThread) {
    why = llvm::formatv("Dk = {0} does not split into {1} row groups of at "
                        "most {2} rows",
                        Dk, kGroups, kMaxRowsPerThread);
    return failure();
  }
  int64_t cols = 32 / kGroups, R = Dk / kGroups;
  if (Dv % cols != 0) {
    why = llvm::formatv("Dv = {0} is not a multiple of {1} columns per warp",
                        Dv, cols);
    return failure();
  }
  int64_t warps = kMaxWarps;
  while ((Dv / cols) % warps != 0)
    warps /= 2;
  int64_t tiles = Dv / (cols * warps);
  std::optional<double> r0 = fillValue(fillR), o0 = fillValue(fillO);
  if (!r0 || !o0) {
    why = "a reduction's fill value is not a constant";
    return failure();
  }

  Location loc = loop.getLoc();
  rw.setInsertionPoint(loop);
  auto idx = [&](OpBuilder &b, int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  Value one = idx(rw, 1);
  auto launch = gpu::LaunchOp::create(
      rw, loc, idx(rw, tiles), idx(rw, H), idx(rw, B), idx(rw, 32 * warps),
      one, one, /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
      /*asyncDependencies=*/{}, /*workgroupAttributions=*/TypeRange{});
  launch->setAttr(
      "sinter.kernel",
      rw.getStringAttr(llvm::formatv(
          "gated_delta_scan t={0} b={1} h={2} dk={3} dv={4} grid={5}x{2}x{1} "
          "block={6} rows_per_thread={7}",
          T, B, H, Dk, Dv, tiles, 32 * warps, R)));
  Block &body = launch.getBody().front();
  rw.setInsertionPointToStart(&body);
  gpu::TerminatorOp::create(rw, loc);
  rw.setInsertionPointToStart(&body);

  Value tid = launch.getThreadIds().x;
  Value bb = launch.getBlockIds().z, hh = launch.getBlockIds().y;
  Value c32 = idx(rw, 32), cCols = idx(rw, cols);
  Value warp = arith::DivUIOp::create(rw, loc, tid, c32);
  Value lane = arith::RemUIOp::create(rw, loc, tid, c32);
  Value group = arith::DivUIOp::create(rw, loc, lane, cCols);
  Value m = arith::AddIOp::create(
      rw, loc,
      arith::MulIOp::create(
          rw, loc,
          arith::AddIOp::create(
              rw, loc,
              arith::MulIOp::create(rw, loc, launch.getBlockIds().x,
                                    idx(rw, warps)),
              warp),
          cCols),
      arith::RemUIOp::create(rw, loc, lane, cCols));
  // Rows group + G i: the groups of a column read adjacent rows.
  SmallVector<Value> rows;
  for (int64_t i = 0; i < R; ++i)
    rows.push_back(
        arith::AddIOp::create(rw, loc, group, idx(rw, kGroups * i)));
  SmallVector<Value> init;
  for (Value d : rows)
    init.push_back(
        memref::LoadOp::create(rw, loc, S, ValueRange{bb, hh, d, m}));
  Value firstGroup = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq,
                                           group, idx(rw, 0));

  // One generic body at one element: inputs loaded (or substituted), the
  // init block argument bound to `out`.
  auto apply = [&](OpBuilder &b, linalg::GenericOp g, ArrayRef<Value> dims,
                   Value token, Value out,
                   llvm::function_ref<Value(OpOperand *)> substitute) {
    Block &gb = g.getRegion().front();
    IRMapping map;
    for (OpOperand *in : g.getDpsInputOperands()) {
      Value v = substitute(in);
      if (!v) {
        AffineMap am = g.getMatchingIndexingMap(in);
        SmallVector<Value> at;
        for (AffineExpr e : am.getResults())
          at.push_back(expand(b, loc, e, dims));
        v = load(b, loc, reads.at(in), at, token);
      }
      map.map(gb.getArgument(in->getOperandNumber()), v);
    }
    map.map(gb.getArguments().back(), out);
    for (Operation &op : gb.without_terminator())
      b.clone(op, map);
    return map.lookupOrDefault(gb.getTerminator()->getOperand(0));
  };
  auto warpSum = [&](OpBuilder &b, Value v) {
    for (int64_t off = cols; off < 32; off *= 2)
      v = arith::AddFOp::create(
          b, loc, v,
          gpu::ShuffleOp::create(b, loc, v, off, /*width=*/32,
                                 gpu::ShuffleMode::XOR)
              .getShuffleResult());
    return v;
  };
  auto startOf = [&](OpBuilder &b, double fill) -> Value {
    // The fill is added once per column: by the first row group.
    return arith::SelectOp::create(
        b, loc, firstGroup,
        arith::ConstantOp::create(b, loc, b.getF32FloatAttr(fill)),
        arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0)));
  };

  auto tokens = scf::ForOp::create(
      rw, loc, idx(rw, 0), idx(rw, T), one, init,
      [&](OpBuilder &b, Location, Value t, ValueRange s) {
        Value r = startOf(b, *r0);
        for (int64_t i = 0; i < R; ++i)
          r = apply(b, retrieve, {bb, hh, m, rows[i]}, t, r,
                    [&](OpOperand *in) {
                      return in->get() == S ? s[i] : Value();
                    });
        r = warpSum(b, r);
        SmallVector<Value> next;
        for (int64_t i = 0; i < R; ++i)
          next.push_back(apply(b, update, {bb, hh, rows[i], m}, t, s[i],
                               [&](OpOperand *in) {
                                 return in->get() == rBuf ? r : Value();
                               }));
        Value o = startOf(b, *o0);
        for (int64_t i = 0; i < R; ++i)
          o = apply(b, readout, {bb, hh, m, rows[i]}, t, o,
                    [&](OpOperand *in) {
                      return in->get() == S ? next[i] : Value();
                    });
        o = warpSum(b, o);
        auto store = scf::IfOp::create(b, loc, firstGroup, false);
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(store.thenBlock());
          Block &ob = output.getRegion().front();
          IRMapping map;
          map.map(ob.getArgument(0), o);
          for (Operation &op : ob.without_terminator())
            b.clone(op, map);
          Value y = map.lookupOrDefault(ob.getTerminator()->getOperand(0));
          // The row's linear index, then its place in the copy's target.
          Value lin = arith::AddIOp::create(
              b, loc,
              arith::MulIOp::create(
                  b, loc,
                  arith::AddIOp::create(
                      b, loc, arith::MulIOp::create(b, loc, bb, idx(b, H)),
                      hh),
                  idx(b, Dv)),
              m);
          SmallVector<Value> at;
          ArrayRef<int64_t> shape = dstType.getShape();
          SmallVector<Value> rev;
          for (int k = int(shape.size()) - 1; k >= 0; --k) {
            rev.push_back(k > 0 ? arith::RemUIOp::create(b, loc, lin,
                                                         idx(b, shape[k]))
                                      .getResult()
                                : lin);
            if (k > 0)
              lin = arith::DivUIOp::create(b, loc, lin, idx(b, shape[k]));
          }
          at.assign(rev.rbegin(), rev.rend());
          SmallVector<Value> full;
          unsigned k = 0;
          for (auto [i, off] : llvm::enumerate(dst->offsets)) {
            Value base = ShapedType::isDynamic(off) ? t : idx(b, off);
            full.push_back(dst->dropped.test(i)
                               ? base
                               : arith::AddIOp::create(b, loc, base, at[k++])
                                     .getResult());
          }
          memref::StoreOp::create(b, loc, y, dst->source, full);
        }
        scf::YieldOp::create(b, loc, next);
      });
  for (int64_t i = 0; i < R; ++i)
    memref::StoreOp::create(rw, loc, tokens.getResult(i), S,
                            ValueRange{bb, hh, rows[i], m});
  rw.eraseOp(loop);
  return success();
}

} // namespace sinter::cuda
