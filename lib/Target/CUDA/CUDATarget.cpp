//===- CUDATarget.cpp - the codegen phase of the CUDA target --------------===//
//
// See CUDATarget.h and docs/cuda-target.md. The first slice: correctness
// over speed. Each outermost scf.parallel (from a linalg op) becomes one
// gpu.launch whose threads cover the product of its dimensions, one thread
// per iteration; reduction dimensions stay sequential loops inside the
// thread. Linalg ops without a parallel dimension run as one thread.
//
//===----------------------------------------------------------------------===//

#include "sinter/Target/CUDA/CUDATarget.h"
#include "ClusterDims.h"
#include "DedupKernels.h"
#include "GridDependency.h"
#include "Kernels.h"
#include "MergeLaunches.h"
#include "RegisterAccumulators.h"
#include "sinter/Target/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"

using namespace mlir;

namespace sinter::cuda {

static const llvm::StringRef kArchs[] = {"sm_80", "sm_89", "sm_90a",
                                         "sm_100", "sm_100a"};

llvm::ArrayRef<llvm::StringRef> supportedGpuArchs() { return kArchs; }

bool isSupportedGpuArch(llvm::StringRef arch) {
  return llvm::is_contained(kArchs, arch);
}

bool supportsProgrammaticLaunch(llvm::StringRef arch) {
  return arch.starts_with("sm_90") || arch.starts_with("sm_100");
}

std::string ptxFeaturesFor(llvm::StringRef arch) {
  // Blackwell (sm_100, sm_100a) needs PTX ISA 8.6 (CUDA 12.8, driver 570).
  if (arch.starts_with("sm_100"))
    return "+ptx86";
  // sm_90a needs PTX ISA 8.0; the older ones use the same so that one
  // driver generation JITs all of them.
  return "+ptx80";
}

void registerCudaTargetDialects(DialectRegistry &registry) {
  registerAllToLLVMIRTranslations(registry);
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
}

namespace {

/// memref.copy -> linalg.copy (so that it becomes a kernel); generics with a
/// reduction loop outside a parallel one interchanged so that all parallel
/// loops come first (linalg-to-parallel-loops only turns the leading
/// parallel loops into the scf.parallel that becomes the grid: a reduction
/// over experts [1, 8, 1, 2048] -> [1, 1, 2048] ran 2048 x 8 iterations in
/// one thread, 1.7 ms on an H200); and every linalg op without a parallel
/// dimension wrapped into a one-iteration scf.parallel (so that it runs in
/// one GPU thread, not on the host).
struct PrepareLoopsPass
    : PassWrapper<PrepareLoopsPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(PrepareLoopsPass)
  StringRef getArgument() const final { return "sinter-cuda-prepare-loops"; }
  StringRef getDescription() const final {
    return "memref.copy to linalg.copy; linalg ops without a parallel "
           "dimension into a one-iteration scf.parallel";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<linalg::LinalgDialect, scf::SCFDialect,
                    arith::ArithDialect>();
  }
  void runOnOperation() override {
    func::FuncOp f = getOperation();
    IRRewriter rw(&getContext());
    SmallVector<memref::CopyOp> copies;
    f.walk([&](memref::CopyOp c) { copies.push_back(c); });
    for (memref::CopyOp c : copies) {
      rw.setInsertionPoint(c);
      linalg::CopyOp::create(rw, c.getLoc(), c.getSource(), c.getTarget());
      rw.eraseOp(c);
    }
    SmallVector<linalg::GenericOp> reductionFirst;
    f.walk([&](linalg::GenericOp op) {
      if (op->getParentOfType<scf::ParallelOp>() ||
          op->getParentOfType<gpu::LaunchOp>())
        return;
      auto its = op.getIteratorTypesArray();
      auto firstRed = llvm::find(its, utils::IteratorType::reduction);
      if (firstRed != its.end() &&
          llvm::is_contained(llvm::make_range(firstRed, its.end()),
                             utils::IteratorType::parallel))
        reductionFirst.push_back(op);
    });
    for (linalg::GenericOp op : reductionFirst) {
      // Parallel loops in their order, then the reductions in theirs: each
      // output element still sums its terms in the same order.
      SmallVector<unsigned> perm;
      auto its = op.getIteratorTypesArray();
      for (auto kind : {utils::IteratorType::parallel,
                        utils::IteratorType::reduction})
        for (unsigned d = 0; d < its.size(); ++d)
          if (its[d] == kind)
            perm.push_back(d);
      rw.setInsertionPoint(op);
      if (failed(linalg::interchangeGenericOp(rw, op, perm))) {
        op.emitError() << "the CUDA target could not move this op's "
                          "parallel loops outside its reductions";
        return signalPassFailure();
      }
    }
    SmallVector<linalg::LinalgOp> serial;
    f.walk([&](linalg::LinalgOp op) {
      if (op.getNumParallelLoops() == 0 &&
          !op->getParentOfType<scf::ParallelOp>())
        serial.push_back(op);
    });
    for (linalg::LinalgOp op : serial) {
      rw.setInsertionPoint(op);
      Location loc = op.getLoc();
      Value c0 = arith::ConstantIndexOp::create(rw, loc, 0);
      Value c1 = arith::ConstantIndexOp::create(rw, loc, 1);
      auto par = scf::ParallelOp::create(rw, loc, ValueRange{c0},
                                         ValueRange{c1}, ValueRange{c1});
      op->moveBefore(par.getBody()->getTerminator());
    }
  }
};

/// Iterations each thread of a coarsened launch runs (1: not coarsened).
/// The generic mapping gives every thread one iteration; over millions of
/// elements (the prefill's [512, 8, 2048] accumulator fills, its
/// [512, 8192] conversions) that is tens of thousands of 256-thread blocks
/// that each load or store one scalar per thread, and the block launches
/// and the single access in flight per thread cap them at 12-43% of copy
/// bandwidth (docs/cuda-target.md, "Compilation", step 3). From 2^20
/// iterations on, a thread may run `per` iterations, `block` apart (so a
/// warp's accesses stay consecutive), with all their loads issued before
/// the first store. Only straight-line bodies whose loads all come before
/// their first write (elementwise ops, copies, fills): then no iteration's
/// load can depend on another's store (the scf.parallel iterations are
/// independent), and nothing else reorders. The grid must divide exactly
/// (no guard). Off in the pipeline until measured on a GPU (the pass
/// option iterations-per-thread; 4 is what the lit test checks).
constexpr int64_t kCoarsenFrom = int64_t(1) << 20;

int64_t iterationsPerThread(scf::ParallelOp p, std::optional<int64_t> n,
                            int64_t block, int64_t per) {
  if (per <= 1 || !n || *n < kCoarsenFrom || *n % (block * per) != 0)
    return 1;
  bool wrote = false;
  for (Operation &op : p.getBody()->without_terminator()) {
    if (op.getNumRegions() != 0)
      return 1;
    if (isa<memref::LoadOp>(op)) {
      if (wrote)
        return 1;
      continue;
    }
    if (isa<memref::StoreOp>(op)) {
      wrote = true;
      continue;
    }
    if (!isMemoryEffectFree(&op))
      return 1;
  }
  return per;
}

/// mapLoop for iterationsPerThread > 1: thread t of block b runs linear
/// iterations b * block * per + i * block + t, i < per (kCoarsenFrom's
/// comment says why and when). The body is cloned
/// per times in two phases: every copy's ops up to its last load, then
/// every copy's rest (the arithmetic and the stores).
LogicalResult mapLoopCoarsened(scf::ParallelOp p, IRRewriter &rw,
                               ArrayRef<Value> trips, int64_t total,
                               int64_t block, int64_t per) {
  Location loc = p.getLoc();
  auto idx = [&](int64_t v) {
    return arith::ConstantIndexOp::create(rw, loc, v).getResult();
  };
  Value one = idx(1);
  auto launch = gpu::LaunchOp::create(rw, loc, idx(total / (block * per)),
                                      one, one, idx(block), one, one);
  Block &body = launch.getBody().front();
  rw.setInsertionPointToStart(&body);
  gpu::TerminatorOp::create(rw, loc);
  rw.setInsertionPoint(body.getTerminator());
  Value base = arith::AddIOp::create(
      rw, loc,
      arith::MulIOp::create(rw, loc, launch.getBlockIds().x,
                            idx(block * per)),
      launch.getThreadIds().x);
  Block *loopBody = p.getBody();
  unsigned n = p.getNumLoops();
  SmallVector<IRMapping> maps(per);
  for (int64_t i = 0; i < per; ++i) {
    Value rest = arith::AddIOp::create(rw, loc, base, idx(i * block));
    for (int k = int(n) - 1; k >= 0; --k) {
      Value iv = rest;
      if (k > 0) {
        iv = arith::RemUIOp::create(rw, loc, rest, trips[k]);
        rest = arith::DivUIOp::create(rw, loc, rest, trips[k]);
      }
      Value scaled = arith::MulIOp::create(rw, loc, iv, p.getStep()[k]);
      maps[i].map(loopBody->getArgument(k),
                  arith::AddIOp::create(rw, loc, scaled,
                                        p.getLowerBound()[k]));
    }
  }
  auto ops = llvm::to_vector(llvm::make_pointer_range(
      loopBody->without_terminator()));
  size_t split = 0;
  for (size_t j = 0; j < ops.size(); ++j)
    if (isa<memref::LoadOp>(ops[j]))
      split = j + 1;
  for (auto [from, to] : {std::pair<size_t, size_t>{0, split},
                          std::pair<size_t, size_t>{split, ops.size()}})
    for (int64_t i = 0; i < per; ++i)
      for (size_t j = from; j < to; ++j)
        rw.clone(*ops[j], maps[i]);
  rw.eraseOp(p);
  return success();
}

/// Every outermost scf.parallel -> gpu.launch: the iteration space
/// linearized, blockSize threads per block, one thread per iteration.
struct MapLoopsPass : PassWrapper<MapLoopsPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(MapLoopsPass)
  MapLoopsPass() = default;
  MapLoopsPass(const MapLoopsPass &other) : PassWrapper(other) {}
  explicit MapLoopsPass(int64_t block) { blockSize = block; }
  Option<int64_t> blockSize{*this, "block-size",
                            llvm::cl::desc("threads per block"),
                            llvm::cl::init(256)};
  Option<int64_t> perThread{
      *this, "iterations-per-thread",
      llvm::cl::desc("iterations per thread of straight-line loops with 2^20 "
                     "or more iterations (1: one each)"),
      llvm::cl::init(1)};
  StringRef getArgument() const final { return "sinter-cuda-map-loops"; }
  StringRef getDescription() const final {
    return "Outermost scf.parallel loops to gpu.launch, one thread per "
           "iteration";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<gpu::GPUDialect, scf::SCFDialect, arith::ArithDialect>();
  }

