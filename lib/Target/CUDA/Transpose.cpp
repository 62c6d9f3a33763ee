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
// A widening conversion (a generic that is exactly extf, element for
// element) whose result only this transpose reads is folded into the read
// phase: the tile is filled with extf of the conversion's source (the
// same exact widening the generic did) and the conversion's kernel and
// buffer write are gone (bench8 prefill: the bf16 -> f32 copy of the conv
// input before its [T, C] -> [C, T] transpose, 16384 blocks, ~13 us a
// launch at 04:40, 6 launches). Likewise a memref.copy of the output into
// another buffer later in the block is done by the transpose's own stores
// (the GDN conv's copy into its padded buffer).
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

/// The generic `out = extf(in)` (identity maps, all parallel) that writes
/// `buf`, when `buf` is read only by `consumer` and nothing between them
/// has a memory effect (so the generic's source still holds the same
/// values at `consumer`). Null, with `why`, otherwise.
linalg::GenericOp foldableWidening(Value buf, Operation *consumer,
                                   std::string &why) {
  // Only the memory plan's scratch (a view of the arena, or an allocation)
  // may go unwritten: a function argument is the caller's (an output).
  if (!buf.getDefiningOp<memref::ViewOp>() &&
      !buf.getDefiningOp<memref::AllocOp>()) {
    why = "the input is not arena scratch (a memref.view or alloc)";
    return nullptr;
  }
  linalg::GenericOp g;
  for (Operation *user : buf.getUsers()) {
    if (user == consumer)
      continue;
    auto gen = dyn_cast<linalg::GenericOp>(user);
    if (g || !gen || gen.getNumDpsInits() != 1 ||
        gen.getDpsInits()[0] != buf) {
      why = "the input has users other than its producer and the transpose";
      return nullptr;
    }
    g = gen;
  }
  if (!g || g->getBlock() != consumer->getBlock() ||
      !g->isBeforeInBlock(consumer)) {
    why = "no producing generic before the transpose in its block";
    return nullptr;
  }
  if (!g.hasPureBufferSemantics() || g.getNumDpsInputs() != 1 ||
      g.getNumReductionLoops() != 0 ||
      !llvm::all_of(g.getIndexingMapsArray(),
                    [](AffineMap m) { return m.isIdentity(); })) {
    why = "the producer is not an elementwise generic of one input";
    return nullptr;
  }
  Block &body = g.getRegion().front();
  auto ext = dyn_cast<arith::ExtFOp>(&body.front());
  if (!ext || ext.getIn() != body.getArgument(0) ||
      body.getTerminator()->getOperand(0) != ext.getResult()) {
    why = "the producer is not exactly extf (a bit-exact widening)";
    return nullptr;
  }
  for (Operation *o = g->getNextNode(); o != consumer; o = o->getNextNode())
    if (!isMemoryEffectFree(o)) {
      why = "an op with memory effects between the producer and the "
            "transpose";
      return nullptr;
    }
  return g;
}

/// Whether `a` and `b` are subviews of one identity-layout buffer, unit
/// steps, whose innermost index ranges are disjoint (interleaved columns
/// of a padded buffer: no byte in common, though their first-to-last byte
/// ranges overlap).
bool disjointColumns(Value a, Value b) {
  auto sa = a.getDefiningOp<memref::SubViewOp>(),
       sb = b.getDefiningOp<memref::SubViewOp>();
  if (!sa || !sb || sa.getSource() != sb.getSource() ||
      !sa.getSourceType().getLayout().isIdentity() ||
      sa.getSourceType().getRank() != sa.getType().getRank() ||
      sb.getSourceType().getRank() != sb.getType().getRank() ||
      !sa.hasUnitStride() || !sb.hasUnitStride())
    return false;
  ArrayRef<int64_t> oa = sa.getStaticOffsets(), ob = sb.getStaticOffsets(),
                    za = sa.getStaticSizes(), zb = sb.getStaticSizes();
  int64_t last = oa.size() - 1;
  if (ShapedType::isDynamic(oa[last]) || ShapedType::isDynamic(ob[last]) ||
      ShapedType::isDynamic(za[last]) || ShapedType::isDynamic(zb[last]))
    return false;
  return oa[last] + za[last] <= ob[last] || ob[last] + zb[last] <= oa[last];
}

/// The ops of `op`'s block after `op` that define `v` (through their
/// operands), in block order, when all are pure and region-free (views);
/// failure otherwise.
LogicalResult targetDefsAfter(Operation *op, Value v,
                              SmallVectorImpl<Operation *> &defs) {
  llvm::SmallPtrSet<Operation *, 4> seen;
  SmallVector<Value> work{v};
  while (!work.empty()) {
    Operation *d = work.pop_back_val().getDefiningOp();
    if (!d || d->getBlock() != op->getBlock() || d->isBeforeInBlock(op) ||
        !seen.insert(d).second)
      continue;
    if (d == op || !isMemoryEffectFree(d) || d->getNumRegions() != 0)
      return failure();
    for (Value o : d->getOperands())
      work.push_back(o);
  }
  defs.assign(seen.begin(), seen.end());
  llvm::sort(defs, [](Operation *a, Operation *b) {
    return a->isBeforeInBlock(b);
  });
  return success();
}

