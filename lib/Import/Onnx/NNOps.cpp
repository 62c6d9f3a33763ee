//===- NNOps.cpp - ONNX linear algebra, reductions, normalizations --------===//
//
// MatMul, Gemm, Conv, the Reduce* family, ArgMax/ArgMin, Softmax/LogSoftmax,
// LayerNormalization, TopK, CumSum, Clip, the activations with attributes
// and the elementwise ops whose type rules differ from plain broadcasting
// (PRelu, Pow, Mod, IsNaN, IsInf).
//
// Gemm becomes sinter.linear, the op the fusion passes work on, so that a
// Gemm-based export and a MatMul-based one meet in the same graph. Reduce*
// took its axes as an attribute until ReduceSum-13 and the others' opset 18,
// then as an optional input that must be a compile-time constant here; the
// sinter reductions want sorted, unique, non-negative and non-empty axes,
// so "all axes" is spelled out and a reduction over no axis becomes its
// elementwise part.
//
//===----------------------------------------------------------------------===//

#include "ImporterInternals.h"

#include "llvm/ADT/STLExtras.h"

#include <cmath>

using namespace mlir;

namespace sinter::onnx_import {
namespace {

using shape::Shape;

/// Checks that the first `n` inputs are present.
LogicalResult expectInputs(NodeContext &ctx, unsigned n) {
  for (unsigned i = 0; i < n; ++i)
    if (!ctx.hasInput(i))
      return ctx.error() << "expects " << n << (n == 1 ? " input" : " inputs")
                         << ", input #" << i << " is missing";
  return success();
}

/// For ops whose schema has exactly `n` inputs: an input past them would
/// otherwise be ignored without a word.
LogicalResult exactInputs(NodeContext &ctx, unsigned n) {
  if (ctx.numInputs() > n)
    return ctx.error() << "expects " << n << (n == 1 ? " input" : " inputs")
                       << ", got " << ctx.numInputs();
  return expectInputs(ctx, n);
}

/// An error unless input `i` (when present) has input #0's element type.
LogicalResult sameElementType(NodeContext &ctx, unsigned i) {
  if (!ctx.hasInput(i) || ctx.inputElementType(i) == ctx.inputElementType(0))
    return success();
  return ctx.error() << "input #" << i << " has element type "
                     << ctx.inputElementType(i) << " but input #0 has "
                     << ctx.inputElementType(0);
}

Value transpose2D(NodeContext &ctx, Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  return ctx.create<TransposeOp>(
      ctx.tensorType({t.getDimSize(1), t.getDimSize(0)}, t.getElementType()), v,
      ArrayRef<int64_t>{1, 0});
}

//===----------------------------------------------------------------------===//
// Linear algebra and convolution
//===----------------------------------------------------------------------===//

LogicalResult matmul(NodeContext &ctx) {
  if (failed(exactInputs(ctx, 2)) ||
      failed(checkTypeClass(ctx, 0, TypeClass::Numeric)) ||
      failed(sameElementType(ctx, 1)))
    return failure();
  std::string why;
  FailureOr<Shape> out =
      ctx.check(shape::matmul(ctx.inputShape(0), ctx.inputShape(1), why), why);
  if (failed(out))
    return failure();
  ctx.setOutput(
      0, ctx.create<MatMulOp>(ctx.tensorType(*out, ctx.inputElementType(0)),
                              ctx.input(0), ctx.input(1)));
  return success();
}

/// Y = alpha * A' * B' + beta * C. Float Gemm is a sinter.linear whose
/// weight is B' transposed ([N, K]); C rides along as the bias when it is a
/// row vector and alpha is 1, else it is added after the product.
LogicalResult gemm(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 2)) ||
      failed(checkTypeClass(ctx, 0, TypeClass::Numeric)) ||
      failed(sameElementType(ctx, 1)) || failed(sameElementType(ctx, 2)))
    return failure();
  ArrayRef<int64_t> as = ctx.inputShape(0), bs = ctx.inputShape(1);
  if (as.size() != 2 || bs.size() != 2)
    return ctx.error() << "A and B must be 2-D, got " << shape::str(as)
                       << " and " << shape::str(bs);
  bool transA = ctx.attrInt("transA", 0) != 0;
  bool transB = ctx.attrInt("transB", 0) != 0;
  double alpha = ctx.attrFloat("alpha", 1.0f);
  double beta = ctx.attrFloat("beta", 1.0f);
  int64_t m = transA ? as[1] : as[0], k = transA ? as[0] : as[1];
  int64_t kb = transB ? bs[1] : bs[0], n = transB ? bs[0] : bs[1];
  if (k != kb)
    return ctx.error() << "contracting dimensions differ: A " << shape::str(as)
                       << (transA ? " (transA)" : "") << " gives K = " << k
                       << ", B " << shape::str(bs)
                       << (transB ? " (transB)" : "") << " gives K = " << kb;
  Type elt = ctx.inputElementType(0);
  Shape yShape{m, n};
  // Integer Gemm scales by integer constants; a fraction would truncate.
  if (!isa<FloatType>(elt) &&
      (alpha != std::trunc(alpha) || beta != std::trunc(beta)))
    return ctx.error() << "alpha " << alpha << " and beta " << beta
                       << " must be integers for " << elt << " inputs";

  // beta == 0 drops C, as ONNX Runtime does.
  Value c = beta != 0 ? ctx.input(2) : Value();
  if (c) {
    std::string why;
    FailureOr<Shape> cb =
        shape::broadcast({ctx.inputShape(2), ArrayRef<int64_t>(yShape)}, why);
    if (failed(cb) || *cb != yShape)
      return ctx.error() << "C " << shape::str(ctx.inputShape(2))
                         << " does not broadcast to the result "
                         << shape::str(yShape);
    if (beta != 1) {
      FailureOr<Value> scaled = ctx.binary<MulOp>(c, ctx.scalar(elt, beta));
      if (failed(scaled))
        return failure();
      c = *scaled;
    }
  }

  Value a = transA ? transpose2D(ctx, ctx.input(0)) : ctx.input(0);
  Value y;
  if (isa<FloatType>(elt)) {
    Value w = transB ? ctx.input(1) : transpose2D(ctx, ctx.input(1));
    Value bias;
    auto ct = c ? cast<RankedTensorType>(c.getType()) : RankedTensorType();
    if (ct && alpha == 1 && ct.getNumElements() == n &&
        (ct.getRank() < 2 || ct.getDimSize(0) == 1)) {
      bias = ctx.reshape(c, {n});
      c = Value();
    }
    y = ctx.create<LinearOp>(ctx.tensorType(yShape, elt), a, w, bias);
  } else {
    // sinter.linear is float-only; integer Gemm stays a matmul.
    Value bt = transB ? transpose2D(ctx, ctx.input(1)) : ctx.input(1);
    y = ctx.create<MatMulOp>(ctx.tensorType(yShape, elt), a, bt);
  }
  if (alpha != 1) {
    FailureOr<Value> r = ctx.binary<MulOp>(y, ctx.scalar(elt, alpha));
    if (failed(r))
      return failure();
    y = *r;
  }
  if (c) {
    FailureOr<Value> r = ctx.binary<AddOp>(y, c);
    if (failed(r))
      return failure();
    y = *r;
  }
  ctx.setOutput(0, y);
  return success();
}

