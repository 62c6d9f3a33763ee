//===- AttentionScores.cpp - decode attention in two launches ---------------===//
//
// The decode attention's path when the split over the cache does not apply
// (the probabilities are rounded, or the chain does not fit its plan): a
// scores launch (a warp per key, the G query heads sharing its kv head at
// once) and a softmax . v launch (blocks of 32 value columns walking the
// cache in tiles of 256 keys). Separate from the split kernels
// (AttentionSplit.cpp), which share nothing with it but the chain and the
// helpers of AttentionChain.h; docs/cuda-target.md ("Decode attention").
//
//===----------------------------------------------------------------------===//

#include "AttentionChain.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace sinter::cuda::attention {

/// Kernel 1: scores and logits. Warp w of block (chunk, kvh, b) owns keys
/// chunk * 8 * kpw + r * 8 + w (r < kpw).
gpu::LaunchOp emitScores(RewriterBase &rw, Location loc, Chain &c) {
  int64_t kpw = 1;
  auto chunks = [&](int64_t n) {
    return (c.T + kWarps * n - 1) / (kWarps * n);
  };
  // More keys per warp only while the grid stays above two waves of an
  // H100 (132 SMs): fewer, longer blocks re-read the queries less.
  while (kpw < 4 && chunks(kpw * 2) * c.Hkv * c.B >= 2 * 132)
    kpw *= 2;
  int64_t nChunks = chunks(kpw);
  gpu::LaunchOp launch =
      createLaunch(rw, loc, {nChunks, c.Hkv, c.B}, {},
                   llvm::formatv("attention_scores heads={0}/{1} d={2} t={3} "
                                 "keys_per_warp={4} grid={5}x{1}x{6}",
                                 c.Hq, c.Hkv, c.D, c.T, kpw, nChunks, c.B)
                       .str());
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(rw, loc, v);
  };
  Value tid = launch.getThreadIds().x;
  Value warp = arith::DivUIOp::create(rw, loc, tid, idx(kWarp));
  Value lane = arith::RemUIOp::create(rw, loc, tid, idx(kWarp));
  Value chunk = launch.getBlockIds().x, kvh = launch.getBlockIds().y,
        bat = launch.getBlockIds().z;
  Value zeroIdx = idx(0);
  Value base = arith::MulIOp::create(rw, loc, chunk, idx(kWarps * kpw));
  SmallVector<Value> keys, clamped, heads;
  for (int64_t r = 0; r < kpw; ++r) {
    Value j = arith::AddIOp::create(
        rw, loc, base, arith::AddIOp::create(rw, loc, warp, idx(r * kWarps)));
    keys.push_back(j);
    // Keys past the cache read the last one; their logits are not stored.
    clamped.push_back(arith::MinUIOp::create(rw, loc, j, idx(c.T - 1)));
  }
  for (int64_t g = 0; g < c.G; ++g)
    heads.push_back(arith::AddIOp::create(
        rw, loc, arith::MulIOp::create(rw, loc, kvh, idx(c.G)), idx(g)));

  Value zero = arith::ConstantOp::create(rw, loc, rw.getF32FloatAttr(0));
  SmallVector<Value> init(kpw * c.G, zero);
  auto loop = scf::ForOp::create(rw, loc, lane, idx(c.D), idx(kWarp), init);
  {
    OpBuilder::InsertionGuard guard(rw);
    rw.setInsertionPointToStart(loop.getBody());
    Value dd = loop.getInductionVar();
    SmallVector<Value> qs;
    for (int64_t g = 0; g < c.G; ++g) {
      SmallVector<Value> ivs{bat, heads[g], zeroIdx, zeroIdx, dd, kvh};
      qs.push_back(memref::LoadOp::create(
          rw, loc, c.q,
          indicesOf(rw, loc, c.scores.getIndexingMapsArray()[0], ivs)));
    }
    SmallVector<Value> next;
    for (int64_t r = 0; r < kpw; ++r) {
      SmallVector<Value> ivs{bat, heads[0], zeroIdx, clamped[r], dd, kvh};
      Value kv = memref::LoadOp::create(
          rw, loc, c.k,
          indicesOf(rw, loc, c.scores.getIndexingMapsArray()[1], ivs));
      for (int64_t g = 0; g < c.G; ++g) {
        SmallVector<Value> gIvs{bat, heads[g], zeroIdx, clamped[r], dd, kvh};
        next.push_back(
            cloneBody(rw, loc, c.scores,
                      {qs[g], kv, loop.getRegionIterArg(r * c.G + g)}, gIvs));
      }
    }
    scf::YieldOp::create(rw, loc, next);
  }
  Value initS = c.scoresFill.value();
  for (int64_t r = 0; r < kpw; ++r) {
    Value inCache = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult,
                                          keys[r], idx(c.T));
    for (int64_t g = 0; g < c.G; ++g) {
      Value total =
          warpReduce(rw, loc, loop.getResult(r * c.G + g), false, false);
      // Each (key, head) is finished by one lane.
      Value writer = arith::AndIOp::create(
          rw, loc, inCache,
          arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq, lane,
                                idx((r * c.G + g) % kWarp)));
      auto ifOp = scf::IfOp::create(rw, loc, writer, false);
      OpBuilder::InsertionGuard guard(rw);
      rw.setInsertionPointToStart(ifOp.thenBlock());
      Value s = arith::AddFOp::create(rw, loc, initS, total);
      SmallVector<Value> ivs{bat, heads[g], zeroIdx, keys[r], kvh};
      for (linalg::GenericOp op : c.logits) {
        SmallVector<Value> args(op->getNumOperands());
        for (OpOperand &operand : op->getOpOperands())
          if (llvm::is_contained(c.logitBuffers, operand.get()))
            args[operand.getOperandNumber()] = s;
        s = cloneBody(rw, loc, op, args, ivs);
      }
      memref::StoreOp::create(rw, loc, s, c.scratch,
                              ValueRange{bat, heads[g], zeroIdx, keys[r]});
    }
  }
  return launch;
}

