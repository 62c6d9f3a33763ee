//===- ExpertGroupedMma.cpp - grouped MoE experts on tensor cores ---------===//
//
// The tensor-core form of the grouped-expert kernel (ExpertGrouped.cpp has
// the match and the scalar form): for f16/bf16 x and expert weights, each
// block takes one (expert e, tile of 128 output columns), lists the picks
// routed to e in shared memory (as the scalar kernel does), then walks them
// in passes of 32 rows:
//
// - A = the 32 picks' x rows (gathered through the list: x[t] for the up
//   projection, x[t, j] for the down), zero-filled past the pick count;
//   B = W[e, k, n0 .. n0 + 127]; both are staged per 32-deep K slice in
//   shared memory by cp.async (16 bytes per copy, zero-filled outside K
//   and N), `stages` slices deep, so the weight stream overlaps the math;
// - 4 warps, each 32 rows x 32 columns of m16n8 f32 accumulators:
//   ldmatrix.x4 for A (its K-contiguous rows), ldmatrix.x4.trans for B
//   (W's rows are N-contiguous: K-major B), then mma.sync m16n8k16
//   (TensorCore.h, shared with Gemm.cpp);
// - the epilogue adds the accumulators to out[t, j, n]'s initial value and
//   stores the sum: the fill right before the projection is folded in (its
//   value is the initial one, the fill kernel is gone); without such a fill,
//   the current value is loaded, as the generic does.
//
// An expert's weight tile is read from DRAM once per pass; with 4096 picks
// over 256 experts nearly every expert takes one pass. Each output row is
// one pick's own dot products, whatever rows share its pass, so the result
// does not depend on the list order the atomics make: runs repeat exactly.
// Shared memory: the pick list (4 bytes a pick) and the stages within the
// static 48 KiB.
//
//===----------------------------------------------------------------------===//

#include "ExpertGrouped.h"
#include "GemmBuffers.h"
#include "TensorCore.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace sinter::cuda {
namespace {

constexpr int64_t kThreads = 128;  // 4 warps side by side along N
constexpr int64_t kRows = 32;      // picks per pass (two m16 tiles)
constexpr int64_t kCols = 128;     // output columns per block
constexpr int64_t kDepth = 32;     // K slice per stage
constexpr int64_t kMaxStages = 4;
constexpr int64_t kStaticShared = 48 * 1024;

/// The body is exactly out + extf(x) * extf(W[...]) (the expert expression
/// and the load's index ops aside); returns the 16-bit element type.
FailureOr<Type> tensorCoreBody(const ExpertGroupedMatch &m, std::string &why) {
  Block &body = m.op.getRegion().front();
  Value xArg = body.getArgument(0), oArg = body.getArgument(2);
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  Value term = add.getLhs() == oArg ? add.getRhs() : add.getLhs();
  auto mul = term.getDefiningOp<arith::MulFOp>();
  if (!mul) {
    why = "the term added is not a product";
    return failure();
  }
  auto xExt = mul.getLhs().getDefiningOp<arith::ExtFOp>();
  auto wExt = mul.getRhs().getDefiningOp<arith::ExtFOp>();
  if (xExt && wExt && xExt.getIn() != xArg)
    std::swap(xExt, wExt);
  if (!xExt || !wExt || xExt.getIn() != xArg ||
      wExt.getIn() != m.wLoad.getResult()) {
    why = "the term is not extf(x) * extf(w)";
    return failure();
  }
  Type elt = xArg.getType();
  if ((!elt.isBF16() && !elt.isF16()) || m.wLoad.getType() != elt) {
    why = "x and the weights are not both f16 or both bf16";
    return failure();
  }
  for (Operation &o : body.without_terminator()) {
    Operation *p = &o;
    if (p == m.wLoad.getOperation() || p == xExt.getOperation() ||
        p == wExt.getOperation() || p == mul.getOperation() ||
        p == add.getOperation() || isa<linalg::IndexOp>(p) ||
        llvm::is_contained(m.expertOps, p))
      continue;
    why = "the body computes more than out + x * w";
    return failure();
  }
  return elt;
}

/// knownBaseAlignment through collapse/expand_shape of identity-layout
/// buffers (the same base address: x is a collapsed view of the
/// activations).
int64_t baseAlignment(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (!isa<memref::CollapseShapeOp, memref::ExpandShapeOp>(def) ||
        !cast<MemRefType>(def->getOperand(0).getType()).getLayout().isIdentity())
      break;
    v = def->getOperand(0);
  }
  return knownBaseAlignment(v);
}

