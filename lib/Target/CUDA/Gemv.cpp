//===- Gemv.cpp - the GEMV kernel template --------------------------------===//
//
// Linears with few rows (M <= kMaxRows: decode steps, small batches) are
// bound by reading the [N, K] weight once, so the kernel is built to stream
// it at full bandwidth: each warp owns `colsPerWarp` output columns (all M
// rows of them), its lanes read K-contiguous 128-bit vectors of the weight
// rows (and of the activation rows, which stay in L1), multiply-accumulate
// in f32 registers, and reduce across the warp with xor shuffles. When there
// are too few columns to fill the GPU, `splitK` warps of a block share a
// column group, each taking every splitK-th vector of K, and their partial
// sums meet in shared memory. Lane 0 of the group's first warp adds the
// initial value (bias) and writes the output through the epilogue's
// conversion, so the f32 accumulator buffer, the init op and the
// conversion op disappear when nothing else reads the accumulator and the
// output shares no byte with what the kernel reads. Without
// an init op right before the contraction (AccInit::Buffer), that lane adds
// the sum onto the accumulator element it overwrites, and the conversion
// stays its own kernel.
//
// With a prologue (GemvPrologue.h, RowRegisters.cpp: the RMSNorm before a
// one-row linear), every block first computes the activation into shared
// memory and the K loop reads it from there; such GEMVs use 16-warp blocks
// (each block recomputes the norm), as few as make one resident wave
// (kMaxResidentPrologueBlocks), at most kMaxPrologueBlocks, and issue their
// first iteration's weight loads around the norm: the first prefetchSteps
// steps' before it (the two overlap), the others' right after it, before
// the barrier that publishes the staged activation.
//
// The scalar arithmetic is cloned from the matched linalg bodies
// (ContractionMatch.h): the prologue of a gated linear (act(gate) * up) runs
// on each loaded element, whatever the activation is.
//
// Plan heuristic (planGemv, docs/cuda-target.md "Kernel templates"):
//   vec          16 bytes of the widest operand type (8 x bf16/f16, 4 x f32),
//                halved until it divides K (so rows stay aligned; odd K
//                reads scalars);
//   colsPerWarp  the largest of 4 / 2 / 1 (capped by M: 4 for M <= 2, 2 for
//                M <= 4, else 1: registers) that still leaves
//                kTargetWarps column groups, else 1;
//   splitK       doubled (up to 8) while groups * splitK < kTargetWarps and
//                every lane still reads >= 2 vectors per warp;
//   block        max(splitK, 4) warps; grid = ceil(N / columns per block);
//   unroll       when every lane has the same trip count T over K, up to 8
//                steps per iteration (a power of two dividing T), their
//                loads issued first, while a step group loads at most
//                kMaxLoadsInFlight vectors per lane; in a grid resident at
//                once the steps' FMAs interleave element by element and
//                the group loads at most kMaxInterleavedLoads
//                (kMaxPrologueLoopLoads with a prologue, of which
//                kMaxPrologueLoads before it): planUnroll.
//
//===----------------------------------------------------------------------===//

#include "ContractionMatch.h"
#include "GemmBuffers.h"
#include "GemvPrologue.h"
#include "Kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/Support/Debug.h"
#include "llvm/Support/FormatVariadic.h"

#define DEBUG_TYPE "sinter-cuda-kernels"

using namespace mlir;

