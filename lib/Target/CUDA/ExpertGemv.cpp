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

#include "ContractionMatch.h"
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
  /// The shared expert's down projection (an [N, K] GEMV at one row over
  /// the same N columns, which an elementwise op later adds to the
  /// combine's result) computed by the same blocks: see matchSharedFold.
  std::optional<ContractionMatch> shared;
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
/// Whether `o`'s own memory effects (not its regions') neither write what
/// is read nor touch what is written: each effect names a buffer, and none
/// of them may alias; an effect on no buffer counts as touching all.
bool effectsQuiet(Operation *o, ArrayRef<Value> reads, ArrayRef<Value> writes) {
  auto iface = dyn_cast<MemoryEffectOpInterface>(o);
  if (!iface)
    return false;
  SmallVector<MemoryEffects::EffectInstance> effects;
  iface.getEffects(effects);
  for (MemoryEffects::EffectInstance &e : effects) {
    if (isa<MemoryEffects::Allocate, MemoryEffects::Free>(e.getEffect()))
      continue;
    Value v = e.getValue();
    if (!v || !isa<MemRefType>(v.getType()))
      return false;
    // Shared memory of a kernel: not the arena's.
    if (auto space = dyn_cast_or_null<gpu::AddressSpaceAttr>(
            cast<MemRefType>(v.getType()).getMemorySpace()))
      if (space.getValue() != gpu::AddressSpace::Global)
        continue;
    for (Value w : writes)
      if (mayAliasViewSources(v, w))
        return false;
    if (isa<MemoryEffects::Write>(e.getEffect()))
      for (Value r : reads)
        if (mayAliasViewSources(v, r))
          return false;
  }
  return true;
}

/// effectsQuiet for a kernel formed earlier (the router's, between the up
/// projection's prologue and the projection): every op of its body.
bool launchQuiet(gpu::LaunchOp launch, ArrayRef<Value> reads,
                 ArrayRef<Value> writes) {
  WalkResult r = launch.getBody().walk([&](Operation *o) {
    // A barrier orders the block's threads; it touches no buffer.
    if (isMemoryEffectFree(o) || isa<gpu::BarrierOp>(o) ||
        o->hasTrait<OpTrait::HasRecursiveMemoryEffects>() ||
        effectsQuiet(o, reads, writes))
      return WalkResult::advance();
    return WalkResult::interrupt();
  });
  return !r.wasInterrupted();
}

bool quietBetween(Operation *from, Operation *to, ArrayRef<Value> reads,
                  ArrayRef<Value> writes,
                  const llvm::SmallPtrSetImpl<Operation *> &fused) {
  for (Operation *o = from->getNextNode(); o && o != to; o = o->getNextNode()) {
    if (fused.contains(o) || isMemoryEffectFree(o))
      continue;
    if (auto launch = dyn_cast<gpu::LaunchOp>(o)) {
      if (!launchQuiet(launch, reads, writes))
        return false;
      continue;
    }
    auto l = dyn_cast<linalg::LinalgOp>(o);
    if (!l) {
      // A view op reading a shape buffer (memref.reshape) and the like.
      if (!o->getNumRegions() && effectsQuiet(o, reads, writes))
        continue;
      return false;
    }
    for (Value w : l.getDpsInits())
      for (Value r : llvm::concat<const Value>(reads, writes))
        if (mayAliasViewSources(w, r))
          return false;
    for (Value in : l.getDpsInputs())
      for (Value w : writes)
        if (isa<MemRefType>(in.getType()) && mayAliasViewSources(in, w))
          return false; // (a fill's scalar is no buffer)
  }
  return true;
}

