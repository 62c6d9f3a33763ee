//===- GridDependency.cpp - programmatic dependent launch -----------------===//
//
// sinter-cuda-grid-dependency: makes every kernel safe to launch with
// programmatic stream serialization (Hopper's programmatic dependent
// launch), so that the runtime can launch a kernel before the one ahead of
// it has completed. In a decode step of small kernels the gap between two
// dependent launches (the grid's completion, the next grid's launch, its
// blocks being placed) is a fixed cost per kernel that the bandwidth floor
// does not pay; the overlap hides part of it.
//
// Each kernel starts with griddepcontrol.wait (the grids before it have
// completed and their writes are visible), before any memory access: a
// kernel reads what the one before wrote and may write what it still reads
// (the arena reuses buffers), so nothing may move above it. The runtime
// may then launch the kernel as the blocks of the one before exit, without
// waiting for that grid's completion. With early-trigger the wait is
// followed by griddepcontrol.launch_dependents: the next grid is launched
// while this one runs and its blocks wait on the multiprocessors (at most
// one grid behind a running one, since the trigger comes after the wait).
// Measured on an H200 (bench8 decode, docs/benchmarks.md) that is slower
// than no overlap at all (0.690 against 0.668 ms a step, 0.660 with the
// wait alone); the likely cause, not confirmed, is placement: the early
// blocks take whichever multiprocessors are free, so a one-wave kernel is
// not spread one block per multiprocessor. Launched without the attribute
// (--no-programmatic-launch, a GPU before sm_90) the instructions do
// nothing. The module gets `sinter.programmatic_launch`, which reaches the
// runtime as SinterModel::launch_flags; the runtime launches with the
// attribute only the kernels of such a model.
//
// weights-first (modes `weights` and `late`): a constant weight (a
// kernel argument that every launch binds to a constant memref.global) is
// written by no kernel, so a kernel may read it before its wait. The wait
// then moves below the kernel's leading ops that only compute and read
// such weights (the prefetched first weight vectors of a prologue GEMV),
// and those loads are in flight while the kernel before finishes. The
// first kernel launched by a forward keeps its wait first: the operation
// before it on the stream may be the load-time kernel that packs or fills
// the weights. With late-trigger (mode `late`) each kernel also executes
// griddepcontrol.launch_dependents after its last top-level op that reads
// a weight (a GEMV's K loop): the next grid is launched once every block
// has issued its weight loads, and its own leading weight loads overlap
// this kernel's reductions and stores.
// docs/cuda-target.md ("Programmatic dependent launch").
//
//===----------------------------------------------------------------------===//

#include "GridDependency.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/BitVector.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

using namespace mlir;

