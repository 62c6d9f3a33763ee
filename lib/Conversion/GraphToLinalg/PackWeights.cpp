//===- PackWeights.cpp - lowering of the weight-pack plan -----------------===//
//
// sinter.pack_weights is a plan the runtime applies once, when a session
// opens, not a computation of the forward. It lowers to a constant whose
// data does not exist at compile time: a `dense_resource` with no blob,
// keyed `sinter_pack...`, and the plan itself in the module's
// `sinter.pack_plans` dictionary under that key (axis, offsets, transpose,
// and the sources as their ElementsAttrs). Bufferization turns the constant
// into a global like any weight; sinter-bind-weights (codegen) replaces the
// global by a slot the runtime fills with the packed weight, and lists the
// plan in the executable's weight table. Nothing here reads the sources'
// data: external-data weights stay unread at compile time.
//
//===----------------------------------------------------------------------===//

#include "sinter/Conversion/GraphToLinalg/GraphToLinalg.h"
#include "sinter/Dialect/Graph/IR/GraphOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;

namespace {
struct PackWeightsLowering : OpConversionPattern<sinter::PackWeightsOp> {
  using Base::Base;
  LogicalResult
  matchAndRewrite(sinter::PackWeightsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto module = op->getParentOfType<ModuleOp>();
    if (!module)
      return rewriter.notifyMatchFailure(op, "the plan is not in a module");
    SmallVector<Attribute> sources;
    for (Value src : op.getSources()) {
      ElementsAttr data;
      if (!matchPattern(src, m_Constant(&data)))
        return rewriter.notifyMatchFailure(
            op, "a source is not a constant (the verifier should refuse it)");
      sources.push_back(data);
    }
    auto type = cast<RankedTensorType>(op.getType());
    // A blobless resource: the handle's key is made unique by the manager.
    auto &manager =
        DenseResourceElementsHandle::getManagerInterface(rewriter.getContext());
    DenseResourceElementsHandle handle = manager.insert("sinter_pack");
    auto placeholder = DenseResourceElementsAttr::get(type, handle);

    auto plans = module->getAttrOfType<DictionaryAttr>("sinter.pack_plans");
    NamedAttrList entries(plans ? plans.getValue()
                                : ArrayRef<NamedAttribute>());
    entries.set(handle.getKey(),
                rewriter.getDictionaryAttr(
                    {rewriter.getNamedAttr("axis", op.getAxisAttr()),
                     rewriter.getNamedAttr("offsets", op.getOffsetsAttr()),
                     rewriter.getNamedAttr("transpose", op.getTransposeAttr()),
                     rewriter.getNamedAttr("sources",
                                           rewriter.getArrayAttr(sources))}));
    rewriter.modifyOpInPlace(module, [&] {
      module->setAttr("sinter.pack_plans",
                      entries.getDictionary(rewriter.getContext()));
    });
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, type, placeholder);
    return success();
  }
};
} // namespace

void sinter::populatePackWeightsToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<PackWeightsLowering>(patterns.getContext());
}