  void runOnOperation() override {
    func::FuncOp f = getOperation();
    SmallVector<scf::ParallelOp> tops;
    f.walk([&](scf::ParallelOp p) {
      if (!p->getParentOfType<scf::ParallelOp>() &&
          !p->getParentOfType<gpu::LaunchOp>())
        tops.push_back(p);
    });
    for (scf::ParallelOp p : tops)
      if (failed(mapLoop(p)))
        return signalPassFailure();
    // Nothing may touch memory on the host any more.
    WalkResult r = f.walk([&](Operation *op) {
      if (op->getParentOfType<gpu::LaunchOp>())
        return WalkResult::skip();
      if (isa<memref::LoadOp, memref::StoreOp, memref::CopyOp>(op) ||
          isa<linalg::LinalgOp>(op)) {
        op->emitError() << "the CUDA target left this op on the host "
                           "(not inside a kernel)";
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (r.wasInterrupted())
      signalPassFailure();
  }

  LogicalResult mapLoop(scf::ParallelOp p) {
    if (p.getNumResults() != 0)
      return p.emitError() << "the CUDA target cannot map a parallel loop "
                              "with reductions yet";
    IRRewriter rw(p.getContext());
    rw.setInsertionPoint(p);
    Location loc = p.getLoc();
    unsigned n = p.getNumLoops();
    // Trip counts and their product.
    SmallVector<Value> trips;
    Value total = arith::ConstantIndexOp::create(rw, loc, 1);
    for (unsigned k = 0; k < n; ++k) {
      Value span = arith::SubIOp::create(rw, loc, p.getUpperBound()[k],
                                         p.getLowerBound()[k]);
      Value trip =
          arith::CeilDivUIOp::create(rw, loc, span, p.getStep()[k]);
      trips.push_back(trip);
      total = arith::MulIOp::create(rw, loc, total, trip);
    }
    int64_t block = blockSize;
    if (auto c = getConstantIntValue(total))
      block = std::max<int64_t>(1, std::min<int64_t>(block, *c));
    // The trip counts folded (total is built from ops, not constants).
    std::optional<int64_t> count = 1;
    for (unsigned k = 0; k < n && count; ++k) {
      auto lb = getConstantIntValue(p.getLowerBound()[k]),
           ub = getConstantIntValue(p.getUpperBound()[k]),
           st = getConstantIntValue(p.getStep()[k]);
      if (lb && ub && st && *st > 0)
        *count *= std::max<int64_t>(0, (*ub - *lb + *st - 1) / *st);
      else
        count.reset();
    }
    if (int64_t per = iterationsPerThread(p, count, block, perThread);
        per > 1)
      return mapLoopCoarsened(p, rw, trips, *count, block, per);
    Value blockV = arith::ConstantIndexOp::create(rw, loc, block);
    Value grid = arith::CeilDivUIOp::create(rw, loc, total, blockV);
    Value one = arith::ConstantIndexOp::create(rw, loc, 1);
    auto launch = gpu::LaunchOp::create(rw, loc, grid, one, one, blockV, one,
                                        one);
    Block &body = launch.getBody().front();
    rw.setInsertionPointToStart(&body);
    gpu::TerminatorOp::create(rw, loc);
    rw.setInsertionPointToStart(&body);
    Value bx = launch.getBlockIds().x, tx = launch.getThreadIds().x;
    Value base = arith::MulIOp::create(rw, loc, bx, blockV);
    Value linear = arith::AddIOp::create(rw, loc, base, tx);
    Value inRange = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult,
                                          linear, total);
    auto ifOp = scf::IfOp::create(rw, loc, inRange, /*withElse=*/false);
    rw.setInsertionPointToStart(ifOp.thenBlock());
    SmallVector<Value> ivs(n);
    Value rest = linear;
    for (int k = int(n) - 1; k >= 0; --k) {
      Value idx = rest;
      if (k > 0) {
        idx = arith::RemUIOp::create(rw, loc, rest, trips[k]);
        rest = arith::DivUIOp::create(rw, loc, rest, trips[k]);
      }
      Value scaled = arith::MulIOp::create(rw, loc, idx, p.getStep()[k]);
      ivs[k] = arith::AddIOp::create(rw, loc, scaled, p.getLowerBound()[k]);
    }
    Block *loopBody = p.getBody();
    Operation *yield = ifOp.thenBlock()->getTerminator();
    for (Operation &op :
         llvm::make_early_inc_range(loopBody->without_terminator()))
      op.moveBefore(yield);
    for (unsigned k = 0; k < n; ++k)
      loopBody->getArgument(k).replaceAllUsesWith(ivs[k]);
    rw.eraseOp(p);
    return success();
  }
};

/// All outlined kernels into one gpu.module (one PTX file, one module load
/// at run time): each kernel is renamed after the module it came from.
struct MergeModulesPass
    : PassWrapper<MergeModulesPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(MergeModulesPass)
  StringRef getArgument() const final { return "sinter-cuda-merge-modules"; }
  StringRef getDescription() const final {
    return "Every gpu.module's kernels into the first gpu.module";
  }
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto gpuModules = llvm::to_vector(module.getOps<gpu::GPUModuleOp>());
    // One module is renamed too: kernel formation can leave a single kernel,
    // and the name is what tests and tools look for.
    if (gpuModules.empty())
      return;
    gpu::GPUModuleOp into = gpuModules.front();
    auto root = StringAttr::get(&getContext(), "sinter_kernels");
    llvm::StringMap<SymbolRefAttr> renamed; // "module::kernel" -> new ref
    for (gpu::GPUModuleOp m : gpuModules) {
      for (Operation &op :
           llvm::make_early_inc_range(m.getBody()->getOperations())) {
        auto fn = dyn_cast<gpu::GPUFuncOp>(op);
        if (!fn)
          continue;
        std::string key = (m.getName() + "::" + fn.getName()).str();
        if (m != into) {
          fn.setName(m.getName());
          fn->moveBefore(into.getBody(), into.getBody()->end());
        }
        renamed[key] = SymbolRefAttr::get(
            root, {FlatSymbolRefAttr::get(fn.getNameAttr())});
      }
    }
    into.setName(root.getValue());
    module.walk([&](gpu::LaunchFuncOp launch) {
      SymbolRefAttr k = launch.getKernel();
      std::string key =
          (k.getRootReference().getValue() + "::" + k.getLeafReference().getValue())
              .str();
      auto it = renamed.find(key);
      if (it != renamed.end())
        launch.setKernelAttr(it->second);
    });
    for (gpu::GPUModuleOp m : llvm::drop_begin(gpuModules))
      m.erase();
  }
};

