//===- GatedDelta.cpp - one kernel per (gated) delta-rule decode step
//------===//
//
// See Kernels.h. The decode step of sinter.linear_attention (T = 1) is
// lowered (lib/Conversion/GraphToLinalg/LLMOps.cpp) to four generics marked
// `sinter.gated_delta_step`: "retrieve" (r = sum_d S[d,m] f(k[d], g)),
// "update" (S[d,m] = F(S[d,m], k[d], v[m], g, beta, r[m]), in place),
// "readout" (o = sum_d q[d] S'[d,m]) and "output" (scale, conversion). The
// generic mapping runs them as several kernels that each read the whole
// f32 state (2 MB per layer at Qwen3.5's size: about 50 us each on an
// H200 for what bandwidth allows in 1-2 us).
//
// This template runs the step as ONE launch: a block per (batch, head,
// column tile), a warp per 8 value columns, its lanes split over the key
// rows (lane = column + 8 * row group), so each thread keeps R = Dk / 4
// state elements of its column in registers; the state is read once and
// written once, in place, and the reductions over Dk are warp shuffles
// across the row groups. The bodies are the generics' own, cloned.
//
// The step's inputs are not read back from memory when a generic wrote
// them just before: the producer's body is cloned into the kernel at the
// element the step reads (the l2norm's division, the gate math, the q/k
// head repeat), and a producer that is a reduction over Dk (the l2norm's
// sum of squares) is computed by the same lanes and shuffles. A producer
// whose output nothing else reads is erased. So the l2norm, the gates,
// the decay, the delta update and the readout are one kernel.
//
// Buffer reasoning: every buffer is a static strided view of a function
// argument, a global or the memory plan's arena (a memref.view at a
// constant byte shift); two views overlap when their byte ranges do. The
// template refuses (with a reason) when a value it loads may be written
// between its reader and the launch, or aliases what the kernel writes.
//
//===----------------------------------------------------------------------===//

#include "GatedDeltaBuffers.h"
#include "Kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

#include <map>

using namespace mlir;

