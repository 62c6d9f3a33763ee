//===- GraphOps.cpp - verifiers of the sinter graph ops -------------------===//
//
// Every verifier recomputes the result shape with ShapeInference.h and
// compares; messages name the constraint that failed.
//
//===----------------------------------------------------------------------===//

#include "sinter/Dialect/Graph/IR/GraphOps.h"
#include "sinter/Dialect/Graph/IR/ShapeInference.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace sinter;
using shape::Shape;

namespace {
ArrayRef<int64_t> dims(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}
ArrayRef<int64_t> dims(Type t) { return cast<RankedTensorType>(t).getShape(); }
std::optional<ArrayRef<int64_t>> optDims(Value v) {
  if (!v)
    return std::nullopt;
  return dims(v);
}

LogicalResult expectShape(Operation *op, Value result, ArrayRef<int64_t> want,
                          StringRef what = "result") {
  if (dims(result) != want)
    return op->emitOpError() << what << " shape " << shape::str(dims(result))
                             << " does not match the expected "
                             << shape::str(want);
  return success();
}

LogicalResult sameElementType(Operation *op, Value a, Value b, StringRef an,
                              StringRef bn) {
  if (getElementTypeOrSelf(a) != getElementTypeOrSelf(b))
    return op->emitOpError() << an << " element type " << getElementTypeOrSelf(a)
                             << " differs from " << bn << " element type "
                             << getElementTypeOrSelf(b);
  return success();
}
} // namespace

LogicalResult sinter::OpTrait::detail::verifyBroadcasting(Operation *op) {
  SmallVector<ArrayRef<int64_t>> shapes;
  for (Value v : op->getOperands())
    shapes.push_back(dims(v));
  std::string why;
  FailureOr<Shape> out = shape::broadcast(shapes, why);
  if (failed(out))
    return op->emitOpError() << "operand " << why;
  if (failed(expectShape(op, op->getResult(0), *out)))
    return failure();
  // Value operands share the result's element type; `where`'s condition and
  // comparisons (checked by CompareResult) are the exceptions.
  if (op->hasTrait<CompareResult>())
    return success();
  Type elt = getElementTypeOrSelf(op->getResult(0));
  unsigned first = op->getNumOperands() == 3 ? 1 : 0;
  for (unsigned i = first; i < op->getNumOperands(); ++i)
    if (getElementTypeOrSelf(op->getOperand(i)) != elt)
      return op->emitOpError() << "operand #" << i << " element type "
                               << getElementTypeOrSelf(op->getOperand(i))
                               << " differs from result element type " << elt;
  return success();
}

LogicalResult sinter::OpTrait::detail::verifyCompareResult(Operation *op) {
  return sameElementType(op, op->getOperand(0), op->getOperand(1), "lhs", "rhs");
}

LogicalResult ClipOp::verify() {
  for (Value bound : {getMin(), getMax()}) {
    if (!bound)
      continue;
    if (cast<RankedTensorType>(bound.getType()).getRank() != 0)
      return emitOpError("bounds must be rank-0 tensors");
    if (failed(sameElementType(*this, getInput(), bound, "input", "bound")))
      return failure();
  }
  if (getInput().getType() != getResult().getType())
    return emitOpError("result type must equal the input type");
  return success();
}

//===----------------------------------------------------------------------===//
// Reductions and normalizations
//===----------------------------------------------------------------------===//

template <typename OpTy>
static LogicalResult verifyReduce(OpTy op) {
  auto in = cast<RankedTensorType>(op.getInput().getType());
  std::string why;
  if (op.getAxes().empty())
    return op.emitOpError("axes must not be empty (spell out every axis)");
  if (failed(shape::checkAxes(op.getAxes(), in.getRank(), why)))
    return op.emitOpError() << why;
  if (failed(sameElementType(op, op.getInput(), op.getResult(), "input",
                             "result")))
    return failure();
  return expectShape(op, op.getResult(),
                     shape::reduce(in.getShape(), op.getAxes(), op.getKeepdims()));
}

#define SINTER_REDUCE_VERIFIER(OP)                                             \
  LogicalResult OP::verify() { return verifyReduce(*this); }
