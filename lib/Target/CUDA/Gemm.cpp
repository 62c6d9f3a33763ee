//===- Gemm.cpp - tensor-core GEMM kernel template ------------------------===//
//
// A bufferized f16/bf16 linear (ContractionMatch.h: X [M, K] times W [N, K]
// transposed, f32 accumulation) with M > 8 becomes one gpu.launch that
// computes C = X * W^T + bias on tensor cores and writes the converted
// output directly (docs/cuda-target.md, "Tensor-core GEMM"):
//
// - the grid tiles C into BM x BN blocks (x: N tiles, y: M tiles); 4 warps
//   per block, each owning a (BM / WM) x (BN / WN) warp tile of m16n8
//   accumulators (f32, in registers);
// - K is walked in BK-element slices (32; 64 is supported, not chosen)
//   staged in shared memory (a workgroup attribution up to 48 KiB, dynamic
//   shared memory beyond), `stages` buffers deep: cp.async (16 bytes per
//   copy, zero-filled outside M, N, K) fills slice k + stages - 1 while
//   slice k is multiplied, so global loads overlap the math;
// - fragments come out of shared memory with ldmatrix.x4 (16-byte chunks
//   XOR-swizzled by row so that the 8 addresses of one 8x8 matrix hit 8
//   distinct bank groups), and feed mma.sync m16n8k16;
// - the epilogue adds the bias, applies the conversion of the epilogue
//   generic (cloned, see ContractionMatch.h), stages the block's output tile
//   in shared memory and writes it in coalesced 16-byte row chunks (when N
//   and the output's alignment allow; else one guarded 2-element or scalar
//   store per fragment element pair).
//
// Everything is NVVM/LLVM ops on raw pointers taken from the memrefs, so the
// generic lowering (convert-gpu-to-nvvm) needs nothing more. Shapes the
// template cannot take are refused with the reason (FormKernels.cpp prints it
// under -debug-only=sinter-cuda-kernels) and go to the generic mapping.
//
//===----------------------------------------------------------------------===//

#include "ContractionMatch.h"
#include "GemmBuffers.h"
#include "Kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <limits>

using namespace mlir;

