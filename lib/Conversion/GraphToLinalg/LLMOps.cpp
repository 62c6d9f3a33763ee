//===- LLMOps.cpp - attention, RoPE, linear attention, causal conv --------===//
//
// The compound LLM ops expanded into linalg.generic chains that compute in
// f32 (f64 stays f64 where the op allows it) and round once. Details follow
// onnx.reference (opsets 23-27), which is the semantics Sinter is checked
// against:
// - Attention: Q and K are each scaled by sqrt(scale); softcap applies
//   before the mask; the causal frontier is `j <= i + past_length`; a row
//   with no visible key gives zeros, not NaN.
// - LinearAttention: the recurrence runs token by token (scf.for carrying
//   an f32 state); gating decays the state before the delta read.
// - CausalConvWithState: the conv output is rounded to the input type
//   before the optional SiLU; present_state is the tail of the
//   state-prefixed input.
//
//===----------------------------------------------------------------------===//

#include "GenericBuilders.h"

#include "sinter/Conversion/GraphToLinalg/GraphToLinalg.h"
#include "sinter/Dialect/Graph/IR/GraphOps.h"

#include <cmath>

using namespace mlir;
using namespace sinter::gen;

namespace {

RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}
Type elementType(Value v) { return tensorType(v).getElementType(); }

/// Maps built from affine expressions over `n` loops.
struct MapBuilder {
  MLIRContext *ctx;
  unsigned n;
  AffineExpr d(unsigned i) const { return getAffineDimExpr(i, ctx); }
  AffineMap operator()(ArrayRef<AffineExpr> e) const {
    return AffineMap::get(n, 0, e, ctx);
  }
};

Value sliceAt(OpBuilder &b, Location loc, Value t, unsigned axis, Value at,
              RankedTensorType resultTy) {
  ArrayRef<int64_t> s = tensorType(t).getShape();
  SmallVector<OpFoldResult> offs(s.size(), b.getIndexAttr(0)), sizes,
      strides(s.size(), b.getIndexAttr(1));
  for (int64_t d : s)
    sizes.push_back(b.getIndexAttr(d));
  offs[axis] = at;
  sizes[axis] = b.getIndexAttr(1);
  return tensor::ExtractSliceOp::create(b, loc, resultTy, t, offs, sizes,
                                        strides);
}

