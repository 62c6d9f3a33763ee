//===- ScanAndSort.cpp - cumsum, topk and moe_router to linalg ------------===//
//
// Neither op is a single linalg.generic. cumsum walks the axis with an
// scf.for that carries the running sum of one slice (O(n), summed in order).
// topk on rows of up to 1024 with k <= 16 ranks every element against its
// row (O(n^2) compares, parallel over the elements) and picks the element of
// each rank; otherwise it runs k selection rounds: round r picks, per row,
// the best element that comes after round r-1's pick in a strict total
// order on (value, index), so no mask tensor is needed and the cost is
// O(k * n) per row.
//
// moe_router is one linalg.generic marked `sinter.moe_router` (the CUDA
// target runs it as its own template, lib/Target/CUDA/MoeRouter.cpp): per
// (row, result p) it runs the k selection rounds over the row, read with
// tensor.extract, and the softmax of the k picks. Its loops are (rows, p,
// i) with i a reduction over the row that reads the logits (so the read is
// visible to bufferization and no elementwise fusion recomputes it); the
// body works at i = 0 only.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "sinter/Conversion/GraphToLinalg/GraphToLinalg.h"
#include "sinter/Dialect/Graph/IR/GraphOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace sinter::lowering;

namespace {

/// The slice at `pos` along `axis`, as its own tensor without that dim, and
/// back. The slices keep the axis as a unit dim and a reshape with explicit
/// reassociation drops or restores it: a rank-reducing slice would leave the
/// dropped dim to be inferred, which is ambiguous when the row has other
/// unit dims (tensor<1x8x2> at [0, 0, i] sizes [1, 8, 1] to tensor<1x8>), and
/// the tensor dialect's canonicalization guesses the leading one once the
/// offset folds to a constant, producing an invalid slice.
struct AxisSlice {
  SmallVector<OpFoldResult> offsets, sizes, strides;
  SmallVector<int64_t> keptShape;
  int64_t axis;
  AxisSlice(OpBuilder &b, ArrayRef<int64_t> shape, int64_t axis, Value pos)
      : axis(axis) {
    for (auto [d, size] : llvm::enumerate(shape)) {
      bool isAxis = d == (size_t)axis;
      offsets.push_back(isAxis ? OpFoldResult(pos)
                               : OpFoldResult(b.getIndexAttr(0)));
      sizes.push_back(b.getIndexAttr(isAxis ? 1 : size));
      strides.push_back(b.getIndexAttr(1));
      keptShape.push_back(isAxis ? 1 : size);
    }
  }
  /// The row of `from` at this slice, without the axis dim.
  Value extract(OpBuilder &b, Location l, Value from) const {
    auto type = cast<RankedTensorType>(from.getType());
    auto keptType = RankedTensorType::get(keptShape, type.getElementType());
    Value kept = tensor::ExtractSliceOp::create(b, l, keptType, from, offsets,
                                                sizes, strides);
    return collapseKeptDims(b, l, kept, {axis});
  }
  /// `into` with `row` (without the axis dim) written at this slice.
  Value insert(OpBuilder &b, Location l, Value row, Value into) const {
    auto rowType = cast<RankedTensorType>(row.getType());
    auto keptType = RankedTensorType::get(keptShape, rowType.getElementType());
    Value kept = expandReducedDims(b, l, row, keptType, {axis});
    return tensor::InsertSliceOp::create(b, l, kept, into, offsets, sizes,
                                         strides);
  }
};

struct CumSumLowering : OpConversionPattern<sinter::CumSumOp> {
  using Base::Base;
  LogicalResult
  matchAndRewrite(sinter::CumSumOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    Type elemType = type.getElementType();
    Type accType = computeType(elemType);
    bool exclusive = op.getExclusive();
    if (type.getRank() == 0) {
      Value r = buildComputeGeneric(
          rewriter, loc, type, x, [&](OpBuilder &b, Location l, ValueRange a) {
            return exclusive ? scalarConst(b, l, a[0].getType(), 0) : a[0];
          });
      rewriter.replaceOp(op, r);
      return success();
    }

    int64_t axis = op.getAxis();
    int64_t n = type.getDimSize(axis);
    SmallVector<int64_t> rowShape = dropDims(type.getShape(), {axis});
    auto rowType = RankedTensorType::get(rowShape, elemType);
    auto accRowType = RankedTensorType::get(rowShape, accType);
    unsigned rowRank = rowShape.size();
    MLIRContext *ctx = rewriter.getContext();
    AffineMap id = AffineMap::getMultiDimIdentityMap(rowRank, ctx);

    Value out = emptyLike(rewriter, loc, x);
    Value acc0 = filledTensor(rewriter, loc, rowShape,
                              scalarConst(rewriter, loc, accType, 0));
    Value lb = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value ub = arith::ConstantIndexOp::create(rewriter, loc, n);
    Value step = arith::ConstantIndexOp::create(rewriter, loc, 1);
    bool reverse = op.getReverse();
    auto loop = scf::ForOp::create(
        rewriter, loc, lb, ub, step, ValueRange{out, acc0},
        [&](OpBuilder &b, Location l, Value iv, ValueRange iter) {
          Value pos = iv;
          if (reverse)
            pos = arith::SubIOp::create(
                b, l, arith::ConstantIndexOp::create(b, l, n - 1), iv);
          AxisSlice slice(b, type.getShape(), axis, pos);
          Value xs = slice.extract(b, l, x);
          // One generic updates the running sum in place (so the loop
          // carries one buffer) and yields this slice's output.
          auto gen = linalg::GenericOp::create(
              b, l, TypeRange{accRowType, rowType}, ValueRange{xs},
              ValueRange{iter[1], emptyTensor(b, l, rowShape, elemType)},
              SmallVector<AffineMap>(3, id),
              iteratorsWithReductions(rowRank, {}),
              [&](OpBuilder &nb, Location nl, ValueRange a) {
                Value v = toCompute(nb, nl, a[0]);
                Value sum = isa<FloatType>(accType)
                                ? (Value)arith::AddFOp::create(nb, nl, a[1], v)
                                : (Value)arith::AddIOp::create(nb, nl, a[1], v);
                Value o = fromCompute(nb, nl, exclusive ? a[1] : sum, elemType);
                linalg::YieldOp::create(nb, nl, ValueRange{sum, o});
              });
          Value next = slice.insert(b, l, gen.getResult(1), iter[0]);
          scf::YieldOp::create(b, l, ValueRange{next, gen.getResult(0)});
        });
    rewriter.replaceOp(op, loop.getResult(0));
    return success();
  }
};

struct TopKLowering : OpConversionPattern<sinter::TopKOp> {
  using Base::Base;
  LogicalResult
  matchAndRewrite(sinter::TopKOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    int64_t axis = op.getAxis();
    int64_t k = op.getK();
    bool largest = op.getLargest();
    auto valuesType = cast<RankedTensorType>(op.getValues().getType());
    auto indicesType = cast<RankedTensorType>(op.getIndices().getType());
    Type i64 = rewriter.getI64Type();
    Value values = emptyTensor(rewriter, loc, valuesType.getShape(),
                               valuesType.getElementType());
    Value indices = emptyTensor(rewriter, loc, indicesType.getShape(), i64);
    if (k == 0) {
      rewriter.replaceOp(op, {values, indices});
      return success();
    }

    // Largest first (NaN counts as the largest value), or smallest first
    // (NaN last); equal values in index order.
    auto precedes = [&](OpBuilder &nb, Location nl, Value av, Value ai,
                        Value bv, Value bi) {
      Value tie =
          arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::slt, ai, bi);
      return precedesOrTies(nb, nl, av, bv, /*descending=*/largest,
                            /*nanFirst=*/largest, tie);
    };
    auto rowTypeOf = [&](RankedTensorType t) {
      return RankedTensorType::get(dropDims(t.getShape(), {axis}),
                                   t.getElementType());
    };
    auto insertRound = [&](OpBuilder &b, Location l, Value val, Value idx,
                           Value into, Value intoIdx, Value pos) {
      auto rowType = rowTypeOf(valuesType);
      if (val.getType() != rowType) // exact: the value came from the input
        val = buildComputeGeneric(
            b, l, rowType, val,
            [](OpBuilder &, Location, ValueRange a) { return a[0]; });
      AxisSlice slice(b, valuesType.getShape(), axis, pos);
      Value nv = slice.insert(b, l, val, into);
      Value ni = slice.insert(b, l, idx, intoIdx);
      return std::make_pair(nv, ni);
    };