namespace sinter::cuda {
namespace {

/// Rows up to which the GEMV takes a contraction (beyond it, the weight is
/// reused across rows enough for the tensor-core GEMM to win).
constexpr int64_t kMaxRows = 8;
/// Warps wanted in flight: about 32 resident warps on each of an H100's
/// 132 SMs, enough outstanding 128-bit loads to cover HBM latency.
constexpr int64_t kTargetWarps = 4096;
constexpr int64_t kWarp = 32;
/// Vectors one lane may have loaded per unrolled iteration (4 registers
/// each).
constexpr int64_t kMaxLoadsInFlight = 20;
/// The same for interleaved steps (planUnroll), whose loads all stay live:
/// 8 vectors (32 registers) give o_proj 47 registers (ptxas, sm_90a), ten
/// 128-thread blocks per SM, so its 1024 blocks are all resident.
constexpr int64_t kMaxInterleavedLoads = 8;
/// With a prologue, whose registers (the norm's slice of the row) add to
/// the prefetched weight vectors': 5 gives in_proj, QKV and the n = 1281
/// GEMV 57-58 registers and the gated-norm out_proj 62, within two 16-warp
/// blocks per SM (64); 8 gave them 74-76 (one block per SM: two waves).
constexpr int64_t kMaxPrologueLoads = 5;
/// With a prologue, the vectors of one K-loop iteration (weights, and the
/// activation read from shared memory): the prologue's registers are dead
/// by then, so an iteration may hold more than the prefetch. In a resident
/// grid every lane's K loop is a chain of round trips, one per iteration:
/// the gated-norm out_proj (8 weight vectors a lane) made 3 of them after
/// its prologue at 2 steps an iteration, 1 at 4 (64 registers, ptxas
/// sm_90a). 10 also gave in_proj and QKV (4 columns a warp) two steps an
/// iteration: 61 registers and 1-2% slower on an H100 (ncu), so 8.
constexpr int64_t kMaxPrologueLoopLoads = 8;
/// Weight vectors a lane may load before the prologue when they are all of
/// its K: the n = 1281 GEMV's 4 keep it at 58 registers (ptxas sm_90a);
/// out_proj's first 4 of 8 (a loop after them) gave 74.
constexpr int64_t kMaxFullPrefetch = 4;
/// With a prologue (GemvPrologue.h) every block recomputes the norm from
/// L2 (a few KB): blocks of 16 warps, and no prologue past 4096 blocks.
/// The lm_head's final norm is one (3880 blocks at a 248320 vocabulary):
/// measured on an H100 (bench8 decode, 2026-11-27, eleventh session) the
/// lm_head ran at the same 330 us (103% of the copy bandwidth) with the
/// norm in every block as without, and the step lost the norm's own
/// launch: 0.8295-0.8300 against 0.8319-0.8325 ms. (The cap was 1024,
/// on the guess that the re-reads would cost more than that launch.)
constexpr int64_t kPrologueWarps = 16;
constexpr int64_t kMaxPrologueBlocks = 4096;
/// Prologue GEMV blocks that are all resident at once: two 16-warp blocks
/// on each of 132 SMs (up to 64 registers a thread). Past it the grid runs
/// in more than one wave and the last wave's blocks redo the norm after the
/// first ones' weight traffic has drained (in_proj, 386 blocks of 40
/// registers: three per SM, no room for the prefetched weight registers).
constexpr int64_t kMaxResidentPrologueBlocks = 264;

/// Columns per warp the accumulators allow: 4 for M <= 2, 2 for M <= 4,
/// else 1 (registers).
int64_t maxColsPerWarp(const ContractionMatch &m) {
  return m.m <= 2 ? 4 : m.m <= 4 ? 2 : 1;
}

/// A buffer whose bytes include all of `v`'s: through reshapes and subviews
/// (the activation of o_proj is a collapse_shape of the attention output,
/// a fused projection's halves are subviews).
Value enclosingBuffer(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (auto c = dyn_cast<memref::CollapseShapeOp>(def))
      v = c.getSrc();
    else if (auto e = dyn_cast<memref::ExpandShapeOp>(def))
      v = e.getSrc();
    else if (auto sv = dyn_cast<memref::SubViewOp>(def))
      v = sv.getSource();
    else
      break;
  }
  return v;
}

/// Whether the kernel may write `output` directly: lane 0 of a group stores
/// its columns while other blocks still read the activations, the weight
/// and the bias, so `output` must share no byte with them (the memory plan
/// may give a dead activation's arena bytes to the conversion's output,
/// which the unfused program writes only after the contraction).
bool canFuseEpilogue(const ContractionMatch &m) {
  if (!m.epilogue || !m.epilogueFusable)
    return false;
  SmallVector<Value> read(m.activations.begin(), m.activations.end());
  read.push_back(m.weight);
  if (m.bias)
    read.push_back(m.bias);
  return llvm::none_of(read, [&](Value r) {
    return mayAlias(m.output, enclosingBuffer(r));
  });
}

struct GemvPlan {
  int64_t vec = 1, colsPerWarp = 1, splitK = 1, warpsPerBlock = 4, grid = 1;
  int64_t unroll = 1;
  /// The FMAs of an iteration's steps interleave (element-major), so all its
  /// loads are live at once (planUnroll).
  bool interleave = false;
  /// With a prologue: the first iteration's weight loads go out before it,
  /// those of its first `prefetchSteps` steps before the prologue (their
  /// registers add to the prologue's), the others right after it (before
  /// the barrier that publishes the staged activation).
  bool prefetch = false;
  int64_t prefetchSteps = 0;
  int64_t groupsPerBlock() const { return warpsPerBlock / splitK; }
  int64_t colsPerBlock() const { return groupsPerBlock() * colsPerWarp; }
  int64_t trips(int64_t vectors) const { return vectors / (kWarp * splitK); }
  /// Whether every lane has the same trip count over K.
  bool even(int64_t vectors) const { return vectors % (kWarp * splitK) == 0; }
};

/// Steps per loop iteration (a power of two dividing the uniform trip
/// count, at most 8) and whether they interleave, for the final layout.
///
/// ptxas keeps these kernels near 40 registers: in the unrolled loop it
/// sinks all but about five of the 128-bit loads down to their FMAs, so a
/// lane has one or two weight loads in flight (o_proj K = 4096: 8 weight
/// loads per lane, issued in 4 round trips). A grid that is resident at
/// once (at most kTargetWarps warps) has nothing to hide that latency
/// with: each warp's chain of round trips is the kernel's time (o_proj
/// 8.7 us for 16.8 MB, 64% of the copy bandwidth, H100). Interleaving the
/// steps' FMAs element by element (step-minor: each element's first use
/// needs every step's vector) makes all of an iteration's loads live
/// together, so ptxas issues them together; kMaxInterleavedLoads vectors
/// (4 registers each) keep the registers within what the residency
/// assumes. Larger grids (lm_head, 15520 blocks) keep the step-major order
/// and the wider unroll: other warps hide the latency there (103%).
void planUnroll(GemvPlan &p, const ContractionMatch &m, bool prologue) {
  p.unroll = 1;
  int64_t vectors = m.k / p.vec;
  p.interleave = prologue ? p.grid <= kMaxResidentPrologueBlocks
                          : p.grid * p.warpsPerBlock <= kTargetWarps;
  if (!p.even(vectors))
    return;
  int64_t trips = p.trips(vectors);
  int64_t perStep = p.colsPerWarp + m.m * int64_t(m.activations.size());
  int64_t budget = prologue       ? kMaxPrologueLoopLoads
                   : p.interleave ? kMaxInterleavedLoads
                                  : kMaxLoadsInFlight;
  while (p.unroll < 8 && trips % (2 * p.unroll) == 0 &&
         2 * p.unroll * perStep <= budget)
    p.unroll *= 2;
  p.prefetchSteps = 1;
  while (2 * p.prefetchSteps <= p.unroll &&
         2 * p.prefetchSteps * perStep <= kMaxPrologueLoads)
    p.prefetchSteps *= 2;
  // When one iteration is all of K, the loads after the prologue would be
  // the lane's only round trip left: all of them go before it if they are
  // few (kMaxFullPrefetch).
  if (prologue && p.unroll == trips &&
      p.unroll * p.colsPerWarp <= kMaxFullPrefetch)
    p.prefetchSteps = p.unroll;
}

GemvPlan planGemv(const ContractionMatch &m) {
  GemvPlan p;
  unsigned bits = std::max(m.activationType.getIntOrFloatBitWidth(),
                           m.weightType.getIntOrFloatBitWidth());
  p.vec = std::max<int64_t>(1, 128 / bits);
  // Every vector must be vec-aligned: vec divides K, and the row strides
  // and offsets of strided activations (a subview half of a fused
  // projection may leave odd rows: then scalars). A dimension of size 1 is
  // never stepped, so its stride does not matter (the decode step's
  // [1, 1, 512] halves of the fused gate/up output have row stride 1281).
  // Dynamic strides or offsets count as misaligned.
  auto aligned = [&](int64_t v) {
    if (m.k % v)
      return false;
    for (Value a : m.activations) {
      auto t = cast<MemRefType>(a.getType());
      SmallVector<int64_t> strides;
      int64_t offset;
      if (failed(t.getStridesAndOffset(strides, offset)) ||
          ShapedType::isDynamic(offset) || offset % v)
        return false;
      for (auto [size, stride] : llvm::zip(t.getShape(), strides))
        if (size != 1 &&
            (ShapedType::isDynamic(stride) || (stride % v && stride != 1)))
          return false;
    }
    return true;
  };
  while (!aligned(p.vec))
    p.vec /= 2;
  int64_t maxCols = maxColsPerWarp(m);
  p.colsPerWarp = 1;
  for (int64_t c = maxCols; c > 1; c /= 2)
    if (llvm::divideCeil(m.n, c) >= kTargetWarps) {
      p.colsPerWarp = c;
      break;
    }
  int64_t groups = llvm::divideCeil(m.n, p.colsPerWarp);
  int64_t vectors = m.k / p.vec;
  while (p.splitK < 8 && groups * p.splitK < kTargetWarps &&
         vectors >= 2 * kWarp * (2 * p.splitK))
    p.splitK *= 2;
  p.warpsPerBlock = std::max<int64_t>(p.splitK, 4);
  p.grid = llvm::divideCeil(m.n, p.colsPerBlock());
  planUnroll(p, m, /*prologue=*/false);
  return p;
}

struct GemvBuilder {
  RewriterBase &rw;
  Location loc;
  const ContractionMatch &m;
  const GemvPlan &p;
  // Computes the activation into shared memory in every block (the
  // activation is then read from there): GemvPrologue.h.
  const GemvPrologue *pro = nullptr;

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(rw, loc, v); }

