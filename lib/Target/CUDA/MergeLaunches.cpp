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
// it replaced.
//
// One exception: a generic launch right before a template's (static 1-D,
// blocks at least as wide, one body block) that touches no buffer the
// template's body takes from above joins it: its blocks are appended to
// the template's grid and run its body (no barrier or shuffle in it) in
// their first threads; the template's body runs unchanged in its own
// blocks. bench8 decode's start kernel (the position copy and the
// attention mask) joins layer 0's in_proj this way: 50 -> 49 launches.
// docs/cuda-target.md ("Merged launches").
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

/// Whether a launch's body synchronizes its block (then it may not run in
/// part of a larger block).
bool hasBarrier(gpu::LaunchOp l) {
  return l.getBody()
      .walk([](Operation *op) {
        return isa<gpu::BarrierOp, gpu::ShuffleOp>(op) ? WalkResult::interrupt()
                                                       : WalkResult::advance();
      })
      .wasInterrupted();
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

/// A template's launch `t` that a small generic launch may join (its
/// blocks appended after t's): a static 1-D grid of 1-D blocks at least
/// `threads` wide, one body block, no async tokens or clusters.
std::optional<int64_t> templateGrid(gpu::LaunchOp t, int64_t threads) {
  if (!t->hasAttr("sinter.kernel") || t.getDynamicSharedMemorySize() ||
      !t.getAsyncDependencies().empty() || t.getAsyncToken() ||
      !t.getBody().hasOneBlock() || t.getClusterSizeX())
    return std::nullopt;
  auto shape = static1DShape(t);
  if (!shape || shape->second < threads)
    return std::nullopt;
  return shape->first;
}

/// Whether the generic launch `a` (accesses known) touches no byte of any
/// buffer the template's launch `t` uses: every memref `t`'s body takes
/// from above counts as read and written (a template's body is not
/// analysed op by op).
bool independentOfTemplate(gpu::LaunchOp a, gpu::LaunchOp t) {
  auto ea = launchAccesses(a);
  if (!ea)
    return false;
  SmallVector<Buf> used;
  bool known = true;
  t.getBody().walk([&](Operation *op) {
    for (Value v : op->getOperands()) {
      if (!isa<MemRefType>(v.getType()) ||
          t.getBody().isAncestor(v.getParentRegion()))
        continue;
      std::optional<Buf> b = bufOf(v);
      if (!b)
        known = false;
      else
        used.push_back(*b);
    }
  });
  return known && !anyOverlap(ea->writes, used) && !anyOverlap(ea->reads, used);
}

/// Appends the blocks of the generic launch `a` (grid `ga` of `threads`)
/// to the template's launch `t` (grid `gt`): t's body runs in blocks
/// b < gt as before (its own grid size a constant), `a`'s body in the
/// others as block b - gt, in threads below `threads`. The partition is by
/// block, so t's barriers stay uniform. Returns the launch (`t`).
gpu::LaunchOp mergeIntoTemplate(RewriterBase &rw, gpu::LaunchOp a,
                                gpu::LaunchOp t, int64_t ga, int64_t gt,
                                int64_t threads) {
  hoistBetween(rw, a, t);
  Location loc = t.getLoc();
  Block &body = t.getBody().front();
  // t's body must not see the larger grid.
  rw.setInsertionPointToStart(&body);
  Value gtConst = arith::ConstantIndexOp::create(rw, loc, gt);
  rw.replaceAllUsesWith(t.getGridSize().x, gtConst);
  Value bid = t.getBlockIds().x, tid = t.getThreadIds().x;
  Value mine =
      arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, bid, gtConst);
  auto branch = scf::IfOp::create(rw, loc, mine, /*withElse=*/true);
  // t's ops (all after the branch) into its then-block.
  Operation *thenEnd = branch.thenBlock()->getTerminator();
  for (Operation *op = branch->getNextNode(); op != body.getTerminator();) {
    Operation *next = op->getNextNode();
    rw.moveOpBefore(op, thenEnd);
    op = next;
  }
  rw.setInsertionPointToStart(branch.elseBlock());
  Value active =
      arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, tid,
                            arith::ConstantIndexOp::create(rw, loc, threads));
  auto guard = scf::IfOp::create(rw, loc, active, /*withElse=*/false);
  rw.setInsertionPointToStart(guard.thenBlock());
  cloneLaunchBody(rw, a, arith::SubIOp::create(rw, loc, bid, gtConst), tid);
  rw.setInsertionPoint(t);
  Value grid = arith::ConstantIndexOp::create(rw, loc, gt + ga);
  rw.modifyOpInPlace(t, [&] { t.getGridSizeXMutable().assign(grid); });
  t->setAttr(kMergedAttr,
             rw.getI64IntegerAttr(mergedCount(t) + mergedCount(a)));
  rw.eraseOp(a);
  return t;
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
        // A generic launch before a template's: its blocks join it.
        if (b && sa && !sb) {
          std::optional<int64_t> gt = templateGrid(b, sa->second);
          if (gt && !hasBarrier(a) && independentOfTemplate(a, b)) {
            op = mergeIntoTemplate(rw, a, b, sa->first, *gt, sa->second);
            op = op->getNextNode();
            continue;
          }
        }
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
