//===- ExpertGemv.cpp - mixture-of-experts projections at M = 1 -----------===//
//
// A decode step's expert projections (sinter.expert_linear with the export's
// [E, K, N] weight, `weight_kn`) read J of E expert matrices selected by the
// router: bound by streaming those J matrices once. The bufferized form is
// a contraction over (t, j, n, k) whose body loads W[idx[t, j], k, n]
// (lib/Conversion/GraphToLinalg/ExpertLinear.cpp). This template takes it
// at T = 1 token:
//
//   - a block owns `cols` output columns (threads of a row read `vec`
//     N-contiguous elements each: 16-byte loads) and its `rows` row slots
//     walk K; the expert index is loaded in the kernel, so no gathered
//     copy of the weight exists;
//   - a thread's trips over K are issued in groups of `unroll` loads, the
//     next group's loads before the current group's FMAs (software
//     pipelining, straight-line code), and x is read from shared memory:
//     both keep several 16-byte loads in flight per thread, which ptxas
//     otherwise serializes;
//   - the row slots' partial sums meet in shared memory and are folded in
//     a fixed order (no atomics);
//   - fused when the buffers allow it (each is optional):
//       prologue  the elementwise op producing the per-slot input (the
//                 experts' act(gate) * up): its body is cloned on the
//                 elements of its inputs as the input is loaded;
//       epilogue  an elementwise op reading only the accumulator (the f32
//                 -> bf16 rounding): cloned before the store;
//       combine   the weighted sum over the J slots (a reduction over j of
//                 the accumulator and the routing weights): the block's
//                 row slots cover all J experts, and the sum over j runs in
//                 slot order in the block, cloning the combine's body, so
//                 the result is written once with no float atomics;
//                 or, split over blocks (Plan::splits), each block's
//                 experts' sums go to a workspace and the last block of
//                 the column tile (an arrival counter) runs that fold (or,
//                 the experimental form expert-cluster-combine, the tile's
//                 blocks are a thread-block cluster and its rank 0 folds
//                 from their shared memory: Plan::cluster);
//       router    the MoE router whose indices the up projection reads:
//                 each block selects its expert itself (offered the
//                 router's generic, ExpertGemvRouter.cpp).
//
// The scalar arithmetic is always the matched bodies' (cloned), never a
// formula of this file. Refusals return the reason in `why`.
//
// The parts: the match, its fusions and the plan (ExpertGemvMatch.cpp), a
// thread's walk over K (ExpertGemvWalk.cpp), the shared expert folded into
// the routed block's kernel (ExpertGemvShared.cpp), the router folded into
// the up projection's (ExpertGemvRouter.cpp); what they share is in
// ExpertGemv.h. This file builds the launch, folds the row slots, stores
// (through the epilogue or the combine) and is the entry point.
//
//===----------------------------------------------------------------------===//

#include "ExpertGemv.h"
#include "GemmBuffers.h"
#include "MoeRouter.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace sinter::cuda::expert_gemv {