  /// Indices of row r (of M, row-major over the leading dims of `buf`)
  /// followed by `last`: rows are unrolled, so these are constants.
  SmallVector<Value> at(Value buf, int64_t r, Value last) {
    ArrayRef<int64_t> shape = cast<MemRefType>(buf.getType()).getShape();
    SmallVector<Value> ivs(shape.size());
    ivs.back() = last;
    for (int64_t d = int64_t(shape.size()) - 2; d >= 0; --d) {
      ivs[d] = idx(r % shape[d]);
      r /= shape[d];
    }
    return ivs;
  }

  /// One vector of `vec` elements at `ivs` as scalars.
  SmallVector<Value> loadVector(Value buf, ValueRange ivs) {
    Type elt = cast<MemRefType>(buf.getType()).getElementType();
    auto vt = VectorType::get({p.vec}, elt);
    // The rows are vec-aligned (vec divides K) and buffers are at least
    // 16-byte aligned, so the load may be one 128-bit access.
    unsigned align = p.vec * elt.getIntOrFloatBitWidth() / 8;
    Value v =
        vector::LoadOp::create(rw, loc, vt, buf, ivs,
                               /*nontemporal=*/false, llvm::MaybeAlign(align));
    SmallVector<Value> elts;
    for (int64_t e = 0; e < p.vec; ++e)
      elts.push_back(vector::ExtractOp::create(rw, loc, v, e));
    return elts;
  }

