//===- ElementwiseOps.cpp - ONNX elementwise ops --------------------------===//
//
// Unary and binary math, comparisons, logic, Where and the variadic
// Sum/Mean/Max/Min. Activations that ONNX defines as a formula with
// attributes map to the sinter op with the same formula.
//
//===----------------------------------------------------------------------===//

#include "ImporterInternals.h"

using namespace mlir;

namespace sinter::onnx_import {
namespace {

/// Checks the operand count of a node with fixed arity.
LogicalResult expectInputs(NodeContext &ctx, unsigned n) {
  for (unsigned i = 0; i < n; ++i)
    if (!ctx.hasInput(i))
      return ctx.error() << "expects " << n << " inputs, input #" << i
                         << " is missing";
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

template <typename OpTy, TypeClass cls = TypeClass::Float>
LogicalResult unary(NodeContext &ctx) {
  if (failed(exactInputs(ctx, 1)) || failed(checkTypeClass(ctx, 0, cls)))
    return failure();
  Value x = ctx.input(0);
  ctx.setOutput(0, ctx.create<OpTy>(x.getType(), x));
  return success();
}

template <typename OpTy, TypeClass cls = TypeClass::Numeric>
LogicalResult binary(NodeContext &ctx) {
  if (failed(exactInputs(ctx, 2)) || failed(checkTypeClass(ctx, 0, cls)))
    return failure();
  Value lhs = ctx.input(0), rhs = ctx.input(1);
  FailureOr<Value> r = ctx.binary<OpTy>(lhs, rhs);
  if (failed(r))
    return failure();
  ctx.setOutput(0, *r);
  return success();
}

/// Folds Sum, Mean, Max, Min inputs (opset 8+ broadcast) into a chain.
template <typename OpTy>
FailureOr<Value> chain(NodeContext &ctx) {
  if (ctx.numInputs() == 0 || !ctx.hasInput(0))
    return ctx.error() << "expects at least one input", failure();
  Value acc = ctx.input(0);
  for (unsigned i = 1; i < ctx.numInputs(); ++i) {
    FailureOr<Value> r = ctx.binary<OpTy>(acc, ctx.input(i));
    if (failed(r))
      return failure();
    acc = *r;
  }
  return acc;
}

template <typename OpTy>
LogicalResult variadic(NodeContext &ctx) {
  FailureOr<Value> r = chain<OpTy>(ctx);
  if (failed(r))
    return failure();
  ctx.setOutput(0, *r);
  return success();
}

LogicalResult mean(NodeContext &ctx) {
  FailureOr<Value> sum = chain<AddOp>(ctx);
  if (failed(sum))
    return failure();
  Type elt = cast<RankedTensorType>(sum->getType()).getElementType();
  if (!isa<FloatType>(elt))
    return ctx.error() << "Mean of " << elt << " is not supported";
  FailureOr<Value> r =
      ctx.binary<DivOp>(*sum, ctx.scalar(elt, ctx.numInputs()));
  if (failed(r))
    return failure();
  ctx.setOutput(0, *r);
  return success();
}

} // namespace

void registerElementwiseHandlers(HandlerRegistry &r) {
  // Math with the same formula in every opset the importer covers; newer
  // versions only widened the type lists.
#define SINTER_UNARY(NAME, OP) r.add("", NAME, 1, unary<OP>);
  r.add("", "Neg", 1, unary<NegOp, TypeClass::Numeric>);
  r.add("", "Abs", 1, unary<AbsOp, TypeClass::Numeric>);
  r.add("", "Sign", 9, unary<SignOp, TypeClass::Numeric>);
  r.add("", "Relu", 1, unary<ReluOp, TypeClass::Numeric>);
  r.add("", "Not", 1, unary<NotOp, TypeClass::Bool>);
  SINTER_UNARY("Exp", ExpOp)
  SINTER_UNARY("Log", LogOp)
  SINTER_UNARY("Sqrt", SqrtOp)
  SINTER_UNARY("Reciprocal", ReciprocalOp)
  SINTER_UNARY("Sigmoid", SigmoidOp)
  SINTER_UNARY("Tanh", TanhOp)
  SINTER_UNARY("Erf", ErfOp)
  SINTER_UNARY("Softplus", SoftplusOp)
  SINTER_UNARY("Softsign", SoftsignOp)
  SINTER_UNARY("Sin", SinOp)
  SINTER_UNARY("Cos", CosOp)
  SINTER_UNARY("Tan", TanOp)
  SINTER_UNARY("Asin", AsinOp)
  SINTER_UNARY("Acos", AcosOp)
  SINTER_UNARY("Atan", AtanOp)
  SINTER_UNARY("Sinh", SinhOp)
  SINTER_UNARY("Cosh", CoshOp)
  SINTER_UNARY("Asinh", AsinhOp)
  SINTER_UNARY("Acosh", AcoshOp)
  SINTER_UNARY("Atanh", AtanhOp)
  SINTER_UNARY("Floor", FloorOp)
  SINTER_UNARY("Ceil", CeilOp)
  SINTER_UNARY("Round", RoundOp)
#undef SINTER_UNARY

  // Binary ops broadcast from opset 7 on (the importer's minimum).
#define SINTER_BINARY(NAME, OP) r.add("", NAME, 7, binary<OP>);
  SINTER_BINARY("Add", AddOp)
  SINTER_BINARY("Sub", SubOp)
  SINTER_BINARY("Mul", MulOp)
  SINTER_BINARY("Div", DivOp)
#undef SINTER_BINARY
  r.add("", "And", 7, binary<AndOp, TypeClass::Bool>);
  r.add("", "Or", 7, binary<OrOp, TypeClass::Bool>);
  r.add("", "Xor", 7, binary<XorOp, TypeClass::Bool>);
  r.add("", "Equal", 7, binary<EqualOp, TypeClass::Any>);
  r.add("", "Less", 7, binary<LessOp, TypeClass::Numeric>);
  r.add("", "Greater", 7, binary<GreaterOp, TypeClass::Numeric>);
  r.add("", "LessOrEqual", 12, binary<LessEqualOp, TypeClass::Numeric>);
  r.add("", "GreaterOrEqual", 12, binary<GreaterEqualOp, TypeClass::Numeric>);
  r.add("", "Sum", 8, variadic<AddOp>);
  r.add("", "Max", 8, variadic<MaxOp>);
  r.add("", "Min", 8, variadic<MinOp>);
  r.add("", "Mean", 8, mean);
}

} // namespace sinter::onnx_import
