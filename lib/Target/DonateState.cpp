//===- DonateState.cpp - the sinter-donate-state pass ---------------------===//
//
// A decode step reads its state (KV cache, convolution state, recurrent
// state) as inputs and returns the updated state as outputs. Bufferized as
// is, every step copies each state whole: the inputs are read-only, so an
// update writes into a fresh buffer, and the returned buffer is copied into
// the output. Donation lets the output live in the input's buffer; the
// update (one cache row, a shift by one column, the recurrence) is then the
// only memory traffic.
//
// What makes a donation safe is decided by one-shot bufferization's own
// alias analysis, not by a second, weaker copy of it: the candidates'
// inputs are made writable in a clone of the module and the analysis must
// find each returned value equivalent to its input. The pass's own work is
// to choose the candidates (names propose, the destination chain must
// exist), to rewrite the two forms the analysis cannot update in place on
// its own (an elementwise op writing a fresh tensor; the shift of a
// convolution state through a concat), and to say why a refused pair is
// refused.
//
//===----------------------------------------------------------------------===//

#include "sinter/Target/Passes.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotModuleBufferize.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"

namespace sinter {
#define GEN_PASS_DEF_DONATESTATEPASS
#include "sinter/Target/Passes.h.inc"
} // namespace sinter

using namespace mlir;

namespace {

/// Longest chain of ops between a state input and its updated value.
constexpr unsigned kMaxChain = 256;

std::optional<StringRef> dropPrefix(StringRef s, ArrayRef<StringRef> prefixes) {
  for (StringRef p : prefixes)
    if (s.size() > p.size() && s.starts_with(p))
      return s.drop_front(p.size());
  return std::nullopt;
}

/// The state naming conventions of exporters: past_X / present_X,
/// X / present.X, past_key_values.N.key / present.N.key, X_in / X_out.
/// Only a hint: the dataflow decides.
bool namesPair(StringRef in, StringRef out) {
  if (std::optional<StringRef> o =
          dropPrefix(out, {"present.", "present_", "present/"})) {
    if (*o == in)
      return true;
    if (std::optional<StringRef> i = dropPrefix(
            in, {"past_key_values.", "past.", "past_", "past/"}))
      return *i == *o;
    return false;
  }
  for (auto [a, b] : {std::pair<StringRef, StringRef>{"_in", "_out"},
                      {".in", ".out"}})
    if (in.ends_with(a) && out.ends_with(b) && in.size() > a.size() &&
        in.drop_back(a.size()) == out.drop_back(b.size()))
      return true;
  return false;
}

std::string describeType(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << t;
  return s;
}

/// "'linalg.generic' at NODE" (the ONNX node's name) or "at file:line:col".
std::string describeOp(Operation *op) {
  std::string name, file;
  op->getLoc()->walk([&](Location l) {
    if (auto n = dyn_cast<NameLoc>(l); n && name.empty())
      name = n.getName().str();
    if (auto f = dyn_cast<FileLineColLoc>(l); f && file.empty())
      file = f.getFilename().str() + ":" + std::to_string(f.getLine()) + ":" +
             std::to_string(f.getColumn());
    return WalkResult::advance();
  });
  std::string where = name.empty() ? file : name;
  return "'" + op->getName().getStringRef().str() + "'" +
         (where.empty() ? "" : " at " + where);
}

/// One step of an update chain: `writer` overwrites `state` in place when
/// bufferized (its result is the next version of the state).
struct Link {
  Value state;
  Operation *writer;
};

/// How output `out` is input `in` updated, and what to rewrite for it.
struct Chain {
  SmallVector<Link> links;
  /// Elementwise generics whose init becomes their input operand #second.
  SmallVector<std::pair<linalg::GenericOp, unsigned>> reuses;
  /// extract_slice(concat(state, x)): the state shift; second = the concat
  /// operand that is the state.
  SmallVector<std::pair<tensor::ExtractSliceOp, unsigned>> shifts;
};

struct Candidate {
  unsigned in, out;
  bool forced;
};

/// Static, unit-stride slice along `dim` only: [offset, offset + size) on
/// `dim`, whole on the others. nullopt otherwise.
std::optional<std::pair<int64_t, int64_t>>
sliceAlong(tensor::ExtractSliceOp s, unsigned dim, bool wholeOthers) {
  ArrayRef<int64_t> offsets = s.getStaticOffsets(), sizes = s.getStaticSizes(),
                    strides = s.getStaticStrides();
  RankedTensorType src = s.getSourceType();
  if (s.getResultType().getRank() != src.getRank())
    return std::nullopt; // rank-reducing
  for (unsigned d = 0; d < offsets.size(); ++d) {
    if (ShapedType::isDynamic(offsets[d]) || ShapedType::isDynamic(sizes[d]) ||
        strides[d] != 1)
      return std::nullopt;
    if (d != dim && wholeOthers &&
        (offsets[d] != 0 || sizes[d] != src.getDimSize(d)))
      return std::nullopt;
  }
  return std::make_pair(offsets[dim], sizes[dim]);
}

/// Where operand `q` of `concat` starts along the concat dimension.
int64_t concatStart(tensor::ConcatOp concat, unsigned q) {
  int64_t start = 0;
  for (unsigned k = 0; k < q; ++k)
    start += cast<RankedTensorType>(concat.getInputs()[k].getType())
                 .getDimSize(concat.getDim());
  return start;
}

/// An elementwise generic whose init is only a shape (not read): its
/// result may as well be written over one of its inputs.
bool isElementwiseFresh(linalg::GenericOp g) {
  if (g.getNumDpsInits() != 1 || g.getNumResults() != 1 ||
      g.getNumParallelLoops() != g.getNumLoops())
    return false;
  OpOperand *init = g.getDpsInitOperand(0);
  return g.getMatchingIndexingMap(init).isIdentity() &&
         !g.payloadUsesValueFromOperand(init);
}

struct Tracer {
  BlockArgument target;
  DenseSet<Value> failed;