namespace sinter::cuda {
using namespace gated_delta;
namespace {

constexpr StringLiteral kRole = "sinter.gated_delta_step";
constexpr StringLiteral kStartsAtRetrieve = "the step starts at its retrieve";

std::string str(int64_t v) { return std::to_string(v); }

// The kernel's index space: batch, head, value column, key row.
enum Dim : unsigned { DB = 0, DH = 1, DM = 2, DD = 3, NumDims = 4 };

//===----------------------------------------------------------------------===//
// Index expressions over (b, h, m, d)
//===----------------------------------------------------------------------===//

struct Linear {
  int64_t coef[NumDims] = {0, 0, 0, 0};
  int64_t cst = 0;
};

std::optional<Linear> linear(AffineExpr e) {
  if (auto c = dyn_cast<AffineConstantExpr>(e)) {
    Linear l;
    l.cst = c.getValue();
    return l;
  }
  if (auto d = dyn_cast<AffineDimExpr>(e)) {
    Linear l;
    l.coef[d.getPosition()] = 1;
    return l;
  }
  auto bin = dyn_cast<AffineBinaryOpExpr>(e);
  if (!bin)
    return std::nullopt;
  auto lhs = linear(bin.getLHS()), rhs = linear(bin.getRHS());
  if (!lhs || !rhs)
    return std::nullopt;
  if (e.getKind() == AffineExprKind::Add) {
    for (unsigned k = 0; k < NumDims; ++k)
      lhs->coef[k] += rhs->coef[k];
    lhs->cst += rhs->cst;
    return lhs;
  }
  if (e.getKind() == AffineExprKind::Mul) {
    auto c = dyn_cast<AffineConstantExpr>(bin.getRHS());
    if (!c)
      return std::nullopt;
    for (unsigned k = 0; k < NumDims; ++k)
      lhs->coef[k] *= c.getValue();
    lhs->cst *= c.getValue();
    return lhs;
  }
  return std::nullopt;
}

/// e floordiv c (or e mod c) using the ranges of the dims: when e =
/// c * Q + R with 0 <= R < c for every index, the quotient is Q and the
/// remainder R (the head of a row index h * Dk + d is h, because d < Dk).
AffineExpr divMod(AffineExpr e, int64_t c, bool mod,
                  ArrayRef<int64_t> extents) {
  MLIRContext *ctx = e.getContext();
  if (c == 1)
    return mod ? getAffineConstantExpr(0, ctx) : e;
  std::optional<Linear> l = linear(e);
  if (!l)
    return mod ? e % c : e.floorDiv(c);
  Linear q, r;
  int64_t qc = l->cst >= 0 ? l->cst / c : -((-l->cst + c - 1) / c);
  q.cst = qc;
  r.cst = l->cst - qc * c;
  int64_t lo = r.cst, hi = r.cst;
  for (unsigned k = 0; k < NumDims; ++k) {
    if (l->coef[k] % c == 0) {
      q.coef[k] = l->coef[k] / c;
      continue;
    }
    r.coef[k] = l->coef[k];
    int64_t span = l->coef[k] * (extents[k] - 1);
    lo += std::min<int64_t>(0, span);
    hi += std::max<int64_t>(0, span);
  }
  if (lo < 0 || hi >= c)
    return mod ? e % c : e.floorDiv(c);
  const Linear &part = mod ? r : q;
  AffineExpr out = getAffineConstantExpr(part.cst, ctx);
  for (unsigned k = 0; k < NumDims; ++k)
    if (part.coef[k])
      out = out + getAffineDimExpr(k, ctx) * part.coef[k];
  return out;
}

bool usesDim(AffineExpr e, unsigned dim) { return e.isFunctionOfDim(dim); }

/// Moves `op` and the pure ops computing its operands before `point`
/// (all in `point`'s block), when those are pure; false if not possible.
bool canHoist(Operation *op, Operation *point) {
  for (Value v : op->getOperands()) {
    Operation *def = v.getDefiningOp();
    if (!def || def->getBlock() != point->getBlock() ||
        def->isBeforeInBlock(point))
      continue;
    if (def == point || isa<gpu::ShuffleOp>(def) || !isMemoryEffectFree(def) ||
        def->getNumRegions() || !canHoist(def, point))
      return false;
  }
  return true;
}
void hoistBefore(RewriterBase &rw, Operation *op, Operation *point) {
  for (Value v : op->getOperands())
    if (Operation *def = v.getDefiningOp())
      if (def->getBlock() == point->getBlock() && !def->isBeforeInBlock(point))
        hoistBefore(rw, def, point);
  rw.moveOpBefore(op, point);
}

/// The kernel's loads issued before its first shuffle: the global-load
/// rounds (state and k, the gates, q) become one, instead of one per
/// reduction they wait behind (LLVM does not move loads across the
/// convergent shuffles). Legal because the kernel loads nothing it
/// stores, except the state, which each thread loads first and stores
/// last.
void hoistLoads(RewriterBase &rw, Block &body) {
  Operation *first = nullptr;
  for (Operation &op : body)
    if (isa<gpu::ShuffleOp>(op)) {
      first = &op;
      break;
    }
  if (!first)
    return;
  SmallVector<memref::LoadOp> late;
  for (Operation *op = first->getNextNode(); op; op = op->getNextNode())
    if (auto l = dyn_cast<memref::LoadOp>(op))
      late.push_back(l);
  for (memref::LoadOp l : late)
    if (canHoist(l, first))
      hoistBefore(rw, l, first);
}

/// Substitutes loop expressions into the results of `map`.
SmallVector<AffineExpr> compose(AffineMap map, ArrayRef<AffineExpr> loops) {
  SmallVector<AffineExpr> out;
  for (AffineExpr r : map.getResults())
    out.push_back(
        simplifyAffineExpr(r.replaceDimsAndSymbols(loops, {}), NumDims, 0));
  return out;
}

//===----------------------------------------------------------------------===//
// The kernel builder
//===----------------------------------------------------------------------===//

struct Builder {
  Builder(RewriterBase &rw, Location loc, std::string &why,
          ArrayRef<int64_t> extents)
      : rw(rw), loc(loc), ctx(rw.getContext()), why(why),
        extents(extents.begin(), extents.end()) {}
  RewriterBase &rw;
  Location loc;
  MLIRContext *ctx;
  std::string &why;
  SmallVector<int64_t> extents; // b, h, m, d
  int64_t cw = 8, groups = 4, perThread = 1;
  Value dimB, dimH, dimM;
  SmallVector<Value> dVals; // the thread's key rows, one per instance
  Operation *launchPoint = nullptr;
  // Core op -> its per-column result (retrieve, readout).
  DenseMap<Operation *, Value> provided;
  // What the kernel writes (its stores and the state).
  SmallVector<Buf> written;
  SetVector<Operation *> absorbed;
  // What the kernel reads from memory besides the state.
  SmallVector<Buf> loads;
  std::map<std::string, Value> memo;
  DenseMap<Value, Value> reciprocals;

  bool fail(const std::string &reason) {
    if (why.empty())
      why = reason;
    return false;
  }
  void failAt(const std::string &reason, Operation *at, const Buf &b) {
    std::string s;
    llvm::raw_string_ostream os(s);
    os << reason << " (bytes " << b.begin() << ".." << b.end() << ", read by '"
       << at->getName() << "' at " << at->getLoc() << ")";
    fail(s);
  }

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(rw, loc, v); }

  /// Emits `e` for key-row instance `inst` (-1: e does not use d).
  Value emit(AffineExpr e, int inst) {
    switch (e.getKind()) {
    case AffineExprKind::Constant:
      return idx(cast<AffineConstantExpr>(e).getValue());
    case AffineExprKind::DimId: {
      unsigned p = cast<AffineDimExpr>(e).getPosition();
      if (p == DB)
        return dimB;
      if (p == DH)
        return dimH;
      if (p == DM)
        return dimM;
      return dVals[inst];
    }
    default:
      break;
    }
    auto bin = cast<AffineBinaryOpExpr>(e);
    Value l = emit(bin.getLHS(), inst), r = emit(bin.getRHS(), inst);
    switch (e.getKind()) {
    case AffineExprKind::Add:
      return arith::AddIOp::create(rw, loc, l, r);
    case AffineExprKind::Mul:
      return arith::MulIOp::create(rw, loc, l, r);
    case AffineExprKind::FloorDiv:
      return arith::FloorDivSIOp::create(rw, loc, l, r);
    case AffineExprKind::Mod: {
      Value q = arith::FloorDivSIOp::create(rw, loc, l, r);
      return arith::SubIOp::create(rw, loc, l,
                                   arith::MulIOp::create(rw, loc, q, r));
    }
    default: // ceildiv: never produced by the lowering
      return arith::CeilDivSIOp::create(rw, loc, l, r);
    }
  }