int64_t archNumber(StringRef arch) {
  int64_t v = 0;
  if (!arch.consume_front("sm_") ||
      arch.take_while([](char ch) { return ch >= '0' && ch <= '9'; })
          .getAsInteger(10, v))
    return 0;
  return v;
}

/// The elementwise op right after the projection that reads only its
/// output, element for element, into an f32 buffer of the same [T, J, N]
/// elements (unit dims aside): in bench8 prefill the up projection's bf16
/// rounding copy (truncf, extf) into [T, J, 1, N], 16384 blocks and 13 us a
/// launch. The epilogue computes it from the sums it stores, so its kernel
/// (a re-read of the output) is gone. Null, with `why`, otherwise.
linalg::GenericOp elementwiseConsumer(const ExpertGroupedMatch &m,
                                      std::string &why) {
  Operation *next = m.op->getNextNode();
  while (next && isMemoryEffectFree(next))
    next = next->getNextNode();
  auto c = dyn_cast_or_null<linalg::GenericOp>(next);
  if (!c || !c.hasPureBufferSemantics() || c.getNumDpsInputs() != 1 ||
      c.getNumDpsInits() != 1 || c.getDpsInputs()[0] != m.out ||
      c.getNumReductionLoops() != 0) {
    why = "the next op is not an elementwise generic of the output alone";
    return nullptr;
  }
  Value res = c.getDpsInits()[0];
  auto rType = dyn_cast<MemRefType>(res.getType());
  if (!rType || !rType.hasStaticShape() || !rType.getLayout().isIdentity() ||
      !rType.getElementType().isF32()) {
    why = "the consumer's result is not a static identity-layout f32 buffer";
    return nullptr;
  }
  // Loops: (t, j, n) with unit loops anywhere; the input reads the non-unit
  // loops in order, the result is the identity.
  SmallVector<int64_t> ranges = c.getStaticLoopRanges();
  SmallVector<AffineExpr> kept;
  SmallVector<int64_t> keptRanges;
  for (auto [i, r] : llvm::enumerate(ranges))
    if (r != 1) {
      kept.push_back(getAffineDimExpr(i, c.getContext()));
      keptRanges.push_back(r);
    }
  SmallVector<AffineMap> maps = c.getIndexingMapsArray();
  if (keptRanges != SmallVector<int64_t>{m.T, m.J, m.N} ||
      maps[0] != AffineMap::get(ranges.size(), 0, kept, c.getContext()) ||
      !maps[1].isIdentity()) {
    why = "the consumer does not map out[t, j, n] to its result's same "
          "element";
    return nullptr;
  }
  Block &body = c.getRegion().front();
  if (!body.getArgument(1).use_empty()) {
    why = "the consumer reads its own result";
    return nullptr;
  }
  for (Operation &o : body.without_terminator())
    if (!isMemoryEffectFree(&o) || isa<linalg::IndexOp>(o) ||
        o.getNumRegions() != 0) {
      why = "the consumer's body is not pure scalar math";
      return nullptr;
    }
  if (mayOverlap(res, m.out) || mayOverlap(res, m.x) ||
      mayOverlap(res, m.ids) || mayOverlap(res, m.wLoad.getMemRef()) ||
      baseAlignment(res) < 8) {
    why = "the consumer's result may share bytes with the projection's "
          "operands, or is not 8-byte aligned";
    return nullptr;
  }
  return c;
}