  /// Vector `v` (of vec elements) of the staged activation, as scalars.
  SmallVector<Value> loadStaged(Value staged, Value v) {
    Value vec = memref::LoadOp::create(rw, loc, staged, v);
    SmallVector<Value> elts;
    for (int64_t e = 0; e < p.vec; ++e)
      elts.push_back(vector::ExtractOp::create(rw, loc, vec, e));
    return elts;
  }

  /// acc + sum_e x[e] * w[e], in order.
  Value dot(Value acc, ArrayRef<Value> x, ArrayRef<Value> w) {
    for (auto [a, b] : llvm::zip_equal(x, w))
      acc = arith::AddFOp::create(rw, loc, acc,
                                  arith::MulFOp::create(rw, loc, a, b));
    return acc;
  }

  Value warpSum(Value v) {
    Value width = arith::ConstantIntOp::create(rw, loc, rw.getI32Type(), kWarp);
    for (int64_t off = kWarp / 2; off > 0; off /= 2) {
      Value o = arith::ConstantIntOp::create(rw, loc, rw.getI32Type(), off);
      Value other =
          gpu::ShuffleOp::create(rw, loc, v, o, width, gpu::ShuffleMode::XOR)
              .getShuffleResult();
      v = arith::AddFOp::create(rw, loc, v, other);
    }
    return v;
  }

  /// One step's loads: the activation [row][activation] and weight
  /// [column] vectors, as scalars.
  struct Step {
    SmallVector<SmallVector<SmallVector<Value>>> x;
    SmallVector<SmallVector<Value>> w;
  };
  /// Set by build: lane's first vector, the weight rows it reads.
  Value start;
  SmallVector<Value> loadCols;

  /// Vector index of the uniform loop's trip j.
  Value vectorAt(Value j) {
    return arith::AddIOp::create(
        rw, loc, start,
        arith::MulIOp::create(rw, loc, j, idx(kWarp * p.splitK)));
  }

  SmallVector<SmallVector<Value>> loadWeights(Value v) {
    Value k = arith::MulIOp::create(rw, loc, v, idx(p.vec));
    SmallVector<SmallVector<Value>> w;
    for (int64_t c = 0; c < p.colsPerWarp; ++c)
      w.push_back(loadVector(m.weight, {loadCols[c], k}));
    return w;
  }

