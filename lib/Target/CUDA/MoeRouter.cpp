//===- MoeRouter.cpp - the MoE router as one warp per token row -----------===//
//
// See Kernels.h. sinter.moe_router is lowered (ScanAndSort.cpp) to one
// linalg.generic marked `sinter.moe_router` that recomputes the k
// selection rounds for every result, which the generic mapping would run
// as a thread per (row, result) scanning the row k times. This template
// runs it as ONE launch, a warp per row (up to 4 rows a block): lane l holds the
// row's elements l, l + 32, ... (up to 32 of them: rows of at most 1024)
// in registers as 64-bit keys whose unsigned order is the selection order
// (ONNX TopK's: larger value first, NaN first, lower index on ties): the
// high half is the f32 value's bits made monotone (NaNs made one positive
// NaN, -0 made +0, so that equal values compare equal), the low half the
// complement of the column. Round r picks the largest key below round
// r-1's pick, each lane over its keys, then a max over the warp by an
// xor-shuffle butterfly (two 32-bit shuffles a step), so every lane has
// the pick. The softmax of the picks needs no second pass: the first pick
// is the row's maximum, and the sum of exp(v - max) is accumulated over
// the rounds in pick order (the CPU lowering's order). Lane p keeps round
// p's pick and stores index p and weight p of its row.
//
// The body of the generic is not cloned: its result is fixed by the op's
// definition, which this kernel computes. The launch reads the logits
// buffer and writes the two result buffers; it refuses when those may
// share bytes.
//
//===----------------------------------------------------------------------===//

#include "MoeRouter.h"
#include "GemmBuffers.h"
#include "Kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace sinter::cuda {
namespace moe_router {

Value selectionKey(OpBuilder &b, Location l, Value v, Value col) {
  Type i32 = b.getI32Type(), i64 = b.getI64Type();
  auto c32 = [&](uint32_t x) -> Value {
    return arith::ConstantIntOp::create(b, l, i32, int64_t(int32_t(x)));
  };
  Value u = arith::BitcastOp::create(b, l, i32, v);
  Value negZero = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, u,
                                        c32(0x80000000u));
  u = arith::SelectOp::create(b, l, negZero, c32(0), u);
  Value nan = arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO, v, v);
  u = arith::SelectOp::create(b, l, nan, c32(0x7FC00000u), u);
  // Negative values: all bits flipped; others: the sign bit set.
  Value mask = arith::OrIOp::create(
      b, l, arith::ShRSIOp::create(b, l, u, c32(31)), c32(0x80000000u));
  Value high = arith::ExtUIOp::create(b, l, i64,
                                      arith::XOrIOp::create(b, l, u, mask));
  Value low = arith::ExtUIOp::create(
      b, l, i64, arith::XOrIOp::create(b, l, col, c32(0xFFFFFFFFu)));
  return arith::OrIOp::create(
      b, l,
      arith::ShLIOp::create(b, l, high,
                            arith::ConstantIntOp::create(b, l, i64, 32)),
      low);
}

std::pair<Value, Value> fromKey(OpBuilder &b, Location l, Value key) {
  Type i32 = b.getI32Type(), i64 = b.getI64Type();
  auto c32 = [&](uint32_t x) -> Value {
    return arith::ConstantIntOp::create(b, l, i32, int64_t(int32_t(x)));
  };
  Value high = arith::TruncIOp::create(
      b, l, i32,
      arith::ShRUIOp::create(b, l, key,
                             arith::ConstantIntOp::create(b, l, i64, 32)));
  Value wasPositive = arith::CmpIOp::create(
      b, l, arith::CmpIPredicate::ne,
      arith::AndIOp::create(b, l, high, c32(0x80000000u)), c32(0));
  Value u = arith::SelectOp::create(
      b, l, wasPositive, arith::XOrIOp::create(b, l, high, c32(0x80000000u)),
      arith::XOrIOp::create(b, l, high, c32(0xFFFFFFFFu)));
  Value v = arith::BitcastOp::create(b, l, b.getF32Type(), u);
  Value col = arith::XOrIOp::create(b, l, arith::TruncIOp::create(b, l, i32, key),
                                    c32(0xFFFFFFFFu));
  return {v, col};
}

