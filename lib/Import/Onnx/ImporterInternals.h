//===- ImporterInternals.h - the contract between importer and handlers ---===//
//
// Each ONNX op is imported by a handler keyed by (domain, op type,
// since-version); the handler whose since-version is the largest one not
// above the model's opset for that domain runs. A handler reads its node
// through NodeContext, builds sinter/arith/tensor ops and binds the node's
// outputs. It reports every problem with `ctx.error()` (which names the node,
// op type, domain and opset) and returns failure; it never asserts on input.
//
// Shapes are static: a handler computes each result type from its operands
// (ShapeInference.h) before building an op, so a contradiction in the model
// becomes an error naming the node, never a verifier failure later.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_LIB_IMPORT_ONNX_IMPORTERINTERNALS_H
#define SINTER_LIB_IMPORT_ONNX_IMPORTERINTERNALS_H

#include "sinter/Dialect/Graph/IR/GraphOps.h"
#include "sinter/Dialect/Graph/IR/ShapeInference.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringMap.h"

#include "onnx/onnx_pb.h"

namespace sinter::onnx_import {

using mlir::FailureOr;
using mlir::LogicalResult;
using mlir::Type;
using mlir::Value;

/// ONNX TensorProto.DataType to an MLIR element type; failure for types
/// Sinter does not support.
FailureOr<Type> convertElementType(mlir::MLIRContext *ctx, int32_t onnxType);
/// The ONNX name of a TensorProto.DataType ("FLOAT", "UINT8", ...).
llvm::StringRef onnxTypeName(int32_t onnxType);

class NodeContext {
public:
  NodeContext(const onnx::NodeProto &node, llvm::StringRef domain,
              int64_t opset, mlir::OpBuilder &builder, mlir::Location loc,
              llvm::StringMap<Value> &values,
              llvm::StringMap<llvm::SmallVector<Value>> *sequences = nullptr);

  const onnx::NodeProto &node;
  llvm::StringRef domain;
  /// The model's opset version for the node's domain.
  const int64_t opset;
  mlir::OpBuilder &b;
  const mlir::Location loc;
  mlir::MLIRContext *context() const { return b.getContext(); }

  //===--- inputs ----------------------------------------------------------===//
  /// Number of input slots, including empty (omitted optional) ones.
  unsigned numInputs() const { return node.input_size(); }
  /// Whether input `i` exists and is not the empty name.
  bool hasInput(unsigned i) const;
  /// Input `i`, or a null Value when absent.
  Value input(unsigned i) const;
  mlir::RankedTensorType inputType(unsigned i) const;
  llvm::ArrayRef<int64_t> inputShape(unsigned i) const;
  Type inputElementType(unsigned i) const;
  /// The compile-time value of input `i`, if it is a constant with inline
  /// data (initializer, Constant node or folded subgraph).
  std::optional<mlir::DenseElementsAttr> constInput(unsigned i) const;
  /// The integer elements of constant input `i`; an error naming `what`
  /// when the input is not a compile-time constant.
  FailureOr<llvm::SmallVector<int64_t>> constInts(unsigned i,
                                                  llvm::StringRef what);
  /// A rank-0 or 1-element constant input as double.
  FailureOr<double> constScalar(unsigned i, llvm::StringRef what);

  //===--- attributes ------------------------------------------------------===//
  const onnx::AttributeProto *attr(llvm::StringRef name) const;
  bool hasAttr(llvm::StringRef name) const { return attr(name) != nullptr; }
  int64_t attrInt(llvm::StringRef name, int64_t dflt) const;
  float attrFloat(llvm::StringRef name, float dflt) const;
  std::string attrString(llvm::StringRef name, llvm::StringRef dflt) const;
  llvm::SmallVector<int64_t> attrInts(llvm::StringRef name) const;
  llvm::SmallVector<float> attrFloats(llvm::StringRef name) const;
  /// A TENSOR attribute as an attribute (e.g. Constant's `value`).
  FailureOr<mlir::ElementsAttr> attrTensor(llvm::StringRef name);

  //===--- outputs ---------------------------------------------------------===//
  unsigned numOutputs() const { return node.output_size(); }
  bool wantsOutput(unsigned i) const;
  void setOutput(unsigned i, Value v);

  //===--- sequences -------------------------------------------------------===//
  // ONNX sequences exist only while importing: a compile-time list of
  // tensors (SplitToSequence, SequenceConstruct), consumed by SequenceAt and
  // ConcatFromSequence. No sinter value has a sequence type.
  /// Sequence input `i`; an error when it is not a sequence.
  FailureOr<llvm::ArrayRef<Value>> sequenceInput(unsigned i);
  void setSequenceOutput(unsigned i, llvm::ArrayRef<Value> elements);

