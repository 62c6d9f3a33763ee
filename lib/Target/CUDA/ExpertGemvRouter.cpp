//===- ExpertGemvRouter.cpp - the MoE router folded into the up projection ===//
//
// At one token the router (the top k of E logits and the softmax of the
// picks, MoeRouter.cpp) is a launch of one 32-thread block whose only
// reader that matters is the next kernel: the experts' up projection,
// which needs slot j's expert index before its first weight load. As a
// launch of its own it costs a launch and a round trip through memory for
// no bytes (bench8 decode: 4.4 us a layer under ncu, H100). Folded, every
// warp of every block of the up projection selects the picks itself from
// the logits (E <= 1024: 32 keys a lane at most), as the router template
// does (MoeRouter.h's keys, so ties go to the lower index as ONNX TopK's;
// for bf16 logits narrowed to 32 bits, the value's 16 bits above the
// column's), with the warp's max taken by `redux.sync` (of each half of a
// 64-bit key: two instructions a round, one for a 32-bit key, instead of
// ten shuffles): no shared memory, no barrier. x's loads for the block's
// copy are issued before the rounds. A block of slot j needs rounds 0..j only, so it stops there and
// starts its weight loads; the last block (slot J - 1 = k - 1) runs all k
// rounds and stores the router's weights and indices, which the down
// projection (a later kernel) reads.
//
// Refused (reason returned) unless the router's results can move to the
// up projection's kernel: one token row, the indices read by an expert
// GEMV without the weighted sum (the down projection's combine reads the
// weights), no op between the router and the kernel touching the weights
// or indices or writing the logits, and no buffer the kernel writes
// sharing bytes with one it reads.
//
//===----------------------------------------------------------------------===//

#include "ExpertGemv.h"
#include "GemmBuffers.h"
#include "MoeRouter.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;

