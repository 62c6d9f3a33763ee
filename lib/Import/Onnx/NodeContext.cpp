//===- NodeContext.cpp - what a handler sees of one ONNX node -------------===//

#include "ImporterInternals.h"
#include "Tensors.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;

namespace sinter::onnx_import {

NodeContext::NodeContext(const onnx::NodeProto &node, llvm::StringRef domain,
                         int64_t opset, OpBuilder &builder, Location loc,
                         llvm::StringMap<Value> &values,
                         llvm::StringMap<llvm::SmallVector<Value>> *sequences)
    : node(node), domain(domain), opset(opset), b(builder), loc(loc),
      values(values), sequences(sequences) {}

FailureOr<ArrayRef<Value>> NodeContext::sequenceInput(unsigned i) {
  if (!hasInput(i))
    return error() << "input #" << i << " is missing", failure();
  if (!sequences || !sequences->count(node.input(i)))
    return error() << "input '" << node.input(i)
                   << "' is not a sequence Sinter knows at compile time "
                      "(sequences must come from SplitToSequence or "
                      "SequenceConstruct)",
           failure();
  return ArrayRef<Value>(sequences->find(node.input(i))->second);
}

void NodeContext::setSequenceOutput(unsigned i, ArrayRef<Value> elements) {
  if (wantsOutput(i) && sequences)
    (*sequences)[node.output(i)].assign(elements.begin(), elements.end());
}

bool NodeContext::hasInput(unsigned i) const {
  return i < (unsigned)node.input_size() && !node.input(i).empty();
}

Value NodeContext::input(unsigned i) const {
  if (!hasInput(i))
    return Value();
  return values.lookup(node.input(i));
}

RankedTensorType NodeContext::inputType(unsigned i) const {
  Value v = input(i);
  return v ? mlir::cast<RankedTensorType>(v.getType()) : RankedTensorType();
}

ArrayRef<int64_t> NodeContext::inputShape(unsigned i) const {
  return inputType(i).getShape();
}

Type NodeContext::inputElementType(unsigned i) const {
  return inputType(i).getElementType();
}

std::optional<DenseElementsAttr> NodeContext::constInput(unsigned i) const {
  Value v = input(i);
  DenseElementsAttr attr;
  if (v && matchPattern(v, m_Constant(&attr)))
    return attr;
  return std::nullopt;
}

FailureOr<SmallVector<int64_t>> NodeContext::constInts(unsigned i,
                                                       llvm::StringRef what) {
  std::optional<DenseElementsAttr> attr = constInput(i);
  if (!attr || !attr->getElementType().isIntOrIndex())
    return error() << "input '" << what
                   << "' must be an integer constant known at compile time "
                      "(Sinter compiles static shapes)",
           failure();
  SmallVector<int64_t> out;
  for (const APInt &v : attr->getValues<APInt>())
    out.push_back(attr->getElementType().isInteger(1) ? v.getZExtValue()
                                                      : v.getSExtValue());
  return out;
}

FailureOr<double> NodeContext::constScalar(unsigned i, llvm::StringRef what) {
  std::optional<DenseElementsAttr> attr = constInput(i);
  if (!attr || attr->getNumElements() != 1)
    return error() << "input '" << what
                   << "' must be a one-element constant known at compile time",
           failure();
  if (isa<FloatType>(attr->getElementType()))
    return (*attr->getValues<APFloat>().begin()).convertToDouble();
  return (double)(*attr->getValues<APInt>().begin()).getSExtValue();
}

const onnx::AttributeProto *NodeContext::attr(llvm::StringRef name) const {
  for (const onnx::AttributeProto &a : node.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

int64_t NodeContext::attrInt(llvm::StringRef name, int64_t dflt) const {
  const onnx::AttributeProto *a = attr(name);
  return a ? a->i() : dflt;
}

float NodeContext::attrFloat(llvm::StringRef name, float dflt) const {
  const onnx::AttributeProto *a = attr(name);
  return a ? a->f() : dflt;
}

std::string NodeContext::attrString(llvm::StringRef name,
                                    llvm::StringRef dflt) const {
  const onnx::AttributeProto *a = attr(name);
  return a ? a->s() : dflt.str();
}

SmallVector<int64_t> NodeContext::attrInts(llvm::StringRef name) const {
  const onnx::AttributeProto *a = attr(name);
  if (!a)
    return {};
  return SmallVector<int64_t>(a->ints().begin(), a->ints().end());
}

SmallVector<float> NodeContext::attrFloats(llvm::StringRef name) const {
  const onnx::AttributeProto *a = attr(name);
  if (!a)
    return {};
  return SmallVector<float>(a->floats().begin(), a->floats().end());
}

FailureOr<ElementsAttr> NodeContext::attrTensor(llvm::StringRef name) {
  const onnx::AttributeProto *a = attr(name);
  if (!a || !a->has_t())
    return error() << "attribute '" << name << "' is missing or not a tensor",
           failure();
  std::string why;
  // Constant nodes carry their data inline; external data in an attribute
  // would have no model folder to resolve against, so it is refused.
  if (a->t().data_location() == onnx::TensorProto::EXTERNAL)
    return error() << "attribute '" << name
                   << "' refers to external data, which Sinter reads only "
                      "for initializers",
           failure();
  FailureOr<ElementsAttr> attr = convertTensor(context(), a->t(), "", why);
  if (failed(attr))
    return error() << why, failure();
  return attr;
}

bool NodeContext::wantsOutput(unsigned i) const {
  return i < (unsigned)node.output_size() && !node.output(i).empty();
}

void NodeContext::setOutput(unsigned i, Value v) {
  if (wantsOutput(i))
    values[node.output(i)] = v;
}

InFlightDiagnostic NodeContext::error() {
  InFlightDiagnostic d = emitError(loc);
  d << "node '" << (node.name().empty() ? node.op_type() : node.name())
    << "' (" << node.op_type() << ", domain '"
    << (domain.empty() ? "ai.onnx" : domain) << "', opset " << opset << "): ";
  return d;
}

FailureOr<int64_t> NodeContext::axis(int64_t a, int64_t rank) {
  std::string why;
  FailureOr<int64_t> r = shape::normalizeAxis(a, rank, why);
  if (failed(r))
    return error() << why, failure();
  return r;
}

Value NodeContext::constant(ElementsAttr value) {
  return arith::ConstantOp::create(b, loc, mlir::cast<TypedAttr>(value));
}

Value NodeContext::scalar(Type elt, double value) {
  auto type = RankedTensorType::get({}, elt);
  if (auto ft = dyn_cast<FloatType>(elt)) {
    APFloat f(value);
    bool lost;
    f.convert(ft.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
    return constant(DenseElementsAttr::get(type, f));
  }
  if (elt.isInteger(1))
    return constant(DenseElementsAttr::get(type, value != 0));
  return constant(DenseElementsAttr::get(
      type, APInt(elt.getIntOrFloatBitWidth(), (int64_t)value, true)));
}

Value NodeContext::reshape(Value v, ArrayRef<int64_t> shape) {
  auto src = mlir::cast<RankedTensorType>(v.getType());
  if (src.getShape() == shape)
    return v;
  auto dst = RankedTensorType::get(shape, src.getElementType());
  if (dst.getRank() < src.getRank()) {
    if (auto re = getReassociationIndicesForCollapse(src.getShape(), shape))
      return tensor::CollapseShapeOp::create(b, loc, dst, v, *re);
  } else if (dst.getRank() > src.getRank()) {
    if (auto re = getReassociationIndicesForCollapse(shape, src.getShape()))
      return tensor::ExpandShapeOp::create(b, loc, dst, v, *re);
  }
  SmallVector<int64_t> dims(shape);
  Value shapeConst = constant(DenseElementsAttr::get(
      RankedTensorType::get({(int64_t)dims.size()}, b.getI64Type()),
      ArrayRef<int64_t>(dims)));
  return tensor::ReshapeOp::create(b, loc, dst, v, shapeConst);
}

Value NodeContext::cast(Value v, Type elt) {
  auto src = mlir::cast<RankedTensorType>(v.getType());
  if (src.getElementType() == elt)
    return v;
  return CastOp::create(b, loc, src.clone(elt), v);
}

LogicalResult checkTypeClass(NodeContext &ctx, unsigned input, TypeClass cls) {
  Type t = ctx.inputElementType(input);
  bool isFloat = isa<FloatType>(t), isBool = t.isInteger(1);
  bool isInt = t.isInteger() && !isBool;
  bool ok = false;
  llvm::StringRef want;
  switch (cls) {
  case TypeClass::Float:
    ok = isFloat, want = "a floating-point type";
    break;
  case TypeClass::Numeric:
    ok = isFloat || isInt, want = "a numeric type";
    break;
  case TypeClass::Bool:
    ok = isBool, want = "bool";
    break;
  case TypeClass::Integer:
    ok = isInt, want = "an integer type";
    break;
  case TypeClass::Any:
    ok = true;
    break;
  }
  if (!ok)
    return ctx.error() << "input #" << input << " has element type " << t
                       << "; this op needs " << want;
  return success();
}

} // namespace sinter::onnx_import