    // Short rows and small k: each element's rank in the order, counted
    // against every other element of its row (n^2 compares, all parallel
    // over the elements), then result p of a row is the element of rank p
    // (parallel over the k results). Two kernels, each with a thread per
    // element, where k selection rounds are k reductions over the row that
    // run one thread per row: a MoE router (one row of 256 at decode, k = 8)
    // took 8 single-thread kernels of 22 us each on an H200. The order is
    // strict and total, so the ranks are a permutation and the results the
    // same as the rounds'.
    constexpr int64_t kRankMaxRow = 1024, kRankMaxK = 16;
    int64_t n = type.getDimSize(axis);
    if (k <= kRankMaxK && n <= kRankMaxRow) {
      unsigned rank = type.getRank();
      MLIRContext *ctx = rewriter.getContext();
      // Loops d0..d(rank-1) over the row's shape (the axis dim: element i
      // or result p) and d(rank) over the row (element j or i).
      auto mapWithAxisAt = [&](unsigned axisLoop) {
        SmallVector<AffineExpr> e;
        for (unsigned d = 0; d < rank; ++d)
          e.push_back(getAffineDimExpr(d == axis ? axisLoop : d, ctx));
        return AffineMap::get(rank + 1, 0, e, ctx);
      };
      AffineMap own = mapWithAxisAt(axis), other = mapWithAxisAt(rank);
      auto iters = iteratorsWithReductions(rank + 1, {int64_t(rank)});
      auto rankType = RankedTensorType::get(type.getShape(), i64);
      Value zeroI64 = arith::ConstantIntOp::create(rewriter, loc, i64, 0);
      Value ranks0 = filledTensor(rewriter, loc, type.getShape(), zeroI64);
      auto ranks = linalg::GenericOp::create(
          rewriter, loc, TypeRange{rankType}, ValueRange{x, x},
          ValueRange{ranks0}, SmallVector<AffineMap>{own, other, own}, iters,
          [&](OpBuilder &nb, Location nl, ValueRange a) {
            Value i = arith::IndexCastOp::create(
                nb, nl, i64, linalg::IndexOp::create(nb, nl, axis));
            Value j = arith::IndexCastOp::create(
                nb, nl, i64, linalg::IndexOp::create(nb, nl, rank));
            Value before = precedes(nb, nl, a[1], j, a[0], i);
            Value one = arith::ExtUIOp::create(nb, nl, i64, before);
            linalg::YieldOp::create(
                nb, nl, ValueRange{arith::AddIOp::create(nb, nl, a[2], one)});
          });
      Value elemZero =
          scalarConst(rewriter, loc, valuesType.getElementType(), 0);
      Value values0 = filledTensor(rewriter, loc, valuesType.getShape(), elemZero);
      Value indices0 = filledTensor(rewriter, loc, indicesType.getShape(), zeroI64);
      auto pick = linalg::GenericOp::create(
          rewriter, loc, TypeRange{valuesType, indicesType},
          ValueRange{x, ranks.getResult(0)}, ValueRange{values0, indices0},
          SmallVector<AffineMap>{other, other, own, own}, iters,
          [&](OpBuilder &nb, Location nl, ValueRange a) {
            Value p = arith::IndexCastOp::create(
                nb, nl, i64, linalg::IndexOp::create(nb, nl, axis));
            Value i = arith::IndexCastOp::create(
                nb, nl, i64, linalg::IndexOp::create(nb, nl, rank));
            Value hit = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq,
                                              a[1], p);
            linalg::YieldOp::create(
                nb, nl,
                ValueRange{arith::SelectOp::create(nb, nl, hit, a[0], a[2]),
                           arith::SelectOp::create(nb, nl, hit, i, a[3])});
          });
      rewriter.replaceOp(op, pick.getResults());
      return success();
    }