  /// True when `v` is `target` updated; fills `chain` on success only.
  bool trace(Value v, Chain &chain, unsigned depth = 0) {
    if (v == target)
      return true;
    if (depth > kMaxChain || failed.contains(v))
      return false;
    bool ok = traceOp(v, chain, depth);
    if (!ok)
      failed.insert(v);
    return ok;
  }

  bool traceOp(Value v, Chain &chain, unsigned depth) {
    auto result = dyn_cast<OpResult>(v);
    if (!result || result.getOwner()->getBlock() != target.getOwner())
      return false;
    Operation *op = result.getOwner();
    // A scatter: a loop carrying the state and inserting into it.
    if (auto loop = dyn_cast<scf::ForOp>(op)) {
      Value init = loop.getInitArgs()[result.getResultNumber()];
      if (!trace(init, chain, depth + 1))
        return false;
      chain.links.push_back({init, op});
      return true;
    }
    if (auto slice = dyn_cast<tensor::ExtractSliceOp>(op)) {
      auto concat = slice.getSource().getDefiningOp<tensor::ConcatOp>();
      if (!concat || !sliceAlong(slice, concat.getDim(), true))
        return false;
      for (auto [q, input] : llvm::enumerate(concat.getInputs())) {
        if (input.getType() != slice.getType() ||
            !trace(input, chain, depth + 1))
          continue;
        chain.links.push_back({input, op});
        chain.shifts.push_back({slice, unsigned(q)});
        return true;
      }
      return false;
    }
    auto dps = dyn_cast<DestinationStyleOpInterface>(op);
    if (!dps)
      return false;
    OpOperand *init = dps.getTiedOpOperand(result);
    if (init && trace(init->get(), chain, depth + 1)) {
      chain.links.push_back({init->get(), op});
      return true;
    }
    auto g = dyn_cast<linalg::GenericOp>(op);
    if (!g || !isElementwiseFresh(g))
      return false;
    for (OpOperand *in : g.getDpsInputOperands()) {
      if (in->get().getType() != v.getType() ||
          !g.getMatchingIndexingMap(in).isIdentity() ||
          !trace(in->get(), chain, depth + 1))
        continue;
      chain.links.push_back({in->get(), op});
      chain.reuses.push_back({g, in->getOperandNumber()});
      return true;
    }
    return false;
  }
};

/// The first top-level op of `block` that uses `v` or a view of it, after
/// `writer`; null when there is none.
Operation *readAfter(Block &block, Value v, Operation *writer) {
  SmallVector<Value> worklist{v};
  DenseSet<Value> seen{v};
  Operation *first = nullptr;
  while (!worklist.empty()) {
    Value cur = worklist.pop_back_val();
    for (Operation *user : cur.getUsers()) {
      Operation *top = block.findAncestorOpInBlock(*user);
      if (!top || top == writer || isa<func::ReturnOp>(top))
        continue;
      if (writer->isBeforeInBlock(top) &&
          (!first || top->isBeforeInBlock(first)))
        first = top;
      if (isa<tensor::ExtractSliceOp, tensor::ExpandShapeOp,
              tensor::CollapseShapeOp, tensor::CastOp, tensor::ReshapeOp>(
              user))
        for (Value r : user->getResults())
          if (seen.insert(r).second)
            worklist.push_back(r);
    }
  }
  return first;
}

/// Moves `slice` = extract_slice(concat(..., state, ...)) into an update of
/// the state: the state's kept part is copied through a temporary of its
/// own size (source and destination overlap), the other parts inserted.
/// Other slices of the concat that lie inside one operand read that
/// operand directly (the taps of a causal convolution), so that the concat,
/// a whole copy of the state, disappears.
void rewriteShift(RewriterBase &rewriter, tensor::ExtractSliceOp slice,
                  unsigned stateIdx) {
  auto concat = slice.getSource().getDefiningOp<tensor::ConcatOp>();
  unsigned dim = concat.getDim();
  Location loc = slice.getLoc();
  SmallVector<tensor::ExtractSliceOp> others;
  for (Operation *user : concat->getUsers())
    if (auto s = dyn_cast<tensor::ExtractSliceOp>(user); s && s != slice)
      others.push_back(s);
  for (tensor::ExtractSliceOp s : others) {
    std::optional<std::pair<int64_t, int64_t>> r = sliceAlong(s, dim, false);
    if (!r)
      continue;
    for (unsigned q = 0; q < concat.getInputs().size(); ++q) {
      int64_t start = concatStart(concat, q);
      int64_t size = cast<RankedTensorType>(concat.getInputs()[q].getType())
                         .getDimSize(dim);
      if (r->first < start || r->first + r->second > start + size)
        continue;
      SmallVector<OpFoldResult> offsets = s.getMixedOffsets();
      offsets[dim] = rewriter.getIndexAttr(r->first - start);
      rewriter.setInsertionPoint(s);
      rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
          s, s.getType(), concat.getInputs()[q], offsets, s.getMixedSizes(),
          s.getMixedStrides());
      break;
    }
  }

