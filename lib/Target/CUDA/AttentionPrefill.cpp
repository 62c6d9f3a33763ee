//===- AttentionPrefill.cpp - the prompt attention's products, tiled ------===//
//
// Attention over a prompt of T tokens lowers (unfused) to a score product
// S[b, h, i, j] = sum_d f(q[b, h, i, d]) g(k[b, h / G, j, d]), the mask, the
// softmax's reductions and the probabilities times values
// O[b, h, i, e] = sum_j p[b, h, i, j] v[b, h / G, j, e]. No template took
// the two products: the generic mapping ran them as one thread per output
// looping over the reduction, and for the scores each thread walks its own
// key row (uncoalesced): 4.3 ms per attention layer for 16 heads x 512 x 512
// x 256 on an H100 (bench8 prefill 512), against about 0.1 ms of f32 FMAs.
//
// This template takes such batched contractions (both operands depend on a
// batch loop of extent > 1, which a linear's weight never does): a block per
// (64 x 64 output tile, batch index), 256 threads of 4 x 4 outputs, the
// operands staged through shared memory 16 reduction steps at a time with
// loads coalesced along whichever of the operand's dims is innermost in
// memory. Each output still accumulates its terms in reduction order with
// the contraction's body cloned, so results are those of the generic
// mapping bit for bit; only the memory traffic changes.
//
// Still missing (docs/cuda-target.md, "Prompt attention"): the fused
// flash-attention kernel (scores, mask, online softmax and the value
// product in one launch, tensor cores); the softmax's reductions and the
// mask stay separate launches here.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/AffineExpr.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace sinter::cuda {
namespace {

/// Output tile edge, reduction slice, threads (16 x 16) and outputs per
/// thread along each tile edge.
constexpr int64_t kTile = 64, kSlice = 16, kThreads = 256, kPer = 4;
constexpr int64_t kSide = kTile / kPer;

struct Plan {
  linalg::GenericOp op;
  /// Loops: i (rows of the output tile, used by A), j (columns, used by B),
  /// k (the reduction), and the remaining parallel loops (batch), in loop
  /// order.
  unsigned iDim = 0, jDim = 0, kDim = 0;
  SmallVector<unsigned> batchDims;
  SmallVector<int64_t> ranges;
  /// Input operand numbers of A and B.
  unsigned a = 0, b = 1;
  /// Whether an operand's innermost index is the reduction loop (then the
  /// staging loads walk k fastest, else the tile dim).
  bool aKFast = true, bKFast = true;
  int64_t batch = 1;
};

/// The loops a map's results read: each a loop or a loop floordiv a
/// positive constant (grouped heads); false for anything else.
bool mapLoops(AffineMap map, llvm::SmallDenseSet<unsigned> &loops) {
  for (AffineExpr e : map.getResults()) {
    if (auto d = dyn_cast<AffineDimExpr>(e)) {
      loops.insert(d.getPosition());
      continue;
    }
    auto bin = dyn_cast<AffineBinaryOpExpr>(e);
    if (!bin || bin.getKind() != AffineExprKind::FloorDiv)
      return false;
    auto d = dyn_cast<AffineDimExpr>(bin.getLHS());
    auto c = dyn_cast<AffineConstantExpr>(bin.getRHS());
    if (!d || !c || c.getValue() <= 0)
      return false;
    loops.insert(d.getPosition());
  }
  return true;
}

LogicalResult matchPlan(linalg::LinalgOp linalgOp, Plan &p, std::string &why) {
  p.op = dyn_cast<linalg::GenericOp>(linalgOp.getOperation());
  if (!p.op || !p.op.hasPureBufferSemantics()) {
    why = "not a bufferized linalg.generic";
    return failure();
  }
  unsigned n = p.op.getNumLoops();
  if (p.op.getNumDpsInputs() != 2 || p.op.getNumDpsInits() != 1 || n < 4 ||
      p.op.getNumReductionLoops() != 1 ||
      p.op.getIteratorTypesArray().back() != utils::IteratorType::reduction) {
    why = "not two operands contracted over one innermost reduction under "
          ">= 3 parallel loops";
    return failure();
  }
  p.kDim = n - 1;
  for (Operation &o : p.op.getBody()->without_terminator())
    if (isa<linalg::IndexOp>(o) || !isMemoryEffectFree(&o)) {
      why = "the body reads loop indices or has memory effects";
      return failure();
    }
  for (Value v : p.op->getOperands()) {
    auto t = dyn_cast<MemRefType>(v.getType());
    if (!t || !t.hasStaticShape() || !isa<FloatType>(t.getElementType())) {
      why = "an operand is not a static memref of floats";
      return failure();
    }
  }
  p.ranges = p.op.getStaticLoopRanges();
  SmallVector<AffineMap> maps = p.op.getIndexingMapsArray();
  AffineMap out = maps[2];
  if (!out.isProjectedPermutation() || out.getNumResults() != n - 1) {
    why = "the output is not indexed by the parallel loops";
    return failure();
  }
  p.iDim = cast<AffineDimExpr>(out.getResult(n - 3)).getPosition();
  p.jDim = cast<AffineDimExpr>(out.getResult(n - 2)).getPosition();
  for (unsigned d = 0; d + 1 < n; ++d)
    if (d != p.iDim && d != p.jDim)
      p.batchDims.push_back(d);
  llvm::SmallDenseSet<unsigned> used[2];
  for (unsigned o = 0; o < 2; ++o)
    if (!mapLoops(maps[o], used[o])) {
      why = "an operand index is not a loop or a loop floordiv a constant";
      return failure();
    }
  auto uses = [&](unsigned o, unsigned d) { return used[o].contains(d); };
  if (uses(0, p.iDim) && !uses(0, p.jDim) && uses(1, p.jDim) &&
      !uses(1, p.iDim)) {
    p.a = 0, p.b = 1;
  } else if (uses(1, p.iDim) && !uses(1, p.jDim) && uses(0, p.jDim) &&
             !uses(0, p.iDim)) {
    p.a = 1, p.b = 0;
  } else {
    why = "the output's last two loops are not one per operand";
    return failure();
  }
  if (!uses(0, p.kDim) || !uses(1, p.kDim)) {
    why = "an operand does not read the reduction loop";
    return failure();
  }
  // Batched: each operand varies with some batch loop of extent > 1 (a
  // linear's weight varies with none; the GEMM and GEMV templates own
  // those).
  for (unsigned o = 0; o < 2; ++o)
    if (llvm::none_of(p.batchDims, [&](unsigned d) {
          return p.ranges[d] > 1 && uses(o, d);
        })) {
      why = "not a batched contraction (an operand is shared by all batch "
            "indices)";
      return failure();
    }
  if (p.ranges[p.iDim] % kTile || p.ranges[p.jDim] % kTile ||
      p.ranges[p.kDim] % kSlice) {
    why = llvm::formatv("tile shape: rows {0} and columns {1} must be "
                        "multiples of {2}, the reduction {3} of {4}",
                        p.ranges[p.iDim], p.ranges[p.jDim], kTile,
                        p.ranges[p.kDim], kSlice);
    return failure();
  }
  for (unsigned d : p.batchDims)
    p.batch *= p.ranges[d];
  if (p.batch > 65535) {
    why = "more than 65535 batch indices (grid z)";
    return failure();
  }
  auto kFast = [&](AffineMap m) {
    auto d = dyn_cast<AffineDimExpr>(m.getResults().back());
    return d && d.getPosition() == p.kDim;
  };
  p.aKFast = kFast(maps[p.a]);
  p.bKFast = kFast(maps[p.b]);
  return success();
}

struct Builder {
  RewriterBase &rw;
  Location loc;
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(rw, loc, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(rw, loc, x, y); }
  Value mul(Value x, int64_t y) {
    return arith::MulIOp::create(rw, loc, x, idx(y));
  }
  Value div(Value x, int64_t y) {
    return arith::DivUIOp::create(rw, loc, x, idx(y));
  }
  Value rem(Value x, int64_t y) {
    return arith::RemUIOp::create(rw, loc, x, idx(y));
  }
  /// The memref indices of `map` at the loop values `loops`.
  SmallVector<Value> apply(AffineMap map, ArrayRef<Value> loops) {
    SmallVector<Value> out;
    for (AffineExpr e : map.getResults()) {
      if (auto d = dyn_cast<AffineDimExpr>(e)) {
        out.push_back(loops[d.getPosition()]);
        continue;
      }
      auto bin = cast<AffineBinaryOpExpr>(e);
      out.push_back(div(loops[cast<AffineDimExpr>(bin.getLHS()).getPosition()],
                        cast<AffineConstantExpr>(bin.getRHS()).getValue()));
    }
    return out;
  }
};

} // namespace

