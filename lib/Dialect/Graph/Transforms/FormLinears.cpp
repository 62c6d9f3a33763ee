//===- FormLinears.cpp - constant-weight matmuls become sinter.linear -----===//
//
// The parallel-linear fusion and the kernels work on sinter.linear, whose
// weight is [out, in]. A MatMul export leaves `matmul(x, W[in, out])` and a
// Gemm with transB = 0 leaves `linear(x, transpose(W))`; both become a
// linear over a weight already in [out, in] layout: transposed at compile
// time for inline constants, or by a one-source sinter.pack_weights plan
// for resource (external-data) constants, whose bytes are not read here.
//
//===----------------------------------------------------------------------===//

#include "WeightPacking.h"
#include "sinter/Dialect/Graph/IR/ShapeInference.h"
#include "sinter/Dialect/Graph/Transforms/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace sinter {
#define GEN_PASS_DEF_FORMLINEARSPASS
#include "sinter/Dialect/Graph/Transforms/Passes.h.inc"
} // namespace sinter

using namespace mlir;
using namespace sinter;

namespace {
/// matmul(x, W) with a constant 2-D float W -> linear(x, W^T).
struct MatMulToLinear : OpRewritePattern<MatMulOp> {
  using Base::Base;
  LogicalResult matchAndRewrite(MatMulOp op,
                                PatternRewriter &rewriter) const override {
    auto wt = cast<RankedTensorType>(op.getRhs().getType());
    auto xt = cast<RankedTensorType>(op.getLhs().getType());
    if (wt.getRank() != 2 || !isa<FloatType>(wt.getElementType()))
      return rewriter.notifyMatchFailure(op, "rhs is not a 2-D float matrix");
    FailureOr<WeightSource> src = traceWeight(op.getRhs());
    if (failed(src))
      return rewriter.notifyMatchFailure(op, "rhs is not a constant");
    auto outIn = RankedTensorType::get({wt.getDimSize(1), wt.getDimSize(0)},
                                       wt.getElementType());
    std::string why;
    FailureOr<shape::Shape> out =
        shape::linear(xt.getShape(), outIn.getShape(), std::nullopt, why);
    if (failed(out) || ArrayRef<int64_t>(*out) !=
                           cast<RankedTensorType>(op.getType()).getShape())
      return rewriter.notifyMatchFailure(op, "not a linear's shape");
    src->transposed = !src->transposed;
    rewriter.setInsertionPoint(op);
    Value w = buildPack(rewriter, op.getLoc(), outIn, {*src}, 0);
    rewriter.replaceOpWithNewOp<LinearOp>(op, op.getType(), op.getLhs(), w,
                                          Value());
    return success();
  }
};

/// linear(x, transpose(W)) with a constant W: the transpose is done once.
struct FoldLinearWeightTranspose : OpRewritePattern<LinearOp> {
  using Base::Base;
  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getWeight().getDefiningOp<TransposeOp>())
      return rewriter.notifyMatchFailure(op, "weight is not a transpose");
    FailureOr<WeightSource> src = traceWeight(op.getWeight());
    if (failed(src))
      return rewriter.notifyMatchFailure(op, "weight is not a constant");
    rewriter.setInsertionPoint(op);
    Value w =
        buildPack(rewriter, op.getLoc(),
                  cast<RankedTensorType>(op.getWeight().getType()), {*src}, 0);
    rewriter.modifyOpInPlace(op, [&] { op.getWeightMutable().assign(w); });
    return success();
  }
};

struct FormLinearsPass : sinter::impl::FormLinearsPassBase<FormLinearsPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<MatMulToLinear, FoldLinearWeightTranspose>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
