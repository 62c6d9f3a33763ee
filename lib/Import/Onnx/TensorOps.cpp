//===- TensorOps.cpp - ONNX shape and data-movement ops -------------------===//
//
// Reshapes, slices, gathers, scatters, padding, casts, and the ops that only
// produce constants (Constant, ConstantOfShape, Shape, Size, Range,
// EyeLike). Every operand that decides a shape (Reshape's shape, Slice's
// starts, Tile's repeats...) must be a compile-time constant: Sinter compiles
// static shapes. The readers of those operands are shared with the constant
// folder (TensorShapes.h).
//
//===----------------------------------------------------------------------===//

#include "ImporterInternals.h"
#include "TensorShapes.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>

using namespace mlir;

namespace sinter::onnx_import {
using shape::Shape;

namespace {

/// Constants built element by element (Range, EyeLike) stay below this; a
/// larger one is a model bug or belongs in an initializer.
constexpr int64_t kMaxBuiltElements = int64_t(1) << 26;

/// Checks the operand count of a node with fixed arity.
LogicalResult expectInputs(NodeContext &ctx, unsigned n) {
  for (unsigned i = 0; i < n; ++i)
    if (!ctx.hasInput(i))
      return ctx.error() << "expects " << n << " inputs, input #" << i
                         << " is missing";
  return success();
}

/// sinter's gather and scatter ops take i32 or i64 indices, the ND forms
/// only i64 (as ONNX does).
LogicalResult checkIndices(NodeContext &ctx, unsigned i, bool i64Only) {
  Type t = ctx.inputElementType(i);
  if (t.isInteger(64) || (!i64Only && t.isInteger(32)))
    return success();
  return ctx.error() << "indices (input #" << i << ") have element type " << t
                     << "; this op needs " << (i64Only ? "i64" : "i32 or i64");
}

LogicalResult bind(NodeContext &ctx, FailureOr<Value> v) {
  if (failed(v))
    return failure();
  ctx.setOutput(0, *v);
  return success();
}

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

LogicalResult identity(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 1)))
    return failure();
  ctx.setOutput(0, ctx.input(0));
  return success();
}

/// Constant; the value_* attributes exist from opset 12 on.
template <int Since> LogicalResult constant(NodeContext &ctx) {
  if (ctx.hasAttr("sparse_value"))
    return ctx.error() << "sparse constants (attribute 'sparse_value') are "
                          "not supported; store the tensor dense";
  Builder &b = ctx.b;
  if (Since >= 12) {
    if (ctx.hasAttr("value_string") || ctx.hasAttr("value_strings"))
      return ctx.error() << "string constants are not supported";
    auto vec = [&](int64_t n, Type elt) {
      return RankedTensorType::get({n}, elt);
    };
    auto scalar = [&](Type elt) { return RankedTensorType::get({}, elt); };
    if (const onnx::AttributeProto *a = ctx.attr("value_float"))
      return bind(ctx, ctx.constant(DenseElementsAttr::get(
                           scalar(b.getF32Type()), a->f())));
    if (const onnx::AttributeProto *a = ctx.attr("value_int"))
      return bind(ctx, ctx.constant(DenseElementsAttr::get(
                           scalar(b.getI64Type()), (int64_t)a->i())));
    if (ctx.hasAttr("value_floats")) {
      SmallVector<float> v = ctx.attrFloats("value_floats");
      return bind(ctx, ctx.constant(DenseElementsAttr::get(
                           vec(v.size(), b.getF32Type()), ArrayRef<float>(v))));
    }
    if (ctx.hasAttr("value_ints")) {
      SmallVector<int64_t> v = ctx.attrInts("value_ints");
      return bind(ctx,
                  ctx.constant(DenseElementsAttr::get(
                      vec(v.size(), b.getI64Type()), ArrayRef<int64_t>(v))));
    }
  }
  if (!ctx.hasAttr("value"))
    return ctx.error() << (Since >= 12 ? "has none of the attributes value, "
                                         "value_float(s), value_int(s)"
                                       : "has no attribute 'value' (the "
                                         "value_* forms exist from opset 12)");
  FailureOr<ElementsAttr> v = ctx.attrTensor("value");
  if (failed(v))
    return failure();
  ctx.setOutput(0, ctx.constant(*v));
  return success();
}

