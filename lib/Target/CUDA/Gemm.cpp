//===- Gemm.cpp - tensor-core GEMM kernel template ------------------------===//
//
// A bufferized f16/bf16 linear (ContractionMatch.h: X [M, K] times W [N, K]
// transposed, f32 accumulation) with M > 8 becomes one gpu.launch that
// computes C = X * W^T + bias on tensor cores and writes the converted
// output directly (docs/cuda-target.md, "Tensor-core GEMM"):
//
// - the grid tiles C into BM x BN blocks (x: M tiles, y: N tiles, so that
//   the blocks sharing a weight tile run together; see mTilesFastest); 4 warps
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
// On sm_90a with M >= 64 the multiply is Hopper's warpgroup MMA instead:
// BK = 64 slices whose 128-byte rows carry the same XOR swizzle as
// wgmma's 128-byte swizzle mode (stages 1024-byte aligned), one warpgroup
// per 64 rows of the tile issuing wgmma.mma_async m64nBNk16 with both
// operands read through shared-memory descriptors, after a proxy fence
// (cp.async writes are generic-proxy, wgmma reads async-proxy). The
// accumulator layout per warp is mma.sync's m16n8 one, so the epilogue is
// shared. No TMA: cp.async needs no host-side tensor maps.
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
#include "TensorCore.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <limits>
#include <optional>

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
  /// sm_90a: warpgroup MMA (wgmma.mma_async from 128B-swizzled shared
  /// memory) instead of ldmatrix + mma.sync; one warpgroup per 64 rows
  /// (wm = BM / 16 warps of 16 rows, wn = 1), BK = 64.
  int64_t wgmma = 0;
  /// wgmma groups left in flight at the end of a K step (0 or 1): with 1,
  /// slice k + 1's MMAs are issued before slice k's have finished, and the
  /// stage refilled is the one of slice k - 2.
  int64_t inflight = 0;
  int64_t threads() const { return 32 * wm * wn; }
  int64_t warpM() const { return bm / wm; }
  int64_t warpN() const { return bn / wn; }
  /// m16 and n8 fragments per warp.
  int64_t mTiles() const { return warpM() / 16; }
  int64_t nTiles() const { return warpN() / 8; }
  /// 16-byte chunks per staged row.
  int64_t chunks() const { return bk / 8; }
  /// wgmma reads 1024-byte swizzle atoms: 1 KiB of slack to align the base.
  int64_t sharedBytes() const {
    return stages * (bm + bn) * bk * 2 + (wgmma ? 1024 : 0);
  }
  /// Slices loaded ahead of the one being multiplied.
  int64_t prefetch() const { return stages - 1 - inflight; }
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
/// Takes the warpgroup-MMA path: sm_90a (wgmma is not in sm_100a), and
/// at least one m64 warpgroup tile of rows (fewer rows are mostly padding
/// in an m64 tile; mma.sync's m16 tiles waste less).
bool useWgmma(int64_t m, StringRef arch) { return arch == "sm_90a" && m >= 64; }