SINTER_REDUCE_VERIFIER(ReduceSumOp)
SINTER_REDUCE_VERIFIER(ReduceMeanOp)
SINTER_REDUCE_VERIFIER(ReduceMaxOp)
SINTER_REDUCE_VERIFIER(ReduceMinOp)
SINTER_REDUCE_VERIFIER(ReduceProdOp)
SINTER_REDUCE_VERIFIER(ReduceL1Op)
SINTER_REDUCE_VERIFIER(ReduceL2Op)
SINTER_REDUCE_VERIFIER(ReduceSumSquareOp)
SINTER_REDUCE_VERIFIER(ReduceLogSumOp)
SINTER_REDUCE_VERIFIER(ReduceLogSumExpOp)
#undef SINTER_REDUCE_VERIFIER

template <typename OpTy>
static LogicalResult verifyArgReduce(OpTy op) {
  ArrayRef<int64_t> in = dims(op.getInput());
  int64_t axis = op.getAxis();
  if (axis < 0 || axis >= (int64_t)in.size())
    return op.emitOpError() << "axis " << axis << " is out of range for rank "
                            << in.size();
  return expectShape(op, op.getResult(),
                     shape::reduce(in, {axis}, op.getKeepdims()));
}
LogicalResult ArgMaxOp::verify() { return verifyArgReduce(*this); }
LogicalResult ArgMinOp::verify() { return verifyArgReduce(*this); }

template <typename OpTy>
static LogicalResult verifyAxisInRange(OpTy op) {
  // I64Attr getters return uint64_t; read the axis as the signed value it is.
  int64_t rank = dims(op.getInput()).size(), axis = op.getAxis();
  if (axis < 0 || axis >= std::max<int64_t>(rank, 1))
    return op.emitOpError() << "axis " << axis
                            << " is out of range for rank " << rank;
  return success();
}
LogicalResult SoftmaxOp::verify() { return verifyAxisInRange(*this); }
LogicalResult LogSoftmaxOp::verify() { return verifyAxisInRange(*this); }
LogicalResult CumSumOp::verify() { return verifyAxisInRange(*this); }

/// The scale (and bias) of a normalization broadcast to the normalized shape.
static LogicalResult verifyNormParam(Operation *op, Value x, Value p,
                                     int64_t axis, StringRef name) {
  ArrayRef<int64_t> in = dims(x);
  ArrayRef<int64_t> normalized = in.drop_front(axis);
  std::string why;
  FailureOr<Shape> b = shape::broadcast({dims(p), normalized}, why);
  if (failed(b) || ArrayRef<int64_t>(*b) != normalized)
    return op->emitOpError() << name << " shape " << shape::str(dims(p))
                             << " does not broadcast to the normalized shape "
                             << shape::str(normalized);
  return sameElementType(op, x, p, "input", name);
}

LogicalResult RmsNormOp::verify() {
  int64_t rank = dims(getInput()).size();
  if ((int64_t)getAxis() < 0 || (int64_t)getAxis() >= rank)
    return emitOpError() << "axis " << (int64_t)getAxis()
                         << " is out of range for rank " << rank;
  if (getEpsilon().isNegative())
    return emitOpError("epsilon must not be negative");
  if (getInput().getType() != getResult().getType())
    return emitOpError("result type must equal the input type");
  return verifyNormParam(*this, getInput(), getScale(), getAxis(), "scale");
}

LogicalResult LayerNormOp::verify() {
  ArrayRef<int64_t> in = dims(getInput());
  int64_t rank = in.size();
  if ((int64_t)getAxis() < 0 || (int64_t)getAxis() >= rank)
    return emitOpError() << "axis " << (int64_t)getAxis()
                         << " is out of range for rank " << rank;
  if (getEpsilon().isNegative())
    return emitOpError("epsilon must not be negative");
  if (getInput().getType() != getResult().getType())
    return emitOpError("result type must equal the input type");
  if (failed(verifyNormParam(*this, getInput(), getScale(), getAxis(), "scale")))
    return failure();
  if (getBias() &&
      failed(verifyNormParam(*this, getInput(), getBias(), getAxis(), "bias")))
    return failure();
  Shape stat(in.begin(), in.end());
  for (int64_t i = getAxis(); i < rank; ++i)
    stat[i] = 1;
  if (failed(expectShape(*this, getMean(), stat, "mean")) ||
      failed(expectShape(*this, getInvStdDev(), stat, "inv_std_dev")))
    return failure();
  return success();
}

