//===- LaunchBodies.cpp - moving a launch's body into another -------------===//
//
// See LaunchBodies.h.
//
//===----------------------------------------------------------------------===//

#include "LaunchBodies.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;

namespace sinter::cuda {

std::optional<int64_t> constIndex(Value v) {
  APInt c;
  if (matchPattern(v, m_ConstantInt(&c)))
    return c.getSExtValue();
  return std::nullopt;
}

std::optional<std::pair<int64_t, int64_t>> static1DShape(gpu::LaunchOp l) {
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

gpu::LaunchOp nextLaunch(gpu::LaunchOp l) {
  Operation *op = l->getNextNode();
  while (op && !isa<gpu::LaunchOp>(op) && op->getNumRegions() == 0 &&
         gated_delta::isViewOrPure(op))
    op = op->getNextNode();
  return dyn_cast_or_null<gpu::LaunchOp>(op);
}

std::optional<LaunchAccesses> launchAccesses(gpu::LaunchOp l) {
  std::optional<gated_delta::Effects> e = gated_delta::effectsOf(l);
  if (!e)
    return std::nullopt;
  LaunchAccesses out;
  for (auto [vals, into] : {std::make_pair(&e->reads, &out.reads),
                            std::make_pair(&e->writes, &out.writes)})
    for (Value v : *vals) {
      std::optional<gated_delta::Buf> b = gated_delta::bufOf(v);
      if (!b)
        return std::nullopt;
      into->push_back(*b);
    }
  return out;
}

void hoistBetween(RewriterBase &rw, Operation *first, Operation *second) {
  for (Operation *op = first->getNextNode(); op != second;) {
    Operation *next = op->getNextNode();
    rw.moveOpBefore(op, first);
    op = next;
  }
}

void cloneLaunchBody(RewriterBase &rw, gpu::LaunchOp from, Value block,
                     Value thread) {
  Location loc = from.getLoc();
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(rw, loc, v);
  };
  auto [grid, threads] = *static1DShape(from);
  IRMapping map;
  map.map(from.getBlockIds().x, block);
  map.map(from.getThreadIds().x, thread);
  for (Value v : {from.getBlockIds().y, from.getBlockIds().z,
                  from.getThreadIds().y, from.getThreadIds().z})
    map.map(v, idx(0));
  auto g = from.getGridSize(), s = from.getBlockSize();
  map.map(g.x, idx(grid));
  map.map(s.x, idx(threads));
  for (Value v : {g.y, g.z, s.y, s.z})
    map.map(v, idx(1));
  for (Operation &op : from.getBody().front().without_terminator())
    rw.clone(op, map);
}

} // namespace sinter::cuda