struct GroupedMmaKernel {
  GroupedMmaKernel(const ExpertGroupedMatch &m, Type elt, int64_t stages,
                   KernelBuilder &kb, linalg::GenericOp consumer)
      : m(m), elt(elt), stages(stages), kb(kb), consumer(consumer) {}

  const ExpertGroupedMatch &m;
  Type elt;
  int64_t stages;
  KernelBuilder &kb;
  linalg::GenericOp consumer;
  Value tid, lane, warpCol, n0, xG, wG, outG, smem, wBase, resG;
  // The current pass: this thread's A row (its copy slot) and x offset.
  Value aRow, aChunk, aOk, xOff;

  static constexpr int64_t aStage = kRows * kDepth;
  static constexpr int64_t stageElems = kRows * kDepth + kDepth * kCols;

  Value slt(Value a, Value b) {
    return arith::CmpIOp::create(kb.b, kb.loc, arith::CmpIPredicate::slt, a,
                                 b);
  }

  /// A's 64-byte rows pair up in 128 bytes: chunk ^ (row / 2) % 4 puts the
  /// 8 rows one ldmatrix matrix reads on 8 distinct bank groups.
  Value swizzleA(Value row, Value chunk) {
    return kb.add(kb.mul(row, kDepth),
                  kb.mul(kb.bxor(chunk, kb.band(kb.shr(row, 1), 3)), 8));
  }
  /// B's 256-byte rows (k): chunk ^ k % 8, for the same reason.
  Value swizzleB(Value row, Value chunk) {
    return kb.add(kb.add(kb.mul(row, kCols),
                         kb.mul(kb.bxor(chunk, kb.band(row, 7)), 8)),
                  aStage);
  }

  void copy(Value sOff, Value global, Value gOff, Value ok) {
    Value bytes = kb.select(ok, kb.c(16), kb.c(0));
    NVVM::CpAsyncOp::create(kb.b, kb.loc, kb.gep(smem, elt, sOff),
                            kb.gep(global, elt, kb.select(ok, gOff, kb.c(0))),
                            16, NVVM::LoadCacheModifierKind::CG, bytes);
  }

  /// cp.async of K slice `kt` into stage `stage` (both i32): one 16-byte
  /// chunk of A per thread, four of B.
  void loadSlice(Value kt, Value stage) {
    Value k0 = kb.mul(kt, kDepth);
    Value base = kb.mul(stage, stageElems);
    Value gCol = kb.add(k0, kb.mul(aChunk, 8));
    copy(kb.add(base, swizzleA(aRow, aChunk)), xG, kb.add(xOff, gCol),
         kb.both(aOk, kb.lt(gCol, m.K)));
    int64_t rowChunks = kCols / 8;
    for (int64_t i = 0; i * kThreads < kDepth * rowChunks; ++i) {
      Value q = kb.add(tid, i * kThreads);
      Value row = kb.shr(q, 4), chunk = kb.band(q, rowChunks - 1);
      Value gK = kb.add(k0, row), gN = kb.add(n0, kb.mul(chunk, 8));
      copy(kb.add(base, swizzleB(row, chunk)), wG,
           kb.add(wBase, kb.add(kb.mul(gK, m.N), gN)),
           kb.both(kb.lt(gK, m.K), kb.lt(gN, m.N)));
    }
  }

