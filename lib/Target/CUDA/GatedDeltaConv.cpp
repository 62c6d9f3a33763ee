//===- GatedDeltaConv.cpp - the decode conv window as one kernel ----------===//
//
// See Kernels.h. At T = 1 the causal depthwise conv of a GatedDeltaNet
// layer is, after sinter-lower-depthwise-conv1d and bufferization, an
// elementwise generic over the channels (the window op: sum_j S[c, j]
// w[c, j] + x[c] w[c, K-1], then SiLU) whose inputs are slices of the
// donated conv state S (a function argument) and the projected x (the
// GEMV output through a bf16 rounding, an extension and a transpose),
// followed by a transpose back and, at the end of the function, the
// state shift as copies (S[:, :, 0:K-2] <- S[:, :, 1:K-1] through a
// scratch buffer, S[:, :, K-2] <- x). The generic mapping runs that as 4
// kernels before the step and 3 at the end of the step.
//
// This template runs it as ONE launch, a thread per channel: the window
// op's body is cloned, its inputs computed by cloning the bodies of the
// elementwise producers (no formula of its own), the transpose after it
// is absorbed (the thread stores its element where the transpose would
// have), and the state shift is done in place by the same thread, right
// after it read its window. Why that is legal is checked element by
// element: the copies after the window op are simulated on byte
// addresses; every state element they write must end up holding an
// operand of the window op at the same channel (so one thread reads and
// writes it, no race), nothing else may read or write the state after the
// window op, and no one may read what the erased copies left in their
// scratch buffer. Anything else is refused with a reason and left to the
// generic mapping (prefill, the non-donated form, other spellings).
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

#include <map>

using namespace mlir;

namespace sinter::cuda {
using namespace gated_delta;
namespace {

constexpr int64_t kThreads = 256;

std::string str(int64_t v) { return std::to_string(v); }

/// A byte of an allocation: (base identity, byte offset).
using Addr = std::pair<const void *, int64_t>;

const void *baseId(const Buf &b, MLIRContext *ctx) {
  if (!b.global.empty())
    return StringAttr::get(ctx, b.global).getAsOpaquePointer();
  return b.base.getAsOpaquePointer();
}

/// Every element of `b` in row-major order of its shape: calls f(linear
/// position in the shape, byte address).
void forEachElement(const Buf &b, function_ref<void(int64_t, int64_t)> f) {
  int64_t n = 1;
  for (int64_t s : b.shape)
    n *= s;
  SmallVector<int64_t> idx(b.shape.size(), 0);
  for (int64_t lin = 0; lin < n; ++lin) {
    int64_t el = b.offset;
    for (size_t k = 0; k < idx.size(); ++k)
      el += idx[k] * b.strides[k];
    f(lin, b.shift + el * b.elemBytes);
    for (int k = int(idx.size()) - 1; k >= 0; --k) {
      if (++idx[k] < b.shape[k])
        break;
      idx[k] = 0;
    }
  }
}

/// Source and target of a plain copy (memref.copy or linalg.copy).
std::optional<std::pair<Value, Value>> copyOperands(Operation *op) {
  if (auto c = dyn_cast<memref::CopyOp>(op))
    return std::make_pair(c.getSource(), c.getTarget());
  if (auto c = dyn_cast<linalg::CopyOp>(op))
    if (c.hasPureBufferSemantics())
      return std::make_pair(c.getInputs()[0], c.getOutputs()[0]);
  return std::nullopt;
}

/// An elementwise op the kernel may compute at one element: all loops
/// parallel, one output written with the identity map and not read, a
/// pure body, maps of dims and constants only.
bool isElementwise(linalg::LinalgOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() != 0 ||
      llvm::any_of(op.getStaticLoopRanges(), ShapedType::isDynamic) ||
      !op.getIndexingMapsArray().back().isIdentity() ||
      op.payloadUsesValueFromOperand(op.getDpsInitOperand(0)) ||
      op->getNumRegions() != 1)
    return false;
  for (AffineMap m : op.getIndexingMapsArray())
    for (AffineExpr e : m.getResults())
      if (!isa<AffineDimExpr, AffineConstantExpr>(e))
        return false;
  for (Operation &inner : op.getBlock()->without_terminator())
    if (!isMemoryEffectFree(&inner) || inner.getNumRegions())
      return false;
  return true;
}

/// Whether `v` can be defined before `point`: it is, or it is a view or
/// pure op of the same block whose operands can be (then `hoist` moves
/// them).
bool hoistable(Value v, Operation *point) {
  Operation *def = v.getDefiningOp();
  if (!def || def->getBlock() != point->getBlock() ||
      def->isBeforeInBlock(point) || def == point)
    return !def || def != point;
  if (!isViewOrPure(def) || def->getNumRegions())
    return false;
  return llvm::all_of(def->getOperands(),
                      [&](Value o) { return hoistable(o, point); });
}
void hoist(RewriterBase &rw, Value v, Operation *point) {
  Operation *def = v.getDefiningOp();
  if (!def || def->getBlock() != point->getBlock() ||
      def->isBeforeInBlock(point))
    return;
  for (Value o : def->getOperands())
    hoist(rw, o, point);
  rw.moveOpBefore(def, point);
}

struct ConvBuilder {
  ConvBuilder(RewriterBase &rw, Location loc, std::string &why)
      : rw(rw), loc(loc), ctx(rw.getContext()), why(why) {}
  RewriterBase &rw;
  Location loc;
  MLIRContext *ctx;
  std::string &why;
  Operation *launchPoint = nullptr;
  SmallVector<Buf> written; // what the kernel stores
  SmallVector<Buf> window;  // state operands, read at the own element
  SmallVector<Buf> loads;   // what the kernel reads from memory
  SetVector<Operation *> absorbed;
  std::map<std::string, Value> memo;