LogicalResult TopKOp::verify() {
  std::string why;
  FailureOr<Shape> out = shape::topk(dims(getInput()), getK(), getAxis(), why);
  if (failed(out))
    return emitOpError() << why;
  if (failed(sameElementType(*this, getInput(), getValues(), "input", "values")))
    return failure();
  if (failed(expectShape(*this, getValues(), *out, "values")))
    return failure();
  return expectShape(*this, getIndices(), *out, "indices");
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

LogicalResult MatMulOp::verify() {
  std::string why;
  FailureOr<Shape> out = shape::matmul(dims(getLhs()), dims(getRhs()), why);
  if (failed(out))
    return emitOpError() << why;
  if (failed(sameElementType(*this, getLhs(), getRhs(), "lhs", "rhs")) ||
      failed(sameElementType(*this, getLhs(), getResult(), "lhs", "result")))
    return failure();
  return expectShape(*this, getResult(), *out);
}

LogicalResult LinearOp::verify() {
  std::string why;
  FailureOr<Shape> out =
      shape::linear(dims(getInput()), dims(getWeight()), optDims(getBias()), why);
  if (failed(out))
    return emitOpError() << why;
  if (failed(sameElementType(*this, getInput(), getWeight(), "input", "weight")))
    return failure();
  if (getBias() &&
      failed(sameElementType(*this, getInput(), getBias(), "input", "bias")))
    return failure();
  if (failed(sameElementType(*this, getInput(), getResult(), "input", "result")))
    return failure();
  return expectShape(*this, getResult(), *out);
}

LogicalResult GatedLinearOp::verify() {
  // (C1) gate and up are one type: the product is taken without broadcasting.
  if (getGate().getType() != getUp().getType())
    return emitOpError() << "gate type " << getGate().getType()
                         << " differs from up type " << getUp().getType();
  // (C2) the rest is linear(gate, weight, bias)'s contract.
  std::string why;
  FailureOr<Shape> out =
      shape::linear(dims(getGate()), dims(getWeight()), optDims(getBias()), why);
  if (failed(out))
    return emitOpError() << why;
  // (C3) the product meets the weight in the weight's element type: gate and
  // up have it, or operand_type names it (the product is rounded to it).
  Type wElt = getElementTypeOrSelf(getWeight());
  if (std::optional<Type> opTy = getOperandType()) {
    if (*opTy != wElt)
      return emitOpError() << "operand_type " << *opTy
                           << " differs from weight element type " << wElt;
  } else if (failed(sameElementType(*this, getGate(), getWeight(), "gate",
                                    "weight"))) {
    return failure();
  }
  // (C4) weight, bias and result share one element type, as for linear.
  if (getBias() &&
      failed(sameElementType(*this, getWeight(), getBias(), "weight", "bias")))
    return failure();
  if (failed(
          sameElementType(*this, getWeight(), getResult(), "weight", "result")))
    return failure();
  return expectShape(*this, getResult(), *out);
}

LogicalResult ConvOp::verify() {
  std::string why;
  FailureOr<Shape> out =
      shape::conv(dims(getInput()), dims(getWeight()), optDims(getBias()),
                  getStrides(), getPads(), getDilations(), getGroup(), why);
  if (failed(out))
    return emitOpError() << why;
  if (failed(sameElementType(*this, getInput(), getWeight(), "input", "weight")))
    return failure();
  if (getBias() &&
      failed(sameElementType(*this, getInput(), getBias(), "input", "bias")))
    return failure();
  if (failed(sameElementType(*this, getInput(), getResult(), "input", "result")))
    return failure();
  return expectShape(*this, getResult(), *out);
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::verify() {
  std::string why;
  FailureOr<Shape> out = shape::transpose(dims(getInput()), getPerm(), why);
  if (failed(out))
    return emitOpError() << why;
  if (failed(sameElementType(*this, getInput(), getResult(), "input", "result")))
    return failure();
  return expectShape(*this, getResult(), *out);
}

LogicalResult ExpandOp::verify() {
  std::string why;
  ArrayRef<int64_t> res = dims(getResult());
  FailureOr<Shape> out = shape::broadcast({dims(getInput()), res}, why);
  if (failed(out) || ArrayRef<int64_t>(*out) != res)
    return emitOpError() << "input shape " << shape::str(dims(getInput()))
                         << " does not broadcast to " << shape::str(res);
  return sameElementType(*this, getInput(), getResult(), "input", "result");
}

LogicalResult ReverseOp::verify() {
  std::string why;
  if (failed(shape::checkAxes(getAxes(), dims(getInput()).size(), why)))
    return emitOpError() << why;
  return success();
}

LogicalResult SplitOp::verify() {
  std::string why;
  FailureOr<SmallVector<Shape>> outs =
      shape::split(dims(getInput()), getAxis(), getSizes(), why);
  if (failed(outs))
    return emitOpError() << why;
  if (outs->size() != getNumResults())
    return emitOpError() << "has " << getNumResults() << " results but "
                         << outs->size() << " sizes";
  for (auto [i, r] : llvm::enumerate(getResults())) {
    if (failed(sameElementType(*this, getInput(), r, "input", "result")) ||
        failed(expectShape(*this, r, (*outs)[i],
                           ("result #" + llvm::Twine(i)).str())))
      return failure();
  }
  return success();
}

LogicalResult PackWeightsOp::verify() {
  size_t n = getSources().size();
  if (n == 0)
    return emitOpError("needs at least one source");
  if (getOffsets().size() != n || getTranspose().size() != n)
    return emitOpError() << "has " << n << " sources but "
                         << getOffsets().size() << " offsets and "
                         << getTranspose().size() << " transpose flags";
  ArrayRef<int64_t> res = dims(getResult());
  int64_t rank = res.size(), axis = getAxis();
  if (axis < 0 || axis >= rank)
    return emitOpError() << "axis " << axis << " is out of range for rank "
                         << rank;
  int64_t offset = 0;
  for (auto [i, src] : llvm::enumerate(getSources())) {
    // The plan is applied when the weights are loaded: nothing computed by
    // the forward may feed it.
    if (!matchPattern(src, m_Constant()))
      return emitOpError() << "source #" << i << " is not a constant";
    if (failed(sameElementType(*this, src, getResult(), "source", "result")))
      return failure();
    Shape s(dims(src));
    if (getTranspose()[i]) {
      if (s.size() != 2)
        return emitOpError() << "source #" << i << " " << shape::str(s)
                             << " is transposed but is not 2-D";
      std::swap(s[0], s[1]);
    }
    if (int64_t(s.size()) != rank)
      return emitOpError() << "source #" << i << " " << shape::str(s)
                           << " does not have the result's rank " << rank;
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis && s[d] != res[d])
        return emitOpError() << "source #" << i << " " << shape::str(s)
                             << " differs from the result "
                             << shape::str(res) << " off the axis";
    if (getOffsets()[i] != offset)
      return emitOpError() << "offset #" << i << " is " << getOffsets()[i]
                           << ", the sources before it end at " << offset;
    offset += s[axis];
  }
  if (offset != res[axis])
    return emitOpError() << "sources add up to " << offset << " along axis "
                         << axis << " but the result has " << res[axis];
  return success();
}

LogicalResult PadOp::verify() {
  std::string why;
  FailureOr<Shape> out = shape::pad(dims(getInput()), getPads(), why);
  if (failed(out))
    return emitOpError() << why;
  if (dims(getValue()).size() != 0)
    return emitOpError("pad value must be a rank-0 tensor");
  if (failed(sameElementType(*this, getInput(), getValue(), "input", "value")) ||
      failed(sameElementType(*this, getInput(), getResult(), "input", "result")))
    return failure();
  if (getMode() != PadMode::constant)
    for (auto [i, d] : llvm::enumerate(dims(getInput())))
      if (d == 0 && (getPads()[i] > 0 || getPads()[i + dims(getInput()).size()] > 0))
        return emitOpError("non-constant pad of an empty dimension");
  // Reflection mirrors without repeating the edge element, so it can add at
  // most dim - 1 elements per side.
  if (getMode() == PadMode::reflect)
    for (auto [i, d] : llvm::enumerate(dims(getInput())))
      for (int64_t p : {getPads()[i], getPads()[i + dims(getInput()).size()]})
        if (p > 0 && p >= d)
          return emitOpError() << "reflect pads " << shape::str(getPads())
                               << " must be smaller than the dimensions of "
                               << shape::str(dims(getInput()));
  return expectShape(*this, getResult(), *out);
}

LogicalResult TriluOp::verify() {
  if (dims(getInput()).size() < 2)
    return emitOpError("input must have rank >= 2");
  return success();
}

LogicalResult GatherOp::verify() {
  std::string why;
  FailureOr<Shape> out =
      shape::gather(dims(getData()), dims(getIndices()), getAxis(), why);
  if (failed(out))
    return emitOpError() << why;
  if (failed(sameElementType(*this, getData(), getResult(), "data", "result")))
    return failure();
  return expectShape(*this, getResult(), *out);
}

LogicalResult GatherElementsOp::verify() {
  int64_t rank = dims(getData()).size();
  if ((int64_t)getAxis() < 0 || (int64_t)getAxis() >= rank)
    return emitOpError() << "axis " << (int64_t)getAxis()
                         << " is out of range for rank " << rank;
  if ((int64_t)dims(getIndices()).size() != rank)
    return emitOpError("indices must have the rank of data");
  if (failed(sameElementType(*this, getData(), getResult(), "data", "result")))
    return failure();
  return expectShape(*this, getResult(), dims(getIndices()));
}

LogicalResult GatherNDOp::verify() {
  std::string why;
  FailureOr<Shape> out =
      shape::gatherND(dims(getData()), dims(getIndices()), getBatchDims(), why);
  if (failed(out))
    return emitOpError() << why;
  if (failed(sameElementType(*this, getData(), getResult(), "data", "result")))
    return failure();
  return expectShape(*this, getResult(), *out);
}

LogicalResult ScatterElementsOp::verify() {
  int64_t rank = dims(getData()).size();
  if ((int64_t)getAxis() < 0 || (int64_t)getAxis() >= rank)
    return emitOpError() << "axis " << (int64_t)getAxis()
                         << " is out of range for rank " << rank;
  if (dims(getIndices()) != dims(getUpdates()) ||
      (int64_t)dims(getIndices()).size() != rank)
    return emitOpError("indices and updates must share a shape of data's rank");
  if (failed(sameElementType(*this, getData(), getUpdates(), "data", "updates")))
    return failure();
  if (getData().getType() != getResult().getType())
    return emitOpError("result type must equal the data type");
  return success();
}

LogicalResult ScatterNDOp::verify() {
  std::string why;
  if (failed(shape::checkScatterND(dims(getData()), dims(getIndices()),
                                   dims(getUpdates()), why)))
    return emitOpError() << why;
  if (failed(sameElementType(*this, getData(), getUpdates(), "data", "updates")))
    return failure();
  if (getData().getType() != getResult().getType())
    return emitOpError("result type must equal the data type");
  return success();
}

//===----------------------------------------------------------------------===//
// LLM operators
//===----------------------------------------------------------------------===//

LogicalResult AttentionOp::verify() {
  std::string why;
  FailureOr<SmallVector<Shape>> outs =
      shape::attention(dims(getQuery()), dims(getKey()), dims(getValue()),
                       optDims(getMask()), optDims(getPastKey()),
                       optDims(getPastValue()), why);
  if (failed(outs))
    return emitOpError() << why;
  if (failed(sameElementType(*this, getQuery(), getKey(), "query", "key")) ||
      failed(sameElementType(*this, getQuery(), getValue(), "query", "value")))
    return failure();
  // A mask is boolean (true = attend) or additive in the query's type.
  if (getMask() && !getElementTypeOrSelf(getMask()).isInteger(1) &&
      failed(sameElementType(*this, getQuery(), getMask(), "query", "mask")))
    return failure();
  for (auto [v, name] :
       {std::pair(getPastKey(), "past_key"), {getPastValue(), "past_value"},
        {getResult(), "result"}, {getPresentKey(), "present_key"},
        {getPresentValue(), "present_value"}})
    if (v && failed(sameElementType(*this, getQuery(), v, "query", name)))
      return failure();
  if (getSoftcap().isNegative())
    return emitOpError("softcap must not be negative");
  if (failed(expectShape(*this, getResult(), (*outs)[0])) ||
      failed(expectShape(*this, getPresentKey(), (*outs)[1], "present_key")) ||
      failed(expectShape(*this, getPresentValue(), (*outs)[2], "present_value")))
    return failure();
  return success();
}

LogicalResult RotaryEmbeddingOp::verify() {
  std::string why;
  if (failed(shape::rotaryEmbedding(dims(getInput()), dims(getCosCache()),
                                    dims(getSinCache()), optDims(getPositionIds()),
                                    getRotaryDim(), why)))
    return emitOpError() << why;
  if (failed(sameElementType(*this, getInput(), getCosCache(), "input",
                             "cos_cache")) ||
      failed(sameElementType(*this, getInput(), getSinCache(), "input",
                             "sin_cache")))
    return failure();
  if (getInput().getType() != getResult().getType())
    return emitOpError("result type must equal the input type");
  return success();
}

LogicalResult TensorScatterOp::verify() {
  std::string why;
  if (failed(shape::tensorScatter(dims(getCache()), dims(getUpdate()),
                                  optDims(getWriteIndices()), getAxis(), why)))
    return emitOpError() << why;
  if (getCache().getType() != getResult().getType())
    return emitOpError("result type must equal the cache type");
  return sameElementType(*this, getCache(), getUpdate(), "cache", "update");
}

LogicalResult LinearAttentionOp::verify() {
  std::string why;
  UpdateRule rule = getUpdateRule();
  bool needsDecay = rule == UpdateRule::gated || rule == UpdateRule::gated_delta;
  bool needsBeta = rule == UpdateRule::delta || rule == UpdateRule::gated_delta;
  FailureOr<SmallVector<Shape>> outs = shape::linearAttention(
      dims(getQuery()), dims(getKey()), dims(getValue()), optDims(getPastState()),
      optDims(getDecay()), optDims(getBeta()), getQNumHeads(), getKvNumHeads(),
      needsDecay, needsBeta, why);
  if (failed(outs))
    return emitOpError() << why;
  for (auto [v, name] : {std::pair(getKey(), "key"), {getValue(), "value"},
                         {getDecay(), "decay"}, {getBeta(), "beta"},
                         {getResult(), "result"}})
    if (v && failed(sameElementType(*this, getQuery(), v, "query", name)))
      return failure();
  if (getPastState() &&
      failed(sameElementType(*this, getPastState(), getPresentState(),
                             "past_state", "present_state")))
    return failure();
  if (failed(expectShape(*this, getResult(), (*outs)[0])) ||
      failed(expectShape(*this, getPresentState(), (*outs)[1], "present_state")))
    return failure();
  return success();
}

LogicalResult CausalConvWithStateOp::verify() {
  std::string why;
  FailureOr<SmallVector<Shape>> outs =
      shape::causalConv(dims(getInput()), dims(getWeight()), optDims(getBias()),
                        optDims(getPastState()), why);
  if (failed(outs))
    return emitOpError() << why;
  for (auto [v, name] : {std::pair(getWeight(), "weight"), {getBias(), "bias"},
                         {getPastState(), "past_state"}, {getResult(), "result"},
                         {getPresentState(), "present_state"}})
    if (v && failed(sameElementType(*this, getInput(), v, "input", name)))
      return failure();
  if (failed(expectShape(*this, getResult(), (*outs)[0])) ||
      failed(expectShape(*this, getPresentState(), (*outs)[1], "present_state")))
    return failure();
  return success();
}

#define GET_OP_CLASSES
#include "sinter/Dialect/Graph/IR/GraphOps.cpp.inc"
