//===- ConstantFolding.cpp - compile-time evaluation of constant nodes ----===//
//
// Exported graphs compute shapes at runtime: Shape -> Gather -> Unsqueeze ->
// Concat -> Reshape. With static shapes all of that is known at import, so a
// node whose inputs are all small constants is evaluated here, on host
// values, and its handler never runs. Only exact results are produced: i1,
// i8, i32 and i64 with two's-complement wrap-around, f32 and f64 where the
// operation is correctly rounded (an f32 op computed in double and rounded
// once is exact for + - * / sqrt). Whatever cannot be computed exactly, and
// every node the handler would reject, is left to the handler.
//
//===----------------------------------------------------------------------===//

#include "ImporterInternals.h"
#include "TensorShapes.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>

using namespace mlir;

namespace sinter::onnx_import {
using shape::Shape;

namespace {

/// Inputs and results above this size are left to the handler: folding is
/// for shape arithmetic, not for weights.
constexpr int64_t kMaxFoldElements = 65536;

/// A constant tensor as host values: integers (and i1 as 0/1) sign-extended
/// to int64, f32 and f64 as double.
struct Literal {
  Shape shape;
  Type elt;
  SmallVector<int64_t> ints;
  SmallVector<double> floats;

  bool isFloat() const { return isa<FloatType>(elt); }
  bool isBool() const { return elt.isInteger(1); }
  int64_t size() const { return isFloat() ? floats.size() : ints.size(); }
};

std::optional<Literal> readLiteral(DenseElementsAttr a) {
  Literal l{Shape(a.getType().getShape()), a.getElementType(), {}, {}};
  if (l.elt.isF32())
    llvm::append_range(l.floats, a.getValues<float>());
  else if (l.elt.isF64())
    llvm::append_range(l.floats, a.getValues<double>());
  else if (l.isBool())
    for (bool v : a.getValues<bool>())
      l.ints.push_back(v);
  else if (l.elt.isInteger(8) || l.elt.isInteger(32) || l.elt.isInteger(64))
    for (const APInt &v : a.getValues<APInt>())
      l.ints.push_back(v.getSExtValue());
  else
    return std::nullopt;
  return l;
}

DenseElementsAttr writeLiteral(const Literal &l) {
  auto type = RankedTensorType::get(l.shape, l.elt);
  if (l.elt.isF32()) {
    SmallVector<float> v(l.floats.begin(), l.floats.end());
    return DenseElementsAttr::get(type, ArrayRef<float>(v));
  }
  if (l.elt.isF64())
    return DenseElementsAttr::get(type, ArrayRef<double>(l.floats));
  if (l.isBool()) {
    SmallVector<bool> v(l.ints.begin(), l.ints.end());
    return DenseElementsAttr::get(type, ArrayRef<bool>(v));
  }
  SmallVector<APInt> v;
  for (int64_t x : l.ints)
    v.push_back(APInt(l.elt.getIntOrFloatBitWidth(), (uint64_t)x, true,
                      /*implicitTrunc=*/true));
  return DenseElementsAttr::get(type, ArrayRef<APInt>(v));
}

/// Two's-complement wrap of `v` to the width of `elt`.
int64_t wrap(int64_t v, Type elt) {
  unsigned bits = elt.getIntOrFloatBitWidth();
  if (bits == 1)
    return v != 0;
  return bits >= 64 ? v : llvm::SignExtend64(v, bits);
}

/// Rounds a double to the precision of `elt` (f32 or f64).
double roundTo(double v, Type elt) { return elt.isF32() ? (float)v : v; }

/// The element count, saturated so that huge shapes compare as too large.
int64_t numElements(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    if (llvm::MulOverflow(n, d, n))
      return INT64_MAX;
  return n;
}

SmallVector<int64_t> stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> s(shape.size(), 1);
  for (int64_t i = (int64_t)shape.size() - 2; i >= 0; --i)
    s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/// For each element of `out` in row-major order, `fn(index)` gives the flat
/// source index it reads.
template <typename Fn>
SmallVector<int64_t> mapIndices(ArrayRef<int64_t> out, Fn fn) {
  SmallVector<int64_t> from, idx(out.size(), 0);
  for (int64_t n = numElements(out), k = 0; k < n; ++k) {
    from.push_back(fn(ArrayRef<int64_t>(idx)));
    for (int64_t d = (int64_t)out.size() - 1; d >= 0; --d) {
      if (++idx[d] < out[d])
        break;
      idx[d] = 0;
    }
  }
  return from;
}

/// The elements of `src` at flat indices `from`, with shape `shape`.
Literal take(const Literal &src, Shape shape, ArrayRef<int64_t> from) {
  Literal r{std::move(shape), src.elt, {}, {}};
  for (int64_t i : from) {
    if (src.isFloat())
      r.floats.push_back(src.floats[i]);
    else
      r.ints.push_back(src.ints[i]);
  }
  return r;
}

/// numpy broadcasting: the flat index into `in` read by each element of
/// `out`.
SmallVector<int64_t> broadcastFrom(ArrayRef<int64_t> in,
                                   ArrayRef<int64_t> out) {
  SmallVector<int64_t> strides = stridesOf(in);
  size_t lead = out.size() - in.size();
  return mapIndices(out, [&](ArrayRef<int64_t> idx) {
    int64_t flat = 0;
    for (size_t d = 0; d < in.size(); ++d)
      flat += in[d] == 1 ? 0 : idx[lead + d] * strides[d];
    return flat;
  });
}

//===----------------------------------------------------------------------===//
// Elementwise ops
//===----------------------------------------------------------------------===//

/// Integer results; nullopt where the value is undefined (division by
/// zero, overflow of a signed division).
std::optional<int64_t> intBinary(StringRef op, int64_t a, int64_t b, Type elt) {
  uint64_t ua = a, ub = b;
  if (op == "Add" || op == "Sum")
    return wrap((int64_t)(ua + ub), elt);
  if (op == "Sub")
    return wrap((int64_t)(ua - ub), elt);
  if (op == "Mul")
    return wrap((int64_t)(ua * ub), elt);
  if (op == "Div" || op == "Mod") {
    if (b == 0 || (a == INT64_MIN && b == -1))
      return std::nullopt;
    if (op == "Div")
      return wrap(a / b, elt) == a / b ? std::optional(a / b) : std::nullopt;
    int64_t r = a % b;
    // Mod takes the sign of the divisor (fmod=0).
    return r != 0 && (r < 0) != (b < 0) ? r + b : r;
  }
  if (op == "Min")
    return std::min(a, b);
  if (op == "Max")
    return std::max(a, b);
  if (op == "And")
    return a && b;
  if (op == "Or")
    return a || b;
  if (op == "Xor")
    return (a != 0) != (b != 0);
  if (op == "Equal")
    return a == b;
  if (op == "Less")
    return a < b;
  if (op == "Greater")
    return a > b;
  if (op == "LessOrEqual")
    return a <= b;
  if (op == "GreaterOrEqual")
    return a >= b;
  return std::nullopt;
}

std::optional<double> floatBinary(StringRef op, double a, double b) {
  if (op == "Add" || op == "Sum")
    return a + b;
  if (op == "Sub")
    return a - b;
  if (op == "Mul")
    return a * b;
  if (op == "Div")
    return a / b;
  if (op == "Min" || op == "Max") {
    if (std::isnan(a) || std::isnan(b))
      return NAN;
    return op == "Min" ? std::min(a, b) : std::max(a, b);
  }
  if (op == "Equal")
    return a == b;
  if (op == "Less")
    return a < b;
  if (op == "Greater")
    return a > b;
  if (op == "LessOrEqual")
    return a <= b;
  if (op == "GreaterOrEqual")
    return a >= b;
  return std::nullopt;
}

bool isComparison(StringRef op) {
  return op == "Equal" || op == "Less" || op == "Greater" ||
         op == "LessOrEqual" || op == "GreaterOrEqual";
}

/// A broadcasting binary op, with the type rules of ElementwiseOps.cpp.
std::optional<Literal> binary(StringRef op, const Literal &a,
                              const Literal &b) {
  bool logic = op == "And" || op == "Or" || op == "Xor";
  if (a.elt != b.elt || logic != a.isBool() ||
      (a.isBool() && !logic && op != "Equal") || (op == "Mod" && a.isFloat()))
    return std::nullopt;
  std::string why;
  FailureOr<Shape> out = shape::broadcast({a.shape, b.shape}, why);
  if (failed(out) || numElements(*out) > kMaxFoldElements)
    return std::nullopt;
  SmallVector<int64_t> ia = broadcastFrom(a.shape, *out);
  SmallVector<int64_t> ib = broadcastFrom(b.shape, *out);
  bool compare = isComparison(op);
  Literal r{
      *out, compare ? IntegerType::get(a.elt.getContext(), 1) : a.elt, {}, {}};
  for (size_t k = 0; k < ia.size(); ++k) {
    if (a.isFloat()) {
      std::optional<double> v =
          floatBinary(op, a.floats[ia[k]], b.floats[ib[k]]);
      if (!v)
        return std::nullopt;
      if (compare)
        r.ints.push_back(*v != 0);
      else
        r.floats.push_back(roundTo(*v, a.elt));
      continue;
    }
    std::optional<int64_t> v =
        intBinary(op, a.ints[ia[k]], b.ints[ib[k]], a.elt);
    if (!v)
      return std::nullopt;
    r.ints.push_back(*v);
  }
  return r;
}

std::optional<Literal> unary(StringRef op, const Literal &x) {
  bool logic = op == "Not";
  if (logic != x.isBool())
    return std::nullopt;
  bool floatOnly = op == "Sqrt" || op == "Floor" || op == "Ceil";
  if (floatOnly && !x.isFloat())
    return std::nullopt;
  Literal r{x.shape, x.elt, {}, {}};
  for (double v : x.floats) {
    double y = op == "Neg"     ? -v
               : op == "Abs"   ? std::fabs(v)
               : op == "Sqrt"  ? std::sqrt(v)
               : op == "Floor" ? std::floor(v)
               : op == "Ceil"  ? std::ceil(v)
               : op == "Sign"  ? (double)((v > 0) - (v < 0))
                               : NAN;
    if (op == "Sign" && std::isnan(v))
      y = v;
    r.floats.push_back(roundTo(y, x.elt));
  }
  for (int64_t v : x.ints) {
    uint64_t u = v;
    int64_t y = op == "Neg"    ? (int64_t)(0 - u)
                : op == "Abs"  ? (v < 0 ? (int64_t)(0 - u) : v)
                : op == "Sign" ? (v > 0) - (v < 0)
                               : !v;
    r.ints.push_back(wrap(y, x.elt));
  }
  return r;
}

/// Cast between the types read above; nullopt where the C++ conversion
/// would be undefined or round twice.
std::optional<Literal> castTo(const Literal &x, Type to) {
  if (!(to.isF32() || to.isF64() || to.isInteger(1) || to.isInteger(8) ||
        to.isInteger(32) || to.isInteger(64)))
    return std::nullopt;
  Literal r{x.shape, to, {}, {}};
  bool toFloat = isa<FloatType>(to);
  for (int64_t k = 0, n = x.size(); k < n; ++k) {
    if (!x.isFloat()) {
      int64_t v = x.ints[k];
      if (!toFloat) {
        r.ints.push_back(wrap(v, to));
        continue;
      }
      // Above 2^53 int64 -> double already rounds.
      if (v > (int64_t(1) << 53) || v < -(int64_t(1) << 53))
        return std::nullopt;
      r.floats.push_back(roundTo((double)v, to));
      continue;
    }
    double v = x.floats[k];
    if (toFloat) {
      r.floats.push_back(roundTo(v, to));
    } else if (to.isInteger(1)) {
      r.ints.push_back(v != 0);
    } else {
      double t = std::trunc(v);
      unsigned bits = to.getIntOrFloatBitWidth();
      double lim = std::ldexp(1.0, bits - 1);
      if (!(t >= -lim && t < lim))
        return std::nullopt;
      r.ints.push_back((int64_t)t);
    }
  }
  return r;
}

std::optional<Literal> where(const Literal &c, const Literal &x,
                             const Literal &y) {
  if (!c.isBool() || x.elt != y.elt)
    return std::nullopt;
  std::string why;
  FailureOr<Shape> out = shape::broadcast({c.shape, x.shape, y.shape}, why);
  if (failed(out) || numElements(*out) > kMaxFoldElements)
    return std::nullopt;
  SmallVector<int64_t> ic = broadcastFrom(c.shape, *out);
  SmallVector<int64_t> ix = broadcastFrom(x.shape, *out);
  SmallVector<int64_t> iy = broadcastFrom(y.shape, *out);
  Literal r{*out, x.elt, {}, {}};
  for (size_t k = 0; k < ic.size(); ++k) {
    bool pick = c.ints[ic[k]];
    if (x.isFloat())
      r.floats.push_back(pick ? x.floats[ix[k]] : y.floats[iy[k]]);
    else
      r.ints.push_back(pick ? x.ints[ix[k]] : y.ints[iy[k]]);
  }
  return r;
}

/// ReduceSum/Prod over integers, ReduceMax/Min over any number; mirrors the
/// axes handling of ReductionOps.cpp.
std::optional<Literal> reduce(const NodeContext &ctx, StringRef op,
                              const Literal &x, int since) {
  bool axesIsInput = since >= (op == "ReduceSum" ? 13 : 18);
  bool minMax = op == "ReduceMax" || op == "ReduceMin";
  if (x.isBool() || (x.isFloat() && !minMax) ||
      (axesIsInput && ctx.hasAttr("axes")))
    return std::nullopt;
  SmallVector<int64_t> axes = ctx.attrInts("axes");
  bool noop = false;
  if (axesIsInput) {
    std::string why;
    if (ctx.hasInput(1)) {
      FailureOr<SmallVector<int64_t>> a = readConstInts(ctx, 1, "axes", why);
      if (failed(a))
        return std::nullopt;
      axes = *a;
    }
    noop = axes.empty() && ctx.attrInt("noop_with_empty_axes", 0) != 0;
  }
  int64_t rank = x.shape.size();
  if (noop)
    return x;
  if (axes.empty())
    axes = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  SmallVector<bool> reduced(rank, false);
  for (int64_t a : axes) {
    if (a < -rank || a >= rank)
      return std::nullopt;
    reduced[a < 0 ? a + rank : a] = true;
  }
  // Accumulate each element into the result element of its kept indices.
  Shape kept;
  for (int64_t d = 0; d < rank; ++d)
    kept.push_back(reduced[d] ? 1 : x.shape[d]);
  SmallVector<int64_t> keptStrides = stridesOf(kept);
  SmallVector<int64_t> to = mapIndices(x.shape, [&](ArrayRef<int64_t> idx) {
    int64_t flat = 0;
    for (int64_t d = 0; d < rank; ++d)
      flat += reduced[d] ? 0 : idx[d] * keptStrides[d];
    return flat;
  });
  int64_t n = numElements(kept);
  SmallVector<bool> seen(n, false);
  Literal r{kept, x.elt, {}, {}};
  r.ints.assign(x.isFloat() ? 0 : n, op == "ReduceProd" ? 1 : 0);
  r.floats.assign(x.isFloat() ? n : 0, 0);
  for (size_t k = 0; k < to.size(); ++k) {
    int64_t o = to[k];
    if (x.isFloat()) {
      double v = x.floats[k], &acc = r.floats[o];
      bool nan = std::isnan(v) || std::isnan(acc);
      acc = !seen[o] ? v
            : nan    ? NAN
                  : (op == "ReduceMax" ? std::max(acc, v) : std::min(acc, v));
    } else {
      int64_t v = x.ints[k], &acc = r.ints[o];
      uint64_t ua = acc, uv = v;
      acc = op == "ReduceSum"    ? wrap((int64_t)(ua + uv), x.elt)
            : op == "ReduceProd" ? wrap((int64_t)(ua * uv), x.elt)
            : !seen[o]           ? v
            : op == "ReduceMax"  ? std::max(acc, v)
                                 : std::min(acc, v);
    }
    seen[o] = true;
  }
  // Max/Min of an empty set have no value.
  if (minMax && llvm::is_contained(seen, false))
    return std::nullopt;
  if (!(ctx.attrInt("keepdims", 1) != 0))
    r.shape = shape::reduce(x.shape,
                            llvm::to_vector(llvm::make_filter_range(
                                llvm::seq<int64_t>(0, rank),
                                [&](int64_t d) { return reduced[d]; })),
                            false);
  return r;
}

//===----------------------------------------------------------------------===//
// Data movement, with the shape rules the handlers use
//===----------------------------------------------------------------------===//

std::optional<Literal> reshaped(const Literal &x, FailureOr<Shape> shape) {
  if (failed(shape))
    return std::nullopt;
  Literal r = x;
  r.shape = *shape;
  return r;
}

std::optional<Literal> concat(const NodeContext &ctx,
                              ArrayRef<Literal> inputs) {
  std::string why;
  int64_t axis;
  FailureOr<Shape> out = concatResult(ctx, axis, why);
  if (failed(out))
    return std::nullopt;
  // Each input contributes a block of shape[axis:] per outer index.
  int64_t outer = numElements(ArrayRef<int64_t>(*out).take_front(axis));
  Literal r{*out, inputs[0].elt, {}, {}};
  for (int64_t o = 0; o < outer; ++o)
    for (const Literal &in : inputs) {
      int64_t block = numElements(ArrayRef<int64_t>(in.shape).drop_front(axis));
      if (in.isFloat())
        r.floats.append(in.floats.begin() + o * block,
                        in.floats.begin() + (o + 1) * block);
      else
        r.ints.append(in.ints.begin() + o * block,
                      in.ints.begin() + (o + 1) * block);
    }
  return r;
}

std::optional<Literal> gather(const NodeContext &ctx, const Literal &data,
                              const Literal &indices) {
  std::string why;
  int64_t axis;
  FailureOr<Shape> out = gatherResult(ctx, axis, why);
  if (failed(out) || numElements(*out) > kMaxFoldElements ||
      !(indices.elt.isInteger(64) || indices.elt.isInteger(32)))
    return std::nullopt;
  int64_t dim = data.shape[axis];
  int64_t inner =
      numElements(ArrayRef<int64_t>(data.shape).drop_front(axis + 1));
  int64_t outer = numElements(ArrayRef<int64_t>(data.shape).take_front(axis));
  SmallVector<int64_t> from;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i : indices.ints) {
      if (i < -dim || i >= dim)
        return std::nullopt;
      int64_t row = i < 0 ? i + dim : i;
      for (int64_t k = 0; k < inner; ++k)
        from.push_back((o * dim + row) * inner + k);
    }
  return take(data, *out, from);
}

std::optional<Literal> slice(const NodeContext &ctx, const Literal &x,
                             int since) {
  std::string why;
  FailureOr<SliceDims> s = sliceDims(ctx, since, why);
  if (failed(s))
    return std::nullopt;
  SmallVector<int64_t> strides = stridesOf(x.shape);
  Shape out(s->size.begin(), s->size.end());
  return take(x, out, mapIndices(out, [&](ArrayRef<int64_t> idx) {
                int64_t flat = 0;
                for (size_t d = 0; d < idx.size(); ++d)
                  flat += (s->start[d] + idx[d] * s->step[d]) * strides[d];
                return flat;
              }));
}

std::optional<Literal> transpose(const NodeContext &ctx, const Literal &x) {
  std::string why;
  FailureOr<SmallVector<int64_t>> perm = transposePerm(ctx, why);
  if (failed(perm))
    return std::nullopt;
  SmallVector<int64_t> strides = stridesOf(x.shape);
  Shape out = *shape::transpose(x.shape, *perm, why);
  return take(x, out, mapIndices(out, [&](ArrayRef<int64_t> idx) {
                int64_t flat = 0;
                for (size_t d = 0; d < idx.size(); ++d)
                  flat += idx[d] * strides[(*perm)[d]];
                return flat;
              }));
}

std::optional<Literal> expand(const NodeContext &ctx, const Literal &x) {
  std::string why;
  FailureOr<Shape> out = expandResult(ctx, why);
  if (failed(out) || numElements(*out) > kMaxFoldElements)
    return std::nullopt;
  return take(x, *out, broadcastFrom(x.shape, *out));
}

std::optional<Literal> tile(const Literal &x, const Literal &repeats) {
  if (!repeats.elt.isInteger(64) || repeats.shape.size() != 1 ||
      repeats.shape[0] != (int64_t)x.shape.size())
    return std::nullopt;
  Shape out;
  for (auto [d, r] : llvm::zip_equal(x.shape, repeats.ints)) {
    if (r < 0 || (d && r > kMaxFoldElements))
      return std::nullopt;
    out.push_back(d * r);
  }
  if (numElements(out) > kMaxFoldElements)
    return std::nullopt;
  SmallVector<int64_t> strides = stridesOf(x.shape);
  return take(x, out, mapIndices(out, [&](ArrayRef<int64_t> idx) {
                int64_t flat = 0;
                for (size_t d = 0; d < idx.size(); ++d)
                  flat += idx[d] % x.shape[d] * strides[d];
                return flat;
              }));
}

/// Evaluates the node on `in` (one literal per input slot; absent inputs
/// are empty literals never read). `since` is the handler's since-version.
std::optional<Literal> evaluate(const NodeContext &ctx, StringRef op,
                                ArrayRef<Literal> in, int since) {
  std::string why;
  unsigned n = in.size();
  auto has = [&](unsigned i) { return i < n && ctx.hasInput(i); };
  if (isComparison(op) || op == "Add" || op == "Sub" || op == "Mul" ||
      op == "Div" || op == "Mod" || op == "And" || op == "Or" || op == "Xor") {
    if (!has(0) || !has(1) || (op == "Mod" && ctx.attrInt("fmod", 0) != 0))
      return std::nullopt;
    return binary(op, in[0], in[1]);
  }
  if (op == "Sum" || op == "Min" || op == "Max") {
    // Variadic from opset 8: a left-to-right chain, as the handler builds.
    if (!has(0))
      return std::nullopt;
    std::optional<Literal> acc = in[0];
    for (unsigned i = 1; acc && i < n; ++i)
      acc = has(i) ? binary(op, *acc, in[i]) : std::nullopt;
    if (acc && acc->isBool())
      return std::nullopt;
    return acc;
  }
  if (op == "Neg" || op == "Abs" || op == "Not" || op == "Sqrt" ||
      op == "Floor" || op == "Ceil" || op == "Sign")
    return has(0) ? unary(op, in[0]) : std::nullopt;
  if (op == "Cast" || op == "CastLike") {
    if (!has(0) || (op == "CastLike" && !has(1)))
      return std::nullopt;
    Type to = op == "CastLike" ? in[1].elt : Type();
    if (op == "Cast") {
      FailureOr<Type> t =
          convertElementType(ctx.context(), ctx.attrInt("to", 0));
      if (!ctx.hasAttr("to") || failed(t))
        return std::nullopt;
      to = *t;
    }
    return castTo(in[0], to);
  }
  if (op == "Where")
    return n == 3 && has(0) && has(1) && has(2) ? where(in[0], in[1], in[2])
                                                : std::nullopt;
  if (op == "ReduceSum" || op == "ReduceProd" || op == "ReduceMax" ||
      op == "ReduceMin")
    return has(0) ? reduce(ctx, op, in[0], since) : std::nullopt;
  if (!has(0))
    return std::nullopt;
  if (op == "Reshape")
    return has(1) ? reshaped(in[0], reshapeResult(ctx, since, why))
                  : std::nullopt;
  if (op == "Squeeze")
    return reshaped(in[0], squeezeResult(ctx, since, why));
  if (op == "Unsqueeze")
    return reshaped(in[0], unsqueezeResult(ctx, since, why));
  if (op == "Flatten")
    return reshaped(in[0], flattenResult(ctx, why));
  if (op == "Concat")
    return concat(ctx, in);
  if (op == "Gather")
    return has(1) ? gather(ctx, in[0], in[1]) : std::nullopt;
  if (op == "Slice")
    return since >= 10 && (!has(1) || !has(2)) ? std::nullopt
                                               : slice(ctx, in[0], since);
  if (op == "Transpose")
    return transpose(ctx, in[0]);
  if (op == "Expand")
    return has(1) ? expand(ctx, in[0]) : std::nullopt;
  if (op == "Tile")
    return has(1) ? tile(in[0], in[1]) : std::nullopt;
  return std::nullopt;
}

/// Cast to uint8 as C converts: integers modulo 256, floats truncated
/// (nullopt outside 0..255, where the conversion is undefined). The result
/// holds 0..255 in an i8 literal.
std::optional<Literal> castToUint8(const Literal &x) {
  Literal r{x.shape, IntegerType::get(x.elt.getContext(), 8), {}, {}};
  for (int64_t k = 0, n = x.size(); k < n; ++k) {
    if (!x.isFloat()) {
      r.ints.push_back(x.ints[k] & 0xff);
      continue;
    }
    double t = std::trunc(x.floats[k]);
    if (!(t >= 0 && t < 256))
      return std::nullopt;
    r.ints.push_back((int64_t)t);
  }
  return r;
}

/// Ops that only move elements of input 0 (the result has its type).
bool isDataMovement(StringRef op) {
  return op == "Reshape" || op == "Squeeze" || op == "Unsqueeze" ||
         op == "Flatten" || op == "Concat" || op == "Gather" ||
         op == "Slice" || op == "Transpose" || op == "Expand" ||
         op == "Tile";
}

} // namespace

