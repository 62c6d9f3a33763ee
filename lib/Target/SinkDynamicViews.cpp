//===- SinkDynamicViews.cpp - the sinter-sink-dynamic-views pass ----------===//
//
// A kernel parameter is a bare pointer, so a view with a dynamic offset
// must be rebuilt inside the launch from its static source and index
// operands before the launch is outlined to a gpu.func.
//
//===----------------------------------------------------------------------===//

#include "sinter/Target/Passes.h"

#include "BarePointer.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

namespace sinter {
#define GEN_PASS_DEF_SINKDYNAMICVIEWSPASS
#include "sinter/Target/Passes.h.inc"
} // namespace sinter

using namespace mlir;

namespace {

struct SinkDynamicViewsPass
    : sinter::impl::SinkDynamicViewsPassBase<SinkDynamicViewsPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<gpu::LaunchOp> launches;
    getOperation().walk([&](gpu::LaunchOp op) { launches.push_back(op); });
    for (gpu::LaunchOp launch : launches)
      sink(launch);
  }

  void sink(gpu::LaunchOp launch) {
    Region &body = launch.getBody();
    llvm::SetVector<Value> captured;
    getUsedValuesDefinedAbove(body, captured);
    // The view chains behind every captured dynamic memref, sources first.
    llvm::SetVector<Operation *> chain;
    SmallVector<Value> work;
    for (Value v : captured)
      if (!sinter::isBarePointerMemRef(v.getType()))
        work.push_back(v);
    for (size_t i = 0; i < work.size(); ++i) {
      Operation *def = work[i].getDefiningOp();
      if (!def || !sinter::isClonableView(def))
        continue; // not a view: left for the lowering to refuse
      if (!chain.insert(def))
        continue;
      for (Value operand : def->getOperands())
        if (!sinter::isBarePointerMemRef(operand.getType()))
          work.push_back(operand);
    }
    if (chain.empty())
      return;
    OpBuilder b(launch.getContext());
    b.setInsertionPointToStart(&body.front());
    IRMapping map;
    // Producers before users: a view's operands are cloned first.
    std::function<void(Operation *)> clone = [&](Operation *op) {
      if (map.contains(op->getResult(0)))
        return;
      for (Value operand : op->getOperands())
        if (Operation *def = operand.getDefiningOp(); def && chain.contains(def))
          clone(def);
      Operation *copy = b.clone(*op, map);
      for (auto [from, to] : llvm::zip(op->getResults(), copy->getResults()))
        replaceAllUsesInRegionWith(from, to, body);
    };
    for (Operation *op : chain)
      clone(op);
  }
};

} // namespace