  bool fail(const std::string &reason) {
    if (why.empty())
      why = reason;
    return false;
  }
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(rw, loc, v); }

  /// The indices of `map` at the loop indices `ivs`.
  SmallVector<Value> apply(AffineMap map, ArrayRef<Value> ivs) {
    SmallVector<Value> out;
    for (AffineExpr e : map.getResults()) {
      if (auto d = dyn_cast<AffineDimExpr>(e))
        out.push_back(ivs[d.getPosition()]);
      else
        out.push_back(idx(cast<AffineConstantExpr>(e).getValue()));
    }
    return out;
  }

  /// Row-major indices of `linear` in `shape` (size-1 dims are 0).
  SmallVector<Value> delinearize(Value linear, ArrayRef<int64_t> shape) {
    SmallVector<Value> out(shape.size());
    int64_t stride = 1;
    for (int k = int(shape.size()) - 1; k >= 0; --k) {
      if (shape[k] == 1) {
        out[k] = idx(0);
      } else {
        Value q = stride == 1
                      ? linear
                      : arith::DivUIOp::create(rw, loc, linear, idx(stride));
        out[k] = k == 0 ? q : arith::RemUIOp::create(rw, loc, q, idx(shape[k]));
      }
      stride *= shape[k];
    }
    return out;
  }

  bool writtenBetween(const Buf &b, Operation *from, Operation *to) {
    if (from == to)
      return false;
    for (Operation *op = from->getNextNode(); op && op != to;
         op = op->getNextNode()) {
      std::optional<Effects> e = effectsOf(op);
      if (!e)
        return true;
      for (Value w : e->writes) {
        std::optional<Buf> wb = bufOf(w);
        if (!wb || overlapDistinctArgs(*wb, b))
          return true;
      }
    }
    return false;
  }

  /// The value `view` holds at `indices` just before `at`, computed in the
  /// kernel; null with `why` set when that is not possible.
  Value eval(Value view, ArrayRef<Value> indices, Operation *at) {
    std::string key;
    llvm::raw_string_ostream os(key);
    os << view.getAsOpaquePointer() << '|' << (const void *)at;
    for (Value v : indices)
      os << '|' << v.getAsOpaquePointer();
    if (auto it = memo.find(key); it != memo.end())
      return it->second;
    Value v = evalUncached(view, indices, at);
    if (v)
      memo[key] = v;
    return v;
  }

