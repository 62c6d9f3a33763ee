//===- TensorShapes.cpp - static operands of ONNX data-movement ops -------===//
//
// See TensorShapes.h. The rules follow the ONNX operator specifications,
// including their clamping of out-of-range Slice bounds.
//
//===----------------------------------------------------------------------===//

#include "TensorShapes.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;

namespace sinter::onnx_import {
using shape::Shape;

namespace {

LogicalResult fail(std::string &why, const llvm::Twine &msg) {
  why = msg.str();
  return failure();
}

/// Normalizes every axis against `rank`; duplicates are an error.
LogicalResult normalizeAxes(SmallVectorImpl<int64_t> &axes, int64_t rank,
                            std::string &why) {
  if (rank == 0 && !axes.empty())
    return fail(why,
                "axes " + shape::str(axes) + " are out of range for rank 0");
  SmallVector<bool> seen(rank, false);
  SmallVector<int64_t> given(axes.begin(), axes.end());
  for (int64_t &a : axes) {
    FailureOr<int64_t> n = shape::normalizeAxis(a, rank, why);
    if (failed(n))
      return failure();
    if (seen[*n])
      return fail(why, "axes " + shape::str(given) + " name axis " +
                           llvm::Twine(*n) + " twice");
    seen[*n] = true;
    a = *n;
  }
  return success();
}

FailureOr<int64_t> numElements(ArrayRef<int64_t> dims, std::string &why) {
  int64_t n = 1;
  for (int64_t d : dims)
    if (llvm::MulOverflow(n, d, n)) {
      (void)fail(why, "shape " + shape::str(dims) + " has too many elements");
      return failure();
    }
  return n;
}

} // namespace

FailureOr<SmallVector<int64_t>> readConstInts(const NodeContext &ctx,
                                              unsigned i, llvm::StringRef what,
                                              std::string &why) {
  std::optional<DenseElementsAttr> attr = ctx.constInput(i);
  if (!attr || !attr->getElementType().isInteger() ||
      attr->getElementType().isInteger(1)) {
    (void)fail(why, "input '" + what +
                        "' must be an integer constant known at compile time "
                        "(Sinter compiles static shapes)");
    return failure();
  }
  SmallVector<int64_t> out;
  for (const APInt &v : attr->getValues<APInt>())
    out.push_back(v.getSExtValue());
  return out;
}

FailureOr<Shape> reshapeShape(ArrayRef<int64_t> in, ArrayRef<int64_t> spec,
                              bool allowZero, std::string &why) {
  Shape out;
  int64_t inferAt = -1, known = 1;
  for (auto [i, entry] : llvm::enumerate(spec)) {
    int64_t d = entry;
    if (d == -1) {
      if (inferAt >= 0) {
        (void)fail(why, "shape " + shape::str(spec) + " has more than one -1");
        return failure();
      }
      inferAt = i;
      out.push_back(-1);
      continue;
    }
    if (d < -1) {
      (void)fail(why,
                 "shape " + shape::str(spec) + " has a negative dimension");
      return failure();
    }
    if (d == 0 && !allowZero) {
      // 0 copies the input's dimension at the same position.
      if (i >= in.size()) {
        (void)fail(why, "shape " + shape::str(spec) + " copies dimension " +
                            llvm::Twine(i) + " with 0, but the input " +
                            shape::str(in) + " has rank " +
                            llvm::Twine(in.size()));
        return failure();
      }
      d = in[i];
    }
    if (llvm::MulOverflow(known, d, known)) {
      (void)fail(why, "shape " + shape::str(spec) + " has too many elements");
      return failure();
    }
    out.push_back(d);
  }
  FailureOr<int64_t> total = numElements(in, why);
  if (failed(total))
    return failure();
  if (inferAt >= 0) {
    if (known == 0 || *total % known != 0) {
      (void)fail(why, "cannot infer the -1 in shape " + shape::str(spec) +
                          " for an input " + shape::str(in) + " of " +
                          llvm::Twine(*total) + " elements");
      return failure();
    }
    out[inferAt] = *total / known;
  } else if (known != *total) {
    (void)fail(why, "cannot reshape " + shape::str(in) + " (" +
                        llvm::Twine(*total) + " elements) to " +
                        shape::str(out) + " (" + llvm::Twine(known) +
                        " elements)");
    return failure();
  }
  return out;
}

FailureOr<Shape> reshapeResult(const NodeContext &ctx, int since,
                               std::string &why) {
  FailureOr<SmallVector<int64_t>> spec = readConstInts(ctx, 1, "shape", why);
  if (failed(spec))
    return failure();
  // allowzero exists from opset 14 on.
  bool allowZero = since >= 14 && ctx.attrInt("allowzero", 0) != 0;
  return reshapeShape(ctx.inputShape(0), *spec, allowZero, why);
}

FailureOr<Shape> squeezeResult(const NodeContext &ctx, int since,
                               std::string &why) {
  ArrayRef<int64_t> in = ctx.inputShape(0);
  SmallVector<int64_t> axes;
  if (since < 13) {
    axes = ctx.attrInts("axes");
  } else if (ctx.hasInput(1)) {
    FailureOr<SmallVector<int64_t>> a = readConstInts(ctx, 1, "axes", why);
    if (failed(a))
      return failure();
    axes = *a;
  }
  Shape out;
  if (axes.empty()) {
    // No axes: every unit dimension goes.
    for (int64_t d : in)
      if (d != 1)
        out.push_back(d);
    return out;
  }
  if (failed(normalizeAxes(axes, in.size(), why)))
    return failure();
  for (int64_t a : axes)
    if (in[a] != 1) {
      (void)fail(why, "cannot squeeze dimension " + llvm::Twine(a) + " of " +
                          shape::str(in) + ": its size is not 1");
      return failure();
    }
  for (auto [i, d] : llvm::enumerate(in))
    if (!llvm::is_contained(axes, (int64_t)i))
      out.push_back(d);
  return out;
}

FailureOr<Shape> unsqueezeResult(const NodeContext &ctx, int since,
                                 std::string &why) {
  ArrayRef<int64_t> in = ctx.inputShape(0);
  SmallVector<int64_t> axes;
  if (since < 13) {
    axes = ctx.attrInts("axes");
  } else {
    FailureOr<SmallVector<int64_t>> a = readConstInts(ctx, 1, "axes", why);
    if (failed(a))
      return failure();
    axes = *a;
  }
  if (axes.empty()) {
    (void)fail(why, "axes must not be empty");
    return failure();
  }
  // Axes index the result, whose rank counts the new dimensions.
  int64_t rank = in.size() + axes.size();
  if (failed(normalizeAxes(axes, rank, why)))
    return failure();
  Shape out;
  const int64_t *next = in.begin();
  for (int64_t i = 0; i < rank; ++i)
    out.push_back(llvm::is_contained(axes, i) ? 1 : *next++);
  return out;
}

FailureOr<Shape> flattenResult(const NodeContext &ctx, std::string &why) {
  ArrayRef<int64_t> in = ctx.inputShape(0);
  int64_t rank = in.size(), axis = ctx.attrInt("axis", 1);
  if (axis < -rank || axis > rank) {
    (void)fail(why, "axis " + llvm::Twine(axis) + " is outside [-" +
                        llvm::Twine(rank) + ", " + llvm::Twine(rank) + "]");
    return failure();
  }
  if (axis < 0)
    axis += rank;
  FailureOr<int64_t> outer = numElements(in.take_front(axis), why);
  FailureOr<int64_t> inner = numElements(in.drop_front(axis), why);
  if (failed(outer) || failed(inner))
    return failure();
  return Shape{*outer, *inner};
}

FailureOr<SliceDims> sliceDims(const NodeContext &ctx, int since,
                               std::string &why) {
  ArrayRef<int64_t> in = ctx.inputShape(0);
  int64_t rank = in.size();
  SmallVector<int64_t> starts, ends, axes, steps;
  if (since < 10) {
    starts = ctx.attrInts("starts");
    ends = ctx.attrInts("ends");
    axes = ctx.attrInts("axes");
  } else {
    FailureOr<SmallVector<int64_t>> s = readConstInts(ctx, 1, "starts", why);
    if (failed(s))
      return failure();
    FailureOr<SmallVector<int64_t>> e = readConstInts(ctx, 2, "ends", why);
    if (failed(e))
      return failure();
    starts = *s, ends = *e;
    if (ctx.hasInput(3)) {
      FailureOr<SmallVector<int64_t>> a = readConstInts(ctx, 3, "axes", why);
      if (failed(a))
        return failure();
      axes = *a;
    }
    if (ctx.hasInput(4)) {
      FailureOr<SmallVector<int64_t>> st = readConstInts(ctx, 4, "steps", why);
      if (failed(st))
        return failure();
      steps = *st;
    }
  }
  size_t n = starts.size();
  if (axes.empty() && !(since >= 10 && ctx.hasInput(3)))
    for (size_t i = 0; i < n; ++i)
      axes.push_back(i);
  if (steps.empty() && !(since >= 10 && ctx.hasInput(4)))
    steps.assign(n, 1);
  if (ends.size() != n || axes.size() != n || steps.size() != n) {
    (void)fail(why, "starts, ends, axes and steps have different lengths (" +
                        llvm::Twine(n) + ", " + llvm::Twine(ends.size()) +
                        ", " + llvm::Twine(axes.size()) + ", " +
                        llvm::Twine(steps.size()) + ")");
    return failure();
  }
  if (failed(normalizeAxes(axes, rank, why)))
    return failure();
  SliceDims r;
  r.start.assign(rank, 0);
  r.size.assign(in.begin(), in.end());
  r.step.assign(rank, 1);
  for (size_t i = 0; i < n; ++i) {
    int64_t a = axes[i], d = in[a], step = steps[i];
    int64_t start = starts[i], end = ends[i];
    if (step == 0) {
      (void)fail(why, "steps must not be 0");
      return failure();
    }
    // Negative bounds count from the end; the result is then clamped to
    // the dimension, differently for the two directions (ONNX Slice).
    if (start < 0)
      start += d;
    if (end < 0)
      end += d;
    int64_t count = 0;
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, d);
      end = std::clamp<int64_t>(end, 0, d);
      count = end > start ? (end - start - 1) / step + 1 : 0;
    } else if (d > 0) {
      start = std::clamp<int64_t>(start, 0, d - 1);
      end = std::clamp<int64_t>(end, -1, d - 1);
      // Any stride longer than the dimension takes one element; this also
      // keeps -INT64_MIN out.
      int64_t stride = step < -d ? d + 1 : -step;
      count = start > end ? (start - end - 1) / stride + 1 : 0;
    }
    r.start[a] = count ? start : 0;
    r.size[a] = count;
    r.step[a] = count > 1 ? step : 1;
  }
  return r;
}

