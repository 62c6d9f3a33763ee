//===- ExpertGrouped.cpp - MoE expert projections over many tokens --------===//
//
// See Kernels.h. sinter.expert_linear at T > 1 tokens is lowered to a
// generic over (t, j, n, k) that loads W[sel(idx[t, j]), k, n] in its body
// (the stacked expert weights [E, K, N], a global). The row template runs
// it as a block per (t, j, n): every routed token re-reads its expert's
// weight column through L2, 512 tokens x 8 picks x N blocks.
//
// This template groups the tokens by expert inside ONE launch: a block per
// (expert e, tile of 256 x C columns). The block first lists the (t, j)
// picks whose expert is e (every thread scans a strided share of the
// index array, computing the body's own expert expression, and appends a
// match to a shared-memory list through a shared atomic counter), then
// walks the list in batches of B picks: thread n keeps B x C f32
// accumulators, loads W[e, k, n..] once per k and applies it to the B
// picks (their x[t, k] are warp-broadcast loads). So each routed expert's
// weights are read once from DRAM per column tile, whatever its number of
// tokens. The list order depends on the atomics; each output element's sum
// over k does not (same order as the generic's), so results are exact
// repeats of the generic mapping's up to its own summation order.
//
// The body is cloned per pick (the products, conversions, the accumulate),
// with the weight load replaced by the block's shared value; the accumulator
// starts from the output's current value (the fill before it), as the
// generic does.
//
// With f16/bf16 x and weights (the body exactly out + extf(x) * extf(w)),
// ExpertGroupedMma.cpp's tensor-core kernel takes the op instead; this one
// stays for the rest (f32 models, K or N not a multiple of 8, ...).
//
//===----------------------------------------------------------------------===//

#include "ExpertGrouped.h"
#include "GemmBuffers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace sinter::cuda {
namespace {

constexpr int64_t kThreads = 256;
constexpr int64_t kBatch = 8;       // picks per pass over K
constexpr int64_t kMaxColumns = 4;  // columns per thread
constexpr int64_t kMaxPicks = 8192; // T x J listed in shared memory
constexpr int64_t kScanUnroll = 8;  // index loads per thread per scan step

AffineMap dimsMap(MLIRContext *ctx, ArrayRef<unsigned> d) {
  SmallVector<AffineExpr> e;
  for (unsigned i : d)
    e.push_back(getAffineDimExpr(i, ctx));
  return AffineMap::get(4, 0, e, ctx);
}

unsigned indexDim(Value v) {
  auto i = v.getDefiningOp<linalg::IndexOp>();
  return i ? unsigned(i.getDim()) : ~0u;
}

} // namespace

Value ExpertGroupedMatch::expertOf(OpBuilder &b, Value index) const {
  IRMapping map;
  map.map(op.getRegion().front().getArgument(1), index);
  for (Operation *o : expertOps)
    b.clone(*o, map);
  return map.lookupOrDefault(wLoad.getIndices()[0]);
}

void emitPickList(OpBuilder &b, Location loc, const ExpertGroupedMatch &m,
                  Value tid, int64_t threads, Value e, Value list,
                  Value count) {
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  Type i32 = b.getI32Type();
  Value zero = idx(0);
  Value isFirst =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, zero);
  auto init = scf::IfOp::create(b, loc, isFirst, false);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(init.thenBlock());
    memref::StoreOp::create(b, loc, arith::ConstantIntOp::create(b, loc, i32, 0),
                            count, ValueRange{zero});
  }
  gpu::BarrierOp::create(b, loc);
  // kScanUnroll index loads in flight before the first compare (one at a
  // time, the scan was a chain of L2 round trips).
  int64_t total = m.T * m.J;
  scf::ForOp::create(
      b, loc, tid, idx(total), idx(threads * kScanUnroll), ValueRange{},
      [&](OpBuilder &fb, Location, Value p0, ValueRange) {
        SmallVector<Value> ps, oks, vs;
        for (int64_t u = 0; u < kScanUnroll; ++u) {
          Value p = arith::AddIOp::create(
              fb, loc, p0, arith::ConstantIndexOp::create(fb, loc, u * threads));
          oks.push_back(arith::CmpIOp::create(
              fb, loc, arith::CmpIPredicate::ult, p,
              arith::ConstantIndexOp::create(fb, loc, total)));
          Value pc = arith::MinUIOp::create(
              fb, loc, p, arith::ConstantIndexOp::create(fb, loc, total - 1));
          Value t = arith::DivUIOp::create(fb, loc, pc, idx(m.J));
          Value j = arith::RemUIOp::create(fb, loc, pc, idx(m.J));
          vs.push_back(memref::LoadOp::create(fb, loc, m.ids, ValueRange{t, j}));
          ps.push_back(p);
        }
        for (int64_t u = 0; u < kScanUnroll; ++u) {
          Value mine = arith::AndIOp::create(
              fb, loc, oks[u],
              arith::CmpIOp::create(fb, loc, arith::CmpIPredicate::eq,
                                    m.expertOf(fb, vs[u]), e));
          auto add = scf::IfOp::create(fb, loc, mine, false);
          OpBuilder::InsertionGuard guard(fb);
          fb.setInsertionPointToStart(add.thenBlock());
          Value slot = memref::AtomicRMWOp::create(
              fb, loc, arith::AtomicRMWKind::addi,
              arith::ConstantIntOp::create(fb, loc, i32, 1), count,
              ValueRange{arith::ConstantIndexOp::create(fb, loc, 0)});
          memref::StoreOp::create(
              fb, loc, arith::IndexCastOp::create(fb, loc, i32, ps[u]), list,
              ValueRange{arith::IndexCastOp::create(fb, loc,
                                                    fb.getIndexType(), slot)});
        }
        scf::YieldOp::create(fb, loc);
      });
  gpu::BarrierOp::create(b, loc);
}

