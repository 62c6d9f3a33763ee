//===- RaiseAttention.cpp - MatMul/Softmax/MatMul -> sinter.attention -----===//
//
// Exports without the Attention operator write scaled dot-product attention
// as MatMul(Q, Transpose(K)) * scale, a mask through Where or Add, Softmax,
// MatMul with V, and GQA's repeat_kv as Unsqueeze + Expand + Reshape of K
// and V (see the pass description in Passes.td). HF transformers' SDPA
// (torch.onnx dynamo, opset 18) scales q and k^T by sqrt(scale) each,
// transposes a 3-D [B * heads, L, D] view of the keys and guards the
// probabilities with where(isnan(p), 0, p); that spelling is raised too.
// Raised to sinter.attention it is one fused kernel per layer and reads the
// KV heads without the repeated copies, as the opset-23 export does.
//
//===----------------------------------------------------------------------===//

#include "RaisingUtils.h"
#include "sinter/Dialect/Graph/IR/ShapeInference.h"
#include "sinter/Dialect/Graph/Transforms/FusionRemarks.h"
#include "sinter/Dialect/Graph/Transforms/Passes.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>

namespace sinter {
#define GEN_PASS_DEF_RAISEATTENTIONPASS
#include "sinter/Dialect/Graph/Transforms/Passes.h.inc"
} // namespace sinter

using namespace mlir;
using namespace sinter;
using namespace sinter::raising;

static constexpr llvm::StringLiteral kPass = "sinter-raise-attention";

