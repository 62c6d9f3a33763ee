//===- AttentionSplit.cpp - split decode attention kernels -----------------===//
//
// The split over the cache length (flash-decoding) of the decode attention:
// the partial launch over (chunk of keys, kv head, batch), which writes each
// chunk's max, sum and partial output to a workspace global (with the
// folded cache writes and the absorbed prologue, AttentionPrologue.h), and
// the combine launch per head, which rebuilds the chunks' softmax weights
// from the same bodies (and writes the folded output gate). Attention.cpp
// decides whether and how to split (the SplitPlan); this file only emits.
// docs/cuda-target.md ("Decode attention").
//
//===----------------------------------------------------------------------===//

#include "AttentionChain.h"
#include "GemmBuffers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/Support/FormatVariadic.h"



using namespace mlir;

namespace sinter::cuda::attention {

/// A device buffer of `n` elements shared by every split attention of the
/// module (they run one after the other): a constant zero memref.global,
/// which sinter-bind-weights gives a device copy like any embedded weight
/// (the memory plan, and so the arena, is fixed before the templates run).
/// The kernels write it (the chunks' partial results), which no host code
/// can observe. The form-kernels pass runs per function, possibly on
/// several threads: the module's symbol table is only touched under a lock.
Value workspace(RewriterBase &rw, Location loc, Operation *anchor, Type elt,
                int64_t n, StringRef prefix) {
  return zeroWorkspace(rw, loc, anchor, MemRefType::get({n}, elt),
                       (prefix + "_" + Twine(n)).str());
}

namespace {

/// The element of `cache` at `ivs` after the folded in-place update
/// `scatter` (its body applied to the old value `old`); the new value is
/// stored where its bits differ, so that the cache ends as the update
/// leaves it while the kernel writes only the new token's elements.
Value updateCached(RewriterBase &rw, Location loc, linalg::GenericOp scatter,
                   Value cache, Value old, ArrayRef<Value> ivs) {
  Value now = cloneBody(rw, loc, scatter, {old}, ivs);
  auto intTy = rw.getIntegerType(old.getType().getIntOrFloatBitWidth());
  Value changed = arith::CmpIOp::create(
      rw, loc, arith::CmpIPredicate::ne,
      arith::BitcastOp::create(rw, loc, intTy, now),
      arith::BitcastOp::create(rw, loc, intTy, old));
  auto ifOp = scf::IfOp::create(rw, loc, changed, false);
  OpBuilder::InsertionGuard guard(rw);
  rw.setInsertionPointToStart(ifOp.thenBlock());
  memref::StoreOp::create(rw, loc, now, cache, ivs);
  return now;
}

/// Where staged gate operand `s` of head h, column e lives in the workspace.
Value stagedAt(RewriterBase &rw, Location loc, Chain &c, const SplitPlan &plan,
               int64_t s, Value bat, Value h, Value e) {
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(rw, loc, v);
  };
  Value row = arith::AddIOp::create(
      rw, loc, arith::MulIOp::create(rw, loc, bat, idx(c.Hq)), h);
  Value at = arith::AddIOp::create(
      rw, loc, arith::MulIOp::create(rw, loc, row, idx(c.Dv)), e);
  return arith::AddIOp::create(
      rw, loc, at, idx(plan.gateBase + s * c.B * c.Hq * c.Dv));
}

} // namespace