  Value evalUncached(Value view, ArrayRef<Value> indices, Operation *at) {
    std::optional<Buf> b = bufOf(view);
    if (!b) {
      fail("an input is not a static view of a function argument, global "
           "or the memory plan");
      return {};
    }
    bool unknown = false;
    Operation *w = latestWriter(*b, at, unknown, overlapDistinctArgs);
    if (w && !unknown) {
      if (auto fill = dyn_cast<linalg::FillOp>(w)) {
        std::optional<Buf> fb = bufOf(fill.getOutputs()[0]);
        if (fb && covers(*fb, *b) &&
            fill.getInputs()[0].getType() ==
                cast<MemRefType>(view.getType()).getElementType())
          return fill.getInputs()[0];
      }
      auto p = dyn_cast<linalg::LinalgOp>(w);
      if (p && !isa<linalg::FillOp>(w) && isElementwise(p)) {
        std::string before = why;
        if (Value v = inlineProducer(p, *b, indices))
          return v;
        why = before;
      }
    }
    bool isWindow =
        llvm::any_of(window, [&](const Buf &s) { return s.sameView(*b); });
    if (!isWindow)
      for (const Buf &k : written)
        if (overlapDistinctArgs(k, *b)) {
          fail("an input of the conv window may alias a buffer the kernel "
               "writes");
          return {};
        }
    if (writtenBetween(*b, at, launchPoint)) {
      fail("an input of the conv window is overwritten before the window "
           "op");
      return {};
    }
    loads.push_back(*b);
    return memref::LoadOp::create(rw, loc, view, indices);
  }

  /// Computes producer `p` at the element `read` has at `indices`.
  Value inlineProducer(linalg::LinalgOp p, const Buf &read,
                       ArrayRef<Value> indices) {
    std::optional<Buf> out = bufOf(p.getDpsInits()[0]);
    if (!out || !out->contiguous() || !covers(*out, read) ||
        out->elemBytes != read.elemBytes ||
        (read.begin() - out->begin()) % out->elemBytes != 0) {
      fail("a producer's output does not cover its reader's view");
      return {};
    }
    // The element's linear position in the producer's contiguous output.
    Value linear = idx((read.begin() - out->begin()) / out->elemBytes);
    for (auto [i, s] : llvm::zip(indices, read.strides))
      if (s != 0)
        linear = arith::AddIOp::create(
            rw, loc, linear, arith::MulIOp::create(rw, loc, i, idx(s)));
    SmallVector<Value> ivs = delinearize(linear, out->shape);
    IRMapping map;
    Block *body = p.getBlock();
    for (OpOperand *in : p.getDpsInputOperands()) {
      BlockArgument arg = body->getArgument(in->getOperandNumber());
      if (arg.use_empty())
        continue;
      Value v;
      if (isa<MemRefType>(in->get().getType()))
        v = eval(in->get(), apply(p.getMatchingIndexingMap(in), ivs), p);
      else
        v = in->get();
      if (!v)
        return {};
      map.map(arg, v);
    }
    for (Operation &op : body->without_terminator())
      rw.clone(op, map);
    absorbed.insert(p);
    return map.lookupOrDefault(body->getTerminator()->getOperand(0));
  }
};

/// What a state byte holds after the copies: an operand of the window op
/// at an iteration point, or unknown (-1).
struct Src {
  int operand = -1;
  int64_t point = -1;
  int64_t byteIn = -1; // byte within the element
};

} // namespace

