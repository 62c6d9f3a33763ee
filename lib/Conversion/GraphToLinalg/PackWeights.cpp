//===- PackWeights.cpp - lowering of the weight-pack plan -----------------===//
//
// sinter.pack_weights is a plan the runtime should apply once, at load time.
// The CPU target has no load-time step yet (its artifact embeds every
// weight), so the plan lowers to the computation it describes: a transpose
// per flagged source and one tensor.concat. It then runs on every forward
// call; constant folding of the lowered IR does not touch resource-backed
// (external-data) constants, on purpose.
//
//===----------------------------------------------------------------------===//

#include "sinter/Conversion/GraphToLinalg/GraphToLinalg.h"
#include "sinter/Dialect/Graph/IR/GraphOps.h"

using namespace mlir;

namespace {
struct PackWeightsLowering : OpConversionPattern<sinter::PackWeightsOp> {
  using Base::Base;
  LogicalResult
  matchAndRewrite(sinter::PackWeightsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    SmallVector<Value> pieces;
    for (auto [src, transposed] :
         llvm::zip_equal(adaptor.getSources(), op.getTranspose())) {
      if (!transposed) {
        pieces.push_back(src);
        continue;
      }
      auto t = cast<RankedTensorType>(src.getType());
      auto tt = RankedTensorType::get({t.getDimSize(1), t.getDimSize(0)},
                                      t.getElementType());
      // A sinter op: the conversion driver legalizes it in turn.
      pieces.push_back(sinter::TransposeOp::create(
          rewriter, op.getLoc(), tt, src, ArrayRef<int64_t>{1, 0}));
    }
    if (pieces.size() == 1) {
      rewriter.replaceOp(op, pieces.front());
      return success();
    }
    rewriter.replaceOpWithNewOp<tensor::ConcatOp>(op, op.getType(),
                                                  op.getAxis(), pieces);
    return success();
  }
};
} // namespace

void sinter::populatePackWeightsToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<PackWeightsLowering>(patterns.getContext());
}