Value exp(OpBuilder &b, Location loc, Value x) {
  return math::ExpOp::create(b, loc, x);
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

struct AttentionLowering : OpConversionPattern<sinter::AttentionOp> {
  using Base::Base;
  LogicalResult
  matchAndRewrite(sinter::AttentionOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value q = adaptor.getQuery(), k = adaptor.getKey(), v = adaptor.getValue();
    Value mask = adaptor.getMask();
    if (mask && !isa<FloatType>(elementType(mask)) &&
        !elementType(mask).isInteger(1))
      return rewriter.notifyMatchFailure(
          op, "attention mask must be bool (i1) or float");

    int64_t past = 0;
    if (Value pk = adaptor.getPastKey()) {
      past = tensorType(pk).getDimSize(2);
      k = tensor::ConcatOp::create(rewriter, loc, 2, ValueRange{pk, k});
      v = tensor::ConcatOp::create(rewriter, loc, 2,
                                   ValueRange{adaptor.getPastValue(), v});
    }
    ArrayRef<int64_t> qs = tensorType(q).getShape(),
                      ks = tensorType(k).getShape(),
                      vs = tensorType(v).getShape();
    int64_t B = qs[0], Hq = qs[1], Sq = qs[2], D = qs[3], T = ks[2], Dv = vs[3],
            group = Hq / ks[1];
    Type elt = elementType(q);
    Type ct = elt.isF64() ? elt : Type(rewriter.getF32Type());
    double scale = op.getScale().convertToDouble();
    if (scale == 0.0)
      scale = 1.0 / std::sqrt((double)D);
    double rootScale = std::sqrt(scale);
    float softcap = op.getSoftcap().convertToFloat();
    bool causal = op.getIsCausal();

    // scores[b,h,i,j] = sum_d (q * sqrt(scale)) (k * sqrt(scale)).
    MapBuilder m5{ctx, 5};
    SmallVector<int64_t> sShape{B, Hq, Sq, T};
    Value scores =
        generic1(rewriter, loc, ValueRange{q, k},
                 filledTensor(rewriter, loc, sShape, ct, 0),
                 {m5({m5.d(0), m5.d(1), m5.d(2), m5.d(4)}),
                  m5({m5.d(0), m5.d(1).floorDiv(group), m5.d(3), m5.d(4)}),
                  m5({m5.d(0), m5.d(1), m5.d(2), m5.d(3)})},
                 iterators(4, 1), [&](OpBuilder &b, Location l, ValueRange a) {
                   Value s = constant(b, l, ct, rootScale);
                   Value x = mul(b, l, convert(b, l, a[0], ct), s);
                   Value y = mul(b, l, convert(b, l, a[1], ct), s);
                   yield(b, l, add(b, l, a[2], mul(b, l, x, y)));
                 });

    // logits = softcap(scores) + mask bias + causal bias.
    MapBuilder m4{ctx, 4};
    AffineMap id4 = AffineMap::getMultiDimIdentityMap(4, ctx);
    SmallVector<Value> ins{scores};
    SmallVector<AffineMap> maps{id4};
    if (mask) {
      ins.push_back(mask);
      maps.push_back(broadcastMap(ctx, tensorType(mask).getShape(), sShape, 4));
    }
    maps.push_back(id4);
    Value logits = generic1(
        rewriter, loc, ins, emptyTensor(rewriter, loc, sShape, ct), maps,
        iterators(4), [&](OpBuilder &b, Location l, ValueRange a) {
          Value x = a[0];
          if (softcap > 0) {
            Value c = constant(b, l, ct, softcap);
            Value t = math::TanhOp::create(
                b, l, arith::DivFOp::create(b, l, x, c).getResult());
            x = mul(b, l, c, t);
          }
          Value bias;
          if (mask) {
            Value mv = a[1];
            bias = mv.getType().isInteger(1)
                       ? arith::SelectOp::create(
                             b, l, mv, constant(b, l, ct, 0), negInf(b, l, ct))
                             .getResult()
                       : convert(b, l, mv, ct);
          }
          if (causal) {
            Value i = linalg::IndexOp::create(b, l, 2);
            Value j = linalg::IndexOp::create(b, l, 3);
            Value limit = arith::AddIOp::create(b, l, i, cstIndex(b, l, past));
            Value visible = arith::CmpIOp::create(
                b, l, arith::CmpIPredicate::sle, j, limit);
            Value keep = bias ? bias : constant(b, l, ct, 0);
            bias =
                arith::SelectOp::create(b, l, visible, keep, negInf(b, l, ct));
          }
          yield(b, l, bias ? add(b, l, x, bias) : x);
        });

    // Softmax over j; rows whose every logit is -inf become zeros.
    SmallVector<int64_t> rShape{B, Hq, Sq};
    AffineMap rowMap = m4({m4.d(0), m4.d(1), m4.d(2)});
    Value rowMax = generic1(
        rewriter, loc, logits,
        mlir::linalg::FillOp::create(rewriter, loc, negInf(rewriter, loc, ct),
                                     emptyTensor(rewriter, loc, rShape, ct))
            .getResult(0),
        {id4, rowMap}, iterators(3, 1),
        [&](OpBuilder &b, Location l, ValueRange a) {
          yield(b, l, arith::MaximumFOp::create(b, l, a[0], a[1]).getResult());
        });
    // exp(x - max), with a fully masked row (max = -inf) giving 0.
    auto shiftedExp = [&](OpBuilder &b, Location l, Value x, Value mx) {
      Value masked = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, mx,
                                           negInf(b, l, ct));
      Value safe =
          arith::SelectOp::create(b, l, masked, constant(b, l, ct, 0), mx);
      Value e = exp(b, l, arith::SubFOp::create(b, l, x, safe));
      return arith::SelectOp::create(b, l, masked, constant(b, l, ct, 0), e)
          .getResult();
    };
    Value rowSum = generic1(
        rewriter, loc, ValueRange{logits, rowMax},
        filledTensor(rewriter, loc, rShape, ct, 0), {id4, rowMap, rowMap},
        iterators(3, 1), [&](OpBuilder &b, Location l, ValueRange a) {
          yield(b, l, add(b, l, a[2], shiftedExp(b, l, a[0], a[1])));
        });
    Value probs = generic1(
        rewriter, loc, ValueRange{logits, rowMax, rowSum},
        emptyTensor(rewriter, loc, sShape, ct), {id4, rowMap, rowMap, id4},
        iterators(4), [&](OpBuilder &b, Location l, ValueRange a) {
          Value zero = constant(b, l, ct, 0);
          Value isZero = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ,
                                               a[2], zero);
          Value den = arith::SelectOp::create(b, l, isZero,
                                              constant(b, l, ct, 1), a[2]);
          Value p =
              arith::DivFOp::create(b, l, shiftedExp(b, l, a[0], a[1]), den);
          // The reference rounds the probabilities to the input type
          // before the second matmul.
          if (ct != elt)
            p = convert(b, l, convert(b, l, p, elt), ct);
          yield(b, l, p);
        });

    // y[b,h,i,e] = sum_j p[b,h,i,j] v[b,h/group,j,e].
    SmallVector<int64_t> yShape{B, Hq, Sq, Dv};
    Value y =
        generic1(rewriter, loc, ValueRange{probs, v},
                 filledTensor(rewriter, loc, yShape, ct, 0),
                 {m5({m5.d(0), m5.d(1), m5.d(2), m5.d(4)}),
                  m5({m5.d(0), m5.d(1).floorDiv(group), m5.d(4), m5.d(3)}),
                  m5({m5.d(0), m5.d(1), m5.d(2), m5.d(3)})},
                 iterators(4, 1), [&](OpBuilder &b, Location l, ValueRange a) {
                   Value x = convert(b, l, a[1], ct);
                   yield(b, l, add(b, l, a[2], mul(b, l, a[0], x)));
                 });
    y = convertTensor(rewriter, loc, y, elt);
    rewriter.replaceOp(op, {y, k, v});
    return success();
  }
};

