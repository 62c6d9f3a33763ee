//===- SequenceOps.cpp - ONNX sequence ops known at compile time ----------===//
//
// Exporters (torch.onnx's dynamo exporter for torch.split) write
// SplitToSequence followed by SequenceAt with constant positions. A sequence
// never reaches the sinter dialect: the importer keeps it as a list of
// tensors (NodeContext::setSequenceOutput) and the ops that read it pick
// elements or concatenate them. Anything that would need a sequence whose
// length is decided at run time is refused.
//
//===----------------------------------------------------------------------===//

#include "ImporterInternals.h"
#include "TensorShapes.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace sinter::onnx_import {
namespace {

/// SplitToSequence: `split` absent (chunks of 1, the axis dropped when
/// keepdims = 0), a scalar (equal chunks, the last one shorter) or a list.
LogicalResult splitToSequence(NodeContext &ctx) {
  if (!ctx.input(0))
    return ctx.error() << "input 'input' is missing";
  ArrayRef<int64_t> in = ctx.inputShape(0);
  if (in.empty())
    return ctx.error() << "cannot split a rank-0 tensor";
  FailureOr<int64_t> axis = ctx.axis(ctx.attrInt("axis", 0), in.size());
  if (failed(axis))
    return failure();
  int64_t dim = in[*axis];
  SmallVector<int64_t> sizes;
  bool dropAxis = false;
  if (!ctx.hasInput(1)) {
    sizes.assign(dim, 1);
    dropAxis = ctx.attrInt("keepdims", 1) == 0;
  } else {
    FailureOr<SmallVector<int64_t>> s = ctx.constInts(1, "split");
    if (failed(s))
      return failure();
    if (ctx.inputShape(1).empty()) {
      int64_t chunk = (*s)[0];
      if (chunk <= 0)
        return ctx.error() << "split " << chunk << " is not positive";
      for (int64_t at = 0; at < dim; at += chunk)
        sizes.push_back(std::min(chunk, dim - at));
    } else {
      sizes = *s;
    }
  }
  if (sizes.empty())
    return ctx.error() << "splits a dimension of size 0 into no tensors";
  std::string why;
  FailureOr<SmallVector<shape::Shape>> outs =
      ctx.check(shape::split(in, *axis, sizes, why), why);
  if (failed(outs))
    return failure();
  SmallVector<Type> types;
  for (const shape::Shape &s : *outs)
    types.push_back(ctx.tensorType(s, ctx.inputElementType(0)));
  auto op = ctx.create<SplitOp>(types, ctx.input(0), (uint64_t)*axis, sizes);
  SmallVector<Value> elements;
  for (Value r : op.getResults()) {
    if (dropAxis) {
      SmallVector<int64_t> squeezed(cast<RankedTensorType>(r.getType()).getShape());
      squeezed.erase(squeezed.begin() + *axis);
      r = ctx.reshape(r, squeezed);
    }
    elements.push_back(r);
  }
  ctx.setSequenceOutput(0, elements);
  return success();
}

/// SequenceAt with a constant position (negative counts from the back).
LogicalResult sequenceAt(NodeContext &ctx) {
  FailureOr<ArrayRef<Value>> seq = ctx.sequenceInput(0);
  if (failed(seq))
    return failure();
  FailureOr<SmallVector<int64_t>> pos = ctx.constInts(1, "position");
  if (failed(pos))
    return failure();
  if (pos->size() != 1)
    return ctx.error() << "position must be one integer, got "
                       << pos->size();
  int64_t n = seq->size(), p = (*pos)[0];
  if (p < -n || p >= n)
    return ctx.error() << "position " << p << " is out of range for a "
                       << "sequence of " << n << " tensors";
  ctx.setOutput(0, (*seq)[p < 0 ? p + n : p]);
  return success();
}

LogicalResult sequenceConstruct(NodeContext &ctx) {
  SmallVector<Value> elements;
  for (unsigned i = 0; i < ctx.numInputs(); ++i) {
    if (!ctx.input(i))
      return ctx.error() << "input #" << i << " is missing";
    if (i && ctx.inputElementType(i) != ctx.inputElementType(0))
      return ctx.error() << "inputs of different element types";
    elements.push_back(ctx.input(i));
  }
  ctx.setSequenceOutput(0, elements);
  return success();
}

LogicalResult sequenceLength(NodeContext &ctx) {
  FailureOr<ArrayRef<Value>> seq = ctx.sequenceInput(0);
  if (failed(seq))
    return failure();
  auto t = ctx.tensorType({}, ctx.b.getI64Type());
  ctx.setOutput(0, ctx.constant(DenseElementsAttr::get(
                       t, ctx.b.getI64IntegerAttr(seq->size()))));
  return success();
}

/// ConcatFromSequence: tensor.concat, or with new_axis = 1 each element
/// gets a unit dim at `axis` first (numpy.stack).
LogicalResult concatFromSequence(NodeContext &ctx) {
  FailureOr<ArrayRef<Value>> seq = ctx.sequenceInput(0);
  if (failed(seq))
    return failure();
  if (seq->empty())
    return ctx.error() << "concatenates an empty sequence";
  bool newAxis = ctx.attrInt("new_axis", 0) != 0;
  int64_t rank = cast<RankedTensorType>((*seq)[0].getType()).getRank();
  FailureOr<int64_t> axis =
      ctx.axis(ctx.attrInt("axis", 0), rank + (newAxis ? 1 : 0));
  if (failed(axis))
    return failure();
  SmallVector<Value> parts;
  for (Value v : *seq) {
    auto t = cast<RankedTensorType>(v.getType());
    if (t.getRank() != rank)
      return ctx.error() << "sequence elements of different ranks";
    if (newAxis) {
      SmallVector<int64_t> shape(t.getShape());
      shape.insert(shape.begin() + *axis, 1);
      v = ctx.reshape(v, shape);
    }
    parts.push_back(v);
  }
  SmallVector<int64_t> out(
      cast<RankedTensorType>(parts[0].getType()).getShape());
  out[*axis] = 0;
  for (Value v : parts) {
    auto t = cast<RankedTensorType>(v.getType());
    for (int64_t d = 0; d < t.getRank(); ++d)
      if (d != *axis && t.getDimSize(d) != out[d])
        return ctx.error() << "sequence elements of shapes that do not "
                              "concatenate along axis "
                           << *axis;
    out[*axis] += t.getDimSize(*axis);
  }
  if (parts.size() == 1) {
    ctx.setOutput(0, parts[0]);
    return success();
  }
  Type elt = cast<RankedTensorType>(parts[0].getType()).getElementType();
  ctx.setOutput(0, ctx.create<tensor::ConcatOp>(ctx.tensorType(out, elt),
                                                (uint64_t)*axis, parts));
  return success();
}

} // namespace

void registerSequenceHandlers(HandlerRegistry &r) {
  r.add("", "SplitToSequence", 11, splitToSequence);
  r.add("", "SequenceAt", 11, sequenceAt);
  r.add("", "SequenceConstruct", 11, sequenceConstruct);
  r.add("", "SequenceLength", 11, sequenceLength);
  r.add("", "ConcatFromSequence", 11, concatFromSequence);
}

} // namespace sinter::onnx_import