  /// The loop indices of the contiguous output `out` of a producer at the
  /// element that `view` has at `indices`.
  std::optional<SmallVector<AffineExpr>>
  delinearize(const Buf &view, ArrayRef<AffineExpr> indices, const Buf &out) {
    if ((view.shift - out.shift) % out.elemBytes != 0 ||
        view.elemBytes != out.elemBytes)
      return std::nullopt;
    AffineExpr rel = getAffineConstantExpr(
        view.offset - out.offset + (view.shift - out.shift) / out.elemBytes,
        ctx);
    for (auto [i, s] : llvm::zip(indices, view.strides))
      rel = rel + i * s;
    rel = simplifyAffineExpr(rel, NumDims, 0);
    SmallVector<AffineExpr> loops;
    int64_t stride = 1;
    SmallVector<int64_t> strides(out.shape.size());
    for (int k = int(out.shape.size()) - 1; k >= 0; --k) {
      strides[k] = stride;
      stride *= out.shape[k];
    }
    for (size_t k = 0; k < out.shape.size(); ++k) {
      AffineExpr q = divMod(rel, strides[k], /*mod=*/false, extents);
      loops.push_back(k == 0 ? q : divMod(q, out.shape[k], true, extents));
    }
    return loops;
  }

  /// Whether an op after `from` up to the launch point (not a step op)
  /// may write `b`.
  bool writtenBeforeLaunch(const Buf &b, Operation *from) {
    for (Operation *op = from->getNextNode(); op; op = op->getNextNode()) {
      if (!provided.count(op) && !isCore(op)) {
        std::optional<Effects> e = effectsOf(op);
        if (!e)
          return true;
        for (Value w : e->writes) {
          std::optional<Buf> wb = bufOf(w);
          if (!wb || overlap(*wb, b))
            return true;
        }
      }
      if (op == launchPoint)
        break;
    }
    return false;
  }

  SmallVector<Operation *> core;
  bool isCore(Operation *op) { return llvm::is_contained(core, op); }

  std::string key(Value v, ArrayRef<AffineExpr> indices, Operation *at,
                  int inst) {
    std::string s;
    llvm::raw_string_ostream os(s);
    os << v.getAsOpaquePointer() << '|' << (const void *)at << '|' << inst;
    for (AffineExpr e : indices)
      os << '|' << e;
    return s;
  }

  /// The value `view` holds at `indices` just before `at`, computed in the
  /// kernel; null with `why` set when that is not possible.
  Value eval(Value view, ArrayRef<AffineExpr> indices, Operation *at,
             int inst) {
    bool dDep =
        llvm::any_of(indices, [](AffineExpr e) { return usesDim(e, DD); });
    if (!dDep)
      inst = -1;
    std::string k = key(view, indices, at, inst);
    if (auto it = memo.find(k); it != memo.end())
      return it->second;
    Value v = evalUncached(view, indices, at, inst);
    if (v)
      memo[k] = v;
    return v;
  }

  Value evalUncached(Value view, ArrayRef<AffineExpr> indices, Operation *at,
                     int inst) {
    std::optional<Buf> b = bufOf(view);
    if (!b) {
      fail("an operand of the step is not a static view of a function "
           "argument, global or the memory plan");
      return {};
    }
    bool unknown = false;
    Operation *w = latestWriter(*b, at, unknown, overlap);
    if (w && !unknown) {
      if (auto fill = dyn_cast<linalg::FillOp>(w)) {
        std::optional<Buf> fb = bufOf(fill.getOutputs()[0]);
        if (fb && covers(*fb, *b)) {
          absorbed.insert(w);
          return fill.getInputs()[0];
        }
      }
      auto g = dyn_cast<linalg::GenericOp>(w);
      if (g && provided.count(g))
        return inlineProducer(g, *b, indices, inst);
      if (g && isFusible(g, *b)) {
        // When the producer cannot be computed here (its own inputs are
        // overwritten before the launch), its output is read instead.
        std::string before = why;
        if (Value v = inlineProducer(g, *b, indices, inst))
          return v;
        why = before;
      }
    }
    // Read from memory at the launch.
    for (const Buf &k : written)
      if (overlap(k, *b)) {
        failAt("an input of the step may alias a buffer the step writes", at,
               *b);
        return {};
      }
    if (writtenBeforeLaunch(*b, at)) {
      failAt("an input of the step is overwritten before the step's last op",
             at, *b);
      return {};
    }
    loads.push_back(*b);
    SmallVector<Value> ivs;
    for (AffineExpr e : indices)
      ivs.push_back(emit(e, inst));
    return memref::LoadOp::create(rw, loc, view, ivs);
  }