namespace sinter::cuda {
namespace {

/// Static shared memory per block (no opt-in needed); beyond it the kernel
/// takes dynamic shared memory, which the runtime opts into per kernel
/// (CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, CudaBackend.cpp).
constexpr int64_t kMaxStaticShared = 48 * 1024;

/// Block and warp tiling of one GEMM (see chooseTiling).
struct GemmTiling {
  int64_t bm, bn, wm, wn, stages, bk = 32;
  /// The output tile goes out through shared memory (see epilogue) when
  /// nonzero (an integer: the measuring harness scans it like the rest).
  int64_t stagedEpilogue = 1;
  int64_t threads() const { return 32 * wm * wn; }
  int64_t warpM() const { return bm / wm; }
  int64_t warpN() const { return bn / wn; }
  /// m16 and n8 fragments per warp.
  int64_t mTiles() const { return warpM() / 16; }
  int64_t nTiles() const { return warpN() / 8; }
  /// 16-byte chunks per staged row.
  int64_t chunks() const { return bk / 8; }
  int64_t sharedBytes() const { return stages * (bm + bn) * bk * 2; }
};

int64_t smCount(StringRef arch) {
  if (arch.starts_with("sm_80"))
    return 108;
  if (arch.starts_with("sm_89"))
    return 128;
  return 132; // sm_90a: H100 SXM
}

/// Shared memory per SM that blocks can use (one block may opt into all
/// of it, less 1 KiB the driver reserves per block).
int64_t smShared(StringRef arch) {
  if (arch.starts_with("sm_80"))
    return 164 * 1024;
  if (arch.starts_with("sm_89"))
    return 100 * 1024;
  return 228 * 1024;
}

/// Registers per thread of this kernel by f32 accumulators per thread, as
/// ptxas (CUDA 13, sm_90a) allocates them: 32 -> 72, 64 -> 126,
/// 96 -> 164, 128 -> 232 (rounded up to its allocation unit of 8).
int64_t estimatedRegisters(int64_t accumulators) {
  return accumulators <= 32 ? 72 : accumulators <= 64 ? 128
                                 : accumulators <= 96 ? 168 : 232;
}

/// The heuristic (docs/cuda-target.md, measured on an H100): among BM in
/// {32, 64, 128} (none larger than the smallest that covers M) and BN in
/// {128, 96, 64}, 4 warps (2 x 2, or 1 x 4 when BM = 32), BK = 32, 4 stages
/// where 3 blocks still fit an SM's shared memory (else 3, else 2), pick
/// the tiling
/// whose busiest SM has the least work, in units of tile area:
///   occupancy = blocks per SM allowed by registers and shared memory;
///   cost = ceil(blocks / (SMs * occupancy)) * min(occupancy, blocks per
///          SM) * BM * BN,
/// times 1.5 when occupancy < 3 limits it (8 warps per SM do not hide the
/// ldmatrix / mma latency: 128x128 ran at 147 TFLOP/s where 128x96, one
/// full wave at 3 blocks per SM, ran at 254). Ties go to the larger tile.
/// Wave quantization dominates: at 512x2048x9216 every other candidate
/// leaves a second, mostly empty wave.
GemmTiling chooseTiling(int64_t m, int64_t n, StringRef arch) {
  int64_t sms = smCount(arch);
  int64_t bmMax = m <= 32 ? 32 : m <= 64 ? 64 : 128;
  GemmTiling best{};
  int64_t bestCost = std::numeric_limits<int64_t>::max();
  for (int64_t bm : {128, 64, 32}) {
    if (bm > bmMax)
      continue;
    for (int64_t bn : {128, 96, 64}) {
      GemmTiling t;
      t.bm = bm;
      t.bn = bn;
      t.wm = bm >= 64 ? 2 : 1;
      t.wn = 4 / t.wm;
      // ldmatrix.x4 loads B fragments for pairs of n8 tiles.
      if (t.warpN() % 16 != 0 || (bn * 4) % t.threads() != 0)
        continue;
      int64_t stageBytes = (bm + bn) * t.bk * 2;
      // 4 stages (dynamic shared memory past 48 KiB) while 3 blocks still
      // fit an SM; else 3 within the static 48 KiB, else 2.
      t.stages = 4 * stageBytes + 1024 <= smShared(arch) / 3 ? 4
                 : 3 * stageBytes <= kMaxStaticShared        ? 3
                                                              : 2;
      int64_t regs = estimatedRegisters(t.mTiles() * t.nTiles() * 4);
      int64_t occupancy =
          std::min({int64_t(65536) / (t.threads() * regs),
                    smShared(arch) / (t.sharedBytes() + 1024), int64_t(16)});
      int64_t blocks = ((m + bm - 1) / bm) * ((n + bn - 1) / bn);
      int64_t perSM = (blocks + sms - 1) / sms;
      int64_t waves = (blocks + sms * occupancy - 1) / (sms * occupancy);
      int64_t cost = waves * std::min(occupancy, perSM) * bm * bn;
      if (occupancy < 3 && perSM > occupancy)
        cost = cost * 3 / 2;
      if (cost < bestCost ||
          (cost == bestCost && bm * bn > best.bm * best.bn)) {
        best = t;
        bestCost = cost;
      }
    }
  }
  // GEMM_VARIANT_HOOK: the measuring harness (git-ignored gemm-check/
  // variants.py) patches a tiling override in here.
  return best;
}

/// Only a plain linear whose X and W elements are extended from the same
/// 16-bit float type maps onto mma.sync; returns that type.
FailureOr<Type> tensorCoreType(const ContractionMatch &m, std::string &why) {
  if (m.gated()) {
    why = "gated linear (the gated GEMM is not written yet)";
    return failure();
  }
  if (!m.accType.isF32()) {
    why = "accumulator is not f32";
    return failure();
  }
  if (!m.activationType.isF16() && !m.activationType.isBF16()) {
    why = "activation is not f16/bf16";
    return failure();
  }
  if (m.weightType != m.activationType) {
    why = "weight and activation element types differ";
    return failure();
  }
  Block *body = &m.op->getRegion(0).front();
  auto isExtOf = [&](Value v, unsigned argNo) {
    auto ext = v.getDefiningOp<arith::ExtFOp>();
    return ext && ext.getIn() == body->getArgument(argNo);
  };
  if (!isExtOf(m.bodyOperand, 0) || !isExtOf(m.bodyWeight, 1)) {
    why = "body is not extf(x) * extf(w)";
    return failure();
  }
  return m.activationType;
}

/// Builds i32 index arithmetic and raw-pointer memory ops inside the kernel.
struct KernelBuilder {
  OpBuilder &b;
  Location loc;

