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
//                 the result is written once with no float atomics.
//
// The scalar arithmetic is always the matched bodies' (cloned), never a
// formula of this file. Refusals return the reason in `why`.
//
//===----------------------------------------------------------------------===//

#include "GemmBuffers.h"
#include "Kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/bit.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace sinter::cuda {
namespace {

/// Blocks wanted (about two per SM of an H100/H200) before a block's
/// column tile is narrowed.
constexpr int64_t kTargetBlocks = 256;
/// Threads sharing one weight row: at least 2 (32 contiguous bytes of
/// bf16, one DRAM sector), at most 8 (128 bytes).
constexpr int64_t kMinRowThreads = 2, kMaxRowThreads = 8;
/// Threads a block: two or more 256-thread blocks an SM; a combine block
/// holds all J experts of its columns, so it is larger and there are
/// fewer, about one an SM (bench8's down projection, H200: 512 threads
/// 9.2-9.8 us, 256 threads 10.4, 1024 threads 9.6-10.2).
constexpr int64_t kThreads = 256, kCombineThreads = 512;
constexpr int64_t kTargetCombineBlocks = 128;
/// Trips of a thread whose loads are issued together.
constexpr int64_t kMaxUnroll = 8;
/// Groups of trips a pipelined thread walks (unrolled: code size).
constexpr int64_t kMaxPipelinedGroups = 16;
/// Bytes of x a block may copy into shared memory.
constexpr int64_t kMaxStagedX = 16384;

/// The ops and block arguments of `body` that `v` depends on; `leaf` (if
/// any) is taken as an input, its operands not followed.
void sliceOf(Value v, Block *body, llvm::SetVector<Operation *> &ops,
             llvm::SmallPtrSetImpl<Value> &args, Operation *leaf = nullptr) {
  if (auto a = dyn_cast<BlockArgument>(v)) {
    if (a.getOwner() == body)
      args.insert(a);
    return;
  }
  Operation *d = v.getDefiningOp();
  if (d->getBlock() != body || ops.contains(d))
    return;
  if (d != leaf)
    for (Value o : d->getOperands())
      sliceOf(o, body, ops, args, leaf);
  ops.insert(d);
}

/// Bodies cloned into a kernel may not ask for their loop indices.
bool usesIndices(linalg::GenericOp g) {
  return !g.getBody()->getOps<linalg::IndexOp>().empty();
}

/// Clones the ops of `body` that `v` depends on at b's insertion point;
/// block arguments and linalg.index results must be in `map`.
Value cloneValue(OpBuilder &b, Value v, Block *body, IRMapping &map) {
  if (Value m = map.lookupOrNull(v))
    return m;
  Operation *d = v.getDefiningOp();
  if (!d || d->getBlock() != body)
    return v; // defined above the op (a constant): usable as it is
  for (Value o : d->getOperands())
    (void)cloneValue(b, o, body, map);
  Operation *c = b.clone(*d, map);
  return c->getResult(cast<OpResult>(v).getResultNumber());
}

/// An all-parallel elementwise generic: one output, static shapes.
bool isElementwise(linalg::GenericOp g) {
  return g.getNumDpsInits() == 1 &&
         g.getNumLoops() == g.getNumParallelLoops() &&
         llvm::all_of(g->getOperandTypes(), [](Type t) {
           auto m = dyn_cast<MemRefType>(t);
           return m && m.hasStaticShape();
         });
}

/// The next op after `op` in its block that uses `v`, if any.
Operation *nextUser(Operation *op, Value v) {
  for (Operation *o = op->getNextNode(); o; o = o->getNextNode())
    if (llvm::is_contained(o->getOperands(), v))
      return o;
  return nullptr;
}

/// The linalg.fill writing `v` right before `op` (only ops not touching
/// `v` in between), or null.
linalg::FillOp fillBefore(Operation *op, Value v) {
  for (Operation *o = op->getPrevNode(); o; o = o->getPrevNode()) {
    if (auto f = dyn_cast<linalg::FillOp>(o))
      if (f.getDpsInits()[0] == v)
        return f;
    if (llvm::is_contained(o->getOperands(), v))
      return nullptr;
  }
  return nullptr;
}

struct ExpertMatch {
  linalg::GenericOp op;
  linalg::FillOp fill;
  Value x, idx, weight, acc;
  bool perSlot = false;
  int64_t j = 0, n = 0, k = 0;
  Type wType;
  Block *body = nullptr;
  /// Body values: the block arguments, the weight element's load, the
  /// expert index (the load's first index), the product's two factors.
  Value argX, argIdx, argOut, load, expert, factorX, factorW;
  Value indexN, indexK; // linalg.index 2 and 3 (null when unused)