LogicalResult constantOfShape(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 1)))
    return failure();
  FailureOr<SmallVector<int64_t>> dims = ctx.constInts(0, "input");
  if (failed(dims))
    return failure();
  int64_t n = 1;
  for (int64_t d : *dims)
    if (d < 0 || llvm::MulOverflow(n, d, n))
      return ctx.error() << "shape " << shape::str(*dims)
                         << " has a negative dimension or too many elements";
  Attribute fill = ctx.b.getF32FloatAttr(0);
  if (ctx.hasAttr("value")) {
    FailureOr<ElementsAttr> v = ctx.attrTensor("value");
    if (failed(v))
      return failure();
    auto dense = dyn_cast<DenseElementsAttr>(*v);
    if (!dense || dense.getNumElements() != 1)
      return ctx.error() << "attribute 'value' must be a one-element tensor";
    fill = *dense.getValues<Attribute>().begin();
  }
  auto type = ctx.tensorType(*dims, cast<TypedAttr>(fill).getType());
  ctx.setOutput(0, ctx.constant(DenseElementsAttr::get(type, {fill})));
  return success();
}

/// Shape folds to a constant: every shape is static. start/end from 15 on.
template <int Since> LogicalResult shapeOf(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 1)))
    return failure();
  ArrayRef<int64_t> in = ctx.inputShape(0);
  int64_t rank = in.size(), start = 0, end = rank;
  if (Since >= 15) {
    start = ctx.attrInt("start", 0);
    end = ctx.attrInt("end", rank);
  }
  // Out-of-range bounds clamp, as in Slice.
  auto clampDim = [&](int64_t v) {
    return std::clamp<int64_t>(v < 0 ? v + rank : v, 0, rank);
  };
  start = clampDim(start);
  end = std::max(clampDim(end), start);
  SmallVector<int64_t> dims(in.begin() + start, in.begin() + end);
  ctx.setOutput(0,
                ctx.constant(DenseElementsAttr::get(
                    ctx.tensorType({(int64_t)dims.size()}, ctx.b.getI64Type()),
                    ArrayRef<int64_t>(dims))));
  return success();
}

LogicalResult size(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 1)))
    return failure();
  ctx.setOutput(0, ctx.constant(DenseElementsAttr::get(
                       ctx.tensorType({}, ctx.b.getI64Type()),
                       ctx.inputType(0).getNumElements())));
  return success();
}

/// Range needs its bounds at compile time: its length is its shape.
LogicalResult range(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 3)))
    return failure();
  Type elt = ctx.inputElementType(0);
  for (unsigned i = 0; i < 3; ++i) {
    std::optional<DenseElementsAttr> c = ctx.constInput(i);
    if (!c || c->getNumElements() != 1)
      return ctx.error() << "start, limit and delta must be one-element "
                            "constants: the output shape would depend on "
                            "runtime values (input #"
                         << i << " is not a compile-time constant)";
    if (ctx.inputElementType(i) != elt || elt.isInteger(1))
      return ctx.error() << "start, limit and delta must share a numeric "
                            "element type";
  }
  auto type = [&](int64_t n) { return ctx.tensorType({n}, elt); };
  if (auto ft = dyn_cast<FloatType>(elt)) {
    double s = *ctx.constScalar(0, "start"), l = *ctx.constScalar(1, "limit");
    double d = *ctx.constScalar(2, "delta");
    double n = std::ceil((l - s) / d);
    if (d == 0 || !std::isfinite(n) || n > (double)kMaxBuiltElements)
      return ctx.error() << "Range(" << s << ", " << l << ", " << d
                         << ") has no finite length below "
                         << kMaxBuiltElements;
    SmallVector<APFloat> values;
    for (int64_t i = 0; i < (int64_t)std::max(n, 0.0); ++i) {
      APFloat f(s + (double)i * d);
      bool lost;
      f.convert(ft.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
      values.push_back(f);
    }
    ctx.setOutput(0, ctx.constant(DenseElementsAttr::get(
                         type(values.size()), ArrayRef<APFloat>(values))));
    return success();
  }
  SmallVector<int64_t> v[3];
  for (unsigned i = 0; i < 3; ++i)
    v[i] = *ctx.constInts(i, "start, limit or delta");
  __int128 s = v[0][0], l = v[1][0], d = v[2][0];
  if (d == 0)
    return ctx.error() << "delta must not be 0";
  // ceil((l - s) / d) without overflow.
  __int128 n = d > 0 ? (l - s + d - 1) / d : (s - l - d - 1) / -d;
  if (n > kMaxBuiltElements)
    return ctx.error() << "Range(" << v[0][0] << ", " << v[1][0] << ", "
                       << v[2][0] << ") has more than the " << kMaxBuiltElements
                       << " elements Sinter builds as a constant";
  unsigned bits = elt.getIntOrFloatBitWidth();
  SmallVector<APInt> values;
  for (__int128 i = 0; i < n; ++i)
    values.push_back(APInt(bits, (uint64_t)(int64_t)(s + i * d), true,
                           /*implicitTrunc=*/true));
  ctx.setOutput(0, ctx.constant(DenseElementsAttr::get(
                       type(values.size()), ArrayRef<APInt>(values))));
  return success();
}

