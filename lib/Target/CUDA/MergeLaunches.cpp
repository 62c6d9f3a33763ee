//===- MergeLaunches.cpp - independent launches as one --------------------===//
//
// sinter-cuda-merge-launches: two launches in a row that share no byte one
// writes and the other touches can run at the same time, so they become
// one launch whose blocks are the first's followed by the second's (block
// b < G1 runs the first body as block b, the others the second body as
// block b - G1). Each launch costs a fixed time the bandwidth floor does
// not pay; bench8 decode starts with three small generic kernels (the
// position copy, the embedding row, the attention mask) that are one
// launch this way.
//
// Only the generic mapping's launches (no `sinter.kernel`: a template's
// kernel keeps its own launch, its plan and its tests), with static 1-D
// grids of equal 1-D blocks, no shared memory, one body block, and ops
// whose accesses are known (GatedDeltaBuffers' effectsOf). The partition
// is by block, so a barrier or shuffle inside a body stays uniform. Only
// views and constants may sit between the two (they move above the
// first). The merged launch carries `sinter.merged_launches` = how many
// it replaced. docs/cuda-target.md ("Merged launches").
//
//===----------------------------------------------------------------------===//

#include "MergeLaunches.h"

#include "GatedDeltaBuffers.h"
#include "LaunchBodies.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;

namespace sinter::cuda {
using namespace gated_delta;
namespace {

constexpr StringLiteral kMergedAttr = "sinter.merged_launches";

/// A launch this pass may merge: its static grid and block widths.
std::optional<std::pair<int64_t, int64_t>> shape(gpu::LaunchOp l) {
  if (l->hasAttr("sinter.kernel") || l.getDynamicSharedMemorySize() ||
      !l.getAsyncDependencies().empty() || l.getAsyncToken() ||
      l.getNumWorkgroupAttributions() || l.getNumPrivateAttributions() ||
      !l.getBody().hasOneBlock() || l.getClusterSizeX())
    return std::nullopt;
  return static1DShape(l);
}

bool anyOverlap(ArrayRef<Buf> a, ArrayRef<Buf> b) {
  for (const Buf &x : a)
    for (const Buf &y : b)
      if (overlapDistinctArgs(x, y))
        return true;
  return false;
}

/// Whether `a` then `b` may run at once: neither writes what the other
/// reads or writes.
bool independent(gpu::LaunchOp a, gpu::LaunchOp b) {
  auto ea = launchAccesses(a), eb = launchAccesses(b);
  if (!ea || !eb)
    return false;
  return !anyOverlap(ea->writes, eb->reads) &&
         !anyOverlap(ea->writes, eb->writes) &&
         !anyOverlap(eb->writes, ea->reads);
}

int64_t mergedCount(gpu::LaunchOp l) {
  auto a = l->getAttrOfType<IntegerAttr>(kMergedAttr);
  return a ? a.getInt() : 1;
}

/// Merges `b` into `a` (both checked); returns the new launch.
gpu::LaunchOp merge(RewriterBase &rw, gpu::LaunchOp a, gpu::LaunchOp b,
                    int64_t ga, int64_t gb, int64_t threads) {
  // The views and constants between them go above `a`.
  hoistBetween(rw, a, b);
  Location loc = a.getLoc();
  rw.setInsertionPoint(a);
  Value one = arith::ConstantIndexOp::create(rw, loc, 1);
  Value grid = arith::ConstantIndexOp::create(rw, loc, ga + gb);
  Value block = arith::ConstantIndexOp::create(rw, loc, threads);
  auto launch = gpu::LaunchOp::create(
      rw, loc, grid, one, one, block, one, one,
      /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
      /*asyncDependencies=*/{}, /*workgroupAttributions=*/TypeRange{});
  Block &body = launch.getBody().front();
  rw.setInsertionPointToStart(&body);
  gpu::TerminatorOp::create(rw, loc);
  rw.setInsertionPointToStart(&body);
  Value bid = launch.getBlockIds().x, tid = launch.getThreadIds().x;
  Value first = arith::CmpIOp::create(
      rw, loc, arith::CmpIPredicate::ult, bid,
      arith::ConstantIndexOp::create(rw, loc, ga));
  auto branch = scf::IfOp::create(rw, loc, first, /*withElse=*/true);
  rw.setInsertionPointToStart(branch.thenBlock());
  cloneLaunchBody(rw, a, bid, tid);
  rw.setInsertionPointToStart(branch.elseBlock());
  cloneLaunchBody(rw, b,
            arith::SubIOp::create(rw, loc, bid,
                                  arith::ConstantIndexOp::create(rw, loc, ga)),
            tid);
  launch->setAttr(kMergedAttr,
                  rw.getI64IntegerAttr(mergedCount(a) + mergedCount(b)));
  rw.eraseOp(a);
  rw.eraseOp(b);
  return launch;
}

struct MergeLaunchesPass
    : PassWrapper<MergeLaunchesPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(MergeLaunchesPass)
  StringRef getArgument() const final { return "sinter-cuda-merge-launches"; }
  StringRef getDescription() const final {
    return "Merge consecutive generic launches that share no written byte "
           "into one launch (their blocks side by side)";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<scf::SCFDialect, arith::ArithDialect>();
  }
  void runOnOperation() override {
    IRRewriter rw(&getContext());
    SmallVector<Block *> blocks;
    getOperation().walk([&](Block *b) {
      if (!b->getParentOp()->getParentOfType<gpu::LaunchOp>() &&
          !isa<gpu::LaunchOp>(b->getParentOp()))
        blocks.push_back(b);
    });
    for (Block *blk : blocks) {
      Operation *op = &blk->front();
      while (op) {
        auto a = dyn_cast<gpu::LaunchOp>(op);
        if (!a) {
          op = op->getNextNode();
          continue;
        }
        gpu::LaunchOp b = nextLaunch(a);
        auto sa = shape(a);
        auto sb = b ? shape(b) : std::nullopt;
        if (!b || !sa || !sb || sa->second != sb->second ||
            !independent(a, b)) {
          op = a->getNextNode();
          continue;
        }
        // Merged: try the result with the launch after it.
        op = merge(rw, a, b, sa->first, sb->first, sa->second);
      }
    }
  }
};

} // namespace

std::unique_ptr<Pass> createMergeLaunchesPass() {
  return std::make_unique<MergeLaunchesPass>();
}

void registerMergeLaunchesPass() { PassRegistration<MergeLaunchesPass>(); }

} // namespace sinter::cuda