  // Before the first use of the updated state: every read of the old
  // state that came before it still sees the old values.
  Block *block = slice->getBlock();
  Operation *at = nullptr;
  for (Operation *user : slice->getUsers())
    if (Operation *top = block->findAncestorOpInBlock(*user);
        top && (!at || top->isBeforeInBlock(at)))
      at = top;
  rewriter.setInsertionPoint(at ? at : block->getTerminator());

  Value state = concat.getInputs()[stateIdx];
  auto type = cast<RankedTensorType>(state.getType());
  int64_t off = sliceAlong(slice, dim, true)->first;
  int64_t len = type.getDimSize(dim);
  struct Piece {
    unsigned q;
    int64_t src, dst, size;
    Value value;
  };
  SmallVector<Piece> pieces;
  for (unsigned q = 0; q < concat.getInputs().size(); ++q) {
    int64_t start = concatStart(concat, q);
    int64_t end = start + cast<RankedTensorType>(
                              concat.getInputs()[q].getType())
                              .getDimSize(dim);
    int64_t a = std::max(start, off), b = std::min(end, off + len);
    if (a < b)
      pieces.push_back({q, a - start, a - off, b - a, Value()});
  }
  auto sliceOf = [&](Value src, int64_t at, int64_t size) {
    auto srcType = cast<RankedTensorType>(src.getType());
    SmallVector<OpFoldResult> offsets(srcType.getRank(),
                                      rewriter.getIndexAttr(0));
    SmallVector<OpFoldResult> sizes, strides(srcType.getRank(),
                                             rewriter.getIndexAttr(1));
    for (int64_t d = 0; d < srcType.getRank(); ++d)
      sizes.push_back(rewriter.getIndexAttr(srcType.getDimSize(d)));
    offsets[dim] = rewriter.getIndexAttr(at);
    sizes[dim] = rewriter.getIndexAttr(size);
    return std::make_tuple(offsets, sizes, strides);
  };
  // The moved part of the state first, into its own buffer: it must be
  // read before any insert below overwrites it.
  for (Piece &p : pieces) {
    Value src = concat.getInputs()[p.q];
    if (p.q == stateIdx && p.src == p.dst)
      continue;
    if (p.q != stateIdx && p.src == 0 &&
        p.size == cast<RankedTensorType>(src.getType()).getDimSize(dim)) {
      p.value = src; // the whole operand (the new column)
      continue;
    }
    auto [offsets, sizes, strides] = sliceOf(src, p.src, p.size);
    Value part = tensor::ExtractSliceOp::create(rewriter, loc, src, offsets,
                                                sizes, strides);
    if (p.q == stateIdx) {
      auto partType = cast<RankedTensorType>(part.getType());
      Value empty = tensor::EmptyOp::create(rewriter, loc, partType.getShape(),
                                            partType.getElementType());
      part = linalg::CopyOp::create(rewriter, loc, part, empty).getResult(0);
    }
    p.value = part;
  }
  Value updated = state;
  for (Piece &p : pieces) {
    if (!p.value)
      continue;
    auto [offsets, sizes, strides] = sliceOf(state, p.dst, p.size);
    updated = tensor::InsertSliceOp::create(rewriter, loc, p.value, updated,
                                            offsets, sizes, strides);
  }
  rewriter.replaceOp(slice, updated);
  if (concat->use_empty())
    rewriter.eraseOp(concat);
}