LogicalResult eyeLike(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 1)))
    return failure();
  ArrayRef<int64_t> in = ctx.inputShape(0);
  if (in.size() != 2)
    return ctx.error() << "input must be 2-D, got " << shape::str(in);
  Type elt = ctx.inputElementType(0);
  if (ctx.hasAttr("dtype")) {
    int64_t dtype = ctx.attrInt("dtype", 0);
    FailureOr<Type> t = convertElementType(ctx.context(), dtype);
    if (failed(t))
      return ctx.error() << "dtype " << onnxTypeName(dtype)
                         << " is not supported";
    elt = *t;
  }
  int64_t n;
  if (llvm::MulOverflow(in[0], in[1], n) || n > kMaxBuiltElements)
    return ctx.error() << "an identity matrix of " << shape::str(in)
                       << " is too large to build as a constant";
  int64_t k = ctx.attrInt("k", 0);
  auto type = ctx.tensorType(in, elt);
  auto isOne = [&](int64_t i) { return i % in[1] - i / in[1] == k; };
  DenseElementsAttr attr;
  if (auto ft = dyn_cast<FloatType>(elt)) {
    APFloat zero = APFloat::getZero(ft.getFloatSemantics());
    APFloat one = APFloat::getOne(ft.getFloatSemantics());
    SmallVector<APFloat> v;
    for (int64_t i = 0; i < n; ++i)
      v.push_back(isOne(i) ? one : zero);
    attr = DenseElementsAttr::get(type, ArrayRef<APFloat>(v));
  } else if (elt.isInteger(1)) {
    SmallVector<bool> v;
    for (int64_t i = 0; i < n; ++i)
      v.push_back(isOne(i));
    attr = DenseElementsAttr::get(type, ArrayRef<bool>(v));
  } else {
    SmallVector<APInt> v;
    for (int64_t i = 0; i < n; ++i)
      v.push_back(APInt(elt.getIntOrFloatBitWidth(), isOne(i)));
    attr = DenseElementsAttr::get(type, ArrayRef<APInt>(v));
  }
  ctx.setOutput(0, ctx.constant(attr));
  return success();
}

//===----------------------------------------------------------------------===//
// Casts and Dropout
//===----------------------------------------------------------------------===//

LogicalResult castOp(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 1)))
    return failure();
  if (!ctx.hasAttr("to"))
    return ctx.error() << "attribute 'to' is missing";
  int64_t to = ctx.attrInt("to", 0);
  if (to == onnx::TensorProto::UINT8)
    return ctx.error() << "cast to UINT8 of a value not known at import "
                          "(or a float outside 0..255) is not supported: "
                          "Sinter has no uint8 tensors at run time and "
                          "folds uint8 casts of constants only";
  FailureOr<Type> elt = convertElementType(ctx.context(), to);
  if (failed(elt))
    return ctx.error() << "cast to " << onnxTypeName(to)
                       << " is not supported (Sinter supports FLOAT, FLOAT16, "
                          "BFLOAT16, DOUBLE, INT64, INT32, INT8 and BOOL)";
  ctx.setOutput(0, ctx.cast(ctx.input(0), *elt));
  return success();
}

LogicalResult castLike(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 2)))
    return failure();
  ctx.setOutput(0, ctx.cast(ctx.input(0), ctx.inputElementType(1)));
  return success();
}