//===----------------------------------------------------------------------===//
// RotaryEmbedding
//===----------------------------------------------------------------------===//

/// Rotates the first rotary_dim features of [B, H, S, D]: feature d pairs
/// with d + rd/2 (or d ^ 1 when interleaved); cos/sin row i = the pair index.
struct RotaryEmbeddingLowering
    : OpConversionPattern<sinter::RotaryEmbeddingOp> {
  using Base::Base;
  LogicalResult
  matchAndRewrite(sinter::RotaryEmbeddingOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getInput(), cosC = adaptor.getCosCache(),
          sinC = adaptor.getSinCache(), pos = adaptor.getPositionIds();
    ArrayRef<int64_t> xs = tensorType(x).getShape();
    int64_t rot = op.getRotaryDim(), half = rot / 2;
    bool interleaved = op.getInterleaved();
    Type elt = elementType(x), ct = accType(elt);
    SmallVector<int64_t> rShape{xs[0], xs[1], xs[2], rot};
    AffineMap id4 = AffineMap::getMultiDimIdentityMap(4, rewriter.getContext());
    Value rotated = generic1(
        rewriter, loc, ValueRange{}, emptyTensor(rewriter, loc, rShape, elt),
        {id4}, iterators(4), [&](OpBuilder &b, Location l, ValueRange) {
          Value bi = linalg::IndexOp::create(b, l, 0);
          Value hi = linalg::IndexOp::create(b, l, 1);
          Value si = linalg::IndexOp::create(b, l, 2);
          Value d = linalg::IndexOp::create(b, l, 3);
          Value first, i1, i2, pair;
          if (interleaved) {
            Value one = cstIndex(b, l, 1);
            pair = arith::ShRUIOp::create(b, l, d, one);
            Value odd = arith::AndIOp::create(b, l, d, one);
            first = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, odd,
                                          cstIndex(b, l, 0));
            i1 = arith::ShLIOp::create(b, l, pair, one);
            i2 = arith::AddIOp::create(b, l, i1, one);
          } else {
            Value h = cstIndex(b, l, half);
            first =
                arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult, d, h);
            pair = arith::SelectOp::create(
                b, l, first, d, arith::SubIOp::create(b, l, d, h).getResult());
            i1 = pair;
            i2 = arith::AddIOp::create(b, l, pair, h);
          }
          auto read = [&](Value t, ValueRange at) {
            return convert(b, l, tensor::ExtractOp::create(b, l, t, at), ct);
          };
          Value x1 = read(x, {bi, hi, si, i1}), x2 = read(x, {bi, hi, si, i2});
          Value c, s;
          if (pos) {
            Value p = convert(
                b, l, tensor::ExtractOp::create(b, l, pos, ValueRange{bi, si}),
                b.getIndexType());
            c = read(cosC, {p, pair});
            s = read(sinC, {p, pair});
          } else {
            c = read(cosC, {bi, si, pair});
            s = read(sinC, {bi, si, pair});
          }
          Value real =
              arith::SubFOp::create(b, l, mul(b, l, c, x1), mul(b, l, s, x2));
          Value imag = add(b, l, mul(b, l, s, x1), mul(b, l, c, x2));
          Value r = arith::SelectOp::create(b, l, first, real, imag);
          yield(b, l, convert(b, l, r, elt));
        });
    if (rot == xs[3]) {
      rewriter.replaceOp(op, rotated);
      return success();
    }
    SmallVector<OpFoldResult> offs(4, rewriter.getIndexAttr(0)), sizes,
        strides(4, rewriter.getIndexAttr(1));
    for (int64_t s : rShape)
      sizes.push_back(rewriter.getIndexAttr(s));
    rewriter.replaceOpWithNewOp<tensor::InsertSliceOp>(op, rotated, x, offs,
                                                       sizes, strides);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// LinearAttention
