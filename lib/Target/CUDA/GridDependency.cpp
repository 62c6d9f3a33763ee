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
// docs/cuda-target.md ("Programmatic dependent launch").
//
//===----------------------------------------------------------------------===//

#include "GridDependency.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;

namespace sinter::cuda {
namespace {

struct GridDependencyPass
    : PassWrapper<GridDependencyPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(GridDependencyPass)
  GridDependencyPass() = default;
  GridDependencyPass(const GridDependencyPass &other) : PassWrapper(other) {}
  explicit GridDependencyPass(bool early) { earlyTrigger = early; }
  Option<bool> earlyTrigger{
      *this, "early-trigger",
      llvm::cl::desc("Also griddepcontrol.launch_dependents after the wait "
                     "(the next grid launched while this one runs); without "
                     "it the next grid launches as this one's blocks exit"),
      llvm::cl::init(false)};
  StringRef getArgument() const final { return "sinter-cuda-grid-dependency"; }
  StringRef getDescription() const final {
    return "Start every kernel with griddepcontrol.wait (with early-trigger, "
           "also griddepcontrol.launch_dependents): programmatic dependent "
           "launch, sm_90+";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<LLVM::LLVMDialect>();
  }
  void runOnOperation() override {
    ModuleOp module = getOperation();
    bool any = false;
    module.walk([&](gpu::GPUFuncOp fn) {
      if (!fn.isKernel() || fn.getBody().empty())
        return;
      OpBuilder b = OpBuilder::atBlockBegin(&fn.getBody().front());
      // Inline PTX with a memory clobber, not the nvvm.griddepcontrol op:
      // LLVM's intrinsic is IntrNoMem, which would let a load be scheduled
      // above the wait.
      LLVM::InlineAsmOp::create(
          b, fn.getLoc(), TypeRange(), ValueRange(),
          earlyTrigger
              ? "griddepcontrol.wait;\n\tgriddepcontrol.launch_dependents;"
              : "griddepcontrol.wait;",
          "~{memory}", /*has_side_effects=*/true, /*is_align_stack=*/false,
          LLVM::tailcallkind::TailCallKind::None, LLVM::AsmDialectAttr(),
          ArrayAttr());
      any = true;
    });
    if (any)
      module->setAttr(kProgrammaticLaunchAttr, UnitAttr::get(&getContext()));
  }
};

} // namespace

std::unique_ptr<Pass> createGridDependencyPass(bool earlyTrigger) {
  return std::make_unique<GridDependencyPass>(earlyTrigger);
}

void registerGridDependencyPass() { PassRegistration<GridDependencyPass>(); }

} // namespace sinter::cuda