/// Applies the rewrites of `chain` (each at most once: two pairs never
/// share a link, since a state is donated once).
void applyChain(RewriterBase &rewriter, const Chain &chain) {
  for (auto [g, operand] : chain.reuses) {
    Value in = g->getOperand(operand);
    Value oldInit = g.getDpsInitOperand(0)->get();
    rewriter.modifyOpInPlace(
        g, [&] { g.getDpsInitsMutable()[0].set(in); });
    if (Operation *def = oldInit.getDefiningOp();
        def && isa<tensor::EmptyOp>(def) && def->use_empty())
      rewriter.eraseOp(def);
  }
  for (auto [slice, q] : chain.shifts)
    rewriteShift(rewriter, slice, q);
}

struct DonateStatePass : sinter::impl::DonateStatePassBase<DonateStatePass> {
  using Base::Base;

  static func::FuncOp findEntry(ModuleOp module) {
    for (func::FuncOp f : module.getOps<func::FuncOp>())
      if (f->hasAttr("sinter.entry") && !f.isExternal())
        return f;
    return nullptr;
  }

  static std::string argName(func::FuncOp f, unsigned i) {
    auto n = f.getArgAttrOfType<StringAttr>(i, "sinter.name");
    return n ? n.str() : "#" + std::to_string(i);
  }
  static std::string resultName(func::FuncOp f, unsigned j) {
    auto n = f.getResultAttrOfType<StringAttr>(j, "sinter.name");
    return n ? n.str() : "#" + std::to_string(j);
  }

