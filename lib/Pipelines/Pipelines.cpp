//===- Pipelines.cpp - compilation phases and their pass pipelines --------===//

#include "sinter/Pipelines/Pipelines.h"
#include "sinter/Conversion/Passes.h"
#include "sinter/Dialect/Graph/Transforms/Passes.h"
#include "sinter/Target/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
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


void buildGraphPipeline(OpPassManager &pm) {
  pm.addPass(createRecognizeActivationsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // Raising the decompositions older exporters write to the compound ops
  // of the LLM operators (after CSE: shared constants and gathers are one
  // value, so the matchers see one cos table, one mask).
  pm.addPass(createRaiseRmsNormPass());
  pm.addPass(createRaiseRotaryEmbeddingPass());
  pm.addPass(createRaiseAttentionPass());
  pm.addPass(createRaiseLinearAttentionPass());
  pm.addPass(createRaiseMoeRouterPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createSymbolDCEPass());
}

void addFusePass(OpPassManager &pm, const FuseOptions &options,
                 std::unique_ptr<Pass> pass) {
  if (options.seenPasses)
    options.seenPasses->push_back(pass->getArgument().str());
  if (options.isPassEnabled(pass->getArgument()))
    pm.addPass(std::move(pass));
}

void buildFusePipeline(OpPassManager &pm, const FuseOptions &options) {
  if (!options.enabled)
    return;
  // The seed rewrites, each as addFusePass(pm, options, createXPass()).
  addFusePass(pm, options, createFormLinearsPass());
  addFusePass(pm, options, createFuseParallelLinearsPass());
  // Before the gated activation: the expert projections leave the silu * up
  // of the experts between two expert_linears, not two matmuls over copies.
  addFusePass(pm, options, createFormExpertLinearsPass());
  // After parallel-linear fusion: gate and up may be halves of one split.
  addFusePass(pm, options, createFuseGatedActivationPass());
  addFusePass(pm, options, createLowerDepthwiseConv1dPass());
}

llvm::SmallVector<std::string> fusePassNames() {
  OpPassManager pm;
  llvm::SmallVector<std::string> names;
  FuseOptions options;
  options.seenPasses = &names;
  buildFusePipeline(pm, options);
  return names;
}

void buildLowerPipeline(OpPassManager &pm, const LowerOptions &options) {
  // Check the forward's signature first: a dynamic input shape is a user
  // error with a fix, better said before the lowering trips over it.
  pm.addPass(createPrepareEntryPass());
  pm.addPass(createConvertGraphToLinalgPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // Kernel formation: elementwise chains into one linalg.generic each. No
  // CSE after it: it would merge the per-user fills it makes again.
  pm.addNestedPass<func::FuncOp>(createFormKernelsPass());
  pm.addPass(createCanonicalizerPass());

  // CSE shared one tensor.empty among many inits: split them again, or
  // bufferization's analysis is quadratic in the function's size.
  pm.addNestedPass<func::FuncOp>(createSplitEmptyTensorsPass());
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  // Right before bufferization: the state pairs it must update in place.
  DonateStatePassOptions donation;
  donation.automatic = options.autoDonate;
  donation.donate.assign(options.donate.begin(), options.donate.end());
  pm.addPass(createDonateStatePass(donation));
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  // The returned buffers become the caller's output buffers: no copy.
  outParams.hoistStaticAllocs = true;
  outParams.modifyPublicFunctions = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  // A donated output's out-param got a copy of its input: drop it.
  pm.addNestedPass<func::FuncOp>(createBindDonatedOutputsPass());
  pm.addPass(createCanonicalizerPass());

  pm.addNestedPass<func::FuncOp>(createPlanMemoryPass());
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void buildCpuCodegenPipeline(OpPassManager &pm) {
  pm.addNestedPass<func::FuncOp>(createFinalizeEntryPass());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  // A large entry as one LLVM function costs LLVM superlinear time.
  pm.addPass(createOutlineLoopsPass());
  // ipowi/fpowi have neither an LLVM intrinsic nor a libm function.
  pm.addPass(createConvertMathToFuncs());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  // bf16 <-> f32 conversions as integer arithmetic: no compiler-rt helper
  // needed at link time.
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expand));
  // LLVM intrinsics first (vectorizable), libm calls for the rest.
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  ConvertFuncToLLVMPassOptions func;
  func.useBarePtrCallConv = true;
  pm.addPass(createConvertFuncToLLVMPass(func));
  pm.addPass(createReconcileUnrealizedCastsPass());
  // External-data and packed weights: slots the runtime fills at load time.
  pm.addPass(createBindWeightsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

namespace {
/// sinter-opt --pass-pipeline='builtin.module(sinter-fuse{disable-pass=A,B})'
struct FusePipelineCLOptions
    : public PassPipelineOptions<FusePipelineCLOptions> {
  ListOption<std::string> disablePass{
      *this, "disable-pass",
      llvm::cl::desc("Fuse-phase passes (by argument) not to run")};
};
} // namespace

void registerPipelines() {
  PassPipelineRegistration<>(
      "sinter-graph",
      "The graph phase: recognize compound ops, canonicalize, CSE",
      [](OpPassManager &pm) { buildGraphPipeline(pm); });
  PassPipelineRegistration<FusePipelineCLOptions>(
      "sinter-fuse",
      "The fuse phase: the seed rewrites, then kernel formation",
      [](OpPassManager &pm, const FusePipelineCLOptions &cl) {
        FuseOptions options;
        for (const std::string &name : cl.disablePass)
          options.disabledPasses.insert(name);
        buildFusePipeline(pm, options);
      });
  PassPipelineRegistration<>(
      "sinter-lower",
      "The lower phase: linalg, bufferization, static memory plan",
      [](OpPassManager &pm) { buildLowerPipeline(pm); });
  PassPipelineRegistration<>(
      "sinter-cpu-codegen",
      "The codegen phase of the CPU target: to the LLVM dialect",
      [](OpPassManager &pm) { buildCpuCodegenPipeline(pm); });
}

} // namespace sinter