/// Kernel 2: max, sum, probabilities and p . v for 32 value columns of the
/// G heads of a kv head.
void emitSoftmaxPV(RewriterBase &rw, Location loc, Chain &c) {
  int64_t colBlocks = (c.Dv + kWarp - 1) / kWarp;
  int64_t G = c.G;
  // Shared: the probabilities of a tile [G][256], the warps' partial
  // outputs [8][G][32], the max and the sum of each head [2G].
  gpu::LaunchOp launch = createLaunch(
      rw, loc, {colBlocks, c.Hkv, c.B},
      {G * kThreads, kWarps * G * kWarp, 2 * G},
      llvm::formatv("attention_softmax_pv heads={0}/{1} t={2} dv={3} "
                    "tile={4} grid={5}x{1}x{6}",
                    c.Hq, c.Hkv, c.T, c.Dv, kThreads, colBlocks, c.B)
          .str());
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(rw, loc, v);
  };
  Value probsTile = launch.getWorkgroupAttributions()[0];
  Value partials = launch.getWorkgroupAttributions()[1];
  Value stats = launch.getWorkgroupAttributions()[2];
  Value tid = launch.getThreadIds().x;
  Value warp = arith::DivUIOp::create(rw, loc, tid, idx(kWarp));
  Value lane = arith::RemUIOp::create(rw, loc, tid, idx(kWarp));
  Value colBlock = launch.getBlockIds().x, kvh = launch.getBlockIds().y,
        bat = launch.getBlockIds().z;
  Value zeroIdx = idx(0);
  Value col = arith::AddIOp::create(
      rw, loc, arith::MulIOp::create(rw, loc, colBlock, idx(kWarp)), lane);
  Value colC = arith::MinUIOp::create(rw, loc, col, idx(c.Dv - 1));
  SmallVector<Value> heads;
  for (int64_t g = 0; g < G; ++g)
    heads.push_back(arith::AddIOp::create(
        rw, loc, arith::MulIOp::create(rw, loc, kvh, idx(G)), idx(g)));
  Value zero = arith::ConstantOp::create(rw, loc, rw.getF32FloatAttr(0));
  Value negInf = arith::ConstantOp::create(
      rw, loc, rw.getF32FloatAttr(-std::numeric_limits<float>::infinity()));
  auto loadS = [&](Value h, Value j) {
    return memref::LoadOp::create(rw, loc, c.scratch,
                                  ValueRange{bat, h, zeroIdx, j})
        .getResult();
  };

  // Max and sum of head g's logits by warp g % 8.
  for (int64_t g = 0; g < G; ++g) {
    Value mine = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq, warp,
                                       idx(g % kWarps));
    auto ifOp = scf::IfOp::create(rw, loc, mine, false);
    OpBuilder::InsertionGuard guard(rw);
    rw.setInsertionPointToStart(ifOp.thenBlock());
    auto maxLoop =
        scf::ForOp::create(rw, loc, lane, idx(c.T), idx(kWarp), negInf);
    {
      OpBuilder::InsertionGuard g2(rw);
      rw.setInsertionPointToStart(maxLoop.getBody());
      SmallVector<Value> ivs{bat, heads[g], zeroIdx, maxLoop.getInductionVar(),
                             kvh};
      Value next = cloneBody(rw, loc, c.max,
                             {loadS(heads[g], maxLoop.getInductionVar()),
                              maxLoop.getRegionIterArg(0)},
                             ivs);
      scf::YieldOp::create(rw, loc, next);
    }
    Value mx = warpReduce(rw, loc, maxLoop.getResult(0), true, c.maxNum);
    Value fillM = c.maxFill.value();
    mx = c.maxNum ? arith::MaxNumFOp::create(rw, loc, fillM, mx).getResult()
                  : arith::MaximumFOp::create(rw, loc, fillM, mx).getResult();
    auto sumLoop =
        scf::ForOp::create(rw, loc, lane, idx(c.T), idx(kWarp), zero);
    {
      OpBuilder::InsertionGuard g2(rw);
      rw.setInsertionPointToStart(sumLoop.getBody());
      Value j = sumLoop.getInductionVar();
      SmallVector<Value> ivs{bat, heads[g], zeroIdx, j, kvh};
      Value next =
          cloneBody(rw, loc, c.sum,
                    {loadS(heads[g], j), mx, sumLoop.getRegionIterArg(0)}, ivs);
      scf::YieldOp::create(rw, loc, next);
    }
    Value sm = warpReduce(rw, loc, sumLoop.getResult(0), false, false);
    sm = arith::AddFOp::create(rw, loc, c.sumFill.value(), sm);
    Value first =
        arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq, lane, zeroIdx);
    auto store = scf::IfOp::create(rw, loc, first, false);
    rw.setInsertionPointToStart(store.thenBlock());
    memref::StoreOp::create(rw, loc, mx, stats, idx(g));
    memref::StoreOp::create(rw, loc, sm, stats, idx(G + g));
  }
  gpu::BarrierOp::create(rw, loc);
  SmallVector<Value> mxs, sums;
  for (int64_t g = 0; g < G; ++g) {
    mxs.push_back(memref::LoadOp::create(rw, loc, stats, idx(g)));
    sums.push_back(memref::LoadOp::create(rw, loc, stats, idx(G + g)));
  }

  // The cache in tiles of 256 keys.
  SmallVector<Value> init(G, zero);
  auto tiles =
      scf::ForOp::create(rw, loc, zeroIdx, idx(c.T), idx(kThreads), init);
  {
    OpBuilder::InsertionGuard guard(rw);
    rw.setInsertionPointToStart(tiles.getBody());
    Value j0 = tiles.getInductionVar();
    // Probabilities of key j0 + tid (0 past the cache).
    Value j = arith::AddIOp::create(rw, loc, j0, tid);
    Value inCache =
        arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, j, idx(c.T));
    Value jc = arith::MinUIOp::create(rw, loc, j, idx(c.T - 1));
    for (int64_t g = 0; g < G; ++g) {
      SmallVector<Value> ivs{bat, heads[g], zeroIdx, jc, kvh};
      Value s = loadS(heads[g], jc);
      Value p = cloneBody(rw, loc, c.probs, {s, mxs[g], sums[g], s}, ivs);
      p = arith::SelectOp::create(rw, loc, inCache, p, zero);
      memref::StoreOp::create(
          rw, loc, p, probsTile,
          ValueRange{arith::AddIOp::create(rw, loc, tid, idx(g * kThreads))});
    }
    gpu::BarrierOp::create(rw, loc);
    // Warp w: keys j0 + 32 w + jj of the tile (those inside the cache).
    Value warpBase = arith::MulIOp::create(rw, loc, warp, idx(kWarp));
    Value first = arith::AddIOp::create(rw, loc, j0, warpBase);
    Value left = arith::SubIOp::create(
        rw, loc, idx(c.T), arith::MinUIOp::create(rw, loc, first, idx(c.T)));
    Value count = arith::MinUIOp::create(rw, loc, left, idx(kWarp));
    auto keys = scf::ForOp::create(rw, loc, zeroIdx, count, idx(1),
                                   tiles.getRegionIterArgs());
    {
      OpBuilder::InsertionGuard g2(rw);
      rw.setInsertionPointToStart(keys.getBody());
      Value jl =
          arith::AddIOp::create(rw, loc, warpBase, keys.getInductionVar());
      Value key = arith::AddIOp::create(rw, loc, j0, jl);
      SmallVector<Value> ivs{bat, heads[0], zeroIdx, colC, key, kvh};
      Value v = memref::LoadOp::create(
          rw, loc, c.v,
          indicesOf(rw, loc, c.pv.getIndexingMapsArray()[1], ivs));
      SmallVector<Value> next;
      for (int64_t g = 0; g < G; ++g) {
        Value p = memref::LoadOp::create(
            rw, loc, probsTile,
            ValueRange{arith::AddIOp::create(rw, loc, jl, idx(g * kThreads))});
        SmallVector<Value> gIvs{bat, heads[g], zeroIdx, colC, key, kvh};
        next.push_back(
            cloneBody(rw, loc, c.pv, {p, v, keys.getRegionIterArg(g)}, gIvs));
      }
      scf::YieldOp::create(rw, loc, next);
    }
    // The next tile overwrites the probabilities.
    gpu::BarrierOp::create(rw, loc);
    scf::YieldOp::create(rw, loc, keys.getResults());
  }
  // The warps' partial outputs, added by thread (g, column).
  for (int64_t g = 0; g < G; ++g) {
    Value at = arith::AddIOp::create(
        rw, loc, arith::MulIOp::create(rw, loc, warp, idx(G * kWarp)),
        arith::AddIOp::create(rw, loc, lane, idx(g * kWarp)));
    memref::StoreOp::create(rw, loc, tiles.getResult(g), partials,
                            ValueRange{at});
  }
  gpu::BarrierOp::create(rw, loc);
  auto outs = scf::ForOp::create(rw, loc, tid, idx(G * kWarp), idx(kThreads));
  OpBuilder::InsertionGuard guard(rw);
  rw.setInsertionPointToStart(outs.getBody());
  Value i = outs.getInductionVar();
  Value g = arith::DivUIOp::create(rw, loc, i, idx(kWarp));
  Value e = arith::AddIOp::create(
      rw, loc, arith::MulIOp::create(rw, loc, colBlock, idx(kWarp)),
      arith::RemUIOp::create(rw, loc, i, idx(kWarp)));
  Value inRange =
      arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, e, idx(c.Dv));
  auto ifOp = scf::IfOp::create(rw, loc, inRange, false);
  rw.setInsertionPointToStart(ifOp.thenBlock());
  Value total = memref::LoadOp::create(rw, loc, partials, ValueRange{i});
  for (int64_t w = 1; w < kWarps; ++w)
    total = arith::AddFOp::create(
        rw, loc, total,
        memref::LoadOp::create(
            rw, loc, partials,
            ValueRange{arith::AddIOp::create(rw, loc, i, idx(w * G * kWarp))}));
  Value y = arith::AddFOp::create(rw, loc, c.outFill.value(), total);
  Value h = arith::AddIOp::create(
      rw, loc, arith::MulIOp::create(rw, loc, kvh, idx(G)), g);
  memref::StoreOp::create(rw, loc, y, c.y, ValueRange{bat, h, zeroIdx, e});
}

} // namespace sinter::cuda::attention