/// The split decode attention (flash-decoding), first launch: block
/// (split, kv head, batch) owns `chunk` keys; it forms their logits for the
/// G heads (the key rows read once, in 16-byte vectors where aligned, a
/// few keys of a warp loaded before their use), the chunk's max m_c, the
/// terms f(x, m_c), their sum l_c and the partial output
/// o_c = sum_j f(x_j, m_c) v_j (the chunk's value loads issued together),
/// and writes o_c, m_c and l_c to the workspace.
gpu::LaunchOp emitSplitPartial(RewriterBase &rw, Location loc, Chain &c,
                               Value ws, int64_t chunk, int64_t nSplit,
                               int64_t vec, const SplitPlan &plan) {
  const AttentionPrologue *pro = plan.prologue;
  int64_t G = c.G;
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(rw, loc, v);
  };
  // Shared: the logits, then the terms, of the chunk [G][chunk] (0 past
  // the cache); the chunk's max and sum [2G].
  gpu::LaunchOp launch = createLaunch(
      rw, loc, {nSplit, c.Hkv, c.B}, {G * chunk, 2 * G},
      llvm::formatv("attention_split heads={0}/{1} d={2} t={3} dv={4} "
                    "chunk={5} vec={6} grid={7}x{1}x{8}{9}",
                    c.Hq, c.Hkv, c.D, c.T, c.Dv, chunk, vec, nSplit, c.B,
                    pro ? " prologue=" + std::to_string(pro->ops.size())
                        : std::string())
          .str(),
      pro ? pro->sharedTypes(rw.getContext()) : SmallVector<MemRefType>{});
  Value tile = launch.getWorkgroupAttributions()[0];
  Value stats = launch.getWorkgroupAttributions()[1];
  Value tid = launch.getThreadIds().x;
  if (pro) {
    SmallVector<Value> buffers(
        launch.getWorkgroupAttributions().drop_front(2));
    emitPrologueReplay(rw, loc, *pro, tid, kThreads, buffers);
  }
  Value warp = arith::DivUIOp::create(rw, loc, tid, idx(kWarp));
  Value lane = arith::RemUIOp::create(rw, loc, tid, idx(kWarp));
  Value split = launch.getBlockIds().x, kvh = launch.getBlockIds().y,
        bat = launch.getBlockIds().z;
  Value zeroIdx = idx(0);
  Value zero = arith::ConstantOp::create(rw, loc, rw.getF32FloatAttr(0));
  Value first = arith::MulIOp::create(rw, loc, split, idx(chunk));
  if (!plan.staged.empty()) {
    // The output gate's operands that the prologue computes: the first
    // chunk's block of each kv head stores its heads' to the workspace,
    // where the combine reads them.
    Value isFirst =
        arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq, split,
                              zeroIdx);
    auto ifOp = scf::IfOp::create(rw, loc, isFirst, false);
    OpBuilder::InsertionGuard guard(rw);
    rw.setInsertionPointToStart(ifOp.thenBlock());
    auto loop = scf::ForOp::create(rw, loc, tid, idx(G * c.Dv), idx(kThreads));
    rw.setInsertionPointToStart(loop.getBody());
    Value i = loop.getInductionVar();
    Value e = arith::RemUIOp::create(rw, loc, i, idx(c.Dv));
    Value h = arith::AddIOp::create(
        rw, loc, arith::MulIOp::create(rw, loc, kvh, idx(G)),
        arith::DivUIOp::create(rw, loc, i, idx(c.Dv)));
    for (auto [s, operand] : llvm::enumerate(plan.staged)) {
      Value v = memref::LoadOp::create(rw, loc, c.gate->getOperand(operand),
                                       ValueRange{bat, zeroIdx, h, e});
      if (!v.getType().isF32())
        v = arith::ExtFOp::create(rw, loc, rw.getF32Type(), v);
      memref::StoreOp::create(rw, loc, v, ws,
                              ValueRange{stagedAt(rw, loc, c, plan, s, bat,
                                                  h, e)});
    }
  }
  // Keys of this chunk inside the cache.
  Value count = arith::MinUIOp::create(
      rw, loc, idx(chunk), arith::SubIOp::create(rw, loc, idx(c.T), first));
  SmallVector<Value> heads;
  for (int64_t g = 0; g < G; ++g)
    heads.push_back(arith::AddIOp::create(
        rw, loc, arith::MulIOp::create(rw, loc, kvh, idx(G)), idx(g)));
  AffineMap qMap = c.scores.getIndexingMapsArray()[0];
  AffineMap kMap = c.scores.getIndexingMapsArray()[1];
  Type kElt = cast<MemRefType>(c.k.getType()).getElementType();

  // 1. Logits: warp w takes keys w, w + 8, ... of the chunk, `unroll` at a
  // time (past the cache: the last key, not stored).
  int64_t perWarp = chunk / kWarps;
  int64_t unroll = std::min<int64_t>(perWarp, 4);
  {
    auto rounds =
        scf::ForOp::create(rw, loc, zeroIdx, idx(perWarp), idx(unroll));
    OpBuilder::InsertionGuard guard(rw);
    rw.setInsertionPointToStart(rounds.getBody());
    SmallVector<Value> jls, js;
    for (int64_t u = 0; u < unroll; ++u) {
      Value r = arith::AddIOp::create(rw, loc, rounds.getInductionVar(),
                                      idx(u));
      Value jl = arith::AddIOp::create(
          rw, loc, warp, arith::MulIOp::create(rw, loc, r, idx(kWarps)));
      jls.push_back(jl);
      js.push_back(arith::MinUIOp::create(
          rw, loc, arith::AddIOp::create(rw, loc, first, jl), idx(c.T - 1)));
    }
    SmallVector<Value> init(unroll * G, zero);
    auto dims = scf::ForOp::create(
        rw, loc, arith::MulIOp::create(rw, loc, lane, idx(vec)), idx(c.D),
        idx(kWarp * vec), init);
    {
      OpBuilder::InsertionGuard g2(rw);
      rw.setInsertionPointToStart(dims.getBody());
      Value d0 = dims.getInductionVar();
      // The keys first (their loads in flight together), then q.
      SmallVector<SmallVector<Value>> ks(unroll);
      for (int64_t u = 0; u < unroll; ++u) {
        SmallVector<Value> kIvs{bat, heads[0], zeroIdx, js[u], d0, kvh};
        if (vec > 1) {
          unsigned align = vec * kElt.getIntOrFloatBitWidth() / 8;
          Value kv = vector::LoadOp::create(
              rw, loc, VectorType::get({vec}, kElt), c.k,
              indicesOf(rw, loc, kMap, kIvs), /*nontemporal=*/false,
              llvm::MaybeAlign(align));
          for (int64_t e = 0; e < vec; ++e)
            ks[u].push_back(vector::ExtractOp::create(rw, loc, kv, e));
        } else {
          ks[u].push_back(memref::LoadOp::create(
              rw, loc, c.k, indicesOf(rw, loc, kMap, kIvs)));
        }
      }
      SmallVector<Value> acc(dims.getRegionIterArgs());
      for (int64_t e = 0; e < vec; ++e) {
        Value d = arith::AddIOp::create(rw, loc, d0, idx(e));
        for (int64_t g = 0; g < G; ++g) {
          SmallVector<Value> ivs{bat, heads[g], zeroIdx, js[0], d, kvh};
          Value q = memref::LoadOp::create(rw, loc, c.q,
                                           indicesOf(rw, loc, qMap, ivs));
          for (int64_t u = 0; u < unroll; ++u) {
            SmallVector<Value> uIvs{bat, heads[g], zeroIdx, js[u], d, kvh};
            Value k = ks[u][e];
            if (c.kScatter) {
              // Each key element is read by one lane of one warp.
              Value inChunk = arith::CmpIOp::create(
                  rw, loc, arith::CmpIPredicate::ult, jls[u], count);
              if (g == 0) {
                auto ifOp = scf::IfOp::create(rw, loc, rw.getF32Type(),
                                              inChunk, true);
                OpBuilder::InsertionGuard g3(rw);
                rw.setInsertionPointToStart(ifOp.thenBlock());
                Value now = updateCached(rw, loc, c.kScatter, c.k, k,
                                         {bat, kvh, js[u], d});
                scf::YieldOp::create(rw, loc, now);
                rw.setInsertionPointToStart(ifOp.elseBlock());
                scf::YieldOp::create(rw, loc, k);
                ks[u][e] = ifOp.getResult(0);
              }
              k = ks[u][e];
            }
            acc[u * G + g] =
                cloneBody(rw, loc, c.scores, {q, k, acc[u * G + g]}, uIvs);
          }
        }
      }
      scf::YieldOp::create(rw, loc, acc);
    }
    for (int64_t u = 0; u < unroll; ++u) {
      Value inChunk = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult,
                                            jls[u], count);
      for (int64_t g = 0; g < G; ++g) {
        Value total =
            warpReduce(rw, loc, dims.getResult(u * G + g), false, false);
        Value writer = arith::AndIOp::create(
            rw, loc, inChunk,
            arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq, lane,
                                  idx((u * G + g) % kWarp)));
        auto ifOp = scf::IfOp::create(rw, loc, writer, false);
        OpBuilder::InsertionGuard g2(rw);
        rw.setInsertionPointToStart(ifOp.thenBlock());
        Value s = arith::AddFOp::create(rw, loc, c.scoresFill.value(), total);
        SmallVector<Value> ivs{bat, heads[g], zeroIdx, js[u], kvh};
        for (linalg::GenericOp op : c.logits) {
          SmallVector<Value> args(op->getNumOperands());
          for (OpOperand &operand : op->getOpOperands())
            if (llvm::is_contained(c.logitBuffers, operand.get()))
              args[operand.getOperandNumber()] = s;
          s = cloneBody(rw, loc, op, args, ivs);
        }
        memref::StoreOp::create(
            rw, loc, s, tile,
            ValueRange{arith::AddIOp::create(rw, loc, jls[u], idx(g * chunk))});
      }
    }
  }
  gpu::BarrierOp::create(rw, loc);

  // 2. The chunk's max and terms of head g by warp g % 8 (terms past the
  // cache are 0).
  Value negInf = arith::ConstantOp::create(
      rw, loc, rw.getF32FloatAttr(-std::numeric_limits<float>::infinity()));
  for (int64_t g = 0; g < G; ++g) {
    Value mine = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq, warp,
                                       idx(g % kWarps));
    auto ifOp = scf::IfOp::create(rw, loc, mine, false);
    OpBuilder::InsertionGuard guard(rw);
    rw.setInsertionPointToStart(ifOp.thenBlock());
    auto at = [&](Value jl) -> Value {
      return arith::AddIOp::create(rw, loc, jl, idx(g * chunk));
    };
    auto maxLoop = scf::ForOp::create(rw, loc, lane, count, idx(kWarp), negInf);
    {
      OpBuilder::InsertionGuard g2(rw);
      rw.setInsertionPointToStart(maxLoop.getBody());
      Value jl = maxLoop.getInductionVar();
      Value j = arith::AddIOp::create(rw, loc, first, jl);
      SmallVector<Value> ivs{bat, heads[g], zeroIdx, j, kvh};
      Value s = memref::LoadOp::create(rw, loc, tile, ValueRange{at(jl)});
      scf::YieldOp::create(
          rw, loc,
          cloneBody(rw, loc, c.max, {s, maxLoop.getRegionIterArg(0)}, ivs));
    }
    Value mx = warpReduce(rw, loc, maxLoop.getResult(0), true, c.maxNum);
    Value fillM = c.maxFill.value();
    mx = c.maxNum ? arith::MaxNumFOp::create(rw, loc, fillM, mx).getResult()
                  : arith::MaximumFOp::create(rw, loc, fillM, mx).getResult();
    auto sumLoop = scf::ForOp::create(rw, loc, lane, idx(chunk), idx(kWarp),
                                      zero);
    {
      OpBuilder::InsertionGuard g2(rw);
      rw.setInsertionPointToStart(sumLoop.getBody());
      Value jl = sumLoop.getInductionVar();
      Value j = arith::AddIOp::create(rw, loc, first, jl);
      Value inChunk =
          arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, jl, count);
      SmallVector<Value> ivs{bat, heads[g], zeroIdx, j, kvh};
      auto termIf =
          scf::IfOp::create(rw, loc, rw.getF32Type(), inChunk, true);
      {
        OpBuilder::InsertionGuard g3(rw);
        rw.setInsertionPointToStart(termIf.thenBlock());
        Value s = memref::LoadOp::create(rw, loc, tile, ValueRange{at(jl)});
        // The term alone (the sum's body from 0), kept for p . v.
        scf::YieldOp::create(rw, loc,
                             cloneBody(rw, loc, c.sum, {s, mx, zero}, ivs));
        rw.setInsertionPointToStart(termIf.elseBlock());
        scf::YieldOp::create(rw, loc, zero);
      }
      Value term = termIf.getResult(0);
      memref::StoreOp::create(rw, loc, term, tile, ValueRange{at(jl)});
      scf::YieldOp::create(
          rw, loc,
          arith::AddFOp::create(rw, loc, sumLoop.getRegionIterArg(0), term)
              .getResult());
    }
    Value sm = warpReduce(rw, loc, sumLoop.getResult(0), false, false);
    Value isFirst =
        arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq, lane, zeroIdx);
    auto store = scf::IfOp::create(rw, loc, isFirst, false);
    rw.setInsertionPointToStart(store.thenBlock());
    memref::StoreOp::create(rw, loc, mx, stats, idx(g));
    memref::StoreOp::create(rw, loc, sm, stats, idx(G + g));
  }
  gpu::BarrierOp::create(rw, loc);

  // 3. The partial output of the chunk, a thread per value column, the
  // values of `vUnroll` keys loaded together.
  Value bk = arith::AddIOp::create(
      rw, loc, arith::MulIOp::create(rw, loc, bat, idx(c.Hkv)), kvh);
  Value slot = arith::AddIOp::create(
      rw, loc, arith::MulIOp::create(rw, loc, bk, idx(nSplit)), split);
  int64_t statsBase = c.B * c.Hkv * nSplit * G * c.Dv;
  int64_t sumBase = statsBase + c.B * c.Hkv * nSplit * G;
  AffineMap vMap = c.pv.getIndexingMapsArray()[1];
  int64_t vUnroll = std::min<int64_t>(chunk, 16);
  {
    auto cols = scf::ForOp::create(rw, loc, tid, idx(c.Dv), idx(kThreads));
    OpBuilder::InsertionGuard guard(rw);
    rw.setInsertionPointToStart(cols.getBody());
    Value e = cols.getInductionVar();
    SmallVector<Value> init(G, zero);
    auto keys =
        scf::ForOp::create(rw, loc, zeroIdx, idx(chunk), idx(vUnroll), init);
    {
      OpBuilder::InsertionGuard g2(rw);
      rw.setInsertionPointToStart(keys.getBody());
      SmallVector<Value> jls, js, vs;
      for (int64_t u = 0; u < vUnroll; ++u) {
        Value jl = arith::AddIOp::create(rw, loc, keys.getInductionVar(),
                                         idx(u));
        Value j = arith::MinUIOp::create(
            rw, loc, arith::AddIOp::create(rw, loc, first, jl), idx(c.T - 1));
        SmallVector<Value> ivs{bat, heads[0], zeroIdx, e, j, kvh};
        jls.push_back(jl);
        js.push_back(j);
        vs.push_back(memref::LoadOp::create(rw, loc, c.v,
                                            indicesOf(rw, loc, vMap, ivs)));
      }
      SmallVector<Value> acc(keys.getRegionIterArgs());
      for (int64_t u = 0; u < vUnroll; ++u) {
        Value v = vs[u];
        if (c.vScatter) {
          Value inChunk = arith::CmpIOp::create(
              rw, loc, arith::CmpIPredicate::ult, jls[u], count);
          auto ifOp =
              scf::IfOp::create(rw, loc, v.getType(), inChunk, true);
          OpBuilder::InsertionGuard g3(rw);
          rw.setInsertionPointToStart(ifOp.thenBlock());
          scf::YieldOp::create(rw, loc,
                               updateCached(rw, loc, c.vScatter, c.v, v,
                                            {bat, kvh, js[u], e}));
          rw.setInsertionPointToStart(ifOp.elseBlock());
          scf::YieldOp::create(rw, loc, v);
          v = ifOp.getResult(0);
        }
        for (int64_t g = 0; g < G; ++g) {
          Value p = memref::LoadOp::create(
              rw, loc, tile,
              ValueRange{arith::AddIOp::create(rw, loc, jls[u],
                                               idx(g * chunk))});
          SmallVector<Value> gIvs{bat, heads[g], zeroIdx, e, js[u], kvh};
          acc[g] = cloneBody(rw, loc, c.pv, {p, v, acc[g]}, gIvs);
        }
      }
      scf::YieldOp::create(rw, loc, acc);
    }
    for (int64_t g = 0; g < G; ++g) {
      Value at = arith::AddIOp::create(
          rw, loc,
          arith::MulIOp::create(
              rw, loc,
              arith::AddIOp::create(
                  rw, loc, arith::MulIOp::create(rw, loc, slot, idx(G)),
                  idx(g)),
              idx(c.Dv)),
          e);
      memref::StoreOp::create(rw, loc, keys.getResult(g), ws, ValueRange{at});
    }
  }
  Value statThread =
      arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, tid, idx(G));
  auto ifOp = scf::IfOp::create(rw, loc, statThread, false);
  rw.setInsertionPointToStart(ifOp.thenBlock());
  Value at = arith::AddIOp::create(
      rw, loc, arith::MulIOp::create(rw, loc, slot, idx(G)), tid);
  memref::StoreOp::create(
      rw, loc, memref::LoadOp::create(rw, loc, stats, ValueRange{tid}), ws,
      ValueRange{arith::AddIOp::create(rw, loc, at, idx(statsBase))});
  memref::StoreOp::create(
      rw, loc,
      memref::LoadOp::create(
          rw, loc, stats,
          ValueRange{arith::AddIOp::create(rw, loc, tid, idx(G))}),
      ws, ValueRange{arith::AddIOp::create(rw, loc, at, idx(sumBase))});
  return launch;
}