  //===--- errors ----------------------------------------------------------===//
  /// Starts an error naming the node: "node 'n' (Op, domain 'ai.onnx',
  /// opset 18): ...".
  mlir::InFlightDiagnostic error();
  /// Normalizes a possibly negative axis; an error when out of range.
  FailureOr<int64_t> axis(int64_t a, int64_t rank);
  /// Unwraps a shape-rule result, turning its reason into a node error.
  template <typename T>
  FailureOr<T> check(FailureOr<T> result, const std::string &why) {
    if (mlir::failed(result))
      return error() << why, mlir::failure();
    return result;
  }
  LogicalResult check(LogicalResult result, const std::string &why) {
    if (mlir::failed(result))
      return error() << why, mlir::failure();
    return mlir::success();
  }

  //===--- building --------------------------------------------------------===//
  template <typename OpTy, typename... Args>
  OpTy create(Args &&...args) {
    return OpTy::create(b, loc, std::forward<Args>(args)...);
  }
  mlir::RankedTensorType tensorType(llvm::ArrayRef<int64_t> shape,
                                    Type elt) const {
    return mlir::RankedTensorType::get(shape, elt);
  }
  Value constant(mlir::ElementsAttr value);
  /// A rank-0 tensor constant of element type `elt`.
  Value scalar(Type elt, double value);
  /// Reshape through tensor.collapse_shape/expand_shape when a
  /// reassociation exists, else tensor.reshape.
  Value reshape(Value v, llvm::ArrayRef<int64_t> shape);
  /// sinter.cast unless `v` already has element type `elt`.
  Value cast(Value v, Type elt);
  /// Elementwise binary op with a broadcast result type computed here.
  template <typename OpTy>
  FailureOr<Value> binary(Value lhs, Value rhs);

private:
  llvm::StringMap<Value> &values;
  llvm::StringMap<llvm::SmallVector<Value>> *sequences;
};

template <typename OpTy>
FailureOr<Value> NodeContext::binary(Value lhs, Value rhs) {
  std::string why;
  auto lt = mlir::cast<mlir::RankedTensorType>(lhs.getType());
  auto rt = mlir::cast<mlir::RankedTensorType>(rhs.getType());
  if (lt.getElementType() != rt.getElementType())
    return error() << "operand element types " << lt.getElementType()
                   << " and " << rt.getElementType() << " differ",
           mlir::failure();
  FailureOr<shape::Shape> out =
      shape::broadcast({lt.getShape(), rt.getShape()}, why);
  if (mlir::failed(out))
    return error() << why, mlir::failure();
  Type elt = lt.getElementType();
  if constexpr (OpTy::template hasTrait<OpTrait::CompareResult>())
    elt = b.getI1Type();
  return create<OpTy>(tensorType(*out, elt), lhs, rhs).getResult();
}

/// Element type classes of the sinter op type constraints.
enum class TypeClass { Float, Numeric, Bool, Integer, Any };
/// An error naming the input when its element type is outside `cls`.
LogicalResult checkTypeClass(NodeContext &ctx, unsigned input, TypeClass cls);

using HandlerFn = LogicalResult (*)(NodeContext &);

/// Handlers by (domain, op type), each with its since-version.
class HandlerRegistry {
public:
  void add(llvm::StringRef domain, llvm::StringRef opType, int sinceVersion,
           HandlerFn fn);
  /// The handler for `opset`, or null; `since` receives its since-version.
  HandlerFn lookup(llvm::StringRef domain, llvm::StringRef opType,
                   int64_t opset, int *since = nullptr) const;
  std::vector<std::string> list() const;

private:
  struct Entry {
    int since;
    HandlerFn fn;
  };
  llvm::StringMap<std::vector<Entry>> handlers; // key: domain + "::" + op
};

/// The registry with every handler (built once).
const HandlerRegistry &getHandlerRegistry();

/// Compile-time evaluation of nodes whose inputs are all constants (shape
/// arithmetic of exported graphs: Shape -> Gather -> Concat -> Reshape).
/// Returns true and binds the outputs when it folded the node.
FailureOr<bool> tryConstantFold(NodeContext &ctx);

/// Sinter has no uint8 tensors at run time. A Cast to UINT8 of a value known
/// at import is folded (HF's masks: Range -> Cast(uint8) -> Equal -> Cast),
/// its result an i8 arith.constant holding the bit pattern, marked with this
/// attribute so that the folder reads it zero-extended. Any node that reads
/// a marked value without being folded is refused by the importer.
inline constexpr llvm::StringLiteral kCompileTimeUint8Attr =
    "sinter.onnx_uint8";
/// Whether `v` is such a compile-time uint8 constant.
bool isCompileTimeUint8(Value v);

// Handler families, one file each.
void registerElementwiseHandlers(HandlerRegistry &r);
void registerTensorHandlers(HandlerRegistry &r);
void registerNNHandlers(HandlerRegistry &r);
void registerLLMHandlers(HandlerRegistry &r);
void registerSequenceHandlers(HandlerRegistry &r);

} // namespace sinter::onnx_import

#endif // SINTER_LIB_IMPORT_ONNX_IMPORTERINTERNALS_H