  /// One K slice into the warp's 2 x 4 m16n8 accumulators.
  void multiplySlice(Value stage, MutableArrayRef<Value> acc) {
    Value base = kb.mul(stage, stageElems);
    Value lo = kb.band(lane, 15), hi = kb.shr(lane, 4);
    Value warpChunk = kb.shr(warpCol, 3);
    for (int64_t kk = 0; kk < kDepth / 16; ++kk) {
      SmallVector<SmallVector<Value, 4>, 2> a, bf;
      // A: lanes 0-15 address rows 0-15 at the k16 step's first chunk,
      // lanes 16-31 at its second.
      for (int64_t i = 0; i < kRows / 16; ++i)
        a.push_back(ldmatrixX4(
            kb,
            kb.gep(smem, elt,
                   kb.add(base, swizzleA(kb.add(lo, i * 16),
                                         kb.add(hi, kk * 2)))),
            /*trans=*/false));
      // B (transposed): lanes 0-15 address k rows 0-15 at the n8 tile's
      // chunk, lanes 16-31 at the next tile's; registers 0, 1 are tile
      // 2 jj's b0, b1, registers 2, 3 tile 2 jj + 1's.
      for (int64_t jj = 0; jj < kCols / 4 / 16; ++jj)
        bf.push_back(ldmatrixX4(
            kb,
            kb.gep(smem, elt,
                   kb.add(base, swizzleB(kb.add(lo, kk * 16),
                                         kb.add(kb.add(warpChunk, jj * 2),
                                                hi)))),
            /*trans=*/true));
      int64_t nt = kCols / 4 / 8;
      for (int64_t i = 0; i < kRows / 16; ++i)
        for (int64_t j = 0; j < nt; ++j)
          mmaM16N8K16(kb, elt, a[i],
                      {bf[j / 2][(j % 2) * 2], bf[j / 2][(j % 2) * 2 + 1]},
                      acc.slice((i * nt + j) * 4, 4));
    }
  }