  Type i32() { return b.getI32Type(); }
  Value c(int64_t v) {
    return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(v));
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value add(Value x, int64_t y) { return y ? add(x, c(y)) : x; }
  Value mul(Value x, int64_t y) {
    return y == 1 ? x : arith::MulIOp::create(b, loc, x, c(y));
  }
  Value shr(Value x, int64_t y) {
    return arith::ShRUIOp::create(b, loc, x, c(y));
  }
  Value band(Value x, int64_t y) {
    return arith::AndIOp::create(b, loc, x, c(y));
  }
  Value bxor(Value x, Value y) { return arith::XOrIOp::create(b, loc, x, y); }
  Value lt(Value x, int64_t y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, x, c(y));
  }
  Value both(Value x, Value y) { return arith::AndIOp::create(b, loc, x, y); }
  Value select(Value cond, Value x, Value y) {
    return arith::SelectOp::create(b, loc, cond, x, y);
  }
  Value toI32(Value index) {
    return arith::IndexCastOp::create(b, loc, i32(), index);
  }

  /// The memref's aligned base as a pointer in `addrSpace` (1: global,
  /// 3: shared). Identity layouts only, so there is no offset to add.
  Value pointer(Value memref, unsigned addrSpace) {
    Value idx = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, memref);
    Value i = arith::IndexCastOp::create(b, loc, b.getI64Type(), idx);
    return LLVM::IntToPtrOp::create(
        b, loc, LLVM::LLVMPointerType::get(b.getContext(), addrSpace), i);
  }
  Value gep(Value ptr, Type elt, Value offset) {
    return LLVM::GEPOp::create(b, loc, ptr.getType(), elt, ptr,
                               ValueRange{offset});
  }
  Value extract(Value aggregate, int64_t pos) {
    return LLVM::ExtractValueOp::create(b, loc, aggregate, pos);
  }
};

/// Everything the kernel body needs, computed once per thread.
struct GemmKernel {
  const ContractionMatch &m;
  GemmTiling t;
  Type elt;
  bool fuseEpilogue;
  KernelBuilder &kb;
  // Per-thread values.
  Value tid, lane, warpRow, warpCol, m0, n0;
  Value aGlobal, wGlobal, smem;
  int64_t kTiles = 0;

  int64_t aStage() const { return t.bm * t.bk; }
  int64_t stageElems() const { return (t.bm + t.bn) * t.bk; }

  /// Element offset of 16-byte chunk `chunk` of staged row `row`. The
  /// chunks of a row are XOR-swizzled so that the 8 rows one ldmatrix
  /// 8x8 matrix reads (same logical chunk) hit 8 distinct bank groups:
  /// 64-byte rows (BK = 32) pair up rows, so chunk ^ (row / 2) % 4;
  /// 128-byte rows (BK = 64): chunk ^ row % 8.
  Value swizzled(Value row, Value chunk) {
    Value swz = t.chunks() == 8
                    ? kb.bxor(chunk, kb.band(row, 7))
                    : kb.bxor(chunk, kb.band(kb.shr(row, 1), 3));
    return kb.add(kb.mul(row, t.bk), kb.mul(swz, 8));
  }