/// Inference-mode Dropout is the identity; the mask is all true (of the
/// input's type before opset 10, bool after). From opset 12 training_mode
/// is an input: it must be a constant false, or the ratio a constant 0.
template <int Since> LogicalResult dropout(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 1)))
    return failure();
  if (Since >= 12 && ctx.hasInput(2)) {
    std::optional<DenseElementsAttr> training = ctx.constInput(2);
    if (!training || training->getNumElements() != 1 ||
        !training->getElementType().isInteger(1))
      return ctx.error() << "training_mode must be a one-element bool "
                            "constant (Sinter compiles inference graphs)";
    bool train = *training->getValues<bool>().begin();
    std::optional<DenseElementsAttr> ratio = ctx.constInput(1);
    bool noDrop = ratio && ratio->getNumElements() == 1 &&
                  *ctx.constScalar(1, "ratio") == 0;
    if (train && !noDrop)
      return ctx.error() << "Dropout in training mode is random; Sinter "
                            "compiles inference graphs";
  }
  Value x = ctx.input(0);
  ctx.setOutput(0, x);
  if (ctx.wantsOutput(1)) {
    RankedTensorType t = ctx.inputType(0);
    Type maskElt = Since >= 10 ? (Type)ctx.b.getI1Type() : t.getElementType();
    Attribute one = ctx.b.getOneAttr(maskElt);
    ctx.setOutput(
        1, ctx.constant(DenseElementsAttr::get(t.clone(maskElt), {one})));
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Reshapes
//===----------------------------------------------------------------------===//

using ShapeFn = FailureOr<Shape> (*)(const NodeContext &, int, std::string &);

/// A node that only reshapes input 0; `fn` computes the result shape.
template <ShapeFn fn, int Since, unsigned MinInputs = 1>
LogicalResult reshapeLike(NodeContext &ctx) {
  if (failed(expectInputs(ctx, MinInputs)))
    return failure();
  std::string why;
  FailureOr<Shape> out = ctx.check(fn(ctx, Since, why), why);
  if (failed(out))
    return failure();
  ctx.setOutput(0, ctx.reshape(ctx.input(0), *out));
  return success();
}

FailureOr<Shape> flattenShape(const NodeContext &ctx, int, std::string &why) {
  return flattenResult(ctx, why);
}

LogicalResult transpose(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 1)))
    return failure();
  std::string why;
  FailureOr<SmallVector<int64_t>> perm =
      ctx.check(transposePerm(ctx, why), why);
  if (failed(perm))
    return failure();
  Value x = ctx.input(0);
  if (llvm::equal(*perm, llvm::seq<int64_t>(0, perm->size()))) {
    ctx.setOutput(0, x);
    return success();
  }
  Shape out = *shape::transpose(ctx.inputShape(0), *perm, why);
  ctx.setOutput(
      0, ctx.create<TransposeOp>(ctx.tensorType(out, ctx.inputElementType(0)),
                                 x, ctx.b.getDenseI64ArrayAttr(*perm)));
  return success();
}

LogicalResult expand(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 2)))
    return failure();
  std::string why;
  FailureOr<Shape> out = ctx.check(expandResult(ctx, why), why);
  if (failed(out))
    return failure();
  Value x = ctx.input(0);
  if (ArrayRef<int64_t>(*out) == ctx.inputShape(0))
    ctx.setOutput(0, x);
  else
    ctx.setOutput(0, ctx.create<ExpandOp>(
                         ctx.tensorType(*out, ctx.inputElementType(0)), x));
  return success();
}

/// Tile as a broadcast: [d0, d1] -> [1, d0, 1, d1] -> expand to
/// [r0, d0, r1, d1] -> [r0 * d0, r1 * d1]. Unit repeats get no new dim.
LogicalResult tile(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 2)))
    return failure();
  FailureOr<SmallVector<int64_t>> repeats = ctx.constInts(1, "repeats");
  if (failed(repeats))
    return failure();
  ArrayRef<int64_t> in = ctx.inputShape(0);
  if (repeats->size() != in.size())
    return ctx.error() << "repeats " << shape::str(*repeats)
                       << " must have one entry per dimension of "
                       << shape::str(in);
  Shape interleaved, expanded, out;
  for (auto [d, r] : llvm::zip_equal(in, *repeats)) {
    if (r < 0)
      return ctx.error() << "repeats " << shape::str(*repeats)
                         << " must not be negative";
    if (r != 1) {
      interleaved.push_back(1);
      expanded.push_back(r);
    }
    interleaved.push_back(d);
    expanded.push_back(d);
    int64_t tiled;
    if (llvm::MulOverflow(d, r, tiled))
      return ctx.error() << "repeats " << shape::str(*repeats)
                         << " make the result too large";
    out.push_back(tiled);
  }
  Value x = ctx.input(0);
  if (interleaved.size() != in.size()) {
    x = ctx.reshape(x, interleaved);
    x = ctx.create<ExpandOp>(ctx.tensorType(expanded, ctx.inputElementType(0)),
                             x);
    x = ctx.reshape(x, out);
  }
  ctx.setOutput(0, x);
  return success();
}

//===----------------------------------------------------------------------===//
// Concat, Split, Slice, Pad
//===----------------------------------------------------------------------===//