  /// Optional fusions (null when not fused).
  linalg::GenericOp prologue, epilogue, combine;
  linalg::FillOp combineFill;
  /// The combine's operand number of the accumulator.
  int64_t combineAccInput = -1;
};

/// The iteration point of `g` that reads the accumulator element
/// `accIndex` through `accMap` (a projected permutation; the loops it
/// leaves out have one iteration: 0).
SmallVector<Value> iterationOf(OpBuilder &b, Location loc,
                               linalg::GenericOp g, AffineMap accMap,
                               ArrayRef<Value> accIndex) {
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  SmallVector<Value> it(g.getNumLoops(), zero);
  for (auto [p, e] : llvm::enumerate(accMap.getResults()))
    it[cast<AffineDimExpr>(e).getPosition()] = accIndex[p];
  return it;
}

/// The indices a projected permutation (zeros allowed) gives for `it`.
SmallVector<Value> applyMap(OpBuilder &b, Location loc, AffineMap m,
                            ArrayRef<Value> it) {
  SmallVector<Value> r;
  for (AffineExpr e : m.getResults())
    r.push_back(isa<AffineDimExpr>(e)
                    ? it[cast<AffineDimExpr>(e).getPosition()]
                    : arith::ConstantIndexOp::create(b, loc, 0).getResult());
  return r;
}

/// Whether every loop of `g` absent from `map` has one iteration (so the
/// accumulator's element names one iteration point, up to `reduced`).
bool coversLoops(linalg::GenericOp g, AffineMap map, int64_t reduced = -1) {
  if (!map.isProjectedPermutation(/*allowZeroInResults=*/false))
    return false;
  SmallVector<int64_t> ranges = g.getStaticLoopRanges();
  for (int64_t d = 0; d < int64_t(ranges.size()); ++d)
    if (d != reduced && !map.isFunctionOfDim(d) && ranges[d] != 1)
      return false;
  return true;
}

std::string matchExpert(linalg::LinalgOp lop, ExpertMatch &m) {
  auto op = dyn_cast<linalg::GenericOp>(lop.getOperation());
  if (!op || op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1)
    return "not a two-input generic";
  if (op.getNumLoops() != 4 || op.getNumReductionLoops() != 1 ||
      op.getIteratorTypesArray()[3] != utils::IteratorType::reduction)
    return "not loops (t, j, n, k) with k reduced";
  m.op = op;
  m.body = op.getBody();
  m.x = op.getDpsInputs()[0];
  m.idx = op.getDpsInputs()[1];
  m.acc = op.getDpsInits()[0];
  auto idxTy = dyn_cast<MemRefType>(m.idx.getType());
  auto accTy = dyn_cast<MemRefType>(m.acc.getType());
  auto xTy = dyn_cast<MemRefType>(m.x.getType());
  if (!idxTy || !accTy || !xTy || !isa<IntegerType>(idxTy.getElementType()))
    return "operands are not (x, integer indices) -> accumulator memrefs";
  MLIRContext *ctx = op.getContext();
  auto dims = [&](ArrayRef<unsigned> d) {
    return AffineMap::getMultiDimMapWithTargets(4, d, ctx);
  };
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  m.perSlot = maps[0] == dims({0, 1, 3});
  if (!m.perSlot && maps[0] != dims({0, 3}))
    return "x is not indexed (t, k) or (t, j, k)";
  if (maps[1] != dims({0, 1}) || maps[2] != dims({0, 1, 2}))
    return "indices / accumulator not indexed (t, j) / (t, j, n)";
  if (!accTy.hasStaticShape() || !accTy.getLayout().isIdentity() ||
      !accTy.getElementType().isF32())
    return "the accumulator is not a static identity-layout f32 buffer";
  if (accTy.getDimSize(0) != 1)
    return "T = " + std::to_string(accTy.getDimSize(0)) +
           " tokens: this template is the M = 1 (decode) GEMV";
  m.j = accTy.getDimSize(1);
  m.n = accTy.getDimSize(2);
  m.k = xTy.getShape().back();

  // The body: out + X * W with W from one load of the weight.
  m.argX = m.body->getArgument(0);
  m.argIdx = m.body->getArgument(1);
  m.argOut = m.body->getArgument(2);
  auto yield = cast<linalg::YieldOp>(m.body->getTerminator());
  auto add = yield.getValues()[0].getDefiningOp<arith::AddFOp>();
  if (!add)
    return "the body does not yield an addf";
  Value prod = add.getLhs() == m.argOut ? add.getRhs() : add.getLhs();
  auto mul = prod.getDefiningOp<arith::MulFOp>();
  if ((add.getLhs() != m.argOut && add.getRhs() != m.argOut) || !mul)
    return "the body is not out + a * b";
  memref::LoadOp load;
  for (Operation &o : *m.body)
    if (auto l = dyn_cast<memref::LoadOp>(o)) {
      if (load)
        return "the body loads more than one value";
      load = l;
    }
  if (!load || load.getIndices().size() != 3)
    return "the body loads no 3-D expert weight";
  m.weight = load.getMemRef();
  m.load = load.getResult();
  auto wTy = cast<MemRefType>(m.weight.getType());
  if (!wTy.hasStaticShape() || !wTy.getLayout().isIdentity())
    return "the weight is not a static identity-layout buffer";
  m.wType = wTy.getElementType();
  auto indexOf = [&](Value v) -> int64_t {
    auto i = v.getDefiningOp<linalg::IndexOp>();
    return i ? int64_t(i.getDim()) : -1;
  };
  if (indexOf(load.getIndices()[1]) == 2 && indexOf(load.getIndices()[2]) == 3)
    return "the weight is [E, N, K] (no weight_kn): its K-contiguous rows "
           "are the row-reduction template's";
  if (indexOf(load.getIndices()[1]) != 3 || indexOf(load.getIndices()[2]) != 2)
    return "the weight is not loaded at [expert, k, n]";
  m.indexK = load.getIndices()[1];
  m.indexN = load.getIndices()[2];
  m.expert = load.getIndices()[0];
  // Each value must depend on its own operand only.
  auto dependsOnly = [&](Value v, Value arg, Operation *allowed) {
    llvm::SetVector<Operation *> ops;
    llvm::SmallPtrSet<Value, 4> args;
    sliceOf(v, m.body, ops, args, allowed);
    for (Operation *o : ops)
      if (o != allowed && (isa<linalg::IndexOp>(o) ||
                           !isMemoryEffectFree(o)))
        return false;
    return args.size() <= 1 && (args.empty() || args.contains(arg));
  };
  if (!dependsOnly(m.expert, m.argIdx, nullptr))
    return "the expert index is not computed from the index operand alone";
  for (auto [a, b] : {std::pair(mul.getLhs(), mul.getRhs()),
                      std::pair(mul.getRhs(), mul.getLhs())}) {
    llvm::SetVector<Operation *> ops;
    llvm::SmallPtrSet<Value, 4> args;
    sliceOf(b, m.body, ops, args, load);
    if (ops.contains(load)) {
      m.factorX = a;
      m.factorW = b;
    }
  }
  if (!m.factorW || !dependsOnly(m.factorX, m.argX, nullptr) ||
      !dependsOnly(m.factorW, Value(), load))
    return "the product is not f(x) * g(weight element)";
  auto floatTy = [](Type t) { return t.isF32() || t.isF16() || t.isBF16(); };
  if (!floatTy(xTy.getElementType()) || !floatTy(m.wType))
    return "element types other than f32/f16/bf16";
  if (knownBaseAlignment(m.weight) < 16)
    return "the weight's base is not known to be 16-byte aligned";
  m.fill = fillBefore(op, m.acc);
  if (!m.fill)
    return "no linalg.fill initializes the accumulator";
  return "";
}

/// Ops strictly between `from` and `to` (same block) neither write what the
/// kernel reads nor touch what it writes; pure ops are always fine.
bool quietBetween(Operation *from, Operation *to, ArrayRef<Value> reads,
                  ArrayRef<Value> writes,
                  const llvm::SmallPtrSetImpl<Operation *> &fused) {
  for (Operation *o = from->getNextNode(); o && o != to; o = o->getNextNode()) {
    if (fused.contains(o) || isMemoryEffectFree(o))
      continue;
    auto l = dyn_cast<linalg::LinalgOp>(o);
    if (!l)
      return false;
    for (Value w : l.getDpsInits())
      for (Value r : llvm::concat<const Value>(reads, writes))
        if (mayAliasViewSources(w, r))
          return false;
    for (Value in : l.getDpsInputs())
      for (Value w : writes)
        if (mayAliasViewSources(in, w))
          return false;
  }
  return true;
}

/// Looks for the prologue, epilogue and combine around a matched op; each
/// found only when fusing it is safe.
void matchFusions(ExpertMatch &m) {
  // Prologue: x is (a reshape of) the output of an elementwise generic
  // that only the expert op reads.
  if (m.perSlot) {
    Value base = m.x;
    Operation *view = nullptr;
    if (auto c = m.x.getDefiningOp<memref::CollapseShapeOp>()) {
      base = c.getSrc();
      view = c;
    }
    linalg::GenericOp g;
    for (Operation *u : base.getUsers())
      if (auto gg = dyn_cast<linalg::GenericOp>(u))
        if (gg.getDpsInits()[0] == base && gg->getBlock() == m.op->getBlock())
          g = gg;
    bool onlyReaders =
        g && llvm::all_of(base.getUsers(),
                          [&](Operation *u) { return u == g || u == view; }) &&
        (!view || m.x.hasOneUse());
    if (g && onlyReaders && isElementwise(g) && !usesIndices(g) &&
        g->isBeforeInBlock(m.op) &&
        llvm::all_of(g.getIndexingMapsArray(),
                     [](AffineMap a) { return a.isIdentity(); }) &&
        g.getBody()->getArgument(g.getNumDpsInputs()).use_empty()) {
      llvm::SmallPtrSet<Operation *, 4> fused{g, m.fill};
      SmallVector<Value> reads(g.getDpsInputs());
      if (quietBetween(g, m.op, reads, {}, fused))
        m.prologue = g;
    }
  }
  // After the op: the accumulator's next reader.
  Operation *next = nextUser(m.op, m.acc);
  auto g = dyn_cast_or_null<linalg::GenericOp>(next);
  if (!g || usesIndices(g) || !llvm::all_of(m.acc.getUsers(), [&](Operation *u) {
        return u == m.op || u == m.fill || u == g;
      }))
    return;
  // Reads of the fused kernel besides the epilogue's own operands.
  SmallVector<Value> reads{m.idx, m.weight};
  if (m.prologue)
    llvm::append_range(reads, m.prologue.getDpsInputs());
  else
    reads.push_back(m.x);
  int64_t accPos = -1;
  for (OpOperand *in : g.getDpsInputOperands())
    if (in->get() == m.acc)
      accPos = in->getOperandNumber();
  if (accPos < 0 || g.getDpsInits()[0] == m.acc)
    return;
  AffineMap accMap = g.getMatchingIndexingMap(&g->getOpOperand(accPos));
  Value out = g.getDpsInits()[0];
  auto outTy = dyn_cast<MemRefType>(out.getType());
  if (!outTy || !outTy.hasStaticShape() ||
      !llvm::all_of(g.getIndexingMapsArray(), [](AffineMap a) {
        return a.isProjectedPermutation(/*allowZeroInResults=*/true);
      }))
    return;
  llvm::SmallPtrSet<Operation *, 4> fused{m.op, m.fill, g};
  if (m.prologue)
    fused.insert(m.prologue);
  for (Value in : g.getDpsInputs())
    if (in != m.acc)
      reads.push_back(in);
  if (llvm::any_of(reads, [&](Value r) { return mayAliasViewSources(r, out); }))
    return;
  if (isElementwise(g)) {
    if (coversLoops(g, accMap) &&
        g.getBody()->getArgument(g.getNumDpsInputs()).use_empty() &&
        g.getNumDpsInputs() == 1 && quietBetween(m.op, g, reads, {out}, fused))
      m.epilogue = g;
    return;
  }
  // Combine: one reduction loop, the accumulator's j.
  if (g.getNumReductionLoops() != 1 || accMap.getNumResults() != 3)
    return;
  int64_t jLoop = cast<AffineDimExpr>(accMap.getResult(1)).getPosition();
  if (g.getIteratorTypesArray()[jLoop] != utils::IteratorType::reduction ||
      !coversLoops(g, accMap))
    return;
  linalg::FillOp f = fillBefore(g, out);
  if (!f || !f->isBeforeInBlock(g))
    return;
  fused.insert(f);
  if (!quietBetween(m.op, g, reads, {out}, fused))
    return;
  m.combine = g;
  m.combineFill = f;
  m.combineAccInput = accPos;
}

struct Plan {
  int64_t vec = 1, rowThreads = 2, threads = 256, cols = 16, rows = 128;
  int64_t slotsPerExpert = 0; // combine: row slots of one expert
  int64_t grid = 1, trips = 1, unroll = 1;
  /// Groups of `unroll` trips (0: K is not a multiple of the stride, one
  /// trip per iteration); pipelined: the next group's loads are issued
  /// before the current group's FMAs.
  int64_t groups = 0;
  bool pipelined = false;
  /// x (not a fused prologue's result) is copied into shared memory first,
  /// the rows of the block's slots: with global loads of x between the
  /// weight loads, ptxas waits for each weight load before issuing the next
  /// (bench8's up projection: 15.4 us unstaged, 12.2-12.9 staged, H200).
  /// Not the prologue's: computing it into shared memory first measured
  /// slower (11.6 us against 9.2-9.8 for the down projection).
  bool stageX = false;
  int64_t stagedRows = 1; // J with the combine, else the block's slot
};

Plan plan(const ExpertMatch &m) {
  Plan p;
  p.vec = std::max<int64_t>(1, 128 / m.wType.getIntOrFloatBitWidth());
  while (p.vec > 1 && m.n % p.vec)
    p.vec /= 2;
  bool combine = bool(m.combine);
  int64_t threads = combine ? kCombineThreads : kThreads;
  auto blocks = [&](int64_t rt) {
    int64_t tiles = m.n / (rt * p.vec);
    return combine ? tiles : tiles * m.j;
  };
  p.rowThreads = kMinRowThreads;
  for (int64_t rt = kMaxRowThreads; rt >= kMinRowThreads; rt /= 2)
    if (m.n % (rt * p.vec) == 0 &&
        blocks(rt) >= (combine ? kTargetCombineBlocks : kTargetBlocks)) {
      p.rowThreads = rt;
      break;
    }
  while (p.rowThreads > 1 && m.n % (p.rowThreads * p.vec))
    p.rowThreads /= 2;
  p.cols = p.rowThreads * p.vec;
  // No more row slots than K rows (a short K leaves threads idle), but at
  // least a warp.
  int64_t kRows = std::max<int64_t>(llvm::bit_floor(uint64_t(m.k)),
                                    llvm::divideCeil(32, p.rowThreads));
  p.rows = std::min(threads / p.rowThreads, kRows);
  p.threads = p.rows * p.rowThreads;
  p.grid = blocks(p.rowThreads);
  int64_t stride = p.rows;
  if (combine) {
    // A power of two of row slots per expert, so that the partial sums
    // fold in eighths/halves without straddling two experts.
    int64_t per = threads / p.rowThreads / m.j;
    p.slotsPerExpert = per ? std::min<int64_t>(llvm::bit_floor(uint64_t(per)),
                                               llvm::bit_floor(uint64_t(m.k)))
                           : 0;
    if (!p.slotsPerExpert)
      return p;
    p.rows = p.slotsPerExpert * m.j;
    p.threads = p.rows * p.rowThreads;
    stride = p.slotsPerExpert;
  }
  p.stagedRows = combine ? m.j : 1;
  p.stageX = !m.prologue &&
             p.stagedRows * m.k *
                     cast<MemRefType>(m.x.getType()).getElementTypeBitWidth() /
                     8 <=
                 kMaxStagedX;
  p.trips = llvm::divideCeil(m.k, stride);
  if (m.k % stride)
    return p;
  // Registers: a thread holds `unroll` 16-byte vectors, twice that when
  // pipelined (the group in flight and the one being added): at most 8
  // (32 registers) where a block may have 64 registers a thread (512 or
  // more threads, two blocks an SM), else 16.
  int64_t maxVectors = p.threads >= 512 ? 8 : 16;
  while (p.unroll < kMaxUnroll && 2 * p.unroll <= maxVectors &&
         p.trips % (2 * p.unroll) == 0)
    p.unroll *= 2;
  p.groups = p.trips / p.unroll;
  if (p.groups > 1) {
    int64_t unroll = p.unroll;
    while (2 * unroll > maxVectors)
      unroll /= 2;
    // The pipeline is straight-line code: bounded.
    if (p.trips / unroll <= kMaxPipelinedGroups) {
      p.unroll = unroll;
      p.groups = p.trips / unroll;
      p.pipelined = true;
    }
  }
  return p;
}

struct Builder {
  RewriterBase &rw;
  Location loc;
  ExpertMatch m; // a copy: op accessors are not const
  const Plan &p;
  Value xs; // x's row in shared memory (stageX)
  Value tid;

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(rw, loc, v); }

