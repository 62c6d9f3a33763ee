//===- Transpose.cpp - tiled transpose of the innermost dimension ---------===//
//
// A bufferized linalg.transpose that moves the input's innermost dimension
// away from the innermost place (GatedDeltaNet's prompt conv turns
// [T, C] into [C, T] and back, 16 MB each way per layer at 512 tokens)
// cannot be coalesced on both sides by the generic mapping: one thread per
// output element reads the input with a stride of a whole row, 32 sectors
// per warp request (35 us per 16 MB transpose on an H100, about 30% of
// copy bandwidth). Here a block of 32 x 8 threads moves a 32 x 32 tile
// through shared memory: it reads 32 consecutive input elements per warp,
// and after a barrier writes 32 consecutive output elements per warp
// (docs/cuda-target.md, "Tiled transpose"). The tile's rows are padded to
// 33 elements so that the column reads of the write phase hit 32 banks.
// The other dimensions (batch) are the grid's z, the index recovered by
// div/rem. Elements are moved as they are (no arithmetic), so the result
// is bit-exact.
//
//===----------------------------------------------------------------------===//

#include "GemmBuffers.h"
#include "Kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace sinter::cuda {
namespace {

constexpr int64_t kTile = 32, kRowsPerPass = 8;

} // namespace

LogicalResult emitTiledTranspose(RewriterBase &rw, linalg::LinalgOp linalgOp,
                                 const KernelOptions &options,
                                 std::string &why) {
  auto op = dyn_cast<linalg::TransposeOp>(linalgOp.getOperation());
  if (!op) {
    why = "not a linalg.transpose";
    return failure();
  }
  auto inType = dyn_cast<MemRefType>(op.getInput().getType());
  auto outType = dyn_cast<MemRefType>(op.getInit().getType());
  if (!inType || !outType) {
    why = "operands are not buffers (run after bufferization)";
    return failure();
  }
  if (!inType.hasStaticShape() || !outType.hasStaticShape()) {
    why = "dynamic shape";
    return failure();
  }
  ArrayRef<int64_t> perm = op.getPermutation();
  int64_t rank = outType.getRank();
  if (rank < 2) {
    why = "rank below 2";
    return failure();
  }
  // Output dim d reads input dim perm[d]. `a`: the input dim that becomes
  // innermost; `b`: the output dim the input's innermost dim goes to.
  int64_t a = perm[rank - 1];
  if (a == rank - 1) {
    why = "the innermost dimension stays innermost (the generic mapping "
          "is coalesced on both sides)";
    return failure();
  }
  int64_t b = llvm::find(perm, rank - 1) - perm.begin();
  ArrayRef<int64_t> outShape = outType.getShape();
  int64_t p = outShape[rank - 1], q = outShape[b];
  if (p < kTile || q < kTile) {
    why = llvm::formatv("transposed dimensions {0} x {1}: one is shorter "
                        "than the {2}-element tile",
                        p, q, kTile)
              .str();
    return failure();
  }
  SmallVector<int64_t> batchDims;
  int64_t batch = 1;
  for (int64_t d = 0; d < rank; ++d)
    if (d != b && d != rank - 1) {
      batchDims.push_back(d);
      batch *= outShape[d];
    }
  int64_t tilesQ = (q + kTile - 1) / kTile, tilesP = (p + kTile - 1) / kTile;
  if (batch > 65535 || tilesP > 65535) {
    why = "grid y or z would pass 65535 blocks";
    return failure();
  }
  // Each element is read once and written once, but by different threads:
  // a buffer shared by both sides would be read after other blocks wrote it.
  if (mayOverlap(op.getInput(), op.getInit())) {
    why = "input and output may share bytes";
    return failure();
  }

  Location loc = op.getLoc();
  rw.setInsertionPoint(op);
  auto idx = [&](int64_t v) {
    return arith::ConstantIndexOp::create(rw, loc, v).getResult();
  };
  Type elt = outType.getElementType();
  auto tileType = MemRefType::get(
      {kTile, kTile + 1}, elt, MemRefLayoutAttrInterface(),
      gpu::AddressSpaceAttr::get(rw.getContext(),
                                 gpu::GPUDialect::getWorkgroupAddressSpace()));
  Value one = idx(1);
  auto launch = gpu::LaunchOp::create(
      rw, loc, idx(tilesQ), idx(tilesP), idx(batch), idx(kTile),
      idx(kRowsPerPass), one, /*dynamicSharedMemorySize=*/nullptr,
      /*asyncTokenType=*/nullptr, /*asyncDependencies=*/{},
      TypeRange{tileType});
  launch->setAttr(
      "sinter.kernel",
      rw.getStringAttr(llvm::formatv(
          "transpose {0}x{1} batch={2} tile={3}x{3} grid={4}x{5}x{2}"
          " threads={3}x{6}",
          q, p, batch, kTile, tilesQ, tilesP, kRowsPerPass)));
  rw.setInsertionPointToStart(&launch.getBody().front());
  Value tile = launch.getWorkgroupAttributions()[0];
  Value tx = launch.getThreadIds().x, ty = launch.getThreadIds().y;
  Value q0 = arith::MulIOp::create(rw, loc, launch.getBlockIds().x, idx(kTile));
  Value p0 = arith::MulIOp::create(rw, loc, launch.getBlockIds().y, idx(kTile));
  // Output indices of the batch dims, from blockIdx.z (last fastest).
  SmallVector<Value> outIdx(rank);
  Value rest = launch.getBlockIds().z;
  for (int64_t i = int64_t(batchDims.size()) - 1; i >= 0; --i) {
    int64_t d = batchDims[i];
    if (i == 0) {
      outIdx[d] = rest;
      break;
    }
    outIdx[d] = arith::RemUIOp::create(rw, loc, rest, idx(outShape[d]));
    rest = arith::DivUIOp::create(rw, loc, rest, idx(outShape[d]));
  }
  auto inIndices = [&](Value pIdx, Value qIdx) {
    SmallVector<Value> in(rank);
    for (int64_t d = 0; d < rank; ++d)
      in[perm[d]] = d == rank - 1 ? pIdx : d == b ? qIdx : outIdx[d];
    return in;
  };
  auto guarded = [&](Value pIdx, Value qIdx, function_ref<void()> body) {
    Value ok = arith::AndIOp::create(
        rw, loc,
        arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, pIdx, idx(p)),
        arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, qIdx,
                              idx(q)));
    auto ifOp = scf::IfOp::create(rw, loc, ok, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard g(rw);
    rw.setInsertionPointToStart(ifOp.thenBlock());
    body();
  };
  // Read: warp row r of the tile is input row p0 + r (along dim a), its 32
  // lanes 32 consecutive input elements q0 + tx (the input's innermost).
  for (int64_t pass = 0; pass < kTile / kRowsPerPass; ++pass) {
    Value r = arith::AddIOp::create(rw, loc, ty, idx(pass * kRowsPerPass));
    Value pIdx = arith::AddIOp::create(rw, loc, p0, r);
    Value qIdx = arith::AddIOp::create(rw, loc, q0, tx);
    guarded(pIdx, qIdx, [&] {
      Value v =
          memref::LoadOp::create(rw, loc, op.getInput(), inIndices(pIdx, qIdx));
      memref::StoreOp::create(rw, loc, v, tile, ValueRange{r, tx});
    });
  }
  gpu::BarrierOp::create(rw, loc);
  // Write: warp row r is output row q0 + r (dim b), its lanes 32
  // consecutive output elements p0 + tx (the output's innermost).
  for (int64_t pass = 0; pass < kTile / kRowsPerPass; ++pass) {
    Value r = arith::AddIOp::create(rw, loc, ty, idx(pass * kRowsPerPass));
    Value pIdx = arith::AddIOp::create(rw, loc, p0, tx);
    Value qIdx = arith::AddIOp::create(rw, loc, q0, r);
    guarded(pIdx, qIdx, [&] {
      Value v = memref::LoadOp::create(rw, loc, tile, ValueRange{tx, r});
      SmallVector<Value> out(outIdx);
      out[rank - 1] = pIdx;
      out[b] = qIdx;
      memref::StoreOp::create(rw, loc, v, op.getInit(), out);
    });
  }
  gpu::TerminatorOp::create(rw, loc);
  rw.eraseOp(op);
  return success();
}

} // namespace sinter::cuda