  /// A producer the kernel may compute at one element: a generic writing
  /// one contiguous output with an identity map (a reduction: only over
  /// its last loop, of length Dk), pure body, output not read.
  bool isFusible(linalg::GenericOp g, const Buf &read) {
    if (!g.hasPureBufferSemantics() || g.getNumDpsInits() != 1)
      return false;
    std::optional<Buf> out = bufOf(g.getDpsInits()[0]);
    if (!out || !out->contiguous() || !covers(*out, read) ||
        out->elemBytes != read.elemBytes)
      return false;
    for (Operation &op : g.getBlock()->without_terminator())
      if (!isMemoryEffectFree(&op) || op.getNumRegions())
        return false;
    auto iters = g.getIteratorTypesArray();
    unsigned n = iters.size();
    AffineMap outMap = g.getIndexingMapsArray().back();
    if (g.getNumReductionLoops() == 0)
      return outMap.isIdentity() &&
             !g.payloadUsesValueFromOperand(g.getDpsInitOperand(0));
    // A reduction over the last loop.
    if (g.getNumReductionLoops() != 1 ||
        iters.back() != utils::IteratorType::reduction ||
        g.getStaticLoopRanges().back() != extents[DD] ||
        outMap !=
            AffineMap::getMultiDimIdentityMap(n, ctx).getMajorSubMap(n - 1))
      return false;
    return combinerOf(g) != nullptr;
  }

  /// The op combining the accumulator with the contribution, when the
  /// body is `yield comb(acc, x)` with a commutative addf/mulf/max/min.
  Operation *combinerOf(linalg::GenericOp g) {
    Block *body = g.getBlock();
    BlockArgument acc = body->getArguments().back();
    if (!acc.getType().isF32() || !acc.hasOneUse())
      return nullptr;
    Operation *c = body->getTerminator()->getOperand(0).getDefiningOp();
    if (!c || c->getBlock() != body ||
        !isa<arith::AddFOp, arith::MulFOp, arith::MaximumFOp, arith::MinimumFOp,
             arith::MaxNumFOp, arith::MinNumFOp>(c) ||
        !llvm::is_contained(c->getOperands(), Value(acc)))
      return nullptr;
    return c;
  }

  /// Computes producer (or step op) `g` at the element `read` has at
  /// `indices`.
  Value inlineProducer(linalg::GenericOp g, const Buf &read,
                       ArrayRef<AffineExpr> indices, int inst) {
    std::optional<Buf> out = bufOf(g.getDpsInits()[0]);
    auto loops = delinearize(read, indices, *out);
    if (!loops) {
      fail("a producer's output and its reader differ in element size or "
           "alignment");
      return {};
    }
    if (auto it = provided.find(g); it != provided.end()) {
      // A step result: the thread's own column only.
      SmallVector<AffineExpr> own{getAffineDimExpr(DB, ctx),
                                  getAffineDimExpr(DH, ctx),
                                  getAffineDimExpr(DM, ctx)};
      if (ArrayRef<AffineExpr>(*loops) != ArrayRef<AffineExpr>(own)) {
        fail("a step op reads another column's result of an earlier step "
             "op");
        return {};
      }
      return it->second;
    }
    absorbed.insert(g);
    // One computation per element of the producer, whoever reads it.
    bool dDep =
        llvm::any_of(*loops, [](AffineExpr e) { return usesDim(e, DD); });
    std::string k = "producer" + key(Value(), *loops, g, dDep ? inst : -1);
    if (auto it = memo.find(k); it != memo.end())
      return it->second;
    Value v = computeProducer(g, *loops, inst);
    if (v)
      memo[k] = v;
    return v;
  }

  Value computeProducer(linalg::GenericOp g, ArrayRef<AffineExpr> loops,
                        int inst) {
    if (g.getNumReductionLoops() == 0)
      return cloneBody(g, loops, inst,
                       g.getBlock()->getTerminator()->getOperand(0));
    for (AffineExpr e : loops)
      if (usesDim(e, DD)) {
        fail("the row of a fused reduction varies with the key row");
        return {};
      }
    Value init = eval(g.getDpsInits()[0], loops, g, -1);
    if (!init)
      return {};
    return reduceOverD(g, loops, init, {});
  }

  /// Clones `g`'s body at loop indices `loops`, its inputs evaluated just
  /// before `g` (`given`: operand number -> value supplied by the caller);
  /// returns the value of `result` (a value of the body).
  Value cloneBody(linalg::GenericOp g, ArrayRef<AffineExpr> loops, int inst,
                  Value result, ArrayRef<std::pair<unsigned, Value>> given = {},
                  Operation *skip = nullptr) {
    IRMapping map;
    Block *body = g.getBlock();
    for (OpOperand &operand : g->getOpOperands()) {
      unsigned n = operand.getOperandNumber();
      BlockArgument arg = body->getArgument(n);
      if (arg.use_empty() ||
          (skip && llvm::all_of(arg.getUsers(),
                                [&](Operation *u) { return u == skip; })))
        continue;
      auto it = llvm::find_if(given, [&](auto &p) { return p.first == n; });
      if (it != given.end()) {
        map.map(arg, it->second);
        continue;
      }
      Value v =
          eval(operand.get(),
               compose(g.getMatchingIndexingMap(&operand), loops), g, inst);
      if (!v)
        return {};
      map.map(arg, v);
    }
    for (Operation &op : body->without_terminator()) {
      if (&op == skip)
        continue;
      if (auto div = dyn_cast<arith::DivFOp>(op);
          div && div.getType().isF32()) {
        map.map(
            div.getResult(),
            arith::MulFOp::create(rw, loc, map.lookupOrDefault(div.getLhs()),
                                  reciprocal(map.lookupOrDefault(div.getRhs())),
                                  div.getFastmathAttr()));
        continue;
      }
      rw.clone(op, map);
    }
    return map.lookupOrDefault(result);
  }

