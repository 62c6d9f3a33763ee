//===- DedupKernels.cpp - one gpu.func per distinct kernel body -----------===//
//
// sinter-cuda-dedup-kernels: runs after the kernels are merged into one
// gpu.module. Layers of the same kind give kernels that differ only in the
// buffers they are passed (weights, activations: launch arguments), not in
// their code: the 40-layer Qwen3.5-MoE decode step outlines about 3,100
// kernels of which most are copies. Each copy costs NVPTX codegen and
// ptxas time (compile time of the full model is an issue-7 target) and
// module size. Kernels whose bodies are identical, attributes included, are
// merged into the first one and the launches retargeted.
//
// Identity is the generic-form text of the function with its own name left
// out: exact (no false merge can change what a launch computes), and
// linear in the module's size.
//
//===----------------------------------------------------------------------===//

#include "DedupKernels.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace sinter::cuda {
namespace {

/// The function's text without its symbol name.
std::string bodyKey(gpu::GPUFuncOp fn) {
  std::string text;
  llvm::raw_string_ostream os(text);
  StringAttr name = fn.getNameAttr();
  // Print a clone's region and attributes under a fixed name: the name is
  // the only thing two copies may differ in.
  OpPrintingFlags flags;
  flags.printGenericOpForm().useLocalScope().elideLargeElementsAttrs(
      std::numeric_limits<int64_t>::max());
  fn.setName("k");
  fn->print(os, flags);
  fn.setName(name);
  return text;
}

struct DedupKernelsPass
    : PassWrapper<DedupKernelsPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(DedupKernelsPass)
  StringRef getArgument() const final { return "sinter-cuda-dedup-kernels"; }
  StringRef getDescription() const final {
    return "Merge gpu.func kernels with identical bodies and retarget their "
           "launches";
  }
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // module::kernel of a removed copy -> the kept kernel.
    llvm::StringMap<SymbolRefAttr> replaced;
    for (auto m : module.getOps<gpu::GPUModuleOp>()) {
      llvm::StringMap<gpu::GPUFuncOp> kept;
      SmallVector<gpu::GPUFuncOp> copies;
      for (auto fn : m.getOps<gpu::GPUFuncOp>()) {
        if (!fn.isKernel())
          continue;
        auto [it, inserted] = kept.try_emplace(bodyKey(fn), fn);
        if (inserted)
          continue;
        replaced[(m.getName() + "::" + fn.getName()).str()] = SymbolRefAttr::get(
            m.getNameAttr(), {FlatSymbolRefAttr::get(it->second.getNameAttr())});
        copies.push_back(fn);
      }
      for (gpu::GPUFuncOp fn : copies)
        fn.erase();
    }
    if (replaced.empty())
      return;
    module.walk([&](gpu::LaunchFuncOp launch) {
      SymbolRefAttr k = launch.getKernel();
      auto it = replaced.find((k.getRootReference().getValue() + "::" +
                               k.getLeafReference().getValue())
                                  .str());
      if (it != replaced.end())
        launch.setKernelAttr(it->second);
    });
  }
};

} // namespace

std::unique_ptr<Pass> createDedupKernelsPass() {
  return std::make_unique<DedupKernelsPass>();
}

void registerDedupKernelsPass() { PassRegistration<DedupKernelsPass>(); }

} // namespace sinter::cuda