/// Gemm before opset 11 requires C.
LogicalResult gemm7(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 3)))
    return failure();
  return gemm(ctx);
}

/// An INTS attribute of `n` entries, `dflt` each when absent.
FailureOr<SmallVector<int64_t>> intsAttr(NodeContext &ctx, StringRef name,
                                         size_t n, int64_t dflt) {
  if (!ctx.hasAttr(name))
    return SmallVector<int64_t>(n, dflt);
  SmallVector<int64_t> v = ctx.attrInts(name);
  if (v.size() != n)
    return ctx.error() << "attribute '" << name << "' has " << v.size()
                       << " entries, expected " << n,
           failure();
  return v;
}

LogicalResult conv(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 2)) ||
      failed(checkTypeClass(ctx, 0, TypeClass::Float)) ||
      failed(sameElementType(ctx, 1)) || failed(sameElementType(ctx, 2)))
    return failure();
  ArrayRef<int64_t> xs = ctx.inputShape(0), ws = ctx.inputShape(1);
  if (xs.size() < 3 || xs.size() > 5 || ws.size() != xs.size())
    return ctx.error() << "X and W must have the same rank, 3 to 5 (1-D to "
                          "3-D convolution), got "
                       << shape::str(xs) << " and " << shape::str(ws);
  size_t sp = xs.size() - 2;
  ArrayRef<int64_t> kernel = ws.drop_front(2);
  if (ctx.hasAttr("kernel_shape") &&
      ArrayRef<int64_t>(ctx.attrInts("kernel_shape")) != kernel)
    return ctx.error() << "kernel_shape "
                       << shape::str(ctx.attrInts("kernel_shape"))
                       << " contradicts the weight " << shape::str(ws);
  FailureOr<SmallVector<int64_t>> strides = intsAttr(ctx, "strides", sp, 1);
  FailureOr<SmallVector<int64_t>> dilations = intsAttr(ctx, "dilations", sp, 1);
  FailureOr<SmallVector<int64_t>> pads = intsAttr(ctx, "pads", 2 * sp, 0);
  if (failed(strides) || failed(dilations) || failed(pads))
    return failure();
  for (size_t i = 0; i < sp; ++i)
    if ((*strides)[i] < 1 || (*dilations)[i] < 1)
      return ctx.error() << "strides " << shape::str(*strides)
                         << " and dilations " << shape::str(*dilations)
                         << " must be positive";

  std::string autoPad = ctx.attrString("auto_pad", "NOTSET");
  if (autoPad != "NOTSET") {
    if (llvm::any_of(*pads, [](int64_t p) { return p != 0; }))
      return ctx.error() << "attribute 'pads' cannot be combined with auto_pad "
                         << autoPad;
    if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      // Output size ceil(in / stride); the odd pad goes to the end (UPPER)
      // or the start (LOWER).
      for (size_t i = 0; i < sp; ++i) {
        int64_t in = xs[2 + i], s = (*strides)[i];
        int64_t eff = (kernel[i] - 1) * (*dilations)[i] + 1;
        int64_t out = (in + s - 1) / s;
        int64_t total = std::max<int64_t>(0, (out - 1) * s + eff - in);
        int64_t small = total / 2, big = total - small;
        (*pads)[i] = autoPad == "SAME_UPPER" ? small : big;
        (*pads)[sp + i] = autoPad == "SAME_UPPER" ? big : small;
      }
    } else if (autoPad != "VALID") {
      return ctx.error() << "auto_pad '" << autoPad
                         << "' is not one of NOTSET, VALID, SAME_UPPER, "
                            "SAME_LOWER";
    }
  }
  int64_t group = ctx.attrInt("group", 1);
  std::optional<ArrayRef<int64_t>> biasShape;
  if (ctx.hasInput(2))
    biasShape = ctx.inputShape(2);
  std::string why;
  FailureOr<Shape> out = ctx.check(
      shape::conv(xs, ws, biasShape, *strides, *pads, *dilations, group, why),
      why);
  if (failed(out))
    return failure();
  ctx.setOutput(
      0, ctx.create<ConvOp>(ctx.tensorType(*out, ctx.inputElementType(0)),
                            ctx.input(0), ctx.input(1), ctx.input(2), *strides,
                            *pads, *dilations, group));
  return success();
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

