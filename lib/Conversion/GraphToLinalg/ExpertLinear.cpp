//===- ExpertLinear.cpp - sinter.expert_linear to one linalg.generic ------===//
//
// The mixture-of-experts projection as one contraction over (t, j, n, k)
// whose body reads the weight element of expert idx[t, j] with a
// tensor.extract: the selected expert matrices are read where they lie,
// never copied into a gathered tensor (the point of
// `sinter-form-expert-linears`). The index is an operand of the generic,
// so it is loaded once per element like x; its negative values count from
// E as in Gather. f16/bf16 accumulate in f32 and round once. The weight
// is [E, N, K], or [E, K, N] with `weight_kn`: only the extract's index
// order differs, so the loops and the order of the sum are the same.
//
//===----------------------------------------------------------------------===//

#include "GenericBuilders.h"

#include "sinter/Conversion/GraphToLinalg/GraphToLinalg.h"
#include "sinter/Dialect/Graph/IR/GraphOps.h"

using namespace mlir;
using namespace sinter::gen;

namespace {

struct ExpertLinearLowering : OpConversionPattern<sinter::ExpertLinearOp> {
  using Base::Base;
  LogicalResult
  matchAndRewrite(sinter::ExpertLinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto outTy = cast<RankedTensorType>(op.getType());
    Value x = adaptor.getInput(), w = adaptor.getWeight(),
          idx = adaptor.getIndices();
    int64_t experts = cast<RankedTensorType>(w.getType()).getDimSize(0);
    Type elt = outTy.getElementType(), acc = accType(elt);
    bool perSlot = cast<RankedTensorType>(x.getType()).getRank() == 3;
    bool kn = op.getWeightKn();

    // The accumulator: zeros, or the selected expert's bias.
    Value init;
    if (Value bias = adaptor.getBias()) {
      AffineMap id = AffineMap::getMultiDimIdentityMap(3, ctx);
      init = generic1(rewriter, loc, idx,
                      emptyTensor(rewriter, loc, outTy.getShape(), acc),
                      {dimsMap(ctx, 3, {0, 1}), id}, iterators(3),
                      [&](OpBuilder &b, Location l, ValueRange a) {
                        Value e = wrapIndex(b, l, a[0], experts);
                        Value n = linalg::IndexOp::create(b, l, 2);
                        Value v = tensor::ExtractOp::create(
                            b, l, bias, ValueRange{e, n});
                        yield(b, l, convert(b, l, v, acc));
                      });
    } else {
      init = filledTensor(rewriter, loc, outTy.getShape(), acc, 0.0);
    }

    // Loops (t, j, n, k).
    SmallVector<AffineMap> maps{
        perSlot ? dimsMap(ctx, 4, {0, 1, 3}) : dimsMap(ctx, 4, {0, 3}),
        dimsMap(ctx, 4, {0, 1}), dimsMap(ctx, 4, {0, 1, 2})};
    Value res = generic1(
        rewriter, loc, ValueRange{x, idx}, init, maps, iterators(3, 1),
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value e = wrapIndex(b, l, a[1], experts);
          Value n = linalg::IndexOp::create(b, l, 2);
          Value k = linalg::IndexOp::create(b, l, 3);
          SmallVector<Value> at =
              kn ? SmallVector<Value>{e, k, n} : SmallVector<Value>{e, n, k};
          Value wv = tensor::ExtractOp::create(b, l, w, at);
          Value prod =
              mul(b, l, convert(b, l, a[0], acc), convert(b, l, wv, acc));
          yield(b, l, add(b, l, a[2], prod));
        });
    rewriter.replaceOp(op, convertTensor(rewriter, loc, res, elt));
    return success();
  }
};

} // namespace

void sinter::populateExpertLinearToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<ExpertLinearLowering>(patterns.getContext());
}