std::string findToolkit(const CudaOptions &options) {
  if (!options.toolkitPath.empty())
    return options.toolkitPath;
  for (const char *env : {"CUDA_HOME", "CUDA_PATH"})
    if (auto v = llvm::sys::Process::GetEnv(env))
      return *v;
  return "/usr/local/cuda";
}

/// Whether gpu-module-to-binary can make a fatbin: it runs the toolkit's
/// ptxas (PTX -> cubin) and fatbinary (cubin + PTX -> fatbin).
bool hasCubinTools(llvm::StringRef toolkit) {
  for (const char *tool : {"ptxas", "fatbinary"}) {
    llvm::SmallString<256> path(toolkit);
    llvm::sys::path::append(path, "bin", tool);
    if (!llvm::sys::fs::can_execute(path))
      return false;
  }
  return true;
}

} // namespace

void buildCudaCodegenPipeline(OpPassManager &pm, const CudaOptions &options) {
  pm.addNestedPass<func::FuncOp>(createFinalizeEntryPass());
  // Kernel templates first; what they leave goes to the generic mapping.
  KernelOptions kernels;
  kernels.gpuArch = options.gpuArch;
  for (const std::string &name : options.experimental)
    if (bool *flag = experimentalFlag(kernels.experimental, name))
      *flag = true; // the caller checks the names (experimentalForms())
  pm.addNestedPass<func::FuncOp>(createFormKernelsPass(kernels));
  pm.addNestedPass<func::FuncOp>(std::make_unique<PrepareLoopsPass>());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  pm.addNestedPass<func::FuncOp>(createRegisterAccumulatorsPass());
  pm.addNestedPass<func::FuncOp>(
      std::make_unique<MapLoopsPass>(options.blockSize));
  pm.addPass(createParallelForToNestedForsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // Independent generic launches in a row become one.
  pm.addNestedPass<func::FuncOp>(createMergeLaunchesPass());
  // The canonicalizer hoists constants out of the launches; sink them back
  // so that they are immediates in the kernel, not kernel parameters.
  pm.addPass(createGpuLaunchSinkIndexComputationsPass());
  // Kernel parameters are bare pointers: no dynamic-offset views.
  pm.addPass(createSinkDynamicViewsPass());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(std::make_unique<MergeModulesPass>());
  // Before the dedup: a kernel's cluster size is part of what it is.
  pm.addPass(createClusterDimsPass());
  pm.addPass(createDedupKernelsPass());
  // griddepcontrol is sm_90's; older GPUs launch kernel after kernel.
  if (options.programmaticLaunch != ProgrammaticLaunch::None &&
      supportsProgrammaticLaunch(options.gpuArch))
    pm.addPass(createGridDependencyPass(options.programmaticLaunch));
  // Before sinter-bind-weights consumes the plans.
  pm.addPass(createPackKernelsPass());
  pm.addPass(createConvertMathToFuncs());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expand));

  GpuNVVMAttachTargetOptions target;
  target.chip = options.gpuArch;
  target.features = ptxFeaturesFor(options.gpuArch);
  target.optLevel = 3;
  pm.addPass(createGpuNVVMAttachTarget(target));
  // Memrefs cross the launch as bare pointers on both sides: the forward's
  // host code has bare pointers only (static shapes, the offsets of views
  // static and in the types).
  ConvertGpuOpsToNVVMOpsOptions toNVVM;
  toNVVM.useBarePtrCallConv = true;
  pm.addNestedPass<gpu::GPUModuleOp>(createConvertGpuOpsToNVVMOps(toNVVM));
  pm.addNestedPass<gpu::GPUModuleOp>(createCanonicalizerPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createCSEPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createReconcileUnrealizedCastsPass());

  // The host: as on the CPU target (bare pointers for the forward), plus
  // gpu.launch_func.
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  GpuToLLVMConversionPassOptions gpuToLLVM;
  gpuToLLVM.hostBarePtrCallConv = true;
  gpuToLLVM.kernelBarePtrCallConv = true;
  pm.addPass(createGpuToLLVMConversionPass(gpuToLLVM));
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  ConvertFuncToLLVMPassOptions func;
  func.useBarePtrCallConv = true;
  pm.addPass(createConvertFuncToLLVMPass(func));
  pm.addPass(createReconcileUnrealizedCastsPass());
  // Every weight through a slot the runtime fills with its device copy when
  // a session opens (sinter-bind-weights, device mode).
  sinter::BindWeightsPassOptions weights;
  weights.device = true;
  pm.addPass(sinter::createBindWeightsPass(weights));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());

  GpuModuleToBinaryPassOptions binary;
  binary.toolkitPath = findToolkit(options);
  binary.compilationTarget =
      options.embedCubin && hasCubinTools(binary.toolkitPath) ? "fatbin"
                                                               : "isa";
  pm.addPass(createGpuModuleToBinaryPass(binary));
}

void registerCudaPasses() {
  PassRegistration<PrepareLoopsPass>();
  PassRegistration<MapLoopsPass>();
  PassRegistration<MergeModulesPass>();
  registerFormKernelsPass();
  registerDedupKernelsPass();
  registerClusterDimsPass();
  registerMergeLaunchesPass();
  registerGridDependencyPass();
  registerRegisterAccumulatorsPass();
  registerPackKernelsPass();
  PassPipelineRegistration<>(
      "sinter-cuda-codegen",
      "The codegen phase of the CUDA target (sm_90a): kernels to PTX",
      [](OpPassManager &pm) { buildCudaCodegenPipeline(pm, CudaOptions()); });
}

std::vector<std::pair<std::string, std::string>> collectPtx(ModuleOp module) {
  std::vector<std::pair<std::string, std::string>> out;
  module.walk([&](gpu::BinaryOp bin) {
    for (Attribute a : bin.getObjects())
      if (auto obj = dyn_cast<gpu::ObjectAttr>(a))
        out.emplace_back(bin.getName().str(), obj.getObject().str());
  });
  return out;
}

} // namespace sinter::cuda
