//===- RaiseLinearAttention.cpp - gated-delta step -> linear_attention ----===//
//
// Exports without LinearAttention write the GatedDeltaNet decode step as
// ordinary ops on the [B, H, Dk, Dv] state (see the pass description in
// Passes.td). Raised to sinter.linear_attention (update_rule gated_delta)
// the step is one kernel with the state kept in f32, as the opset-27
// export imports. A prefill that unrolls the recurrence over its T tokens
// is T such steps, each raised on its own.
//
//===----------------------------------------------------------------------===//

#include "RaisingUtils.h"
#include "sinter/Dialect/Graph/Transforms/FusionRemarks.h"
#include "sinter/Dialect/Graph/Transforms/Passes.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"

namespace sinter {
#define GEN_PASS_DEF_RAISELINEARATTENTIONPASS
#include "sinter/Dialect/Graph/Transforms/Passes.h.inc"
} // namespace sinter

using namespace mlir;
using namespace sinter;
using namespace sinter::raising;

static constexpr llvm::StringLiteral kPass = "sinter-raise-linear-attention";

namespace {

bool isView(Operation *op) {
  return isa_and_nonnull<tensor::ExpandShapeOp, tensor::CollapseShapeOp,
                         tensor::ReshapeOp, tensor::ExtractSliceOp,
                         TransposeOp>(op);
}

/// A per-head factor [B, H, 1, 1] of the state.
bool isPerHead(Value v, ArrayRef<int64_t> state) {
  ArrayRef<int64_t> s = shapeOf(v);
  return s.size() == 4 && s[0] == state[0] && s[1] == state[1] && s[2] == 1 &&
         s[3] == 1;
}

/// The other operand of a commutative binary op whose one operand is `v`.
template <typename OpTy> Value otherOperand(OpTy op, Value v) {
  if (op.getLhs() == v)
    return op.getRhs();
  if (op.getRhs() == v)
    return op.getLhs();
  return {};
}

/// `v` [B, H, 1, X] (one token, head-major) as the packed [B, 1, H * X]
/// the op reads. Row-major, [B, H, 1, X] and [B, 1, H, X] hold the same
/// order, so a reshape suffices; when `v` is the token-t slice of a
/// transpose of a token-major [B, T, H, X] tensor (what the export writes),
/// the slice is taken from that tensor instead, so the transpose dies.
Value packed(OpBuilder &b, Location loc, Value v) {
  ArrayRef<int64_t> s = shapeOf(v);
  SmallVector<int64_t> out{s[0], 1, s[1] * s[3]};
  Value src = v;
  int64_t t = 0;
  if (auto sl = v.getDefiningOp<tensor::ExtractSliceOp>()) {
    ArrayRef<int64_t> ss = shapeOf(sl.getSource());
    ArrayRef<int64_t> off = sl.getStaticOffsets();
    if (ss.size() == 4 && !ShapedType::isDynamic(off[2]) && off[0] == 0 &&
        off[1] == 0 && off[3] == 0 && ss[1] == s[1] && ss[3] == s[3] &&
        llvm::all_of(sl.getStaticStrides(), [](int64_t x) { return x == 1; }) &&
        sl.getType().getRank() == 4) {
      src = sl.getSource();
      t = off[2];
    }
  }
  auto tr = src.getDefiningOp<TransposeOp>();
  if (!tr || tr.getPerm() != ArrayRef<int64_t>{0, 2, 1, 3})
    return reshapeTo(b, loc, v, out);
  Value u = tr.getInput(); // [B, T, H, X]
  ArrayRef<int64_t> us = shapeOf(u);
  if (us[1] != 1 || t != 0) {
    auto idx = [&](int64_t x) -> OpFoldResult { return b.getIndexAttr(x); };
    SmallVector<int64_t> size{us[0], 1, us[2], us[3]};
    u = tensor::ExtractSliceOp::create(
        b, loc, RankedTensorType::get(size, tensorType(u).getElementType()), u,
        SmallVector<OpFoldResult>{idx(0), idx(t), idx(0), idx(0)},
        SmallVector<OpFoldResult>{idx(size[0]), idx(1), idx(size[2]),
                                  idx(size[3])},
        SmallVector<OpFoldResult>(4, idx(1)));
  }
  return reshapeTo(b, loc, u, out);
}

/// The log-space gate g behind `dec` = views of exp(g): the same views are
/// rebuilt on g (exp commutes with them). Null when no exp is found.
Value logDecay(OpBuilder &b, Value dec, SmallVectorImpl<Operation *> &clones) {
  SmallVector<Operation *> views;
  Value v = dec;
  while (isView(v.getDefiningOp())) {
    views.push_back(v.getDefiningOp());
    v = v.getDefiningOp()->getOperand(0);
  }
  auto exp = v.getDefiningOp<ExpOp>();
  if (!exp)
    return {};
  IRMapping map;
  map.map(exp.getResult(), exp.getInput());
  Value g = exp.getInput();
  for (Operation *op : llvm::reverse(views)) {
    // An identical view of g built for an earlier token is reused, so all
    // tokens' gates slice one tensor (what merging the steps checks).
    Operation *same = nullptr;
    for (Operation *u : g.getUsers())
      if (u->getName() == op->getName() &&
          u->getAttrDictionary() == op->getAttrDictionary() &&
          u->getResultTypes() == op->getResultTypes() &&
          u->getNumOperands() == 1 && u->getBlock() == b.getInsertionBlock() &&
          u->isBeforeInBlock(&*b.getInsertionPoint()))
        same = u;
    Operation *c = same ? same : b.clone(*op, map);
    if (!same)
      clones.push_back(c);
    map.map(op->getResult(0), c->getResult(0));
    g = c->getResult(0);
  }
  return g;
}

struct StepMatch {
  Value state, q, k, v, dec, beta;
  MatMulOp readout;
  Operation *output = nullptr; // readout, or the scale multiply after it
  double scale = 1.0;
  SmallVector<Operation *> chain;
};

/// Why `next` (an add of the decayed state and an outer product) is not a
/// gated-delta step, or "" with `m` filled in.
std::string match(AddOp next, MatMulOp outer, StepMatch &m) {
  ArrayRef<int64_t> st = shapeOf(next.getResult());
  if (st.size() != 4)
    return "the state is not 4-D [B, H, Dk, Dv]";
  Value decayed = otherOperand(next, outer.getResult());
  auto kt = outer.getLhs().getDefiningOp<TransposeOp>();
  Value k = kt.getInput();
  Value delta = outer.getRhs();
  if (decayed.getType() != next.getType() || outer.getType() != next.getType())
    return "the state update broadcasts";
  auto dmul = decayed.getDefiningOp<MulOp>();
  if (!dmul)
    return "the state is not decayed: it comes from " + producerName(decayed);
  Value s0, dec;
  for (auto [a, c] : {std::pair(dmul.getLhs(), dmul.getRhs()),
                      std::pair(dmul.getRhs(), dmul.getLhs())})
    if (a.getType() == next.getType() && isPerHead(c, st))
      s0 = a, dec = c;
  if (!s0)
    return "the state decay is not a per-head factor [B, H, 1, 1]";

  // delta = (v - k S) * beta
  auto bmul = delta.getDefiningOp<MulOp>();
  if (!bmul)
    return "the update is not beta * (v - k S): it comes from " +
           producerName(delta);
  Value diff, beta;
  for (auto [a, c] : {std::pair(bmul.getLhs(), bmul.getRhs()),
                      std::pair(bmul.getRhs(), bmul.getLhs())})
    if (a.getDefiningOp<SubOp>() && isPerHead(c, st))
      diff = a, beta = c;
  if (!diff)
    return "the update is not a per-head beta [B, H, 1, 1] times v - k S";
  auto sub = diff.getDefiningOp<SubOp>();
  auto mem = sub.getRhs().getDefiningOp<MatMulOp>();
  if (!mem || mem.getLhs() != k || mem.getRhs() != decayed)
    return "the delta rule reads k S from another key or state than the "
           "update writes";
  Value v = sub.getLhs();
  ArrayRef<int64_t> ks = shapeOf(k), vs = shapeOf(v);
  if (ks.size() != 4 || ks[2] != 1 || vs.size() != 4 || vs[2] != 1 ||
      diff.getType() != v.getType())
    return "k and v are not one token [B, H, 1, D]";

  // o = q S (times a constant scale).
  for (Operation *u : next->getUsers()) {
    auto mm = dyn_cast<MatMulOp>(u);
    if (!mm || mm.getRhs() != next.getResult())
      continue;
    if (m.readout)
      return "the new state is read out by more than one matmul";
    m.readout = mm;
  }
  if (!m.readout)
    return "the new state is not read out by q S";
  Value q = m.readout.getLhs();
  if (q.getType() != k.getType())
    return "the query " + str(shapeOf(q)) + " is not shaped like the key " +
           str(ks);
  Type elt = tensorType(q).getElementType();
  for (Value x : {v, dec, beta, s0})
    if (tensorType(x).getElementType() != elt)
      return "element types differ between q, v, the gates and the state";
  m.output = m.readout;
  if (m.readout->hasOneUse())
    if (auto smul = dyn_cast<MulOp>(*m.readout->getUsers().begin())) {
      Value c = otherOperand(smul, m.readout.getResult());
      std::optional<double> f = splatFloat(c);
      if (f && smul.getType() == m.readout.getType()) {
        m.scale = *f;
        m.output = smul;
        m.chain.push_back(m.readout);
      }
    }
  m.state = s0, m.q = q, m.k = k, m.v = v, m.dec = dec, m.beta = beta;
  m.chain.append({mem, sub, bmul, outer, kt, dmul});
  return "";
}

//===----------------------------------------------------------------------===//
// Chains of one-token steps (an unrolled prefill) -> one T-token op
//===----------------------------------------------------------------------===//


/// `x` [B, 1, W] as reshapes of token t of a token-major [B, T, H, X]
/// tensor: extract_slice at [0, t, 0, 0] of size [B, 1, H, X].
struct TokenSlice {
  Value src;
  int64_t t = 0;
};
std::optional<TokenSlice> tokenSlice(Value x,
                                     SmallVectorImpl<Operation *> &ops) {
  Value v = x;
  while (Value in = reshapeSource(v)) {
    ops.push_back(v.getDefiningOp());
    v = in;
  }
  auto sl = v.getDefiningOp<tensor::ExtractSliceOp>();
  if (!sl || sl.getType().getRank() != 4)
    return std::nullopt;
  ArrayRef<int64_t> src = shapeOf(sl.getSource());
  ArrayRef<int64_t> off = sl.getStaticOffsets(), sz = sl.getStaticSizes();
  if (src.size() != 4 || ShapedType::isDynamic(off[1]) || off[0] != 0 ||
      off[2] != 0 || off[3] != 0 || sz[0] != src[0] || sz[1] != 1 ||
      sz[2] != src[2] || sz[3] != src[3] ||
      llvm::any_of(sl.getStaticStrides(), [](int64_t s) { return s != 1; }))
    return std::nullopt;
  ops.push_back(sl);
  return TokenSlice{sl.getSource(), off[1]};
}

/// Why the chain of one-token steps `chain` (each reading the previous
/// one's state) does not merge into one T-token op, or "" once merged.
std::string mergeChain(MutableArrayRef<LinearAttentionOp> chain,
                       RewriterBase &rewriter) {
  int64_t T = chain.size();
  LinearAttentionOp first = chain.front();
  for (LinearAttentionOp op : chain)
    if (op.getUpdateRule() != UpdateRule::gated_delta || !op.getDecay() ||
        !op.getBeta() || op.getScale() != first.getScale() ||
        op.getQNumHeads() != first.getQNumHeads() ||
        op.getKvNumHeads() != first.getKvNumHeads() ||
        shapeOf(op.getQuery())[1] != 1)
      return "the steps differ in rule, heads, scale or token count";
  // Every input of step t is token t of one token-major tensor.
  SmallVector<Value> merged;
  SmallVector<Operation *> dead;
  const char *roles[] = {"query", "key", "value", "decay", "beta"};
  for (int r = 0; r < 5; ++r) {
    Value src;
    for (auto [t, op] : llvm::enumerate(chain)) {
      Value in[] = {op.getQuery(), op.getKey(), op.getValue(), op.getDecay(),
                    op.getBeta()};
      std::optional<TokenSlice> ts = tokenSlice(in[r], dead);
      if (!ts || ts->t != (int64_t)t || (src && ts->src != src) ||
          shapeOf(ts->src)[1] != T)
        return std::string("the ") + roles[r] + " of step " +
               std::to_string(t) + " is not token " + std::to_string(t) +
               " of one [B, " + std::to_string(T) + ", H, D] tensor";
      src = ts->src;
    }
    merged.push_back(src);
  }
  // The outputs: [B, H, 1, Dv] views concatenated along the tokens, maybe
  // scaled and transposed back to token-major (the export's readout).
  ArrayRef<int64_t> vs = shapeOf(merged[2]);
  tensor::ConcatOp cat;
  for (auto [t, op] : llvm::enumerate(chain)) {
    Value y = op.getResult();
    while (y.hasOneUse() &&
           reshapeSource(*y.getUsers().begin()->result_begin()) == y) {
      dead.push_back(*y.getUsers().begin());
      y = y.getUsers().begin()->getResult(0);
    }
    auto c = y.hasOneUse() ? dyn_cast<tensor::ConcatOp>(*y.getUsers().begin())
                           : tensor::ConcatOp();
    if (!c || (cat && c != cat) || c.getDim() != 2 ||
        (int64_t)c.getInputs().size() != T || c.getInputs()[t] != y ||
        shapeOf(y) != ArrayRef<int64_t>{vs[0], vs[2], 1, vs[3]}) {
      cat = {};
      break;
    }
    cat = c;
  }
  double scale = first.getScale().convertToDouble();
  Operation *tokenMajor = nullptr;
  if (cat && cat->hasOneUse() && scale == 1.0)
    if (auto mul = dyn_cast<MulOp>(*cat->getUsers().begin());
        mul && mul->hasOneUse() && mul.getType() == cat.getType())
      if (auto tr = dyn_cast<TransposeOp>(*mul->getUsers().begin());
          tr && tr.getPerm() == ArrayRef<int64_t>{0, 2, 1, 3})
        if (std::optional<double> c =
                splatFloat(mul.getLhs() == cat.getResult() ? mul.getRhs()
                                                           : mul.getLhs())) {
          scale = *c;
          tokenMajor = tr;
          dead.append({cat, mul});
        }

  rewriter.setInsertionPoint(first);
  Location loc = first.getLoc();
  SmallVector<Value> packedIn;
  for (Value src : merged) {
    ArrayRef<int64_t> ss = shapeOf(src);
    packedIn.push_back(
        reshapeTo(rewriter, loc, src, {ss[0], T, ss[2] * ss[3]}));
  }
  auto vt = tensorType(packedIn[2]);
  auto op = LinearAttentionOp::create(
      rewriter, loc, vt, first.getPastState().getType(), packedIn[0],
      packedIn[1], packedIn[2], first.getPastState(), packedIn[3], packedIn[4],
      first.getQNumHeadsAttr(), first.getKvNumHeadsAttr(),
      rewriter.getF32FloatAttr(scale), first.getUpdateRuleAttr());
  SmallVector<int64_t> tm{vs[0], T, vs[2], vs[3]};
  if (tokenMajor) {
    rewriter.replaceOp(tokenMajor,
                       reshapeTo(rewriter, loc, op.getResult(), tm));
  } else if (cat) {
    Value r = reshapeTo(rewriter, loc, op.getResult(), tm);
    rewriter.replaceOp(
        cat, TransposeOp::create(rewriter, loc, cat.getType(), r,
                                 rewriter.getDenseI64ArrayAttr({0, 2, 1, 3}))
                 .getResult());
  } else {
    auto idx = [&](int64_t x) -> OpFoldResult {
      return rewriter.getIndexAttr(x);
    };
    int64_t w = vt.getShape()[2];
    for (auto [t, step] : llvm::enumerate(chain))
      rewriter.replaceAllUsesWith(
          step.getResult(),
          tensor::ExtractSliceOp::create(
              rewriter, loc, step.getResult().getType(), op.getResult(),
              SmallVector<OpFoldResult>{idx(0), idx(t), idx(0)},
              SmallVector<OpFoldResult>{idx(vt.getShape()[0]), idx(1), idx(w)},
              SmallVector<OpFoldResult>(3, idx(1)))
              .getResult());
  }
  rewriter.replaceAllUsesWith(chain.back().getPresentState(),
                              op.getPresentState());
  for (LinearAttentionOp step : chain)
    dead.push_back(step);
  eraseDeadOps(rewriter, dead);
  return "";
}

struct RaiseLinearAttentionPass
    : sinter::impl::RaiseLinearAttentionPassBase<RaiseLinearAttentionPass> {
  using Base::Base;
  void runOnOperation() override {
    // Candidates: an add of the state and a k (x) delta outer product.
    SmallVector<std::pair<AddOp, MatMulOp>> candidates;
    getOperation()->walk([&](AddOp add) {
      for (Value x : {add.getLhs(), add.getRhs()})
        if (auto mm = x.getDefiningOp<MatMulOp>()) {
          auto t = mm.getLhs().getDefiningOp<TransposeOp>();
          ArrayRef<int64_t> ls = shapeOf(mm.getLhs());
          if (t && t.getPerm() == ArrayRef<int64_t>{0, 1, 3, 2} &&
              ls.size() == 4 && ls[3] == 1) {
            candidates.push_back({add, mm});
            return;
          }
        }
    });
    IRRewriter rewriter(&getContext());
    for (auto [next, outer] : candidates) {
      StepMatch m;
      std::string why = match(next, outer, m);
      if (!why.empty()) {
        if (remarks)
          remarkRefused(next, kPass, why);
        continue;
      }
      // The new state may feed the next token before the readout: the op
      // goes right after the state update when q is available there.
      DominanceInfo dom(getOperation());
      Operation *ip = next;
      if (!dom.properlyDominates(m.q, next)) {
        ip = m.readout;
        bool early = llvm::any_of(next->getUsers(), [&](Operation *u) {
          return u != m.readout &&
                 !dom.properlyDominates(m.readout.getOperation(), u);
        });
        if (early) {
          if (remarks)
            remarkRefused(next, kPass,
                          "the query is computed after the new state is used");
          continue;
        }
        rewriter.setInsertionPoint(ip);
      } else {
        rewriter.setInsertionPointAfter(ip);
      }
      Location loc = next.getLoc();
      SmallVector<Operation *> clones;
      Value g = logDecay(rewriter, m.dec, clones);
      if (!g) {
        if (remarks)
          remarkRefused(next, kPass,
                        "the decay is not exp of a log-space gate (" +
                            producerName(m.dec) + ")");
        continue;
      }
      ArrayRef<int64_t> st = shapeOf(m.state);
      int64_t heads = st[1];
      Value q = packed(rewriter, loc, m.q), k = packed(rewriter, loc, m.k);
      Value v = packed(rewriter, loc, m.v);
      Value gp = packed(rewriter, loc, g);
      Value bp = packed(rewriter, loc, m.beta);
      eraseDeadOps(rewriter, clones);
      auto vt = tensorType(v);
      auto op = LinearAttentionOp::create(
          rewriter, loc, vt, m.state.getType(), q, k, v, m.state, gp, bp,
          rewriter.getI64IntegerAttr(heads), rewriter.getI64IntegerAttr(heads),
          rewriter.getF32FloatAttr(m.scale),
          UpdateRuleAttr::get(&getContext(), UpdateRule::gated_delta));
      // The export transposes o back to token-major [B, 1, H, Dv]; for one
      // token that is the op's packed output reshaped, no transpose.
      Value out = m.output->getResult(0);
      if (out.hasOneUse())
        if (auto tr = dyn_cast<TransposeOp>(*out.getUsers().begin());
            tr && tr.getPerm() == ArrayRef<int64_t>{0, 2, 1, 3}) {
          m.chain.push_back(m.output);
          m.output = tr;
        }
      Value o = reshapeTo(rewriter, loc, op.getResult(),
                          shapeOf(m.output->getResult(0)));
      if (remarks)
        remarkFused(op, kPass,
                    "gated-delta step (" + std::to_string(heads) +
                        " heads, state " + str(st) + ", scale " + num(m.scale) +
                        ") from " + std::to_string(m.chain.size() + 2) +
                        " ops");
      rewriter.replaceOp(m.output, o);
      rewriter.replaceOp(next, op.getPresentState());
      // The head-major views (transposes, slices) and exp(g) die if the
      // step was their only reader.
      for (Value x : {m.q, m.k, m.v, m.dec, m.beta})
        for (Operation *d = x.getDefiningOp();
             d && (isView(d) || isa<ExpOp>(d));
             d = d->getOperand(0).getDefiningOp())
          m.chain.push_back(d);
      eraseDeadOps(rewriter, m.chain);
    }
    mergeSteps(rewriter);
  }

  /// Chains of one-token steps, each reading the previous one's state and
  /// nothing else reading it, become one T-token op.
  void mergeSteps(RewriterBase &rewriter) {
    SmallVector<LinearAttentionOp> ops;
    getOperation()->walk([&](LinearAttentionOp op) { ops.push_back(op); });
    auto nextOf = [](LinearAttentionOp op) -> LinearAttentionOp {
      Value s = op.getPresentState();
      if (!s.hasOneUse())
        return {};
      auto n = dyn_cast<LinearAttentionOp>(*s.getUsers().begin());
      return n && n.getPastState() == s ? n : LinearAttentionOp();
    };
    llvm::DenseSet<Operation *> inChain;
    for (LinearAttentionOp op : ops)
      if (LinearAttentionOp n = nextOf(op))
        inChain.insert(n);
    for (LinearAttentionOp op : ops) {
      if (inChain.contains(op))
        continue; // not the first step of its chain
      SmallVector<LinearAttentionOp> chain{op};
      while (LinearAttentionOp n = nextOf(chain.back()))
        chain.push_back(n);
      if (chain.size() < 2)
        continue;
      Operation *anchor = chain.front();
      Location loc = anchor->getLoc();
      std::string why = mergeChain(chain, rewriter);
      if (!remarks)
        continue;
      if (why.empty())
        emitRemark(loc) << kPass << ": fused: " << chain.size()
                        << " one-token steps merged into one " << chain.size()
                        << "-token op";
      else
        remarkRefused(anchor, kPass,
                      std::to_string(chain.size()) +
                          " chained one-token steps stay separate: " + why);
    }
  }
};
} // namespace