LogicalResult concat(NodeContext &ctx) {
  std::string why;
  int64_t axis;
  FailureOr<Shape> out = ctx.check(concatResult(ctx, axis, why), why);
  if (failed(out))
    return failure();
  SmallVector<Value> inputs;
  for (unsigned i = 0; i < ctx.numInputs(); ++i)
    inputs.push_back(ctx.input(i));
  if (inputs.size() == 1)
    ctx.setOutput(0, inputs[0]);
  else
    ctx.setOutput(0, ctx.create<tensor::ConcatOp>(
                         ctx.tensorType(*out, ctx.inputElementType(0)),
                         (uint64_t)axis, inputs));
  return success();
}

/// Split sizes: the 'split' attribute before 13, an input from 13; from 18
/// num_outputs splits into equal parts with a smaller last one.
template <int Since> LogicalResult split(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 1)))
    return failure();
  ArrayRef<int64_t> in = ctx.inputShape(0);
  if (in.empty())
    return ctx.error() << "cannot split a rank-0 tensor";
  FailureOr<int64_t> axis = ctx.axis(ctx.attrInt("axis", 0), in.size());
  if (failed(axis))
    return failure();
  int64_t n = ctx.numOutputs(), dim = in[*axis];
  if (n == 0)
    return ctx.error() << "has no outputs";
  SmallVector<int64_t> sizes;
  if (Since < 13) {
    sizes = ctx.attrInts("split");
  } else if (ctx.hasInput(1)) {
    FailureOr<SmallVector<int64_t>> s = ctx.constInts(1, "split");
    if (failed(s))
      return failure();
    sizes = *s;
  }
  if (!sizes.empty() || (Since >= 13 && ctx.hasInput(1))) {
    if ((int64_t)sizes.size() != n)
      return ctx.error() << "split " << shape::str(sizes) << " has "
                         << sizes.size() << " entries for " << n << " outputs";
  } else if (Since >= 18 && ctx.hasAttr("num_outputs")) {
    if (ctx.attrInt("num_outputs", 0) != n)
      return ctx.error() << "num_outputs " << ctx.attrInt("num_outputs", 0)
                         << " differs from the node's " << n << " outputs";
    int64_t chunk = (dim + n - 1) / n;
    if (chunk * (n - 1) > dim)
      return ctx.error() << "cannot split dimension " << dim << " into " << n
                         << " parts";
    sizes.assign(n - 1, chunk);
    sizes.push_back(dim - chunk * (n - 1));
  } else {
    if (dim % n != 0)
      return ctx.error() << "dimension " << dim << " of " << shape::str(in)
                         << " does not split evenly into " << n << " outputs";
    sizes.assign(n, dim / n);
  }
  std::string why;
  FailureOr<SmallVector<Shape>> outs =
      ctx.check(shape::split(in, *axis, sizes, why), why);
  if (failed(outs))
    return failure();
  SmallVector<Type> types;
  for (const Shape &s : *outs)
    types.push_back(ctx.tensorType(s, ctx.inputElementType(0)));
  auto op = ctx.create<SplitOp>(types, ctx.input(0), (uint64_t)*axis, sizes);
  for (int64_t i = 0; i < n; ++i)
    ctx.setOutput(i, op.getResult(i));
  return success();
}

/// Positive steps are a tensor.extract_slice; negative ones reverse the
/// axis first and then slice with the positive step.
template <int Since> LogicalResult slice(NodeContext &ctx) {
  if (failed(expectInputs(ctx, Since < 10 ? 1 : 3)))
    return failure();
  std::string why;
  FailureOr<SliceDims> s = ctx.check(sliceDims(ctx, Since, why), why);
  if (failed(s))
    return failure();
  Value x = ctx.input(0);
  ArrayRef<int64_t> in = ctx.inputShape(0);
  SmallVector<int64_t> reversed, offsets, strides;
  for (size_t d = 0; d < in.size(); ++d) {
    if (s->step[d] < 0) {
      reversed.push_back(d);
      offsets.push_back(in[d] - 1 - s->start[d]);
      strides.push_back(-s->step[d]);
    } else {
      offsets.push_back(s->start[d]);
      strides.push_back(s->step[d]);
    }
  }
  if (!reversed.empty())
    x = ctx.create<ReverseOp>(x.getType(), x,
                              ctx.b.getDenseI64ArrayAttr(reversed));
  bool whole = ArrayRef<int64_t>(s->size) == in &&
               llvm::all_of(offsets, [](int64_t o) { return o == 0; }) &&
               llvm::all_of(strides, [](int64_t t) { return t == 1; });
  if (!whole)
    x = ctx.create<tensor::ExtractSliceOp>(
        ctx.tensorType(s->size, ctx.inputElementType(0)), x, ValueRange(),
        ValueRange(), ValueRange(), offsets, s->size, strides);
  ctx.setOutput(0, x);
  return success();
}