  /// 1 / v, once per value. A division's divisor is usually uniform over
  /// the thread's key rows (the l2norm's norm divides each of the 32 q and
  /// 32 k elements a thread holds): 64 IEEE divisions, most of the step's
  /// instructions, become 2 and 64 multiplications (x * (1/n) is a few
  /// ulp from x / n; LLVM makes 1 / sqrt an rsqrt.approx). Emitted right
  /// after v's definition, so every use sees it.
  Value reciprocal(Value v) {
    if (auto it = reciprocals.find(v); it != reciprocals.end())
      return it->second;
    OpBuilder::InsertionGuard guard(rw);
    Operation *def = v.getDefiningOp();
    if (def && def->getBlock() == rw.getInsertionBlock())
      rw.setInsertionPointAfter(def);
    Value one = arith::ConstantOp::create(rw, loc, rw.getF32FloatAttr(1.0f));
    Value r = arith::DivFOp::create(rw, loc, one, v);
    reciprocals[v] = r;
    return r;
  }

  /// sum (or the body's combiner) over the key rows of `g`'s contribution
  /// at the row `rowLoops`, combined across the row groups by shuffles,
  /// then with `init`. `perInstance(n, i)` supplies operand n at key row
  /// instance i (the state), when set.
  Value reduceOverD(linalg::GenericOp g, ArrayRef<AffineExpr> rowLoops,
                    Value init,
                    function_ref<Value(unsigned, int)> perInstance) {
    Operation *comb = combinerOf(g);
    Value acc = g.getBlock()->getArguments().back();
    Value contribution =
        comb->getOperand(0) == acc ? comb->getOperand(1) : comb->getOperand(0);
    SmallVector<AffineExpr> loops(rowLoops);
    loops.push_back(getAffineDimExpr(DD, ctx));
    auto combine = [&](Value a, Value x) {
      IRMapping m;
      m.map(acc, a);
      m.map(contribution, x);
      return rw.clone(*comb, m)->getResult(0);
    };
    Value partial;
    for (int i = 0; i < perThread; ++i) {
      SmallVector<std::pair<unsigned, Value>> given;
      if (perInstance)
        for (OpOperand *in : g.getDpsInputOperands())
          if (Value v = perInstance(in->getOperandNumber(), i))
            given.push_back({in->getOperandNumber(), v});
      Value x = cloneBody(g, loops, i, contribution, given, comb);
      if (!x)
        return {};
      partial = partial ? combine(partial, x) : x;
    }
    for (int64_t off = cw; off < 32; off *= 2) {
      auto s = gpu::ShuffleOp::create(rw, loc, partial, off, /*width=*/32,
                                      gpu::ShuffleMode::XOR);
      partial = combine(partial, s.getShuffleResult());
    }
    return combine(init, partial);
  }
};

/// Checks the loops of a step op: ranges and iterators.
bool checkLoops(linalg::GenericOp g, ArrayRef<int64_t> ranges, bool reduction,
                std::string &why) {
  if (!g.hasPureBufferSemantics()) {
    why = "the step is not bufferized";
    return false;
  }
  if (SmallVector<int64_t>(g.getStaticLoopRanges()) !=
      SmallVector<int64_t>(ranges)) {
    why = "op '" + g->getAttrOfType<StringAttr>(kRole).str() +
          "' has unexpected loop ranges";
    return false;
  }
  auto iters = g.getIteratorTypesArray();
  for (size_t i = 0; i < iters.size(); ++i)
    if ((iters[i] == utils::IteratorType::reduction) !=
        (reduction && i + 1 == iters.size())) {
      why = "op '" + g->getAttrOfType<StringAttr>(kRole).str() +
            "' has unexpected iterators";
      return false;
    }
  return true;
}

} // namespace

bool isGatedDeltaStepStart(Operation *op) {
  auto role = op->getAttrOfType<StringAttr>(kRole);
  return role && (role.getValue() == "retrieve" || role.getValue() == "update");
}