namespace {


/// `v` [..., L, D] whose leading dims flatten to B * H: a row-major
/// reshape that keeps the two trailing dims only renames the leading ones,
/// so the chain of them is looked through (HF's repeat_kv goes through a
/// 3-D [B * H, L, D] before the transpose). Returns the first value of the
/// chain that is 5-D, or null; `ops` gets the reshapes.
Value fiveDSource(Value v, SmallVectorImpl<Operation *> &ops) {
  ArrayRef<int64_t> s = shapeOf(v);
  for (Value cur = v; cur;) {
    if (shapeOf(cur).size() == 5)
      return cur;
    Value src = reshapeSource(cur);
    if (!src)
      return {};
    ArrayRef<int64_t> t = shapeOf(src);
    if (t.size() < 3 || t.take_back(2) != s.take_back(2))
      return {};
    ops.push_back(cur.getDefiningOp());
    cur = src;
  }
  return {};
}

/// `v` [B, KV*rep, L, D] (or a view of it with the leading dims merged)
/// built by repeat_kv from [B, KV, L, D]: reshape to [B, KV, 1, L, D],
/// expand to [B, KV, rep, L, D], reshape back. Head h of the result is KV
/// head h / rep, which is what sinter.attention reads. Returns the
/// unrepeated source, or null with `why` empty when `v` is not repeated
/// (the caller views it as [B, H, L, D]); `why` says why a repeat of
/// another layout is not taken.
Value unrepeat(Value v, int64_t b, int64_t h,
               SmallVectorImpl<Operation *> &ops, std::string &why) {
  SmallVector<Operation *> views;
  Value r5 = fiveDSource(v, views);
  if (!r5)
    return {};
  ArrayRef<int64_t> s = shapeOf(v);
  ArrayRef<int64_t> e = shapeOf(r5);
  auto expand = r5.getDefiningOp<ExpandOp>();
  if (!expand || e[0] != b || e[1] * e[2] != h || e[3] != s[s.size() - 2] ||
      e[4] != s.back()) {
    why = "the heads are repeated by " + producerName(r5) + " of shape " +
          str(e) + ", not repeat_kv's [B, kv, rep, L, D] expand";
    return {};
  }
  Value one = expand.getInput();
  ArrayRef<int64_t> o = shapeOf(one);
  Value src = reshapeSource(one);
  if (o.size() != 5 || o[0] != e[0] || o[1] != e[1] || o[2] != 1 ||
      o[3] != e[3] || o[4] != e[4] || !src ||
      shapeOf(src) != ArrayRef<int64_t>{e[0], e[1], e[3], e[4]}) {
    why = "the expand repeats " + str(o) +
          ", not a [B, kv, 1, L, D] view of the kv heads (h / rep order)";
    return {};
  }
  ops.append(views.begin(), views.end());
  ops.append({expand, one.getDefiningOp()});
  return src;
}

/// Multiplications of `v` by splat float constants that keep its type,
/// looked through: the factors go into `scale`, the muls into `ops`.
/// HF's SDPA scales q and k^T each by sqrt(scale) rather than the scores.
Value peelScales(Value v, double &scale, SmallVectorImpl<Operation *> &ops) {
  while (auto mul = v.getDefiningOp<MulOp>()) {
    bool peeled = false;
    for (auto [x, c] : {std::pair(mul.getLhs(), mul.getRhs()),
                        std::pair(mul.getRhs(), mul.getLhs())}) {
      std::optional<double> f = splatFloat(c);
      if (f && x.getType() == mul.getType()) {
        scale *= *f;
        ops.push_back(mul);
        v = x;
        peeled = true;
        break;
      }
    }
    if (!peeled)
      break;
  }
  return v;
}

/// The keys [..., L, D] under `kt` [B, H, D, L]: through splat scalings and
/// reshapes that keep the trailing two dims, one transpose that swaps them
/// (4-D [0, 1, 3, 2] or HF's 3-D [0, 2, 1] of [B * H, L, D]), and scalings
/// before it. Null with `why` set when the keys are not a transpose.
Value keysUnder(Value kt, double &scale, SmallVectorImpl<Operation *> &ops,
                std::string &why) {
  ArrayRef<int64_t> ks = shapeOf(kt);
  Value cur = kt;
  while (true) {
    cur = peelScales(cur, scale, ops);
    Value src = reshapeSource(cur);
    if (!src)
      break;
    ArrayRef<int64_t> t = shapeOf(src);
    if (t.size() < 3 || t.take_back(2) != ks.take_back(2))
      break;
    ops.push_back(cur.getDefiningOp());
    cur = src;
  }
  auto tr = cur.getDefiningOp<TransposeOp>();
  int64_t r = tr ? (int64_t)shapeOf(cur).size() : 0;
  SmallVector<int64_t> swap = llvm::to_vector(llvm::seq<int64_t>(0, r));
  if (r >= 2)
    std::swap(swap[r - 2], swap[r - 1]);
  if (!tr || r < 3 || tr.getPerm() != ArrayRef<int64_t>(swap)) {
    why = "the keys of q @ k^T are " + producerName(cur) +
          ", not a transpose of [B, heads, L, D] (or of [B * heads, L, D])";
    return {};
  }
  ops.push_back(tr);
  return peelScales(tr.getInput(), scale, ops);
}

/// -inf, or a fill so negative that exp(fill - max) is 0 for any real score
/// (the lowest finite value, as torch's masks use, or below -1e30).
bool isMaskFill(Value v) {
  std::optional<double> f = splatFloat(v);
  if (!f)
    return false;
  if (std::isinf(*f))
    return *f < 0;
  auto ft = cast<FloatType>(tensorType(v).getElementType());
  double lowest =
      APFloat::getLargest(ft.getFloatSemantics(), true).convertToDouble();
  return *f <= -1e30 || *f == lowest;
}

struct AttentionMatch {
  Value q, k, v, mask;
  /// The [B, heads, L, D] shapes the op reads k and v as (a 3-D key of
  /// HF's spelling is viewed as 4-D when it is not repeated).
  SmallVector<int64_t> kShape, vShape;
  double scale = 1.0;
  std::string maskKind = "no mask";
  bool nanGuard = false;
  SmallVector<Operation *> chain;
};

/// HF's SDPA guards the probabilities with where(isnan(p), 0, p): the
/// softmax of a fully masked row is NaN and the guard makes it zeros,
/// which is sinter.attention's own rule for such rows, so the guard is
/// part of the chain. Returns a where of an isnan over a softmax (match()
/// checks it is that guard), or null.
WhereOp nanGuardOf(Value p) {
  auto guard = p.getDefiningOp<WhereOp>();
  if (!guard || !guard.getCond().getDefiningOp<IsNanOp>() ||
      !guard.getRhs().getDefiningOp<SoftmaxOp>())
    return {};
  return guard;
}

/// Why `pv` (a matmul of a softmax, maybe NaN-guarded) is not attention, or
/// "" with `m` filled.
std::string match(MatMulOp pv, SoftmaxOp probs, WhereOp guard,
                  AttentionMatch &m) {
  ArrayRef<int64_t> ps = shapeOf(probs.getResult());
  if (ps.size() != 4)
    return "the softmax is " + std::to_string(ps.size()) +
           "-D; attention needs [B, heads, S, L] scores";
  if ((int64_t)probs.getAxis() != 3)
    return "the softmax is over axis " + std::to_string(probs.getAxis()) +
           ", not the keys (axis 3)";
  if (guard) {
    auto isnan = guard.getCond().getDefiningOp<IsNanOp>();
    std::optional<double> fill = splatFloat(guard.getLhs());
    if (isnan.getInput() != probs.getResult())
      return "the where over the probabilities tests another tensor for NaN";
    if (!fill || *fill != 0.0)
      return "the NaN guard fills with " + producerName(guard.getLhs()) +
             " that is not 0 (sinter.attention gives a fully masked row "
             "zeros)";
    if (guard.getType() != probs.getType())
      return "the NaN guard broadcasts the probabilities";
    for (Operation *user : probs->getUsers())
      if (user != isnan.getOperation() && user != guard.getOperation())
        return "the attention probabilities have other users than the NaN "
               "guard";
    if (!guard->hasOneUse() || !isnan->hasOneUse())
      return "the NaN guard's results have other users";
    m.chain.append({guard, isnan});
    m.nanGuard = true;
  } else if (!probs->hasOneUse()) {
    return "the attention probabilities have other users";
  }
  m.chain.push_back(probs);
  Value s = probs.getInput();

  // Mask: where(mask, s, -inf) or s + additive mask.
  if (auto where = s.getDefiningOp<WhereOp>()) {
    if (!isMaskFill(where.getRhs()))
      return "masked scores are filled with " + producerName(where.getRhs()) +
             " that is not -inf (or the lowest float)";
    if (where.getLhs().getType() != where.getType())
      return "the mask's where broadcasts the scores";
    m.mask = where.getCond();
    m.maskKind = "bool mask";
    m.chain.push_back(where);
    s = where.getLhs();
  } else if (auto add = s.getDefiningOp<AddOp>()) {
    // The scores are the operand that leads to q @ k^T.
    auto isScores = [](Value x) {
      Operation *d = x.getDefiningOp();
      return isa_and_nonnull<MulOp, DivOp, MatMulOp>(d);
    };
    Value sc = isScores(add.getLhs()) ? add.getLhs() : add.getRhs();
    Value mk = sc == add.getLhs() ? add.getRhs() : add.getLhs();
    if (sc.getType() != add.getType())
      return "the additive mask broadcasts the scores";
    m.mask = mk;
    m.maskKind = "additive mask";
    m.chain.push_back(add);
    s = sc;
  }

  // Scale: s * c, c * s or s / c with a constant c.
  if (auto mul = s.getDefiningOp<MulOp>()) {
    for (auto [x, c] : {std::pair(mul.getLhs(), mul.getRhs()),
                        std::pair(mul.getRhs(), mul.getLhs())}) {
      std::optional<double> f = splatFloat(c);
      if (f && x.getType() == mul.getType() && x.getDefiningOp<MatMulOp>()) {
        m.scale = *f;
        m.chain.push_back(mul);
        s = x;
        break;
      }
    }
  } else if (auto div = s.getDefiningOp<DivOp>()) {
    std::optional<double> f = splatFloat(div.getRhs());
    if (f && *f != 0 && div.getLhs().getType() == div.getType()) {
      m.scale = 1.0 / *f;
      m.chain.push_back(div);
      s = div.getLhs();
    }
  }
  auto qk = s.getDefiningOp<MatMulOp>();
  if (!qk)
    return "the scores come from " + producerName(s) +
           ", not q @ k^T (times a constant)";
  m.chain.push_back(qk);
  // q * c and k^T * c (HF's sqrt(scale) on each side) scale the scores.
  m.q = peelScales(qk.getLhs(), m.scale, m.chain);
  std::string why;
  Value kr = keysUnder(qk.getRhs(), m.scale, m.chain, why);
  if (!kr)
    return why;
  Value vr = pv.getRhs();
  ArrayRef<int64_t> qs = shapeOf(m.q), kts = shapeOf(qk.getRhs()),
                    vs = shapeOf(vr);
  if (qs.size() != 4 || kts.size() != 4 || vs.size() != 4)
    return "q, k^T and v are not all 4-D [B, heads, S, D]";
  int64_t b = qs[0], h = qs[1], l = kts[3];
  if (kts[0] != b || kts[1] != h || vs[0] != b || vs[1] != h || vs[2] != l ||
      kts[2] != qs[3])
    return "q " + str(qs) + ", k^T " + str(kts) + " and v " + str(vs) +
           " disagree (broadcast batch or heads)";
  m.kShape = {b, h, l, qs[3]};
  m.vShape = llvm::to_vector(vs);

  SmallVector<Operation *> kOps, vOps;
  Value k = unrepeat(kr, b, h, kOps, why);
  if (!k && !why.empty())
    return "keys: " + why;
  Value v = unrepeat(vr, b, h, vOps, why);
  if (!v && !why.empty())
    return "values: " + why;
  if (k && v && shapeOf(k)[1] == shapeOf(v)[1]) {
    m.k = k, m.v = v;
    m.kShape = llvm::to_vector(shapeOf(k));
    m.vShape = llvm::to_vector(shapeOf(v));
    m.chain.append(kOps.begin(), kOps.end());
    m.chain.append(vOps.begin(), vOps.end());
  } else { // not repeated, or only one of them: read the repeated heads
    m.k = kr, m.v = vr;
  }
  if (m.mask) {
    shape::Shape full{qs[0], qs[1], qs[2], l};
    FailureOr<shape::Shape> bc = shape::broadcast({shapeOf(m.mask), full}, why);
    if (failed(bc) || ArrayRef<int64_t>(*bc) != ArrayRef<int64_t>(full))
      return "the mask " + str(shapeOf(m.mask)) + " does not broadcast to " +
             str(full);
    Type mElt = tensorType(m.mask).getElementType();
    if (!mElt.isInteger(1) && mElt != tensorType(m.q).getElementType())
      return "the additive mask's element type differs from the scores'";
  }
  return "";
}

struct RaiseAttentionPass
    : sinter::impl::RaiseAttentionPassBase<RaiseAttentionPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<MatMulOp> candidates;
    getOperation()->walk([&](MatMulOp op) {
      if (op.getLhs().getDefiningOp<SoftmaxOp>() || nanGuardOf(op.getLhs()))
        candidates.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (MatMulOp pv : candidates) {
      AttentionMatch m;
      WhereOp guard = nanGuardOf(pv.getLhs());
      Value p = guard ? guard.getRhs() : pv.getLhs();
      std::string why = match(pv, p.getDefiningOp<SoftmaxOp>(), guard, m);
      if (!why.empty()) {
        if (remarks)
          remarkRefused(pv, kPass, why);
        continue;
      }
      rewriter.setInsertionPoint(pv);
      Location loc = pv.getLoc();
      Value k = reshapeTo(rewriter, loc, m.k, m.kShape);
      Value v = reshapeTo(rewriter, loc, m.v, m.vShape);
      auto att = AttentionOp::create(
          rewriter, loc, pv.getType(), k.getType(), v.getType(), m.q, k, v,
          m.mask, Value(), Value(), UnitAttr(),
          rewriter.getF32FloatAttr(m.scale), rewriter.getF32FloatAttr(0.0f));
      ArrayRef<int64_t> qs = shapeOf(m.q), ks = shapeOf(k);
      if (remarks)
        remarkFused(att, kPass,
                    "attention (" + std::to_string(qs[1]) +
                        " query heads over " + std::to_string(ks[1]) +
                        " kv heads, " + std::to_string(qs[2]) + " queries, " +
                        std::to_string(ks[2]) + " keys, head dim " +
                        std::to_string(qs[3]) + ", " + m.maskKind +
                        (m.nanGuard ? ", NaN guard" : "") + ", scale " +
                        num(m.scale) + ") from " +
                        std::to_string(m.chain.size() + 1) + " ops");
      rewriter.replaceOp(pv, att.getResult());
      eraseDeadOps(rewriter, m.chain);
    }
  }
};
} // namespace