void Builder::build() {
  Value one = idx(1);
  auto space = gpu::AddressSpaceAttr::get(rw.getContext(),
                                          gpu::AddressSpace::Workgroup);
  auto smemTy =
      MemRefType::get({p.rows, p.cols}, rw.getF32Type(), AffineMap(), space);
  SmallVector<Type> shared{smemTy};
  if (p.stageX)
    shared.push_back(MemRefType::get(
        {p.stagedRows * m.k},
        cast<MemRefType>(m.x.getType()).getElementType(), AffineMap(),
        space));
  if (m.shared) {
    shared.push_back(
        MemRefType::get({m.shared->k}, m.shared->accType, AffineMap(), space));
    shared.push_back(MemRefType::get(
        {p.sharedCols * p.sharedChunks / p.sharedWidth}, m.shared->accType,
        AffineMap(), space));
  }
  int64_t tiles = m.n / p.cols;
  // The split combine's column sums and arrival counters (module-wide
  // scratch: the expert kernels run one after the other; the counters are
  // left at zero).
  Value splitSums, counters;
  if (p.splits > 1 && !p.cluster) {
    splitSums = zeroWorkspace(rw, loc, m.op, MemRefType::get({m.j * m.n},
                                                        rw.getF32Type()),
                         llvm::formatv("sinter_expert_sums_{0}", m.j * m.n)
                             .str());
    counters = zeroWorkspace(
        rw, loc, m.op, MemRefType::get({tiles}, rw.getI32Type()),
        llvm::formatv("sinter_expert_arrivals_{0}", tiles).str());
  }
  Value clusterX = p.cluster ? idx(p.splits) : Value();
  auto launch = gpu::LaunchOp::create(
      rw, loc, idx(p.grid), one, one, idx(p.threads), one, one,
      /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
      /*asyncDependencies=*/{}, shared, /*privateAttributions=*/{}, clusterX,
      p.cluster ? one : Value(), p.cluster ? one : Value());
  // LaunchOp's builder adds the 12 id/size arguments only, while its
  // accessors (and the parser) expect 6 more for the cluster ids and sizes
  // after them when there is a cluster size: add those.
  if (p.cluster)
    for (unsigned i = 0; i < 6; ++i)
      launch.getBody().front().insertArgument(
          gpu::LaunchOp::kNumConfigRegionAttributes + i, rw.getIndexType(),
          loc);
  launch->setAttr(
      "sinter.kernel",
      rw.getStringAttr(llvm::formatv(
          "expert_gemv j={0} n={1} k={2} vec={3} cols={4} rows={5} "
          "threads={6} grid={7} unroll={8} groups={9} pipelined={10} "
          "staged_x={11} prologue={12} epilogue={13} combine={14}",
          m.j, m.n, m.k, p.vec, p.cols, p.rows, p.threads, p.grid, p.unroll,
          p.groups, p.pipelined, p.stageX, bool(m.prologue),
          bool(m.epilogue), bool(m.combine))));
  if (m.shared)
    launch->setAttr(
        "sinter.kernel",
        rw.getStringAttr(
            launch->getAttrOfType<StringAttr>("sinter.kernel").str() +
            llvm::formatv(" shared_down n={0} k={1} chunks={2} width={3} "
                          "passes={4}",
                          m.shared->n, m.shared->k, p.sharedChunks,
                          p.sharedWidth, p.sharedPasses)
                .str()));
  if (p.splits > 1)
    launch->setAttr(
        "sinter.kernel",
        rw.getStringAttr(
            launch->getAttrOfType<StringAttr>("sinter.kernel").str() +
            llvm::formatv(" splits={0}{1}", p.splits,
                          p.cluster ? " cluster" : "")
                .str()));
  if (m.router)
    launch->setAttr(
        "sinter.kernel",
        rw.getStringAttr(
            launch->getAttrOfType<StringAttr>("sinter.kernel").str() +
            llvm::formatv(" router experts={0} k={1}",
                          cast<MemRefType>(m.logits.getType()).getShape().back(),
                          m.routerK)
                .str()));
  Block &blk = launch.getBody().front();
  rw.setInsertionPointToStart(&blk);
  gpu::TerminatorOp::create(rw, loc);
  rw.setInsertionPointToStart(&blk);
  Value smem = launch.getWorkgroupAttributions()[0];
  if (p.stageX)
    xs = launch.getWorkgroupAttributions()[1];
  if (m.shared) {
    sharedX = launch.getWorkgroupAttributions()[p.stageX ? 2 : 1];
    sharedSums = launch.getWorkgroupAttributions()[p.stageX ? 3 : 2];
  }
  tid = launch.getThreadIds().x;
  Value bid = launch.getBlockIds().x;
  Value slot = arith::DivUIOp::create(rw, loc, tid, idx(p.rowThreads));
  Value q = arith::RemUIOp::create(rw, loc, tid, idx(p.rowThreads));
  // Which expert slot and which K rows this thread walks.
  Value j, tile, first, split;
  int64_t stride;
  if (m.combine) {
    tile = bid;
    j = arith::DivUIOp::create(rw, loc, slot, idx(p.slotsPerExpert));
    if (p.cluster) {
      // A tile's splits are consecutive blocks: one cluster, rank = split.
      split = arith::RemUIOp::create(rw, loc, bid, idx(p.splits));
      tile = arith::DivUIOp::create(rw, loc, bid, idx(p.splits));
      splitBase = arith::MulIOp::create(rw, loc, split, idx(m.j / p.splits));
      j = arith::AddIOp::create(rw, loc, j, splitBase);
    } else if (p.splits > 1) {
      split = arith::DivUIOp::create(rw, loc, bid, idx(tiles));
      tile = arith::RemUIOp::create(rw, loc, bid, idx(tiles));
      splitBase = arith::MulIOp::create(rw, loc, split, idx(m.j / p.splits));
      j = arith::AddIOp::create(rw, loc, j, splitBase);
    }
    first = arith::RemUIOp::create(rw, loc, slot, idx(p.slotsPerExpert));
    stride = p.slotsPerExpert;
  } else {
    j = arith::DivUIOp::create(rw, loc, bid, idx(tiles));
    tile = arith::RemUIOp::create(rw, loc, bid, idx(tiles));
    first = slot;
    stride = p.rows;
  }
  Value colBase = arith::MulIOp::create(rw, loc, tile, idx(p.cols));
  // The shared expert's rows of this block: the tile's, or its split's
  // part of them.
  Value sharedBase = colBase;
  if (split)
    sharedBase = arith::AddIOp::create(
        rw, loc, colBase, arith::MulIOp::create(rw, loc, split,
                                                idx(p.sharedCols)));
  Value n0 = arith::AddIOp::create(
      rw, loc, colBase, arith::MulIOp::create(rw, loc, q, idx(p.vec)));

  // The expert: the body's index computation on the loaded index.
  // (slot j's pick of the router when it is folded, ExpertGemvRouter.cpp).
  IRMapping eMap;
  eMap.map(m.argIdx,
           m.router ? routerPick(j, bid)
                    : memref::LoadOp::create(rw, loc, m.idx,
                                             ValueRange{idx(0), j})
                          .getResult());
  Value expert = cloneValue(rw, m.expert, m.body, eMap);
  if (m.shared)
    issueSharedLoads(sharedBase);
  SmallVector<Value> sums = accumulate(expert, j, n0, first, stride);
  if (m.shared)
    stageSharedX();
  // The combine's other operands (the routing weights) of this thread's
  // column (tid mod cols: the writer's own for tid < cols), loaded now so
  // that their latency passes during the folds below rather than after
  // them; the accumulators are dead by now, so they cost no registers
  // held over the loop.
  SmallVector<SmallVector<Value>> combineIn;
  if (m.combine) {
    Value colP = arith::AddIOp::create(
        rw, loc, colBase, arith::RemUIOp::create(rw, loc, tid, idx(p.cols)));
    AffineMap accMap = m.combine.getIndexingMapsArray()[m.combineAccInput];
    for (int64_t e = 0; e < m.j; ++e) {
      SmallVector<Value> it =
          iterationOf(rw, loc, m.combine, accMap, {idx(0), idx(e), colP});
      auto &ins = combineIn.emplace_back();
      for (OpOperand *in : m.combine.getDpsInputOperands())
        ins.push_back(int64_t(in->getOperandNumber()) == m.combineAccInput
                          ? Value()
                          : memref::LoadOp::create(
                                rw, loc, in->get(),
                                applyMap(rw, loc,
                                         m.combine.getMatchingIndexingMap(in),
                                         it))
                                .getResult());
    }
  }

  // Partial sums to shared memory (row = slot), then folded in a fixed
  // order (no atomics): each fold adds `f` consecutive rows of a column
  // into one, never across two experts' rows, with all threads busy.
  for (int64_t c = 0; c < p.vec; ++c)
    memref::StoreOp::create(
        rw, loc, sums[c], smem,
        ValueRange{slot, arith::AddIOp::create(
                             rw, loc,
                             arith::MulIOp::create(rw, loc, q, idx(p.vec)),
                             idx(c))});
  gpu::BarrierOp::create(rw, loc);
  if (m.shared)
    sumSharedChunks();
  int64_t groupRows = m.combine ? p.slotsPerExpert : p.rows;
  int64_t rows = p.rows;
  while (groupRows > 1) {
    int64_t f = std::min<int64_t>(8, groupRows);
    if ((rows / f) * p.cols > p.threads)
      break; // the last thread per column adds what is left
    int64_t active = (rows / f) * p.cols;
    Value c1 = arith::RemUIOp::create(rw, loc, tid, idx(p.cols));
    Value h = arith::DivUIOp::create(rw, loc, tid, idx(p.cols));
    Value r0 = arith::MulIOp::create(rw, loc, h, idx(f));
    auto act = scf::IfOp::create(
        rw, loc, TypeRange{rw.getF32Type()},
        arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, tid,
                              idx(active)),
        /*addThenBlock=*/true, /*addElseBlock=*/true);
    rw.setInsertionPointToStart(act.thenBlock());
    Value s = memref::LoadOp::create(rw, loc, smem, ValueRange{r0, c1});
    for (int64_t r = 1; r < f; ++r)
      s = arith::AddFOp::create(
          rw, loc, s,
          memref::LoadOp::create(
              rw, loc, smem,
              ValueRange{arith::AddIOp::create(rw, loc, r0, idx(r)), c1}));
    scf::YieldOp::create(rw, loc, s);
    rw.setInsertionPointToStart(act.elseBlock());
    scf::YieldOp::create(
        rw, loc,
        arith::ConstantOp::create(rw, loc,
                                  rw.getFloatAttr(rw.getF32Type(), 0))
            .getResult());
    rw.setInsertionPointAfter(act);
    gpu::BarrierOp::create(rw, loc);
    auto st = scf::IfOp::create(
        rw, loc,
        arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, tid,
                              idx(active)),
        /*withElseRegion=*/false);
    rw.setInsertionPointToStart(st.thenBlock());
    memref::StoreOp::create(rw, loc, act.getResult(0), smem,
                            ValueRange{h, c1});
    rw.setInsertionPointAfter(st);
    gpu::BarrierOp::create(rw, loc);
    rows /= f;
    groupRows /= f;
  }
  if (m.shared)
    gpu::BarrierOp::create(rw, loc); // the segment sums
  Value isWriter = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult,
                                         tid, idx(p.cols));
  Value col = arith::AddIOp::create(rw, loc, colBase, tid);
  auto wr = scf::IfOp::create(rw, loc, isWriter, /*withElse=*/false);
  rw.setInsertionPointToStart(wr.thenBlock());
  Value init = m.fill.getInputs()[0];
  // init + the folded rows [from, from + count) of this column.
  auto sumRows = [&](int64_t from, int64_t count) {
    Value s = memref::LoadOp::create(rw, loc, smem, ValueRange{idx(from), tid});
    for (int64_t r = from + 1; r < from + count; ++r)
      s = arith::AddFOp::create(
          rw, loc, s,
          memref::LoadOp::create(rw, loc, smem, ValueRange{idx(r), tid}));
    return arith::AddFOp::create(rw, loc, init, s).getResult();
  };
  // A split block's share of the shared expert's rows (its first
  // `sharedCols` threads), after the writers' if.
  auto storeSplitShared = [&] {
    if (!m.shared)
      return;
    auto sw = scf::IfOp::create(rw, loc,
                                arith::CmpIOp::create(rw, loc,
                                                      arith::CmpIPredicate::ult,
                                                      tid, idx(p.sharedCols)),
                                /*withElse=*/false);
    rw.setInsertionPointToStart(sw.thenBlock());
    storeShared(sharedBase);
    rw.setInsertionPointAfter(sw);
  };
  if (!m.combine) {
    Value v = sumRows(0, groupRows);
    storeResult(j, col, v);
  } else if (p.splits == 1) {
    storeCombined(
        col, [&](int64_t e) { return sumRows(e * groupRows, groupRows); },
        combineIn);
    if (m.shared)
      storeShared(sharedBase);
  } else if (p.cluster) {
    // One expert a block: its column sums stay in row 0 of the fold's
    // shared memory (only this column's writer reads or writes it here),
    // then the shared rows; after a cluster barrier rank 0 reads the J
    // sums of its columns from the cluster's blocks (rank e holds expert
    // e), a second barrier keeps every block (and its shared memory)
    // alive until those reads are done, and rank 0 folds in slot order.
    memref::StoreOp::create(rw, loc, sumRows(0, groupRows), smem,
                            ValueRange{idx(0), tid});
    rw.setInsertionPointAfter(wr);
    storeSplitShared();
    clusterBarrier(rw, loc);
    Value folds = arith::AndIOp::create(
        rw, loc, isWriter,
        arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq, split,
                              idx(0)));
    SmallVector<Type> f32s(m.j, rw.getF32Type());
    auto gather = scf::IfOp::create(rw, loc, f32s, folds,
                                    /*withElseRegion=*/true);
    rw.setInsertionPointToStart(gather.thenBlock());
    SmallVector<Value> remote;
    for (int64_t e = 0; e < m.j; ++e)
      remote.push_back(loadClusterF32(rw, loc, smem, tid, idx(e)));
    scf::YieldOp::create(rw, loc, remote);
    rw.setInsertionPointToStart(gather.elseBlock());
    Value zero =
        arith::ConstantOp::create(rw, loc, rw.getFloatAttr(rw.getF32Type(), 0));
    scf::YieldOp::create(rw, loc, SmallVector<Value>(m.j, zero));
    rw.setInsertionPointAfter(gather);
    clusterBarrier(rw, loc);
    auto fold = scf::IfOp::create(rw, loc, folds, /*withElse=*/false);
    rw.setInsertionPointToStart(fold.thenBlock());
    storeCombined(
        col, [&](int64_t e) { return gather.getResult(e); }, combineIn);
  } else {
    // This block's experts' column sums to the workspace, then the
    // shared rows; the last block of the tile folds all J.
    int64_t per = m.j / p.splits;
    for (int64_t e = 0; e < per; ++e) {
      Value at = arith::AddIOp::create(
          rw, loc,
          arith::MulIOp::create(
              rw, loc, arith::AddIOp::create(rw, loc, splitBase, idx(e)),
              idx(m.n)),
          col);
      memref::StoreOp::create(rw, loc, sumRows(e * groupRows, groupRows),
                              splitSums, ValueRange{at});
    }
    rw.setInsertionPointAfter(wr);
    storeSplitShared();
    // The block's arrival at its tile's counter; the count before it goes
    // through the (by then read) partial sums' first element.
    Value isFirst = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq,
                                          tid, idx(0));
    Value before = arriveBlock(rw, loc, counters, tile, isFirst, smem,
                               ValueRange{idx(0), idx(0)});
    Value last = arith::CmpFOp::create(
        rw, loc, arith::CmpFPredicate::OEQ, before,
        arith::ConstantOp::create(
            rw, loc, rw.getF32FloatAttr(float(p.splits - 1))));
    auto lastIf = scf::IfOp::create(
        rw, loc, arith::AndIOp::create(rw, loc, last, isWriter),
        /*withElse=*/false);
    rw.setInsertionPointToStart(lastIf.thenBlock());
    storeCombined(
        col,
        [&](int64_t e) -> Value {
          return memref::LoadOp::create(
              rw, loc, splitSums,
              ValueRange{arith::AddIOp::create(rw, loc, idx(e * m.n), col)});
        },
        combineIn);
    // The counter back to zero for the next launch (all of the tile's
    // blocks have counted); thread 0 is always a writer (cols >= 1).
    auto reset = scf::IfOp::create(rw, loc, isFirst, /*withElse=*/false);
    rw.setInsertionPointToStart(reset.thenBlock());
    memref::StoreOp::create(
        rw, loc, arith::ConstantOp::create(rw, loc, rw.getI32IntegerAttr(0)),
        counters, ValueRange{tile});
  }
  rw.setInsertionPointAfter(launch);
}