//===----------------------------------------------------------------------===//

struct LinearAttentionLowering
    : OpConversionPattern<sinter::LinearAttentionOp> {
  using Base::Base;
  LogicalResult
  matchAndRewrite(sinter::LinearAttentionOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value q = adaptor.getQuery(), k = adaptor.getKey(), v = adaptor.getValue(),
          decay = adaptor.getDecay(), beta = adaptor.getBeta();
    sinter::UpdateRule rule = op.getUpdateRule();
    bool gated = rule == sinter::UpdateRule::gated ||
                 rule == sinter::UpdateRule::gated_delta;
    bool delta = rule == sinter::UpdateRule::delta ||
                 rule == sinter::UpdateRule::gated_delta;
    ArrayRef<int64_t> qs = tensorType(q).getShape();
    int64_t B = qs[0], T = qs[1], Hq = op.getQNumHeads(),
            Hkv = op.getKvNumHeads(), dk = qs[2] / Hq,
            dv = tensorType(v).getDimSize(2) / Hkv, group = Hq / Hkv;
    Type elt = elementType(q), f32 = rewriter.getF32Type();
    double scale = op.getScale().convertToDouble();
    if (scale == 0.0)
      scale = 1.0 / std::sqrt((double)dk);
    bool decayPerKey = decay && tensorType(decay).getDimSize(2) != Hkv;
    bool betaShared = beta && tensorType(beta).getDimSize(2) == 1 && Hkv != 1;

    SmallVector<int64_t> stShape{B, Hkv, dk, dv};
    Value state =
        adaptor.getPastState()
            ? convertTensor(rewriter, loc, adaptor.getPastState(), f32)
            : filledTensor(rewriter, loc, stShape, f32, 0);
    auto outTy = cast<RankedTensorType>(op.getResult().getType());
    Value out = emptyTensor(rewriter, loc, outTy.getShape(), elt);

    auto step = [&](OpBuilder &b, Location l, Value t, ValueRange iter) {
      Value S = iter[0], o = iter[1];
      // Token t of each packed input, as [B, width].
      auto token = [&](Value x) {
        ArrayRef<int64_t> s = tensorType(x).getShape();
        return sliceAt(b, l, x, 1, t,
                       RankedTensorType::get({s[0], s[2]}, elementType(x)));
      };
      Value qt = token(q), kt = token(k), vt = token(v);
      Value gt = decay ? token(decay) : Value();
      Value bt = beta ? token(beta) : Value();

      // Loops (b, h, d, m) over the state [B, Hkv, dk, dv].
      MapBuilder m{ctx, 4};
      AffineMap id4 = AffineMap::getMultiDimIdentityMap(4, ctx);
      AffineMap kMap = m({m.d(0), m.d(1) * dk + m.d(2)});
      AffineMap gMap = decayPerKey ? kMap : m({m.d(0), m.d(1)});
      auto decayFactor = [&](OpBuilder &nb, Location nl, Value g) {
        return exp(nb, nl, convert(nb, nl, g, f32));
      };

      // A single token (decode) marks the step's generics so that a target
      // may run the step as one kernel (the CUDA target's gated-delta
      // template, docs/cuda-target.md); they compute the same either way.
      auto mark = [&](Value result, StringRef role) {
        if (T == 1)
          result.getDefiningOp()->setAttr("sinter.gated_delta_step",
                                          b.getStringAttr(role));
      };

      // retrieved[b,h,m] = sum_d exp(g) S[b,h,d,m] k[b,h,d] (delta rules).
      Value retrieved;
      if (delta) {
        // Loops (b, h, m, d).
        MapBuilder r{ctx, 4};
        SmallVector<Value> ins{S, kt};
        SmallVector<AffineMap> maps{r({r.d(0), r.d(1), r.d(3), r.d(2)}),
                                    r({r.d(0), r.d(1) * dk + r.d(3)})};
        if (gated) {
          ins.push_back(gt);
          maps.push_back(decayPerKey ? maps[1] : r({r.d(0), r.d(1)}));
        }
        maps.push_back(r({r.d(0), r.d(1), r.d(2)}));
        retrieved = generic1(
            b, l, ins, filledTensor(b, l, {B, Hkv, dv}, f32, 0), maps,
            iterators(3, 1), [&](OpBuilder &nb, Location nl, ValueRange a) {
              Value s = a[0];
              if (gated)
                s = mul(nb, nl, s, decayFactor(nb, nl, a[2]));
              Value kv = convert(nb, nl, a[1], f32);
              yield(nb, nl, add(nb, nl, a.back(), mul(nb, nl, s, kv)));
            });
        mark(retrieved, "retrieve");
      }

      // S' = exp(g) S + k (x) u, u = v or beta (v - retrieved), updating the
      // carried state in place (it is the init, read through the out arg).
      SmallVector<Value> ins{kt, vt};
      SmallVector<AffineMap> maps{kMap, m({m.d(0), m.d(1) * dv + m.d(3)})};
      int gIdx = -1, bIdx = -1, rIdx = -1;
      if (gated) {
        gIdx = ins.size();
        ins.push_back(gt);
        maps.push_back(gMap);
      }
      if (delta) {
        bIdx = ins.size();
        ins.push_back(bt);
        maps.push_back(betaShared ? m({m.d(0), getAffineConstantExpr(0, ctx)})
                                  : m({m.d(0), m.d(1)}));
        rIdx = ins.size();
        ins.push_back(retrieved);
        maps.push_back(m({m.d(0), m.d(1), m.d(3)}));
      }
      maps.push_back(id4);
      Value S2 = generic1(b, l, ins, S, maps, iterators(4),
                          [&](OpBuilder &nb, Location nl, ValueRange a) {
                            Value s = a.back();
                            if (gated)
                              s = mul(nb, nl, s, decayFactor(nb, nl, a[gIdx]));
                            Value u = convert(nb, nl, a[1], f32);
                            if (delta) {
                              u = arith::SubFOp::create(nb, nl, u, a[rIdx]);
                              u = mul(nb, nl, convert(nb, nl, a[bIdx], f32), u);
                            }
                            Value kv = convert(nb, nl, a[0], f32);
                            yield(nb, nl, add(nb, nl, s, mul(nb, nl, kv, u)));
                          });
      mark(S2, "update");

      // o[b,h,m] = scale * sum_d q[b,h,d] S'[b,h/group,d,m]; loops (b,h,m,d).
      MapBuilder r{ctx, 4};
      Value ot = generic1(
          b, l, ValueRange{qt, S2}, filledTensor(b, l, {B, Hq, dv}, f32, 0),
          {r({r.d(0), r.d(1) * dk + r.d(3)}),
           r({r.d(0), r.d(1).floorDiv(group), r.d(3), r.d(2)}),
           r({r.d(0), r.d(1), r.d(2)})},
          iterators(3, 1), [&](OpBuilder &nb, Location nl, ValueRange a) {
            Value qv = convert(nb, nl, a[0], f32);
            yield(nb, nl, add(nb, nl, a[2], mul(nb, nl, qv, a[1])));
          });
      mark(ot, "readout");
      AffineMap id3 = AffineMap::getMultiDimIdentityMap(3, ctx);
      ot =
          generic1(b, l, ot, emptyTensor(b, l, {B, Hq, dv}, elt), {id3, id3},
                   iterators(3), [&](OpBuilder &nb, Location nl, ValueRange a) {
                     Value sv = mul(nb, nl, a[0], constant(nb, nl, f32, scale));
                     yield(nb, nl, convert(nb, nl, sv, elt));
                   });
      mark(ot, "output");
      ot = tensor::CollapseShapeOp::create(
          b, l, ot, SmallVector<ReassociationIndices>{{0}, {1, 2}});
      SmallVector<OpFoldResult> offs{b.getIndexAttr(0), t, b.getIndexAttr(0)},
          sizes{b.getIndexAttr(B), b.getIndexAttr(1), b.getIndexAttr(Hq * dv)},
          strides(3, b.getIndexAttr(1));
      o = tensor::InsertSliceOp::create(b, l, ot, o, offs, sizes, strides);
      scf::YieldOp::create(b, l, ValueRange{S2, o});
    };
    auto loop = scf::ForOp::create(
        rewriter, loc, cstIndex(rewriter, loc, 0), cstIndex(rewriter, loc, T),
        cstIndex(rewriter, loc, 1), ValueRange{state, out}, step);
    Type stElt = elementType(op.getPresentState());
    Value present = convertTensor(rewriter, loc, loop.getResult(0), stElt);
    rewriter.replaceOp(op, {loop.getResult(1), present});
    return success();
  }
};