/// Reductions defined only for floating-point inputs in the sinter dialect.
template <typename OpTy>
constexpr bool isFloatReduction() {
  return std::is_same_v<OpTy, ReduceL2Op> ||
         std::is_same_v<OpTy, ReduceLogSumOp> ||
         std::is_same_v<OpTy, ReduceLogSumExpOp>;
}

/// What a reduction over no axis computes (noop_with_empty_axes, or a rank-0
/// input): the elementwise part of the op, as the ONNX reference does.
template <typename OpTy>
FailureOr<Value> reduceNothing(NodeContext &ctx, Value x) {
  if constexpr (std::is_same_v<OpTy, ReduceL1Op> ||
                std::is_same_v<OpTy, ReduceL2Op>)
    return ctx.create<AbsOp>(x.getType(), x).getResult();
  else if constexpr (std::is_same_v<OpTy, ReduceSumSquareOp>)
    return ctx.binary<MulOp>(x, x);
  else if constexpr (std::is_same_v<OpTy, ReduceLogSumOp>)
    return ctx.create<LogOp>(x.getType(), x).getResult();
  else
    return x;
}

/// Reduce* with `axes` an attribute (axesIsInput false) or an optional
/// constant input with noop_with_empty_axes.
template <typename OpTy, bool axesIsInput>
LogicalResult reduce(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 1)) ||
      failed(checkTypeClass(ctx, 0,
                            isFloatReduction<OpTy>() ? TypeClass::Float
                                                     : TypeClass::Numeric)))
    return failure();
  Value x = ctx.input(0);
  ArrayRef<int64_t> xs = ctx.inputShape(0);
  bool keepdims = ctx.attrInt("keepdims", 1) != 0;

  SmallVector<int64_t> axes;
  bool noop = false;
  if constexpr (axesIsInput) {
    if (ctx.hasAttr("axes"))
      return ctx.error() << "attribute 'axes' is an input in this opset";
    if (ctx.hasInput(1)) {
      FailureOr<SmallVector<int64_t>> a = ctx.constInts(1, "axes");
      if (failed(a))
        return failure();
      axes = std::move(*a);
    }
    noop = axes.empty() && ctx.attrInt("noop_with_empty_axes", 0) != 0;
  } else {
    axes = ctx.attrInts("axes");
  }

  if (!noop && axes.empty()) {
    axes = llvm::to_vector(llvm::seq<int64_t>(0, xs.size()));
  } else {
    for (int64_t &a : axes) {
      FailureOr<int64_t> n = ctx.axis(a, xs.size());
      if (failed(n))
        return failure();
      a = *n;
    }
    llvm::sort(axes);
    axes.erase(llvm::unique(axes), axes.end());
  }
  // A rank-0 input has no axis to reduce.
  if (noop || axes.empty()) {
    FailureOr<Value> y = reduceNothing<OpTy>(ctx, x);
    if (failed(y))
      return failure();
    ctx.setOutput(0, *y);
    return success();
  }
  ctx.setOutput(
      0, ctx.create<OpTy>(ctx.tensorType(shape::reduce(xs, axes, keepdims),
                                         ctx.inputElementType(0)),
                          x, axes, keepdims));
  return success();
}