/// The accumulator element (0, j, col): through the epilogue, or as is.
void Builder::storeResult(Value j, Value col, Value v) {
  if (!m.epilogue) {
    memref::StoreOp::create(rw, loc, v, m.acc, ValueRange{idx(0), j, col});
    return;
  }
  linalg::GenericOp e = m.epilogue;
  Block *eb = e.getBody();
  AffineMap accMap = e.getIndexingMapsArray()[0];
  SmallVector<Value> it = iterationOf(rw, loc, e, accMap, {idx(0), j, col});
  IRMapping em;
  em.map(eb->getArgument(0), v);
  Value y = cloneValue(
      rw, cast<linalg::YieldOp>(eb->getTerminator()).getValues()[0], eb, em);
  OpOperand *outOp = e.getDpsInitOperand(0);
  memref::StoreOp::create(rw, loc, y, outOp->get(),
                          applyMap(rw, loc, e.getMatchingIndexingMap(outOp), it));
}

/// The combine's fold over the J experts in slot order (its body cloned),
/// stored at its output element of column `col`.
void Builder::storeCombined(Value col, function_ref<Value(int64_t)> sumOf,
                            ArrayRef<SmallVector<Value>> in) {
  Block *cb = m.combine.getBody();
  AffineMap accMap = m.combine.getIndexingMapsArray()[m.combineAccInput];
  Value run = m.combineFill.getInputs()[0];
  SmallVector<Value> it;
  for (int64_t e = 0; e < m.j; ++e) {
    Value v = sumOf(e);
    it = iterationOf(rw, loc, m.combine, accMap, {idx(0), idx(e), col});
    IRMapping cm;
    for (auto [n, operand] : llvm::enumerate(m.combine.getDpsInputOperands())) {
      Value arg = cb->getArgument(operand->getOperandNumber());
      cm.map(arg, int64_t(operand->getOperandNumber()) == m.combineAccInput
                      ? v
                      : in[e][n]);
    }
    cm.map(cb->getArgument(m.combine.getNumDpsInputs()), run);
    run = cloneValue(
        rw, cast<linalg::YieldOp>(cb->getTerminator()).getValues()[0], cb,
        cm);
  }
  OpOperand *outOp = m.combine.getDpsInitOperand(0);
  memref::StoreOp::create(
      rw, loc, run, outOp->get(),
      applyMap(rw, loc, m.combine.getMatchingIndexingMap(outOp), it));
}

} // namespace sinter::cuda::expert_gemv