/// Second launch: block (head, batch) combines the chunks of its head in
/// order. Lane c of warp 0 holds chunk c's max and sum: M = max m_c and
/// L = sum l_c f(m_c, M) by shuffles, the chunk weights probs(m_c, M, L)
/// go to shared memory, then a thread per value column adds
/// sum_c w_c o_c (the chunks' loads issued together) and stores the output,
/// or the folded epilogue's value.
gpu::LaunchOp emitSplitCombine(RewriterBase &rw, Location loc, Chain &c,
                               Value ws, int64_t nSplit,
                               const SplitPlan &plan) {
  int64_t G = c.G;
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(rw, loc, v);
  };
  gpu::LaunchOp launch = createLaunch(
      rw, loc, {c.Hq, c.B, 1}, {nSplit},
      llvm::formatv("attention_combine heads={0} dv={1} chunks={2}{3}", c.Hq,
                    c.Dv, nSplit, c.gate ? " epilogue" : "")
          .str());
  Value weights = launch.getWorkgroupAttributions()[0];
  Value tid = launch.getThreadIds().x;
  Value h = launch.getBlockIds().x, bat = launch.getBlockIds().y;
  Value zeroIdx = idx(0);
  Value zero = arith::ConstantOp::create(rw, loc, rw.getF32FloatAttr(0));
  Value negInf = arith::ConstantOp::create(
      rw, loc, rw.getF32FloatAttr(-std::numeric_limits<float>::infinity()));
  Value kvh = arith::DivUIOp::create(rw, loc, h, idx(G));
  Value g = arith::RemUIOp::create(rw, loc, h, idx(G));
  Value bk = arith::AddIOp::create(
      rw, loc, arith::MulIOp::create(rw, loc, bat, idx(c.Hkv)), kvh);
  Value bkSplits = arith::MulIOp::create(rw, loc, bk, idx(nSplit));
  int64_t statsBase = c.B * c.Hkv * nSplit * G * c.Dv;
  int64_t sumBase = statsBase + c.B * c.Hkv * nSplit * G;
  // Row of chunk s of this head in the workspace.
  auto rowOf = [&](Value s) -> Value {
    return arith::AddIOp::create(
        rw, loc,
        arith::MulIOp::create(rw, loc,
                              arith::AddIOp::create(rw, loc, bkSplits, s),
                              idx(G)),
        g);
  };
  SmallVector<Value> ivs{bat, h, zeroIdx, zeroIdx, kvh};
  {
    Value inWarp =
        arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, tid,
                              idx(kWarp));
    auto ifOp = scf::IfOp::create(rw, loc, inWarp, false);
    OpBuilder::InsertionGuard guard(rw);
    rw.setInsertionPointToStart(ifOp.thenBlock());
    Value own = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, tid,
                                      idx(nSplit));
    Value s = arith::MinUIOp::create(rw, loc, tid, idx(nSplit - 1));
    Value row = rowOf(s);
    Value m = memref::LoadOp::create(
        rw, loc, ws, ValueRange{arith::AddIOp::create(rw, loc, row, idx(statsBase))});
    Value l = memref::LoadOp::create(
        rw, loc, ws, ValueRange{arith::AddIOp::create(rw, loc, row, idx(sumBase))});
    // Lanes past the chunks take the max's identity (-inf) and no sum.
    Value mMine = arith::SelectOp::create(rw, loc, own, m, negInf);
    Value M = warpReduce(
        rw, loc, cloneBody(rw, loc, c.max, {mMine, c.maxFill.value()}, ivs),
        true, c.maxNum);
    Value scale = cloneBody(rw, loc, c.sum, {m, M, zero}, ivs);
    Value part = arith::SelectOp::create(
        rw, loc, own, arith::MulFOp::create(rw, loc, l, scale), zero);
    Value L = arith::AddFOp::create(rw, loc, c.sumFill.value(),
                                    warpReduce(rw, loc, part, false, false));
    Value w = cloneBody(rw, loc, c.probs, {m, M, L, m}, ivs);
    auto store = scf::IfOp::create(rw, loc, own, false);
    rw.setInsertionPointToStart(store.thenBlock());
    memref::StoreOp::create(rw, loc, w, weights, ValueRange{tid});
  }
  gpu::BarrierOp::create(rw, loc);
  auto cols = scf::ForOp::create(rw, loc, tid, idx(c.Dv), idx(kThreads));
  OpBuilder::InsertionGuard guard(rw);
  rw.setInsertionPointToStart(cols.getBody());
  Value e = cols.getInductionVar();
  SmallVector<Value> os;
  for (int64_t s = 0; s < nSplit; ++s)
    os.push_back(memref::LoadOp::create(
        rw, loc, ws,
        ValueRange{arith::AddIOp::create(
            rw, loc, arith::MulIOp::create(rw, loc, rowOf(idx(s)), idx(c.Dv)),
            e)}));
  Value y = c.outFill.value();
  for (int64_t s = 0; s < nSplit; ++s)
    y = arith::AddFOp::create(
        rw, loc, y,
        arith::MulFOp::create(
            rw, loc, memref::LoadOp::create(rw, loc, weights, idx(s)), os[s]));
  if (!c.gate) {
    memref::StoreOp::create(rw, loc, y, c.y, ValueRange{bat, h, zeroIdx, e});
    return launch;
  }
  // The folded epilogue at element [b, 0, h, e] of the transpose.
  SmallVector<Value> args(c.gate->getNumOperands());
  for (OpOperand &operand : c.gate->getOpOperands())
    if (operand.get() == c.outT.getInit())
      args[operand.getOperandNumber()] = y;
  for (auto [s, operand] : llvm::enumerate(plan.staged)) {
    Value v = memref::LoadOp::create(
        rw, loc, ws, ValueRange{stagedAt(rw, loc, c, plan, s, bat, h, e)});
    Type t = c.gate->getOperand(operand).getType();
    Type elt = cast<MemRefType>(t).getElementType();
    if (!elt.isF32())
      v = arith::TruncFOp::create(rw, loc, elt, v);
    args[operand] = v;
  }
  SmallVector<Value> gIvs{bat, zeroIdx, h, e};
  Value zv = cloneBody(rw, loc, c.gate, args, gIvs);
  memref::StoreOp::create(rw, loc, zv, c.z, gIvs);
  return launch;
}

} // namespace sinter::cuda::attention