/// The memref.copy of the transpose's output `init` into another buffer
/// later in the block (the GDN conv's copy into its padded buffer), when
/// that copy can be done by the transpose's own stores instead: nothing
/// between them writes `init`, reads or writes the target, or touches
/// memory other than through its operands. Null, with `why`, otherwise.
memref::CopyOp foldableCopy(linalg::TransposeOp op, Value source,
                            std::string &why) {
  Value init = op.getInit();
  memref::CopyOp copy;
  for (Operation *user : init.getUsers())
    if (auto c = dyn_cast<memref::CopyOp>(user))
      if (c.getSource() == init && c->getBlock() == op->getBlock() &&
          op->isBeforeInBlock(c) && (!copy || c->isBeforeInBlock(copy)))
        copy = c;
  if (!copy) {
    why = "no copy of the output after it";
    return nullptr;
  }
  Value target = copy.getTarget();
  auto tType = dyn_cast<MemRefType>(target.getType());
  if (!tType || tType.getShape() != op.getInit().getType().getShape() ||
      mayOverlap(target, init) || mayOverlap(target, source)) {
    why = "the copy's target has another shape or may share bytes with what "
          "the transpose reads or writes";
    return nullptr;
  }
  // The launch stores to the target: it must be defined before the
  // transpose, or by pure ops (the padded buffer's view and subview) that
  // can move up (targetDefsAfter).
  SmallVector<Operation *> defs;
  if (failed(targetDefsAfter(op, target, defs))) {
    why = "the copy's target is defined after the transpose by ops that "
          "cannot move above it";
    return nullptr;
  }
  auto touchesTarget = [&](Value v) {
    return mayOverlap(v, target) && !disjointColumns(v, target);
  };
  for (Operation *o = op->getNextNode(); o != copy.getOperation();
       o = o->getNextNode()) {
    if (isMemoryEffectFree(o))
      continue;
    SmallVector<Value> reads, writes;
    if (auto c = dyn_cast<memref::CopyOp>(o)) {
      reads.push_back(c.getSource());
      writes.push_back(c.getTarget());
    } else if (auto l = dyn_cast<linalg::LinalgOp>(o);
               l && l.hasPureBufferSemantics()) {
      bool bodyMemory = false;
      l->getRegion(0).walk([&](Operation *inner) {
        if (!isMemoryEffectFree(inner))
          bodyMemory = true;
      });
      if (bodyMemory) {
        why = "an op between the transpose and the copy loads in its body";
        return nullptr;
      }
      for (Value v : l.getDpsInputs())
        reads.push_back(v);
      for (Value v : l.getDpsInits())
        writes.push_back(v);
    } else {
      why = "an op between the transpose and the copy has unknown memory "
            "effects";
      return nullptr;
    }
    for (Value v : reads)
      if (isa<MemRefType>(v.getType()) && touchesTarget(v)) {
        why = "an op between the transpose and the copy reads the target";
        return nullptr;
      }
    for (Value v : writes)
      if (touchesTarget(v) || mayOverlap(v, init)) {
        why = "an op between the transpose and the copy writes the target "
              "or the transposed buffer";
        return nullptr;
      }
  }
  return copy;
}

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
  // Read through a widening conversion's source when it can be folded
  // (with the copy fold below: bench8 prefill 512 from 8.67 to 8.60 ms on
  // an H200, logits unchanged against PyTorch).
  std::string widenWhy;
  linalg::GenericOp widen =
      foldableWidening(op.getInput(), op.getOperation(), widenWhy);
  if (widen && mayOverlap(widen.getDpsInputs()[0], op.getInit()))
    widen = nullptr;
  if (!widen && options.remarks && op.getInput().getDefiningOp() &&
      llvm::any_of(op.getInput().getUsers(), [&](Operation *u) {
        return u != op.getOperation() && isa<linalg::GenericOp>(u);
      }))
    op->emitRemark() << "sinter-cuda-form-kernels: transpose folds no "
                        "producer: "
                     << widenWhy;
  Value source = widen ? widen.getDpsInputs()[0] : op.getInput();
  std::string copyWhy;
  // `source`: what the kernel reads (the folded conversion's source).
  memref::CopyOp copy = foldableCopy(op, source, copyWhy);
  if (copy) {
    SmallVector<Operation *> defs;
    (void)targetDefsAfter(op, copy.getTarget(), defs); // checked above
    for (Operation *d : defs)
      rw.moveOpBefore(d, op);
  }
  if (!copy && options.remarks &&
      llvm::any_of(op.getInit().getUsers(),
                   [](Operation *u) { return isa<memref::CopyOp>(u); }))
    op->emitRemark() << "sinter-cuda-form-kernels: transpose folds no copy: "
                     << copyWhy;

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
          " threads={3}x{6}{7}",
          q, p, batch, kTile, tilesQ, tilesP, kRowsPerPass,
          std::string(widen ? " widen=extf" : "") +
              (copy ? " copy=folded" : ""))));
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
      Value v = memref::LoadOp::create(rw, loc, source, inIndices(pIdx, qIdx));
      if (widen)
        v = arith::ExtFOp::create(rw, loc, elt, v);
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
      if (copy)
        memref::StoreOp::create(rw, loc, v, copy.getTarget(), out);
    });
  }
  gpu::TerminatorOp::create(rw, loc);
  rw.eraseOp(op);
  if (widen)
    rw.eraseOp(widen);
  if (copy)
    rw.eraseOp(copy);
  return success();
}

} // namespace sinter::cuda
