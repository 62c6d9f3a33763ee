//===- FormKernels.cpp - bufferized linalg ops to kernel templates --------===//
//
// sinter-cuda-form-kernels: runs before the generic loop mapping. The
// marked gated-delta decode steps go first (GatedDelta.cpp). Each
// linalg op is offered to the kernel templates of Kernels.h in order (the
// tensor-core GEMM, the GEMV, the row reduction); the first that takes it
// replaces it (and any op it fuses) with a gpu.launch. What no template
// takes is left for sinter-cuda-map-loops. With -debug-only=sinter-cuda-kernels
// every refusal prints its reason.
//
//===----------------------------------------------------------------------===//

#include "AttentionPrologue.h"
#include "GemmBuffers.h"
#include "Kernels.h"
#include "sinter/Target/CUDA/CUDATarget.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "sinter-cuda-kernels"

using namespace mlir;

namespace sinter::cuda {

/// The experimental kernel forms by name (KernelOptions::Experimental).
static const std::pair<llvm::StringRef, bool KernelOptions::Experimental::*>
    kExperimental[] = {
        {"attention-early-loads",
         &KernelOptions::Experimental::attentionEarlyLoads},
        {"attention-prologue-fewer-barriers",
         &KernelOptions::Experimental::prologueFewerBarriers},
        {"expert-down-deep", &KernelOptions::Experimental::expertDownDeep},
        {"expert-cluster-combine",
         &KernelOptions::Experimental::expertClusterCombine},
        {"scan-hoist-vector", &KernelOptions::Experimental::scanHoistVector},
};

llvm::ArrayRef<llvm::StringRef> experimentalForms() {
  static const SmallVector<llvm::StringRef> names =
      llvm::to_vector(llvm::make_first_range(llvm::ArrayRef(kExperimental)));
  return names;
}

bool *experimentalFlag(KernelOptions::Experimental &forms,
                       llvm::StringRef name) {
  for (auto [known, flag] : kExperimental)
    if (known == name)
      return &(forms.*flag);
  return nullptr;
}

namespace {

struct FormKernelsPass
    : PassWrapper<FormKernelsPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(FormKernelsPass)
  FormKernelsPass() = default;
  FormKernelsPass(const FormKernelsPass &other) : PassWrapper(other) {}
  explicit FormKernelsPass(const KernelOptions &o) {
    gpuArch = o.gpuArch;
    remarks = o.remarks;
    attentionPrologue = o.attentionPrologue;
    attentionProloguePrefetch = o.attentionProloguePrefetch;
    for (auto [name, flag] : kExperimental)
      if (o.experimental.*flag)
        experimental.push_back(name.str());
  }
  Option<std::string> gpuArch{*this, "gpu-arch",
                              llvm::cl::desc("target architecture"),
                              llvm::cl::init("sm_90a")};
  Option<bool> remarks{
      *this, "remarks",
      llvm::cl::desc("remark on candidates a template recognizes but refuses"),
      llvm::cl::init(false)};
  Option<bool> attentionPrologue{
      *this, "attention-prologue",
      llvm::cl::desc("absorb the small ops before a split decode attention "
                     "into its first kernel"),
      llvm::cl::init(true)};
  Option<bool> attentionProloguePrefetch{
      *this, "attention-prologue-prefetch",
      llvm::cl::desc("with the prologue, on sm_90 and later: an L2 bulk "
                     "prefetch of what it reads, first"),
      llvm::cl::init(true)};
  ListOption<std::string> experimental{
      *this, "experimental",
      llvm::cl::desc("alternative kernel forms, off by default (measured "
                     "without a gain, docs/cli.md): attention-early-loads, "
                     "attention-prologue-fewer-barriers, expert-down-deep, "
                     "expert-cluster-combine, scan-hoist-vector")};
  LogicalResult initializeOptions(
      StringRef options,
      function_ref<LogicalResult(const Twine &)> errorHandler) override {
    if (failed(PassWrapper::initializeOptions(options, errorHandler)))
      return failure();
    KernelOptions::Experimental forms;
    for (const std::string &name : experimental)
      if (!experimentalFlag(forms, name))
        return errorHandler(
            "sinter-cuda-form-kernels: unknown experimental kernel form '" +
            name + "' (known: " + llvm::join(experimentalForms(), ", ") + ")");
    return success();
  }
  StringRef getArgument() const final { return "sinter-cuda-form-kernels"; }
  StringRef getDescription() const final {
    return "Bufferized linalg ops to the CUDA kernel templates (GEMM, GEMV, "
           "row reductions)";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<gpu::GPUDialect, scf::SCFDialect, arith::ArithDialect,
                    memref::MemRefDialect, vector::VectorDialect,
                    nvgpu::NVGPUDialect, NVVM::NVVMDialect>();
  }