/// ArgMax/ArgMin; select_last_index (opset 12) defaults to the first.
template <typename OpTy>
LogicalResult argReduce(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 1)) ||
      failed(checkTypeClass(ctx, 0, TypeClass::Numeric)))
    return failure();
  ArrayRef<int64_t> xs = ctx.inputShape(0);
  if (xs.empty())
    return ctx.error() << "the input must have rank >= 1";
  FailureOr<int64_t> axis = ctx.axis(ctx.attrInt("axis", 0), xs.size());
  if (failed(axis))
    return failure();
  bool keepdims = ctx.attrInt("keepdims", 1) != 0;
  ctx.setOutput(
      0, ctx.create<OpTy>(ctx.tensorType(shape::reduce(xs, {*axis}, keepdims),
                                         ctx.b.getI64Type()),
                          ctx.input(0), *axis, keepdims,
                          ctx.attrInt("select_last_index", 0) != 0));
  return success();
}

//===----------------------------------------------------------------------===//
// Normalizations and sorting
//===----------------------------------------------------------------------===//

/// Softmax and LogSoftmax from opset 13: one axis, default -1.
template <typename OpTy>
LogicalResult softmax13(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 1)) ||
      failed(checkTypeClass(ctx, 0, TypeClass::Float)))
    return failure();
  Value x = ctx.input(0);
  FailureOr<int64_t> axis =
      ctx.axis(ctx.attrInt("axis", -1), ctx.inputType(0).getRank());
  if (failed(axis))
    return failure();
  ctx.setOutput(0, ctx.create<OpTy>(x.getType(), x, *axis));
  return success();
}

