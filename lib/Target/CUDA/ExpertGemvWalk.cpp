//===- ExpertGemvWalk.cpp - a thread's walk over K in the expert GEMV -----===//
//
// The inner loop of the M = 1 expert projection (ExpertGemv.cpp): the
// weight vectors and x's elements a thread loads for its trips over K
// (x from shared memory when staged, else through the fused prologue's
// body), the matched body's multiply-add on them, and the loop, unrolled
// or software-pipelined per the plan. Separate because it is the part
// tuned for loads in flight, independent of how the block's row slots are
// folded and stored.
//
//===----------------------------------------------------------------------===//

#include "ExpertGemv.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;

namespace sinter::cuda::expert_gemv {

/// The loads x's element (j, k) is made of: x's own element (from
/// shared memory when staged), or the prologue's inputs' elements (split
/// from xFrom so that they can be issued a group ahead).
SmallVector<Value> Builder::loadX(Value j, Value k) {
  if (xs) {
    Value at = k;
    if (p.stagedRows > 1)
      at = arith::AddIOp::create(
          rw, loc,
          arith::MulIOp::create(
              rw, loc,
              splitBase ? arith::SubIOp::create(rw, loc, j, splitBase) : j,
              idx(m.k)),
          k);
    return {memref::LoadOp::create(rw, loc, xs, ValueRange{at})};
  }
  return loadGlobalX(j, k);
}

SmallVector<Value> Builder::loadGlobalX(Value j, Value k) {
  if (!m.prologue) {
    SmallVector<Value> at{idx(0)};
    if (m.perSlot)
      at.push_back(j);
    at.push_back(k);
    return {memref::LoadOp::create(rw, loc, m.x, at)};
  }
  // The prologue's iteration point: x's (0, j, k) (or (0, k)) linearized,
  // then delinearized over its identity output (x is that buffer or a
  // collapse of it), its inputs' indices through their maps.
  ArrayRef<int64_t> shape =
      cast<MemRefType>(m.prologue.getDpsInits()[0].getType()).getShape();
  Value lin = k;
  if (m.perSlot)
    lin = arith::AddIOp::create(
        rw, loc, arith::MulIOp::create(rw, loc, j, idx(m.k)), k);
  SmallVector<Value> at(shape.size());
  for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) {
    at[d] = shape[d] == 1 ? idx(0)
                          : arith::RemUIOp::create(rw, loc, lin,
                                                   idx(shape[d]))
                                .getResult();
    if (shape[d] != 1)
      lin = arith::DivUIOp::create(rw, loc, lin, idx(shape[d]));
  }
  SmallVector<Value> loads;
  for (OpOperand *in : m.prologue.getDpsInputOperands())
    loads.push_back(memref::LoadOp::create(
        rw, loc, in->get(),
        applyMap(rw, loc, m.prologue.getMatchingIndexingMap(in), at)));
  return loads;
}

/// x's element in x's element type from loadX's loads: as loaded, or the
/// prologue's body on them.
Value Builder::xFrom(ArrayRef<Value> loads) {
  return xs ? loads[0] : computeX(loads);
}

Value Builder::computeX(ArrayRef<Value> loads) {
  if (!m.prologue)
    return loads[0];
  Block *body = m.prologue.getBody();
  IRMapping map;
  for (auto [i, v] : llvm::enumerate(loads))
    map.map(body->getArgument(i), v);
  auto y = cast<linalg::YieldOp>(body->getTerminator());
  return cloneValue(rw, y.getValues()[0], body, map);
}

int64_t Builder::xLoads() {
  return xs || !m.prologue ? 1 : m.prologue.getNumDpsInputs();
}

/// Makes x's rows of the block's slots (all J with the combine, else slot
/// j) in `xs`: a strided loop over the block's threads, then a barrier.
void Builder::stageX(Value j) {
  if (!preX.empty()) {
    for (auto [c, loads] : llvm::enumerate(preX))
      memref::StoreOp::create(
          rw, loc, computeX(loads), xs,
          ValueRange{arith::AddIOp::create(rw, loc, tid,
                                           idx(int64_t(c) * p.threads))});
    gpu::BarrierOp::create(rw, loc);
    return;
  }
  auto loop = scf::ForOp::create(rw, loc, tid, idx(p.stagedRows * m.k),
                                 idx(p.threads));
  rw.setInsertionPointToStart(loop.getBody());
  Value i = loop.getInductionVar(), jj = j, kk = i;
  if (p.stagedRows > 1) {
    jj = arith::DivUIOp::create(rw, loc, i, idx(m.k));
    if (splitBase)
      jj = arith::AddIOp::create(rw, loc, jj, splitBase);
    kk = arith::RemUIOp::create(rw, loc, i, idx(m.k));
  }
  memref::StoreOp::create(rw, loc, computeX(loadGlobalX(jj, kk)), xs,
                          ValueRange{i});
  rw.setInsertionPointAfter(loop);
  gpu::BarrierOp::create(rw, loc);
}

/// stageX's loop unrolled up to its loads (when every thread has the same
/// number of elements, at most 16), so that they are in flight while the
/// folded router selects the experts.
void Builder::preloadX(Value j) {
  int64_t total = p.stagedRows * m.k;
  if (!xs || total % p.threads || total / p.threads > 16)
    return;
  for (int64_t c = 0; c < total / p.threads; ++c) {
    Value i = arith::AddIOp::create(rw, loc, tid, idx(c * p.threads));
    Value jj = j, kk = i;
    if (p.stagedRows > 1) {
      jj = arith::DivUIOp::create(rw, loc, i, idx(m.k));
      if (splitBase)
        jj = arith::AddIOp::create(rw, loc, jj, splitBase);
      kk = arith::RemUIOp::create(rw, loc, i, idx(m.k));
    }
    preX.push_back(loadGlobalX(jj, kk));
  }
}

