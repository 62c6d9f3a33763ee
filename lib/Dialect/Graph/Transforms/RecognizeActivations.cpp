//===- RecognizeActivations.cpp - x*sigmoid(x) -> silu and friends --------===//
//
// Folds decomposed activations into the compound ops later passes match on
// (see the pass description in Passes.td).
//
//===----------------------------------------------------------------------===//

#include "sinter/Dialect/Graph/Transforms/Passes.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace sinter {
#define GEN_PASS_DEF_RECOGNIZEACTIVATIONSPASS
#include "sinter/Dialect/Graph/Transforms/Passes.h.inc"
} // namespace sinter

using namespace mlir;
using namespace sinter;

namespace {
/// x * sigmoid(x) (either order) -> silu(x).
struct MulSigmoidToSilu : OpRewritePattern<MulOp> {
  using Base::Base;
  LogicalResult matchAndRewrite(MulOp op,
                                PatternRewriter &rewriter) const override {
    for (auto [a, b] : {std::pair(op.getLhs(), op.getRhs()),
                        std::pair(op.getRhs(), op.getLhs())}) {
      auto sig = b.getDefiningOp<SigmoidOp>();
      if (!sig || sig.getInput() != a)
        continue;
      // Without broadcasting the product has x's type; with it, the op is
      // not an activation of x.
      if (a.getType() != op.getType())
        return rewriter.notifyMatchFailure(op, "the product broadcasts x");
      rewriter.replaceOpWithNewOp<SiluOp>(op, op.getType(), a);
      return success();
    }
    return rewriter.notifyMatchFailure(op, "no operand is sigmoid of the other");
  }
};

/// log(exp(x) + 1) (either order of the add) -> softplus(x).
struct LogOnePlusExpToSoftplus : OpRewritePattern<LogOp> {
  using Base::Base;
  LogicalResult matchAndRewrite(LogOp op,
                                PatternRewriter &rewriter) const override {
    auto add = op.getInput().getDefiningOp<AddOp>();
    if (!add)
      return rewriter.notifyMatchFailure(op, "operand is not an add");
    for (auto [a, b] : {std::pair(add.getLhs(), add.getRhs()),
                        std::pair(add.getRhs(), add.getLhs())}) {
      auto exp = a.getDefiningOp<ExpOp>();
      if (!exp || exp.getType() != op.getType())
        continue;
      if (!matchPattern(b, m_OneFloat()))
        continue;
      rewriter.replaceOpWithNewOp<SoftplusOp>(op, op.getType(), exp.getInput());
      return success();
    }
    return rewriter.notifyMatchFailure(op, "not log(exp(x) + 1)");
  }
};

struct RecognizeActivationsPass
    : sinter::impl::RecognizeActivationsPassBase<RecognizeActivationsPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<MulSigmoidToSilu, LogOnePlusExpToSoftplus>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