  SmallVector<SmallVector<SmallVector<Value>>> loadActivations(Value v,
                                                               Value staged) {
    Value k = arith::MulIOp::create(rw, loc, v, idx(p.vec));
    SmallVector<SmallVector<SmallVector<Value>>> x;
    for (int64_t r = 0; r < m.m; ++r) {
      x.emplace_back();
      for (Value a : m.activations)
        x.back().push_back(staged ? loadStaged(staged, v)
                                  : loadVector(a, at(a, r, k)));
    }
    return x;
  }

  /// accs[r * colsPerWarp + c] plus the steps' products: step by step, or
  /// with p.interleave element by element across the steps (planUnroll).
  SmallVector<Value> accumulate(SmallVector<Value> accs,
                                ArrayRef<Step> steps) {
    // Operands through the cloned prologues: xs[u][r][e], ws[u][c][e].
    SmallVector<SmallVector<SmallVector<Value>>> xs(steps.size()),
        ws(steps.size());
    for (auto [u, step] : llvm::enumerate(steps)) {
      for (int64_t r = 0; r < m.m; ++r) {
        SmallVector<Value> x;
        for (int64_t e = 0; e < p.vec; ++e) {
          SmallVector<Value> one;
          for (auto &v : step.x[r])
            one.push_back(v[e]);
          x.push_back(emitOperandElement(rw, m, one));
        }
        xs[u].push_back(x);
      }
      for (int64_t c = 0; c < p.colsPerWarp; ++c) {
        SmallVector<Value> wv;
        for (Value e : step.w[c])
          wv.push_back(emitWeightElement(rw, m, e));
        ws[u].push_back(wv);
      }
    }
    for (int64_t r = 0; r < m.m; ++r)
      for (int64_t c = 0; c < p.colsPerWarp; ++c) {
        Value &acc = accs[r * p.colsPerWarp + c];
        if (!p.interleave) {
          for (size_t u = 0; u < steps.size(); ++u)
            acc = dot(acc, xs[u][r], ws[u][c]);
          continue;
        }
        for (int64_t e = 0; e < p.vec; ++e)
          for (size_t u = 0; u < steps.size(); ++u)
            acc = arith::AddFOp::create(
                rw, loc, acc,
                arith::MulFOp::create(rw, loc, xs[u][r][e], ws[u][c][e]));
      }
    return accs;
  }