SmallVector<LaneLogit> loadLaneLogits(OpBuilder &b, Location l, Value logits,
                                      ValueRange rowIvs, Value lane,
                                      int64_t e) {
  Type elt = cast<MemRefType>(logits.getType()).getElementType();
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, l, v);
  };
  SmallVector<LaneLogit> out;
  for (int64_t t = 0; t < (e + 31) / 32; ++t) {
    Value col = arith::AddIOp::create(b, l, lane, idx(32 * t));
    SmallVector<Value> at(rowIvs);
    at.push_back(col);
    if (32 * (t + 1) <= e) {
      out.push_back({memref::LoadOp::create(b, l, logits, at), col, Value()});
      continue;
    }
    // The last, partial slot: lanes past the row's end load nothing.
    Value ok =
        arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult, col, idx(e));
    auto load = scf::IfOp::create(
        b, l, ok,
        [&](OpBuilder &tb, Location tl) {
          scf::YieldOp::create(
              tb, tl, ValueRange{memref::LoadOp::create(tb, tl, logits, at)});
        },
        [&](OpBuilder &eb, Location el) {
          Value z = arith::ConstantOp::create(eb, el, eb.getFloatAttr(elt, 0.0));
          scf::YieldOp::create(eb, el, ValueRange{z});
        });
    out.push_back({load.getResult(0), col, ok});
  }
  return out;
}

Value bestKeyBelow(OpBuilder &b, Location l, ArrayRef<Value> keys, Value prev,
                   Value zeroKey) {
  Value best = zeroKey;
  for (Value key : keys) {
    Value below =
        arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult, key, prev);
    best = arith::MaxUIOp::create(
        b, l, best, arith::SelectOp::create(b, l, below, key, zeroKey));
  }
  return best;
}

} // namespace moe_router

namespace {
constexpr int64_t kRowsPerBlock = 4;
} // namespace

using moe_router::fromKey;
using moe_router::kMarker;
using moe_router::selectionKey;