  /// out[p, n..n+1] += the fragment pair, for the pass's rows below the
  /// count (row lane / 4 (+ 8) of each m16 tile, columns 2 (lane % 4) + 0, 1
  /// of each n8 tile).
  void epilogue(ArrayRef<Value> acc, Value c0, Value count, Value list) {
    OpBuilder &b = kb.b;
    Location loc = kb.loc;
    Value rowInFrag = kb.shr(lane, 2), colInFrag = kb.mul(kb.band(lane, 3), 2);
    auto pairTy = VectorType::get({2}, b.getF32Type());
    int64_t nt = kCols / 4 / 8;
    // With the fill folded, every routed element starts from the fill's
    // value (the same f32 the load of the filled buffer returned).
    Value filled;
    if (m.fill) {
      filled = LLVM::PoisonOp::create(b, loc, pairTy);
      for (int64_t e = 0; e < 2; ++e)
        filled = LLVM::InsertElementOp::create(
            b, loc, filled, m.fill.getDpsInputs()[0], kb.c(e));
    }
    for (int64_t i = 0; i < kRows / 16; ++i)
      for (int64_t half = 0; half < 2; ++half) {
        Value slot = kb.add(c0, kb.add(rowInFrag, i * 16 + half * 8));
        auto rowIf = scf::IfOp::create(b, loc, slt(slot, count), false);
        OpBuilder::InsertionGuard g(b);
        b.setInsertionPointToStart(&rowIf.getThenRegion().front());
        Value p = memref::LoadOp::create(
            b, loc, list,
            ValueRange{arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                                  slot)});
        Value rowBase = kb.mul(p, m.N);
        for (int64_t j = 0; j < nt; ++j) {
          Value col = kb.add(kb.add(kb.add(n0, warpCol), j * 8), colInFrag);
          OpBuilder::InsertionGuard g2(b);
          // N is a multiple of 8: a tile is wholly inside or outside.
          if (m.N % kCols != 0) {
            auto colIf = scf::IfOp::create(b, loc, kb.lt(col, m.N), false);
            b.setInsertionPointToStart(&colIf.getThenRegion().front());
          }
          Value ptr = kb.gep(outG, b.getF32Type(), kb.add(rowBase, col));
          Value old = filled ? filled
                             : LLVM::LoadOp::create(b, loc, pairTy, ptr, 8)
                                   .getResult();
          Value sum = LLVM::PoisonOp::create(b, loc, pairTy);
          for (int64_t e = 0; e < 2; ++e)
            sum = LLVM::InsertElementOp::create(
                b, loc, sum, acc[(i * nt + j) * 4 + half * 2 + e], kb.c(e));
          sum = arith::AddFOp::create(b, loc, old, sum);
          LLVM::StoreOp::create(b, loc, sum, ptr, 8);
          if (consumer)
            storeConsumed(sum, kb.add(rowBase, col));
        }
      }
  }

  /// The consumer's body on both elements of `sum`, stored at the same
  /// element offset of its result.
  void storeConsumed(Value sum, Value offset) {
    OpBuilder &b = kb.b;
    Location loc = kb.loc;
    Block &body = consumer.getRegion().front();
    auto yield = cast<linalg::YieldOp>(body.getTerminator());
    Value pair = LLVM::PoisonOp::create(b, loc, sum.getType());
    for (int64_t e = 0; e < 2; ++e) {
      IRMapping map;
      map.map(body.getArgument(0),
              LLVM::ExtractElementOp::create(b, loc, sum, kb.c(e)));
      for (Operation &o : body.without_terminator())
        b.clone(o, map);
      pair = LLVM::InsertElementOp::create(
          b, loc, pair, map.lookupOrDefault(yield.getOperand(0)), kb.c(e));
    }
    LLVM::StoreOp::create(b, loc, pair, kb.gep(resG, b.getF32Type(), offset),
                          8);
  }

  void build(gpu::LaunchOp launch) {
    OpBuilder &b = kb.b;
    Location loc = kb.loc;
    Value list = launch.getWorkgroupAttributions()[0],
          countBuf = launch.getWorkgroupAttributions()[1],
          staged = launch.getWorkgroupAttributions()[2];
    Value e = launch.getBlockIds().y;
    emitPickList(b, loc, m, launch.getThreadIds().x, kThreads, e, list,
                 countBuf);
    Value zeroIdx = arith::ConstantIndexOp::create(b, loc, 0);
    Value count = memref::LoadOp::create(b, loc, countBuf, ValueRange{zeroIdx});
    tid = kb.toI32(launch.getThreadIds().x);
    lane = kb.band(tid, 31);
    warpCol = kb.mul(kb.shr(tid, 5), kCols / 4);
    n0 = kb.mul(kb.toI32(launch.getBlockIds().x), kCols);
    xG = kb.pointer(m.x, 1);
    wG = kb.pointer(m.wLoad.getMemRef(), 1);
    outG = kb.pointer(m.out, 1);
    if (consumer)
      resG = kb.pointer(consumer.getDpsInits()[0], 1);
    smem = kb.pointer(staged, 3);
    wBase = kb.mul(kb.toI32(e), m.K * m.N);
    aRow = kb.shr(tid, 2);
    aChunk = kb.band(tid, kDepth / 8 - 1);
    int64_t kTiles = (m.K + kDepth - 1) / kDepth;

    auto passes = scf::ForOp::create(
        b, loc, zeroIdx,
        arith::IndexCastOp::create(b, loc, b.getIndexType(), count),
        arith::ConstantIndexOp::create(b, loc, kRows), ValueRange{},
        [](OpBuilder &, Location, Value, ValueRange) {});
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(passes.getBody());
    Value c0 = kb.toI32(passes.getInductionVar());
    // This thread's A row: its pick (the last one again past the count,
    // copied as zeros) and the pick's x row.
    Value slot = kb.add(c0, aRow);
    aOk = slt(slot, count);
    Value clamped = kb.select(aOk, slot, kb.add(count, -1));
    Value p = memref::LoadOp::create(
        b, loc, list,
        ValueRange{arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                              clamped)});
    Value xRow = m.xPerPick ? p : arith::DivUIOp::create(b, loc, p, kb.c(m.J));
    xOff = kb.mul(xRow, m.K);

    // The first stages - 1 slices in flight, a group each (empty groups
    // past K keep the wait counts uniform).
    for (int64_t s = 0; s + 1 < stages; ++s) {
      if (s < kTiles)
        loadSlice(kb.c(s), kb.c(s));
      NVVM::CpAsyncCommitGroupOp::create(b, loc);
    }
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0));
    SmallVector<Value> init(kRows / 16 * kCols / 4 / 8 * 4, zero);
    auto loop = scf::ForOp::create(
        b, loc, zeroIdx, arith::ConstantIndexOp::create(b, loc, kTiles),
        arith::ConstantIndexOp::create(b, loc, 1), init,
        [](OpBuilder &, Location, Value, ValueRange) {});
    {
      OpBuilder::InsertionGuard g2(b);
      b.setInsertionPointToStart(loop.getBody());
      // Slice kt has landed and every warp is done with the stage about to
      // be refilled.
      NVVM::CpAsyncWaitGroupOp::create(b, loc, stages - 2);
      gpu::BarrierOp::create(b, loc);
      Value kt = kb.toI32(loop.getInductionVar());
      Value next = kb.add(kt, stages - 1);
      auto pending = scf::IfOp::create(b, loc, kb.lt(next, kTiles), false);
      {
        OpBuilder::InsertionGuard g3(b);
        b.setInsertionPointToStart(&pending.getThenRegion().front());
        loadSlice(next, arith::RemUIOp::create(b, loc, next, kb.c(stages)));
      }
      NVVM::CpAsyncCommitGroupOp::create(b, loc);
      SmallVector<Value> acc(loop.getRegionIterArgs());
      multiplySlice(arith::RemUIOp::create(b, loc, kt, kb.c(stages)), acc);
      scf::YieldOp::create(b, loc, acc);
    }
    NVVM::CpAsyncWaitGroupOp::create(b, loc, 0);
    // The next pass's first copies overwrite stages other warps may still
    // be reading.
    gpu::BarrierOp::create(b, loc);
    SmallVector<Value> acc(loop.getResults());
    epilogue(acc, c0, count, list);
    scf::YieldOp::create(b, loc);
  }
};

} // namespace