namespace {
LogicalResult emitWindow(RewriterBase &rw, linalg::LinalgOp op,
                         std::string &why, bool &recognized) {
  auto g = dyn_cast<linalg::GenericOp>(op.getOperation());
  if (!g || !isElementwise(g) || !isa<func::FuncOp>(g->getParentOp())) {
    why = "not an elementwise generic at the top of the function";
    return failure();
  }
  MLIRContext *ctx = rw.getContext();
  // The window operands: views of a donated function argument.
  auto fn = cast<func::FuncOp>(g->getParentOp());
  SmallVector<int> stateOperands;
  SmallVector<std::optional<Buf>> opBufs;
  for (OpOperand *in : g.getDpsInputOperands()) {
    std::optional<Buf> b =
        isa<MemRefType>(in->get().getType()) ? bufOf(in->get()) : std::nullopt;
    opBufs.push_back(b);
    auto arg = b ? dyn_cast_or_null<BlockArgument>(b->base) : BlockArgument();
    if (arg && b->global.empty() && !b->planned &&
        arg.getOwner()->getParentOp() == fn && distinctArg(arg))
      stateOperands.push_back(in->getOperandNumber());
  }
  if (stateOperands.empty()) {
    why = "no input is a view of a state argument (a function argument "
          "that aliases no other)";
    return failure();
  }
  std::optional<Buf> outBuf = bufOf(g.getDpsInits()[0]);
  if (!outBuf || !outBuf->contiguous()) {
    why = "the output is not a contiguous static buffer";
    return failure();
  }
  SmallVector<int64_t> ranges = g.getStaticLoopRanges();
  int64_t n = 1;
  for (int64_t r : ranges)
    n *= r;

  SmallVector<Buf> stateBufs;
  for (int k : stateOperands)
    stateBufs.push_back(*opBufs[k]);
  auto inState = [&](const Buf &b) {
    return llvm::any_of(stateBufs,
                        [&](const Buf &s) { return overlapDistinctArgs(s, b); });
  };
  // A candidate (worth a remark when refused) once a copy after it
  // writes one of its state operands.
  for (Operation *o = g->getNextNode(); o && !recognized; o = o->getNextNode())
    if (auto cp = copyOperands(o))
      if (std::optional<Buf> t = bufOf(cp->second))
        recognized = inState(*t);
  if (!recognized) {
    why = "no copy after the window op updates the conv state";
    return failure();
  }
  // The check below is byte by byte: bounded to decode-sized windows.
  int64_t viewBytes = 0;
  for (const std::optional<Buf> &b : opBufs)
    if (b)
      viewBytes += (b->end() - b->begin());
  if (viewBytes > (int64_t(4) << 20)) {
    why = "the window op's operands span more than 4 MB (not a decode "
          "step)";
    return failure();
  }
  // Which (operand, point) reads each byte of every operand view.
  DenseMap<Addr, Src> readAt;
  for (OpOperand *in : g.getDpsInputOperands()) {
    const std::optional<Buf> &b = opBufs[in->getOperandNumber()];
    if (!b)
      continue;
    // Only operands read once per point at their own element (the map is
    // a permutation of the loops) locate a point.
    AffineMap m = g.getMatchingIndexingMap(in);
    if (!m.isPermutation() || m.getNumResults() != ranges.size())
      continue;
    // Operand element at multi-index e of the view is point inv(m)(e).
    AffineMap inv = inversePermutation(m);
    const void *id = baseId(*b, ctx);
    bool isState = llvm::is_contained(stateOperands, in->getOperandNumber());
    bool clash = false;
    forEachElement(*b, [&](int64_t lin, int64_t byte) {
      // The view's multi-index of `lin`, then the point's linear index.
      SmallVector<int64_t> e(b->shape.size());
      for (int k = int(e.size()) - 1, rem = lin; k >= 0; --k) {
        e[k] = rem % b->shape[k];
        rem /= b->shape[k];
      }
      SmallVector<int64_t> pt = inv.compose(e);
      int64_t point = 0;
      for (size_t k = 0; k < pt.size(); ++k)
        point = point * ranges[k] + pt[k];
      for (int64_t byteIn = 0; byteIn < b->elemBytes; ++byteIn) {
        Addr a{id, byte + byteIn};
        auto [it, fresh] = readAt.try_emplace(
            a, Src{int(in->getOperandNumber()), point, byteIn});
        if (!fresh && isState && it->second.point != point)
          clash = true;
      }
    });
    if (clash) {
      why = "two iteration points read the same state element (a window "
            "over several tokens)";
      return failure();
    }
  }

  // Simulate what follows the window op, byte by byte for copies, by
  // ranges for everything else.
  DenseMap<Addr, Src> pending; // bytes written since the window op
  DenseSet<Addr> erasedWrite;  // last written by a copy to be erased
  SmallVector<Buf> dirty;      // ranges written by other ops
  SmallVector<Operation *> copies;
  SmallVector<Buf> scratch; // targets of erased copies
  for (Operation *o = g->getNextNode(); o; o = o->getNextNode()) {
    if (isViewOrPure(o) || isa<func::ReturnOp>(o))
      continue;
    if (auto cp = copyOperands(o)) {
      std::optional<Buf> s = bufOf(cp->first), t = bufOf(cp->second);
      if (!s || !t || s->shape != t->shape || s->elemBytes != t->elemBytes) {
        why = "a copy after the window op is not between static views";
        return failure();
      }
      const void *sid = baseId(*s, ctx), *tid = baseId(*t, ctx);
      bool touchesState = inState(*s) || inState(*t);
      bool readsErased = false;
      if (llvm::any_of(scratch, [&](const Buf &x) { return overlapDistinctArgs(x, *s); }))
        forEachElement(*s, [&](int64_t, int64_t byte) {
          readsErased |= erasedWrite.contains({sid, byte});
        });
      if (!touchesState && !readsErased) {
        // Unrelated, unless it overwrites scratch bytes (then those are
        // no longer the erased copies' to answer for).
        for (const Buf &x : scratch)
          if (overlapDistinctArgs(x, *t))
            forEachElement(*t, [&](int64_t, int64_t byte) {
              for (int64_t i = 0; i < t->elemBytes; ++i) {
                erasedWrite.erase({tid, byte + i});
                pending.erase({tid, byte + i});
              }
            });
        continue;
      }
      // Only copies into the state or into scratch go: what a copy leaves
      // in a function argument is seen after the function.
      if (!inState(*t) && !t->planned) {
        why = "a copy after the window op moves state values out of the "
              "function's scratch";
        return failure();
      }
      // The ranges written since the window op that this source meets.
      SmallVector<Buf> hits;
      for (const Buf &d : dirty)
        if (d.sameBase(*s) && d.begin() < s->end() && s->begin() < d.end())
          hits.push_back(d);
      auto dirtyAt = [&](int64_t byte) {
        return llvm::any_of(hits, [&](const Buf &d) {
          return d.begin() <= byte && byte < d.end();
        });
      };
      // Gather source values, then write (a copy reads before it writes).
      SmallVector<Src> vals;
      forEachElement(*s, [&](int64_t, int64_t byte) {
        for (int64_t i = 0; i < s->elemBytes; ++i) {
          Addr a{sid, byte + i};
          if (auto it = pending.find(a); it != pending.end()) {
            vals.push_back(it->second);
            continue;
          }
          auto r = readAt.find(a);
          if (r != readAt.end() && !dirtyAt(byte + i))
            vals.push_back(r->second);
          else
            vals.push_back(Src{});
        }
      });
      size_t v = 0;
      forEachElement(*t, [&](int64_t, int64_t byte) {
        for (int64_t i = 0; i < t->elemBytes; ++i) {
          Addr a{tid, byte + i};
          pending[a] = vals[v++];
          erasedWrite.insert(a);
        }
      });
      copies.push_back(o);
      if (!inState(*t))
        scratch.push_back(*t);
      continue;
    }
    std::optional<Effects> e = effectsOf(o);
    if (!e) {
      why = "op '" + o->getName().getStringRef().str() +
            "' after the window op has unknown memory effects";
      return failure();
    }
    for (Value r : e->reads) {
      std::optional<Buf> rb = bufOf(r);
      if (!rb || inState(*rb)) {
        why = "op '" + o->getName().getStringRef().str() +
              "' reads the conv state after the window op";
        return failure();
      }
      for (const Buf &x : scratch)
        if (overlapDistinctArgs(x, *rb)) {
          bool hit = false;
          forEachElement(*rb, [&](int64_t, int64_t byte) {
            hit |= erasedWrite.contains({baseId(*rb, ctx), byte});
          });
          if (hit) {
            why = "op '" + o->getName().getStringRef().str() +
                  "' reads what the state shift's copies left in scratch";
            return failure();
          }
        }
    }
    for (Value w : e->writes) {
      std::optional<Buf> wb = bufOf(w);
      if (!wb || inState(*wb)) {
        why = "op '" + o->getName().getStringRef().str() +
              "' writes the conv state after the window op";
        return failure();
      }
      dirty.push_back(*wb);
      for (const Buf &x : scratch)
        if (overlapDistinctArgs(x, *wb))
          forEachElement(*wb, [&](int64_t, int64_t byte) {
            for (int64_t i = 0; i < wb->elemBytes; ++i) {
              erasedWrite.erase({baseId(*wb, ctx), byte + i});
              pending.erase({baseId(*wb, ctx), byte + i});
            }
          });
    }
  }
  if (copies.empty()) {
    why = "no copy after the window op updates the conv state";
    return failure();
  }
  // Every state byte written must hold the same byte of a window operand
  // at its own point, the same operand for every point of a state
  // operand, and a state operand is updated whole or not at all.
  DenseSet<const void *> stateBases;
  for (const Buf &s : stateBufs)
    stateBases.insert(baseId(s, ctx));
  DenseMap<int, int> storeFrom; // state operand -> operand stored there
  for (int k : stateOperands) {
    const Buf &b = *opBufs[k];
    const void *id = baseId(b, ctx);
    bool bad = false;
    int64_t written = 0, total = 0;
    int from = -1;
    forEachElement(b, [&](int64_t, int64_t byte) {
      for (int64_t i = 0; i < b.elemBytes; ++i) {
        Addr a{id, byte + i};
        ++total;
        auto it = pending.find(a);
        if (it == pending.end())
          continue;
        ++written;
        Src own = readAt.lookup(a);
        const Src &src = it->second;
        if (src.operand < 0 || src.point != own.point ||
            src.byteIn != own.byteIn || (from >= 0 && from != src.operand))
          bad = true;
        from = src.operand;
      }
    });
    if (bad || (written && written != total)) {
      why = "the state update is not a per-channel shift of the window "
            "op's operands";
      return failure();
    }
    if (written)
      storeFrom[k] = from;
  }
  // State bytes written that no state operand reads.
  for (auto &kv : pending) {
    if (!stateBases.contains(kv.first.first))
      continue;
    auto r = readAt.find(kv.first);
    if (r == readAt.end() ||
        !llvm::is_contained(stateOperands, r->second.operand)) {
      why = "the copies write state elements the window op does not read";
      return failure();
    }
  }
  if (storeFrom.empty()) {
    why = "no state operand is updated by the copies";
    return failure();
  }

  // The transpose (or other elementwise op) reading the window op's
  // output next, absorbed when nothing in between touches its buffers.
  linalg::LinalgOp consumer;
  for (Operation *o = g->getNextNode(); o; o = o->getNextNode()) {
    std::optional<Effects> e = effectsOf(o);
    if (!e)
      break;
    bool reads = llvm::any_of(e->reads, [&](Value r) {
      std::optional<Buf> rb = bufOf(r);
      return !rb || overlapDistinctArgs(*rb, *outBuf);
    });
    bool writes = llvm::any_of(e->writes, [&](Value w) {
      std::optional<Buf> wb = bufOf(w);
      return !wb || overlapDistinctArgs(*wb, *outBuf);
    });
    if (!reads && !writes)
      continue;
    auto c = dyn_cast<linalg::LinalgOp>(o);
    if (reads && c && isElementwise(c) && c.getNumDpsInputs() == 1) {
      std::optional<Buf> in = bufOf(c.getDpsInputOperand(0)->get());
      std::optional<Buf> cout = bufOf(c.getDpsInits()[0]);
      AffineMap m = c.getMatchingIndexingMap(c.getDpsInputOperand(0));
      if (in && cout && in->sameView(*outBuf) && m.isPermutation() &&
          cout->contiguous() && !overlapDistinctArgs(*cout, *outBuf) && !inState(*cout)) {
        bool touched = false;
        for (Operation *b = g->getNextNode(); b != o; b = b->getNextNode()) {
          std::optional<Effects> be = effectsOf(b);
          if (!be)
            touched = true;
          else
            for (Value v : llvm::concat<Value>(be->reads, be->writes)) {
              std::optional<Buf> vb = bufOf(v);
              touched |= !vb || overlapDistinctArgs(*vb, *cout);
            }
        }
        // The kernel stores into the consumer's output at the window op:
        // its view must be defined there.
        if (!touched && hoistable(c.getDpsInits()[0], g))
          consumer = c;
      }
    }
    break;
  }

  // The launch, right after the window op.
  Location loc = g.getLoc();
  if (consumer)
    hoist(rw, consumer.getDpsInits()[0], g);
  std::string reason;
  ConvBuilder kb(rw, loc, why);
  kb.launchPoint = g;
  for (int k : stateOperands)
    kb.window.push_back(*opBufs[k]);
  kb.written.append(stateBufs);
  kb.written.push_back(*outBuf);
  if (consumer)
    kb.written.push_back(*bufOf(consumer.getDpsInits()[0]));
  rw.setInsertionPointAfter(g);
  Value one = kb.idx(1), threads = kb.idx(kThreads);
  int64_t blocks = (n + kThreads - 1) / kThreads;
  Value grid = kb.idx(blocks);
  auto launch = gpu::LaunchOp::create(
      rw, loc, grid, one, one, threads, one, one,
      /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
      /*asyncDependencies=*/{}, /*workgroupAttributions=*/TypeRange{});
  Block &body = launch.getBody().front();
  rw.setInsertionPointToStart(&body);
  gpu::TerminatorOp::create(rw, loc);
  rw.setInsertionPointToStart(&body);
  Value p = arith::AddIOp::create(
      rw, loc,
      arith::MulIOp::create(rw, loc, launch.getBlockIds().x, kb.idx(kThreads)),
      launch.getThreadIds().x);
  Value inRange =
      arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, p, kb.idx(n));
  auto guard = scf::IfOp::create(rw, loc, inRange, false);
  rw.setInsertionPointToStart(guard.thenBlock());
  SmallVector<Value> ivs = kb.delinearize(p, ranges);
  IRMapping map;
  Block *gBody = g.getBlock();
  DenseMap<int, Value> operandVal;
  SmallVector<std::pair<Value, SmallVector<Value>>> stateIdx;
  for (OpOperand *in : g.getDpsInputOperands()) {
    BlockArgument arg = gBody->getArgument(in->getOperandNumber());
    bool needed = !arg.use_empty() || llvm::any_of(storeFrom, [&](auto &kv) {
      return kv.second == int(in->getOperandNumber());
    });
    if (!needed)
      continue;
    Value v =
        isa<MemRefType>(in->get().getType())
            ? kb.eval(in->get(), kb.apply(g.getMatchingIndexingMap(in), ivs), g)
            : in->get();
    if (!v) {
      rw.eraseOp(launch);
      for (Value c : {grid, threads, one})
        rw.eraseOp(c.getDefiningOp());
      return failure();
    }
    map.map(arg, v);
    operandVal[in->getOperandNumber()] = v;
  }
  for (Operation &o : gBody->without_terminator())
    rw.clone(o, map);
  Value y = map.lookupOrDefault(gBody->getTerminator()->getOperand(0));

