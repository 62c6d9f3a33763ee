//===- LLMOps.cpp - ONNX LLM operators of opsets 23-27 --------------------===//
//
// Attention, RotaryEmbedding, RMSNormalization, TensorScatter,
// LinearAttention and CausalConvWithState map to one sinter op each. The
// sinter ops take the 4-D [B, heads, S, D] layout, so the 3-D packed
// [B, S, heads * D] forms are unpacked (reshape + transpose) around them.
// What the sinter attention op does not express itself (ONNX's causal offset
// when the new keys are not as many as the queries, sliding windows,
// nonpad_kv_seqlen, short masks) is folded into its mask operand.
//
//===----------------------------------------------------------------------===//

#include "ImporterInternals.h"

#include <cmath>

using namespace mlir;

namespace sinter::onnx_import {
namespace {

LogicalResult requireInputs(NodeContext &ctx,
                            std::initializer_list<const char *> names) {
  unsigned i = 0;
  for (const char *name : names) {
    if (!ctx.hasInput(i))
      return ctx.error() << "input #" << i << " ('" << name << "') is required";
    ++i;
  }
  return success();
}

LogicalResult sameElementType(NodeContext &ctx, unsigned a, unsigned b,
                              StringRef an, StringRef bn) {
  if (ctx.inputElementType(a) != ctx.inputElementType(b))
    return ctx.error() << an << " has element type " << ctx.inputElementType(a)
                       << " but " << bn << " has " << ctx.inputElementType(b)
                       << "; Sinter needs them equal";
  return success();
}

/// An integer input converted to i64 (ONNX index inputs are int64; narrower
/// integers are accepted).
FailureOr<Value> indexInput(NodeContext &ctx, unsigned i, StringRef name) {
  Type t = ctx.inputElementType(i);
  if (!t.isInteger() || t.isInteger(1))
    return ctx.error() << "input '" << name << "' has element type " << t
                       << "; it must be int64",
           failure();
  return ctx.cast(ctx.input(i), ctx.b.getI64Type());
}

Value transpose(NodeContext &ctx, Value v, ArrayRef<int64_t> perm) {
  auto t = cast<RankedTensorType>(v.getType());
  shape::Shape out;
  for (int64_t p : perm)
    out.push_back(t.getDimSize(p));
  return ctx.create<TransposeOp>(t.clone(out), v, perm).getResult();
}

/// [B, S, H * D] -> [B, H, S, D]; the caller checked that H divides the width.
Value unpackHeads(NodeContext &ctx, Value v, int64_t heads) {
  ArrayRef<int64_t> s = cast<RankedTensorType>(v.getType()).getShape();
  Value r = ctx.reshape(v, {s[0], s[1], heads, s[2] / heads});
  return transpose(ctx, r, {0, 2, 1, 3});
}

/// [B, H, S, D] -> [B, S, H * D].
Value packHeads(NodeContext &ctx, Value v) {
  Value t = transpose(ctx, v, {0, 2, 1, 3});
  ArrayRef<int64_t> s = cast<RankedTensorType>(t.getType()).getShape();
  return ctx.reshape(t, {s[0], s[1], s[2] * s[3]});
}

/// Elementwise op with the broadcast result shape; `elt` overrides the
/// result element type (i1 for comparisons).
template <typename OpTy>
FailureOr<Value> broadcastOp(NodeContext &ctx, Type elt, ValueRange operands) {
  SmallVector<ArrayRef<int64_t>> shapes;
  for (Value v : operands)
    shapes.push_back(cast<RankedTensorType>(v.getType()).getShape());
  std::string why;
  FailureOr<shape::Shape> out = shape::broadcast(shapes, why);
  if (failed(out))
    return ctx.error() << why, failure();
  return ctx.create<OpTy>(ctx.tensorType(*out, elt), operands).getResult();
}

//===----------------------------------------------------------------------===//
// Attention (23: the op; 24: nonpad_kv_seqlen; 25: sliding windows)
//===----------------------------------------------------------------------===//

/// The positions query i may attend that ONNX derives from is_causal, the
/// window attributes and nonpad_kv_seqlen, as an i1 mask broadcastable to
/// [B, 1, S_q, total]. With o the offset of the query block (the past length,
/// or nonpad_kv_seqlen[b] - S_q for an external cache) and r = j - i:
/// causal r <= o, left window o - L <= r, right window r <= o + R, and for an
/// external cache j < nonpad_kv_seqlen[b]. Only the index vectors are
/// constants, so long sequences do not produce S_q x total tables.
FailureOr<Value> positionMask(NodeContext &ctx, bool causal, int64_t left,
                              int64_t right, int64_t sq, int64_t total,
                              int64_t past, Value nonpad) {
  Type i1 = ctx.b.getI1Type(), i64 = ctx.b.getI64Type();
  auto iota = [&](int64_t n, ArrayRef<int64_t> shape) {
    SmallVector<int64_t> data;
    for (int64_t x = 0; x < n; ++x)
      data.push_back(x);
    return ctx.constant(DenseElementsAttr::get(
        RankedTensorType::get(shape, i64), ArrayRef<int64_t>(data)));
  };
  Value keys = iota(total, {1, total});
  Value rel, offset, n; // r = j - i; o; nonpad_kv_seqlen as [B, 1, 1, 1]
  if (causal || left >= 0 || right >= 0) {
    FailureOr<Value> r =
        broadcastOp<SubOp>(ctx, i64, {keys, iota(sq, {sq, 1})});
    if (failed(r))
      return failure();
    rel = *r;
  }
  if (nonpad) {
    int64_t batch = cast<RankedTensorType>(nonpad.getType()).getDimSize(0);
    n = ctx.reshape(nonpad, {batch, 1, 1, 1});
    if (rel) {
      FailureOr<Value> o =
          broadcastOp<SubOp>(ctx, i64, {n, ctx.scalar(i64, sq)});
      if (failed(o))
        return failure();
      offset = *o;
    }
  }
  auto shifted = [&](int64_t by) -> FailureOr<Value> {
    if (!nonpad)
      return ctx.scalar(i64, past + by);
    if (by == 0)
      return offset;
    return broadcastOp<AddOp>(ctx, i64, {offset, ctx.scalar(i64, by)});
  };
  // And-s the conditions; a null mask means none yet.
  FailureOr<Value> mask = Value();
  auto combine = [&](FailureOr<Value> part) {
    if (failed(mask) || failed(part))
      mask = failure();
    else if (!*mask)
      mask = part;
    else
      mask = broadcastOp<AndOp>(ctx, i1, {*mask, *part});
  };
  if (nonpad) // j < nonpad_kv_seqlen[b]
    combine(broadcastOp<LessOp>(ctx, i1, {keys, n}));
  if (causal) {
    FailureOr<Value> hi = shifted(0);
    combine(failed(hi) ? hi : broadcastOp<LessEqualOp>(ctx, i1, {rel, *hi}));
  }
  if (left >= 0) {
    FailureOr<Value> lo = shifted(-left);
    combine(failed(lo) ? lo : broadcastOp<LessEqualOp>(ctx, i1, {*lo, rel}));
  }
  if (right >= 0) {
    FailureOr<Value> hi = shifted(right);
    combine(failed(hi) ? hi : broadcastOp<LessEqualOp>(ctx, i1, {rel, *hi}));
  }
  return mask;
}

LogicalResult attention(NodeContext &ctx) {
  if (failed(requireInputs(ctx, {"Q", "K", "V"})))
    return failure();
  for (unsigned i = 0; i < 3; ++i)
    if (failed(checkTypeClass(ctx, i, TypeClass::Float)))
      return failure();
  if (failed(sameElementType(ctx, 0, 1, "Q", "K")) ||
      failed(sameElementType(ctx, 0, 2, "Q", "V")))
    return failure();
  Type elt = ctx.inputElementType(0);
  int64_t rank = ctx.inputType(0).getRank();
  if ((rank != 3 && rank != 4) || ctx.inputType(1).getRank() != rank ||
      ctx.inputType(2).getRank() != rank)
    return ctx.error() << "Q, K and V must all be 3-D [B, S, heads * D] or all "
                          "4-D [B, heads, S, D], got "
                       << shape::str(ctx.inputShape(0)) << ", "
                       << shape::str(ctx.inputShape(1)) << ", "
                       << shape::str(ctx.inputShape(2));

  // Features Sinter does not implement.
  if (ctx.wantsOutput(3))
    return ctx.error() << "output #3 (qk_matmul_output, mode "
                       << ctx.attrInt("qk_matmul_output_mode", 0)
                       << ") is not supported; Sinter's attention does not "
                          "expose its intermediate scores";
  if (ctx.numInputs() > 7)
    return ctx.error() << "expects at most 7 inputs, got " << ctx.numInputs();
  if (ctx.opset < 24 && ctx.numInputs() > 6)
    return ctx.error() << "input #6 (nonpad_kv_seqlen) exists from opset 24 on";
  if (ctx.hasAttr("softmax_precision")) {
    // Accepted: Sinter computes softmax in f32 for every input type, which is
    // at least the requested precision except for DOUBLE.
    int64_t p = ctx.attrInt("softmax_precision", 1);
    if (p != 1 && p != 10 && p != 11 && p != 16)
      return ctx.error() << "softmax_precision " << p
                         << " is not one of 1 (FLOAT), 10 (FLOAT16), "
                            "11 (DOUBLE), 16 (BFLOAT16)";
  }
  int64_t left = -1, right = -1;
  if (ctx.opset >= 25) {
    left = ctx.attrInt("left_window_size", -1);
    right = ctx.attrInt("right_window_size", -1);
    if (left < -1 || right < -1)
      return ctx.error() << "left_window_size " << left
                         << " and right_window_size " << right
                         << " must be -1 (unbounded) or non-negative";
  } else if (ctx.hasAttr("left_window_size") ||
             ctx.hasAttr("right_window_size")) {
    return ctx.error() << "left_window_size/right_window_size exist from "
                          "opset 25 on";
  }
  float softcap = ctx.attrFloat("softcap", 0.0f);
  if (softcap < 0 || std::isnan(softcap))
    return ctx.error() << "softcap " << softcap << " must not be negative";
  bool causal = ctx.attrInt("is_causal", 0) != 0;

  // Heads: 3-D inputs are unpacked with the head attributes; 4-D inputs carry
  // the heads, and the attributes (if any) must agree.
  Value q = ctx.input(0), k = ctx.input(1), v = ctx.input(2);
  bool hasQH = ctx.hasAttr("q_num_heads"), hasKVH = ctx.hasAttr("kv_num_heads");
  int64_t qHeads = ctx.attrInt("q_num_heads", 0);
  int64_t kvHeads = ctx.attrInt("kv_num_heads", 0);
  if (rank == 3) {
    if (!hasQH || !hasKVH)
      return ctx.error() << "3-D Q/K/V need the q_num_heads and kv_num_heads "
                            "attributes";
    ArrayRef<int64_t> qs = ctx.inputShape(0), ks = ctx.inputShape(1),
                      vs = ctx.inputShape(2);
    if (qHeads < 1 || kvHeads < 1 || qs[2] % qHeads || ks[2] % kvHeads ||
        vs[2] % kvHeads)
      return ctx.error() << "q_num_heads " << qHeads << " and kv_num_heads "
                         << kvHeads << " do not divide the hidden sizes of Q "
                         << shape::str(qs) << ", K " << shape::str(ks)
                         << " and V " << shape::str(vs);
    q = unpackHeads(ctx, q, qHeads);
    k = unpackHeads(ctx, k, kvHeads);
    v = unpackHeads(ctx, v, kvHeads);
  } else if ((hasQH && qHeads != ctx.inputShape(0)[1]) ||
             (hasKVH && kvHeads != ctx.inputShape(1)[1])) {
    return ctx.error() << "q_num_heads/kv_num_heads disagree with the heads of "
                          "the 4-D Q "
                       << shape::str(ctx.inputShape(0)) << " and K "
                       << shape::str(ctx.inputShape(1));
  }

  // KV cache: past_key/past_value (internal) or nonpad_kv_seqlen (external).
  Value pastKey, pastValue, nonpad;
  if (ctx.hasInput(4) != ctx.hasInput(5))
    return ctx.error() << "past_key and past_value must be given together";
  if (ctx.hasInput(4)) {
    if (failed(checkTypeClass(ctx, 4, TypeClass::Float)) ||
        failed(checkTypeClass(ctx, 5, TypeClass::Float)) ||
        failed(sameElementType(ctx, 0, 4, "Q", "past_key")) ||
        failed(sameElementType(ctx, 0, 5, "Q", "past_value")))
      return failure();
    pastKey = ctx.input(4);
    pastValue = ctx.input(5);
  }
  ArrayRef<int64_t> qs = cast<RankedTensorType>(q.getType()).getShape();
  ArrayRef<int64_t> ks = cast<RankedTensorType>(k.getType()).getShape();
  std::string why;
  auto optShape = [](Value x) -> std::optional<ArrayRef<int64_t>> {
    if (!x)
      return std::nullopt;
    return cast<RankedTensorType>(x.getType()).getShape();
  };
  ArrayRef<int64_t> vShape = cast<RankedTensorType>(v.getType()).getShape();
  FailureOr<SmallVector<shape::Shape>> outs =
      ctx.check(shape::attention(qs, ks, vShape, std::nullopt,
                                 optShape(pastKey), optShape(pastValue), why),
                why);
  if (failed(outs))
    return failure();
  int64_t sq = qs[2], total = (*outs)[1][2];
  int64_t past = pastKey ? total - ks[2] : 0;
  if (ctx.hasInput(6)) {
    if (pastKey)
      return ctx.error() << "nonpad_kv_seqlen (external KV cache) cannot be "
                            "combined with past_key/past_value";
    FailureOr<Value> n = indexInput(ctx, 6, "nonpad_kv_seqlen");
    if (failed(n))
      return failure();
    if (ctx.inputShape(6) != ArrayRef<int64_t>{qs[0]})
      return ctx.error() << "nonpad_kv_seqlen " << shape::str(ctx.inputShape(6))
                         << " must be [" << qs[0] << "] (one per batch)";
    nonpad = *n;
  }

  // The mask: bool (true = attend) or additive float; a last dimension
  // shorter than the total sequence is padded with false / -inf, exactly as
  // the ONNX reference does (even when it is 1).
  Value mask;
  if (ctx.hasInput(3)) {
    mask = ctx.input(3);
    Type mt = ctx.inputElementType(3);
    if (!mt.isInteger(1))
      mask = ctx.cast(mask, elt); // additive; integer masks add as numbers
    auto mtype = cast<RankedTensorType>(mask.getType());
    if (mtype.getRank() < 1 || mtype.getShape().back() > total)
      return ctx.error() << "attn_mask " << shape::str(mtype.getShape())
                         << " does not fit the attention scores [" << qs[0]
                         << "," << qs[1] << "," << sq << "," << total << "]";
    if (int64_t short_ = total - mtype.getShape().back()) {
      SmallVector<int64_t> pads(2 * mtype.getRank(), 0);
      pads.back() = short_;
      shape::Shape padded(mtype.getShape());
      padded.back() = total;
      Value fill =
          mt.isInteger(1) ? ctx.scalar(mt, 0) : ctx.scalar(elt, -INFINITY);
      mask = ctx.create<PadOp>(mtype.clone(padded), mask, fill, pads,
                               PadMode::constant)
                 .getResult();
    }
  }

  // The op's own causal flag means `j <= i + total - S_q`, ONNX's offset is
  // the past length: they agree when as many keys as queries are new.
  bool causalFlag = causal && !nonpad && left < 0 && right < 0 && ks[2] == sq;
  if ((causal && !causalFlag) || left >= 0 || right >= 0 || nonpad) {
    FailureOr<Value> allowed =
        positionMask(ctx, causal, left, right, sq, total, past, nonpad);
    if (failed(allowed))
      return failure();
    if (mask &&
        cast<RankedTensorType>(mask.getType()).getElementType().isInteger(1))
      allowed = broadcastOp<AndOp>(ctx, ctx.b.getI1Type(), {mask, *allowed});
    else if (mask)
      allowed = broadcastOp<WhereOp>(
          ctx, elt, {*allowed, mask, ctx.scalar(elt, -INFINITY)});
    if (failed(allowed))
      return failure();
    mask = *allowed;
  }
  if (mask) {
    outs =
        ctx.check(shape::attention(qs, ks, vShape, optShape(mask),
                                   optShape(pastKey), optShape(pastValue), why),
                  why);
    if (failed(outs))
      return failure();
  }

  double scale = ctx.hasAttr("scale") ? ctx.attrFloat("scale", 0.0f)
                                      : 1.0 / std::sqrt((double)qs[3]);
  auto op = ctx.create<AttentionOp>(
      ctx.tensorType((*outs)[0], elt), ctx.tensorType((*outs)[1], elt),
      ctx.tensorType((*outs)[2], elt), q, k, v, mask, pastKey, pastValue,
      causalFlag ? ctx.b.getUnitAttr() : UnitAttr(),
      ctx.b.getF32FloatAttr(scale), ctx.b.getF32FloatAttr(softcap));
  Value y = op.getResult();
  ctx.setOutput(0, rank == 3 ? packHeads(ctx, y) : y);
  ctx.setOutput(1, op.getPresentKey());
  ctx.setOutput(2, op.getPresentValue());
  return success();
}

//===----------------------------------------------------------------------===//
// RotaryEmbedding (23)
//===----------------------------------------------------------------------===//

LogicalResult rotaryEmbedding(NodeContext &ctx) {
  if (failed(requireInputs(ctx, {"X", "cos_cache", "sin_cache"})) ||
      failed(checkTypeClass(ctx, 0, TypeClass::Float)) ||
      failed(sameElementType(ctx, 0, 1, "X", "cos_cache")) ||
      failed(sameElementType(ctx, 0, 2, "X", "sin_cache")))
    return failure();
  Value x = ctx.input(0);
  ArrayRef<int64_t> xs = ctx.inputShape(0);
  if (xs.size() == 3) {
    int64_t heads = ctx.attrInt("num_heads", 0);
    if (heads < 1 || xs[2] % heads)
      return ctx.error() << "a 3-D input " << shape::str(xs)
                         << " needs a num_heads attribute that divides its "
                            "hidden size (num_heads = "
                         << heads << ")";
    x = unpackHeads(ctx, x, heads);
  } else if (xs.size() != 4) {
    return ctx.error() << "X must be 3-D [B, S, hidden] or 4-D "
                          "[B, heads, S, head_size], got "
                       << shape::str(xs);
  }
  ArrayRef<int64_t> x4 = cast<RankedTensorType>(x.getType()).getShape();
  int64_t rotaryDim = ctx.attrInt("rotary_embedding_dim", 0);
  if (rotaryDim == 0)
    rotaryDim = x4[3];
  Value pos;
  if (ctx.hasInput(3)) {
    FailureOr<Value> p = indexInput(ctx, 3, "position_ids");
    if (failed(p))
      return failure();
    pos = *p;
  }
  std::string why;
  std::optional<ArrayRef<int64_t>> posShape;
  if (pos)
    posShape = ctx.inputShape(3);
  if (failed(ctx.check(shape::rotaryEmbedding(x4, ctx.inputShape(1),
                                              ctx.inputShape(2), posShape,
                                              rotaryDim, why),
                       why)))
    return failure();
  Value r = ctx.create<RotaryEmbeddingOp>(
      x.getType(), x, ctx.input(1), ctx.input(2), pos,
      ctx.b.getI64IntegerAttr(rotaryDim),
      ctx.attrInt("interleaved", 0) ? ctx.b.getUnitAttr() : UnitAttr());
  ctx.setOutput(0, xs.size() == 3 ? packHeads(ctx, r) : r);
  return success();
}

//===----------------------------------------------------------------------===//
// RMSNormalization (23)
//===----------------------------------------------------------------------===//

LogicalResult rmsNormalization(NodeContext &ctx) {
  if (failed(requireInputs(ctx, {"X", "scale"})) ||
      failed(checkTypeClass(ctx, 0, TypeClass::Float)) ||
      failed(checkTypeClass(ctx, 1, TypeClass::Float)))
    return failure();
  ArrayRef<int64_t> xs = ctx.inputShape(0);
  FailureOr<int64_t> axis = ctx.axis(ctx.attrInt("axis", -1), xs.size());
  if (failed(axis))
    return failure();
  float eps = ctx.attrFloat("epsilon", 1e-5f);
  if (eps < 0 || std::isnan(eps))
    return ctx.error() << "epsilon " << eps << " must not be negative";
  // Sinter normalizes in f32; that meets every stash type but DOUBLE.
  int64_t stash = ctx.attrInt("stash_type", 1);
  if (stash != 1 && stash != 10 && stash != 16)
    return ctx.error() << "stash_type " << stash
                       << " is not supported; Sinter computes RMSNormalization "
                          "in f32 (stash_type 1)";

  // Y has the scale's type: normalize in X's type, then convert.
  Type xElt = ctx.inputElementType(0), yElt = ctx.inputElementType(1);
  Value scale = ctx.cast(ctx.input(1), xElt);
  ArrayRef<int64_t> normalized = xs.drop_front(*axis);
  ArrayRef<int64_t> ss = ctx.inputShape(1);
  // Leading 1s beyond the normalized rank (e.g. [1, 1, D]) are dropped.
  if (ss.size() > normalized.size() &&
      llvm::all_of(ss.drop_back(normalized.size()),
                   [](int64_t d) { return d == 1; })) {
    ss = ss.take_back(normalized.size());
    scale = ctx.reshape(scale, ss);
  }
  std::string why;
  FailureOr<shape::Shape> toNorm = shape::broadcast({ss, normalized}, why);
  Value y;
  if (succeeded(toNorm) && ArrayRef<int64_t>(*toNorm) == normalized) {
    y = ctx.create<RmsNormOp>(ctx.inputType(0), ctx.input(0), scale,
                              ctx.b.getI64IntegerAttr(*axis),
                              ctx.b.getF32FloatAttr(eps));
  } else {
    // A scale that varies over the leading dims broadcasts to X only.
    FailureOr<shape::Shape> toX = shape::broadcast({ss, xs}, why);
    if (failed(toX) || ArrayRef<int64_t>(*toX) != xs)
      return ctx.error() << "scale " << shape::str(ctx.inputShape(1))
                         << " does not broadcast to X " << shape::str(xs);
    Value norm = ctx.create<RmsNormOp>(
        ctx.inputType(0), ctx.input(0), ctx.scalar(xElt, 1.0),
        ctx.b.getI64IntegerAttr(*axis), ctx.b.getF32FloatAttr(eps));
    FailureOr<Value> mul = ctx.binary<MulOp>(norm, scale);
    if (failed(mul))
      return failure();
    y = *mul;
  }
  ctx.setOutput(0, ctx.cast(y, yElt));
  return success();
}

//===----------------------------------------------------------------------===//
// TensorScatter (24)
//===----------------------------------------------------------------------===//

LogicalResult tensorScatter(NodeContext &ctx) {
  if (failed(requireInputs(ctx, {"past_cache", "update"})) ||
      failed(sameElementType(ctx, 0, 1, "past_cache", "update")))
    return failure();
  ArrayRef<int64_t> cs = ctx.inputShape(0);
  FailureOr<int64_t> axis = ctx.axis(ctx.attrInt("axis", -2), cs.size());
  if (failed(axis))
    return failure();
  std::string mode = ctx.attrString("mode", "linear");
  CacheMode m;
  if (mode == "linear")
    m = CacheMode::linear;
  else if (mode == "circular")
    m = CacheMode::circular;
  else
    return ctx.error() << "mode '" << mode
                       << "' is not one of 'linear', 'circular'";
  Value writeIndices;
  std::optional<ArrayRef<int64_t>> wiShape;
  if (ctx.hasInput(2)) {
    FailureOr<Value> wi = indexInput(ctx, 2, "write_indices");
    if (failed(wi))
      return failure();
    writeIndices = *wi;
    wiShape = ctx.inputShape(2);
  }
  std::string why;
  if (failed(ctx.check(
          shape::tensorScatter(cs, ctx.inputShape(1), wiShape, *axis, why),
          why)))
    return failure();
  ctx.setOutput(0, ctx.create<TensorScatterOp>(
                       ctx.inputType(0), ctx.input(0), ctx.input(1),
                       writeIndices, ctx.b.getI64IntegerAttr(*axis),
                       CacheModeAttr::get(ctx.context(), m)));
  return success();
}

//===----------------------------------------------------------------------===//
// LinearAttention (27)
//===----------------------------------------------------------------------===//

LogicalResult linearAttention(NodeContext &ctx) {
  if (failed(requireInputs(ctx, {"query", "key", "value"})))
    return failure();
  for (unsigned i = 0; i < 3; ++i)
    if (failed(checkTypeClass(ctx, i, TypeClass::Float)))
      return failure();
  if (failed(sameElementType(ctx, 0, 1, "query", "key")) ||
      failed(sameElementType(ctx, 0, 2, "query", "value")))
    return failure();
  if (!ctx.hasAttr("q_num_heads") || !ctx.hasAttr("kv_num_heads"))
    return ctx.error() << "the q_num_heads and kv_num_heads attributes are "
                          "required";
  int64_t qHeads = ctx.attrInt("q_num_heads", 0);
  int64_t kvHeads = ctx.attrInt("kv_num_heads", 0);
  std::string rule = ctx.attrString("update_rule", "gated_delta");
  UpdateRule r;
  if (rule == "linear")
    r = UpdateRule::linear;
  else if (rule == "gated")
    r = UpdateRule::gated;
  else if (rule == "delta")
    r = UpdateRule::delta;
  else if (rule == "gated_delta")
    r = UpdateRule::gated_delta;
  else
    return ctx.error() << "update_rule '" << rule
                       << "' is not one of 'linear', 'gated', 'delta', "
                          "'gated_delta'";
  bool gated = r == UpdateRule::gated || r == UpdateRule::gated_delta;
  bool delta = r == UpdateRule::delta || r == UpdateRule::gated_delta;
  // The reference evaluator refuses unused gates rather than ignoring them.
  if (!gated && ctx.hasInput(4))
    return ctx.error() << "update_rule '" << rule << "' takes no decay input";
  if (!delta && ctx.hasInput(5))
    return ctx.error() << "update_rule '" << rule << "' takes no beta input";
  Type elt = ctx.inputElementType(0);
  if ((ctx.hasInput(3) && failed(checkTypeClass(ctx, 3, TypeClass::Float))) ||
      (ctx.hasInput(4) &&
       failed(sameElementType(ctx, 0, 4, "query", "decay"))) ||
      (ctx.hasInput(5) && failed(sameElementType(ctx, 0, 5, "query", "beta"))))
    return failure();

  auto optShape = [&](unsigned i) -> std::optional<ArrayRef<int64_t>> {
    if (!ctx.hasInput(i))
      return std::nullopt;
    return ctx.inputShape(i);
  };
  std::string why;
  FailureOr<SmallVector<shape::Shape>> outs = ctx.check(
      shape::linearAttention(ctx.inputShape(0), ctx.inputShape(1),
                             ctx.inputShape(2), optShape(3), optShape(4),
                             optShape(5), qHeads, kvHeads, gated, delta, why),
      why);
  if (failed(outs))
    return failure();
  // scale 0 means 1/sqrt(d_k), d_k from the query's packed width.
  double scale = ctx.attrFloat("scale", 0.0f);
  if (scale == 0.0)
    scale = 1.0 / std::sqrt((double)(ctx.inputShape(0)[2] / qHeads));
  Type stateElt = ctx.hasInput(3) ? ctx.inputElementType(3) : elt;
  auto op = ctx.create<LinearAttentionOp>(
      ctx.tensorType((*outs)[0], elt), ctx.tensorType((*outs)[1], stateElt),
      ctx.input(0), ctx.input(1), ctx.input(2), ctx.input(3), ctx.input(4),
      ctx.input(5), ctx.b.getI64IntegerAttr(qHeads),
      ctx.b.getI64IntegerAttr(kvHeads), ctx.b.getF32FloatAttr(scale),
      UpdateRuleAttr::get(ctx.context(), r));
  ctx.setOutput(0, op.getResult());
  ctx.setOutput(1, op.getPresentState());
  return success();
}

//===----------------------------------------------------------------------===//
// CausalConvWithState (27)
//===----------------------------------------------------------------------===//

LogicalResult causalConvWithState(NodeContext &ctx) {
  if (failed(requireInputs(ctx, {"input", "weight"})) ||
      failed(checkTypeClass(ctx, 0, TypeClass::Float)) ||
      failed(sameElementType(ctx, 0, 1, "input", "weight")) ||
      (ctx.hasInput(2) &&
       failed(sameElementType(ctx, 0, 2, "input", "bias"))) ||
      (ctx.hasInput(3) &&
       failed(sameElementType(ctx, 0, 3, "input", "past_state"))))
    return failure();
  std::string act = ctx.attrString("activation", "none");
  bool silu = act == "silu" || act == "swish";
  if (!silu && act != "none")
    return ctx.error() << "activation '" << act
                       << "' is not one of 'silu', 'swish', 'none'";
  auto optShape = [&](unsigned i) -> std::optional<ArrayRef<int64_t>> {
    if (!ctx.hasInput(i))
      return std::nullopt;
    return ctx.inputShape(i);
  };
  std::string why;
  FailureOr<SmallVector<shape::Shape>> outs =
      ctx.check(shape::causalConv(ctx.inputShape(0), ctx.inputShape(1),
                                  optShape(2), optShape(3), why),
                why);
  if (failed(outs))
    return failure();
  Type elt = ctx.inputElementType(0);
  auto op = ctx.create<CausalConvWithStateOp>(
      ctx.tensorType((*outs)[0], elt), ctx.tensorType((*outs)[1], elt),
      ctx.input(0), ctx.input(1), ctx.input(2), ctx.input(3),
      silu ? ctx.b.getUnitAttr() : UnitAttr());
  ctx.setOutput(0, op.getResult());
  ctx.setOutput(1, op.getPresentState());
  return success();
}

} // namespace

void registerLLMHandlers(HandlerRegistry &r) {
  // One handler reads every Attention version: 24 added nonpad_kv_seqlen,
  // 25 the sliding-window attributes.
  r.add("", "Attention", 23, attention);
  r.add("", "Attention", 24, attention);
  r.add("", "Attention", 25, attention);
  r.add("", "RotaryEmbedding", 23, rotaryEmbedding);
  r.add("", "RMSNormalization", 23, rmsNormalization);
  r.add("", "TensorScatter", 24, tensorScatter);
  r.add("", "LinearAttention", 27, linearAttention);
  r.add("", "CausalConvWithState", 27, causalConvWithState);
}

} // namespace sinter::onnx_import
