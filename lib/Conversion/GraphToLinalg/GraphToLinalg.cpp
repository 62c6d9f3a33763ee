//===- GraphToLinalg.cpp - the sinter-convert-graph-to-linalg pass --------===//
//
// A full dialect conversion: afterwards no sinter op remains. Tensor types do
// not change, so patterns are plain OpConversionPatterns without a type
// converter; a pattern may expand a compound op into other sinter ops, which
// the driver then legalizes in turn.
//
//===----------------------------------------------------------------------===//

#include "sinter/Conversion/GraphToLinalg/GraphToLinalg.h"
#include "sinter/Conversion/Passes.h"
#include "sinter/Dialect/Graph/IR/GraphOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Transforms/DialectConversion.h"

namespace sinter {
#define GEN_PASS_DEF_CONVERTGRAPHTOLINALGPASS
#include "sinter/Conversion/Passes.h.inc"
} // namespace sinter

using namespace mlir;

namespace {
struct ConvertGraphToLinalgPass
    : sinter::impl::ConvertGraphToLinalgPassBase<ConvertGraphToLinalgPass> {
  using Base::Base;
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    ConversionTarget target(*ctx);
    target.addIllegalDialect<sinter::SinterDialect>();
    target.addLegalDialect<linalg::LinalgDialect, tensor::TensorDialect,
                           arith::ArithDialect, math::MathDialect,
                           scf::SCFDialect, func::FuncDialect>();
    target.addLegalOp<ModuleOp>();
    RewritePatternSet patterns(ctx);
    sinter::populateElementwiseToLinalgPatterns(patterns);
    sinter::populateReductionToLinalgPatterns(patterns);
    sinter::populateLinearAlgebraToLinalgPatterns(patterns);
    sinter::populateGatedLinearToLinalgPatterns(patterns);
    sinter::populateExpertLinearToLinalgPatterns(patterns);
    sinter::populateDataMovementToLinalgPatterns(patterns);
    sinter::populateLLMOpsToLinalgPatterns(patterns);
    sinter::populatePackWeightsToLinalgPatterns(patterns);
    if (failed(applyFullConversion(getOperation(), target, std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