namespace sinter::cuda::expert_gemv {

int64_t smVersion(StringRef arch) {
  int64_t v = 0;
  if (!arch.consume_front("sm_"))
    return 0;
  arch = arch.take_while([](char c) { return c >= '0' && c <= '9'; });
  return arch.getAsInteger(10, v) ? 0 : v;
}

namespace {

/// The view the expert GEMV reads the indices through: `v` or a
/// collapse_shape of it.
Value indicesSource(Value v) {
  if (auto c = v.getDefiningOp<memref::CollapseShapeOp>())
    return c.getSrc();
  return v;
}

/// The key of a bf16 logit in 32 bits: the high half of the router's
/// key's value bits (a widened bf16's low 16 bits are zero: equal values
/// stay equal, order kept), the column's complement below. One redux a
/// round instead of two.
Value narrowKey(OpBuilder &b, Location l, Value key64) {
  Type i32 = b.getI32Type(), i64 = b.getI64Type();
  Value hi = arith::TruncIOp::create(
      b, l, i32,
      arith::ShRUIOp::create(b, l, key64,
                             arith::ConstantIntOp::create(b, l, i64, 32)));
  Value lo = arith::TruncIOp::create(b, l, i32, key64);
  return arith::OrIOp::create(
      b, l,
      arith::AndIOp::create(
          b, l, hi, arith::ConstantIntOp::create(b, l, i32, int64_t(int32_t(0xFFFF0000u)))),
      arith::AndIOp::create(b, l, lo,
                            arith::ConstantIntOp::create(b, l, i32, 0xFFFF)));
}

/// The value (f32) and column (i32) of a narrow key.
std::pair<Value, Value> fromNarrowKey(OpBuilder &b, Location l, Value key) {
  Type i32 = b.getI32Type(), i64 = b.getI64Type();
  auto c32 = [&](uint32_t x) -> Value {
    return arith::ConstantIntOp::create(b, l, i32, int64_t(int32_t(x)));
  };
  // The router's key with the low value bits 0 and the column's high
  // complement bits 1; a negative value's low bits come back set: cleared.
  Value key64 = arith::OrIOp::create(
      b, l,
      arith::ShLIOp::create(
          b, l,
          arith::ExtUIOp::create(b, l, i64,
                                 arith::AndIOp::create(b, l, key, c32(0xFFFF0000u))),
          arith::ConstantIntOp::create(b, l, i64, 32)),
      arith::ExtUIOp::create(b, l, i64,
                             arith::OrIOp::create(b, l, key, c32(0xFFFF0000u))));
  auto [v, col] = moe_router::fromKey(b, l, key64);
  Value bits = arith::AndIOp::create(
      b, l, arith::BitcastOp::create(b, l, i32, v), c32(0xFFFF0000u));
  return {arith::BitcastOp::create(b, l, b.getF32Type(), bits), col};
}

} // namespace

std::string matchRouterFold(linalg::GenericOp router, ExpertMatch &m, Plan &p,
                            const KernelOptions &options) {
  auto marker = router->getAttrOfType<IntegerAttr>(moe_router::kMarker);
  if (!marker)
    return "not a lowered sinter.moe_router";
  if (!router.hasPureBufferSemantics() || router.getNumDpsInputs() != 1 ||
      router.getNumDpsInits() != 2)
    return "the router is not bufferized to logits -> (weights, indices)";
  if (smVersion(options.gpuArch) < 80)
    return "the warp max is redux.sync, sm_80 or later (" + options.gpuArch +
           ")";
  Value logits = router.getDpsInputs()[0];
  Value weights = router.getDpsInits()[0], indices = router.getDpsInits()[1];
  auto xTy = dyn_cast<MemRefType>(logits.getType());
  auto wTy = dyn_cast<MemRefType>(weights.getType());
  auto iTy = dyn_cast<MemRefType>(indices.getType());
  if (!xTy || !wTy || !iTy || !xTy.hasStaticShape() || !wTy.hasStaticShape() ||
      !iTy.hasStaticShape() || !iTy.getLayout().isIdentity())
    return "the router's buffers are not static (identity-layout indices)";
  int64_t k = marker.getInt(), e = xTy.getShape().back();
  if (llvm::any_of(xTy.getShape().drop_back(), [](int64_t d) { return d != 1; }))
    return "more than one token row: the fold is the decode step's";
  if (wTy.getShape().back() != k || iTy.getShape().back() != k ||
      wTy.getNumElements() != k || iTy.getNumElements() != k)
    return "the result buffers are not one row of k";
  Type xElt = xTy.getElementType(), wElt = wTy.getElementType();
  if (!(xElt.isF32() || xElt.isF16() || xElt.isBF16()) ||
      !(wElt.isF32() || wElt.isF16() || wElt.isBF16()) ||
      !iTy.getElementType().isInteger(64))
    return "element types other than f32/f16/bf16 logits and weights and "
           "i64 indices";
  if (k < 1 || k > 32 || e > 32 * 32 || k > e)
    return "k = " + std::to_string(k) + " over " + std::to_string(e) +
           " logits (a warp holds at most 1024 and 32 picks)";

  // The first expert contraction after the router reading the indices.
  linalg::GenericOp g;
  for (Operation *o = router->getNextNode(); o && !g; o = o->getNextNode())
    if (auto gg = dyn_cast<linalg::GenericOp>(o))
      if (gg.getNumDpsInputs() == 2 &&
          indicesSource(gg.getDpsInputs()[1]) == indices)
        g = gg;
  if (!g)
    return "no generic after the router reads its indices as expert indices";
  std::string why = matchExpert(g, m);
  if (!why.empty())
    return "the indices' first reader: " + why;
  matchFusions(m);
  if (m.combine)
    return "the indices' first reader sums over the experts with the "
           "router's weights, which the folded router writes";
  p = plan(m, options);
  if (m.j != k)
    return "the expert GEMV's J is not the router's k";
  if (p.threads % 32)
    return "a block is not whole warps";

  // The router's work moves to the kernel, at its last fused op: ops in
  // between may not write the logits nor touch the router's results.
  Operation *last = m.epilogue ? m.epilogue.getOperation() : m.op.getOperation();
  llvm::SmallPtrSet<Operation *, 4> fused{m.op, m.fill};
  if (m.epilogue)
    fused.insert(m.epilogue);
  if (!quietBetween(router, last, {logits}, {weights, indices}, fused))
    return "an op between the router and the expert GEMV writes the logits "
           "or touches the router's results";
  // All blocks read the logits and x while one writes the router's
  // results and each its own outputs.
  Value out = m.epilogue ? m.epilogue.getDpsInits()[0] : m.acc;
  SmallVector<Value> reads{logits, m.weight};
  if (m.prologue)
    llvm::append_range(reads, m.prologue.getDpsInputs());
  else
    reads.push_back(m.x);
  for (Value w : {weights, indices, out})
    for (Value r : reads)
      if (isa<MemRefType>(r.getType()) && mayAliasViewSources(w, r))
        return "a buffer the kernel writes may share bytes with one it "
               "reads";
  if (mayAliasViewSources(weights, indices) ||
      mayAliasViewSources(weights, out) || mayAliasViewSources(indices, out))
    return "the router's results may share bytes with each other or the "
           "kernel's output";
  m.router = router;
  m.logits = logits;
  m.routerWeights = weights;
  m.routerIndices = indices;
  m.routerK = k;
  return "";
}

/// Every warp selects rounds 0..j itself (j is the block's slot, uniform
/// in the block); the thread keeps round j's pick. The last block also
/// stores the router's results (its slot is k - 1: all k rounds).
Value Builder::routerPick(Value j, Value bid) {
  Type f32 = rw.getF32Type(), i32 = rw.getI32Type(), i64 = rw.getI64Type();
  auto xTy = cast<MemRefType>(m.logits.getType());
  Type xElt = xTy.getElementType();
  int64_t e = xTy.getShape().back(), k = m.routerK;
  Value lane = arith::RemUIOp::create(rw, loc, tid, idx(32));
  SmallVector<Value> row(xTy.getRank() - 1, idx(0));

  // The lane's logits lane, lane + 32, ...; then x's loads for the copy
  // (in flight during the rounds); then the keys, 0 (below every
  // element's) past the row's end.
  // bf16 logits: 32-bit keys (narrowKey).
  bool narrow = xElt.isBF16();
  Type keyTy = narrow ? i32 : i64;
  auto fromAnyKey = [&](OpBuilder &b, Location l, Value key) {
    return narrow ? fromNarrowKey(b, l, key) : moe_router::fromKey(b, l, key);
  };
  Value zeroKey = arith::ConstantIntOp::create(rw, loc, keyTy, 0);
  SmallVector<Value> keys;
  SmallVector<moe_router::LaneLogit> lanes =
      moe_router::loadLaneLogits(rw, loc, m.logits, row, lane, e);
  preloadX(j);
  for (auto [v, col, ok] : lanes) {
    if (!xElt.isF32())
      v = arith::ExtFOp::create(rw, loc, f32, v);
    Value key = moe_router::selectionKey(
        rw, loc, v, arith::IndexCastOp::create(rw, loc, i32, col));
    if (narrow)
      key = narrowKey(rw, loc, key);
    if (ok)
      key = arith::SelectOp::create(rw, loc, ok, key, zeroKey);
    keys.push_back(key);
  }

  Value zeroF = arith::ConstantOp::create(rw, loc, rw.getF32FloatAttr(0));
  Value lane32 = arith::IndexCastOp::create(rw, loc, i32, lane);
  Value allOnes = arith::ConstantIntOp::create(rw, loc, keyTy, -1);
  Value rounds = arith::AddIOp::create(rw, loc, j, idx(1));
  auto loop = scf::ForOp::create(
      rw, loc, idx(0), rounds, idx(1),
      ValueRange{allOnes, zeroF, zeroF, zeroKey},
      [&](OpBuilder &b, Location l, Value r, ValueRange it) {
        // The largest key below the previous pick (below all ones first).
        Value prev = it[0];
        Value best = moe_router::bestKeyBelow(b, l, keys, prev, zeroKey);
        // The warp's max: of the high halves, then of the low halves of
        // the lanes holding that high half.
        Value c32i64 = arith::ConstantIntOp::create(b, l, i64, 32);
        Value mask = arith::ConstantIntOp::create(b, l, i32, -1);
        auto umax = [&](Value v) -> Value {
          return NVVM::ReduxOp::create(b, l, i32, v, NVVM::ReduxKind::UMAX,
                                       mask);
        };
        if (narrow) {
          best = umax(best);
        } else {
          Value hi = arith::TruncIOp::create(
              b, l, i32, arith::ShRUIOp::create(b, l, best, c32i64));
          Value lo = arith::TruncIOp::create(b, l, i32, best);
          Value hiMax = umax(hi);
          Value top = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq,
                                            hi, hiMax);
          Value loMax = umax(arith::SelectOp::create(
              b, l, top, lo, arith::ConstantIntOp::create(b, l, i32, 0)));
          best = arith::OrIOp::create(
              b, l,
              arith::ShLIOp::create(
                  b, l, arith::ExtUIOp::create(b, l, i64, hiMax), c32i64),
              arith::ExtUIOp::create(b, l, i64, loMax));
        }
        // The softmax of the picks as the router computes it: the first
        // pick is the max; exp(v - max) summed in pick order.
        Value v = fromAnyKey(b, l, best).first;
        Value round0 =
            arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, r, idx(0));
        Value v0 = arith::SelectOp::create(b, l, round0, v, it[1]);
        Value sum = arith::AddFOp::create(
            b, l, it[2],
            math::ExpOp::create(b, l, arith::SubFOp::create(b, l, v, v0)));
        Value mine = arith::CmpIOp::create(
            b, l, arith::CmpIPredicate::eq,
            arith::IndexCastOp::create(b, l, i32, r), lane32);
        scf::YieldOp::create(
            b, l,
            ValueRange{best, v0, sum,
                       arith::SelectOp::create(b, l, mine, best, it[3])});
      });

  // The last block's first k threads store the router's results: lane p
  // its round p's pick.
  Value writer = arith::AndIOp::create(
      rw, loc,
      arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq, bid,
                            idx(p.grid - 1)),
      arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, tid, idx(k)));
  auto store = scf::IfOp::create(rw, loc, writer, /*withElse=*/false);
  rw.setInsertionPointToStart(store.thenBlock());
  {
    auto [myV, myCol] = fromAnyKey(rw, loc, loop.getResult(3));
    Value w = arith::DivFOp::create(
        rw, loc,
        math::ExpOp::create(
            rw, loc, arith::SubFOp::create(rw, loc, myV, loop.getResult(1))),
        loop.getResult(2));
    Type wElt = cast<MemRefType>(m.routerWeights.getType()).getElementType();
    if (!wElt.isF32())
      w = arith::TruncFOp::create(rw, loc, wElt, w);
    auto at = [&](Value buffer) {
      SmallVector<Value> a(cast<MemRefType>(buffer.getType()).getRank() - 1,
                           idx(0));
      a.push_back(tid);
      return a;
    };
    memref::StoreOp::create(rw, loc, w, m.routerWeights, at(m.routerWeights));
    memref::StoreOp::create(rw, loc,
                            arith::ExtUIOp::create(rw, loc, i64, myCol),
                            m.routerIndices, at(m.routerIndices));
  }
  rw.setInsertionPointAfter(store);
  Value pick = fromAnyKey(rw, loc, loop.getResult(0)).second;
  return arith::ExtUIOp::create(rw, loc, i64, pick);
}

} // namespace sinter::cuda::expert_gemv