/// Pad: attributes before 11, pads and constant_value inputs from 11, an
/// axes input from 18.
template <int Since> LogicalResult pad(NodeContext &ctx) {
  if (failed(expectInputs(ctx, Since < 11 ? 1 : 2)))
    return failure();
  ArrayRef<int64_t> in = ctx.inputShape(0);
  int64_t rank = in.size();
  Type elt = ctx.inputElementType(0);
  std::string modeName = ctx.attrString("mode", "constant");
  std::optional<PadMode> mode = symbolizePadMode(modeName);
  if (!mode)
    return ctx.error() << "mode '" << modeName
                       << "' is not one of constant, reflect, edge, wrap";
  if (*mode == PadMode::wrap && ctx.opset < 19)
    return ctx.error() << "mode 'wrap' exists from opset 19 on";
  SmallVector<int64_t> pads;
  if (Since < 11) {
    pads = ctx.attrInts("pads");
  } else {
    FailureOr<SmallVector<int64_t>> p = ctx.constInts(1, "pads");
    if (failed(p))
      return failure();
    pads = *p;
  }
  if (Since >= 18 && ctx.hasInput(3)) {
    // Pads name only the listed axes: [begin of each, end of each].
    FailureOr<SmallVector<int64_t>> axes = ctx.constInts(3, "axes");
    if (failed(axes))
      return failure();
    if (pads.size() != 2 * axes->size())
      return ctx.error() << "pads " << shape::str(pads) << " must have 2 * "
                         << axes->size() << " entries for axes "
                         << shape::str(*axes);
    SmallVector<int64_t> full(2 * rank, 0);
    SmallVector<bool> seen(rank, false);
    for (auto [i, a] : llvm::enumerate(*axes)) {
      FailureOr<int64_t> n = ctx.axis(a, rank);
      if (failed(n))
        return failure();
      if (seen[*n])
        return ctx.error() << "axes " << shape::str(*axes) << " name axis "
                           << *n << " twice";
      seen[*n] = true;
      full[*n] = pads[i];
      full[rank + *n] = pads[axes->size() + i];
    }
    pads = full;
  }
  std::string why;
  FailureOr<Shape> out = ctx.check(shape::pad(in, pads, why), why);
  if (failed(out))
    return failure();
  if (*mode != PadMode::constant)
    for (int64_t d = 0; d < rank; ++d)
      if (in[d] == 0 && (pads[d] > 0 || pads[rank + d] > 0))
        return ctx.error() << "mode '" << modeName
                           << "' cannot pad the empty dimension " << d;
  Value value;
  if (Since < 11) {
    value = ctx.scalar(
        elt, *mode == PadMode::constant ? ctx.attrFloat("value", 0) : 0.0);
  } else if (ctx.hasInput(2) && *mode == PadMode::constant) {
    RankedTensorType vt = ctx.inputType(2);
    if (vt.getElementType() != elt || vt.getNumElements() != 1)
      return ctx.error() << "constant_value must be one element of the "
                            "input's element type, got "
                         << vt;
    value = ctx.reshape(ctx.input(2), {});
  } else {
    value = ctx.scalar(elt, 0);
  }
  ctx.setOutput(0, ctx.create<PadOp>(ctx.tensorType(*out, elt), ctx.input(0),
                                     value, pads, *mode));
  return success();
}

//===----------------------------------------------------------------------===//
// Gathers and scatters
//===----------------------------------------------------------------------===//

LogicalResult gather(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 2)) || failed(checkIndices(ctx, 1, false)))
    return failure();
  std::string why;
  int64_t axis;
  FailureOr<Shape> out = ctx.check(gatherResult(ctx, axis, why), why);
  if (failed(out))
    return failure();
  ctx.setOutput(
      0, ctx.create<GatherOp>(ctx.tensorType(*out, ctx.inputElementType(0)),
                              ctx.input(0), ctx.input(1), (uint64_t)axis));
  return success();
}