/// Before opset 13 the input is coerced to 2-D [prod(dims[:axis]),
/// prod(dims[axis:])] and normalized along the second dimension.
template <typename OpTy>
LogicalResult softmax1(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 1)) ||
      failed(checkTypeClass(ctx, 0, TypeClass::Float)))
    return failure();
  Value x = ctx.input(0);
  ArrayRef<int64_t> xs = ctx.inputShape(0);
  int64_t rank = xs.size();
  FailureOr<int64_t> axis = ctx.axis(ctx.attrInt("axis", 1), rank);
  if (failed(axis))
    return failure();
  if (*axis == rank - 1) {
    ctx.setOutput(0, ctx.create<OpTy>(x.getType(), x, *axis));
    return success();
  }
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < rank; ++i)
    (i < *axis ? outer : inner) *= xs[i];
  // At axis 0 the coerced [1, N] is kept 1-D so that the reshapes stay
  // collapse/expand_shape.
  Value flat =
      *axis == 0 ? ctx.reshape(x, {inner}) : ctx.reshape(x, {outer, inner});
  Value y = ctx.create<OpTy>(flat.getType(), flat, *axis == 0 ? 0 : 1);
  ctx.setOutput(0, ctx.reshape(y, xs));
  return success();
}

LogicalResult layerNorm(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 2)) ||
      failed(checkTypeClass(ctx, 0, TypeClass::Float)) ||
      failed(sameElementType(ctx, 1)) || failed(sameElementType(ctx, 2)))
    return failure();
  ArrayRef<int64_t> xs = ctx.inputShape(0);
  FailureOr<int64_t> axis = ctx.axis(ctx.attrInt("axis", -1), xs.size());
  if (failed(axis))
    return failure();
  // sinter.layer_norm computes and returns its statistics in f32.
  int64_t stash = ctx.attrInt("stash_type", onnx::TensorProto::FLOAT);
  if (stash != onnx::TensorProto::FLOAT)
    return ctx.error() << "stash_type " << onnxTypeName(stash)
                       << " is not supported: Sinter computes layer "
                          "normalization in FLOAT";
  ArrayRef<int64_t> normalized = xs.drop_front(*axis);
  for (unsigned i : {1u, 2u}) {
    if (!ctx.hasInput(i))
      continue;
    std::string why;
    FailureOr<Shape> b = shape::broadcast({ctx.inputShape(i), normalized}, why);
    if (failed(b) || ArrayRef<int64_t>(*b) != normalized)
      return ctx.error() << (i == 1 ? "Scale " : "B ")
                         << shape::str(ctx.inputShape(i))
                         << " does not broadcast to the normalized shape "
                         << shape::str(normalized);
  }
  Shape stat(xs);
  for (size_t i = *axis; i < xs.size(); ++i)
    stat[i] = 1;
  auto statType = ctx.tensorType(stat, ctx.b.getF32Type());
  auto op = ctx.create<LayerNormOp>(
      ctx.inputType(0), statType, statType, ctx.input(0), ctx.input(1),
      ctx.input(2), *axis, APFloat(ctx.attrFloat("epsilon", 1e-5f)));
  ctx.setOutput(0, op.getResult());
  ctx.setOutput(1, op.getMean());
  ctx.setOutput(2, op.getInvStdDev());
  return success();
}

/// TopK with `k` an attribute (opset 1) or a one-element input (opset 10).
/// sinter.topk always sorts, which is one valid order for `sorted = 0`.
template <bool kIsInput>
LogicalResult topk(NodeContext &ctx) {
  if (failed(expectInputs(ctx, kIsInput ? 2 : 1)) ||
      failed(checkTypeClass(ctx, 0, TypeClass::Numeric)))
    return failure();
  int64_t k;
  if constexpr (kIsInput) {
    FailureOr<SmallVector<int64_t>> ks = ctx.constInts(1, "K");
    if (failed(ks))
      return failure();
    if (ks->size() != 1)
      return ctx.error() << "input 'K' must hold one value, it has "
                         << ks->size();
    k = (*ks)[0];
  } else {
    if (!ctx.hasAttr("k"))
      return ctx.error() << "attribute 'k' is missing";
    k = ctx.attrInt("k", 0);
  }
  ArrayRef<int64_t> xs = ctx.inputShape(0);
  FailureOr<int64_t> axis = ctx.axis(ctx.attrInt("axis", -1), xs.size());
  if (failed(axis))
    return failure();
  std::string why;
  FailureOr<Shape> out = ctx.check(shape::topk(xs, k, *axis, why), why);
  if (failed(out))
    return failure();
  auto op =
      ctx.create<TopKOp>(ctx.tensorType(*out, ctx.inputElementType(0)),
                         ctx.tensorType(*out, ctx.b.getI64Type()), ctx.input(0),
                         k, *axis, ctx.attrInt("largest", 1) != 0);
  ctx.setOutput(0, op.getValues());
  ctx.setOutput(1, op.getIndices());
  return success();
}