  // Stores: the state shift (in place, the thread's own window), the
  // consumer's element, the window op's output where still read.
  for (auto [k, from] : storeFrom) {
    OpOperand &operand = g->getOpOperand(k);
    memref::StoreOp::create(rw, loc, operandVal.lookup(from), operand.get(),
                            kb.apply(g.getMatchingIndexingMap(&operand), ivs));
  }
  SetVector<Operation *> dropped;
  dropped.insert(g);
  for (Operation *c : copies)
    dropped.insert(c);
  if (consumer) {
    OpOperand *in = consumer.getDpsInputOperand(0);
    AffineMap inv = inversePermutation(consumer.getMatchingIndexingMap(in));
    SmallVector<Value> q = kb.apply(inv, ivs);
    IRMapping cm;
    Block *cb = consumer.getBlock();
    cm.map(cb->getArgument(in->getOperandNumber()), y);
    for (Operation &o : cb->without_terminator())
      rw.clone(o, cm);
    memref::StoreOp::create(
        rw, loc, cm.lookupOrDefault(cb->getTerminator()->getOperand(0)),
        consumer.getDpsInits()[0], q);
    dropped.insert(consumer);
  }
  if (!erasable(g, dropped, launch, kb.loads))
    memref::StoreOp::create(rw, loc, y, g.getDpsInits()[0], ivs);

