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

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;

namespace sinter::cuda {
using namespace gated_delta;
namespace {

constexpr StringLiteral kMergedAttr = "sinter.merged_launches";

std::optional<int64_t> constIndex(Value v) {
  APInt c;
  if (matchPattern(v, m_ConstantInt(&c)))
    return c.getSExtValue();
  return std::nullopt;
}

/// A launch this pass may merge: its static grid and block widths.
std::optional<std::pair<int64_t, int64_t>> shape(gpu::LaunchOp l) {
  if (l->hasAttr("sinter.kernel") || l.getDynamicSharedMemorySize() ||
      !l.getAsyncDependencies().empty() || l.getAsyncToken() ||
      l.getNumWorkgroupAttributions() || l.getNumPrivateAttributions() ||
      !l.getBody().hasOneBlock() || l.getClusterSizeX())
    return std::nullopt;
  std::optional<int64_t> gx = constIndex(l.getGridSizeX()),
                         gy = constIndex(l.getGridSizeY()),
                         gz = constIndex(l.getGridSizeZ()),
                         bx = constIndex(l.getBlockSizeX()),
                         by = constIndex(l.getBlockSizeY()),
                         bz = constIndex(l.getBlockSizeZ());
  if (!gx || !bx || gy != 1 || gz != 1 || by != 1 || bz != 1)
    return std::nullopt;
  return std::make_pair(*gx, *bx);
}

/// The static views a launch reads and writes; nullopt when unknown.
std::optional<std::pair<SmallVector<Buf>, SmallVector<Buf>>>
accesses(gpu::LaunchOp l) {
  std::optional<Effects> e = effectsOf(l);
  if (!e)
    return std::nullopt;
  std::pair<SmallVector<Buf>, SmallVector<Buf>> out;
  for (auto [vals, into] : {std::make_pair(&e->reads, &out.first),
                            std::make_pair(&e->writes, &out.second)})
    for (Value v : *vals) {
      std::optional<Buf> b = bufOf(v);
      if (!b)
        return std::nullopt;
      into->push_back(*b);
    }
  return out;
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
  auto ea = accesses(a), eb = accesses(b);
  if (!ea || !eb)
    return false;
  return !anyOverlap(ea->second, eb->first) &&
         !anyOverlap(ea->second, eb->second) &&
         !anyOverlap(eb->second, ea->first);
}

/// Clones `from`'s body at the builder's point as block `block` of its
/// own grid.
void cloneBody(RewriterBase &rw, gpu::LaunchOp from, Value block,
               Value thread) {
  Location loc = from.getLoc();
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(rw, loc, v);
  };
  IRMapping map;
  map.map(from.getBlockIds().x, block);
  map.map(from.getThreadIds().x, thread);
  for (Value v : {from.getBlockIds().y, from.getBlockIds().z,
                  from.getThreadIds().y, from.getThreadIds().z})
    map.map(v, idx(0));
  auto g = from.getGridSize(), s = from.getBlockSize();
  map.map(g.x, idx(*constIndex(from.getGridSizeX())));
  map.map(s.x, idx(*constIndex(from.getBlockSizeX())));
  for (Value v : {g.y, g.z, s.y, s.z})
    map.map(v, idx(1));
  for (Operation &op : from.getBody().front().without_terminator())
    rw.clone(op, map);
}

int64_t mergedCount(gpu::LaunchOp l) {
  auto a = l->getAttrOfType<IntegerAttr>(kMergedAttr);
  return a ? a.getInt() : 1;
}

/// Merges `b` into `a` (both checked); returns the new launch.
gpu::LaunchOp merge(RewriterBase &rw, gpu::LaunchOp a, gpu::LaunchOp b,
                    int64_t ga, int64_t gb, int64_t threads) {
  // The views and constants between them go above `a`.
  for (Operation *op = a->getNextNode(); op != b;) {
    Operation *next = op->getNextNode();
    rw.moveOpBefore(op, a);
    op = next;
  }
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
  cloneBody(rw, a, bid, tid);
  rw.setInsertionPointToStart(branch.elseBlock());
  cloneBody(rw, b,
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
        // The next launch, past views and constants.
        Operation *n = a->getNextNode();
        while (n && !isa<gpu::LaunchOp>(n) && n->getNumRegions() == 0 &&
               isViewOrPure(n))
          n = n->getNextNode();
        auto b = dyn_cast_or_null<gpu::LaunchOp>(n);
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
