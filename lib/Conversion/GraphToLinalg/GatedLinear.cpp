//===- GatedLinear.cpp - sinter.gated_linear to one linalg.generic --------===//
//
// The gated MLP's down projection as a single contraction whose body forms
// act(gate) * up from the two operand elements before the multiply-
// accumulate with the weight: the gated product is never materialized (no
// tensor, hence no buffer after bufferization), which is the point of
// `sinter-fuse-gated-activation`. The activation is recomputed once per
// output feature in this loop nest; a tiled kernel computes it once per
// operand tile as it is loaded. f16/bf16 compute in f32 and round once,
// except that with `operand_type` the product is rounded to that type first
// (as the graph it replaces rounds it).
//
//===----------------------------------------------------------------------===//

#include "GenericBuilders.h"
#include "LoweringUtils.h"

#include "sinter/Conversion/GraphToLinalg/GraphToLinalg.h"
#include "sinter/Dialect/Graph/IR/GraphOps.h"

#include "mlir/IR/TypeUtilities.h"

#include <cmath>

using namespace mlir;
using namespace sinter::gen;

namespace {

Value cstLike(OpBuilder &b, Location loc, Value x, double v) {
  return constant(b, loc, x.getType(), v);
}

/// act(x) on a compute-type (f32 or f64) scalar; the same formulas as the
/// elementwise lowerings of sinter.silu, sinter.gelu and sinter.relu, so a
/// fused f32 model computes what the unfused one does.
Value activation(OpBuilder &b, Location loc, sinter::GatedActivation act,
                 Value x) {
  switch (act) {
  case sinter::GatedActivation::silu: {
    Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
    Value d = arith::AddFOp::create(b, loc, cstLike(b, loc, x, 1), e);
    return arith::DivFOp::create(b, loc, x, d);
  }
  case sinter::GatedActivation::gelu:
  case sinter::GatedActivation::gelu_tanh: {
    Value inner;
    if (act == sinter::GatedActivation::gelu_tanh) {
      Value x3 = mul(b, loc, mul(b, loc, x, x), x);
      Value s = add(b, loc, x, mul(b, loc, cstLike(b, loc, x, 0.044715), x3));
      inner = math::TanhOp::create(
          b, loc, mul(b, loc, cstLike(b, loc, x, std::sqrt(2.0 / M_PI)), s));
    } else {
      inner = math::ErfOp::create(
          b, loc, mul(b, loc, x, cstLike(b, loc, x, M_SQRT1_2)));
    }
    Value half = mul(b, loc, cstLike(b, loc, x, 0.5), x);
    return mul(b, loc, half, add(b, loc, cstLike(b, loc, x, 1), inner));
  }
  case sinter::GatedActivation::relu:
    return arith::MaximumFOp::create(b, loc, x, cstLike(b, loc, x, 0));
  }
  llvm_unreachable("unknown gated activation");
}

struct GatedLinearLowering : OpConversionPattern<sinter::GatedLinearOp> {
  using Base::Base;
  LogicalResult
  matchAndRewrite(sinter::GatedLinearOp op, OpAdaptor adaptor,
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
    AffineMap xMap = dimsMap(ctx, r + 1, xDims);
    SmallVector<AffineMap> maps{xMap, xMap, dimsMap(ctx, r + 1, {r - 1, r}),
                                dimsMap(ctx, r + 1, outDims)};
    Type elt = outTy.getElementType(), acc = accType(elt);

    // The accumulator: zeros, or the bias broadcast along the leading dims.
    Value init;
    if (Value bias = adaptor.getBias()) {
      AffineMap id = AffineMap::getMultiDimIdentityMap(r, ctx);
      init = generic1(rewriter, loc, bias,
                      emptyTensor(rewriter, loc, outTy.getShape(), acc),
                      {dimsMap(ctx, r, {r - 1}), id}, iterators(r),
                      [&](OpBuilder &nb, Location l, ValueRange a) {
                        yield(nb, l, convert(nb, l, a[0], acc));
                      });
    } else {
      init = filledTensor(rewriter, loc, outTy.getShape(), acc, 0.0);
    }

    sinter::GatedActivation act = op.getActivation();
    // Gate and up compute in their own compute type, which differs from the
    // accumulator's only with operand_type (e.g. an f32 activation feeding a
    // bf16 down projection).
    Type gateAcc = accType(getElementTypeOrSelf(op.getGate()));
    std::optional<Type> operandType = op.getOperandType();
    Value res = generic1(
        rewriter, loc,
        ValueRange{adaptor.getGate(), adaptor.getUp(), adaptor.getWeight()},
        init, maps, iterators(r, 1),
        [&](OpBuilder &b, Location l, ValueRange a) {
          // The prologue: the gated operand element, formed in registers.
          Value g = activation(b, l, act, convert(b, l, a[0], gateAcc));
          Value x = mul(b, l, g, convert(b, l, a[1], gateAcc));
          // Rounded as the graph's cast of the product rounds it (the same
          // scalar conversion as sinter.cast's lowering), then widened as
          // the linear widens its input.
          if (operandType)
            x = sinter::lowering::convertScalar(b, l, x, *operandType);
          x = convert(b, l, x, acc);
          Value w = convert(b, l, a[2], acc);
          yield(b, l, add(b, l, a[3], mul(b, l, x, w)));
        });
    rewriter.replaceOp(op, convertTensor(rewriter, loc, res, elt));
    return success();
  }
};

} // namespace

void sinter::populateGatedLinearToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<GatedLinearLowering>(patterns.getContext());
}
