//===- LinearAlgebra.cpp - matmul, linear and conv to linalg --------------===//
//
// Each op becomes one linalg.generic with a reduction loop: broadcasting of
// batch dimensions and convolution windows are expressed in the indexing
// maps (constant 0 for a stretched dim, `o * stride + k * dilation` for a
// window), so that later tiling and vectorization see plain contractions.
// f16/bf16 products accumulate in f32 and round once; integers accumulate in
// their own type.
//
//===----------------------------------------------------------------------===//

#include "GenericBuilders.h"

#include "sinter/Conversion/GraphToLinalg/GraphToLinalg.h"
#include "sinter/Dialect/Graph/IR/GraphOps.h"

using namespace mlir;
using namespace sinter::gen;

namespace {

ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

/// The multiply-accumulate body shared by the contractions: args are
/// (lhs, rhs, acc).
void macBody(OpBuilder &b, Location loc, ValueRange args) {
  Type acc = args[2].getType();
  Value x = convert(b, loc, args[0], acc);
  Value y = convert(b, loc, args[1], acc);
  yield(b, loc, add(b, loc, args[2], mul(b, loc, x, y)));
}

/// A zero-filled accumulator, or one holding `bias` broadcast through
/// `biasMap` (a map from the output's dims).
Value accumulatorInit(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                      Type acc, Value bias, AffineMap biasMap) {
  if (!bias)
    return filledTensor(b, loc, shape, acc, 0.0);
  unsigned r = shape.size();
  AffineMap id = AffineMap::getMultiDimIdentityMap(r, b.getContext());
  return generic1(b, loc, bias, emptyTensor(b, loc, shape, acc), {biasMap, id},
                  iterators(r), [&](OpBuilder &nb, Location l, ValueRange a) {
                    yield(nb, l, convert(nb, l, a[0], acc));
                  });
}

struct MatMulLowering : OpConversionPattern<sinter::MatMulOp> {
  using Base::Base;
  LogicalResult
  matchAndRewrite(sinter::MatMulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value lhs = adaptor.getLhs(), rhs = adaptor.getRhs();
    auto outTy = cast<RankedTensorType>(op.getType());
    ArrayRef<int64_t> a = shapeOf(lhs), bsh = shapeOf(rhs),
                      out = outTy.getShape();
    bool vecA = a.size() == 1, vecB = bsh.size() == 1;
    unsigned nb = out.size() - (vecA ? 0 : 1) - (vecB ? 0 : 1);
    unsigned mDim = nb, nDim = nb + (vecA ? 0 : 1);
    unsigned numLoops = nb + (vecA ? 0 : 1) + (vecB ? 0 : 1) + 1;
    unsigned kDim = numLoops - 1;

    auto operandMap = [&](ArrayRef<int64_t> s, bool isLhs, bool isVec) {
      SmallVector<AffineExpr> e;
      if (!isVec) {
        ArrayRef<int64_t> batch = s.drop_back(2);
        unsigned lead = nb - batch.size();
        for (auto [i, d] : llvm::enumerate(batch))
          e.push_back(d == 1 && out[lead + i] != 1
                          ? getAffineConstantExpr(0, ctx)
                          : getAffineDimExpr(lead + i, ctx));
        if (isLhs) {
          e.push_back(getAffineDimExpr(mDim, ctx));
          e.push_back(getAffineDimExpr(kDim, ctx));
        } else {
          e.push_back(getAffineDimExpr(kDim, ctx));
          e.push_back(getAffineDimExpr(nDim, ctx));
        }
      } else {
        e.push_back(getAffineDimExpr(kDim, ctx));
      }
      return AffineMap::get(numLoops, 0, e, ctx);
    };
    SmallVector<unsigned> outDims;
    for (unsigned i = 0; i < kDim; ++i)
      outDims.push_back(i);
    SmallVector<AffineMap> maps{operandMap(a, true, vecA),
                                operandMap(bsh, false, vecB),
                                dimsMap(ctx, numLoops, outDims)};

    Type elt = outTy.getElementType(), acc = accType(elt);
    Value init = filledTensor(rewriter, loc, out, acc, 0.0);
    Value res = generic1(rewriter, loc, ValueRange{lhs, rhs}, init, maps,
                         iterators(kDim, 1), macBody);
    rewriter.replaceOp(op, convertTensor(rewriter, loc, res, elt));
    return success();
  }
};

struct LinearLowering : OpConversionPattern<sinter::LinearOp> {
  using Base::Base;
  LogicalResult
  matchAndRewrite(sinter::LinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto outTy = cast<RankedTensorType>(op.getType());
    unsigned r = outTy.getRank(); // loops: r-1 leading, n, k
    SmallVector<unsigned> xDims, outDims;
    for (unsigned i = 0; i + 1 < r; ++i)
      xDims.push_back(i);
    outDims = xDims;
    outDims.push_back(r - 1);
    xDims.push_back(r);
    SmallVector<AffineMap> maps{dimsMap(ctx, r + 1, xDims),
                                dimsMap(ctx, r + 1, {r - 1, r}),
                                dimsMap(ctx, r + 1, outDims)};
    Type elt = outTy.getElementType(), acc = accType(elt);
    Value init = accumulatorInit(rewriter, loc, outTy.getShape(), acc,
                                 adaptor.getBias(), dimsMap(ctx, r, {r - 1}));
    Value res = generic1(rewriter, loc,
                         ValueRange{adaptor.getInput(), adaptor.getWeight()},
                         init, maps, iterators(r, 1), macBody);
    rewriter.replaceOp(op, convertTensor(rewriter, loc, res, elt));
    return success();
  }
};

/// Input [N, C, D...] is zero-padded, then viewed as [N, G, C/G, D...]; the
/// weight [M, C/G, K...] as [G, M/G, C/G, K...]; one generic over
/// [n, g, m, o..., c, k...] computes [N, G, M/G, O...], collapsed to
/// [N, M, O...].
struct ConvLowering : OpConversionPattern<sinter::ConvOp> {
  using Base::Base;
  LogicalResult
  matchAndRewrite(sinter::ConvOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value x = adaptor.getInput(), w = adaptor.getWeight();
    auto outTy = cast<RankedTensorType>(op.getType());
    ArrayRef<int64_t> xs = shapeOf(x), ws = shapeOf(w), out = outTy.getShape();
    unsigned sp = xs.size() - 2;
    ArrayRef<int64_t> pads = op.getPads(), strides = op.getStrides(),
                      dil = op.getDilations();
    if (llvm::any_of(pads, [](int64_t p) { return p < 0; }))
      return rewriter.notifyMatchFailure(op, "negative conv pads");
    Type elt = outTy.getElementType(), acc = accType(elt);
    Type xElt = cast<RankedTensorType>(x.getType()).getElementType();

    // Zero padding.
    if (llvm::any_of(pads, [](int64_t p) { return p != 0; })) {
      SmallVector<OpFoldResult> lo(2, rewriter.getIndexAttr(0)),
          hi(2, rewriter.getIndexAttr(0));
      SmallVector<int64_t> padded(xs);
      for (unsigned i = 0; i < sp; ++i) {
        lo.push_back(rewriter.getIndexAttr(pads[i]));
        hi.push_back(rewriter.getIndexAttr(pads[sp + i]));
        padded[2 + i] += pads[i] + pads[sp + i];
      }
      Value zero = constant(rewriter, loc, xElt, 0.0);
      x = tensor::PadOp::create(
          rewriter, loc, RankedTensorType::get(padded, xElt), x, lo, hi, zero);
      xs = shapeOf(x);
    }

    int64_t g = op.getGroup(), cg = ws[1], mg = ws[0] / g;
    // [N, C, P...] -> [N, G, C/G, P...]
    SmallVector<int64_t> xe{xs[0], g, cg};
    SmallVector<ReassociationIndices> xr{{0}, {1, 2}};
    for (unsigned i = 0; i < sp; ++i) {
      xe.push_back(xs[2 + i]);
      xr.push_back({(int64_t)(3 + i)});
    }
    x = tensor::ExpandShapeOp::create(rewriter, loc,
                                      RankedTensorType::get(xe, xElt), x, xr);
    // [M, C/G, K...] -> [G, M/G, C/G, K...]
    Type wElt = cast<RankedTensorType>(w.getType()).getElementType();
    SmallVector<int64_t> we{g, mg, cg};
    SmallVector<ReassociationIndices> wr{{0, 1}, {2}};
    for (unsigned i = 0; i < sp; ++i) {
      we.push_back(ws[2 + i]);
      wr.push_back({(int64_t)(3 + i)});
    }
    w = tensor::ExpandShapeOp::create(rewriter, loc,
                                      RankedTensorType::get(we, wElt), w, wr);

    // Loops: n, g, m, o_0.., c, k_0..
    unsigned numLoops = 4 + 2 * sp, cDim = 3 + sp;
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    SmallVector<AffineExpr> xm{d(0), d(1), d(cDim)}, wm{d(1), d(2), d(cDim)},
        om{d(0), d(1), d(2)};
    for (unsigned i = 0; i < sp; ++i) {
      xm.push_back(d(3 + i) * strides[i] + d(cDim + 1 + i) * dil[i]);
      wm.push_back(d(cDim + 1 + i));
      om.push_back(d(3 + i));
    }
    SmallVector<AffineMap> maps{AffineMap::get(numLoops, 0, xm, ctx),
                                AffineMap::get(numLoops, 0, wm, ctx),
                                AffineMap::get(numLoops, 0, om, ctx)};

    SmallVector<int64_t> accShape{out[0], g, mg};
    SmallVector<ReassociationIndices> outR{{0}, {1, 2}};
    for (unsigned i = 0; i < sp; ++i) {
      accShape.push_back(out[2 + i]);
      outR.push_back({(int64_t)(3 + i)});
    }
    Value bias = adaptor.getBias();
    if (bias) {
      Type bElt = cast<RankedTensorType>(bias.getType()).getElementType();
      bias = tensor::ExpandShapeOp::create(
          rewriter, loc, RankedTensorType::get({g, mg}, bElt), bias,
          SmallVector<ReassociationIndices>{{0, 1}});
    }
    Value init = accumulatorInit(rewriter, loc, accShape, acc, bias,
                                 dimsMap(ctx, accShape.size(), {1, 2}));
    Value res = generic1(rewriter, loc, ValueRange{x, w}, init, maps,
                         iterators(3 + sp, 1 + sp), macBody);
    res = convertTensor(rewriter, loc, res, elt);
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(op, outTy, res, outR);
    return success();
  }
};

} // namespace

void sinter::populateLinearAlgebraToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<MatMulLowering, LinearLowering, ConvLowering>(
      patterns.getContext());
}