  /// Issues the cp.async copies of K slice `kTile` (i32) into stage
  /// `stage` (i32): BM rows of X then BN rows of W, BK / 8 chunks of 8
  /// elements per row; chunks outside M/N/K copy 0 bytes (zero fill) from a clamped,
  /// valid address.
  void loadSlice(Value kTile, Value stage) {
    OpBuilder &b = kb.b;
    Value k0 = kb.mul(kTile, t.bk);
    Value stageBase = kb.mul(stage, stageElems());
    auto copyRows = [&](Value global, int64_t rows, int64_t rowLimit,
                        Value rowStart, int64_t smemOffset) {
      int64_t log2Chunks = t.chunks() == 8 ? 3 : 2;
      for (int64_t i = 0; i < rows * t.chunks() / t.threads(); ++i) {
        Value q = kb.add(tid, i * t.threads());
        Value row = kb.shr(q, log2Chunks),
              chunk = kb.band(q, t.chunks() - 1);
        Value gRow = kb.add(rowStart, row);
        Value gCol = kb.add(k0, kb.mul(chunk, 8));
        Value ok = kb.both(kb.lt(gRow, rowLimit), kb.lt(gCol, m.k));
        Value gOff = kb.select(ok, kb.add(kb.mul(gRow, m.k), gCol), kb.c(0));
        Value sOff =
            kb.add(kb.add(stageBase, smemOffset), swizzled(row, chunk));
        Value bytes = kb.select(ok, kb.c(16), kb.c(0));
        NVVM::CpAsyncOp::create(b, kb.loc, kb.gep(smem, elt, sOff),
                                kb.gep(global, elt, gOff), 16,
                                NVVM::LoadCacheModifierKind::CG, bytes);
      }
    };
    copyRows(aGlobal, t.bm, m.m, m0, 0);
    copyRows(wGlobal, t.bn, m.n, n0, aStage());
  }

  /// ldmatrix.x4 at the swizzled (row, chunk) of the stage: four i32.
  SmallVector<Value, 4> ldmatrix(Value stageBase, int64_t smemOffset,
                                 Value row, Value chunk) {
    Value off = kb.add(kb.add(stageBase, smemOffset), swizzled(row, chunk));
    MLIRContext *ctx = kb.b.getContext();
    Type i32 = kb.i32();
    auto resTy = LLVM::LLVMStructType::getLiteral(ctx, {i32, i32, i32, i32});
    Value r = NVVM::LdMatrixOp::create(
        kb.b, kb.loc, resTy, kb.gep(smem, elt, off), 4,
        NVVM::MMALayout::row, NVVM::LdStMatrixShapeAttr::get(ctx, 8, 8),
        NVVM::LdStMatrixEltType::B16);
    SmallVector<Value, 4> regs;
    for (int64_t i = 0; i < 4; ++i)
      regs.push_back(kb.extract(r, i));
    return regs;
  }

  /// mma.sync m16n8k16 operands: i32 for bf16, f16x2 for f16.
  Value mmaOperand(Value reg) {
    if (elt.isBF16())
      return reg;
    return LLVM::BitcastOp::create(kb.b, kb.loc,
                                   VectorType::get({2}, kb.b.getF16Type()),
                                   reg);
  }

