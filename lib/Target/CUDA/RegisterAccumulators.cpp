//===- RegisterAccumulators.cpp - reduction accumulators in registers -----===//
//
// sinter-cuda-register-accumulators: runs on the loops of the generic
// mapping (linalg-to-parallel-loops output, before sinter-cuda-map-loops).
// A linalg reduction becomes an scf.for whose body loads the output
// element, combines, and stores it back, every iteration. Kernel parameters
// are bare pointers without noalias, so LLVM keeps that load and store in
// the loop: each iteration waits for a global-memory round trip. TopK's
// rank kernel (256 compares per thread) took 17 us and its pick kernel
// 31 us per MoE layer on an H200 for that reason.
//
// The element is loaded once before the loop, carried as an iter_arg and
// stored once after it. Sound because the loop is one linalg op's
// reduction: bufferization never lets an op's output alias the inputs it
// reads at other indices, so only this load and store touch the element.
// The pass checks what it can see: the memref and indices are defined
// outside the loop, the load comes before the store, and nothing else in
// the loop names the memref or writes memory.
//
//===----------------------------------------------------------------------===//

#include "RegisterAccumulators.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Pass/Pass.h"

using namespace mlir;

namespace sinter::cuda {
namespace {

struct Accumulator {
  memref::LoadOp load;
  memref::StoreOp store;
};

/// The load/store pairs of `loop` that can live in registers, or none when
/// anything in the loop could touch them otherwise.
SmallVector<Accumulator> findAccumulators(scf::ForOp loop) {
  SmallVector<Accumulator> accs;
  if (loop.getNumRegionIterArgs() != 0)
    return {};
  auto outside = [&](Value v) {
    return !loop.getRegion().isAncestor(v.getParentRegion());
  };
  for (Operation &op : loop.getBody()->without_terminator()) {
    auto store = dyn_cast<memref::StoreOp>(op);
    if (!store || !outside(store.getMemRef()) ||
        !llvm::all_of(store.getIndices(), outside))
      continue;
    memref::LoadOp load;
    for (Operation &prev : loop.getBody()->getOperations()) {
      if (&prev == store.getOperation())
        break;
      auto l = dyn_cast<memref::LoadOp>(prev);
      if (l && l.getMemRef() == store.getMemRef() &&
          l.getIndices() == store.getIndices())
        load = l;
    }
    if (load)
      accs.push_back({load, store});
  }
  if (accs.empty())
    return {};
  // Nothing else names an accumulator's memref or writes memory.
  llvm::SmallPtrSet<Operation *, 8> mine;
  llvm::SmallPtrSet<Value, 8> memrefs;
  for (Accumulator &a : accs) {
    mine.insert(a.load);
    mine.insert(a.store);
    if (!memrefs.insert(a.store.getMemRef()).second)
      return {}; // two elements of one buffer: they may be the same one
  }
  WalkResult r = loop.getBody()->walk([&](Operation *op) {
    if (mine.contains(op))
      return WalkResult::advance();
    for (Value v : op->getOperands())
      if (memrefs.contains(v))
        return WalkResult::interrupt();
    auto effects = dyn_cast<MemoryEffectOpInterface>(op);
    if (!effects && !op->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
      return WalkResult::interrupt(); // unknown effects
    if (effects && effects.hasEffect<MemoryEffects::Write>())
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  if (r.wasInterrupted())
    return {};
  return accs;
}

void promote(scf::ForOp loop, SmallVector<Accumulator> &accs) {
  IRRewriter rw(loop.getContext());
  rw.setInsertionPoint(loop);
  SmallVector<Value> inits;
  for (Accumulator &a : accs)
    inits.push_back(memref::LoadOp::create(rw, a.load.getLoc(),
                                           a.load.getMemRef(),
                                           a.load.getIndices()));
  SmallVector<Value> stored;
  for (Accumulator &a : accs)
    stored.push_back(a.store.getValueToStore());
  auto newLoop = cast<scf::ForOp>(*loop.replaceWithAdditionalYields(
      rw, inits, /*replaceInitOperandUsesInLoop=*/false,
      [&](OpBuilder &, Location, ArrayRef<BlockArgument>) { return stored; }));
  for (auto [i, a] : llvm::enumerate(accs)) {
    rw.replaceAllUsesWith(a.load.getResult(), newLoop.getRegionIterArg(i));
    rw.eraseOp(a.load);
  }
  rw.setInsertionPointAfter(newLoop);
  for (auto [i, a] : llvm::enumerate(accs)) {
    memref::StoreOp::create(rw, a.store.getLoc(), newLoop.getResult(i),
                            a.store.getMemRef(), a.store.getIndices());
    rw.eraseOp(a.store);
  }
}

struct RegisterAccumulatorsPass
    : PassWrapper<RegisterAccumulatorsPass, OperationPass<>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(RegisterAccumulatorsPass)
  StringRef getArgument() const final {
    return "sinter-cuda-register-accumulators";
  }
  StringRef getDescription() const final {
    return "Reduction loops of the generic mapping: the output element "
           "loaded once, carried in a register, stored once";
  }
  void runOnOperation() override {
    // Innermost loops first, so that an outer reduction loop sees the
    // inner one's load and store hoisted next to it.
    SmallVector<scf::ForOp> loops;
    getOperation()->walk([&](scf::ForOp loop) {
      if (loop->getParentOfType<scf::ParallelOp>() &&
          !loop->getParentOfType<gpu::LaunchOp>())
        loops.push_back(loop);
    });
    for (scf::ForOp loop : loops) {
      SmallVector<Accumulator> accs = findAccumulators(loop);
      if (!accs.empty())
        promote(loop, accs);
    }
  }
};

} // namespace

std::unique_ptr<Pass> createRegisterAccumulatorsPass() {
  return std::make_unique<RegisterAccumulatorsPass>();
}

void registerRegisterAccumulatorsPass() {
  PassRegistration<RegisterAccumulatorsPass>();
}

} // namespace sinter::cuda