LogicalResult cumsum(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 2)) ||
      failed(checkTypeClass(ctx, 0, TypeClass::Numeric)))
    return failure();
  FailureOr<SmallVector<int64_t>> axes = ctx.constInts(1, "axis");
  if (failed(axes))
    return failure();
  if (axes->size() != 1)
    return ctx.error() << "input 'axis' must hold one value, it has "
                       << axes->size();
  FailureOr<int64_t> axis = ctx.axis((*axes)[0], ctx.inputType(0).getRank());
  if (failed(axis))
    return failure();
  Value x = ctx.input(0);
  ctx.setOutput(0, ctx.create<CumSumOp>(x.getType(), x, *axis,
                                        ctx.attrInt("exclusive", 0) != 0,
                                        ctx.attrInt("reverse", 0) != 0));
  return success();
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

/// Clip before opset 11: float bounds as attributes.
LogicalResult clip6(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 1)) ||
      failed(checkTypeClass(ctx, 0, TypeClass::Float)))
    return failure();
  Value x = ctx.input(0);
  Type elt = ctx.inputElementType(0);
  // An absent bound is ONNX's +-FLT_MAX, which clamps nothing in f32 and
  // narrower types; leaving it out also keeps f64 values beyond FLT_MAX.
  Value lo =
      ctx.hasAttr("min") ? ctx.scalar(elt, ctx.attrFloat("min", 0)) : Value();
  Value hi =
      ctx.hasAttr("max") ? ctx.scalar(elt, ctx.attrFloat("max", 0)) : Value();
  ctx.setOutput(0, ctx.create<ClipOp>(x.getType(), x, lo, hi));
  return success();
}

/// Clip from opset 11: optional scalar inputs, known only at run time.
LogicalResult clip11(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 1)) ||
      failed(checkTypeClass(ctx, 0, TypeClass::Numeric)) ||
      failed(sameElementType(ctx, 1)) || failed(sameElementType(ctx, 2)))
    return failure();
  Value bounds[2];
  for (unsigned i : {1u, 2u}) {
    if (!ctx.hasInput(i))
      continue;
    if (ctx.inputType(i).getNumElements() != 1)
      return ctx.error() << (i == 1 ? "min " : "max ")
                         << shape::str(ctx.inputShape(i))
                         << " must be a scalar";
    // Exporters often write [1]; sinter.clip takes rank-0 bounds.
    bounds[i - 1] = ctx.reshape(ctx.input(i), {});
  }
  Value x = ctx.input(0);
  ctx.setOutput(0, ctx.create<ClipOp>(x.getType(), x, bounds[0], bounds[1]));
  return success();
}

/// Unary float activation built by `build(ctx, x)`.
template <typename Fn>
LogicalResult activation(NodeContext &ctx, Fn build) {
  if (failed(expectInputs(ctx, 1)) ||
      failed(checkTypeClass(ctx, 0, TypeClass::Float)))
    return failure();
  FailureOr<Value> y = build(ctx.input(0));
  if (failed(y))
    return failure();
  ctx.setOutput(0, *y);
  return success();
}

/// Activations with one `alpha` attribute.
template <typename OpTy>
LogicalResult alphaActivation(NodeContext &ctx, float dflt) {
  return activation(ctx, [&](Value x) -> FailureOr<Value> {
    return ctx
        .create<OpTy>(x.getType(), x, APFloat(ctx.attrFloat("alpha", dflt)))
        .getResult();
  });
}

LogicalResult selu(NodeContext &ctx) {
  return activation(ctx, [&](Value x) -> FailureOr<Value> {
    return ctx
        .create<SeluOp>(
            x.getType(), x,
            APFloat(ctx.attrFloat("alpha", 1.67326319217681884765625f)),
            APFloat(ctx.attrFloat("gamma", 1.05070102214813232421875f)))
        .getResult();
  });
}

LogicalResult hardSigmoid(NodeContext &ctx) {
  return activation(ctx, [&](Value x) -> FailureOr<Value> {
    return ctx
        .create<HardSigmoidOp>(x.getType(), x,
                               APFloat(ctx.attrFloat("alpha", 0.2f)),
                               APFloat(ctx.attrFloat("beta", 0.5f)))
        .getResult();
  });
}