  /// One BK slice from stage `stage` into the accumulators (updated in
  /// place): for each k16 step, the warp's A fragments (one ldmatrix.x4 per
  /// m16 tile), B fragments (one per pair of n8 tiles), then MT x NT mma.
  void multiplySlice(Value stage, SmallVectorImpl<Value> &acc) {
    OpBuilder &b = kb.b;
    MLIRContext *ctx = b.getContext();
    Value stageBase = kb.mul(stage, stageElems());
    int64_t mt = t.mTiles(), nt = t.nTiles();
    Type f32 = b.getF32Type();
    auto accTy = LLVM::LLVMStructType::getLiteral(ctx, {f32, f32, f32, f32});
    NVVM::MMATypes ptxType =
        elt.isBF16() ? NVVM::MMATypes::bf16 : NVVM::MMATypes::f16;
    // Lanes 0-15 address rows 0-15 at chunk 0, lanes 16-31 at chunk 1 (A);
    // for B, lanes 8-15 / 24-31 take chunk 1 and lanes 16-31 rows 8-15.
    Value aRow = kb.band(lane, 15), aChunk = kb.shr(lane, 4);
    Value bRow = kb.add(kb.band(lane, 7), kb.mul(kb.shr(lane, 4), 8));
    Value bChunk = kb.band(kb.shr(lane, 3), 1);
    const int64_t shape[] = {16, 8, 16};
    for (int64_t kk = 0; kk < t.bk / 16; ++kk) {
      SmallVector<SmallVector<Value, 4>> a, bf;
      for (int64_t i = 0; i < mt; ++i)
        a.push_back(ldmatrix(stageBase, 0,
                             kb.add(kb.add(warpRow, i * 16), aRow),
                             kb.add(aChunk, kk * 2)));
      for (int64_t j = 0; j < nt / 2; ++j)
        bf.push_back(ldmatrix(stageBase, aStage(),
                              kb.add(kb.add(warpCol, j * 16), bRow),
                              kb.add(bChunk, kk * 2)));
      for (int64_t i = 0; i < mt; ++i)
        for (int64_t j = 0; j < nt; ++j) {
          SmallVector<Value, 4> aOps, bOps;
          for (Value r : a[i])
            aOps.push_back(mmaOperand(r));
          bOps.push_back(mmaOperand(bf[j / 2][(j % 2) * 2]));
          bOps.push_back(mmaOperand(bf[j / 2][(j % 2) * 2 + 1]));
          int64_t base = (i * nt + j) * 4;
          ValueRange cOps = ValueRange(acc).slice(base, 4);
          Value d = NVVM::MmaOp::create(
              b, kb.loc, accTy, aOps, bOps, cOps, ArrayRef<int64_t>(shape),
              std::nullopt,
              std::nullopt, std::array{ptxType, ptxType},
              std::array{NVVM::MMALayout::row, NVVM::MMALayout::col});
          for (int64_t e = 0; e < 4; ++e)
            acc[base + e] = kb.extract(d, e);
        }
    }
  }