  void runOnOperation() override {
    KernelOptions options;
    options.gpuArch = gpuArch;
    options.remarks = remarks;
    options.attentionPrologue = attentionPrologue;
    options.attentionProloguePrefetch = attentionProloguePrefetch;
    for (const std::string &name : experimental)
      if (bool *flag = experimentalFlag(options.experimental, name))
        *flag = true; // unknown names are refused by initializeOptions
    IRRewriter scanRw(&getContext());
    // The delta-rule recurrence over the prompt first: its loop body is
    // the decode step's chain, which the templates below would take op by
    // op, once per token.
    SmallVector<scf::ForOp> loops;
    getOperation().walk([&](scf::ForOp loop) {
      if (!loop->getParentOfType<gpu::LaunchOp>() &&
          !loop->getParentOfType<linalg::LinalgOp>())
        loops.push_back(loop);
    });
    for (scf::ForOp loop : loops) {
      std::string why;
      scanRw.setInsertionPoint(loop);
      if (succeeded(emitGatedDeltaScan(scanRw, loop, options, why)))
        continue;
      LLVM_DEBUG(llvm::dbgs() << "[gated-delta-scan] refused loop at "
                              << loop.getLoc() << ": " << why << "\n");
      // Only loops around linalg ops are candidates worth a remark.
      if (options.remarks &&
          !loop.getBody()->getOps<linalg::LinalgOp>().empty())
        loop.emitRemark() << "sinter-cuda-form-kernels: gated-delta scan "
                             "not formed: "
                          << why;
    }
    SmallVector<linalg::LinalgOp> ops;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (!op->getParentOfType<gpu::LaunchOp>())
        ops.push_back(op);
    });
    IRRewriter rw(&getContext());
    using Emitter = LogicalResult (*)(RewriterBase &, linalg::LinalgOp,
                                      const KernelOptions &, std::string &);
    static const std::pair<const char *, Emitter> kTemplates[] = {
        // Before the templates that could take the window op's producers.
        {"conv-window", emitConvWindow},
        // Before the router's: at one token it folds the router into the
        // up projection's blocks (ExpertGemvRouter.cpp).
        {"expert-gemv", emitExpertGemv},
        // Before the row reduction, which would take its marked generic
        // (a reduction over the row) as a plain one.
        {"moe-router", emitMoeRouter},
        // Before the row reduction, which takes it as a row per (t, j, n).
        {"expert-grouped", emitExpertGrouped},
        // Before the GEMM, which refuses gated linears.
        {"gated-gemm", emitGatedGemm},
        {"gemm", emitTensorCoreGemm},
        {"gemv", emitGemv},
        // Before the row reduction: a contraction reduces its innermost loop.
        {"batched-contraction", emitBatchedContraction},
        {"row-reduction", emitRowReduction},
        {"transpose", emitTiledTranspose},
    };
    // An emitter may erase ops after the one it is given (a fused epilogue):
    // those are skipped by handle.
    llvm::DenseSet<Operation *> erased;
    // Runs one template on `op`, recording what it erases (a fused
    // epilogue) so that those ops are not visited again.
    auto tryEmit = [&](linalg::LinalgOp op, const char *name, Emitter emit) {
      std::string why;
      rw.setInsertionPoint(op);
      struct Listener : RewriterBase::Listener {
        llvm::DenseSet<Operation *> *erased;
        void notifyOperationErased(Operation *o) override { erased->insert(o); }
      } listener;
      listener.erased = &erased;
      rw.setListener(&listener);
      LogicalResult r = emit(rw, op, options, why);
      rw.setListener(nullptr);
      if (failed(r))
        LLVM_DEBUG(llvm::dbgs() << "[" << name << "] refused " << op->getName()
                                << " at " << op.getLoc() << ": " << why
                                << "\n");
      return succeeded(r);
    };
    // The gated-delta decode step first, from its first op: its kernel
    // computes the step's producers (the l2norm's reductions, the gates),
    // which the other templates would otherwise take on their own.
    for (linalg::LinalgOp op : ops)
      if (!erased.contains(op.getOperation()) && isGatedDeltaStepStart(op))
        tryEmit(op, "gated-delta", emitGatedDeltaStep);
    // The decode attentions next, from their score contraction (which must
    // not be taken apart from the rest of its chain), before the templates
    // take the small ops before it that the split kernel absorbs
    // (AttentionPrologue.h).
    for (linalg::LinalgOp op : ops)
      if (!erased.contains(op.getOperation()))
        tryEmit(op, "attention", emitDecodeAttention);
    for (linalg::LinalgOp op : ops) {
      if (erased.contains(op.getOperation()))
        continue;
      for (auto [name, emit] : kTemplates)
        if (tryEmit(op, name, emit))
          break;
    }
    // A per-column launch after a one-row GEMV (the conv window after
    // GatedDeltaNet's in_proj) runs at the end of the GEMV's blocks.
    mergeColumnConsumers(getOperation(), options.remarks);
    // Every template has looked across the launches: the asm they marked
    // (the attention prologue's prefetches, cluster barriers) may now have
    // its effects.
    giveDeferredEffects(getOperation());
  }
};

} // namespace

std::unique_ptr<Pass> createFormKernelsPass(const KernelOptions &options) {
  return std::make_unique<FormKernelsPass>(options);
}

void registerFormKernelsPass() { PassRegistration<FormKernelsPass>(); }

} // namespace sinter::cuda
