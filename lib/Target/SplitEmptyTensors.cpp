//===- SplitEmptyTensors.cpp - the sinter-split-empty-tensors pass --------===//
//
// One tensor.empty per use, before bufferization. CSE folds every empty of
// a type into one value; one-shot bufferization then sees every op that
// writes into it as aliasing one buffer and checks each write against every
// read of that alias set: quadratic in the function's size (Passes.td has
// the numbers). An empty has no contents, so duplicating it changes nothing
// but the analysis' work.
//
//===----------------------------------------------------------------------===//

#include "sinter/Target/Passes.h"

namespace sinter {
#define GEN_PASS_DEF_SPLITEMPTYTENSORSPASS
#include "sinter/Target/Passes.h.inc"
} // namespace sinter

using namespace mlir;

namespace {

struct SplitEmptyTensorsPass
    : sinter::impl::SplitEmptyTensorsPassBase<SplitEmptyTensorsPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<tensor::EmptyOp> empties;
    getOperation().walk([&](tensor::EmptyOp op) { empties.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (tensor::EmptyOp empty : empties) {
      // The first use keeps the original; every other use gets a clone at
      // the original's place, so it dominates the same uses.
      SmallVector<OpOperand *> uses;
      for (OpOperand &use : empty->getUses())
        uses.push_back(&use);
      rewriter.setInsertionPointAfter(empty);
      for (OpOperand *use : llvm::drop_begin(uses)) {
        Operation *copy = rewriter.clone(*empty);
        rewriter.modifyOpInPlace(use->getOwner(),
                                 [&] { use->set(copy->getResult(0)); });
      }
    }
  }
};

} // namespace