LogicalResult emitMoeRouter(RewriterBase &rw, linalg::LinalgOp op,
                            const KernelOptions &options, std::string &why) {
  (void)options;
  auto marker = op->getAttrOfType<IntegerAttr>(kMarker);
  if (!marker) {
    why = "not a lowered sinter.moe_router";
    return failure();
  }
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 1 ||
      op.getNumDpsInits() != 2) {
    why = "the router is not bufferized to logits -> (weights, indices)";
    return failure();
  }
  Value logits = op.getDpsInputs()[0];
  Value weights = op.getDpsInits()[0], indices = op.getDpsInits()[1];
  auto xType = dyn_cast<MemRefType>(logits.getType());
  auto wType = dyn_cast<MemRefType>(weights.getType());
  auto iType = dyn_cast<MemRefType>(indices.getType());
  if (!xType || !wType || !iType || !xType.hasStaticShape() ||
      !wType.hasStaticShape() || !iType.hasStaticShape()) {
    why = "the router's buffers are not statically shaped memrefs";
    return failure();
  }
  int64_t k = marker.getInt();
  int64_t e = xType.getShape().back();
  ArrayRef<int64_t> rowShape = xType.getShape().drop_back();
  SmallVector<int64_t> outShape(rowShape);
  outShape.push_back(k);
  if (wType.getShape() != ArrayRef<int64_t>(outShape) ||
      iType.getShape() != ArrayRef<int64_t>(outShape)) {
    why = "the result buffers are not the logits' rows by k";
    return failure();
  }
  Type xElt = xType.getElementType(), wElt = wType.getElementType();
  if (!(xElt.isF32() || xElt.isF16() || xElt.isBF16()) ||
      !(wElt.isF32() || wElt.isF16() || wElt.isBF16()) ||
      !iType.getElementType().isInteger(64)) {
    why = "element types other than f32/f16/bf16 logits and weights and "
          "i64 indices";
    return failure();
  }
  if (k < 1 || k > 32 || e > 32 * 32 || k > e) {
    why = "k = " + std::to_string(k) + " over rows of " + std::to_string(e) +
          " (a warp holds at most 1024 elements and 32 picks)";
    return failure();
  }
  // The logits are often a slice of a fused linear's output (a subview):
  // the whole sliced buffer stands for it, a superset of its bytes.
  Value logitsRoot = logits;
  while (auto sub = logitsRoot.getDefiningOp<memref::SubViewOp>())
    logitsRoot = sub.getSource();
  for (Value out : {weights, indices})
    if (mayAlias(out, logitsRoot)) {
      why = "a result buffer may share bytes with the logits";
      return failure();
    }
  if (mayAlias(weights, indices)) {
    why = "the weights and indices buffers may share bytes";
    return failure();
  }

  int64_t rowCount = 1;
  for (int64_t d : rowShape)
    rowCount *= d;
  int64_t rowsPerBlock = std::min<int64_t>(kRowsPerBlock, rowCount);
  int64_t blocks = (rowCount + rowsPerBlock - 1) / rowsPerBlock;
  int64_t slots = (e + 31) / 32;

  Location loc = op.getLoc();
  rw.setInsertionPoint(op);
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(rw, loc, v);
  };
  Value one = idx(1);
  auto launch = gpu::LaunchOp::create(
      rw, loc, idx(blocks), one, one, idx(32 * rowsPerBlock), one, one,
      /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
      /*asyncDependencies=*/{}, /*workgroupAttributions=*/TypeRange{});
  launch->setAttr("sinter.kernel",
                  rw.getStringAttr(llvm::formatv(
                      "moe_router rows={0} experts={1} k={2} slots={3}",
                      rowCount, e, k, slots)));
  Block &body = launch.getBody().front();
  rw.setInsertionPointToStart(&body);
  gpu::TerminatorOp::create(rw, loc);
  rw.setInsertionPointToStart(&body);

  Type f32 = rw.getF32Type(), i32 = rw.getI32Type(), i64 = rw.getI64Type();
  Value tid = launch.getThreadIds().x, bid = launch.getBlockIds().x;
  Value c32 = idx(32);
  Value row = arith::AddIOp::create(
      rw, loc, arith::MulIOp::create(rw, loc, bid, idx(rowsPerBlock)),
      arith::DivUIOp::create(rw, loc, tid, c32));
  Value lane = arith::RemUIOp::create(rw, loc, tid, c32);
  // The row is warp-uniform: a warp past the last row skips everything,
  // shuffles included.
  Value valid = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, row,
                                      idx(rowCount));
  auto guard = scf::IfOp::create(rw, loc, valid, false);
  rw.setInsertionPointToStart(guard.thenBlock());

  SmallVector<Value> rowIvs(rowShape.size());
  {
    Value rest = row;
    for (int d = int(rowShape.size()) - 1; d >= 0; --d) {
      rowIvs[d] = d > 0 ? arith::RemUIOp::create(rw, loc, rest,
                                                 idx(rowShape[d]))
                        : rest;
      if (d > 0)
        rest = arith::DivUIOp::create(rw, loc, rest, idx(rowShape[d]));
    }
  }

  // The lane's keys; 0 (below every element's) past the row's end.
  Value zeroKey = arith::ConstantIntOp::create(rw, loc, i64, 0);
  SmallVector<Value> keys;
  for (auto [v, col, ok] : moe_router::loadLaneLogits(rw, loc, logits, rowIvs, lane, e)) {
    if (!xElt.isF32())
      v = arith::ExtFOp::create(rw, loc, f32, v);
    Value key = selectionKey(rw, loc, v,
                             arith::IndexCastOp::create(rw, loc, i32, col));
    if (ok)
      key = arith::SelectOp::create(rw, loc, ok, key, zeroKey);
    keys.push_back(key);
  }

  Value zeroF = arith::ConstantOp::create(rw, loc, rw.getF32FloatAttr(0));
  Value lane32 = arith::IndexCastOp::create(rw, loc, i32, lane);
  Value allOnes = arith::ConstantIntOp::create(rw, loc, i64, -1);
  auto rounds = scf::ForOp::create(
      rw, loc, idx(0), idx(k), one,
      ValueRange{allOnes, zeroF, zeroF, zeroKey},
      [&](OpBuilder &b, Location l, Value r, ValueRange it) {
        // The largest key below the previous pick (below all ones first).
        Value prev = it[0];
        Value best = moe_router::bestKeyBelow(b, l, keys, prev, zeroKey);
        Value c32i64 = arith::ConstantIntOp::create(b, l, i64, 32);
        for (int32_t offset = 16; offset >= 1; offset /= 2) {
          auto sh = [&](Value v) {
            return gpu::ShuffleOp::create(b, l, v, offset, /*width=*/32,
                                          gpu::ShuffleMode::XOR)
                .getShuffleResult();
          };
          Value lo = sh(arith::TruncIOp::create(b, l, i32, best));
          Value hi = sh(arith::TruncIOp::create(
              b, l, i32, arith::ShRUIOp::create(b, l, best, c32i64)));
          Value other = arith::OrIOp::create(
              b, l,
              arith::ShLIOp::create(b, l,
                                    arith::ExtUIOp::create(b, l, i64, hi),
                                    c32i64),
              arith::ExtUIOp::create(b, l, i64, lo));
          best = arith::MaxUIOp::create(b, l, best, other);
        }
        Value v = fromKey(b, l, best).first;
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

  Value writer =
      arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, lane, idx(k));
  auto store = scf::IfOp::create(rw, loc, writer, false);
  rw.setInsertionPointToStart(store.thenBlock());
  auto [myV, myCol] = fromKey(rw, loc, rounds.getResult(3));
  Value w = arith::DivFOp::create(
      rw, loc,
      math::ExpOp::create(
          rw, loc, arith::SubFOp::create(rw, loc, myV, rounds.getResult(1))),
      rounds.getResult(2));
  if (!wElt.isF32())
    w = arith::TruncFOp::create(rw, loc, wElt, w);
  SmallVector<Value> at(rowIvs);
  at.push_back(lane);
  memref::StoreOp::create(rw, loc, w, weights, at);
  memref::StoreOp::create(rw, loc, arith::ExtUIOp::create(rw, loc, i64, myCol),
                          indices, at);

  rw.eraseOp(op);
  return success();
}

} // namespace sinter::cuda