/// HardSwish(x) = x * HardSigmoid(x; alpha = 1/6, beta = 0.5).
LogicalResult hardSwish(NodeContext &ctx) {
  return activation(ctx, [&](Value x) -> FailureOr<Value> {
    Value hs = ctx.create<HardSigmoidOp>(x.getType(), x, APFloat(1.0f / 6),
                                         APFloat(0.5f));
    return ctx.binary<MulOp>(x, hs);
  });
}

LogicalResult gelu(NodeContext &ctx) {
  return activation(ctx, [&](Value x) -> FailureOr<Value> {
    std::string approx = ctx.attrString("approximate", "none");
    if (approx != "none" && approx != "tanh")
      return ctx.error() << "approximate '" << approx
                         << "' is not 'none' or 'tanh'",
             failure();
    return ctx.create<GeluOp>(x.getType(), x, approx == "tanh").getResult();
  });
}

/// PRelu(x) = x < 0 ? slope * x : x, the slope broadcasting to x.
LogicalResult prelu(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 2)) ||
      failed(checkTypeClass(ctx, 0, TypeClass::Numeric)) ||
      failed(sameElementType(ctx, 1)))
    return failure();
  Value x = ctx.input(0), slope = ctx.input(1);
  ArrayRef<int64_t> xs = ctx.inputShape(0);
  std::string why;
  FailureOr<Shape> b = shape::broadcast({xs, ctx.inputShape(1)}, why);
  if (failed(b) || ArrayRef<int64_t>(*b) != xs)
    return ctx.error() << "slope " << shape::str(ctx.inputShape(1))
                       << " does not broadcast to X " << shape::str(xs);
  FailureOr<Value> scaled = ctx.binary<MulOp>(x, slope);
  FailureOr<Value> negative =
      ctx.binary<LessOp>(x, ctx.scalar(ctx.inputElementType(0), 0));
  if (failed(scaled) || failed(negative))
    return failure();
  ctx.setOutput(0, ctx.create<WhereOp>(x.getType(), *negative, *scaled, x));
  return success();
}

LogicalResult isNaN(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 1)) ||
      failed(checkTypeClass(ctx, 0, TypeClass::Float)))
    return failure();
  ctx.setOutput(0, ctx.create<IsNanOp>(
                       ctx.tensorType(ctx.inputShape(0), ctx.b.getI1Type()),
                       ctx.input(0)));
  return success();
}

LogicalResult isInf(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 1)) ||
      failed(checkTypeClass(ctx, 0, TypeClass::Float)))
    return failure();
  ctx.setOutput(0, ctx.create<IsInfOp>(
                       ctx.tensorType(ctx.inputShape(0), ctx.b.getI1Type()),
                       ctx.input(0), ctx.attrInt("detect_positive", 1) != 0,
                       ctx.attrInt("detect_negative", 1) != 0));
  return success();
}

/// Pow's exponent may have another type than the base (opset 12). The
/// result has the base's type; an integer base with a float exponent is
/// raised in the float type and truncated back, as ONNX Runtime does, so
/// that 4 ^ 0.5 is 2 and not 4 ^ 0.
LogicalResult pow(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 2)) ||
      failed(checkTypeClass(ctx, 0, TypeClass::Numeric)) ||
      failed(checkTypeClass(ctx, 1, TypeClass::Numeric)))
    return failure();
  Value base = ctx.input(0), exponent = ctx.input(1);
  Type baseElt = ctx.inputElementType(0), expElt = ctx.inputElementType(1);
  Type computeElt =
      !isa<FloatType>(baseElt) && isa<FloatType>(expElt) ? expElt : baseElt;
  FailureOr<Value> y = ctx.binary<PowOp>(ctx.cast(base, computeElt),
                                         ctx.cast(exponent, computeElt));
  if (failed(y))
    return failure();
  ctx.setOutput(0, ctx.cast(*y, baseElt));
  return success();
}

