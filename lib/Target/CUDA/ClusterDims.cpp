//===- ClusterDims.cpp - thread-block clusters as kernel attributes -------===//
//
// sinter-cuda-cluster-dims: runs after kernel outlining. A template that
// needs its blocks in thread-block clusters (sm_90: the expert GEMV's
// split combine, whose blocks read each other's shared memory) creates its
// gpu.launch with a cluster size; outlining carries it to the
// gpu.launch_func. This pass moves it onto the kernel as
// `nvvm.cluster_dim`, which NVPTX emits as `.explicitcluster` and
// `.reqnctapercluster X, Y, Z`, and rebuilds the launch without it. Why:
// with the size in the kernel the driver launches the grid in clusters
// from an ordinary cuLaunchKernel(Ex), so the runtime (its programmatic
// launch attribute, CUDA graph capture) needs nothing new, and the size
// travels with the PTX. A cluster size that is not constant, or two
// launches of one kernel with different sizes, is an error (no template
// creates either).
//
//===----------------------------------------------------------------------===//

#include "ClusterDims.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"

using namespace mlir;

namespace sinter::cuda {
namespace {

struct ClusterDimsPass : PassWrapper<ClusterDimsPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(ClusterDimsPass)
  StringRef getArgument() const final { return "sinter-cuda-cluster-dims"; }
  StringRef getDescription() const final {
    return "Move a launch's thread-block cluster size onto its kernel "
           "(nvvm.cluster_dim)";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<NVVM::NVVMDialect>();
  }
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTableCollection symbols;
    SmallVector<gpu::LaunchFuncOp> launches;
    module.walk([&](gpu::LaunchFuncOp l) {
      if (l.hasClusterSize())
        launches.push_back(l);
    });
    StringRef attrName = NVVM::NVVMDialect::getClusterDimAttrName();
    for (gpu::LaunchFuncOp l : launches) {
      gpu::KernelDim3 c = l.getClusterSizeOperandValues();
      SmallVector<int32_t> dims;
      for (Value v : {c.x, c.y, c.z}) {
        APInt n;
        if (!matchPattern(v, m_ConstantInt(&n))) {
          l.emitError("cluster size is not a constant");
          return signalPassFailure();
        }
        dims.push_back(int32_t(n.getSExtValue()));
      }
      auto fn =
          symbols.lookupNearestSymbolFrom<gpu::GPUFuncOp>(l, l.getKernel());
      if (!fn) {
        l.emitError("kernel of a clustered launch not found");
        return signalPassFailure();
      }
      auto want = DenseI32ArrayAttr::get(&getContext(), dims);
      if (auto have = fn->getAttrOfType<DenseI32ArrayAttr>(attrName);
          have && have != want) {
        l.emitError("kernel @")
            << fn.getName() << " is launched with two cluster sizes";
        return signalPassFailure();
      }
      fn->setAttr(attrName, want);
      OpBuilder b(l);
      auto plain = gpu::LaunchFuncOp::create(
          b, l.getLoc(), l.getKernelAttr(), l.getGridSizeOperandValues(),
          l.getBlockSizeOperandValues(), l.getDynamicSharedMemorySize(),
          l.getKernelOperands(),
          l.getAsyncToken() ? l.getAsyncToken().getType() : Type(),
          l.getAsyncDependencies());
      for (NamedAttribute a : l->getDiscardableAttrs())
        plain->setAttr(a.getName(), a.getValue());
      l->replaceAllUsesWith(plain);
      l.erase();
    }
  }
};

} // namespace

std::unique_ptr<Pass> createClusterDimsPass() {
  return std::make_unique<ClusterDimsPass>();
}

void registerClusterDimsPass() { PassRegistration<ClusterDimsPass>(); }

} // namespace sinter::cuda