  /// Traces the candidates in `f` and applies the rewrites of those that
  /// have a chain (each traced right before its rewrite, on the IR the
  /// previous pairs' rewrites left).
  static void traceAndRewrite(func::FuncOp f, ArrayRef<Candidate> pairs) {
    auto ret = cast<func::ReturnOp>(f.getBody().front().getTerminator());
    IRRewriter rewriter(f.getContext());
    for (const Candidate &c : pairs) {
      Tracer tracer{f.getArgument(c.in), {}};
      Chain chain;
      if (tracer.trace(ret.getOperand(c.out), chain))
        applyChain(rewriter, chain);
    }
  }

  /// The pairs of `pairs` whose output one-shot bufferization finds
  /// equivalent to their input, with the inputs of `pairs` writable. The
  /// analysis runs on a clone: the module itself is rewritten only for
  /// pairs that are known to work.
  static SmallVector<Candidate> confirm(ModuleOp module,
                                        ArrayRef<Candidate> pairs) {
    OwningOpRef<ModuleOp> copy(module.clone());
    func::FuncOp f = findEntry(*copy);
    traceAndRewrite(f, pairs);
    Builder b(module.getContext());
    for (const Candidate &c : pairs)
      f.setArgAttr(c.in, bufferization::BufferizationDialect::kWritableAttrName,
                   b.getBoolAttr(true));
    bufferization::OneShotBufferizationOptions options;
    options.bufferizeFunctionBoundaries = true;
    options.setFunctionBoundaryTypeConversion(
        bufferization::LayoutMapOption::IdentityLayoutMap);
    bufferization::OneShotAnalysisState state(*copy, options);
    SmallVector<Candidate> kept;
    if (failed(bufferization::analyzeModuleOp(*copy, state)))
      return kept;
    auto *funcState =
        state.getExtension<bufferization::func_ext::FuncAnalysisState>();
    if (!funcState)
      return kept;
    auto it = funcState->equivalentFuncArgs.find(f);
    if (it == funcState->equivalentFuncArgs.end())
      return kept;
    for (const Candidate &c : pairs) {
      auto eq = it->second.find(c.out);
      if (eq != it->second.end() && eq->second == int64_t(c.in))
        kept.push_back(c);
    }
    return kept;
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    func::FuncOp f = findEntry(module);
    if (!f)
      return;
    MLIRContext *ctx = &getContext();
    Builder b(ctx);
    auto ret = cast<func::ReturnOp>(f.getBody().front().getTerminator());
    unsigned numIn = f.getNumArguments(), numOut = f.getNumResults();
    auto findArg = [&](StringRef name) -> int {
      for (unsigned i = 0; i < numIn; ++i)
        if (argName(f, i) == name)
          return int(i);
      return -1;
    };
    auto findResult = [&](StringRef name) -> int {
      for (unsigned j = 0; j < numOut; ++j)
        if (resultName(f, j) == name)
          return int(j);
      return -1;
    };

    SmallVector<Candidate> candidates;
    SmallVector<std::string> refusals;
    DenseSet<unsigned> usedIn, usedOut;
    bool ok = true;
    for (const std::string &spec : donate) {
      auto [in, out] = StringRef(spec).rsplit(':');
      if (in.empty() || out.empty()) {
        emitError(f.getLoc()) << "--donate='" << spec
                      << "': expected INPUT:OUTPUT (value names)";
        ok = false;
        continue;
      }
      int i = findArg(in), j = findResult(out);
      if (i < 0 || j < 0) {
        InFlightDiagnostic d = emitError(f.getLoc())
                               << "--donate=" << spec << ": ";
        if (i < 0)
          d << "the model has no input '" << in << "'";
        else
          d << "the model has no output '" << out << "'";
        ok = false;
        continue;
      }
      if (!usedIn.insert(i).second || !usedOut.insert(j).second) {
        emitError(f.getLoc()) << "--donate=" << spec << ": input '" << in
                      << "' or output '" << out
                      << "' is already in another donated pair";
        ok = false;
        continue;
      }
      candidates.push_back({unsigned(i), unsigned(j), true});
    }
    if (!ok)
      return signalPassFailure();
    if (automatic)
      for (unsigned j = 0; j < numOut; ++j)
        for (unsigned i = 0; i < numIn; ++i)
          if (!usedIn.contains(i) && !usedOut.contains(j) &&
              namesPair(argName(f, i), resultName(f, j))) {
            candidates.push_back({i, j, false});
            usedIn.insert(i);
            usedOut.insert(j);
          }

    auto refuse = [&](const Candidate &c, const Twine &why) {
      std::string msg = "input '" + argName(f, c.in) + "' -> output '" +
                        resultName(f, c.out) + "': " + why.str();
      if (c.forced) {
        emitError(f.getLoc()) << "cannot donate " << msg;
        ok = false;
      } else {
        refusals.push_back(msg);
      }
    };

    // Types, single use as an output, and the chain, on the module as is.
    SmallVector<Candidate> traced;
    SmallVector<Chain> chains;
    for (const Candidate &c : candidates) {
      Type tin = f.getArgumentTypes()[c.in], tout = f.getResultTypes()[c.out];
      auto rin = cast<RankedTensorType>(tin), rout = cast<RankedTensorType>(tout);
      if (rin.getElementType() != rout.getElementType()) {
        refuse(c, "the dtype changes (" + describeType(tin) + " -> " +
                      describeType(tout) + ")");
        continue;
      }
      if (rin.getShape() != rout.getShape()) {
        refuse(c, "the shape changes (" + describeType(tin) + " -> " +
                      describeType(tout) + ")");
        continue;
      }
      Value v = ret.getOperand(c.out);
      if (llvm::count(ret.getOperands(), v) > 1) {
        refuse(c, "the same value is also another output; two outputs "
                  "cannot share the input's buffer");
        continue;
      }
      Tracer tracer{f.getArgument(c.in), {}};
      Chain chain;
      if (!tracer.trace(v, chain)) {
        std::string how = v.getDefiningOp()
                              ? "it is computed by " + describeOp(v.getDefiningOp())
                              : std::string("it is another input");
        refuse(c, "the output is not an update of the input: " + how +
                      ", and no chain of in-place writes (insert_slice, "
                      "scatter, a linalg destination, an elementwise op "
                      "reading the state at the index it writes) leads from "
                      "the input to it");
        continue;
      }
      traced.push_back(c);
      chains.push_back(std::move(chain));
    }
    if (!ok)
      return signalPassFailure();

    // Drop what bufferization would not update in place until the set is
    // stable (a pair's writable input can change another pair's analysis).
    SmallVector<Candidate> kept(traced.begin(), traced.end());
    while (!kept.empty()) {
      SmallVector<Candidate> next = confirm(module, kept);
      if (next.size() == kept.size())
        break;
      kept = std::move(next);
    }
    for (auto [c, chain] : llvm::zip(traced, chains)) {
      if (llvm::any_of(kept, [&](const Candidate &k) {
            return k.in == c.in && k.out == c.out;
          }))
        continue;
      std::string why;
      Block &body = f.getBody().front();
      for (const Link &l : chain.links)
        if (Operation *late = readAfter(body, l.state, l.writer)) {
          why = (l.state == f.getArgument(c.in) ? "the input"
                                                 : "a version of the state") +
                std::string(" is still read by ") + describeOp(late) +
                " after " + describeOp(l.writer) + " overwrites it";
          break;
        }
      if (why.empty())
        why = "bufferization cannot update it in place (another value "
              "aliases the state where it is written)";
      refuse(c, why);
    }
    if (!ok)
      return signalPassFailure();

    traceAndRewrite(f, kept);
    for (const Candidate &c : kept) {
      f.setArgAttr(c.in, bufferization::BufferizationDialect::kWritableAttrName,
                   b.getBoolAttr(true));
      f.setArgAttr(c.in, "sinter.donate_to", b.getI64IntegerAttr(c.out));
      f.setResultAttr(c.out, "sinter.donated_from", b.getI64IntegerAttr(c.in));
    }
    SmallVector<Attribute> why;
    for (const std::string &r : refusals)
      why.push_back(b.getStringAttr(r));
    if (!why.empty())
      f->setAttr("sinter.donation_refusals", b.getArrayAttr(why));
  }
};

} // namespace
