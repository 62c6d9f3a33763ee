//===- Pipelines.cpp - compilation phases and their pass pipelines --------===//

#include "sinter/Pipelines/Pipelines.h"
#include "sinter/Dialect/Graph/Transforms/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringSwitch.h"

using namespace mlir;

namespace sinter {

std::optional<Phase> parsePhase(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<Phase>>(name)
      .Case("import", Phase::Import)
      .Case("graph", Phase::Graph)
      .Case("fuse", Phase::Fuse)
      .Case("lower", Phase::Lower)
      .Case("codegen", Phase::Codegen)
      .Case("package", Phase::Package)
      .Default(std::nullopt);
}

llvm::StringRef phaseName(Phase phase) {
  switch (phase) {
  case Phase::Import:
    return "import";
  case Phase::Graph:
    return "graph";
  case Phase::Fuse:
    return "fuse";
  case Phase::Lower:
    return "lower";
  case Phase::Codegen:
    return "codegen";
  case Phase::Package:
    return "package";
  }
  return "unknown";
}

bool isPhaseImplemented(Phase phase) {
  return phase == Phase::Import || phase == Phase::Graph;
}

void buildGraphPipeline(OpPassManager &pm) {
  pm.addPass(createRecognizeActivationsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createSymbolDCEPass());
}

void registerPipelines() {
  PassPipelineRegistration<>(
      "sinter-graph",
      "The graph phase: recognize compound ops, canonicalize, CSE",
      [](OpPassManager &pm) { buildGraphPipeline(pm); });
}

} // namespace sinter