  /// The loads x's element (j, k) is made of: x's own element (from
  /// shared memory when staged), or the prologue's inputs' elements (split
  /// from xFrom so that they can be issued a group ahead).
  SmallVector<Value> loadX(Value j, Value k) {
    if (xs) {
      Value at = k;
      if (p.stagedRows > 1)
        at = arith::AddIOp::create(
            rw, loc, arith::MulIOp::create(rw, loc, j, idx(m.k)), k);
      return {memref::LoadOp::create(rw, loc, xs, ValueRange{at})};
    }
    return loadGlobalX(j, k);
  }

  SmallVector<Value> loadGlobalX(Value j, Value k) {
    if (!m.prologue) {
      SmallVector<Value> at{idx(0)};
      if (m.perSlot)
        at.push_back(j);
      at.push_back(k);
      return {memref::LoadOp::create(rw, loc, m.x, at)};
    }
    // The prologue's iteration point: x's (0, j, k) delinearized over its
    // output shape (identity maps; the collapse only merges unit dims).
    ArrayRef<int64_t> shape =
        cast<MemRefType>(m.prologue.getDpsInits()[0].getType()).getShape();
    Value lin = arith::AddIOp::create(
        rw, loc, arith::MulIOp::create(rw, loc, j, idx(m.k)), k);
    SmallVector<Value> at(shape.size());
    for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) {
      at[d] = shape[d] == 1 ? idx(0)
                            : arith::RemUIOp::create(rw, loc, lin,
                                                     idx(shape[d]))
                                  .getResult();
      if (shape[d] != 1)
        lin = arith::DivUIOp::create(rw, loc, lin, idx(shape[d]));
    }
    SmallVector<Value> loads;
    for (Value in : m.prologue.getDpsInputs())
      loads.push_back(memref::LoadOp::create(rw, loc, in, at));
    return loads;
  }

  /// x's element in x's element type from loadX's loads: as loaded, or the
  /// prologue's body on them.
  Value xFrom(ArrayRef<Value> loads) {
    return xs ? loads[0] : computeX(loads);
  }

  Value computeX(ArrayRef<Value> loads) {
    if (!m.prologue)
      return loads[0];
    Block *body = m.prologue.getBody();
    IRMapping map;
    for (auto [i, v] : llvm::enumerate(loads))
      map.map(body->getArgument(i), v);
    auto y = cast<linalg::YieldOp>(body->getTerminator());
    return cloneValue(rw, y.getValues()[0], body, map);
  }

  int64_t xLoads() {
    return xs || !m.prologue ? 1 : m.prologue.getNumDpsInputs();
  }

  /// Makes x's rows of the block's slots (all J with the combine, else slot
  /// j) in `xs`: a strided loop over the block's threads, then a barrier.
  void stageX(Value j) {
    auto loop = scf::ForOp::create(rw, loc, tid, idx(p.stagedRows * m.k),
                                   idx(p.threads));
    rw.setInsertionPointToStart(loop.getBody());
    Value i = loop.getInductionVar(), jj = j, kk = i;
    if (p.stagedRows > 1) {
      jj = arith::DivUIOp::create(rw, loc, i, idx(m.k));
      kk = arith::RemUIOp::create(rw, loc, i, idx(m.k));
    }
    memref::StoreOp::create(rw, loc, computeX(loadGlobalX(jj, kk)), xs,
                            ValueRange{i});
    rw.setInsertionPointAfter(loop);
    gpu::BarrierOp::create(rw, loc);
  }

  /// The weight vectors, then x's loads, of trips first + (t0 + u) * stride
  /// for u < count; x is staged in between when `stage` (the weight loads
  /// are then in flight while x is copied).
  SmallVector<Value> issue(Value expert, Value j, Value n0, Value first,
                           Value t0, int64_t count, int64_t stride,
                           bool stage = false) {
    auto vt = VectorType::get({p.vec}, m.wType);
    unsigned align = p.vec * m.wType.getIntOrFloatBitWidth() / 8;
    SmallVector<Value> ks, out;
    for (int64_t u = 0; u < count; ++u) {
      Value t = u ? arith::AddIOp::create(rw, loc, t0, idx(u)).getResult() : t0;
      ks.push_back(arith::AddIOp::create(
          rw, loc, first, arith::MulIOp::create(rw, loc, t, idx(stride))));
      out.push_back(vector::LoadOp::create(rw, loc, vt, m.weight,
                                           ValueRange{expert, ks.back(), n0},
                                           /*nontemporal=*/false,
                                           llvm::MaybeAlign(align)));
    }
    if (stage)
      stageX(j);
    for (int64_t u = 0; u < count; ++u)
      llvm::append_range(out, loadX(j, ks[u]));
    return out;
  }

  /// accs[c] += x * w over the `count` trips of `loaded` (issue's layout),
  /// the matched body's scalar ops cloned.
  void consume(ArrayRef<Value> loaded, int64_t count,
               SmallVectorImpl<Value> &accs) {
    SmallVector<Value> xf;
    for (int64_t u = 0; u < count; ++u) {
      IRMapping xm;
      xm.map(m.argX,
             xFrom(loaded.slice(count + u * xLoads(), xLoads())));
      xf.push_back(cloneValue(rw, m.factorX, m.body, xm));
    }
    // Column by column: the first column's sums need every vector of the
    // group (each accumulator still adds its trips in order). ptxas
    // reschedules either order to fit its register target, so this is no
    // guarantee; the x copy and the pipeline are what keep loads in flight.
    for (int64_t c = 0; c < p.vec; ++c)
      for (int64_t u = 0; u < count; ++u) {
        IRMapping wm;
        wm.map(m.load, vector::ExtractOp::create(rw, loc, loaded[u], c));
        Value wf = cloneValue(rw, m.factorW, m.body, wm);
        accs[c] = arith::AddFOp::create(
            rw, loc, accs[c], arith::MulFOp::create(rw, loc, xf[u], wf));
      }
  }

  /// This thread's partial sums of its `vec` columns over its K rows.
  SmallVector<Value> accumulate(Value expert, Value j, Value n0, Value first,
                                int64_t stride) {
    Value zero =
        arith::ConstantOp::create(rw, loc, rw.getFloatAttr(rw.getF32Type(), 0));
    SmallVector<Value> accs(p.vec, zero);
    auto loopOver = [&](Value lb, Value ub, Value step, ValueRange inits) {
      auto loop = scf::ForOp::create(rw, loc, lb, ub, step, inits);
      rw.setInsertionPointToStart(loop.getBody());
      return loop;
    };
    if (xs && !p.pipelined)
      stageX(j);
    if (!p.groups) {
      // K is not a multiple of the stride: one trip per iteration.
      scf::ForOp loop = loopOver(first, idx(m.k), idx(stride), accs);
      SmallVector<Value> it(loop.getRegionIterArgs());
      SmallVector<Value> loaded = issue(expert, j, n0, loop.getInductionVar(),
                                        idx(0), 1, 0);
      consume(loaded, 1, it);
      scf::YieldOp::create(rw, loc, it);
      rw.setInsertionPointAfter(loop);
      return SmallVector<Value>(loop.getResults());
    }
    int64_t u = p.unroll;
    auto groupStart = [&](Value g) {
      return arith::MulIOp::create(rw, loc, g, idx(u)).getResult();
    };
    if (!p.pipelined) {
      scf::ForOp loop = loopOver(idx(0), idx(p.groups), idx(1), accs);
      SmallVector<Value> it(loop.getRegionIterArgs());
      SmallVector<Value> loaded =
          issue(expert, j, n0, first, groupStart(loop.getInductionVar()), u,
                stride);
      consume(loaded, u, it);
      scf::YieldOp::create(rw, loc, it);
      rw.setInsertionPointAfter(loop);
      return SmallVector<Value>(loop.getResults());
    }
    // Pipelined: group g + 1's loads are in flight while group g is added,
    // so a thread never waits with no load outstanding. Straight-line code:
    // in a loop, LLVM folds the carried loads back into the loop's top
    // (a phi of two loads becomes a load of a phi), undoing the pipeline.
    SmallVector<Value> cur =
        issue(expert, j, n0, first, idx(0), u, stride, /*stage=*/bool(xs));
    for (int64_t g = 1; g <= p.groups; ++g) {
      SmallVector<Value> next;
      if (g < p.groups)
        next = issue(expert, j, n0, first, idx(g * u), u, stride);
      consume(cur, u, accs);
      cur = std::move(next);
    }
    return accs;
  }

  void build() {
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
    auto launch = gpu::LaunchOp::create(
        rw, loc, idx(p.grid), one, one, idx(p.threads), one, one,
        /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
        /*asyncDependencies=*/{}, shared);
    launch->setAttr(
        "sinter.kernel",
        rw.getStringAttr(llvm::formatv(
            "expert_gemv j={0} n={1} k={2} vec={3} cols={4} rows={5} "
            "threads={6} grid={7} unroll={8} groups={9} pipelined={10} "
            "staged_x={11} prologue={12} epilogue={13} combine={14}",
            m.j, m.n, m.k, p.vec, p.cols, p.rows, p.threads, p.grid, p.unroll,
            p.groups, p.pipelined, p.stageX, bool(m.prologue),
            bool(m.epilogue), bool(m.combine))));
    Block &blk = launch.getBody().front();
    rw.setInsertionPointToStart(&blk);
    gpu::TerminatorOp::create(rw, loc);
    rw.setInsertionPointToStart(&blk);
    Value smem = launch.getWorkgroupAttributions()[0];
    if (p.stageX)
      xs = launch.getWorkgroupAttributions()[1];
    tid = launch.getThreadIds().x;
    Value bid = launch.getBlockIds().x;
    Value slot = arith::DivUIOp::create(rw, loc, tid, idx(p.rowThreads));
    Value q = arith::RemUIOp::create(rw, loc, tid, idx(p.rowThreads));
    int64_t tiles = m.n / p.cols;
    // Which expert slot and which K rows this thread walks.
    Value j, tile, first;
    int64_t stride;
    if (m.combine) {
      tile = bid;
      j = arith::DivUIOp::create(rw, loc, slot, idx(p.slotsPerExpert));
      first = arith::RemUIOp::create(rw, loc, slot, idx(p.slotsPerExpert));
      stride = p.slotsPerExpert;
    } else {
      j = arith::DivUIOp::create(rw, loc, bid, idx(tiles));
      tile = arith::RemUIOp::create(rw, loc, bid, idx(tiles));
      first = slot;
      stride = p.rows;
    }
    Value colBase = arith::MulIOp::create(rw, loc, tile, idx(p.cols));
    Value n0 = arith::AddIOp::create(
        rw, loc, colBase, arith::MulIOp::create(rw, loc, q, idx(p.vec)));

    // The expert: the body's index computation on the loaded index.
    IRMapping eMap;
    eMap.map(m.argIdx, memref::LoadOp::create(rw, loc, m.idx,
                                              ValueRange{idx(0), j}));
    Value expert = cloneValue(rw, m.expert, m.body, eMap);
    SmallVector<Value> sums = accumulate(expert, j, n0, first, stride);

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
    Value isWriter = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult,
                                           tid, idx(p.cols));
    auto wr = scf::IfOp::create(rw, loc, isWriter, /*withElse=*/false);
    rw.setInsertionPointToStart(wr.thenBlock());
    Value col = arith::AddIOp::create(rw, loc, colBase, tid);
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
    if (!m.combine) {
      Value v = sumRows(0, groupRows);
      storeResult(j, col, v);
    } else {
      Block *cb = m.combine.getBody();
      AffineMap accMap = m.combine.getIndexingMapsArray()[m.combineAccInput];
      Value run = m.combineFill.getInputs()[0];
      SmallVector<Value> it;
      for (int64_t e = 0; e < m.j; ++e) {
        Value v = sumRows(e * groupRows, groupRows);
        it = iterationOf(rw, loc, m.combine, accMap, {idx(0), idx(e), col});
        IRMapping cm;
        for (OpOperand *in : m.combine.getDpsInputOperands()) {
          Value arg = cb->getArgument(in->getOperandNumber());
          if (int64_t(in->getOperandNumber()) == m.combineAccInput)
            cm.map(arg, v);
          else
            cm.map(arg, memref::LoadOp::create(
                            rw, loc, in->get(),
                            applyMap(rw, loc, m.combine.getMatchingIndexingMap(in), it)));
        }
        cm.map(cb->getArgument(m.combine.getNumDpsInputs()), run);
        run = cloneValue(rw, cast<linalg::YieldOp>(cb->getTerminator())
                                 .getValues()[0],
                         cb, cm);
      }
      OpOperand *outOp = m.combine.getDpsInitOperand(0);
      memref::StoreOp::create(
          rw, loc, run, outOp->get(),
          applyMap(rw, loc, m.combine.getMatchingIndexingMap(outOp), it));
    }
    rw.setInsertionPointAfter(launch);
  }

  /// The accumulator element (0, j, col): through the epilogue, or as is.
  void storeResult(Value j, Value col, Value v) {
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
};

} // namespace