FailureOr<SmallVector<int64_t>> transposePerm(const NodeContext &ctx,
                                              std::string &why) {
  int64_t rank = ctx.inputShape(0).size();
  SmallVector<int64_t> perm = ctx.attrInts("perm");
  if (!ctx.hasAttr("perm"))
    for (int64_t i = rank - 1; i >= 0; --i)
      perm.push_back(i);
  if (failed(shape::transpose(ctx.inputShape(0), perm, why)))
    return failure();
  return perm;
}

FailureOr<Shape> concatResult(const NodeContext &ctx, int64_t &axis,
                              std::string &why) {
  if (ctx.numInputs() == 0) {
    (void)fail(why, "Concat needs at least one input");
    return failure();
  }
  for (unsigned i = 0; i < ctx.numInputs(); ++i)
    if (!ctx.hasInput(i)) {
      (void)fail(why, "input #" + llvm::Twine(i) + " is missing");
      return failure();
    }
  if (!ctx.hasAttr("axis")) {
    (void)fail(why, "attribute 'axis' is missing");
    return failure();
  }
  ArrayRef<int64_t> first = ctx.inputShape(0);
  FailureOr<int64_t> a =
      shape::normalizeAxis(ctx.attrInt("axis", 0), first.size(), why);
  if (failed(a) || first.empty()) {
    (void)fail(why, "axis " + llvm::Twine(ctx.attrInt("axis", 0)) +
                        " is out of range for rank " +
                        llvm::Twine(first.size()));
    return failure();
  }
  axis = *a;
  Shape out(first);
  Type elt = ctx.inputElementType(0);
  for (unsigned i = 1; i < ctx.numInputs(); ++i) {
    ArrayRef<int64_t> s = ctx.inputShape(i);
    if (ctx.inputElementType(i) != elt) {
      (void)fail(why, "inputs #0 and #" + llvm::Twine(i) +
                          " have different element types");
      return failure();
    }
    bool ok = s.size() == first.size();
    for (size_t d = 0; ok && d < s.size(); ++d)
      ok = (int64_t)d == axis || s[d] == first[d];
    if (!ok) {
      (void)fail(why, "input #" + llvm::Twine(i) + " " + shape::str(s) +
                          " does not match input #0 " + shape::str(first) +
                          " outside axis " + llvm::Twine(axis));
      return failure();
    }
    out[axis] += s[axis];
  }
  return out;
}

FailureOr<Shape> gatherResult(const NodeContext &ctx, int64_t &axis,
                              std::string &why) {
  ArrayRef<int64_t> data = ctx.inputShape(0);
  FailureOr<int64_t> a =
      shape::normalizeAxis(ctx.attrInt("axis", 0), data.size(), why);
  if (failed(a))
    return failure();
  axis = *a;
  return shape::gather(data, ctx.inputShape(1), axis, why);
}

FailureOr<Shape> expandResult(const NodeContext &ctx, std::string &why) {
  FailureOr<SmallVector<int64_t>> spec = readConstInts(ctx, 1, "shape", why);
  if (failed(spec))
    return failure();
  for (int64_t d : *spec)
    if (d < 0) {
      (void)fail(why,
                 "shape " + shape::str(*spec) + " has a negative dimension");
      return failure();
    }
  return shape::broadcast({ctx.inputShape(0), *spec}, why);
}

} // namespace sinter::onnx_import