namespace sinter::cuda {

using namespace expert_gemv;

LogicalResult emitExpertGemv(RewriterBase &rw, linalg::LinalgOp op,
                             const KernelOptions &options, std::string &why) {
  // The contraction is offered after its accumulator's fill (and after the
  // prologue): taken from the fill, so that no other template takes the
  // fill with the contraction.
  linalg::LinalgOp target = op;
  if (auto f = dyn_cast<linalg::FillOp>(op.getOperation()))
    if (auto g = dyn_cast_or_null<linalg::GenericOp>(
            nextUser(f, f.getDpsInits()[0])))
      target = g;
  ExpertMatch m;
  Plan p;
  if (op->hasAttr(moe_router::kMarker)) {
    // The router, offered before its own template: folded into the up
    // projection reading its indices, or left to MoeRouter.cpp.
    auto r = dyn_cast<linalg::GenericOp>(op.getOperation());
    why = r ? matchRouterFold(r, m, p, options) : "not a linalg.generic";
    if (!why.empty()) {
      why = "router fold: " + why;
      return failure();
    }
  } else if (!(why = matchExpert(target, m)).empty()) {
    // Not an expert GEMV: perhaps the shared expert beside one.
    auto g = dyn_cast<linalg::GenericOp>(target.getOperation());
    std::string sharedWhy = g ? matchSharedFold(g, m, p, options)
                              : std::string("not a linalg.generic");
    if (!sharedWhy.empty()) {
      why += "; as a shared expert: " + sharedWhy;
      return failure();
    }
    if (target != op && m.shared->initOp != op.getOperation()) {
      why = "the fill is not the shared GEMV's accumulator's";
      return failure();
    }
  } else {
    if (target != op && m.fill.getOperation() != op.getOperation()) {
      why = "the fill is not the accumulator's";
      return failure();
    }
    matchFusions(m);
    p = plan(m, options);
    if (m.combine && !p.slotsPerExpert) {
      m.combine = nullptr; // the slots of a block cannot cover all J experts
      p = plan(m, options);
    }
  }
  // At the last fused op: buffers it writes may be defined just before it.
  Operation *last = m.combine    ? m.combine.getOperation()
                    : m.epilogue ? m.epilogue.getOperation()
                                 : m.op.getOperation();
  rw.setInsertionPoint(last);
  Builder{rw, m.op.getLoc(), m, p, {}, {}, {}, {}, {}, {}, {}}.build();
  if (m.combine) {
    rw.eraseOp(m.combine);
    rw.eraseOp(m.combineFill);
  }
  if (m.epilogue)
    rw.eraseOp(m.epilogue);
  rw.eraseOp(m.op);
  rw.eraseOp(m.fill);
  if (m.prologue)
    rw.eraseOp(m.prologue);
  if (m.shared)
    eraseContraction(rw, *m.shared, /*fusedEpilogue=*/bool(m.shared->epilogue));
  if (m.router)
    rw.eraseOp(m.router);
  return success();
}

} // namespace sinter::cuda