/// The sm_90a heuristic (docs/cuda-target.md): BM = 128 (two consumer
/// warpgroups, each m64) or 64 (one), BN a multiple of 16 up to 256,
/// BK = 64 (one 128-byte swizzled row per K slice). For each, and each
/// number of blocks per SM `o` (1..4, within the register file: about
/// BN / 2 accumulators + 48 registers per thread), the stages that fit
/// 228 KiB / o (at most 4, at least 2); cost = waves * min(o, blocks per
/// SM) * max(BM * BN, 64 * (BM + BN)), x 1.25 with only 2 stages (one
/// slice of prefetch leaves the tensor cores waiting on memory). The max:
/// a slice's MMAs take BM * BN / 32 cycles of an SM's tensor cores, its
/// copies (BM + BN) * 128 bytes at about 64 bytes per cycle from L2, so
/// tiles with BM * BN / (BM + BN) < 64 are bound by their loads. Ties: more
/// blocks per SM, then the larger tile. At 512 x 2048 x 9216: 128 x 144, 3
/// stages, 2 blocks per SM (256 blocks, one wave on 132 SMs).
GemmTiling chooseWgmmaTiling(int64_t m, int64_t n, StringRef arch) {
  int64_t sms = smCount(arch);
  GemmTiling best{};
  int64_t bestCost = std::numeric_limits<int64_t>::max(), bestOcc = 0;
  for (int64_t bm : {128, 64}) {
    if (bm == 128 && m <= 64)
      continue;
    for (int64_t bn = 256; bn >= 16; bn -= 16) {
      GemmTiling t;
      t.bm = bm;
      t.bn = bn;
      t.wm = bm / 16;
      t.wn = 1;
      t.bk = 64;
      t.wgmma = 1;
      int64_t stageBytes = (bm + bn) * t.bk * 2;
      int64_t regs = (bn / 2 + 48 + 7) / 8 * 8;
      int64_t regOcc = int64_t(65536) / (t.threads() * regs);
      int64_t tiles = ((m + bm - 1) / bm) * ((n + bn - 1) / bn);
      int64_t perSM = (tiles + sms - 1) / sms;
      for (int64_t o = 1; o <= std::min<int64_t>(regOcc, 4); ++o) {
        // Per block: the SM's shared memory / o, less the driver's 1 KiB
        // per block and the 1 KiB alignment slack.
        int64_t stages =
            std::min<int64_t>(4, (smShared(arch) / o - 2048) / stageBytes);
        if (stages < 2)
          continue;
        t.stages = stages;
        // Waiting for each slice's wgmma group before the next slice's
        // copies measured faster than keeping one group in flight (which
        // costs a slice of prefetch): 29.3 against 37.7 us at the bench
        // shape on an H200.
        t.inflight = 0;
        int64_t waves = (tiles + sms * o - 1) / (sms * o);
        int64_t area = std::max(bm * bn, 64 * (bm + bn));
        int64_t cost = waves * std::min(o, perSM) * area;
        // Many waves (the prefill lm_head, 4 x 1940 tiles): the last
        // wave's rounding is noise, but counting it picked 1 block per SM
        // (59 waves) over 2 (30 waves of 2), and one block of 8 warps
        // leaves the tensor cores idle at every slice's barrier. Cost the
        // tiles' work alone, so that ties go to more blocks per SM; and
        // keep 8 registers of slack there (at 128 x 160 the estimate is
        // exactly the 2-block budget, and a register more than estimated
        // halves the occupancy).
        if (waves >= 8) {
          if (o > 1 && o * t.threads() * (regs + 8) > 65536)
            continue;
          cost = (tiles * area + sms - 1) / sms;
        }
        if (stages == 2)
          cost = cost * 5 / 4;
        int64_t busy = std::min(o, perSM);
        if (cost < bestCost ||
            (cost == bestCost &&
             (busy > bestOcc ||
              (busy == bestOcc && bm * bn > best.bm * best.bn)))) {
          best = t;
          bestCost = cost;
          bestOcc = busy;
        }
      }
    }
  }
  return best;
}