LogicalResult emitBatchedContraction(RewriterBase &rw, linalg::LinalgOp op,
                                     const KernelOptions &options,
                                     std::string &why) {
  Plan p;
  if (failed(matchPlan(op, p, why)))
    return failure();
  Location loc = p.op.getLoc();
  Builder bb{rw, loc};
  SmallVector<AffineMap> maps = p.op.getIndexingMapsArray();
  Value aBuf = p.op.getDpsInputOperand(p.a)->get();
  Value bBuf = p.op.getDpsInputOperand(p.b)->get();
  Value outBuf = p.op.getDpsInitOperand(0)->get();
  Type aElt = cast<MemRefType>(aBuf.getType()).getElementType();
  Type bElt = cast<MemRefType>(bBuf.getType()).getElementType();
  Type accElt = cast<MemRefType>(outBuf.getType()).getElementType();
  auto workgroup = gpu::AddressSpaceAttr::get(rw.getContext(),
                                              gpu::AddressSpace::Workgroup);
  auto tileType = [&](Type elt) {
    // One padding column: the k-fastest staging stores walk a column, which
    // without it would hit one bank 16 times.
    return MemRefType::get({kSlice, kTile + 1}, elt,
                           MemRefLayoutAttrInterface{}, workgroup);
  };
  int64_t m = p.ranges[p.iDim], n = p.ranges[p.jDim], k = p.ranges[p.kDim];
  rw.setInsertionPoint(p.op);
  Value one = bb.idx(1);
  auto launch = gpu::LaunchOp::create(
      rw, loc, bb.idx(n / kTile), bb.idx(m / kTile), bb.idx(p.batch),
      bb.idx(kThreads), one, one, /*dynamicSharedMemorySize=*/nullptr,
      /*asyncTokenType=*/nullptr, /*asyncDependencies=*/{},
      TypeRange{tileType(aElt), tileType(bElt)});
  launch->setAttr(
      "sinter.kernel",
      rw.getStringAttr(llvm::formatv(
          "batched-contraction batch={0} m={1} n={2} k={3} tile={4}x{4}x{5} "
          "threads={6} a_k_fast={7} b_k_fast={8}",
          p.batch, m, n, k, kTile, kSlice, kThreads, int(p.aKFast),
          int(p.bKFast))));
  Block &body = launch.getBody().front();
  rw.setInsertionPointToStart(&body);
  gpu::TerminatorOp::create(rw, loc);
  rw.setInsertionPointToStart(&body);
  Value aTile = launch.getWorkgroupAttributions()[0];
  Value bTile = launch.getWorkgroupAttributions()[1];

  Value tid = launch.getThreadIds().x;
  Value tx = bb.rem(tid, kSide), ty = bb.div(tid, kSide);
  Value i0 = bb.mul(launch.getBlockIds().y, kTile);
  Value j0 = bb.mul(launch.getBlockIds().x, kTile);
  // Loop values shared by every access: the batch loops from grid z.
  Value zero = bb.idx(0);
  SmallVector<Value> loops(p.op.getNumLoops(), zero);
  {
    Value rest = launch.getBlockIds().z;
    for (int d = int(p.batchDims.size()) - 1; d >= 0; --d) {
      int64_t ext = p.ranges[p.batchDims[d]];
      loops[p.batchDims[d]] = d > 0 ? bb.rem(rest, ext) : rest;
      if (d > 0)
        rest = bb.div(rest, ext);
    }
  }
  // Output (r, c) of this thread: row ty + 16 r, column tx + 16 c
  // (consecutive threads on consecutive columns: coalesced where the
  // output's columns are contiguous).
  auto outIndices = [&](int64_t r, int64_t c) {
    SmallVector<Value> l(loops);
    l[p.iDim] = bb.add(i0, bb.add(ty, bb.idx(kSide * r)));
    l[p.jDim] = bb.add(j0, bb.add(tx, bb.idx(kSide * c)));
    return bb.apply(maps[2], l);
  };
  SmallVector<Value> init;
  for (int64_t r = 0; r < kPer; ++r)
    for (int64_t c = 0; c < kPer; ++c)
      init.push_back(memref::LoadOp::create(rw, loc, outBuf, outIndices(r, c)));

  // Stages the [kSlice, kTile] slice of an operand starting at reduction
  // index k0: 4 elements per thread, k fastest when the operand's innermost
  // index is k, else the tile dim fastest.
  auto stage = [&](Value buf, Value tile, AffineMap map, unsigned tileDim,
                   Value tile0, bool kFast, Value k0) {
    for (int64_t r = 0; r < kSlice * kTile / kThreads; ++r) {
      Value e = bb.add(tid, bb.idx(kThreads * r));
      Value t = kFast ? bb.div(e, kSlice) : bb.rem(e, kTile);
      Value kk = kFast ? bb.rem(e, kSlice) : bb.div(e, kTile);
      SmallVector<Value> l(loops);
      l[tileDim] = bb.add(tile0, t);
      l[p.kDim] = bb.add(k0, kk);
      Value v = memref::LoadOp::create(rw, loc, buf, bb.apply(map, l));
      memref::StoreOp::create(rw, loc, v, tile, ValueRange{kk, t});
    }
  };
  Block *opBody = p.op.getBody();
  auto outer = scf::ForOp::create(rw, loc, zero, bb.idx(k), bb.idx(kSlice),
                                  init);
  {
    OpBuilder::InsertionGuard guard(rw);
    rw.setInsertionPointToStart(outer.getBody());
    Value k0 = outer.getInductionVar();
    stage(aBuf, aTile, maps[p.a], p.iDim, i0, p.aKFast, k0);
    stage(bBuf, bTile, maps[p.b], p.jDim, j0, p.bKFast, k0);
    gpu::BarrierOp::create(rw, loc);
    auto inner = scf::ForOp::create(rw, loc, zero, bb.idx(kSlice), one,
                                    outer.getRegionIterArgs());
    {
      OpBuilder::InsertionGuard g2(rw);
      rw.setInsertionPointToStart(inner.getBody());
      Value kk = inner.getInductionVar();
      SmallVector<Value> as, bs;
      for (int64_t r = 0; r < kPer; ++r)
        as.push_back(memref::LoadOp::create(
            rw, loc, aTile, ValueRange{kk, bb.add(ty, bb.idx(kSide * r))}));
      for (int64_t c = 0; c < kPer; ++c)
        bs.push_back(memref::LoadOp::create(
            rw, loc, bTile, ValueRange{kk, bb.add(tx, bb.idx(kSide * c))}));
      SmallVector<Value> next;
      for (int64_t r = 0; r < kPer; ++r)
        for (int64_t c = 0; c < kPer; ++c) {
          IRMapping map;
          map.map(opBody->getArgument(p.a), as[r]);
          map.map(opBody->getArgument(p.b), bs[c]);
          map.map(opBody->getArgument(2),
                  inner.getRegionIterArgs()[r * kPer + c]);
          for (Operation &o : opBody->without_terminator())
            rw.clone(o, map);
          next.push_back(
              map.lookupOrDefault(opBody->getTerminator()->getOperand(0)));
        }
      scf::YieldOp::create(rw, loc, next);
    }
    // The next slice's staging overwrites the tiles.
    gpu::BarrierOp::create(rw, loc);
    scf::YieldOp::create(rw, loc, inner.getResults());
  }
  for (int64_t r = 0; r < kPer; ++r)
    for (int64_t c = 0; c < kPer; ++c)
      memref::StoreOp::create(rw, loc, outer.getResult(r * kPer + c), outBuf,
                              outIndices(r, c));
  (void)accElt;
  (void)options;
  rw.eraseOp(p.op);
  return success();
}

} // namespace sinter::cuda