LogicalResult mod(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 2)) ||
      failed(checkTypeClass(ctx, 0, TypeClass::Numeric)) ||
      failed(sameElementType(ctx, 1)))
    return failure();
  bool fmod = ctx.attrInt("fmod", 0) != 0;
  Type elt = ctx.inputElementType(0);
  if (isa<FloatType>(elt) && !fmod)
    return ctx.error() << "Mod of " << elt
                       << " needs fmod = 1 (the ONNX spec requires it for "
                          "floating-point inputs)";
  std::string why;
  FailureOr<Shape> out = ctx.check(
      shape::broadcast({ctx.inputShape(0), ctx.inputShape(1)}, why), why);
  if (failed(out))
    return failure();
  ctx.setOutput(0, ctx.create<ModOp>(ctx.tensorType(*out, elt), ctx.input(0),
                                     ctx.input(1), fmod));
  return success();
}

} // namespace

void registerNNHandlers(HandlerRegistry &r) {
  // Later versions of MatMul, Conv, the activations, IsNaN, IsInf and Mod
  // only widened their type lists.
  r.add("", "MatMul", 1, matmul);
  r.add("", "Gemm", 7, gemm7);
  r.add("", "Gemm", 11, gemm);
  r.add("", "Conv", 1, conv);

  r.add("", "Softmax", 1, softmax1<SoftmaxOp>);
  r.add("", "Softmax", 13, softmax13<SoftmaxOp>);
  r.add("", "LogSoftmax", 1, softmax1<LogSoftmaxOp>);
  r.add("", "LogSoftmax", 13, softmax13<LogSoftmaxOp>);
  r.add("", "LayerNormalization", 17, layerNorm);
  r.add("", "TopK", 1, topk<false>);
  r.add("", "TopK", 10, topk<true>);
  r.add("", "CumSum", 11, cumsum);

  r.add("", "Clip", 6, clip6);
  r.add("", "Clip", 11, clip11);
  r.add("", "LeakyRelu", 6, [](NodeContext &ctx) {
    return alphaActivation<LeakyReluOp>(ctx, 0.01f);
  });
  r.add("", "Elu", 6,
        [](NodeContext &ctx) { return alphaActivation<EluOp>(ctx, 1.0f); });
  r.add("", "Celu", 12,
        [](NodeContext &ctx) { return alphaActivation<CeluOp>(ctx, 1.0f); });
  r.add("", "ThresholdedRelu", 10, [](NodeContext &ctx) {
    return alphaActivation<ThresholdedReluOp>(ctx, 1.0f);
  });
  r.add("", "Selu", 6, selu);
  r.add("", "HardSigmoid", 6, hardSigmoid);
  r.add("", "HardSwish", 14, hardSwish);
  r.add("", "Gelu", 20, gelu);
  r.add("", "PRelu", 7, prelu);
  r.add("", "IsNaN", 9, isNaN);
  r.add("", "IsInf", 10, isInf);
  r.add("", "Pow", 7, pow);
  r.add("", "Mod", 10, mod);

  // Reduce* opsets 11-13 allowed negative axes and widened the types; the
  // importer accepts negative axes throughout.
  r.add("", "ReduceSum", 1, reduce<ReduceSumOp, false>);
  r.add("", "ReduceSum", 13, reduce<ReduceSumOp, true>);
#define SINTER_REDUCE(NAME, OP)                                                \
  r.add("", NAME, 1, reduce<OP, false>);                                       \
  r.add("", NAME, 18, reduce<OP, true>);
  SINTER_REDUCE("ReduceMean", ReduceMeanOp)
  SINTER_REDUCE("ReduceMax", ReduceMaxOp)
  SINTER_REDUCE("ReduceMin", ReduceMinOp)
  SINTER_REDUCE("ReduceProd", ReduceProdOp)
  SINTER_REDUCE("ReduceL1", ReduceL1Op)
  SINTER_REDUCE("ReduceL2", ReduceL2Op)
  SINTER_REDUCE("ReduceSumSquare", ReduceSumSquareOp)
  SINTER_REDUCE("ReduceLogSum", ReduceLogSumOp)
  SINTER_REDUCE("ReduceLogSumExp", ReduceLogSumExpOp)
#undef SINTER_REDUCE
  r.add("", "ArgMax", 1, argReduce<ArgMaxOp>);
  r.add("", "ArgMin", 1, argReduce<ArgMinOp>);
}

} // namespace sinter::onnx_import