LogicalResult emitExpertGroupedMma(RewriterBase &rw,
                                   const ExpertGroupedMatch &m,
                                   const KernelOptions &options,
                                   std::string &why) {
  FailureOr<Type> elt = tensorCoreBody(m, why);
  if (failed(elt))
    return failure();
  if (archNumber(options.gpuArch) < 80) {
    why = "mma.sync m16n8k16 with " +
          std::string((*elt).isBF16() ? "bf16" : "f16") + " needs sm_80+";
    return failure();
  }
  // cp.async copies 16-byte chunks of x rows (K) and weight rows (N).
  if (m.K % 8 != 0 || m.N % 8 != 0) {
    why = llvm::formatv("K = {0} and N = {1} are not both multiples of 8",
                        m.K, m.N);
    return failure();
  }
  for (Value v : {m.x, m.wLoad.getMemRef(), m.out})
    if (!cast<MemRefType>(v.getType()).getLayout().isIdentity()) {
      why = "x, the weights and the output need identity layouts";
      return failure();
    }
  if (baseAlignment(m.x) < 16 || baseAlignment(m.wLoad.getMemRef()) < 16 ||
      baseAlignment(m.out) < 8) {
    why = "x and the weights are not known 16-byte aligned, or the output "
          "8-byte aligned";
    return failure();
  }
  if (m.E * m.K * m.N >= (int64_t(1) << 31) ||
      m.T * m.J * std::max(m.K, m.N) >= (int64_t(1) << 31)) {
    why = "an operand has 2^31 or more elements (i32 offsets)";
    return failure();
  }
  int64_t listBytes = m.T * m.J * 4 + 16;
  int64_t stageBytes = GroupedMmaKernel::stageElems * 2;
  int64_t stages =
      std::min(kMaxStages, (kStaticShared - listBytes) / stageBytes);
  if (stages < 2) {
    why = llvm::formatv("{0} picks leave no room for two {1}-byte stages in "
                        "48 KiB of shared memory",
                        m.T * m.J, stageBytes);
    return failure();
  }

  // The fill before the projection is folded into the epilogue, which then
  // stores rather than accumulates: every pick whose expert is in [0, E) is
  // in exactly one block's list (the 2-D grid covers every expert and column
  // tile), so every element the generic would compute is stored once. A pick
  // routed outside [0, E) is left unwritten where the generic stored the
  // fill plus a sum of out-of-bounds weight loads (undefined either way).
  // The fill of the up projection's [512, 8, 1024] and the down's
  // [512, 8, 2048] f32 outputs were 12 and 22 us a launch in bench8 prefill;
  // with these and the consumer's fold below, bench8 prefill 512 went from
  // 8.67 to 8.15 ms on an H200 (logits unchanged against PyTorch).
  if (m.fill && !m.fill.getDpsInputs()[0].getType().isF32())
    m.fill = nullptr; // a converting fill: keep it, load its result
  std::string consumerWhy;
  linalg::GenericOp consumer = elementwiseConsumer(m, consumerWhy);
  if (!consumer && options.remarks)
    m.op->emitRemark() << "sinter-cuda-form-kernels: grouped expert "
                          "epilogue takes no consumer: "
                       << consumerWhy;
  // The pure ops between the projection and its consumer (the views of
  // the consumer's result) go before the launch, which uses that result.
  if (consumer) {
    SmallVector<Operation *> between;
    for (Operation *o = m.op->getNextNode(); o != consumer.getOperation();
         o = o->getNextNode())
      between.push_back(o);
    for (Operation *o : between) // in order: defs before their uses
      rw.moveOpBefore(o, m.op);
  }
  Location loc = m.op.getLoc();
  rw.setInsertionPoint(m.op);
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(rw, loc, v);
  };
  MLIRContext *ctx = rw.getContext();
  auto space = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  Type i32 = rw.getI32Type();
  // 8-element vectors: the stages get 16-byte alignment (cp.async and
  // ldmatrix need it); addressed through a raw pointer.
  SmallVector<Type> shared{
      MemRefType::get({m.T * m.J}, i32, AffineMap(), space),
      MemRefType::get({1}, i32, AffineMap(), space),
      MemRefType::get({stages * GroupedMmaKernel::stageElems / 8},
                      VectorType::get({8}, *elt), AffineMap(), space)};
  int64_t tiles = (m.N + kCols - 1) / kCols;
  Value one = idx(1);
  auto launch = gpu::LaunchOp::create(
      rw, loc, idx(tiles), idx(m.E), one, idx(kThreads), one, one,
      /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
      /*asyncDependencies=*/{}, shared);
  launch->setAttr(
      "sinter.kernel",
      rw.getStringAttr(llvm::formatv(
          "expert_grouped_mma t={0} j={1} n={2} k={3} experts={4} "
          "grid={5}x{4} threads={6} tile={7}x{8}x{9} stages={10} "
          "mma=mma.sync.m16n8k16{11}",
          m.T, m.J, m.N, m.K, m.E, tiles, kThreads, kRows, kCols, kDepth,
          stages,
          std::string(m.fill ? " fill=folded" : "") +
              (consumer ? " consumer=fused" : ""))));
  Block &body = launch.getBody().front();
  rw.setInsertionPointToStart(&body);
  gpu::TerminatorOp::create(rw, loc);
  rw.setInsertionPointToStart(&body);
  KernelBuilder kb{rw, loc};
  GroupedMmaKernel kernel(m, *elt, stages, kb, consumer);
  kernel.build(launch);
  rw.eraseOp(m.op);
  if (m.fill)
    rw.eraseOp(m.fill);
  if (consumer)
    rw.eraseOp(consumer);
  return success();
}

} // namespace sinter::cuda