/// The weight vectors, then x's loads, of trips first + (t0 + u) * stride
/// for u < count; x is staged in between when `stage` (the weight loads
/// are then in flight while x is copied).
SmallVector<Value> Builder::issue(Value expert, Value j, Value n0,
                                  Value first, Value t0, int64_t count,
                                  int64_t stride, bool stage) {
  auto vt = VectorType::get({p.vec}, m.wType);
  unsigned align = p.vec * m.wType.getIntOrFloatBitWidth() / 8;
  SmallVector<Value> ks, out;
  for (int64_t u = 0; u < count; ++u) {
    Value t = u ? arith::AddIOp::create(rw, loc, t0, idx(u)).getResult() : t0;
    ks.push_back(arith::AddIOp::create(
        rw, loc, first, arith::MulIOp::create(rw, loc, t, idx(stride))));
    out.push_back(vector::LoadOp::create(rw, loc, vt, m.weight,
                                         ValueRange{expert, ks.back(), n0},
                                         /*nontemporal=*/false,
                                         llvm::MaybeAlign(align)));
  }
  if (stage)
    stageX(j);
  for (int64_t u = 0; u < count; ++u)
    llvm::append_range(out, loadX(j, ks[u]));
  return out;
}

/// accs[c] += x * w over the `count` trips of `loaded` (issue's layout),
/// the matched body's scalar ops cloned.
void Builder::consume(ArrayRef<Value> loaded, int64_t count,
                      SmallVectorImpl<Value> &accs) {
  SmallVector<Value> xf;
  for (int64_t u = 0; u < count; ++u) {
    IRMapping xm;
    xm.map(m.argX,
           xFrom(loaded.slice(count + u * xLoads(), xLoads())));
    xf.push_back(cloneValue(rw, m.factorX, m.body, xm));
  }
  // Column by column: the first column's sums need every vector of the
  // group (each accumulator still adds its trips in order). ptxas
  // reschedules either order to fit its register target, so this is no
  // guarantee; the x copy and the pipeline are what keep loads in flight.
  for (int64_t c = 0; c < p.vec; ++c)
    for (int64_t u = 0; u < count; ++u) {
      IRMapping wm;
      wm.map(m.load, vector::ExtractOp::create(rw, loc, loaded[u], c));
      Value wf = cloneValue(rw, m.factorW, m.body, wm);
      accs[c] = arith::AddFOp::create(
          rw, loc, accs[c], arith::MulFOp::create(rw, loc, xf[u], wf));
    }
}

/// This thread's partial sums of its `vec` columns over its K rows.
SmallVector<Value> Builder::accumulate(Value expert, Value j, Value n0,
                                       Value first, int64_t stride) {
  Value zero =
      arith::ConstantOp::create(rw, loc, rw.getFloatAttr(rw.getF32Type(), 0));
  SmallVector<Value> accs(p.vec, zero);
  auto loopOver = [&](Value lb, Value ub, Value step, ValueRange inits) {
    auto loop = scf::ForOp::create(rw, loc, lb, ub, step, inits);
    rw.setInsertionPointToStart(loop.getBody());
    return loop;
  };
  if (xs && !p.pipelined)
    stageX(j);
  if (!p.groups) {
    // K is not a multiple of the stride: one trip per iteration.
    scf::ForOp loop = loopOver(first, idx(m.k), idx(stride), accs);
    SmallVector<Value> it(loop.getRegionIterArgs());
    SmallVector<Value> loaded = issue(expert, j, n0, loop.getInductionVar(),
                                      idx(0), 1, 0);
    consume(loaded, 1, it);
    scf::YieldOp::create(rw, loc, it);
    rw.setInsertionPointAfter(loop);
    return SmallVector<Value>(loop.getResults());
  }
  int64_t u = p.unroll;
  auto groupStart = [&](Value g) {
    return arith::MulIOp::create(rw, loc, g, idx(u)).getResult();
  };
  if (!p.pipelined) {
    scf::ForOp loop = loopOver(idx(0), idx(p.groups), idx(1), accs);
    SmallVector<Value> it(loop.getRegionIterArgs());
    SmallVector<Value> loaded =
        issue(expert, j, n0, first, groupStart(loop.getInductionVar()), u,
              stride);
    consume(loaded, u, it);
    scf::YieldOp::create(rw, loc, it);
    rw.setInsertionPointAfter(loop);
    return SmallVector<Value>(loop.getResults());
  }
  // Pipelined: group g + 1's loads are in flight while group g is added,
  // so a thread never waits with no load outstanding. Straight-line code:
  // in a loop, LLVM folds the carried loads back into the loop's top
  // (a phi of two loads becomes a load of a phi), undoing the pipeline.
  SmallVector<Value> cur =
      issue(expert, j, n0, first, idx(0), u, stride, /*stage=*/bool(xs));
  for (int64_t g = 1; g <= p.groups; ++g) {
    SmallVector<Value> next;
    if (g < p.groups)
      next = issue(expert, j, n0, first, idx(g * u), u, stride);
    consume(cur, u, accs);
    cur = std::move(next);
  }
  return accs;
}

} // namespace sinter::cuda::expert_gemv
