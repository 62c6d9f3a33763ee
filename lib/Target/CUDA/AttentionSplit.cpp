//===- AttentionSplit.cpp - split decode attention kernels -----------------===//
//
// The split over the cache length (flash-decoding) of the decode attention:
// the partial launch over (chunk of keys, kv head, batch), which writes each
// chunk's max, sum and partial output to a workspace global (with the
// folded cache writes and the absorbed prologue, AttentionPrologue.h); the
// last block of each kv head to finish (an arrival counter) combines the
// chunks, rebuilding their softmax weights from the same bodies (and
// writes the folded output gate), in the same launch. Attention.cpp
// decides whether and how to split (the SplitPlan); this file only emits.
// docs/cuda-target.md ("Decode attention").
//
//===----------------------------------------------------------------------===//

#include "AttentionChain.h"
#include "GemmBuffers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/Support/FormatVariadic.h"

#include <limits>
#include <optional>

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

/// The most key vectors a lane, and values a thread, holds across the
/// prologue (registers).
constexpr int64_t kMaxEarlyVectors = 8, kMaxEarlyValues = 32;

/// The most gate operand elements a thread of the first chunk's block
/// loads before it stores them to the workspace (registers).
constexpr int64_t kMaxStagedLoads = 16;

/// The element of `cache` at `ivs` after the folded in-place update
/// `scatter` (its body applied to the old value `old`); the new value is
/// stored where its bits differ, so that the cache ends as the update
/// leaves it while the kernel writes only the new token's elements.
Value updateCached(RewriterBase &rw, Location loc, linalg::GenericOp scatter,
                   const IRMapping &invariant, Value cache, Value old,
                   ArrayRef<Value> ivs) {
  Value now = cloneBody(rw, loc, scatter, {old}, ivs, &invariant);
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
                               int64_t vec, const SplitPlan &plan,
                               const KernelOptions &options) {
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
      pro ? pro->sharedTypes(rw.getContext()) : SmallVector<MemRefType>{},
      kSplitThreads);
  Value tile = launch.getWorkgroupAttributions()[0];
  Value stats = launch.getWorkgroupAttributions()[1];
  Value tid = launch.getThreadIds().x;
  Value warp = arith::DivUIOp::create(rw, loc, tid, idx(kWarp));
  Value lane = arith::RemUIOp::create(rw, loc, tid, idx(kWarp));
  Value split = launch.getBlockIds().x, kvh = launch.getBlockIds().y,
        bat = launch.getBlockIds().z;
  Value zeroIdx = idx(0);
  Value zero = arith::ConstantOp::create(rw, loc, rw.getF32FloatAttr(0));
  Value first = arith::MulIOp::create(rw, loc, split, idx(chunk));
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

  // Warp w takes keys w, w + kSplitWarps, ... of the chunk, `unroll` at a
  // time (past the cache: the last key, not stored); a lane reads `vec`
  // dims of each key per step of kWarp * vec.
  int64_t perWarp = chunk / kSplitWarps;
  int64_t unroll = std::min<int64_t>(perWarp, 4);
  auto roundKeys = [&](Value round, SmallVectorImpl<Value> &jls,
                       SmallVectorImpl<Value> &js) {
    for (int64_t u = 0; u < unroll; ++u) {
      Value r = arith::AddIOp::create(rw, loc, round, idx(u));
      Value jl = arith::AddIOp::create(
          rw, loc, warp, arith::MulIOp::create(rw, loc, r, idx(kSplitWarps)));
      jls.push_back(jl);
      js.push_back(arith::MinUIOp::create(
          rw, loc, arith::AddIOp::create(rw, loc, first, jl), idx(c.T - 1)));
    }
  };
  // The old cache contents of keys `js` at dims d0 .. d0 + vec - 1.
  auto loadKeys = [&](Value d0, ArrayRef<Value> js) {
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
    return ks;
  };
  // The chunk's key loads (all of a lane's, when they are one round of at
  // most kMaxEarlyVectors vectors) are issued first, before the prologue:
  // they read only the cache (the new token's row is merged in after the
  // load, from what the prologue leaves), so their DRAM latency overlaps
  // the prologue's instead of following it. (Keys the prologue computes,
  // with no cache, are not there yet.) Without a prologue the same form
  // (the dim steps unrolled) only issues them a little earlier.
  // A head shorter than a step of the warp (ragged) leaves the last step
  // to the lanes inside it. Only with the experimental form
  // attention-early-loads (not yet run on a GPU); off, the loads wait for
  // the prologue (the form run on a GPU).
  int64_t span = kWarp * vec, dimSteps = (c.D + span - 1) / span;
  bool ragged = c.D % span != 0;
  bool early = options.experimental.attentionEarlyLoads &&
               (!pro || !pro->writes(c.k)) && vec > 1 && c.D % vec == 0 &&
               perWarp == unroll && unroll * dimSteps <= kMaxEarlyVectors;
  auto stepStart = [&](int64_t i) -> Value {
    return arith::AddIOp::create(
        rw, loc, arith::MulIOp::create(rw, loc, lane, idx(vec)),
        idx(i * span));
  };
  auto inHead = [&](Value d0) -> Value {
    return arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, d0,
                                 idx(c.D));
  };
  SmallVector<Value> earlyJls, earlyJs;
  SmallVector<SmallVector<SmallVector<Value>>> earlyKs;
  if (early) {
    roundKeys(zeroIdx, earlyJls, earlyJs);
    auto vecTy = VectorType::get({vec}, kElt);
    for (int64_t i = 0; i < dimSteps; ++i) {
      Value d0 = stepStart(i);
      if (!ragged || i + 1 < dimSteps) {
        earlyKs.push_back(loadKeys(d0, earlyJs));
        continue;
      }
      // Lanes past the head load nothing (zeros, never used).
      auto ifOp = scf::IfOp::create(
          rw, loc, SmallVector<Type>(unroll, vecTy), inHead(d0), true);
      {
        OpBuilder::InsertionGuard guard(rw);
        rw.setInsertionPointToStart(ifOp.thenBlock());
        SmallVector<Value> vs;
        for (int64_t u = 0; u < unroll; ++u)
          vs.push_back(vector::LoadOp::create(
              rw, loc, vecTy, c.k,
              indicesOf(rw, loc, kMap,
                        {bat, heads[0], zeroIdx, earlyJs[u], d0, kvh}),
              /*nontemporal=*/false,
              llvm::MaybeAlign(vec * kElt.getIntOrFloatBitWidth() / 8)));
        scf::YieldOp::create(rw, loc, vs);
        rw.setInsertionPointToStart(ifOp.elseBlock());
        Value none = arith::ConstantOp::create(
            rw, loc, vecTy,
            DenseElementsAttr::get(vecTy, rw.getZeroAttr(kElt)));
        scf::YieldOp::create(rw, loc, SmallVector<Value>(unroll, none));
      }
      SmallVector<SmallVector<Value>> ks(unroll);
      for (int64_t u = 0; u < unroll; ++u)
        for (int64_t e = 0; e < vec; ++e)
          ks[u].push_back(
              vector::ExtractOp::create(rw, loc, ifOp.getResult(u), e));
      earlyKs.push_back(ks);
    }
  }
  // The chunk's values too, a thread per column (the partial output's
  // layout: one column a thread, `vUnroll` keys at a time), when the keys
  // go first and a thread's are at most 32, for at most 8 heads (bench8,
  // 8 heads: 215 registers, no spills; more heads' accumulators were not
  // checked).
  AffineMap vMap = c.pv.getIndexingMapsArray()[1];
  int64_t vUnroll = std::min<int64_t>(chunk, 16);
  bool earlyV = early && (!pro || !pro->writes(c.v)) && c.Dv <= kSplitThreads &&
                chunk <= kMaxEarlyValues && chunk % vUnroll == 0 && G <= 8;
  SmallVector<Value> earlyVs;
  if (earlyV) {
    Type vElt = cast<MemRefType>(c.v.getType()).getElementType();
    auto loadValues = [&] {
      SmallVector<Value> vs;
      for (int64_t jl = 0; jl < chunk; ++jl) {
        Value j = arith::MinUIOp::create(
            rw, loc, arith::AddIOp::create(rw, loc, first, idx(jl)),
            idx(c.T - 1));
        SmallVector<Value> ivs{bat, heads[0], zeroIdx, tid, j, kvh};
        vs.push_back(memref::LoadOp::create(rw, loc, c.v,
                                            indicesOf(rw, loc, vMap, ivs)));
      }
      return vs;
    };
    if (c.Dv == kSplitThreads) {
      earlyVs = loadValues();
    } else {
      // Threads past the columns load nothing (zeros, never used).
      auto ifOp = scf::IfOp::create(
          rw, loc, SmallVector<Type>(chunk, vElt),
          arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, tid,
                                idx(c.Dv)),
          true);
      OpBuilder::InsertionGuard guard(rw);
      rw.setInsertionPointToStart(ifOp.thenBlock());
      scf::YieldOp::create(rw, loc, loadValues());
      rw.setInsertionPointToStart(ifOp.elseBlock());
      Value none = arith::ConstantOp::create(
          rw, loc, vElt, cast<TypedAttr>(rw.getZeroAttr(vElt)));
      scf::YieldOp::create(rw, loc, SmallVector<Value>(chunk, none));
      earlyVs.assign(ifOp.getResults().begin(), ifOp.getResults().end());
    }
  }
  if (pro) {
    SmallVector<Value> buffers(
        launch.getWorkgroupAttributions().drop_front(2));
    emitPrologueReplay(rw, loc, *pro, tid, kSplitThreads, buffers, options);
  }
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
    // Element i of the G heads' gate operands: the loads (with the
    // prologue, each a recomputation from the projection's output) of a
    // thread's elements are all issued before its stores. In a loop of
    // load-then-store, each element waited an L2 round trip of its own
    // (the workspace's stores may alias the loads for all LLVM knows):
    // bench8's first-chunk blocks waited 8 in a row, and the combine
    // waits for the slowest block.
    auto stage = [&](ArrayRef<Value> is) {
      SmallVector<std::pair<Value, Value>> staged; // value, workspace index
      for (Value i : is) {
        Value e = arith::RemUIOp::create(rw, loc, i, idx(c.Dv));
        Value h = arith::AddIOp::create(
            rw, loc, arith::MulIOp::create(rw, loc, kvh, idx(G)),
            arith::DivUIOp::create(rw, loc, i, idx(c.Dv)));
        for (auto [s, operand] : llvm::enumerate(plan.staged)) {
          Value v = memref::LoadOp::create(rw, loc, c.gate->getOperand(operand),
                                           ValueRange{bat, zeroIdx, h, e});
          if (!v.getType().isF32())
            v = arith::ExtFOp::create(rw, loc, rw.getF32Type(), v);
          staged.push_back({v, stagedAt(rw, loc, c, plan, s, bat, h, e)});
        }
      }
      for (auto [v, at] : staged)
        memref::StoreOp::create(rw, loc, v, ws, ValueRange{at});
    };
    int64_t n = G * c.Dv;
    if (n % kSplitThreads == 0 &&
        n / kSplitThreads * int64_t(plan.staged.size()) <= kMaxStagedLoads) {
      SmallVector<Value> is;
      for (int64_t r = 0; r < n / kSplitThreads; ++r)
        is.push_back(
            arith::AddIOp::create(rw, loc, tid, idx(r * kSplitThreads)));
      stage(is);
    } else {
      auto loop = scf::ForOp::create(rw, loc, tid, idx(n), idx(kSplitThreads));
      rw.setInsertionPointToStart(loop.getBody());
      stage({loop.getInductionVar()});
    }
  }
  // What the folded cache writes read that does not depend on the element
  // (the position), loaded once here, after the prologue: nothing the
  // kernel writes from here on overlaps it (planSplit refuses an update
  // reading a buffer that may overlap a cache).
  IRMapping kInvariant, vInvariant;
  if (c.kScatter)
    cloneInvariant(rw, loc, c.kScatter, kInvariant);
  if (c.vScatter)
    cloneInvariant(rw, loc, c.vScatter, vInvariant);
  // 1. Logits, a round of `unroll` keys per warp at a time.
  {
    // One step of kWarp * vec dims at d0 of the keys `ks` (loaded), into
    // the accumulators `acc` [u * G + g].
    auto dimStep = [&](Value d0, SmallVector<SmallVector<Value>> ks,
                       ArrayRef<Value> jls, ArrayRef<Value> js,
                       SmallVector<Value> acc) {
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
                Value now = updateCached(rw, loc, c.kScatter, kInvariant, c.k,
                                         k, {bat, kvh, js[u], d});
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
      return acc;
    };
    SmallVector<Value> jls, js, sums;
    std::optional<OpBuilder::InsertionGuard> roundGuard;
    if (early) {
      // One round, its dim steps unrolled on the keys loaded early (each
      // lane's steps in the loop's order).
      jls = earlyJls;
      js = earlyJs;
      SmallVector<Value> acc(unroll * G, zero);
      for (int64_t i = 0; i < dimSteps; ++i) {
        Value d0 = stepStart(i);
        if (!ragged || i + 1 < dimSteps) {
          acc = dimStep(d0, earlyKs[i], jls, js, acc);
          continue;
        }
        auto ifOp = scf::IfOp::create(rw, loc, ValueRange(acc).getTypes(),
                                      inHead(d0), true);
        OpBuilder::InsertionGuard guard(rw);
        rw.setInsertionPointToStart(ifOp.thenBlock());
        scf::YieldOp::create(rw, loc, dimStep(d0, earlyKs[i], jls, js, acc));
        rw.setInsertionPointToStart(ifOp.elseBlock());
        scf::YieldOp::create(rw, loc, acc);
        acc.assign(ifOp.getResults().begin(), ifOp.getResults().end());
      }
      sums = acc;
    } else {
      auto rounds =
          scf::ForOp::create(rw, loc, zeroIdx, idx(perWarp), idx(unroll));
      roundGuard.emplace(rw);
      rw.setInsertionPointToStart(rounds.getBody());
      roundKeys(rounds.getInductionVar(), jls, js);
      SmallVector<Value> init(unroll * G, zero);
      auto dims = scf::ForOp::create(
          rw, loc, arith::MulIOp::create(rw, loc, lane, idx(vec)), idx(c.D),
          idx(kWarp * vec), init);
      {
        OpBuilder::InsertionGuard g2(rw);
        rw.setInsertionPointToStart(dims.getBody());
        Value d0 = dims.getInductionVar();
        // The keys first (their loads in flight together), then q.
        SmallVector<SmallVector<Value>> ks = loadKeys(d0, js);
        scf::YieldOp::create(
            rw, loc,
            dimStep(d0, ks, jls, js,
                    SmallVector<Value>(dims.getRegionIterArgs())));
      }
      sums.assign(dims.getResults().begin(), dims.getResults().end());
    }
    for (int64_t u = 0; u < unroll; ++u) {
      Value inChunk = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult,
                                            jls[u], count);
      for (int64_t g = 0; g < G; ++g) {
        Value total = warpReduce(rw, loc, sums[u * G + g], false, false);
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
                                       idx(g % kSplitWarps));
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
  {
    auto cols = scf::ForOp::create(rw, loc, tid, idx(c.Dv), idx(kSplitThreads));
    OpBuilder::InsertionGuard guard(rw);
    rw.setInsertionPointToStart(cols.getBody());
    Value e = cols.getInductionVar();
    SmallVector<Value> init(G, zero);
    // The `vUnroll` keys from r0 (their values `loaded`, or loaded here
    // together) into the accumulators `acc` [g].
    auto valueRound = [&](Value r0, ArrayRef<Value> loaded,
                          SmallVector<Value> acc) {
      SmallVector<Value> jls, js, vs;
      for (int64_t u = 0; u < vUnroll; ++u) {
        Value jl = arith::AddIOp::create(rw, loc, r0, idx(u));
        Value j = arith::MinUIOp::create(
            rw, loc, arith::AddIOp::create(rw, loc, first, jl), idx(c.T - 1));
        SmallVector<Value> ivs{bat, heads[0], zeroIdx, e, j, kvh};
        jls.push_back(jl);
        js.push_back(j);
        vs.push_back(loaded.empty()
                         ? memref::LoadOp::create(
                               rw, loc, c.v, indicesOf(rw, loc, vMap, ivs))
                               .getResult()
                         : loaded[u]);
      }
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
                               updateCached(rw, loc, c.vScatter, vInvariant,
                                            c.v, v, {bat, kvh, js[u], e}));
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
      return acc;
    };
    SmallVector<Value> outs;
    if (!earlyVs.empty()) {
      // This thread's only column (e is tid): the values loaded first.
      SmallVector<Value> acc = init;
      for (int64_t r = 0; r < chunk; r += vUnroll)
        acc = valueRound(idx(r), ArrayRef(earlyVs).slice(r, vUnroll), acc);
      outs = acc;
    } else {
      auto keys =
          scf::ForOp::create(rw, loc, zeroIdx, idx(chunk), idx(vUnroll), init);
      {
        OpBuilder::InsertionGuard g2(rw);
        rw.setInsertionPointToStart(keys.getBody());
        scf::YieldOp::create(
            rw, loc,
            valueRound(keys.getInductionVar(), {},
                       SmallVector<Value>(keys.getRegionIterArgs())));
      }
      outs.assign(keys.getResults().begin(), keys.getResults().end());
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
      memref::StoreOp::create(rw, loc, outs[g], ws, ValueRange{at});
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
  rw.setInsertionPointAfter(ifOp);
  emitLastBlockCombine(rw, loc, c, ws, nSplit, plan, tid, kvh, bat, tile,
                       stats);
  return launch;
}

namespace {
/// The operands of the store of combined value `y` at (b, h, e), loaded
/// (the output, or the folded epilogue's operands at [b, 0, h, e] of the
/// transpose): a caller can issue several elements' loads before their
/// stores.
SmallVector<Value> outputArgs(RewriterBase &rw, Location loc, Chain &c,
                              Value ws, const SplitPlan &plan, Value y,
                              Value bat, Value h, Value e) {
  if (!c.gate)
    return {y};
  Value zeroIdx = arith::ConstantIndexOp::create(rw, loc, 0);
  SmallVector<Value> args(c.gate->getNumOperands());
  for (OpOperand &operand : c.gate->getOpOperands())
    if (operand.get() == c.outT.getInit())
      args[operand.getOperandNumber()] = y;
  for (auto [st, operand] : llvm::enumerate(plan.staged)) {
    Value v = memref::LoadOp::create(
        rw, loc, ws, ValueRange{stagedAt(rw, loc, c, plan, st, bat, h, e)});
    Type elt = cast<MemRefType>(c.gate->getOperand(operand).getType())
                   .getElementType();
    if (!elt.isF32())
      v = arith::TruncFOp::create(rw, loc, elt, v);
    args[operand] = v;
  }
  // The gate's other inputs (identity maps, foldEpilogue).
  for (OpOperand *in : c.gate.getDpsInputOperands())
    if (!args[in->getOperandNumber()] &&
        !c.gate.getMatchingBlockArgument(in).use_empty())
      args[in->getOperandNumber()] = memref::LoadOp::create(
          rw, loc, in->get(), ValueRange{bat, zeroIdx, h, e});
  return args;
}

/// Stores the combined value whose operands `outputArgs` loaded.
void storeOutput(RewriterBase &rw, Location loc, Chain &c,
                 ArrayRef<Value> args, Value bat, Value h, Value e) {
  Value zeroIdx = arith::ConstantIndexOp::create(rw, loc, 0);
  if (!c.gate) {
    memref::StoreOp::create(rw, loc, args[0], c.y,
                            ValueRange{bat, h, zeroIdx, e});
    return;
  }
  SmallVector<Value> gIvs{bat, zeroIdx, h, e};
  Value zv = cloneBody(rw, loc, c.gate, args, gIvs);
  memref::StoreOp::create(rw, loc, zv, c.z, gIvs);
}
} // namespace

void emitLastBlockCombine(RewriterBase &rw, Location loc, Chain &c, Value ws,
                          int64_t nSplit, const SplitPlan &plan, Value tid,
                          Value kvh, Value bat, Value tile, Value stats) {
  int64_t G = c.G;
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(rw, loc, v);
  };
  auto f32 = [&](double v) -> Value {
    return arith::ConstantOp::create(rw, loc, rw.getF32FloatAttr(v));
  };
  Value zeroIdx = idx(0);
  Value bk = arith::AddIOp::create(
      rw, loc, arith::MulIOp::create(rw, loc, bat, idx(c.Hkv)), kvh);
  Value counter = bk;
  Value zeroCount = arith::ConstantOp::create(rw, loc, rw.getI32IntegerAttr(0));
  Value isFirst =
      arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq, tid, zeroIdx);
  // The count before the block's, shared through `stats`.
  auto arrive = [&](Value at) -> Value {
    return arriveBlock(rw, loc, plan.counters, at, isFirst, stats,
                       ValueRange{zeroIdx});
  };
  Value arrived = arrive(counter);
  Value last = arith::CmpFOp::create(rw, loc, arith::CmpFPredicate::OEQ,
                                     arrived, f32(double(nSplit - 1)));
  // Uniform over the block (one shared value): the barriers inside are
  // reached by all of its threads or none.
  auto lastIf = scf::IfOp::create(rw, loc, last, false);
  OpBuilder::InsertionGuard guard(rw);
  rw.setInsertionPointToStart(lastIf.thenBlock());
  Value warp = arith::DivUIOp::create(rw, loc, tid, idx(kWarp));
  Value lane = arith::RemUIOp::create(rw, loc, tid, idx(kWarp));
  Value zero = f32(0);
  Value negInf = f32(-std::numeric_limits<double>::infinity());
  Value bkSplits = arith::MulIOp::create(rw, loc, bk, idx(nSplit));
  int64_t statsBase = c.B * c.Hkv * nSplit * G * c.Dv;
  int64_t sumBase = statsBase + c.B * c.Hkv * nSplit * G;
  // Row of chunk s of head g (of this kv head) in the workspace.
  auto rowOf = [&](Value s, Value g) -> Value {
    return arith::AddIOp::create(
        rw, loc,
        arith::MulIOp::create(rw, loc,
                              arith::AddIOp::create(rw, loc, bkSplits, s),
                              idx(G)),
        g);
  };
  // Where the combined value of (b, h, e) waits with `deferOutput`.
  auto outAt = [&](Value b, Value h, Value e) -> Value {
    Value row = arith::AddIOp::create(
        rw, loc, arith::MulIOp::create(rw, loc, b, idx(c.Hq)), h);
    return arith::AddIOp::create(
        rw, loc,
        arith::AddIOp::create(rw, loc,
                              arith::MulIOp::create(rw, loc, row, idx(c.Dv)),
                              e),
        idx(plan.outBase));
  };
  // 1. The chunk weights of head g by warp g % kSplitWarps, lane s taking
  // chunk s (as warp 0 of the former combine launch), to
  // tile[g * nSplit + s].
  for (int64_t g = 0; g < G; ++g) {
    Value mine = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq, warp,
                                       idx(g % kSplitWarps));
    auto ifOp = scf::IfOp::create(rw, loc, mine, false);
    OpBuilder::InsertionGuard g2(rw);
    rw.setInsertionPointToStart(ifOp.thenBlock());
    Value h = arith::AddIOp::create(
        rw, loc, arith::MulIOp::create(rw, loc, kvh, idx(G)), idx(g));
    SmallVector<Value> ivs{bat, h, zeroIdx, zeroIdx, kvh};
    Value own = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, lane,
                                      idx(nSplit));
    Value s = arith::MinUIOp::create(rw, loc, lane, idx(nSplit - 1));
    Value row = rowOf(s, idx(g));
    Value m = memref::LoadOp::create(
        rw, loc, ws,
        ValueRange{arith::AddIOp::create(rw, loc, row, idx(statsBase))});
    Value l = memref::LoadOp::create(
        rw, loc, ws,
        ValueRange{arith::AddIOp::create(rw, loc, row, idx(sumBase))});
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
    memref::StoreOp::create(
        rw, loc, w, tile,
        ValueRange{arith::AddIOp::create(rw, loc, lane, idx(g * nSplit))});
  }
  gpu::BarrierOp::create(rw, loc);
  // 2. The outputs of the G heads: a thread per `vec` value columns of a
  // head, the chunks' partials loaded together (16-byte vectors where the
  // columns allow), added in chunk order.
  int64_t vec = c.Dv % 4 == 0 && knownBaseAlignment(ws) >= 16 ? 4 : 1;
  int64_t groups = c.Dv / vec;
  {
    auto loop =
        scf::ForOp::create(rw, loc, tid, idx(G * groups), idx(kSplitThreads));
    OpBuilder::InsertionGuard g2(rw);
    rw.setInsertionPointToStart(loop.getBody());
    Value i = loop.getInductionVar();
    Value g = arith::DivUIOp::create(rw, loc, i, idx(groups));
    Value e0 = arith::MulIOp::create(
        rw, loc, arith::RemUIOp::create(rw, loc, i, idx(groups)), idx(vec));
    Value h = arith::AddIOp::create(
        rw, loc, arith::MulIOp::create(rw, loc, kvh, idx(G)), g);
    SmallVector<SmallVector<Value>> os(nSplit);
    for (int64_t s = 0; s < nSplit; ++s) {
      Value at = arith::AddIOp::create(
          rw, loc,
          arith::MulIOp::create(rw, loc, rowOf(idx(s), g), idx(c.Dv)), e0);
      if (vec > 1) {
        Value v = vector::LoadOp::create(
            rw, loc, VectorType::get({vec}, rw.getF32Type()), ws,
            ValueRange{at}, /*nontemporal=*/false, llvm::MaybeAlign(16));
        for (int64_t k = 0; k < vec; ++k)
          os[s].push_back(vector::ExtractOp::create(rw, loc, v, k));
      } else {
        os[s].push_back(memref::LoadOp::create(rw, loc, ws, ValueRange{at}));
      }
    }
    SmallVector<Value> ws8;
    Value wBase = arith::MulIOp::create(rw, loc, g, idx(nSplit));
    for (int64_t s = 0; s < nSplit; ++s)
      ws8.push_back(memref::LoadOp::create(
          rw, loc, tile,
          ValueRange{arith::AddIOp::create(rw, loc, wBase, idx(s))}));
    for (int64_t k = 0; k < vec; ++k) {
      Value e = arith::AddIOp::create(rw, loc, e0, idx(k));
      Value y = c.outFill.value();
      for (int64_t s = 0; s < nSplit; ++s)
        y = arith::AddFOp::create(
            rw, loc, y, arith::MulFOp::create(rw, loc, ws8[s], os[s][k]));
      if (plan.deferOutput)
        memref::StoreOp::create(rw, loc, y, ws,
                                ValueRange{outAt(bat, h, e)});
      else
        storeOutput(rw, loc, c, outputArgs(rw, loc, c, ws, plan, y, bat, h, e),
                    bat, h, e);
    }
  }
  // 3. The counter back to 0 for the next launch (every block of this
  // (batch, kv head) has counted).
  {
    auto reset = scf::IfOp::create(rw, loc, isFirst, false);
    OpBuilder::InsertionGuard g2(rw);
    rw.setInsertionPointToStart(reset.thenBlock());
    memref::StoreOp::create(rw, loc, zeroCount, plan.counters,
                            ValueRange{counter});
  }
  if (!plan.deferOutput)
    return;
  // 4. The output may share bytes with what other kv heads' blocks read:
  // the combined values wait in the workspace for the last of these
  // blocks, which stores the outputs of every head once no block reads.
  Value done = idx(c.B * c.Hkv);
  Value heads = arrive(done);
  auto finalIf = scf::IfOp::create(
      rw, loc,
      arith::CmpFOp::create(rw, loc, arith::CmpFPredicate::OEQ, heads,
                            f32(double(c.B * c.Hkv - 1))),
      false);
  rw.setInsertionPointToStart(finalIf.thenBlock());
  {
    // Up to 8 elements a thread at once: their loads, then their stores.
    int64_t n = c.B * c.Hq * c.Dv;
    int64_t batch = 1;
    while (batch < 8 && n % (kSplitThreads * batch * 2) == 0)
      batch *= 2;
    auto loop =
        scf::ForOp::create(rw, loc, tid, idx(n), idx(kSplitThreads * batch));
    OpBuilder::InsertionGuard g2(rw);
    rw.setInsertionPointToStart(loop.getBody());
    SmallVector<std::array<Value, 3>> at;
    SmallVector<SmallVector<Value>> args;
    for (int64_t u = 0; u < batch; ++u) {
      Value i = arith::AddIOp::create(rw, loc, loop.getInductionVar(),
                                      idx(u * kSplitThreads));
      Value e = arith::RemUIOp::create(rw, loc, i, idx(c.Dv));
      Value row = arith::DivUIOp::create(rw, loc, i, idx(c.Dv));
      Value h = arith::RemUIOp::create(rw, loc, row, idx(c.Hq));
      Value b = arith::DivUIOp::create(rw, loc, row, idx(c.Hq));
      Value y =
          memref::LoadOp::create(rw, loc, ws, ValueRange{outAt(b, h, e)});
      at.push_back({b, h, e});
      args.push_back(outputArgs(rw, loc, c, ws, plan, y, b, h, e));
    }
    for (int64_t u = 0; u < batch; ++u)
      storeOutput(rw, loc, c, args[u], at[u][0], at[u][1], at[u][2]);
  }
  auto reset = scf::IfOp::create(rw, loc, isFirst, false);
  rw.setInsertionPointToStart(reset.thenBlock());
  memref::StoreOp::create(rw, loc, zeroCount, plan.counters,
                          ValueRange{done});
}

} // namespace sinter::cuda::attention
