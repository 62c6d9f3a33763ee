//===- GraphOps.h - the sinter graph dialect ---------------------*- C++ -*-===//
//
// Declarations of the sinter dialect, its enums, attributes and ops, and the
// C++ traits shared by op families (declared in GraphBase.td).
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_DIALECT_GRAPH_IR_GRAPHOPS_H
#define SINTER_DIALECT_GRAPH_IR_GRAPHOPS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "sinter/Dialect/Graph/IR/GraphOpsDialect.h.inc"
#include "sinter/Dialect/Graph/IR/GraphEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "sinter/Dialect/Graph/IR/GraphAttrs.h.inc"

namespace sinter {
namespace OpTrait {
namespace detail {
mlir::LogicalResult verifyBroadcasting(mlir::Operation *op);
mlir::LogicalResult verifyCompareResult(mlir::Operation *op);
} // namespace detail

/// Operands broadcast (numpy rules) to the single result's shape; the value
/// operands and the result share an element type (a leading i1 condition
/// operand of `where` excepted; comparisons have an i1 result instead).
template <typename ConcreteType>
class Broadcasting
    : public mlir::OpTrait::TraitBase<ConcreteType, Broadcasting> {
public:
  static mlir::LogicalResult verifyTrait(mlir::Operation *op) {
    return detail::verifyBroadcasting(op);
  }
};

/// The op compares its operands: the result is i1, both operands share an
/// element type.
template <typename ConcreteType>
class CompareResult
    : public mlir::OpTrait::TraitBase<ConcreteType, CompareResult> {
public:
  static mlir::LogicalResult verifyTrait(mlir::Operation *op) {
    return detail::verifyCompareResult(op);
  }
};
} // namespace OpTrait
} // namespace sinter

#define GET_OP_CLASSES
#include "sinter/Dialect/Graph/IR/GraphOps.h.inc"

#endif // SINTER_DIALECT_GRAPH_IR_GRAPHOPS_H