LogicalResult gatherElements(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 2)) || failed(checkIndices(ctx, 1, false)))
    return failure();
  ArrayRef<int64_t> data = ctx.inputShape(0), indices = ctx.inputShape(1);
  FailureOr<int64_t> axis = ctx.axis(ctx.attrInt("axis", 0), data.size());
  if (failed(axis))
    return failure();
  if (indices.size() != data.size() || data.empty())
    return ctx.error() << "indices " << shape::str(indices)
                       << " must have the rank of data " << shape::str(data);
  ctx.setOutput(0, ctx.create<GatherElementsOp>(
                       ctx.tensorType(indices, ctx.inputElementType(0)),
                       ctx.input(0), ctx.input(1), (uint64_t)*axis));
  return success();
}

/// GatherND; batch_dims exists from opset 12 on.
template <int Since> LogicalResult gatherND(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 2)) || failed(checkIndices(ctx, 1, true)))
    return failure();
  int64_t batchDims = Since >= 12 ? ctx.attrInt("batch_dims", 0) : 0;
  std::string why;
  FailureOr<Shape> out = ctx.check(
      shape::gatherND(ctx.inputShape(0), ctx.inputShape(1), batchDims, why),
      why);
  if (failed(out))
    return failure();
  ctx.setOutput(0, ctx.create<GatherNDOp>(
                       ctx.tensorType(*out, ctx.inputElementType(0)),
                       ctx.input(0), ctx.input(1), (uint64_t)batchDims));
  return success();
}

/// The reduction attribute: none before 16, add and mul from 16, max and
/// min from 18.
FailureOr<ScatterReduction> scatterReduction(NodeContext &ctx, int since) {
  std::string name = since >= 16 ? ctx.attrString("reduction", "none") : "none";
  std::optional<ScatterReduction> r = symbolizeScatterReduction(name);
  bool minMax = r == ScatterReduction::max || r == ScatterReduction::min;
  if (!r || (minMax && since < 18))
    return ctx.error() << "reduction '" << name
                       << "' is not supported at this opset",
           failure();
  return *r;
}

LogicalResult checkScatterOperands(NodeContext &ctx, bool i64Only) {
  if (failed(expectInputs(ctx, 3)) || failed(checkIndices(ctx, 1, i64Only)))
    return failure();
  if (ctx.inputElementType(0) != ctx.inputElementType(2))
    return ctx.error() << "data and updates have different element types ("
                       << ctx.inputElementType(0) << " and "
                       << ctx.inputElementType(2) << ")";
  return success();
}

template <int Since> LogicalResult scatterElements(NodeContext &ctx) {
  if (failed(checkScatterOperands(ctx, false)))
    return failure();
  FailureOr<ScatterReduction> red = scatterReduction(ctx, Since);
  if (failed(red))
    return failure();
  ArrayRef<int64_t> data = ctx.inputShape(0), indices = ctx.inputShape(1);
  FailureOr<int64_t> axis = ctx.axis(ctx.attrInt("axis", 0), data.size());
  if (failed(axis))
    return failure();
  if (data.empty() || indices.size() != data.size() ||
      indices != ctx.inputShape(2))
    return ctx.error() << "indices " << shape::str(indices) << " and updates "
                       << shape::str(ctx.inputShape(2))
                       << " must share a shape of the rank of data "
                       << shape::str(data);
  ctx.setOutput(0, ctx.create<ScatterElementsOp>(ctx.inputType(0), ctx.input(0),
                                                 ctx.input(1), ctx.input(2),
                                                 (uint64_t)*axis, *red));
  return success();
}

/// Scatter (opsets 9 and 10) is ScatterElements without reduction; opset
/// 11 deprecated it.
LogicalResult scatter(NodeContext &ctx) {
  if (ctx.opset >= 11)
    return ctx.error() << "Scatter is deprecated from opset 11 on; use "
                          "ScatterElements";
  return scatterElements<11>(ctx);
}

template <int Since> LogicalResult scatterND(NodeContext &ctx) {
  if (failed(checkScatterOperands(ctx, true)))
    return failure();
  FailureOr<ScatterReduction> red = scatterReduction(ctx, Since);
  if (failed(red))
    return failure();
  std::string why;
  if (failed(
          ctx.check(shape::checkScatterND(ctx.inputShape(0), ctx.inputShape(1),
                                          ctx.inputShape(2), why),
                    why)))
    return failure();
  ctx.setOutput(0, ctx.create<ScatterNDOp>(ctx.inputType(0), ctx.input(0),
                                           ctx.input(1), ctx.input(2), *red));
  return success();
}

//===----------------------------------------------------------------------===//
// Trilu, Where
//===----------------------------------------------------------------------===//