  void build() {
    bool fuse = canFuseEpilogue(m);
    Value out = fuse ? m.output : m.acc;

    int64_t nAcc = m.m * p.colsPerWarp;
    Value one = idx(1);
    auto smemTy =
        MemRefType::get({p.warpsPerBlock, nAcc}, m.accType, AffineMap(),
                        gpu::AddressSpaceAttr::get(
                            rw.getContext(), gpu::AddressSpace::Workgroup));
    SmallVector<Type> wg;
    if (p.splitK > 1)
      wg.push_back(smemTy);
    auto workgroup = gpu::AddressSpaceAttr::get(rw.getContext(),
                                                gpu::AddressSpace::Workgroup);
    if (pro) {
      // The prologue's reduction scratch, and the activation as vectors
      // (their type gives the 16-byte alignment of the vector loads).
      wg.push_back(MemRefType::get({p.warpsPerBlock}, rw.getF32Type(),
                                   AffineMap(), workgroup));
      wg.push_back(MemRefType::get(
          {m.k / p.vec}, VectorType::get({p.vec}, m.activationType),
          AffineMap(), workgroup));
    }
    auto launch = gpu::LaunchOp::create(
        rw, loc, idx(p.grid), one, one, idx(p.warpsPerBlock * kWarp), one, one,
        /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
        /*asyncDependencies=*/{}, wg);
    launch->setAttr(
        "sinter.kernel",
        rw.getStringAttr(llvm::formatv(
            "gemv m={0} n={1} k={2} vec={3} cols_per_warp={4} split_k={5} "
            "warps={6} grid={7} unroll={8}{9}{10}{11}{12}",
            m.m, m.n, m.k, p.vec, p.colsPerWarp, p.splitK, p.warpsPerBlock,
            p.grid, p.unroll,
            m.init == AccInit::Buffer ? " init=buffer" : "",
            pro ? " prologue=rows" : "",
            p.interleave && p.unroll > 1 ? " interleave" : "",
            pro && p.prefetch && p.even(m.k / p.vec)
                ? llvm::formatv(" prefetch={0}", p.prefetchSteps).str()
                : "")));
    // How the columns below are owned, for mergeColumnConsumers.
    if (m.m == 1)
      launch->setAttr(kGemvOwnerAttr,
                      rw.getDenseI64ArrayAttr({p.colsPerWarp, p.splitK,
                                               p.warpsPerBlock, m.n}));
    Block &body = launch.getBody().front();
    rw.setInsertionPointToStart(&body);
    gpu::TerminatorOp::create(rw, loc);
    rw.setInsertionPointToStart(&body);

    Value tid = launch.getThreadIds().x, bid = launch.getBlockIds().x;
    Value warp = arith::DivUIOp::create(rw, loc, tid, idx(kWarp));
    Value lane = arith::RemUIOp::create(rw, loc, tid, idx(kWarp));
    Value group = arith::DivUIOp::create(rw, loc, warp, idx(p.splitK));
    Value slice = arith::RemUIOp::create(rw, loc, warp, idx(p.splitK));
    Value colBase = arith::AddIOp::create(
        rw, loc, arith::MulIOp::create(rw, loc, bid, idx(p.colsPerBlock())),
        arith::MulIOp::create(rw, loc, group, idx(p.colsPerWarp)));
    // Columns past N read row N-1 (valid memory); their sums are dropped.
    SmallVector<Value> cols;
    for (int64_t c = 0; c < p.colsPerWarp; ++c) {
      cols.push_back(arith::AddIOp::create(rw, loc, colBase, idx(c)));
      loadCols.push_back(
          arith::MinUIOp::create(rw, loc, cols.back(), idx(m.n - 1)));
    }

    // The K loop over vectors v = slice*32 + lane + j*32*splitK. When every
    // lane has the same trip count, `unroll` steps share one iteration with
    // all their loads first, so each lane keeps several 128-bit loads in
    // flight (the loads do not wait on the previous step's FMAs).
    start = arith::AddIOp::create(
        rw, loc, arith::MulIOp::create(rw, loc, slice, idx(kWarp)), lane);
    int64_t vectors = m.k / p.vec;
    bool even = p.even(vectors);
    int64_t steps = even ? p.unroll : 1;

    // The prefetched first iteration's weight vectors: they do not depend
    // on the prologue (emitGemvWithPrologue checks the norm writes no byte
    // of the weight), so their latency overlaps the norm.
    SmallVector<Step> first(steps);
    bool prefetch = pro && even && p.prefetch;
    if (prefetch)
      for (int64_t u = 0; u < std::min(steps, p.prefetchSteps); ++u)
        first[u].w = loadWeights(vectorAt(idx(u)));

    Value staged;
    if (pro) {
      auto attrs = launch.getWorkgroupAttributions();
      staged = attrs.back();
      pro->emit(rw, tid, bid, attrs[attrs.size() - 2], staged);
      // The rest of the first iteration's weights, issued before the
      // barrier, so they are in flight while the block waits there for
      // its slowest warp's norm.
      if (prefetch)
        for (int64_t u = p.prefetchSteps; u < steps; ++u)
          first[u].w = loadWeights(vectorAt(idx(u)));
      // The K loop reads what other threads staged.
      gpu::BarrierOp::create(rw, loc);
    }

    Value zero =
        arith::ConstantOp::create(rw, loc, rw.getFloatAttr(m.accType, 0.0));
    SmallVector<Value> accs(nAcc, zero);
    int64_t firstTrip = 0;
    if (prefetch) {
      for (int64_t u = 0; u < steps; ++u)
        first[u].x = loadActivations(vectorAt(idx(u)), staged);
      accs = accumulate(accs, first);
      firstTrip = steps;
    }
    // No loop when the peeled iteration was all of K (the n = 1281 GEMV:
    // 4 vectors a lane, all loaded around the prologue).
    SmallVector<Value> totals = accs;
    if (!even || firstTrip < p.trips(vectors)) {
      scf::ForOp loop =
          even ? scf::ForOp::create(rw, loc, idx(firstTrip),
                                    idx(p.trips(vectors)), idx(p.unroll), accs)
               : scf::ForOp::create(rw, loc, start, idx(vectors),
                                    idx(kWarp * p.splitK), accs);
      rw.setInsertionPointToStart(loop.getBody());
      SmallVector<Step> loads(steps);
      for (int64_t u = 0; u < steps; ++u) {
        Value v = loop.getInductionVar();
        if (even)
          v = vectorAt(arith::AddIOp::create(rw, loc, v, idx(u)));
        loads[u].x = loadActivations(v, staged);
        loads[u].w = loadWeights(v);
      }
      scf::YieldOp::create(
          rw, loc,
          accumulate(SmallVector<Value>(loop.getRegionIterArgs()), loads));
      rw.setInsertionPointAfter(loop);
      totals = SmallVector<Value>(loop.getResults());
    }

    SmallVector<Value> sums;
    for (Value v : totals)
      sums.push_back(warpSum(v));
    Value c0 = idx(0);
    Value isLane0 =
        arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq, lane, c0);
    Value writer = isLane0;
    if (p.splitK > 1) {
      // Partial sums of the group's warps meet in shared memory.
      Value smem = launch.getWorkgroupAttributions()[0];
      auto st = scf::IfOp::create(rw, loc, isLane0, /*withElse=*/false);
      rw.setInsertionPointToStart(st.thenBlock());
      for (int64_t j = 0; j < nAcc; ++j)
        memref::StoreOp::create(rw, loc, sums[j], smem,
                                ValueRange{warp, idx(j)});
      rw.setInsertionPointAfter(st);
      gpu::BarrierOp::create(rw, loc);
      Value first =
          arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq, slice, c0);
      writer = arith::AndIOp::create(rw, loc, isLane0, first);
      auto rd = scf::IfOp::create(rw, loc, writer, /*withElse=*/false);
      rw.setInsertionPointToStart(rd.thenBlock());
      for (int64_t j = 0; j < nAcc; ++j) {
        Value s =
            memref::LoadOp::create(rw, loc, smem, ValueRange{warp, idx(j)});
        for (int64_t q = 1; q < p.splitK; ++q) {
          Value wq = arith::AddIOp::create(rw, loc, warp, idx(q));
          s = arith::AddFOp::create(
              rw, loc, s,
              memref::LoadOp::create(rw, loc, smem, ValueRange{wq, idx(j)}));
        }
        sums[j] = s;
      }
      rw.setInsertionPointAfter(rd);
      writer = Value(); // the write goes inside `rd`
      rw.setInsertionPoint(rd.thenBlock()->getTerminator());
    }
    if (writer) {
      auto wr = scf::IfOp::create(rw, loc, writer, /*withElse=*/false);
      rw.setInsertionPointToStart(wr.thenBlock());
    }
    for (int64_t c = 0; c < p.colsPerWarp; ++c) {
      Value inRange = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult,
                                            cols[c], idx(m.n));
      auto ifc = scf::IfOp::create(rw, loc, inRange, /*withElse=*/false);
      OpBuilder::InsertionGuard g(rw);
      rw.setInsertionPointToStart(ifc.thenBlock());
      Value init;
      if (m.init != AccInit::Buffer) {
        Value biasElt;
        if (m.init == AccInit::Bias)
          biasElt = memref::LoadOp::create(rw, loc, m.bias, cols[c]);
        init = emitInitElement(rw, loc, m, biasElt);
      }
      for (int64_t r = 0; r < m.m; ++r) {
        // AccInit::Buffer: what the accumulator holds, read by the thread
        // that overwrites it (the epilogue is never fused then: out is acc).
        Value rowInit =
            init ? init
                 : memref::LoadOp::create(rw, loc, m.acc, at(m.acc, r, cols[c]))
                       .getResult();
        Value v = arith::AddFOp::create(rw, loc, rowInit,
                                        sums[r * p.colsPerWarp + c]);
        if (fuse)
          v = emitOutputElement(rw, m, v);
        auto store =
            memref::StoreOp::create(rw, loc, v, out, at(out, r, cols[c]));
        if (m.m == 1)
          store->setAttr(kGemvColumnAttr, rw.getUnitAttr());
      }
    }
    rw.setInsertionPointAfter(launch);
    eraseContraction(rw, m, fuse);
  }
};

