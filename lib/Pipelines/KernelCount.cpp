//===- KernelCount.cpp - kernels per forward, weight bytes packed at load -===//

#include "sinter/Pipelines/KernelCount.h"
#include "sinter/Dialect/Graph/IR/GraphOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/EquivalenceClasses.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;

namespace sinter {

bool isViewOp(Operation *op) {
  static const char *const views[] = {
      "tensor.expand_shape", "tensor.collapse_shape", "tensor.reshape",
      "tensor.cast",         "tensor.bitcast",        "tensor.extract_slice",
      "tensor.empty",        "sinter.split"};
  return llvm::is_contained(views, op->getName().getStringRef());
}

bool isElementwiseOp(Operation *op) {
  if (!isa<SinterDialect>(op->getDialect()) || op->getNumResults() != 1)
    return false;
  if (op->hasTrait<OpTrait::Broadcasting>())
    return true;
  llvm::StringRef name = op->getName().getStringRef();
  static const char *const extra[] = {"sinter.cast", "sinter.clip",
                                      "sinter.isnan", "sinter.isinf",
                                      "sinter.pad"};
  if (llvm::is_contained(extra, name))
    return true;
  // The unary math ops: one operand of the result's type. Ops of that
  // shape that are not elementwise are listed.
  static const char *const notElementwise[] = {
      "sinter.softmax", "sinter.log_softmax", "sinter.cumsum", "sinter.reverse",
      "sinter.trilu"};
  return op->getNumOperands() == 1 &&
         op->getOperand(0).getType() == op->getResult(0).getType() &&
         !llvm::is_contained(notElementwise, name);
}

static int64_t resultBytes(Operation *op) {
  int64_t bytes = 0;
  for (Type t : op->getResultTypes()) {
    auto shaped = dyn_cast<ShapedType>(t);
    if (!shaped || !shaped.hasStaticShape() ||
        !shaped.getElementType().isIntOrFloat())
      continue;
    bytes += (shaped.getNumElements() *
                  shaped.getElementType().getIntOrFloatBitWidth() +
              7) /
             8;
  }
  return bytes;
}

KernelCount countKernels(ModuleOp module) {
  KernelCount count;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func.isExternal())
      continue;
    // Values known before the first forward: constants, the pack plan,
    // views of them.
    llvm::DenseSet<Value> loadTime;
    llvm::EquivalenceClasses<Operation *> chains;
    // The op that computes a value, looking through views.
    auto producer = [&](Value v) -> Operation * {
      Operation *def = v.getDefiningOp();
      while (def && isViewOp(def) && def->getNumOperands() >= 1)
        def = def->getOperand(0).getDefiningOp();
      return def;
    };
    // Top-level ops only: an op with regions is one kernel.
    for (Operation &opRef : func.getBody().getOps()) {
      Operation *op = &opRef;
      if (isa<func::ReturnOp>(op))
        continue;
      bool onWeights = llvm::all_of(
          op->getOperands(), [&](Value v) { return loadTime.contains(v); });
      bool packPlan = op->getName().getStringRef() == "sinter.pack_weights";
      if (op->hasTrait<mlir::OpTrait::ConstantLike>() || packPlan ||
          (isViewOp(op) && onWeights && op->getNumOperands() != 0)) {
        for (Value v : op->getResults())
          loadTime.insert(v);
        if (packPlan) {
          ++count.packOps;
          count.packBytes += resultBytes(op);
        }
        continue;
      }
      if (isViewOp(op))
        continue;
      ++count.ops;
      if (!isElementwiseOp(op)) {
        ++count.kernels;
        continue;
      }
      chains.insert(op);
      for (Value v : op->getOperands())
        if (Operation *def = producer(v);
            def && def->getBlock() == op->getBlock() && isElementwiseOp(def) &&
            !loadTime.contains(v))
          chains.unionSets(op, def);
    }
    count.kernels += chains.getNumClasses();
  }
  return count;
}

int64_t countLoweredKernels(ModuleOp module) {
  int64_t kernels = 0;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func.isExternal())
      continue;
    // Every linalg op left after kernel formation is one loop nest (CPU)
    // or one launch of the generic CUDA mapping; a buffer copy too.
    // Views, constants and index arithmetic are free.
    func.walk([&](Operation *op) {
      if (isa<linalg::LinalgOp, memref::CopyOp>(op))
        ++kernels;
    });
  }
  return kernels;
}

} // namespace sinter