  /// Adds the initial value and writes C: the m16n8 f32 fragment holds rows
  /// lane / 4 and lane / 4 + 8, columns 2 * (lane % 4) and the next one.
  /// The lane's two adjacent columns go out as one vector store when
  /// aligned (packed), else as two scalar stores.
  void epilogue(ValueRange acc) {
    OpBuilder &b = kb.b;
    Location loc = kb.loc;
    Value outBuf = fuseEpilogue ? m.output : m.acc;
    Type outElt = fuseEpilogue ? m.outputType : m.accType;
    Value out = kb.pointer(outBuf, 1);
    Value bias = m.init == AccInit::Bias ? kb.pointer(m.bias, 1) : Value();
    Type biasElt =
        bias ? cast<MemRefType>(m.bias.getType()).getElementType() : Type();
    Value rowInFrag = kb.shr(lane, 2), colInFrag = kb.mul(kb.band(lane, 3), 2);
    // A lane's two columns are adjacent and the first is even: with N even
    // and the base aligned to the pair, they form one aligned vector store.
    int64_t outBytes = outElt.getIntOrFloatBitWidth() / 8;
    bool packed = m.n % 2 == 0 && knownBaseAlignment(outBuf) >= 2 * outBytes;
    auto pairTy = VectorType::get({2}, outElt);
    // Staged: the block's converted tile goes through shared memory (rows
    // padded by 16 bytes so that the fragment writes of a warp hit distinct
    // banks), then out in coalesced 16-byte row chunks.
    int64_t perChunk = 16 / outBytes;
    int64_t pitch = t.bn * outBytes + 16;
    bool staged = t.stagedEpilogue && packed && m.n % perChunk == 0 &&
                  knownBaseAlignment(outBuf) >= 16 &&
                  t.bm * pitch <= t.sharedBytes();
    if (staged) // Every warp is done reading the last stage.
      gpu::BarrierOp::create(b, loc);
    auto guarded = [&](Value cond, function_ref<void()> body) {
      auto guard = scf::IfOp::create(b, loc, cond, /*withElseRegion=*/false);
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(&guard.getThenRegion().front());
      body();
    };
    for (int64_t j = 0; j < t.nTiles(); ++j) {
      Value col = kb.add(kb.add(n0, kb.add(warpCol, j * 8)), colInFrag);
      Value colOk = kb.lt(col, m.n);
      for (int64_t i = 0; i < t.mTiles(); ++i)
        for (int64_t half = 0; half < 2; ++half) {
          Value row = kb.add(kb.add(m0, kb.add(warpRow, i * 16 + half * 8)),
                             rowInFrag);
          Value rowStart = kb.mul(row, m.n);
          auto value = [&](int64_t e) {
            Value v = acc[(i * t.nTiles() + j) * 4 + half * 2 + e];
            Value c = kb.add(col, e);
            if (bias) {
              Value be = LLVM::LoadOp::create(b, loc, biasElt,
                                              kb.gep(bias, biasElt, c));
              v = arith::AddFOp::create(b, loc, v,
                                        emitInitElement(b, loc, m, be));
            }
            if (fuseEpilogue)
              v = emitOutputElement(b, m, v);
            return v;
          };
          auto store = [&](int64_t e) {
            LLVM::StoreOp::create(
                b, loc, value(e),
                kb.gep(out, outElt, kb.add(rowStart, kb.add(col, e))));
          };
          guarded(kb.both(colOk, kb.lt(row, m.m)), [&] {
            if (staged) {
              Value vec = LLVM::PoisonOp::create(b, loc, pairTy);
              for (int64_t e = 0; e < 2; ++e)
                vec = LLVM::InsertElementOp::create(b, loc, vec, value(e),
                                                    kb.c(e));
              Value tileRow = kb.add(warpRow, i * 16 + half * 8);
              Value tileCol = kb.add(warpCol, j * 8);
              Value off = kb.add(kb.mul(kb.add(tileRow, rowInFrag), pitch),
                                 kb.mul(kb.add(tileCol, colInFrag), outBytes));
              LLVM::StoreOp::create(b, loc, vec,
                                    kb.gep(smem, b.getI8Type(), off),
                                    2 * outBytes);
              return;
            }
            if (packed) {
              // Both elements in one 4- or 8-byte store.
              Value vec = LLVM::PoisonOp::create(b, loc, pairTy);
              for (int64_t e = 0; e < 2; ++e)
                vec = LLVM::InsertElementOp::create(b, loc, vec, value(e),
                                                    kb.c(e));
              LLVM::StoreOp::create(
                  b, loc, vec, kb.gep(out, outElt, kb.add(rowStart, col)),
                  2 * outBytes);
              return;
            }
            store(0);
            // col is even: with N even, col < N implies col + 1 < N.
            if (m.n % 2 == 0)
              store(1);
            else
              guarded(kb.lt(kb.add(col, 1), m.n), [&] { store(1); });
          });
        }
    }
    if (!staged)
      return;
    gpu::BarrierOp::create(b, loc);
    int64_t rowChunks = t.bn / perChunk, total = t.bm * rowChunks;
    auto chunkTy = VectorType::get({4}, kb.i32());
    for (int64_t it = 0; it * t.threads() < total; ++it) {
      Value q = kb.add(tid, it * t.threads());
      Value row = arith::DivUIOp::create(b, loc, q, kb.c(rowChunks));
      Value chunk = arith::RemUIOp::create(b, loc, q, kb.c(rowChunks));
      Value gRow = kb.add(m0, row);
      Value gCol = kb.add(n0, kb.mul(chunk, perChunk));
      // N is a multiple of the chunk: a chunk is wholly inside or outside.
      Value ok = kb.both(kb.lt(gRow, m.m), kb.lt(gCol, m.n));
      if ((it + 1) * t.threads() > total)
        ok = kb.both(ok, kb.lt(q, total));
      guarded(ok, [&] {
        Value sOff = kb.add(kb.mul(row, pitch), kb.mul(chunk, 16));
        Value v = LLVM::LoadOp::create(b, loc, chunkTy,
                                       kb.gep(smem, b.getI8Type(), sOff), 16);
        LLVM::StoreOp::create(
            b, loc, v,
            kb.gep(out, outElt, kb.add(kb.mul(gRow, m.n), gCol)), 16);
      });
    }
  }