/// Looks for the prologue, epilogue and combine around a matched op; each
/// found only when fusing it is safe.
void matchFusionsAround(ExpertMatch &m) {
  // Prologue: x is (a reshape of) the output of an elementwise generic
  // that only the expert op reads: the experts' act(gate) * up of the down
  // projection (per slot), or the rounding of the normalized row that all
  // slots of the up projection read (bench8's 8-block launch before it).
  {
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
    // Inputs through projected permutations (a broadcast over unit dims),
    // the output identity: its iteration point is the linear index of x's
    // element, delinearized (loadGlobalX).
    if (g && onlyReaders && isElementwise(g) && !usesIndices(g) &&
        g->isBeforeInBlock(m.op) &&
        g.getMatchingIndexingMap(g.getDpsInitOperand(0)).isIdentity() &&
        cast<MemRefType>(base.getType()).getLayout().isIdentity() &&
        llvm::all_of(g.getIndexingMapsArray(),
                     [](AffineMap a) {
                       return a.isProjectedPermutation(
                           /*allowZeroInResults=*/true);
                     }) &&
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

void matchFusions(ExpertMatch &m) {
  matchFusionsAround(m);
  // Unless an epilogue or the combine writes elsewhere, the kernel writes
  // the accumulator while other blocks still read the prologue's inputs,
  // and the memory plan may have put it on their bytes (dead after the
  // prologue as the IR stands). Then x is materialized (x and the
  // accumulator are both live at the contraction: apart).
  if (m.prologue && !m.epilogue && !m.combine &&
      llvm::any_of(m.prologue.getDpsInputs(),
                   [&](Value in) { return mayAliasViewSources(in, m.acc); }))
    m.prologue = nullptr;
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
  /// Not a per-slot prologue's: computing it into shared memory first
  /// measured slower (11.6 us against 9.2-9.8 for the down projection).
  /// A prologue all slots share (the up projection's rounding of x) is
  /// computed into the copy.
  bool stageX = false;
  int64_t stagedRows = 1; // J with the combine, else the block's slot
  /// The shared expert's part (ExpertMatch::shared): a block reads the
  /// `cols` weight rows of its columns (contiguous, cols x K) as
  /// `sharedVec`-element chunks, chunk c of the block in thread c mod
  /// threads (`sharedPasses` rounds); the chunks of a row are summed by
  /// `sharedWidth` lanes with xor shuffles, then by the writer over the
  /// row's segments.
  int64_t sharedVec = 0, sharedChunks = 0, sharedWidth = 0, sharedPasses = 0;
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
  // A prologue shared by all slots (not per slot) is computed once a block
  // into the copy: the up projection's rounding of x.
  p.stageX = (!m.prologue || !m.perSlot) &&
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
  /// The shared expert's activation (in shared memory, accumulator type),
  /// its per-segment sums, and this thread's weight chunks.
  Value sharedX, sharedSums;
  SmallVector<Value> sharedW;

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
    // The prologue's iteration point: x's (0, j, k) (or (0, k)) linearized,
    // then delinearized over its identity output (x is that buffer or a
    // collapse of it), its inputs' indices through their maps.
    ArrayRef<int64_t> shape =
        cast<MemRefType>(m.prologue.getDpsInits()[0].getType()).getShape();
    Value lin = k;
    if (m.perSlot)
      lin = arith::AddIOp::create(
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
    for (OpOperand *in : m.prologue.getDpsInputOperands())
      loads.push_back(memref::LoadOp::create(
          rw, loc, in->get(),
          applyMap(rw, loc, m.prologue.getMatchingIndexingMap(in), at)));
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

  /// Shared expert: chunk `pass` of this thread: (row in the block, first
  /// K element), and whether it exists (null when every thread's does).
  std::tuple<Value, Value, Value> sharedChunk(int64_t pass) {
    int64_t total = p.cols * p.sharedChunks;
    Value flat = arith::AddIOp::create(rw, loc, tid, idx(pass * p.threads));
    Value row = arith::DivUIOp::create(rw, loc, flat, idx(p.sharedChunks));
    Value k0 = arith::MulIOp::create(
        rw, loc, arith::RemUIOp::create(rw, loc, flat, idx(p.sharedChunks)),
        idx(p.sharedVec));
    Value valid;
    if ((pass + 1) * p.threads > total)
      valid = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, flat,
                                    idx(total));
    return {row, k0, valid};
  }

  /// The [0, ..., 0, i] index of a one-row buffer.
  SmallVector<Value> rowIndex(Value buffer, Value i) {
    SmallVector<Value> at(cast<MemRefType>(buffer.getType()).getRank() - 1,
                          idx(0));
    at.push_back(i);
    return at;
  }

  /// Issued first, so that they are in flight with the experts' loads.
  void issueSharedLoads(Value colBase) {
    const ContractionMatch &s = *m.shared;
    auto vt = VectorType::get({p.sharedVec}, s.weightType);
    unsigned align = p.sharedVec * s.weightType.getIntOrFloatBitWidth() / 8;
    for (int64_t pass = 0; pass < p.sharedPasses; ++pass) {
      Value row, k0, valid;
      std::tie(row, k0, valid) = sharedChunk(pass);
      Value n = arith::AddIOp::create(rw, loc, colBase, row);
      auto load = [&](OpBuilder &b, Location l) {
        return vector::LoadOp::create(b, l, vt, s.weight, ValueRange{n, k0},
                                      /*nontemporal=*/false,
                                      llvm::MaybeAlign(align))
            .getResult();
      };
      if (!valid) {
        sharedW.push_back(load(rw, loc));
        continue;
      }
      auto guarded = scf::IfOp::create(
          rw, loc, valid,
          [&](OpBuilder &b, Location l) {
            scf::YieldOp::create(b, l, ValueRange{load(b, l)});
          },
          [&](OpBuilder &b, Location l) {
            Value z = arith::ConstantOp::create(
                b, l, cast<TypedAttr>(b.getZeroAttr(vt)));
            scf::YieldOp::create(b, l, ValueRange{z});
          });
      sharedW.push_back(guarded.getResult(0));
    }
  }

  /// The activation (the body's act(gate) * up, cloned) into shared memory;
  /// read after the next barrier.
  void stageSharedX() {
    const ContractionMatch &s = *m.shared;
    auto loop = scf::ForOp::create(rw, loc, tid, idx(s.k), idx(p.threads));
    rw.setInsertionPointToStart(loop.getBody());
    Value i = loop.getInductionVar();
    SmallVector<Value> elts;
    for (Value a : s.activations)
      elts.push_back(memref::LoadOp::create(rw, loc, a, rowIndex(a, i)));
    memref::StoreOp::create(rw, loc, emitOperandElement(rw, s, elts), sharedX,
                            ValueRange{i});
    rw.setInsertionPointAfter(loop);
  }

  /// Each chunk's dot product, summed over its segment of lanes (xor
  /// shuffles: the same fixed order in every run); the segment's first
  /// lane stores it.
  void sumSharedChunks() {
    const ContractionMatch &s = *m.shared;
    for (int64_t pass = 0; pass < p.sharedPasses; ++pass) {
      Value row, k0, valid;
      std::tie(row, k0, valid) = sharedChunk(pass);
      (void)row;
      Value sum = arith::ConstantOp::create(
          rw, loc, rw.getFloatAttr(s.accType, 0.0));
      for (int64_t e = 0; e < p.sharedVec; ++e) {
        Value x = memref::LoadOp::create(
            rw, loc, sharedX,
            ValueRange{arith::AddIOp::create(rw, loc, k0, idx(e))});
        Value w = emitWeightElement(
            rw, s, vector::ExtractOp::create(rw, loc, sharedW[pass], e));
        sum = arith::AddFOp::create(rw, loc, sum,
                                    arith::MulFOp::create(rw, loc, x, w));
      }
      for (int64_t off = p.sharedWidth / 2; off >= 1; off /= 2)
        sum = arith::AddFOp::create(
            rw, loc, sum,
            gpu::ShuffleOp::create(rw, loc, sum, off, /*width=*/32,
                                   gpu::ShuffleMode::XOR)
                .getShuffleResult());
      Value flat = arith::AddIOp::create(rw, loc, tid, idx(pass * p.threads));
      Value leader = arith::CmpIOp::create(
          rw, loc, arith::CmpIPredicate::eq,
          arith::RemUIOp::create(rw, loc, flat, idx(p.sharedWidth)), idx(0));
      if (valid)
        leader = arith::AndIOp::create(rw, loc, leader, valid);
      auto st = scf::IfOp::create(rw, loc, leader, /*withElse=*/false);
      rw.setInsertionPointToStart(st.thenBlock());
      memref::StoreOp::create(
          rw, loc, sum, sharedSums,
          ValueRange{arith::DivUIOp::create(rw, loc, flat,
                                            idx(p.sharedWidth))});
      rw.setInsertionPointAfter(st);
    }
  }

  /// In the writer (thread c < cols): the row's segments in order, plus the
  /// initial value, through the epilogue when fused, stored once.
  void storeShared(Value colBase) {
    const ContractionMatch &s = *m.shared;
    int64_t segments = p.sharedChunks / p.sharedWidth;
    Value first = arith::MulIOp::create(rw, loc, tid, idx(segments));
    Value v = memref::LoadOp::create(rw, loc, sharedSums, ValueRange{first});
    for (int64_t i = 1; i < segments; ++i)
      v = arith::AddFOp::create(
          rw, loc, v,
          memref::LoadOp::create(
              rw, loc, sharedSums,
              ValueRange{arith::AddIOp::create(rw, loc, first, idx(i))}));
    Value col = arith::AddIOp::create(rw, loc, colBase, tid);
    Value bias;
    if (s.init == AccInit::Bias)
      bias = memref::LoadOp::create(rw, loc, s.bias, ValueRange{col});
    v = arith::AddFOp::create(rw, loc, emitInitElement(rw, loc, s, bias), v);
    Value out = s.epilogue ? s.output : s.acc;
    memref::StoreOp::create(rw, loc, emitOutputElement(rw, s, v), out,
                            rowIndex(out, col));
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
    if (m.shared) {
      shared.push_back(
          MemRefType::get({m.shared->k}, m.shared->accType, AffineMap(), space));
      shared.push_back(MemRefType::get(
          {p.cols * p.sharedChunks / p.sharedWidth}, m.shared->accType,
          AffineMap(), space));
    }
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
    if (m.shared)
      issueSharedLoads(colBase);
    SmallVector<Value> sums = accumulate(expert, j, n0, first, stride);
    if (m.shared)
      stageSharedX();

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
      if (m.shared)
        storeShared(colBase);
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

/// The shared expert's down projection beside a routed MoE block: `target`
/// is a GEMV ([N, K] weight, one row, f32 accumulator, an optional
/// epilogue that only rounds it) whose result an elementwise op adds to
/// the weighted sum (the fused combine) of an expert GEMV between the two
/// (the add of the shared branch to the routed sum: the MoE block's
/// output). Both then run as one kernel: the expert's blocks also compute
/// the shared GEMV over their columns (one launch fewer a layer). On
/// success `m` is the expert's match with `shared` set and `p` its plan.
std::string matchSharedFold(linalg::GenericOp target, ExpertMatch &m,
                            Plan &p) {
  std::string why;
  FailureOr<ContractionMatch> cm = matchContraction(target, why);
  if (failed(cm))
    return "not a GEMV either: " + why;
  ContractionMatch &s = *cm;
  if (s.m != 1 || !s.accType.isF32())
    return "not a one-row GEMV with an f32 accumulator";
  if (s.epilogue && !s.epilogueFusable)
    return "its epilogue reads the accumulator before the fused kernel "
           "would write it";
  Value result = s.epilogue ? s.output : s.acc;
  Operation *after = s.epilogue ? s.epilogue.getOperation() : s.op;
  Operation *add = nextUser(after, result);
  auto addOp = dyn_cast_or_null<linalg::GenericOp>(add);
  if (!addOp || !isElementwise(addOp) ||
      !llvm::is_contained(addOp.getDpsInputs(), result))
    return "its result is not next read by an elementwise op";
  for (Operation *o = after->getNextNode(); o && o != add;
       o = o->getNextNode()) {
    auto g = dyn_cast<linalg::GenericOp>(o);
    ExpertMatch e;
    if (!g || !matchExpert(g, e).empty())
      continue;
    matchFusions(e);
    if (e.combine &&
        llvm::is_contained(addOp.getDpsInputs(), e.combine.getDpsInits()[0])) {
      m = e;
      break;
    }
  }
  if (!m.combine)
    return "no routed expert GEMV with a fused weighted sum whose result the "
           "elementwise op after it also reads";
  p = plan(m);
  if (!p.slotsPerExpert)
    return "the routed experts' weighted sum is not fused (too many experts "
           "for a block)";
  if (s.n != m.n || m.n % p.cols)
    return "the shared GEMV's N = " + std::to_string(s.n) +
           " is not the routed block's " + std::to_string(m.n);
  unsigned bits = s.weightType.getIntOrFloatBitWidth();
  p.sharedVec = 128 / bits;
  if (s.k % p.sharedVec || knownBaseAlignment(s.weight) < 16)
    return "the shared weight's rows are not 16-byte aligned chunks";
  p.sharedChunks = s.k / p.sharedVec;
  p.sharedWidth = p.sharedChunks % 32 == 0 ? 32
                  : llvm::isPowerOf2_64(p.sharedChunks) ? p.sharedChunks
                                                         : 0;
  if (!p.sharedWidth)
    return "K / " + std::to_string(p.sharedVec) +
           " chunks a row is neither a power of two below 32 nor a multiple "
           "of 32 (a row's lanes must be whole shuffle segments)";
  if (s.k * 4 > kMaxStagedX)
    return "the shared activation does not fit the block's copy";
  p.sharedPasses = llvm::divideCeil(p.cols * p.sharedChunks, p.threads);
  // What the fused kernel reads and writes.
  SmallVector<Value> reads{m.idx, m.weight, s.weight};
  llvm::append_range(reads, s.activations);
  if (s.bias)
    reads.push_back(s.bias);
  if (m.prologue)
    llvm::append_range(reads, m.prologue.getDpsInputs());
  else
    reads.push_back(m.x);
  for (Value in : m.combine.getDpsInputs())
    if (in != m.acc)
      reads.push_back(in);
  Value routedOut = m.combine.getDpsInits()[0];
  SmallVector<Value> writes{routedOut, result};
  for (Value w : writes)
    for (Value r : reads)
      if (mayAliasViewSources(w, r))
        return "a buffer the fused kernel writes may share bytes with one it "
               "reads";
  if (mayAliasViewSources(routedOut, result))
    return "the routed and shared results may share bytes";
  // The shared GEMV moves down to the combine: nothing in between may
  // write its inputs or touch its result.
  llvm::SmallPtrSet<Operation *, 8> fused{m.op, m.fill, m.combine,
                                          m.combineFill};
  if (m.prologue)
    fused.insert(m.prologue);
  if (s.epilogue)
    fused.insert(s.epilogue);
  SmallVector<Value> sharedReads(s.activations.begin(), s.activations.end());
  sharedReads.push_back(s.weight);
  if (s.bias)
    sharedReads.push_back(s.bias);
  if (!quietBetween(s.op, m.combine, sharedReads, {result, s.acc}, fused))
    return "an op between the shared GEMV and the routed block writes its "
           "inputs or touches its result";
  m.shared = s;
  return "";
}

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
  Plan p;
  why = matchExpert(target, m);
  if (!why.empty()) {
    // Not an expert GEMV: perhaps the shared expert beside one.
    auto g = dyn_cast<linalg::GenericOp>(target.getOperation());
    std::string sharedWhy = g ? matchSharedFold(g, m, p)
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
    p = plan(m);
    if (m.combine && !p.slotsPerExpert) {
      m.combine = nullptr; // the slots of a block cannot cover all J experts
      p = plan(m);
    }
  }
  // At the last fused op: buffers it writes may be defined just before it.
  Operation *last = m.combine    ? m.combine.getOperation()
                    : m.epilogue ? m.epilogue.getOperation()
                                 : m.op.getOperation();
  rw.setInsertionPoint(last);
  Builder{rw, m.op.getLoc(), m, p, {}, {}, {}, {}, {}}.build();
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
  return success();
}

} // namespace sinter::cuda
