//===- ConstantFolding.cpp - integer ops on constants, folded at import ---===//
//
// JAX writes loop counters, scan indices and their bounds as small integer
// computations (`i + 1`, `select(i < 0, i + n, i)`, `i < n`). Folding them
// while importing, when every operand is a constant, is what lets a `while`
// whose trip count is known only after folding be unrolled (its condition
// becomes a constant) and lets an index derived from the counter make a
// slice static. Only integer and i1 tensors of at most kMaxElements are
// folded: floating-point math stays in the graph, where it is computed with
// the target's rounding.
//
//===----------------------------------------------------------------------===//

#include "StableHloInternals.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;

namespace sinter::stablehlo {
namespace {

constexpr int64_t kMaxElements = 4096;

using Elements = SmallVector<APInt>;

std::optional<Elements> elementsOf(Value v) {
  DenseElementsAttr d = Converter::constantOf(v);
  if (!d || !isa<IntegerType>(d.getElementType()) ||
      d.getNumElements() > kMaxElements)
    return std::nullopt;
  return Elements(d.getValues<APInt>());
}

/// Element `i` of an operand, a single element standing for a splat.
const APInt &at(const Elements &e, size_t i) {
  return e.size() == 1 ? e[0] : e[i];
}

std::optional<APInt> binary(StringRef name, const APInt &a, const APInt &b,
                            bool isBool) {
  if (name == "add")
    return a + b;
  if (name == "subtract")
    return a - b;
  if (name == "multiply")
    return a * b;
  if (name == "divide" || name == "remainder") {
    // Division by zero and INT_MIN / -1 stay for the target to define.
    if (b.isZero() || (a.isMinSignedValue() && b.isAllOnes() && !isBool))
      return std::nullopt;
    return name == "divide" ? a.sdiv(b) : a.srem(b);
  }
  if (name == "maximum")
    return isBool ? (a.getBoolValue() ? a : b) : llvm::APIntOps::smax(a, b);
  if (name == "minimum")
    return isBool ? (a.getBoolValue() ? b : a) : llvm::APIntOps::smin(a, b);
  if (name == "and")
    return a & b;
  if (name == "or")
    return a | b;
  if (name == "xor")
    return a ^ b;
  return std::nullopt;
}

std::optional<bool> compare(StringRef dir, bool isUnsigned, const APInt &a,
                            const APInt &b) {
  if (dir == "EQ")
    return a == b;
  if (dir == "NE")
    return a != b;
  if (dir == "LT")
    return isUnsigned ? a.ult(b) : a.slt(b);
  if (dir == "LE")
    return isUnsigned ? a.ule(b) : a.sle(b);
  if (dir == "GT")
    return isUnsigned ? a.ugt(b) : a.sgt(b);
  if (dir == "GE")
    return isUnsigned ? a.uge(b) : a.sge(b);
  return std::nullopt;
}

} // namespace

bool tryFoldIntegerOp(Converter &c, Operation *op, ArrayRef<Value> operands,
                      SmallVectorImpl<Value> &results) {
  if (op->getNumResults() != 1 || operands.empty())
    return false;
  auto rt = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!rt || !rt.hasStaticShape() || rt.getNumElements() > kMaxElements)
    return false;
  StringRef name = op->getName().getStringRef();
  if (!name.consume_front("stablehlo."))
    return false;
  SmallVector<Elements> in;
  for (Value v : operands) {
    std::optional<Elements> e = elementsOf(v);
    if (!e)
      return false;
    in.push_back(std::move(*e));
  }
  auto resultInt = dyn_cast<IntegerType>(rt.getElementType());
  if (!resultInt)
    return false;
  unsigned width = resultInt.getWidth();
  size_t n = rt.getNumElements();
  // Nothing to fold in an empty result (the checks below read element 0;
  // a fuzzer found a broadcast_in_dim to tensor<0x1xi32>).
  if (n == 0)
    return false;
  for (const Elements &e : in)
    if (e.size() != 1 && e.size() != n)
      return false;
  // Operand widths must agree with each other and the result as the op
  // requires (the generic form can declare anything; APInt asserts on
  // mixed widths: a fuzzer found a compare of i32 against i64).
  auto widthOf = [&](size_t k) { return in[k][0].getBitWidth(); };
  for (const Elements &e : in)
    if (e.empty())
      return false;
  if (name == "compare") {
    if (in.size() != 2 || widthOf(0) != widthOf(1) || width != 1)
      return false;
  } else if (name == "select") {
    if (in.size() != 3 || widthOf(0) != 1 || widthOf(1) != width ||
        widthOf(2) != width)
      return false;
  } else if (name != "convert") {
    for (size_t k = 0; k < in.size(); ++k)
      if (widthOf(k) != width)
        return false;
  }
  bool isBool = width == 1;
  Elements out;
  out.reserve(n);
  if (name == "reshape") {
    out = in[0];
  } else if (name == "broadcast_in_dim") {
    if (in[0].size() != 1)
      return false;
    out.assign(n, in[0][0]);
  } else if (name == "convert") {
    unsigned from = in[0][0].getBitWidth();
    for (const APInt &v : in[0])
      out.push_back(width == 1  ? APInt(1, !v.isZero())
                    : from == 1 ? v.zext(width)
                                : v.sextOrTrunc(width));
  } else if (name == "negate") {
    for (const APInt &v : in[0])
      out.push_back(-v);
  } else if (name == "not") {
    for (const APInt &v : in[0])
      out.push_back(~v);
  } else if (name == "compare") {
    auto dir =
        dyn_cast_or_null<StringAttr>(op->getAttr("comparison_direction"));
    auto type = dyn_cast_or_null<StringAttr>(op->getAttr("compare_type"));
    bool isUnsigned =
        (type && type.getValue() == "UNSIGNED") || in[0][0].getBitWidth() == 1;
    if (!dir)
      return false;
    for (size_t i = 0; i < n; ++i) {
      std::optional<bool> r =
          compare(dir.getValue(), isUnsigned, at(in[0], i), at(in[1], i));
      if (!r)
        return false;
      out.push_back(APInt(1, *r));
    }
  } else if (name == "select") {
    for (size_t i = 0; i < n; ++i)
      out.push_back(at(in[0], i).getBoolValue() ? at(in[1], i) : at(in[2], i));
  } else if (name == "clamp") {
    for (size_t i = 0; i < n; ++i)
      out.push_back(llvm::APIntOps::smin(
          llvm::APIntOps::smax(at(in[1], i), at(in[0], i)), at(in[2], i)));
  } else if (operands.size() == 2) {
    for (size_t i = 0; i < n; ++i) {
      std::optional<APInt> r = binary(name, at(in[0], i), at(in[1], i), isBool);
      if (!r)
        return false;
      out.push_back(*r);
    }
  } else {
    return false;
  }
  if (out.size() != n || out[0].getBitWidth() != width)
    return false;
  results.push_back(c.constant(DenseElementsAttr::get(rt, out)));
  return true;
}

} // namespace sinter::stablehlo