LogicalResult emitExpertGemv(RewriterBase &rw, linalg::LinalgOp op,
                             const KernelOptions &options, std::string &why) {
  (void)options;
  // The contraction is offered after its accumulator's fill (and after the
  // prologue): taken from the fill, so that no other template takes the
  // fill with the contraction.
  linalg::LinalgOp target = op;
  if (auto f = dyn_cast<linalg::FillOp>(op.getOperation()))
    if (auto g = dyn_cast_or_null<linalg::GenericOp>(
            nextUser(f, f.getDpsInits()[0])))
      target = g;
  ExpertMatch m;
  why = matchExpert(target, m);
  if (!why.empty())
    return failure();
  if (target != op && m.fill.getOperation() != op.getOperation()) {
    why = "the fill is not the accumulator's";
    return failure();
  }
  matchFusions(m);
  Plan p = plan(m);
  if (m.combine && !p.slotsPerExpert) {
    m.combine = nullptr; // the slots of a block cannot cover all J experts
    p = plan(m);
  }
  // At the last fused op: buffers it writes may be defined just before it.
  Operation *last = m.combine    ? m.combine.getOperation()
                    : m.epilogue ? m.epilogue.getOperation()
                                 : m.op.getOperation();
  rw.setInsertionPoint(last);
  Builder{rw, m.op.getLoc(), m, p, {}, {}}.build();
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
  return success();
}

} // namespace sinter::cuda