/// What the template takes beyond matchContraction, or a reason.
LogicalResult checkGemv(const ContractionMatch &m, std::string &why) {
  auto supported = [](Type t) { return t.isF32() || t.isF16() || t.isBF16(); };
  if (m.m > kMaxRows)
    why = "M = " + std::to_string(m.m) + " rows > " +
          std::to_string(kMaxRows) + ": not a GEMV";
  else if (!m.accType.isF32())
    why = "accumulator is not f32";
  else if (!supported(m.activationType) || !supported(m.weightType) ||
           !supported(m.outputType))
    why = "element types other than f32/f16/bf16";
  else if (m.n < 1 || m.k < 1)
    why = "empty contraction";
  else
    return success();
  return failure();
}

} // namespace

LogicalResult emitGemvWithPrologue(RewriterBase &rw, linalg::LinalgOp op,
                                   const KernelOptions &options,
                                   const GemvPrologue &prologue,
                                   std::string &why) {
  (void)options;
  FailureOr<ContractionMatch> m =
      matchContraction(op, why, /*allowBufferInit=*/true);
  if (failed(m) || failed(checkGemv(*m, why)))
    return failure();
  if (m->m != 1 || m->gated() || m->activations[0] != prologue.activation) {
    why = "not a one-row, ungated linear of the prologue's output";
    return failure();
  }
  GemvPlan plan = planGemv(*m);
  plan.warpsPerBlock = std::max(plan.warpsPerBlock, kPrologueWarps);
  plan.grid = llvm::divideCeil(m->n, plan.colsPerBlock());
  // Fewer, fatter blocks until all are resident at once: each block pays
  // the norm (L2 reads of the row, two barriers) before its K loop, so
  // blocks beyond one wave pay it again serially, and a block with little
  // weight to read is mostly norm (the MoE block's n = 1281 router +
  // shared-expert GEMV: 321 blocks of 4 KB of weight each, 26% of the
  // copy bandwidth on an H100). Split-K goes first (the block keeps its
  // columns' whole K), then wider warps.
  while (plan.grid > kMaxResidentPrologueBlocks) {
    if (plan.splitK > 1)
      plan.splitK /= 2;
    else if (plan.colsPerWarp < maxColsPerWarp(*m))
      plan.colsPerWarp *= 2;
    else
      break;
    plan.grid = llvm::divideCeil(m->n, plan.colsPerBlock());
  }
  planUnroll(plan, *m, /*prologue=*/true);
  plan.prefetch = true;
  if (plan.grid > kMaxPrologueBlocks) {
    why = std::to_string(plan.grid) + " blocks would each recompute the norm";
    return failure();
  }
  if (!prologue.fits(plan.vec, plan.warpsPerBlock * kWarp, why))
    return failure();
  // Every block reads the prologue's inputs while others write the GEMV's
  // output, and block 0 writes the prologue's outputs while others read the
  // weight: none of these may share a byte.
  SmallVector<Value> written{m->acc};
  if (m->output)
    written.push_back(m->output);
  SmallVector<Value> read{m->weight};
  if (m->bias)
    read.push_back(m->bias);
  for (Value w : written)
    for (ArrayRef<Value> group : {ArrayRef(prologue.reads),
                                  ArrayRef(prologue.writes)})
      for (Value g : group)
        if (mayAlias(w, enclosingBuffer(g))) {
          why = "the linear's output may share bytes with a buffer the norm "
                "reads or writes";
          return failure();
        }
  for (Value r : read)
    for (Value g : prologue.writes)
      if (mayAlias(enclosingBuffer(r), enclosingBuffer(g))) {
        why = "the linear's weight or bias may share bytes with a buffer the "
              "norm writes";
        return failure();
      }
  rw.setInsertionPoint(canFuseEpilogue(*m) ? m->epilogue.getOperation()
                                            : m->op.getOperation());
  GemvBuilder b{rw, m->op.getLoc(), *m, plan};
  b.pro = &prologue;
  b.build();
  return success();
}