    // Round 0 has no previous pick; round r reads round r-1's pick back from
    // the results, so the loop carries only the two result tensors.
    auto [v0, i0] = buildArgSelect(rewriter, loc, x, axis, {}, {}, precedes);
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    std::tie(values, indices) =
        insertRound(rewriter, loc, v0, i0, values, indices, zero);
    // Up to kUnrollK rounds are unrolled: every slice offset is then a
    // constant, which the CUDA target needs (its kernels take bare pointers,
    // so a view's offset must be static); MoE routers use k <= 10.
    constexpr int64_t kUnrollK = 16;
    if (k <= kUnrollK) {
      for (int64_t r = 1; r < k; ++r) {
        AxisSlice slice(rewriter, valuesType.getShape(), axis,
                        arith::ConstantIndexOp::create(rewriter, loc, r - 1));
        Value pv = slice.extract(rewriter, loc, values);
        Value pi = slice.extract(rewriter, loc, indices);
        auto [val, idx] =
            buildArgSelect(rewriter, loc, x, axis, pv, pi, precedes);
        std::tie(values, indices) = insertRound(
            rewriter, loc, val, idx, values, indices,
            arith::ConstantIndexOp::create(rewriter, loc, r));
      }
      rewriter.replaceOp(op, {values, indices});
      return success();
    }
    Value lb = arith::ConstantIndexOp::create(rewriter, loc, 1);
    Value ub = arith::ConstantIndexOp::create(rewriter, loc, k);
    Value step = arith::ConstantIndexOp::create(rewriter, loc, 1);
    auto loop = scf::ForOp::create(
        rewriter, loc, lb, ub, step, ValueRange{values, indices},
        [&](OpBuilder &b, Location l, Value iv, ValueRange iter) {
          Value prev = arith::SubIOp::create(
              b, l, iv, arith::ConstantIndexOp::create(b, l, 1));
          AxisSlice slice(b, valuesType.getShape(), axis, prev);
          Value pv = slice.extract(b, l, iter[0]);
          Value pi = slice.extract(b, l, iter[1]);
          auto [val, idx] = buildArgSelect(b, l, x, axis, pv, pi, precedes);
          auto [nv, ni] = insertRound(b, l, val, idx, iter[0], iter[1], iv);
          scf::YieldOp::create(b, l, ValueRange{nv, ni});
        });
    rewriter.replaceOp(op, {loop.getResult(0), loop.getResult(1)});
    return success();
  }
};