namespace {
LogicalResult emitStep(RewriterBase &rw, linalg::LinalgOp start,
                       std::string &why) {
  if (start->getAttrOfType<StringAttr>(kRole).getValue() == "update")
    for (Operation *op = start->getPrevNode(); op; op = op->getPrevNode()) {
      if (op->hasAttr(kRole)) {
        why = kStartsAtRetrieve;
        return failure();
      }
      if (!isa<linalg::FillOp>(op) && !isViewOrPure(op))
        break;
    }
  // The step's ops in order; only fills and views between them.
  linalg::GenericOp retrieve, update, readout, output;
  SmallVector<Operation *> core;
  for (Operation *op = start.getOperation(); op; op = op->getNextNode()) {
    auto role = op->getAttrOfType<StringAttr>(kRole);
    if (!role) {
      if (isa<linalg::FillOp>(op) || isViewOrPure(op))
        continue;
      why = "op '" + op->getName().getStringRef().str() +
            "' between the step's ops";
      return failure();
    }
    auto g = dyn_cast<linalg::GenericOp>(op);
    StringRef r = role.getValue();
    linalg::GenericOp *slot = r == "retrieve"  ? &retrieve
                              : r == "update"  ? &update
                              : r == "readout" ? &readout
                              : r == "output"  ? &output
                                               : nullptr;
    if (!g || !slot || *slot || (r == "retrieve" && !core.empty())) {
      why = "unexpected step op '" + r.str() + "'";
      return failure();
    }
    *slot = g;
    core.push_back(op);
    if (r == "output")
      break;
  }
  if (!update || !readout || !output) {
    why = "the step lacks its update, readout or output op";
    return failure();
  }
  // The state: [B, H, Dk, Dv] f32, updated in place.
  Value state = update.getDpsInits()[0];
  auto stType = dyn_cast<MemRefType>(state.getType());
  if (!stType || stType.getRank() != 4 || !stType.getElementType().isF32() ||
      !stType.hasStaticShape()) {
    why = "the state is not a static f32 [B, H, Dk, Dv] buffer";
    return failure();
  }
  int64_t B = stType.getDimSize(0), H = stType.getDimSize(1),
          Dk = stType.getDimSize(2), Dv = stType.getDimSize(3);
  MLIRContext *ctx = rw.getContext();
  auto d = [&](unsigned p) { return getAffineDimExpr(p, ctx); };
  // Loops: retrieve/readout (b, h, m, d); update (b, h, d, m); output
  // (b, h, m).
  AffineMap stateRead = AffineMap::get(4, 0, {d(0), d(1), d(3), d(2)}, ctx);
  if ((retrieve && !checkLoops(retrieve, {B, H, Dv, Dk}, true, why)) ||
      !checkLoops(update, {B, H, Dk, Dv}, false, why) ||
      !checkLoops(readout, {B, H, Dv, Dk}, true, why) ||
      !checkLoops(output, {B, H, Dv}, false, why))
    return failure();
  if (!update.getIndexingMapsArray().back().isIdentity() ||
      !update.payloadUsesValueFromOperand(update.getDpsInitOperand(0))) {
    why = "the update does not rewrite the state in place";
    return failure();
  }
  std::optional<Buf> stBuf = bufOf(state);
  if (!stBuf || !stBuf->contiguous()) {
    why = "the state is not a contiguous static buffer";
    return failure();
  }
  // The operand of a reduction that reads the state, or -1.
  auto stateOperand = [&](linalg::GenericOp g) -> int {
    int found = -1;
    for (OpOperand *in : g.getDpsInputOperands()) {
      std::optional<Buf> b = bufOf(in->get());
      if (b && overlap(*b, *stBuf)) {
        if (found >= 0 || !b->sameView(*stBuf) ||
            g.getMatchingIndexingMap(in) != stateRead)
          return -2;
        found = in->getOperandNumber();
      }
    }
    return found;
  };
  int rState = retrieve ? stateOperand(retrieve) : -1;
  int oState = stateOperand(readout);
  if ((retrieve && rState < 0) || oState < 0) {
    why = "the retrieve or readout does not read the state as S[b, h, d, "
          "m] exactly once (query heads sharing a state, GQA, are not "
          "handled)";
    return failure();
  }
  AffineMap columnMap = AffineMap::get(4, 0, {d(0), d(1), d(2)}, ctx);
  for (linalg::GenericOp g : {retrieve, readout, output}) {
    if (!g)
      continue;
    AffineMap outMap = g.getIndexingMapsArray().back();
    if (g.getNumDpsInits() != 1 ||
        (g == output ? !outMap.isIdentity() : outMap != columnMap)) {
      why = "a step result is not written with an identity map";
      return failure();
    }
  }
  Builder kb(rw, start.getLoc(), why, {B, H, Dv, Dk});
  if ((retrieve && !kb.combinerOf(retrieve)) || !kb.combinerOf(readout)) {
    why = "the retrieve or readout is not an f32 reduction yield "
          "comb(acc, x)";
    return failure();
  }
  // Lanes: cw value columns x groups key-row groups per warp: 8 columns,
  // 4 row groups (128 blocks of 128 threads, 32 state rows a thread at
  // bench8's size), so the 8 lanes of a row group read one 32-byte sector
  // of a state row. Narrower measured slower on one H100 (ncu, bench8
  // decode, all with the reciprocals): 8 columns 4.7 us a step, 4 columns
  // (256 blocks of 16 rows) 5.9 us, 2 columns (512 blocks of 8 rows) 8.3
  // us; 4 columns a thread as one 16-byte load (2 lanes a row, 8 rows)
  // 4.8 us, 1 lane a row 6.6 us.
  kb.cw = std::min<int64_t>(8, Dv);
  if (Dv % kb.cw != 0 || 32 % kb.cw != 0) {
    why = "Dv = " + str(Dv) + " is not a multiple of 8 or a divisor of 8";
    return failure();
  }
  kb.groups = 32 / kb.cw;
  if (Dk % kb.groups != 0 || Dk / kb.groups > 64) {
    why = "Dk = " + str(Dk) + " is not a multiple of " + str(kb.groups) +
          " or exceeds " + str(64 * kb.groups) +
          " (state registers per thread)";
    return failure();
  }
  kb.perThread = Dk / kb.groups;
  int64_t warps = 4;
  while ((Dv / kb.cw) % warps != 0)
    warps /= 2;
  int64_t tiles = Dv / (kb.cw * warps);

  // An optional copy of the output right after the step (the collapse of
  // the per-head result into the output row).
  Operation *last = output;
  memref::CopyOp copy;
  std::optional<Buf> outBuf = bufOf(output.getDpsInits()[0]);
  if (!outBuf || !outBuf->contiguous()) {
    why = "the step's output is not a contiguous static buffer";
    return failure();
  }
  for (Operation *op = output->getNextNode(); op; op = op->getNextNode()) {
    if (auto c = dyn_cast<memref::CopyOp>(op)) {
      std::optional<Buf> src = bufOf(c.getSource());
      std::optional<Buf> dst = bufOf(c.getTarget());
      if (src && dst && src->sameBase(*outBuf) &&
          src->begin() == outBuf->begin() && src->end() == outBuf->end() &&
          src->contiguous() && !overlap(*dst, *outBuf) &&
          !overlap(*dst, *stBuf))
        copy = c;
      break;
    }
    if (!isViewOrPure(op))
      break;
  }
  if (copy)
    last = copy;
  core.push_back(last);
  kb.core = core;
  kb.launchPoint = last;

  // What the kernel writes: each distinct step result buffer once (its
  // last value), the state, the copy's target.
  SmallVector<std::pair<linalg::GenericOp, Buf>> stores;
  for (linalg::GenericOp g : {retrieve, readout, output}) {
    if (!g)
      continue;
    std::optional<Buf> b = bufOf(g.getDpsInits()[0]);
    if (!b || overlap(*b, *stBuf)) {
      why = "a step result may alias the state";
      return failure();
    }
    bool replaced = false;
    for (auto &[og, ob] : stores) {
      if (ob.sameView(*b)) {
        og = g;
        replaced = true;
      } else if (overlap(ob, *b)) {
        why = "two step results partly overlap";
        return failure();
      }
    }
    if (!replaced)
      stores.push_back({g, *b});
  }
  kb.written.push_back(*stBuf);
  for (auto &s : stores)
    kb.written.push_back(s.second);
  if (copy)
    kb.written.push_back(*bufOf(copy.getTarget()));

  // The launch, after the step's last op.
  Location loc = start.getLoc();
  rw.setInsertionPointAfter(last);
  Value one = kb.idx(1);
  auto launch = gpu::LaunchOp::create(
      rw, loc, kb.idx(tiles), kb.idx(H), kb.idx(B), kb.idx(32 * warps), one,
      one, /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
      /*asyncDependencies=*/{}, /*workgroupAttributions=*/TypeRange{});
  Block &body = launch.getBody().front();
  rw.setInsertionPointToStart(&body);
  gpu::TerminatorOp::create(rw, loc);
  rw.setInsertionPointToStart(&body);
  auto failLaunch = [&]() {
    rw.eraseOp(launch);
    return failure();
  };

  Value tid = launch.getThreadIds().x;
  Value warp = arith::DivUIOp::create(rw, loc, tid, kb.idx(32));
  Value lane = arith::RemUIOp::create(rw, loc, tid, kb.idx(32));
  Value col = arith::RemUIOp::create(rw, loc, lane, kb.idx(kb.cw));
  Value group = arith::DivUIOp::create(rw, loc, lane, kb.idx(kb.cw));
  kb.dimB = launch.getBlockIds().z;
  kb.dimH = launch.getBlockIds().y;
  kb.dimM = arith::AddIOp::create(
      rw, loc,
      arith::AddIOp::create(
          rw, loc,
          arith::MulIOp::create(rw, loc, launch.getBlockIds().x,
                                kb.idx(kb.cw * warps)),
          arith::MulIOp::create(rw, loc, warp, kb.idx(kb.cw))),
      col);
  Value rowBase = arith::MulIOp::create(rw, loc, group, kb.idx(kb.perThread));
  for (int i = 0; i < kb.perThread; ++i)
    kb.dVals.push_back(arith::AddIOp::create(rw, loc, rowBase, kb.idx(i)));

  // The state column slice, read once.
  SmallVector<Value> s;
  for (int i = 0; i < kb.perThread; ++i)
    s.push_back(memref::LoadOp::create(
        rw, loc, state, ValueRange{kb.dimB, kb.dimH, kb.dVals[i], kb.dimM}));
  SmallVector<AffineExpr> column{d(DB), d(DH), d(DM)};

  if (retrieve) {
    Value init = kb.eval(retrieve.getDpsInits()[0], column, retrieve, -1);
    if (!init)
      return failLaunch();
    Value r =
        kb.reduceOverD(retrieve, column, init, [&](unsigned n, int i) -> Value {
          return int(n) == rState ? s[i] : Value();
        });
    if (!r)
      return failLaunch();
    kb.provided[retrieve] = r;
  }
  // The update: loops (b, h, d, m); the old state is the out operand.
  SmallVector<AffineExpr> updLoops{d(DB), d(DH), d(DD), d(DM)};
  unsigned stArg = update.getDpsInitOperand(0)->getOperandNumber();
  SmallVector<Value> s2;
  for (int i = 0; i < kb.perThread; ++i) {
    std::pair<unsigned, Value> old{stArg, s[i]};
    Value v =
        kb.cloneBody(update, updLoops, i,
                     update.getBlock()->getTerminator()->getOperand(0), old);
    if (!v)
      return failLaunch();
    s2.push_back(v);
  }
  Value oInit = kb.eval(readout.getDpsInits()[0], column, readout, -1);
  if (!oInit)
    return failLaunch();
  Value o =
      kb.reduceOverD(readout, column, oInit, [&](unsigned n, int i) -> Value {
        return int(n) == oState ? s2[i] : Value();
      });
  if (!o)
    return failLaunch();
  kb.provided[readout] = o;
  Value y = kb.cloneBody(output, column, -1,
                         output.getBlock()->getTerminator()->getOperand(0));
  if (!y)
    return failLaunch();
  kb.provided[output] = y;

  // Stores: the state (every thread its slice), the results (one lane per
  // column).
  for (int i = 0; i < kb.perThread; ++i)
    memref::StoreOp::create(rw, loc, s2[i], state,
                            ValueRange{kb.dimB, kb.dimH, kb.dVals[i], kb.dimM});
  Value first = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq, group,
                                      kb.idx(0));
  auto ifOp = scf::IfOp::create(rw, loc, first, false);
  rw.setInsertionPointToStart(ifOp.thenBlock());
  SmallVector<Value> colIvs{kb.dimB, kb.dimH, kb.dimM};
  for (auto &[g, b] : stores)
    if (readAfter(b, launch))
      memref::StoreOp::create(rw, loc, kb.provided[g], g.getDpsInits()[0],
                              colIvs);
  if (copy) {
    auto dst = cast<MemRefType>(copy.getTarget().getType());
    // The copy's source is the output's contiguous bytes in the copy's
    // shape: the same linear element, delinearized by that shape.
    Buf source = *outBuf;
    source.shape.assign(dst.getShape().begin(), dst.getShape().end());
    auto loops = kb.delinearize(*outBuf, column, source);
    if (!loops) {
      why = "the output copy differs in element size";
      return failLaunch();
    }
    SmallVector<Value> ivs;
    for (AffineExpr e : *loops)
      ivs.push_back(kb.emit(e, -1));
    memref::StoreOp::create(rw, loc, kb.provided[output], copy.getTarget(),
                            ivs);
  }