GemmTiling chooseTiling(int64_t m, int64_t n, StringRef arch) {
  if (useWgmma(m, arch)) {
    GemmTiling best = chooseWgmmaTiling(m, n, arch);
    // GEMM_VARIANT_HOOK_WGMMA: the measuring harness patches an override
    // in here.
    return best;
  }
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

/// Block order: the hardware hands out blocks x-fastest, so with x over N
/// the M tiles that share one weight tile run a whole row of N tiles
/// apart, and a weight larger than L2 is read from DRAM once per M tile
/// (the prefill lm_head, 512 x 248320 x 2048: 4 reads of its 1 GB, 4.6 GB
/// of DRAM traffic). With x over M they are neighbours, in flight together,
/// and L2 serves the repeats. Only when more than one M tile shares a
/// weight tile, and the N tiles fit grid.y (at most 65535).
bool mTilesFastest(int64_t mTiles, int64_t nTiles) {
  return mTiles > 1 && nTiles <= 65535;
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

/// Everything the kernel body needs, computed once per thread.
struct GemmKernel {
  const ContractionMatch &m;
  GemmTiling t;
  Type elt;
  bool fuseEpilogue;
  /// blockIdx.x walks the M tiles (see mTilesFastest).
  bool mFastest;
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
      int64_t total = rows * t.chunks();
      for (int64_t i = 0; i * t.threads() < total; ++i) {
        Value q = kb.add(tid, i * t.threads());
        // A tile whose chunks do not divide among the threads (wgmma's BN
        // = 144 over 256 threads): the last round is partial.
        std::optional<OpBuilder::InsertionGuard> tail;
        if ((i + 1) * t.threads() > total) {
          auto guard = scf::IfOp::create(b, kb.loc, kb.lt(q, total), false);
          tail.emplace(b);
          b.setInsertionPointToStart(&guard.getThenRegion().front());
        }
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
    return ldmatrixX4(kb, kb.gep(smem, elt, off), /*trans=*/false);
  }

  /// i64 shared-memory matrix descriptor of the aligned shared base (PTX
  /// ISA, "Matrix Descriptor Format"): start address >> 4 in bits 0-13,
  /// leading byte offset >> 4 in 16-29 (unused by K-major swizzled
  /// layouts; 1 by convention), stride byte offset >> 4 in 32-45 (1024:
  /// the next 8-row, 1024-byte swizzle atom), swizzle in 62-63 (1:
  /// 128-byte). Staged rows are 128 bytes (BK = 64) whose 16-byte chunks
  /// sit at chunk ^ row % 8 (swizzled()), which is exactly the 128-byte
  /// swizzle of a 1024-byte aligned atom.
  Value descBase, wgDescOffset;

  /// One BK = 64 slice from stage `stage` into the accumulators (updated
  /// in place): 4 wgmma.mma_async m64nBNk16 per warpgroup, A (the
  /// warpgroup's 64 rows) and B (all BN rows) from shared memory. The
  /// instruction is inline PTX: MLIR's nvvm.wgmma.mma_async needs
  /// convert-nvvm-to-llvm, which the codegen pipeline does not run.
  void wgmmaSlice(Value stage, SmallVectorImpl<Value> &acc) {
    OpBuilder &b = kb.b;
    Location loc = kb.loc;
    Type i64 = b.getI64Type();
    auto c64 = [&](int64_t v) {
      return arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(v));
    };
    Value stageOff = arith::ExtUIOp::create(
        b, loc, i64, kb.mul(stage, stageElems() * 2 / 16));
    Value base = arith::AddIOp::create(b, loc, descBase, stageOff);
    Value aBase = arith::AddIOp::create(b, loc, base, wgDescOffset);
    Value bBase = arith::AddIOp::create(b, loc, base, c64(aStage() * 2 / 16));
    int64_t n = t.bn / 2;
    std::string type = elt.isBF16() ? "bf16" : "f16";
    // scale-d is a predicate operand (always 1: accumulate); trans-a/b 0:
    // both operands K-major.
    std::string asmStr = "{ .reg .pred p; setp.ne.b32 p, $" +
                         std::to_string(n + 2) +
                         ", 0; wgmma.mma_async.sync.aligned.m64n" +
                         std::to_string(t.bn) + "k16.f32." + type + "." +
                         type + " {";
    std::string constraints;
    for (int64_t i = 0; i < n; ++i) {
      asmStr += (i ? ", $" : "$") + std::to_string(i);
      constraints += "=f,";
    }
    asmStr += "}, $" + std::to_string(n) + ", $" + std::to_string(n + 1) +
              ", p, 1, 1, 0, 0; }";
    constraints += "l,l,r";
    for (int64_t i = 0; i < n; ++i)
      constraints += "," + std::to_string(i);
    auto resTy = LLVM::LLVMStructType::getLiteral(
        b.getContext(), SmallVector<Type>(n, b.getF32Type()));
    Value one = kb.c(1);
    for (int64_t kk = 0; kk < t.bk / 16; ++kk) {
      // A k16 step is 32 bytes further along the (swizzled) rows.
      SmallVector<Value> operands{
          arith::AddIOp::create(b, loc, aBase, c64(kk * 2)),
          arith::AddIOp::create(b, loc, bBase, c64(kk * 2)), one};
      operands.append(acc.begin(), acc.end());
      auto mma = LLVM::InlineAsmOp::create(
          b, loc, resTy, operands, asmStr, constraints,
          /*has_side_effects=*/true, /*is_align_stack=*/false,
          LLVM::tailcallkind::TailCallKind::None, LLVM::AsmDialectAttr(),
          ArrayAttr());
      for (int64_t i = 0; i < n; ++i)
        acc[i] = kb.extract(mma.getResult(0), i);
    }
  }

  /// After the last wgmma.wait_group: the accumulators pass through an
  /// empty side-effecting asm so that no read of them is scheduled before
  /// the wait (they are written asynchronously).
  void fenceAccumulators(SmallVectorImpl<Value> &acc) {
    OpBuilder &b = kb.b;
    int64_t n = acc.size();
    std::string constraints;
    for (int64_t i = 0; i < n; ++i)
      constraints += "=f,";
    for (int64_t i = 0; i < n; ++i)
      constraints += (i ? "," : "") + std::to_string(i);
    auto resTy = LLVM::LLVMStructType::getLiteral(
        b.getContext(), SmallVector<Type>(n, b.getF32Type()));
    auto fence = LLVM::InlineAsmOp::create(
        b, kb.loc, resTy, acc, "", constraints, /*has_side_effects=*/true,
        /*is_align_stack=*/false, LLVM::tailcallkind::TailCallKind::None,
        LLVM::AsmDialectAttr(), ArrayAttr());
    for (int64_t i = 0; i < n; ++i)
      acc[i] = kb.extract(fence.getResult(0), i);
  }

  /// One BK slice from stage `stage` into the accumulators (updated in
  /// place): for each k16 step, the warp's A fragments (one ldmatrix.x4 per
  /// m16 tile), B fragments (one per pair of n8 tiles), then MT x NT mma.
  void multiplySlice(Value stage, SmallVectorImpl<Value> &acc) {
    Value stageBase = kb.mul(stage, stageElems());
    int64_t mt = t.mTiles(), nt = t.nTiles();
    // Lanes 0-15 address rows 0-15 at chunk 0, lanes 16-31 at chunk 1 (A);
    // for B, lanes 8-15 / 24-31 take chunk 1 and lanes 16-31 rows 8-15.
    Value aRow = kb.band(lane, 15), aChunk = kb.shr(lane, 4);
    Value bRow = kb.add(kb.band(lane, 7), kb.mul(kb.shr(lane, 4), 8));
    Value bChunk = kb.band(kb.shr(lane, 3), 1);
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
        for (int64_t j = 0; j < nt; ++j)
          mmaM16N8K16(kb, elt, a[i],
                      {bf[j / 2][(j % 2) * 2], bf[j / 2][(j % 2) * 2 + 1]},
                      MutableArrayRef<Value>(acc).slice((i * nt + j) * 4, 4));
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
    Value nTile = launch.getBlockIds().x, mTile = launch.getBlockIds().y;
    if (mFastest)
      std::swap(nTile, mTile);
    n0 = kb.mul(kb.toI32(nTile), t.bn);
    m0 = kb.mul(kb.toI32(mTile), t.bm);
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
    if (t.wgmma) {
      buildWgmma();
      return;
    }

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

  /// The sm_90a main loop: every thread copies (cp.async into the swizzled
  /// stages) and each warpgroup multiplies its 64 rows with wgmma. Slice
  /// k + prefetch is loaded while slice k is multiplied; with `inflight`
  /// = 1 the wgmma group of slice k is still running when slice k + 1's
  /// copies are issued.
  void buildWgmma() {
    OpBuilder &b = kb.b;
    Location loc = kb.loc;
    Type i64 = b.getI64Type();
    // The 128-byte swizzle is a function of address bits 7-9: stages start
    // on 1024 bytes (sharedBytes() has the slack).
    Value raw = LLVM::PtrToIntOp::create(b, loc, kb.i32(), smem);
    Value aligned = kb.band(kb.add(raw, 1023), ~int64_t(1023));
    smem = LLVM::IntToPtrOp::create(b, loc, smem.getType(), aligned);
    auto c64 = [&](int64_t v) {
      return arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(v));
    };
    Value startField = arith::ExtUIOp::create(b, loc, i64, kb.shr(aligned, 4));
    int64_t fixed = (int64_t(1) << 16) | (int64_t(1024 / 16) << 32) |
                    (int64_t(1) << 62);
    descBase = arith::OrIOp::create(b, loc, startField, c64(fixed));
    // Warpgroup g multiplies rows 64 g .. 64 g + 63 of the tile.
    wgDescOffset = arith::ExtUIOp::create(
        b, loc, i64, kb.mul(kb.shr(tid, 7), 64 * t.bk * 2 / 16));

    int64_t prefetch = t.prefetch();
    for (int64_t s = 0; s < prefetch; ++s) {
      if (s < kTiles)
        loadSlice(kb.c(s), kb.c(s));
      NVVM::CpAsyncCommitGroupOp::create(b, loc);
    }
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0));
    SmallVector<Value> init(t.bn / 2, zero);
    Value lb = arith::ConstantIndexOp::create(b, loc, 0);
    Value ub = arith::ConstantIndexOp::create(b, loc, kTiles);
    Value step = arith::ConstantIndexOp::create(b, loc, 1);
    auto loop =
        scf::ForOp::create(b, loc, lb, ub, step, init,
                           [](OpBuilder &, Location, Value, ValueRange) {});
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(loop.getBody());
      // Slice kt has landed; the copies were generic-proxy writes that the
      // wgmma (async proxy) reads: a proxy fence in each writing thread,
      // then the barrier. The barrier also says that every warpgroup is
      // done with the stage refilled next (its wgmma group waited).
      NVVM::CpAsyncWaitGroupOp::create(b, loc, prefetch - 1);
      NVVM::FenceProxyOp::create(
          b, loc, NVVM::ProxyKind::async_shared,
          NVVM::SharedSpaceAttr::get(b.getContext(),
                                     NVVM::SharedSpace::shared_cta));
      gpu::BarrierOp::create(b, loc);
      Value kt = kb.toI32(loop.getInductionVar());
      Value next = kb.add(kt, prefetch);
      auto pending = scf::IfOp::create(b, loc, kb.lt(next, kTiles), false);
      {
        OpBuilder::InsertionGuard g2(b);
        b.setInsertionPointToStart(&pending.getThenRegion().front());
        loadSlice(next, arith::RemUIOp::create(b, loc, next, kb.c(t.stages)));
      }
      NVVM::CpAsyncCommitGroupOp::create(b, loc);
      SmallVector<Value> acc(loop.getRegionIterArgs());
      NVVM::WgmmaFenceAlignedOp::create(b, loc);
      wgmmaSlice(arith::RemUIOp::create(b, loc, kt, kb.c(t.stages)), acc);
      NVVM::WgmmaGroupSyncAlignedOp::create(b, loc);
      NVVM::WgmmaWaitGroupSyncOp::create(b, loc, t.inflight);
      scf::YieldOp::create(b, loc, acc);
    }
    NVVM::WgmmaWaitGroupSyncOp::create(b, loc, 0);
    SmallVector<Value> acc(loop.getResults());
    fenceAccumulators(acc);
    NVVM::CpAsyncWaitGroupOp::create(b, loc, 0);
    epilogue(acc);
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
  int64_t nTiles = (m.n + t.bn - 1) / t.bn, mTiles = (m.m + t.bm - 1) / t.bm;
  bool mFastest = mTilesFastest(mTiles, nTiles);
  int64_t gridX = mFastest ? mTiles : nTiles;
  int64_t gridY = mFastest ? nTiles : mTiles;
  auto launch = gpu::LaunchOp::create(
      rw, loc, idx(gridX), idx(gridY), one, idx(t.threads()), one, one,
      dynamicBytes,
      /*asyncTokenType=*/nullptr, /*asyncDependencies=*/{},
      /*workgroupAttributions=*/attributions);
  launch->setAttr(
      "sinter.kernel",
      rw.getStringAttr(llvm::formatv(
          "gemm m={0} n={1} k={2} tile={3}x{4}x{5} warps={6}x{7} stages={8} "
          "grid={9}x{10}{15} shared={11}{12} fused_epilogue={13} mma={14}",
          m.m, m.n, m.k, t.bm, t.bn, t.bk, t.wm, t.wn, t.stages, gridX,
          gridY, t.sharedBytes(),
          dynamicShared ? "(dynamic)" : "", fuse ? 1 : 0,
          t.wgmma ? llvm::formatv("wgmma.m64n{0}k16 inflight={1}", t.bn,
                                  t.inflight)
                        .str()
                  : std::string("mma.sync.m16n8k16"),
          mFastest ? "(m fastest)" : "")));
  rw.setInsertionPointToStart(&launch.getBody().front());
  KernelBuilder kb{rw, loc};
  GemmKernel kernel{m,  t,  *elt, fuse, mFastest, kb, {}, {}, {},
                    {}, {}, {}, {},   {},   {},       0};
  kernel.build(launch);
  eraseContraction(rw, m, fuse);
  return success();
}

} // namespace sinter::cuda