LogicalResult emitGemv(RewriterBase &rw, linalg::LinalgOp op,
                       const KernelOptions &options, std::string &why) {
  // A linear (its loops and indexing maps recognized) that is refused is
  // worth a remark with `remarks`: it runs through the generic mapping,
  // one thread per output element, at a few % of the bandwidth.
  bool candidate = false;
  auto refuse = [&](std::string reason) {
    why = std::move(reason);
    if (options.remarks && candidate)
      op->emitRemark() << "sinter-cuda-form-kernels: gemv refused: " << why;
    return failure();
  };
  FailureOr<ContractionMatch> m =
      matchContraction(op, why, /*allowBufferInit=*/true, &candidate);
  if (failed(m))
    return refuse(why);
  if (failed(checkGemv(*m, why)))
    return refuse(why);
  GemvPlan plan = planGemv(*m);
  LLVM_DEBUG(llvm::dbgs() << "[gemv] M=" << m->m << " N=" << m->n
                          << " K=" << m->k << " vec=" << plan.vec
                          << " colsPerWarp=" << plan.colsPerWarp
                          << " splitK=" << plan.splitK << "\n");
  // At the epilogue when it is fused: its output buffer may be defined
  // after the contraction (only pure ops lie in between).
  rw.setInsertionPoint(canFuseEpilogue(*m) ? m->epilogue.getOperation()
                                            : m->op.getOperation());
  GemvBuilder{rw, m->op.getLoc(), *m, plan}.build();
  return success();
}

} // namespace sinter::cuda