struct MoeRouterLowering : OpConversionPattern<sinter::MoeRouterOp> {
  using Base::Base;
  LogicalResult
  matchAndRewrite(sinter::MoeRouterOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getLogits();
    auto type = cast<RankedTensorType>(x.getType());
    auto wType = cast<RankedTensorType>(op.getWeights().getType());
    auto iType = cast<RankedTensorType>(op.getIndices().getType());
    unsigned rank = type.getRank();
    int64_t e = type.getShape().back(), k = op.getK();
    MLIRContext *ctx = rewriter.getContext();
    // Loops d0..d(rank-2) over the rows, d(rank-1) over the k results and
    // d(rank) over the row's elements.
    SmallVector<AffineExpr> in, out;
    for (unsigned d = 0; d + 1 < rank; ++d) {
      in.push_back(getAffineDimExpr(d, ctx));
      out.push_back(getAffineDimExpr(d, ctx));
    }
    in.push_back(getAffineDimExpr(rank, ctx));
    out.push_back(getAffineDimExpr(rank - 1, ctx));
    AffineMap inMap = AffineMap::get(rank + 1, 0, in, ctx);
    AffineMap outMap = AffineMap::get(rank + 1, 0, out, ctx);
    Type f32 = rewriter.getF32Type(), i64 = rewriter.getI64Type();
    Value w0 = emptyTensor(rewriter, loc, wType.getShape(),
                           wType.getElementType());
    Value i0 = emptyTensor(rewriter, loc, iType.getShape(), i64);

    auto body = [&](OpBuilder &b, Location l, ValueRange a) {
      SmallVector<Value> at;
      for (unsigned d = 0; d + 1 < rank; ++d)
        at.push_back(linalg::IndexOp::create(b, l, d));
      Value p = linalg::IndexOp::create(b, l, rank - 1);
      Value i = linalg::IndexOp::create(b, l, rank);
      Value c0 = arith::ConstantIndexOp::create(b, l, 0);
      Value c1 = arith::ConstantIndexOp::create(b, l, 1);
      Value first = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, i, c0);
      // (a, ai) before (b, bi): larger first, NaN first, lower index on ties.
      auto precedes = [&](OpBuilder &nb, Location nl, Value av, Value ai,
                          Value bv, Value bi) {
        Value tie =
            arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::slt, ai, bi);
        return precedesOrTies(nb, nl, av, bv, /*descending=*/true,
                              /*nanFirst=*/true, tie);
      };
      auto compute = [&](OpBuilder &ib, Location il) {
        Value zero = arith::ConstantOp::create(ib, il, ib.getF32FloatAttr(0));
        Value zeroI = arith::ConstantIntOp::create(ib, il, i64, 0);
        Value noneFound = arith::ConstantIntOp::create(ib, il, 0, 1);
        Value pI64 = arith::IndexCastOp::create(ib, il, i64, p);
        auto rounds = scf::ForOp::create(
            ib, il, c0, arith::ConstantIndexOp::create(ib, il, k), c1,
            ValueRange{zero, zeroI, zero, zero, zero, zeroI},
            [&](OpBuilder &rb, Location rl, Value r, ValueRange it) {
              Value prevV = it[0], prevI = it[1];
              Value round0 = arith::CmpIOp::create(
                  rb, rl, arith::CmpIPredicate::eq, r, c0);
              // The best element after the previous pick in the order.
              auto scan = scf::ForOp::create(
                  rb, rl, c0, arith::ConstantIndexOp::create(rb, rl, e), c1,
                  ValueRange{zero, zeroI, noneFound},
                  [&](OpBuilder &sb, Location sl, Value j, ValueRange best) {
                    SmallVector<Value> idx(at);
                    idx.push_back(j);
                    Value xj = tensor::ExtractOp::create(sb, sl, x, idx);
                    if (xj.getType() != f32)
                      xj = arith::ExtFOp::create(sb, sl, f32, xj);
                    Value jj = arith::IndexCastOp::create(sb, sl, i64, j);
                    Value after = arith::OrIOp::create(
                        sb, sl, round0, precedes(sb, sl, prevV, prevI, xj, jj));
                    Value better = arith::OrIOp::create(
                        sb, sl,
                        arith::XOrIOp::create(
                            sb, sl, best[2],
                            arith::ConstantIntOp::create(sb, sl, 1, 1)),
                        precedes(sb, sl, xj, jj, best[0], best[1]));
                    Value take = arith::AndIOp::create(sb, sl, after, better);
                    scf::YieldOp::create(
                        sb, sl,
                        ValueRange{
                            arith::SelectOp::create(sb, sl, take, xj, best[0]),
                            arith::SelectOp::create(sb, sl, take, jj, best[1]),
                            arith::OrIOp::create(sb, sl, best[2], take)});
                  });
              Value v = scan.getResult(0), vi = scan.getResult(1);
              // The first pick is the row's maximum: the softmax's shift.
              Value v0 = arith::SelectOp::create(rb, rl, round0, v, it[2]);
              Value sum = arith::AddFOp::create(
                  rb, rl, it[3],
                  math::ExpOp::create(rb, rl,
                                      arith::SubFOp::create(rb, rl, v, v0)));
              Value mine = arith::CmpIOp::create(
                  rb, rl, arith::CmpIPredicate::eq,
                  arith::IndexCastOp::create(rb, rl, i64, r), pI64);
              scf::YieldOp::create(
                  rb, rl,
                  ValueRange{v, vi, v0, sum,
                             arith::SelectOp::create(rb, rl, mine, v, it[4]),
                             arith::SelectOp::create(rb, rl, mine, vi, it[5])});
            });
        Value v0 = rounds.getResult(2), sum = rounds.getResult(3);
        Value w = arith::DivFOp::create(
            ib, il,
            math::ExpOp::create(
                ib, il,
                arith::SubFOp::create(ib, il, rounds.getResult(4), v0)),
            sum);
        Type wt = wType.getElementType();
        if (wt != f32)
          w = arith::TruncFOp::create(ib, il, wt, w);
        scf::YieldOp::create(ib, il, ValueRange{w, rounds.getResult(5)});
      };
      auto branch = scf::IfOp::create(
          b, l, first, compute, [&](OpBuilder &eb, Location el) {
            scf::YieldOp::create(eb, el, ValueRange{a[1], a[2]});
          });
      linalg::YieldOp::create(b, l, branch.getResults());
    };
    auto gen = linalg::GenericOp::create(
        rewriter, loc, TypeRange{wType, iType}, ValueRange{x},
        ValueRange{w0, i0}, SmallVector<AffineMap>{inMap, outMap, outMap},
        iteratorsWithReductions(rank + 1, {int64_t(rank)}), body);
    gen->setAttr("sinter.moe_router", rewriter.getI64IntegerAttr(k));
    rewriter.replaceOp(op, gen.getResults());
    return success();
  }
};
} // namespace

void sinter::populateScanAndSortPatterns(RewritePatternSet &patterns) {
  patterns.add<CumSumLowering, TopKLowering, MoeRouterLowering>(
      patterns.getContext());
}