bool isCompileTimeUint8(Value v) {
  Operation *def = v ? v.getDefiningOp() : nullptr;
  return def && def->hasAttr(kCompileTimeUint8Attr);
}

FailureOr<bool> tryConstantFold(NodeContext &ctx) {
  if (!ctx.domain.empty() || ctx.numOutputs() != 1 || ctx.numInputs() == 0)
    return false;
  StringRef op = ctx.node.op_type();
  int since = 0;
  if (!getHandlerRegistry().lookup(ctx.domain, op, ctx.opset, &since))
    return false;
  SmallVector<Literal> in;
  bool readsUint8 = false;
  for (unsigned i = 0; i < ctx.numInputs(); ++i) {
    if (!ctx.hasInput(i)) {
      in.push_back(Literal());
      continue;
    }
    std::optional<DenseElementsAttr> attr = ctx.constInput(i);
    if (!attr || attr->getNumElements() > kMaxFoldElements)
      return false;
    std::optional<Literal> l = readLiteral(*attr);
    if (!l)
      return false;
    if (isCompileTimeUint8(ctx.input(i))) {
      // The i8 bit pattern read back as the uint8 it stands for.
      readsUint8 = true;
      for (int64_t &v : l->ints)
        v &= 0xff;
    }
    in.push_back(std::move(*l));
  }
  std::optional<Literal> out;
  bool writesUint8 = false;
  if (op == "Cast" && ctx.attrInt("to", 0) == onnx::TensorProto::UINT8) {
    out = castToUint8(in[0]);
    writesUint8 = true;
  } else if (readsUint8) {
    // Values 0..255 held in int64: exact under comparisons, casts from
    // uint8 and data movement (then still uint8). Arithmetic would have to
    // wrap modulo 256 and is left to the importer's refusal.
    bool movement = isDataMovement(op);
    if (!(movement || isComparison(op) || op == "Cast") ||
        (movement && !isCompileTimeUint8(ctx.input(0))))
      return false;
    out = evaluate(ctx, op, in, since);
    writesUint8 = movement;
  } else {
    out = evaluate(ctx, op, in, since);
  }
  if (!out || out->size() > kMaxFoldElements ||
      out->size() != numElements(out->shape))
    return false;
  Value c = ctx.constant(writeLiteral(*out));
  if (writesUint8)
    c.getDefiningOp()->setAttr(kCompileTimeUint8Attr,
                               UnitAttr::get(ctx.context()));
  ctx.setOutput(0, c);
  return true;
}

} // namespace sinter::onnx_import