LogicalResult trilu(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 1)))
    return failure();
  if (ctx.inputShape(0).size() < 2)
    return ctx.error() << "input must have rank >= 2, got "
                       << shape::str(ctx.inputShape(0));
  int64_t k = 0;
  if (ctx.hasInput(1)) {
    FailureOr<SmallVector<int64_t>> kv = ctx.constInts(1, "k");
    if (failed(kv))
      return failure();
    if (kv->size() != 1)
      return ctx.error() << "k must have one element";
    k = (*kv)[0];
  }
  bool upper = ctx.attrInt("upper", 1) != 0;
  ctx.setOutput(0, ctx.create<TriluOp>(ctx.inputType(0), ctx.input(0),
                                       ctx.b.getI64IntegerAttr(k),
                                       upper ? ctx.b.getUnitAttr() : nullptr));
  return success();
}

LogicalResult where(NodeContext &ctx) {
  if (failed(expectInputs(ctx, 3)) ||
      failed(checkTypeClass(ctx, 0, TypeClass::Bool)))
    return failure();
  if (ctx.inputElementType(1) != ctx.inputElementType(2))
    return ctx.error() << "X and Y have different element types ("
                       << ctx.inputElementType(1) << " and "
                       << ctx.inputElementType(2) << ")";
  std::string why;
  FailureOr<Shape> out = ctx.check(
      shape::broadcast(
          {ctx.inputShape(0), ctx.inputShape(1), ctx.inputShape(2)}, why),
      why);
  if (failed(out))
    return failure();
  ctx.setOutput(
      0, ctx.create<WhereOp>(ctx.tensorType(*out, ctx.inputElementType(1)),
                             ctx.input(0), ctx.input(1), ctx.input(2)));
  return success();
}

} // namespace

void registerTensorHandlers(HandlerRegistry &r) {
  r.add("", "Identity", 1, identity);
  r.add("", "Constant", 1, constant<1>);
  r.add("", "Constant", 12, constant<12>);
  r.add("", "ConstantOfShape", 9, constantOfShape);
  r.add("", "Shape", 1, shapeOf<1>);
  r.add("", "Shape", 15, shapeOf<15>);
  r.add("", "Size", 1, size);
  r.add("", "Range", 11, range);
  r.add("", "EyeLike", 9, eyeLike);

  r.add("", "Cast", 6, castOp);
  r.add("", "CastLike", 15, castLike);
  r.add("", "Dropout", 7, dropout<7>);
  r.add("", "Dropout", 10, dropout<10>);
  r.add("", "Dropout", 12, dropout<12>);

  r.add("", "Reshape", 5, reshapeLike<reshapeResult, 5, 2>);
  r.add("", "Reshape", 14, reshapeLike<reshapeResult, 14, 2>);
  r.add("", "Flatten", 1, reshapeLike<flattenShape, 1>);
  r.add("", "Squeeze", 1, reshapeLike<squeezeResult, 1>);
  r.add("", "Squeeze", 13, reshapeLike<squeezeResult, 13>);
  r.add("", "Unsqueeze", 1, reshapeLike<unsqueezeResult, 1>);
  r.add("", "Unsqueeze", 13, reshapeLike<unsqueezeResult, 13, 2>);
  r.add("", "Transpose", 1, transpose);
  r.add("", "Expand", 8, expand);
  r.add("", "Tile", 6, tile);

  r.add("", "Concat", 4, concat);
  r.add("", "Split", 2, split<2>);
  r.add("", "Split", 13, split<13>);
  r.add("", "Split", 18, split<18>);
  r.add("", "Slice", 1, slice<1>);
  r.add("", "Slice", 10, slice<10>);
  r.add("", "Pad", 2, pad<2>);
  r.add("", "Pad", 11, pad<11>);
  r.add("", "Pad", 18, pad<18>);

  r.add("", "Gather", 1, gather);
  r.add("", "GatherElements", 11, gatherElements);
  r.add("", "GatherND", 11, gatherND<11>);
  r.add("", "GatherND", 12, gatherND<12>);
  r.add("", "Scatter", 9, scatter);
  r.add("", "ScatterElements", 11, scatterElements<11>);
  r.add("", "ScatterElements", 16, scatterElements<16>);
  r.add("", "ScatterElements", 18, scatterElements<18>);
  r.add("", "ScatterND", 11, scatterND<11>);
  r.add("", "ScatterND", 16, scatterND<16>);
  r.add("", "ScatterND", 18, scatterND<18>);

  r.add("", "Trilu", 14, trilu);
  r.add("", "Where", 9, where);
}

} // namespace sinter::onnx_import