namespace sinter::cuda {
namespace {

/// The memref a chain of views reads.
Value viewRoot(Value v) {
  while (auto view = v.getDefiningOp<ViewLikeOpInterface>())
    v = view.getViewSource();
  return v;
}

/// Whether `v` (a launch operand) is a view of a constant global.
bool isConstantGlobal(Value v, SymbolTableCollection &symbols) {
  auto get = viewRoot(v).getDefiningOp<memref::GetGlobalOp>();
  if (!get)
    return false;
  auto global = symbols.lookupNearestSymbolFrom<memref::GlobalOp>(
      get, get.getNameAttr());
  return global && global.getConstant();
}

/// Whether `v` is a view of one of the kernel arguments in `weights`
/// (entry block arguments of the kernel).
bool isWeight(Value v, Block *entry, const llvm::BitVector &weights) {
  auto arg = dyn_cast<BlockArgument>(viewRoot(v));
  return arg && arg.getOwner() == entry && arg.getArgNumber() < weights.size() &&
         weights.test(arg.getArgNumber());
}

/// Whether `op` and everything nested in it only computes and reads the
/// weights; `readsWeight` is set when it reads one.
bool onlyReadsWeights(Operation *op, Block *entry,
                      const llvm::BitVector &weights, bool &readsWeight) {
  WalkResult r = op->walk([&](Operation *nested) {
    if (nested->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
      return WalkResult::advance();
    auto iface = dyn_cast<MemoryEffectOpInterface>(nested);
    if (!iface)
      return WalkResult::interrupt(); // unknown effects
    SmallVector<MemoryEffects::EffectInstance> effects;
    iface.getEffects(effects);
    for (const MemoryEffects::EffectInstance &e : effects) {
      if (!isa<MemoryEffects::Read>(e.getEffect()) || !e.getValue() ||
          !isWeight(e.getValue(), entry, weights))
        return WalkResult::interrupt();
      readsWeight = true;
    }
    return WalkResult::advance();
  });
  return !r.wasInterrupted();
}

/// Whether `op` reads one of the weights (anywhere in its regions).
bool readsWeights(Operation *op, Block *entry,
                  const llvm::BitVector &weights) {
  WalkResult r = op->walk([&](MemoryEffectOpInterface iface) {
    SmallVector<MemoryEffects::EffectInstance> effects;
    iface.getEffects(effects);
    for (const MemoryEffects::EffectInstance &e : effects)
      if (isa<MemoryEffects::Read>(e.getEffect()) && e.getValue() &&
          isWeight(e.getValue(), entry, weights))
        return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return r.wasInterrupted();
}

void createGridControl(OpBuilder &b, Location loc, StringRef ptx) {
  // Inline PTX with a memory clobber, not the nvvm.griddepcontrol op:
  // LLVM's intrinsic is IntrNoMem, which would let a load be scheduled
  // across it.
  LLVM::InlineAsmOp::create(b, loc, TypeRange(), ValueRange(), ptx,
                            "~{memory}", /*has_side_effects=*/true,
                            /*is_align_stack=*/false,
                            LLVM::tailcallkind::TailCallKind::None,
                            LLVM::AsmDialectAttr(), ArrayAttr());
}

constexpr StringLiteral kWait = "griddepcontrol.wait;";
constexpr StringLiteral kTrigger = "griddepcontrol.launch_dependents;";

struct GridDependencyPass
    : PassWrapper<GridDependencyPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(GridDependencyPass)
  GridDependencyPass() = default;
  GridDependencyPass(const GridDependencyPass &other) : PassWrapper(other) {}
  explicit GridDependencyPass(ProgrammaticLaunch mode) {
    earlyTrigger = mode == ProgrammaticLaunch::Early;
    weightsFirst = mode == ProgrammaticLaunch::Weights ||
                   mode == ProgrammaticLaunch::Late;
    lateTrigger = mode == ProgrammaticLaunch::Late;
  }
  Option<bool> earlyTrigger{
      *this, "early-trigger",
      llvm::cl::desc("Also griddepcontrol.launch_dependents after the wait "
                     "(the next grid launched while this one runs); without "
                     "it the next grid launches as this one's blocks exit"),
      llvm::cl::init(false)};
  Option<bool> weightsFirst{
      *this, "weights-first",
      llvm::cl::desc("Issue a kernel's leading loads of constant weights "
                     "above its wait (not in the first kernel a function "
                     "launches)"),
      llvm::cl::init(false)};
  Option<bool> lateTrigger{
      *this, "late-trigger",
      llvm::cl::desc("Also griddepcontrol.launch_dependents after the "
                     "kernel's last top-level op that reads a constant "
                     "weight"),
      llvm::cl::init(false)};
  StringRef getArgument() const final { return "sinter-cuda-grid-dependency"; }
  StringRef getDescription() const final {
    return "Start every kernel with griddepcontrol.wait (with early-trigger, "
           "also griddepcontrol.launch_dependents; with weights-first, "
           "after its leading weight loads): programmatic dependent launch, "
           "sm_90+";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<LLVM::LLVMDialect>();
  }

  /// Per kernel, the arguments that every launch binds to a constant
  /// global; kernels launched first by a function get none.
  llvm::DenseMap<Operation *, llvm::BitVector>
  constantWeightArgs(ModuleOp module) {
    SymbolTableCollection symbols;
    llvm::DenseMap<Operation *, llvm::BitVector> weights;
    llvm::DenseSet<Operation *> first;
    module.walk([&](func::FuncOp host) {
      bool seen = false;
      host.walk([&](gpu::LaunchFuncOp launch) {
        auto fn = symbols.lookupNearestSymbolFrom<gpu::GPUFuncOp>(
            launch, launch.getKernel());
        if (!fn)
          return;
        if (!seen)
          first.insert(fn);
        seen = true;
        ValueRange operands = launch.getKernelOperands();
        llvm::BitVector here(operands.size());
        for (auto [i, v] : llvm::enumerate(operands))
          if (isConstantGlobal(v, symbols))
            here.set(i);
        auto [it, inserted] = weights.try_emplace(fn, here);
        if (!inserted)
          it->second &= here; // every launch must bind a constant
      });
    });
    for (Operation *fn : first)
      weights.erase(fn);
    return weights;
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    llvm::DenseMap<Operation *, llvm::BitVector> weights;
    if (weightsFirst || lateTrigger)
      weights = constantWeightArgs(module);
    bool any = false;
    module.walk([&](gpu::GPUFuncOp fn) {
      if (!fn.isKernel() || fn.getBody().empty())
        return;
      Block *entry = &fn.getBody().front();
      llvm::BitVector none;
      auto found = weights.find(fn);
      const llvm::BitVector &ro = found == weights.end() ? none : found->second;
      // The wait goes below the leading ops that only compute and read
      // weights, when they read any; else first, as before.
      Operation *waitBefore = &entry->front();
      if (weightsFirst && ro.any()) {
        bool prefixReads = false;
        Operation *op = &entry->front();
        for (; !op->hasTrait<OpTrait::IsTerminator>(); op = op->getNextNode()) {
          bool reads = false;
          if (!onlyReadsWeights(op, entry, ro, reads))
            break;
          prefixReads |= reads;
        }
        if (prefixReads)
          waitBefore = op;
      }
      OpBuilder b(waitBefore);
      if (earlyTrigger)
        createGridControl(b, fn.getLoc(),
                          (Twine(kWait) + "\n\t" + kTrigger).str());
      else
        createGridControl(b, fn.getLoc(), kWait);
      Operation *wait = waitBefore->getPrevNode();
      if (lateTrigger && ro.any()) {
        // After the last top-level op that reads a weight, or after the
        // wait when they all came before it.
        Operation *last = nullptr;
        for (Operation &op : *entry)
          if (readsWeights(&op, entry, ro))
            last = &op;
        if (last) {
          if (last->isBeforeInBlock(wait))
            last = wait;
          b.setInsertionPointAfter(last);
          createGridControl(b, fn.getLoc(), kTrigger);
        }
      }
      any = true;
    });
    if (any)
      module->setAttr(kProgrammaticLaunchAttr, UnitAttr::get(&getContext()));
  }
};

} // namespace

std::unique_ptr<Pass> createGridDependencyPass(ProgrammaticLaunch mode) {
  return std::make_unique<GridDependencyPass>(mode);
}

void registerGridDependencyPass() { PassRegistration<GridDependencyPass>(); }

} // namespace sinter::cuda