  void build(gpu::LaunchOp launch) {
    OpBuilder &b = kb.b;
    Location loc = kb.loc;
    tid = kb.toI32(launch.getThreadIds().x);
    Value warp = kb.shr(tid, 5);
    lane = kb.band(tid, 31);
    Value wmIdx = arith::DivUIOp::create(b, loc, warp, kb.c(t.wn));
    Value wnIdx = arith::RemUIOp::create(b, loc, warp, kb.c(t.wn));
    warpRow = kb.mul(wmIdx, t.warpM());
    warpCol = kb.mul(wnIdx, t.warpN());
    n0 = kb.mul(kb.toI32(launch.getBlockIds().x), t.bn);
    m0 = kb.mul(kb.toI32(launch.getBlockIds().y), t.bm);
    aGlobal = kb.pointer(m.activations[0], 1);
    wGlobal = kb.pointer(m.weight, 1);
    // Dynamic shared memory (beyond 48 KiB) is 16-byte aligned too.
    Value staged;
    if (launch.getWorkgroupAttributions().empty())
      staged = gpu::DynamicSharedMemoryOp::create(
          b, loc,
          MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                          MemRefLayoutAttrInterface(),
                          gpu::AddressSpaceAttr::get(
                              b.getContext(),
                              gpu::GPUDialect::getWorkgroupAddressSpace())));
    else
      staged = launch.getWorkgroupAttributions()[0];
    smem = kb.pointer(staged, 3);
    kTiles = (m.k + t.bk - 1) / t.bk;

    // Prologue: the first stages - 1 slices in flight, one group each
    // (empty groups past K keep the wait counts uniform).
    for (int64_t s = 0; s + 1 < t.stages; ++s) {
      if (s < kTiles)
        loadSlice(kb.c(s), kb.c(s));
      NVVM::CpAsyncCommitGroupOp::create(b, loc);
    }
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0));
    SmallVector<Value> init(t.mTiles() * t.nTiles() * 4, zero);
    Value lb = arith::ConstantIndexOp::create(b, loc, 0);
    Value ub = arith::ConstantIndexOp::create(b, loc, kTiles);
    Value step = arith::ConstantIndexOp::create(b, loc, 1);
    auto loop =
        scf::ForOp::create(b, loc, lb, ub, step, init,
                           [](OpBuilder &, Location, Value, ValueRange) {});
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(loop.getBody());
      // Slice kt has landed (at most stages - 2 younger groups pending) and
      // every warp is done with the stage about to be refilled.
      NVVM::CpAsyncWaitGroupOp::create(b, loc, t.stages - 2);
      gpu::BarrierOp::create(b, loc);
      Value kt = kb.toI32(loop.getInductionVar());
      Value next = kb.add(kt, t.stages - 1);
      auto pending = scf::IfOp::create(b, loc, kb.lt(next, kTiles), false);
      {
        OpBuilder::InsertionGuard g2(b);
        b.setInsertionPointToStart(&pending.getThenRegion().front());
        loadSlice(next, arith::RemUIOp::create(b, loc, next, kb.c(t.stages)));
      }
      NVVM::CpAsyncCommitGroupOp::create(b, loc);
      SmallVector<Value> acc(loop.getRegionIterArgs());
      multiplySlice(arith::RemUIOp::create(b, loc, kt, kb.c(t.stages)), acc);
      scf::YieldOp::create(b, loc, acc);
    }
    NVVM::CpAsyncWaitGroupOp::create(b, loc, 0);
    epilogue(loop.getResults());
    gpu::TerminatorOp::create(b, loc);
  }
};

} // namespace