  hoistLoads(rw, body);

  // Producers the kernel computed whose outputs nothing else reads go.
  SetVector<Operation *> dropped(core.begin(), core.end());
  SmallVector<Operation *> candidates(kb.absorbed.begin(), kb.absorbed.end());
  for (Operation *op = start.getOperation(); op != last; op = op->getNextNode())
    if (isa<linalg::FillOp>(op))
      candidates.push_back(op);
  for (Operation *p : candidates)
    dropped.insert(p);
  bool changed = true;
  while (changed) {
    changed = false;
    for (Operation *p : candidates)
      if (dropped.contains(p) && !erasable(p, dropped, launch, kb.loads)) {
        dropped.remove(p);
        changed = true;
      }
  }
  int64_t fused = 0;
  for (Operation *p : candidates)
    fused += dropped.contains(p) && !isa<linalg::FillOp>(p) &&
             !llvm::is_contained(core, p);
  launch->setAttr("sinter.kernel",
                  rw.getStringAttr("gated_delta b=" + str(B) + " h=" + str(H) +
                                   " dk=" + str(Dk) + " dv=" + str(Dv) +
                                   " grid=" + str(tiles) + "x" + str(H) + "x" +
                                   str(B) + " block=" + str(32 * warps) +
                                   " rows_per_thread=" + str(kb.perThread) +
                                   " fused_producers=" + str(fused)));
  // Erase users first (program order reversed).
  SmallVector<Operation *> order(dropped.begin(), dropped.end());
  llvm::sort(order,
             [](Operation *a, Operation *b) { return b->isBeforeInBlock(a); });
  for (Operation *op : order)
    rw.eraseOp(op);
  return success();
}
} // namespace

LogicalResult emitGatedDeltaStep(RewriterBase &rw, linalg::LinalgOp start,
                                 const KernelOptions &options,
                                 std::string &why) {
  if (!isGatedDeltaStepStart(start)) {
    why = "not the first op of a marked linear-attention decode step";
    return failure();
  }
  if (succeeded(emitStep(rw, start, why)))
    return success();
  if (options.remarks && why != kStartsAtRetrieve)
    start->emitRemark() << "sinter-cuda-form-kernels: gated-delta step "
                           "kernel not used: "
                        << why;
  return failure();
}

} // namespace sinter::cuda