  // Producers whose outputs nothing else reads go.
  SmallVector<Operation *> candidates(kb.absorbed.begin(), kb.absorbed.end());
  for (Operation *c : candidates)
    dropped.insert(c);
  bool changed = true;
  while (changed) {
    changed = false;
    for (Operation *c : candidates)
      if (dropped.contains(c) && !erasable(c, dropped, launch, kb.loads)) {
        dropped.remove(c);
        changed = true;
      }
  }
  int64_t fused = 0;
  for (Operation *c : candidates)
    fused += dropped.contains(c);

  // A producer the kernel computed whose output is still read later (the
  // bf16 rounding of the whole projection, which z, a and b read too)
  // runs in the same launch over its own elements, when nothing between
  // it and the launch reads or writes its output and the kernel loads none
  // of it: one launch less. Its inputs are read as they were at the
  // producer (eval checks that nothing writes them in between).
  int64_t moved = 0, total = n;
  for (Operation *c : candidates) {
    if (dropped.contains(c))
      continue;
    auto pl = cast<linalg::LinalgOp>(c);
    std::optional<Buf> pout = bufOf(pl.getDpsInits()[0]);
    if (!pout || !pout->contiguous() ||
        llvm::any_of(kb.loads,
                     [&](const Buf &l) { return overlapDistinctArgs(l, *pout); }))
      continue;
    bool touched = false;
    for (Operation *b = c->getNextNode(); b && b != launch.getOperation();
         b = b->getNextNode()) {
      if (dropped.contains(b))
        continue;
      std::optional<Effects> be = effectsOf(b);
      if (!be) {
        touched = true;
        break;
      }
      for (Value v : llvm::concat<Value>(be->reads, be->writes)) {
        std::optional<Buf> vb = bufOf(v);
        touched |= !vb || overlapDistinctArgs(*vb, *pout);
      }
    }
    if (touched)
      continue;
    SmallVector<int64_t> pr = pl.getStaticLoopRanges();
    int64_t m = 1;
    for (int64_t r : pr)
      m *= r;
    std::string before = why;
    kb.memo.clear();
    kb.written.push_back(*pout);
    rw.setInsertionPoint(body.getTerminator());
    Value inP =
        arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, p, kb.idx(m));
    auto pIf = scf::IfOp::create(rw, loc, inP, false);
    rw.setInsertionPointToStart(pIf.thenBlock());
    SmallVector<Value> pivs = kb.delinearize(p, pr);
    IRMapping pm;
    Block *pb = pl.getBlock();
    bool ok = true;
    for (OpOperand *in : pl.getDpsInputOperands()) {
      BlockArgument arg = pb->getArgument(in->getOperandNumber());
      if (arg.use_empty())
        continue;
      Value v = isa<MemRefType>(in->get().getType())
                    ? kb.eval(in->get(),
                              kb.apply(pl.getMatchingIndexingMap(in), pivs), c)
                    : in->get();
      if (!v) {
        ok = false;
        break;
      }
      pm.map(arg, v);
    }
    if (!ok) {
      rw.eraseOp(pIf);
      kb.written.pop_back();
      why = before;
      continue;
    }
    for (Operation &o : pb->without_terminator())
      rw.clone(o, pm);
    memref::StoreOp::create(
        rw, loc, pm.lookupOrDefault(pb->getTerminator()->getOperand(0)),
        pl.getDpsInits()[0], pivs);
    dropped.insert(c);
    total = std::max(total, m);
    ++moved;
  }
  if (total > n) {
    blocks = (total + kThreads - 1) / kThreads;
    rw.setInsertionPoint(launch);
    Value g2 = kb.idx(blocks);
    rw.modifyOpInPlace(launch,
                       [&] { launch.getGridSizeXMutable().assign(g2); });
  }
  launch->setAttr(
      "sinter.kernel",
      rw.getStringAttr(
          "conv_window n=" + str(n) + " grid=" + str(blocks) +
          " block=" + str(kThreads) + " state_stores=" + str(storeFrom.size()) +
          " copies=" + str(copies.size()) +
          " consumer=" + (consumer ? "1" : "0") +
          " fused_producers=" + str(fused) + " moved_producers=" + str(moved)));
  SmallVector<Operation *> order(dropped.begin(), dropped.end());
  llvm::sort(order,
             [](Operation *a, Operation *b) { return b->isBeforeInBlock(a); });
  for (Operation *o : order)
    rw.eraseOp(o);
  return success();
}
} // namespace

LogicalResult emitConvWindow(RewriterBase &rw, linalg::LinalgOp op,
                             const KernelOptions &options, std::string &why) {
  bool recognized = false;
  if (succeeded(emitWindow(rw, op, why, recognized)))
    return success();
  if (options.remarks && recognized)
    op->emitRemark() << "sinter-cuda-form-kernels: conv window kernel not "
                        "used: "
                     << why;
  return failure();
}

} // namespace sinter::cuda