LogicalResult emitTensorCoreGemm(RewriterBase &rw, linalg::LinalgOp op,
                                 const KernelOptions &options,
                                 std::string &why) {
  FailureOr<ContractionMatch> match = matchContraction(op, why);
  if (failed(match))
    return failure();
  const ContractionMatch &m = *match;
  FailureOr<Type> elt = tensorCoreType(m, why);
  if (failed(elt))
    return failure();
  // Fewer rows are the GEMV's (Gemv.cpp takes M <= 8); from 9 on, one
  // m16 fragment already holds more than half useful rows.
  if (m.m <= 8) {
    why = "M = " + std::to_string(m.m) + " <= 8 (a GEMV shape)";
    return failure();
  }
  // cp.async copies 16-byte chunks of whole rows: rows must start on 16
  // bytes, and a chunk must not straddle the end of a row.
  if (m.k % 8 != 0) {
    why = "K = " + std::to_string(m.k) + " is not a multiple of 8";
    return failure();
  }
  // i32 offsets.
  if (m.m * m.k >= (int64_t(1) << 31) || m.n * m.k >= (int64_t(1) << 31) ||
      m.m * m.n >= (int64_t(1) << 31)) {
    why = "an operand has 2^31 or more elements";
    return failure();
  }
  for (Value v : {m.activations[0], m.weight})
    if (knownBaseAlignment(v) < 16) {
      why = "an operand's base is not known to be 16-byte aligned";
      return failure();
    }
  // The output is written as the K loop of other blocks still reads X, W
  // and the bias: fuse the conversion only when it writes none of them.
  SmallVector<Value> reads{m.activations[0], m.weight};
  if (m.bias)
    reads.push_back(m.bias);
  bool fuse = m.epilogue && m.epilogueFusable &&
              llvm::none_of(reads,
                            [&](Value r) { return mayAlias(r, m.output); });
  Value written = fuse ? m.output : m.acc;
  if (m.bias && mayAlias(m.bias, written)) {
    why = "the bias may share bytes with the written buffer";
    return failure();
  }
  GemmTiling t = chooseTiling(m.m, m.n, options.gpuArch);
  // The kernel goes where its last fused op was: between the contraction
  // and the epilogue there are only ops without memory effects (views), and
  // the output buffer may be one of them.
  linalg::GenericOp contraction = m.op, epilogueOp = m.epilogue;
  Operation *anchor =
      fuse ? epilogueOp.getOperation() : contraction.getOperation();
  rw.setInsertionPoint(anchor);
  Location loc = m.op->getLoc();
  auto idx = [&](int64_t v) {
    return arith::ConstantIndexOp::create(rw, loc, v).getResult();
  };
  // 8-element vectors: the shared global gets the vector's 16-byte
  // alignment (cp.async and ldmatrix need it); addressed as scalars.
  auto workgroup = gpu::AddressSpaceAttr::get(
      rw.getContext(), gpu::GPUDialect::getWorkgroupAddressSpace());
  bool dynamicShared = t.sharedBytes() > kMaxStaticShared;
  SmallVector<Type> attributions;
  Value dynamicBytes;
  if (dynamicShared) {
    dynamicBytes = arith::ConstantOp::create(
        rw, loc, rw.getI32IntegerAttr(t.sharedBytes()));
  } else {
    attributions.push_back(MemRefType::get(
        {t.sharedBytes() / 16}, VectorType::get({8}, *elt),
        MemRefLayoutAttrInterface(), workgroup));
  }
  Value one = idx(1);
  auto launch = gpu::LaunchOp::create(
      rw, loc, idx((m.n + t.bn - 1) / t.bn), idx((m.m + t.bm - 1) / t.bm), one,
      idx(t.threads()), one, one, dynamicBytes,
      /*asyncTokenType=*/nullptr, /*asyncDependencies=*/{},
      /*workgroupAttributions=*/attributions);
  launch->setAttr(
      "sinter.kernel",
      rw.getStringAttr(llvm::formatv(
          "gemm m={0} n={1} k={2} tile={3}x{4}x{5} warps={6}x{7} stages={8} "
          "grid={9}x{10} shared={11}{12} fused_epilogue={13}",
          m.m, m.n, m.k, t.bm, t.bn, t.bk, t.wm, t.wn, t.stages,
          (m.n + t.bn - 1) / t.bn, (m.m + t.bm - 1) / t.bm, t.sharedBytes(),
          dynamicShared ? "(dynamic)" : "", fuse ? 1 : 0)));
  rw.setInsertionPointToStart(&launch.getBody().front());
  KernelBuilder kb{rw, loc};
  GemmKernel kernel{m,  t,  *elt, fuse, kb, {}, {}, {},
                    {}, {}, {}, {},   {},   {}, 0};
  kernel.build(launch);
  eraseContraction(rw, m, fuse);
  return success();
}

} // namespace sinter::cuda
