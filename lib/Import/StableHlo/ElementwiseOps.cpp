//===- ElementwiseOps.cpp - stablehlo elementwise ops to sinter -----------===//
//
// constant, the unary and binary arithmetic ops, convert, compare, select.
// StableHLO operands already share a shape, so each maps to one sinter op
// with the declared result type (the verifier checks it at the end).
//
//===----------------------------------------------------------------------===//

#include "StableHloInternals.h"
#include "sinter/Dialect/Graph/IR/GraphOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;

namespace sinter::stablehlo {
namespace {

using Results = SmallVectorImpl<Value>;

Type resultType(Operation *op) { return op->getResult(0).getType(); }

bool isBool(Value v) {
  return getElementTypeOrSelf(v.getType()).isInteger(1);
}

template <typename OpTy>
OpHandler unary() {
  return [](Converter &c, Operation *op, ArrayRef<Value> in, Results &out) -> LogicalResult {
    out.push_back(OpTy::create(c.b, c.loc, resultType(op), in[0]));
    return success();
  };
}

template <typename OpTy, bool boolOnly = false>
OpHandler binary() {
  return [](Converter &c, Operation *op, ArrayRef<Value> in, Results &out) -> LogicalResult {
    if (isBool(in[0]) != boolOnly)
      return c.error(op) << op->getName() << " on "
                         << getElementTypeOrSelf(in[0].getType())
                         << " is not supported";
    out.push_back(OpTy::create(c.b, c.loc, resultType(op), in[0], in[1]));
    return success();
  };
}

bool isSplatOne(Value v) {
  DenseElementsAttr d = Converter::constantOf(v);
  return d && d.isSplat() && isa<FloatType>(d.getElementType()) &&
         d.getSplatValue<APFloat>().isExactlyValue(1.0);
}

/// JAX lowers jax.nn.sigmoid / lax.logistic to 1 / (1 + exp(-x)); rebuilding
/// sinter.sigmoid here lets sinter-recognize-activations find x*sigmoid(x)
/// (silu) and the fusions that start from it. The decomposed ops stay for
/// DCE to remove.
LogicalResult divide(Converter &c, Operation *op, ArrayRef<Value> in,
                     Results &out) {
  if (isSplatOne(in[0])) {
    if (auto add = in[1].getDefiningOp<AddOp>()) {
      Value e = isSplatOne(add.getLhs()) ? add.getRhs()
                : isSplatOne(add.getRhs()) ? add.getLhs()
                                           : Value();
      auto exp = e ? e.getDefiningOp<ExpOp>() : ExpOp();
      auto neg = exp ? exp.getInput().getDefiningOp<NegOp>() : NegOp();
      if (neg && neg.getInput().getType() == resultType(op)) {
        out.push_back(
            SigmoidOp::create(c.b, c.loc, resultType(op), neg.getInput()));
        return success();
      }
    }
  }
  return binary<DivOp>()(c, op, in, out);
}

LogicalResult constant(Converter &c, Operation *op, ArrayRef<Value>,
                       Results &out) {
  auto value = dyn_cast_or_null<DenseElementsAttr>(op->getAttr("value"));
  if (!value)
    return c.error(op) << "constant value is not a dense elements attribute";
  out.push_back(c.constant(value));
  return success();
}

LogicalResult compare(Converter &c, Operation *op, ArrayRef<Value> in,
                      Results &out) {
  auto dir = dyn_cast_or_null<StringAttr>(op->getAttr("comparison_direction"));
  if (!dir)
    return c.error(op) << "compare without comparison_direction";
  if (auto type = dyn_cast_or_null<StringAttr>(op->getAttr("compare_type")))
    if (type.getValue() == "UNSIGNED" || type.getValue() == "TOTALORDER")
      return c.error(op) << "compare type " << type.getValue()
                         << " is not supported";
  Type t = resultType(op);
  Value lhs = in[0], rhs = in[1];
  StringRef d = dir.getValue();
  if (d == "EQ")
    out.push_back(EqualOp::create(c.b, c.loc, t, lhs, rhs));
  else if (d == "NE")
    out.push_back(NotOp::create(c.b, c.loc, t,
                                EqualOp::create(c.b, c.loc, t, lhs, rhs)));
  else if (d == "LT")
    out.push_back(LessOp::create(c.b, c.loc, t, lhs, rhs));
  else if (d == "LE")
    out.push_back(LessEqualOp::create(c.b, c.loc, t, lhs, rhs));
  else if (d == "GT")
    out.push_back(GreaterOp::create(c.b, c.loc, t, lhs, rhs));
  else if (d == "GE")
    out.push_back(GreaterEqualOp::create(c.b, c.loc, t, lhs, rhs));
  else
    return c.error(op) << "unsupported comparison direction " << d;
  return success();
}

LogicalResult select(Converter &c, Operation *op, ArrayRef<Value> in,
                     Results &out) {
  out.push_back(WhereOp::create(c.b, c.loc, resultType(op), in[0], in[1], in[2]));
  return success();
}

LogicalResult convert(Converter &c, Operation *op, ArrayRef<Value> in,
                      Results &out) {
  Type elt = getElementTypeOrSelf(resultType(op));
  if (in[0].getType() == resultType(op))
    out.push_back(in[0]);
  else
    out.push_back(c.castTo(in[0], elt));
  return success();
}

LogicalResult clamp(Converter &c, Operation *op, ArrayRef<Value> in,
                    Results &out) {
  // clamp(min, x, max); min/max may be scalars (broadcast).
  Type t = resultType(op);
  Value lo = MaxOp::create(c.b, c.loc, t, in[1], in[0]);
  out.push_back(MinOp::create(c.b, c.loc, t, lo, in[2]));
  return success();
}

LogicalResult logPlusOne(Converter &c, Operation *op, ArrayRef<Value> in,
                         Results &out) {
  auto t = cast<RankedTensorType>(resultType(op));
  Value one = c.constant(DenseElementsAttr::get(
      t, FloatAttr::get(t.getElementType(), 1.0)));
  out.push_back(LogOp::create(c.b, c.loc, t,
                              AddOp::create(c.b, c.loc, t, in[0], one)));
  return success();
}

LogicalResult expMinusOne(Converter &c, Operation *op, ArrayRef<Value> in,
                          Results &out) {
  auto t = cast<RankedTensorType>(resultType(op));
  Value one = c.constant(DenseElementsAttr::get(
      t, FloatAttr::get(t.getElementType(), 1.0)));
  out.push_back(SubOp::create(c.b, c.loc, t,
                              ExpOp::create(c.b, c.loc, t, in[0]), one));
  return success();
}

LogicalResult notOp(Converter &c, Operation *op, ArrayRef<Value> in,
                    Results &out) {
  if (!isBool(in[0]))
    return c.error(op) << "bitwise not on integers is not supported";
  out.push_back(NotOp::create(c.b, c.loc, resultType(op), in[0]));
  return success();
}

} // namespace

void registerElementwiseOps(llvm::StringMap<OpHandler> &t) {
  t["constant"] = constant;
  t["add"] = binary<AddOp>();
  t["subtract"] = binary<SubOp>();
  t["multiply"] = binary<MulOp>();
  t["divide"] = divide;
  t["power"] = binary<PowOp>();
  t["maximum"] = binary<MaxOp>();
  t["minimum"] = binary<MinOp>();
  t["and"] = binary<AndOp, true>();
  t["or"] = binary<OrOp, true>();
  t["xor"] = binary<XorOp, true>();
  t["negate"] = unary<NegOp>();
  t["abs"] = unary<AbsOp>();
  t["sign"] = unary<SignOp>();
  t["exponential"] = unary<ExpOp>();
  t["log"] = unary<LogOp>();
  t["sqrt"] = unary<SqrtOp>();
  t["rsqrt"] = unary<RsqrtOp>();
  t["logistic"] = unary<SigmoidOp>();
  t["tanh"] = unary<TanhOp>();
  t["sine"] = unary<SinOp>();
  t["cosine"] = unary<CosOp>();
  t["floor"] = unary<FloorOp>();
  t["ceil"] = unary<CeilOp>();
  t["not"] = notOp;
  t["log_plus_one"] = logPlusOne;
  t["exponential_minus_one"] = expMinusOne;
  t["compare"] = compare;
  t["select"] = select;
  t["convert"] = convert;
  t["clamp"] = clamp;
}

} // namespace sinter::stablehlo