LogicalResult emitExpertGrouped(RewriterBase &rw, linalg::LinalgOp op,
                                const KernelOptions &options,
                                std::string &why) {
  auto g = dyn_cast<linalg::GenericOp>(op.getOperation());
  // The fill of the accumulator comes first in program order, and the row
  // template would take it with the projection: take the projection from
  // its fill (the scalar kernel leaves the fill to the generic mapping; the
  // tensor-core one folds it into its epilogue).
  linalg::FillOp fill = dyn_cast<linalg::FillOp>(op.getOperation());
  if (fill) {
    Operation *next = fill->getNextNode();
    while (next && isMemoryEffectFree(next))
      next = next->getNextNode();
    g = dyn_cast_or_null<linalg::GenericOp>(next);
    if (!g || g.getNumDpsInits() != 1 ||
        g.getDpsInits()[0] != fill.getDpsInits()[0]) {
      why = "a fill not followed by the projection it initializes";
      return failure();
    }
  }
  if (!g || !g.hasPureBufferSemantics() || g.getNumDpsInputs() != 2 ||
      g.getNumDpsInits() != 1 || g.getNumLoops() != 4) {
    why = "not a bufferized generic (x, indices) -> out over 4 loops";
    return failure();
  }
  auto it = g.getIteratorTypesArray();
  if (it[0] != utils::IteratorType::parallel ||
      it[1] != utils::IteratorType::parallel ||
      it[2] != utils::IteratorType::parallel ||
      it[3] != utils::IteratorType::reduction) {
    why = "the loops are not (t, j, n) parallel and k reduced";
    return failure();
  }
  MLIRContext *ctx = g.getContext();
  SmallVector<AffineMap> maps = g.getIndexingMapsArray();
  // x is one row per token (the up projection) or per pick (the down).
  bool xPerPick = maps[0] == dimsMap(ctx, {0, 1, 3});
  if ((maps[0] != dimsMap(ctx, {0, 3}) && !xPerPick) ||
      maps[1] != dimsMap(ctx, {0, 1}) || maps[2] != dimsMap(ctx, {0, 1, 2})) {
    why = "the maps are not x[t, (j,) k], indices[t, j], out[t, j, n]";
    return failure();
  }
  // Past here the op has the expert projection's shape: a refusal is worth
  // a remark.
  auto refuse = [&]() {
    if (options.remarks)
      g->emitRemark() << "sinter-cuda-form-kernels: grouped expert kernel "
                         "not used: "
                      << why;
    return failure();
  };
  Value x = g.getDpsInputs()[0], ids = g.getDpsInputs()[1],
        out = g.getDpsInits()[0];
  auto xType = dyn_cast<MemRefType>(x.getType());
  auto iType = dyn_cast<MemRefType>(ids.getType());
  auto oType = dyn_cast<MemRefType>(out.getType());
  if (!xType || !iType || !oType || !xType.hasStaticShape() ||
      !iType.hasStaticShape() || !oType.hasStaticShape() ||
      !isa<IntegerType>(iType.getElementType()) ||
      !oType.getElementType().isF32()) {
    why = "static x, integer indices and an f32 output are needed";
    return refuse();
  }
  SmallVector<int64_t> ranges = g.getStaticLoopRanges();
  int64_t T = ranges[0], J = ranges[1], N = ranges[2], K = ranges[3];
  if (T == 1) {
    why = "one token: the expert GEMV's case";
    return refuse();
  }
  if (T * J > kMaxPicks) {
    why = llvm::formatv("{0} picks do not fit the shared list of {1}", T * J,
                        kMaxPicks);
    return refuse();
  }

  // The body: out + term, one load of the expert weights W[e, k, n] with e
  // computed from the index alone.
  Block &body = g.getRegion().front();
  BlockArgument xArg = body.getArgument(0), iArg = body.getArgument(1),
                oArg = body.getArgument(2);
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add || !oArg.hasOneUse() ||
      (add.getLhs() != oArg && add.getRhs() != oArg)) {
    why = "the body is not out + term";
    return refuse();
  }
  memref::LoadOp wLoad;
  for (Operation &o : body.without_terminator()) {
    if (auto l = dyn_cast<memref::LoadOp>(o)) {
      if (wLoad) {
        why = "the body loads more than the expert weights";
        return refuse();
      }
      wLoad = l;
      continue;
    }
    if (!isMemoryEffectFree(&o)) {
      why = "the body has a memory effect other than the weight load";
      return refuse();
    }
  }
  if (!wLoad || wLoad.getIndices().size() != 3 ||
      body.getParentOp()->isAncestor(
          wLoad.getMemRef().getParentRegion()->getParentOp())) {
    why = "the body does not load a rank-3 expert weight from outside";
    return refuse();
  }
  auto wType = cast<MemRefType>(wLoad.getMemRef().getType());
  if (!wType.hasStaticShape() || indexDim(wLoad.getIndices()[1]) != 3 ||
      indexDim(wLoad.getIndices()[2]) != 2 || wType.getDimSize(1) != K ||
      wType.getDimSize(2) != N) {
    why = "the weight is not read at [e, k, n] of an [E, K, N] buffer";
    return refuse();
  }
  int64_t E = wType.getDimSize(0);
  // The expert expression: ops of the body reached from the index only.
  llvm::SetVector<Operation *> slice;
  SmallVector<Value> work{wLoad.getIndices()[0]};
  while (!work.empty()) {
    Value v = work.pop_back_val();
    if (v == iArg)
      continue;
    Operation *d = v.getDefiningOp();
    if (!d || d->getBlock() != &body) {
      if (isa<BlockArgument>(v) || !d) {
        why = "the expert index depends on more than the routing index";
        return refuse();
      }
      continue; // defined above the generic (a constant)
    }
    if (isa<linalg::IndexOp>(d) || d->getNumRegions() != 0) {
      why = "the expert index depends on the iteration";
      return refuse();
    }
    if (slice.insert(d))
      for (Value o : d->getOperands())
        work.push_back(o);
  }
  for (Operation *o : slice)
    for (Operation *user : o->getUsers())
      if (!slice.contains(user) && user != wLoad.getOperation()) {
        why = "the expert index expression is used by more than the load";
        return refuse();
      }
  if (mayOverlap(out, x) || mayOverlap(out, ids)) {
    why = "the output may share bytes with x or the indices";
    return refuse();
  }

  // Slice ops in the body's order (a def before its uses).
  SmallVector<Operation *> ordered;
  for (Operation &o : body)
    if (slice.contains(&o))
      ordered.push_back(&o);
  ExpertGroupedMatch match{g,     x, ids, out, wLoad,    T,      J,
                           N,     K, E,   xPerPick, ordered, fill};
  std::string mmaWhy;
  if (succeeded(emitExpertGroupedMma(rw, match, options, mmaWhy)))
    return success();
  if (options.remarks)
    g->emitRemark() << "sinter-cuda-form-kernels: tensor-core grouped expert "
                       "kernel not used: "
                    << mmaWhy;

  int64_t cols = std::min<int64_t>(kMaxColumns,
                                   std::max<int64_t>(1, N / kThreads));
  int64_t tile = kThreads * cols;
  int64_t tiles = (N + tile - 1) / tile;

  Location loc = g.getLoc();
  rw.setInsertionPoint(g);
  auto idx = [&](OpBuilder &b, int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  auto space =
      gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  Type i32 = rw.getI32Type();
  SmallVector<Type> shared{
      MemRefType::get({T * J}, i32, AffineMap(), space),
      MemRefType::get({1}, i32, AffineMap(), space)};
  Value one = idx(rw, 1);
  auto launch = gpu::LaunchOp::create(
      rw, loc, idx(rw, tiles), idx(rw, E), one, idx(rw, kThreads), one, one,
      /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
      /*asyncDependencies=*/{}, shared);
  launch->setAttr("sinter.kernel",
                  rw.getStringAttr(llvm::formatv(
                      "expert_grouped t={0} j={1} n={2} k={3} experts={4} "
                      "grid={5}x{4} threads={6} cols={7} batch={8}",
                      T, J, N, K, E, tiles, kThreads, cols, kBatch)));
  Block &kb = launch.getBody().front();
  rw.setInsertionPointToStart(&kb);
  gpu::TerminatorOp::create(rw, loc);
  rw.setInsertionPointToStart(&kb);
  Value list = launch.getWorkgroupAttributions()[0],
        count = launch.getWorkgroupAttributions()[1];
  Value tid = launch.getThreadIds().x, e = launch.getBlockIds().y;
  Value zero = idx(rw, 0);
  emitPickList(rw, loc, match, tid, kThreads, e, list, count);
  Value c = arith::IndexCastOp::create(
      rw, loc, rw.getIndexType(),
      memref::LoadOp::create(rw, loc, count, ValueRange{zero}));

  // Columns n0 + 256 i of this thread (guarded past N).
  Value n0 = arith::AddIOp::create(
      rw, loc, arith::MulIOp::create(rw, loc, launch.getBlockIds().x,
                                     idx(rw, tile)),
      tid);
  SmallVector<Value> ns, nOk;
  for (int64_t i = 0; i < cols; ++i) {
    Value n = arith::AddIOp::create(rw, loc, n0, idx(rw, kThreads * i));
    nOk.push_back(arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult,
                                        n, idx(rw, N)));
    // Out-of-range columns compute on column N - 1 and store nothing.
    ns.push_back(arith::MinUIOp::create(rw, loc, n, idx(rw, N - 1)));
  }
  Value wMem = wLoad.getMemRef();

  scf::ForOp::create(
      rw, loc, zero, c, idx(rw, kBatch), ValueRange{},
      [&](OpBuilder &b, Location, Value b0, ValueRange) {
        // The batch's picks; past the count, the last pick again (not
        // stored).
        SmallVector<Value> ts, js, ok, idxVals;
        Value last = arith::SubIOp::create(b, loc, c, idx(b, 1));
        for (int64_t q = 0; q < kBatch; ++q) {
          Value s = arith::AddIOp::create(b, loc, b0, idx(b, q));
          ok.push_back(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                             s, c));
          Value sc = arith::MinUIOp::create(b, loc, s, last);
          Value p = arith::IndexCastOp::create(
              b, loc, b.getIndexType(),
              memref::LoadOp::create(b, loc, list, ValueRange{sc}));
          ts.push_back(arith::DivUIOp::create(b, loc, p, idx(b, J)));
          js.push_back(arith::RemUIOp::create(b, loc, p, idx(b, J)));
          idxVals.push_back(
              memref::LoadOp::create(b, loc, ids, ValueRange{ts[q], js[q]}));
        }
        SmallVector<Value> acc;
        for (int64_t q = 0; q < kBatch; ++q)
          for (int64_t i = 0; i < cols; ++i)
            acc.push_back(memref::LoadOp::create(
                b, loc, out, ValueRange{ts[q], js[q], ns[i]}));
        auto kLoop = scf::ForOp::create(
            b, loc, idx(b, 0), idx(b, K), idx(b, 1), acc,
            [&](OpBuilder &kb2, Location, Value k, ValueRange a) {
              SmallVector<Value> w;
              for (int64_t i = 0; i < cols; ++i)
                w.push_back(memref::LoadOp::create(kb2, loc, wMem,
                                                   ValueRange{e, k, ns[i]}));
              SmallVector<Value> next;
              for (int64_t q = 0; q < kBatch; ++q) {
                Value xv = memref::LoadOp::create(
                    kb2, loc, x,
                    xPerPick ? ValueRange{ts[q], js[q], k}
                             : ValueRange{ts[q], k});
                for (int64_t i = 0; i < cols; ++i) {
                  IRMapping map;
                  map.map(xArg, xv);
                  map.map(iArg, idxVals[q]);
                  map.map(oArg, a[q * cols + i]);
                  map.map(wLoad.getResult(), w[i]);
                  for (Operation &o : body.without_terminator()) {
                    if (&o == wLoad.getOperation() || slice.contains(&o))
                      continue;
                    if (auto ix = dyn_cast<linalg::IndexOp>(o)) {
                      unsigned d = ix.getDim();
                      map.map(ix.getResult(),
                              d == 0   ? ts[q]
                              : d == 1 ? js[q]
                              : d == 2 ? ns[i]
                                       : k);
                      continue;
                    }
                    kb2.clone(o, map);
                  }
                  next.push_back(map.lookupOrDefault(yield.getOperand(0)));
                }
              }
              scf::YieldOp::create(kb2, loc, next);
            });
        for (int64_t q = 0; q < kBatch; ++q)
          for (int64_t i = 0; i < cols; ++i) {
            Value store = arith::AndIOp::create(b, loc, ok[q], nOk[i]);
            auto st = scf::IfOp::create(b, loc, store, false);
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPointToStart(st.thenBlock());
            memref::StoreOp::create(b, loc, kLoop.getResult(q * cols + i),
                                    out, ValueRange{ts[q], js[q], ns[i]});
          }
        scf::YieldOp::create(b, loc);
      });
  rw.eraseOp(g);
  return success();
}

} // namespace sinter::cuda
