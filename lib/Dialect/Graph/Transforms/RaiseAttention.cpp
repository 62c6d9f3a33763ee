//===- RaiseAttention.cpp - MatMul/Softmax/MatMul -> sinter.attention -----===//
//
// Exports without the Attention operator write scaled dot-product attention
// as MatMul(Q, Transpose(K)) * scale, a mask through Where or Add, Softmax,
// MatMul with V, and GQA's repeat_kv as Unsqueeze + Expand + Reshape of K
// and V (see the pass description in Passes.td). Raised to sinter.attention
// it is one fused kernel per layer and reads the KV heads without the
// repeated copies, as the opset-23 export does.
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


/// `v` [B, KV*rep, L, D] built by repeat_kv from [B, KV, L, D]: reshape to
/// [B, KV, 1, L, D], expand to [B, KV, rep, L, D], reshape back. Head h of
/// the result is KV head h / rep, which is what sinter.attention reads.
/// Returns the unrepeated source, or `v` itself when it is not repeated.
/// `why` says why a repeat of another layout is not taken.
Value unrepeat(Value v, SmallVectorImpl<Operation *> &ops, std::string &why) {
  ArrayRef<int64_t> s = shapeOf(v);
  Value r5 = reshapeSource(v);
  if (!r5 || shapeOf(r5).size() != 5)
    return v;
  ArrayRef<int64_t> e = shapeOf(r5);
  auto expand = r5.getDefiningOp<ExpandOp>();
  if (!expand || e[0] != s[0] || e[1] * e[2] != s[1] || e[3] != s[2] ||
      e[4] != s[3]) {
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
  ops.append({v.getDefiningOp(), expand, one.getDefiningOp()});
  return src;
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
  double scale = 1.0;
  std::string maskKind = "no mask";
  SmallVector<Operation *> chain;
};

/// Why `pv` (a matmul of a softmax) is not attention, or "" with `m` filled.
std::string match(MatMulOp pv, SoftmaxOp probs, AttentionMatch &m) {
  ArrayRef<int64_t> ps = shapeOf(probs.getResult());
  if (ps.size() != 4)
    return "the softmax is " + std::to_string(ps.size()) +
           "-D; attention needs [B, heads, S, L] scores";
  if ((int64_t)probs.getAxis() != 3)
    return "the softmax is over axis " + std::to_string(probs.getAxis()) +
           ", not the keys (axis 3)";
  if (!probs->hasOneUse())
    return "the attention probabilities have other users";
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
  auto kt = qk.getRhs().getDefiningOp<TransposeOp>();
  if (!kt || kt.getPerm() != ArrayRef<int64_t>{0, 1, 3, 2})
    return "the keys of q @ k^T are " + producerName(qk.getRhs()) +
           ", not a transpose of [B, heads, L, D]";
  m.chain.append({qk, kt});
  m.q = qk.getLhs();
  Value kr = kt.getInput(), vr = pv.getRhs();
  ArrayRef<int64_t> qs = shapeOf(m.q), ks = shapeOf(kr), vs = shapeOf(vr);
  if (qs.size() != 4 || ks.size() != 4 || vs.size() != 4)
    return "q, k and v are not all 4-D [B, heads, S, D]";
  if (ks[0] != qs[0] || ks[1] != qs[1] || vs[0] != qs[0] || vs[1] != qs[1] ||
      vs[2] != ks[2] || ks[3] != qs[3])
    return "q " + str(qs) + ", k " + str(ks) + " and v " + str(vs) +
           " disagree (broadcast batch or heads)";

  std::string why;
  SmallVector<Operation *> kOps, vOps;
  Value k = unrepeat(kr, kOps, why);
  if (!k)
    return "keys: " + why;
  Value v = unrepeat(vr, vOps, why);
  if (!v)
    return "values: " + why;
  if (shapeOf(k)[1] != shapeOf(v)[1]) { // one repeated, one not
    k = kr, v = vr;
  } else {
    m.chain.append(kOps.begin(), kOps.end());
    m.chain.append(vOps.begin(), vOps.end());
  }
  m.k = k, m.v = v;
  if (m.mask) {
    shape::Shape full{qs[0], qs[1], qs[2], ks[2]};
    FailureOr<shape::Shape> b = shape::broadcast({shapeOf(m.mask), full}, why);
    if (failed(b) || ArrayRef<int64_t>(*b) != ArrayRef<int64_t>(full))
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
      if (op.getLhs().getDefiningOp<SoftmaxOp>())
        candidates.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (MatMulOp pv : candidates) {
      AttentionMatch m;
      std::string why = match(pv, pv.getLhs().getDefiningOp<SoftmaxOp>(), m);
      if (!why.empty()) {
        if (remarks)
          remarkRefused(pv, kPass, why);
        continue;
      }
      rewriter.setInsertionPoint(pv);
      auto att = AttentionOp::create(
          rewriter, pv.getLoc(), pv.getType(), m.k.getType(), m.v.getType(),
          m.q, m.k, m.v, m.mask, Value(), Value(), UnitAttr(),
          rewriter.getF32FloatAttr(m.scale), rewriter.getF32FloatAttr(0.0f));
      ArrayRef<int64_t> qs = shapeOf(m.q), ks = shapeOf(m.k);
      if (remarks)
        remarkFused(att, kPass,
                    "attention (" + std::to_string(qs[1]) +
                        " query heads over " + std::to_string(ks[1]) +
                        " kv heads, " + std::to_string(qs[2]) + " queries, " +
                        std::to_string(ks[2]) + " keys, head dim " +
                        std::to_string(qs[3]) + ", " + m.maskKind + ", scale " +
                        num(m.scale) + ") from " +
                        std::to_string(m.chain.size() + 1) + " ops");
      rewriter.replaceOp(pv, att.getResult());
      eraseDeadOps(rewriter, m.chain);
    }
  }
};
} // namespace