//===----------------------------------------------------------------------===//
// CausalConvWithState
//===----------------------------------------------------------------------===//

struct CausalConvWithStateLowering
    : OpConversionPattern<sinter::CausalConvWithStateOp> {
  using Base::Base;
  LogicalResult
  matchAndRewrite(sinter::CausalConvWithStateOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value x = adaptor.getInput(), w = adaptor.getWeight(),
          bias = adaptor.getBias(), st = adaptor.getPastState();
    ArrayRef<int64_t> xs = tensorType(x).getShape();
    int64_t B = xs[0], C = xs[1], L = xs[2], K = tensorType(w).getDimSize(2);
    Type elt = elementType(x), ct = accType(elt);

    // [B, C, K-1 + L]: the past state (or zeros) followed by the input.
    Value padded = x;
    if (K > 1) {
      if (!st)
        st = filledTensor(rewriter, loc, {B, C, K - 1}, elt, 0);
      st = convertTensor(rewriter, loc, st, elt);
      padded = tensor::ConcatOp::create(rewriter, loc, 2, ValueRange{st, x});
    }

    // acc[b,c,t] = bias[c] + sum_k padded[b,c,t+k] w[c,0,k]; loops (b,c,t,k).
    MapBuilder m{ctx, 4};
    SmallVector<int64_t> shape{B, C, L};
    Value init;
    if (bias) {
      AffineMap id3 = AffineMap::getMultiDimIdentityMap(3, ctx);
      init =
          generic1(rewriter, loc, bias, emptyTensor(rewriter, loc, shape, ct),
                   {AffineMap::get(3, 0, {getAffineDimExpr(1, ctx)}, ctx), id3},
                   iterators(3), [&](OpBuilder &b, Location l, ValueRange a) {
                     yield(b, l, convert(b, l, a[0], ct));
                   });
    } else {
      init = filledTensor(rewriter, loc, shape, ct, 0);
    }
    Value acc = generic1(
        rewriter, loc, ValueRange{padded, w}, init,
        {m({m.d(0), m.d(1), m.d(2) + m.d(3)}),
         m({m.d(1), getAffineConstantExpr(0, ctx), m.d(3)}),
         m({m.d(0), m.d(1), m.d(2)})},
        iterators(3, 1), [&](OpBuilder &b, Location l, ValueRange a) {
          Value p = mul(b, l, convert(b, l, a[0], ct), convert(b, l, a[1], ct));
          yield(b, l, add(b, l, a[2], p));
        });
    bool silu = op.getSilu();
    AffineMap id3 = AffineMap::getMultiDimIdentityMap(3, ctx);
    Value y = generic1(
        rewriter, loc, acc, emptyTensor(rewriter, loc, shape, elt), {id3, id3},
        iterators(3), [&](OpBuilder &b, Location l, ValueRange a) {
          Value r = convert(b, l, a[0], elt);
          if (silu) {
            Type st = accType(elt);
            Value f = convert(b, l, r, st);
            Value one = constant(b, l, st, 1);
            Value den =
                add(b, l, one,
                    exp(b, l, arith::NegFOp::create(b, l, f).getResult()));
            r = convert(b, l, arith::DivFOp::create(b, l, f, den).getResult(),
                        elt);
          }
          yield(b, l, r);
        });

    Value present;
    if (K > 1) {
      SmallVector<OpFoldResult> offs{rewriter.getIndexAttr(0),
                                     rewriter.getIndexAttr(0),
                                     rewriter.getIndexAttr(L)},
          sizes{rewriter.getIndexAttr(B), rewriter.getIndexAttr(C),
                rewriter.getIndexAttr(K - 1)},
          strides(3, rewriter.getIndexAttr(1));
      present = tensor::ExtractSliceOp::create(
          rewriter, loc, RankedTensorType::get({B, C, K - 1}, elt), padded,
          offs, sizes, strides);
    } else {
      present = emptyTensor(rewriter, loc, {B, C, 0}, elt);
    }
    present = convertTensor(rewriter, loc, present,
                            elementType(op.getPresentState()));
    rewriter.replaceOp(op, {y, present});
    return success();
  }
};

} // namespace

void sinter::populateLLMOpsToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<AttentionLowering, RotaryEmbeddingLowering,
               LinearAttentionLowering, CausalConvWithStateLowering>(
      patterns.getContext());
}
