//===- ExpertGemvMatch.cpp - the expert GEMV's match and plan -------------===//
//
// The M = 1 expert projection (ExpertGemv.cpp) before any IR is built: the
// bufferized expert contraction matched, the prologue, epilogue and
// weighted-sum combine that are safe to fuse around it, and the block
// shape and K walk chosen for it. Separate from the builder: it only reads
// IR, and the shared-expert fold (ExpertGemvShared.cpp) matches the routed
// block through it too.
//
//===----------------------------------------------------------------------===//

#include "ExpertGemv.h"
#include "GemmBuffers.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/bit.h"

using namespace mlir;

namespace sinter::cuda::expert_gemv {

/// The ops and block arguments of `body` that `v` depends on; `leaf` (if
/// any) is taken as an input, its operands not followed.
void sliceOf(Value v, Block *body, llvm::SetVector<Operation *> &ops,
             llvm::SmallPtrSetImpl<Value> &args, Operation *leaf) {
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
bool coversLoops(linalg::GenericOp g, AffineMap map, int64_t reduced) {
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

namespace {

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

} // namespace

/// Ops strictly between `from` and `to` (same block) neither write what the
/// kernel reads nor touch what it writes; pure ops are always fine.
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

namespace {

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

} // namespace

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

/// The plan with `combineThreads` threads a combine block; `deep`: up to
/// 2 * kMaxDeepUnroll weight vectors a thread (register-limited to one
/// block an SM anyway, see plan).
static Plan planFor(const ExpertMatch &m, int64_t combineThreads,
                    bool deep) {
  Plan p;
  p.vec = std::max<int64_t>(1, 128 / m.wType.getIntOrFloatBitWidth());
  while (p.vec > 1 && m.n % p.vec)
    p.vec /= 2;
  bool combine = bool(m.combine);
  int64_t threads = combine ? combineThreads : kThreads;
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
  // The combine with a per-slot prologue (the MoE down projection: x is
  // each expert's act(gate) * up) splits its J experts over blocks when
  // that buys wider column tiles and two blocks an SM: the widest tile
  // first, then the fewest splits reaching kTargetBlocks. Measured on
  // bench8's down projection (H100, ncu, 8 layers; decode step in the same
  // run): 16 columns, 128 blocks of all 8 experts 110 us (0.859 ms); 64
  // columns over 4 splits 108 us; with x staged 103 us (0.851); 1024
  // threads 98-100 us (0.848); 8 splits of 512 threads (one expert a
  // block, 256 blocks) 99 us (0.845).
  if (combine && m.prologue && m.perSlot && !deep) {
    bool found = false;
    for (int64_t rt = kMaxRowThreads; rt > p.rowThreads && !found; rt /= 2) {
      if (m.n % (rt * p.vec))
        continue;
      for (int64_t s = 2; s <= m.j && !found; s *= 2)
        if (m.j % s == 0 && (rt * p.vec) % s == 0 &&
            threads / rt / (m.j / s) >= 1 &&
            blocks(rt) * s >= kTargetBlocks) {
          p.rowThreads = rt;
          p.splits = s;
          found = true;
        }
    }
  }
  p.cols = p.rowThreads * p.vec;
  p.sharedCols = p.cols / p.splits;
  int64_t experts = m.j / p.splits; // a block's
  // No more row slots than K rows (a short K leaves threads idle), but at
  // least a warp.
  int64_t kRows = std::max<int64_t>(llvm::bit_floor(uint64_t(m.k)),
                                    llvm::divideCeil(32, p.rowThreads));
  p.rows = std::min(threads / p.rowThreads, kRows);
  p.threads = p.rows * p.rowThreads;
  p.grid = blocks(p.rowThreads) * p.splits;
  int64_t stride = p.rows;
  if (combine) {
    // A power of two of row slots per expert, so that the partial sums
    // fold in eighths/halves without straddling two experts.
    int64_t per = threads / p.rowThreads / experts;
    p.slotsPerExpert = per ? std::min<int64_t>(llvm::bit_floor(uint64_t(per)),
                                               llvm::bit_floor(uint64_t(m.k)))
                           : 0;
    if (!p.slotsPerExpert)
      return p;
    p.rows = p.slotsPerExpert * experts;
    p.threads = p.rows * p.rowThreads;
    stride = p.slotsPerExpert;
  }
  p.stagedRows = combine ? experts : 1;
  // A prologue shared by all slots (not per slot) is computed once a block
  // into the copy: the up projection's rounding of x. A per-slot one only
  // when the experts are split (the block's few experts' rows: 108 us
  // unstaged against 103 above).
  p.stageX = (!m.prologue || !m.perSlot || p.splits > 1) &&
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
  int64_t maxVectors = deep ? 2 * kMaxDeepUnroll : p.threads >= 512 ? 8 : 16;
  int64_t maxUnroll = deep ? kMaxDeepUnroll : kMaxUnroll;
  while (p.unroll < maxUnroll && 2 * p.unroll <= maxVectors &&
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

Plan plan(const ExpertMatch &m, const KernelOptions &options) {
  // The combine block (the MoE down projection: all J experts of its
  // columns) needs about 126 registers a thread at 512 threads, so one
  // block an SM with 8 weight vectors in flight a thread: bench8's down
  // projection streamed at 46% of the copy bandwidth (13.8 us, H100). At
  // 256 threads the same registers a thread buy 32 vectors in flight when
  // each thread walks 32 or more trips (K a multiple of 32 x an expert's
  // row slots: bench8's K = 512 at 16 slots): the block's whole share of
  // the weights is requested up front, twice the bytes in flight an SM
  // (ptxas sm_90a: 252 registers, no spills). Shorter K keeps the
  // 512-thread plan. Only with the experimental form expert-down-deep (not
  // yet run on a GPU); off, the 512-thread plan (run on a GPU).
  if (m.combine && options.experimental.expertDownDeep) {
    Plan d = planFor(m, kDeepCombineThreads, /*deep=*/true);
    if (d.slotsPerExpert && d.pipelined && d.unroll == kMaxDeepUnroll)
      return d;
  }
  Plan p = planFor(m, kCombineThreads, /*deep=*/false);
  // The experimental form expert-cluster-combine (Plan::cluster). Clusters
  // are at most 8 blocks where every GPU supports them (portable size);
  // `.reqnctapercluster` needs sm_90. Off by default: measured slower
  // (bench8 decode on an H100, same call: 0.8478 against 0.8270 ms a
  // step; docs/benchmarks.md).
  p.cluster = options.experimental.expertClusterCombine && p.splits > 1 &&
              p.splits == m.j && p.splits <= 8 &&
              smVersion(options.gpuArch) >= 90;
  return p;
}

} // namespace sinter::cuda::expert_gemv
