//===- ContractionOps.cpp - dot_general, reduce, convolution to sinter ----===//
//
// dot_general becomes sinter.matmul between operands brought to
// [batch..., M, K] x [batch..., K, N] (transposes and reshapes only where
// needed), so `x @ W` with a constant W stays a plain matmul that
// sinter-form-linears turns into sinter.linear. reduce with an add / max /
// min / multiply body becomes the sinter reduction (a reshape over unit
// dims), the two-operand argmax/argmin form JAX writes sinter.argmax /
// argmin; convolution becomes sinter.conv in NC[spatial] layout.
//
//===----------------------------------------------------------------------===//

#include "StableHloInternals.h"
#include "sinter/Dialect/Graph/IR/GraphOps.h"
#include "sinter/Dialect/Graph/IR/ShapeInference.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;

namespace sinter::stablehlo {
namespace {

using Results = SmallVectorImpl<Value>;

RankedTensorType typeOf(Value v) { return cast<RankedTensorType>(v.getType()); }

int64_t product(RankedTensorType t, ArrayRef<int64_t> dims) {
  int64_t p = 1;
  for (int64_t d : dims)
    p *= t.getDimSize(d);
  return p;
}

LogicalResult dotGeneral(Converter &c, Operation *op, ArrayRef<Value> in,
                         Results &out) {
  SmallVector<int64_t> lb =
      ints(op, "lhs_batching_dimensions").value_or(SmallVector<int64_t>{});
  SmallVector<int64_t> rb =
      ints(op, "rhs_batching_dimensions").value_or(SmallVector<int64_t>{});
  SmallVector<int64_t> lc =
      ints(op, "lhs_contracting_dimensions").value_or(SmallVector<int64_t>{});
  SmallVector<int64_t> rc =
      ints(op, "rhs_contracting_dimensions").value_or(SmallVector<int64_t>{});
  RankedTensorType lt = typeOf(in[0]), rt = typeOf(in[1]);
  auto resT = cast<RankedTensorType>(op->getResult(0).getType());
  if (lb.size() != rb.size() || lc.size() != rc.size())
    return c.error(op) << "dot_general: mismatched dimension lists";
  // Each operand's batching and contracting dims must be distinct dims of
  // that operand, and paired dims must have equal sizes.
  auto validDims = [](RankedTensorType t, ArrayRef<int64_t> a,
                      ArrayRef<int64_t> b) {
    SmallVector<bool> seen(t.getRank(), false);
    for (ArrayRef<int64_t> list : {a, b})
      for (int64_t d : list) {
        if (d < 0 || d >= t.getRank() || seen[d])
          return false;
        seen[d] = true;
      }
    return true;
  };
  if (!validDims(lt, lb, lc) || !validDims(rt, rb, rc))
    return c.error(op) << "dot_general: a batching or contracting dimension "
                          "is out of range or repeated";
  for (auto [a, b] :
       llvm::zip(llvm::concat<int64_t>(lb, lc), llvm::concat<int64_t>(rb, rc)))
    if (lt.getDimSize(a) != rt.getDimSize(b))
      return c.error(op) << "dot_general: paired dimensions " << a << " and "
                         << b << " differ in size";
  auto freeDims = [](int64_t rank, ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
    SmallVector<int64_t> f;
    for (int64_t k = 0; k < rank; ++k)
      if (!llvm::is_contained(a, k) && !llvm::is_contained(b, k))
        f.push_back(k);
    return f;
  };
  SmallVector<int64_t> lf = freeDims(lt.getRank(), lb, lc);
  SmallVector<int64_t> rf = freeDims(rt.getRank(), rb, rc);
  if (lt.getElementType() != rt.getElementType() ||
      lt.getElementType() != resT.getElementType())
    return c.error(op) << "dot_general with mixed element types is not "
                          "supported";
  // lhs -> [batch..., M, K], rhs -> [batch..., K, N].
  SmallVector<int64_t> lperm(lb), rperm(rb);
  lperm.append(lf);
  lperm.append(lc);
  rperm.append(rc);
  rperm.append(rf);
  Value l = c.transpose(in[0], lperm);
  Value r = c.transpose(in[1], rperm);
  SmallVector<int64_t> batchShape;
  for (int64_t d : lb)
    batchShape.push_back(lt.getDimSize(d));
  int64_t m = product(lt, lf), k = product(lt, lc), n = product(rt, rf);
  // x[..., K] @ W[K, N] without batch dims: keep x's leading dims (numpy
  // matmul broadcasts them) so the matmul is the linear-layer form.
  bool plain = lb.empty() && lc.size() == 1 && lc[0] == lt.getRank() - 1 &&
               rt.getRank() == 2 && rf.size() == 1;
  SmallVector<int64_t> lshape(batchShape), rshape(batchShape),
      oshape(batchShape);
  if (plain) {
    lshape.assign(lt.getShape().begin(), lt.getShape().end());
    rshape = {k, n};
    oshape.assign(lt.getShape().begin(), lt.getShape().end() - 1);
    oshape.push_back(n);
  } else {
    lshape.append({m, k});
    rshape.append({k, n});
    oshape.append({m, n});
  }
  l = c.reshape(l, lshape);
  r = c.reshape(r, rshape);
  Value y = MatMulOp::create(c.b, c.loc, resT.clone(oshape), l, r);
  out.push_back(c.reshape(y, resT.getShape()));
  return success();
}

/// The binary op of a reduce body: `applies` (pretty form) or the single
/// op of the region.
StringRef reduceKind(Operation *op) {
  if (auto a = op->getAttrOfType<StringAttr>("sinter.applies"))
    return a.getValue();
  if (op->getNumRegions() != 1 || op->getRegion(0).empty())
    return "";
  Block &body = op->getRegion(0).front();
  if (body.getOperations().size() != 2)
    return "";
  Operation &first = body.front();
  Operation *ret = body.getTerminator();
  if (first.getNumOperands() != 2 || ret->getNumOperands() != 1 ||
      ret->getOperand(0) != first.getResult(0))
    return "";
  StringRef name = first.getName().getStringRef();
  name.consume_front("stablehlo.");
  return name;
}

/// Whether `v` is the iota along `dim` of its shape.
bool isIotaAlong(Value v, int64_t dim) {
  DenseElementsAttr d = Converter::constantOf(v);
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!d || !t || !isa<IntegerType>(d.getElementType()) || dim >= t.getRank())
    return false;
  int64_t inner = 1;
  for (int64_t k = dim + 1; k < t.getRank(); ++k)
    inner *= t.getDimSize(k);
  int64_t i = 0;
  for (const APInt &e : d.getValues<APInt>())
    if (e.getSExtValue() != (i++ / inner) % t.getDimSize(dim))
      return false;
  return true;
}

/// The argmax / argmin JAX writes: reduce over (values, iota along the
/// reduced dim) whose body selects the accumulator pair when
/// `acc GT x` (argmax) or `acc LT x` (argmin), ties going to the lower
/// index. The result pair is (max or min, its index).
LogicalResult argReduce(Converter &c, Operation *op, ArrayRef<Value> in,
                        Results &out) {
  auto refuse = [&](const Twine &why) {
    return c.error(op) << "reduce over " << in.size() / 2
                       << " operands is supported only as argmax/argmin "
                          "(values and an iota, a compare/select body): "
                       << why;
  };
  if (in.size() != 4 || op->getNumRegions() != 1 || op->getRegion(0).empty())
    return refuse("not two operands with a body");
  SmallVector<int64_t> dims =
      ints(op, "dimensions").value_or(SmallVector<int64_t>{});
  if (dims.size() != 1)
    return refuse("not exactly one reduced dimension");
  if (!isIotaAlong(in[1], dims[0]))
    return refuse("the second operand is not an iota along the reduced "
                  "dimension");
  Block &body = op->getRegion(0).front();
  Operation *ret = body.getTerminator();
  if (body.getNumArguments() != 4 || !ret || ret->getNumOperands() != 2)
    return refuse("the body does not take and return two pairs");
  Value acc = body.getArgument(0), x = body.getArgument(2);
  Value accI = body.getArgument(1), xI = body.getArgument(3);
  auto selects = [&](Value v, Value a, Value b) {
    Operation *s = v.getDefiningOp();
    return s && s->getName().getStringRef() == "stablehlo.select" &&
           s->getOperand(1) == a && s->getOperand(2) == b;
  };
  if (!selects(ret->getOperand(0), acc, x) ||
      !selects(ret->getOperand(1), accI, xI))
    return refuse("the body does not select between the accumulator and "
                  "the element");
  // The direction of the value compare and the tie rule on the indices.
  StringRef kind;
  bool firstIndex = false;
  for (Operation &o : body.without_terminator()) {
    if (o.getName().getStringRef() != "stablehlo.compare")
      continue;
    auto dirAttr =
        dyn_cast_or_null<StringAttr>(o.getAttr("comparison_direction"));
    StringRef dir = dirAttr ? dirAttr.getValue() : "";
    if (o.getOperand(0) == acc && o.getOperand(1) == x &&
        (dir == "GT" || dir == "LT"))
      kind = dir == "GT" ? "argmax" : "argmin";
    if (o.getOperand(0) == accI && o.getOperand(1) == xI && dir == "LT")
      firstIndex = true;
  }
  if (kind.empty())
    return refuse("no 'acc GT x' or 'acc LT x' compare of the values");
  if (!firstIndex)
    return refuse("ties do not go to the lower index");
  auto valT = cast<RankedTensorType>(op->getResult(0).getType());
  auto idxT = cast<RankedTensorType>(op->getResult(1).getType());
  auto axes = c.b.getDenseI64ArrayAttr(dims);
  auto axis = c.b.getI64IntegerAttr(dims[0]);
  Value value, index;
  auto i64T = idxT.clone(c.b.getI64Type());
  if (kind == "argmax") {
    value = ReduceMaxOp::create(c.b, c.loc, valT, in[0], axes, false);
    index =
        ArgMaxOp::create(c.b, c.loc, i64T, in[0], axis, UnitAttr(), UnitAttr());
  } else {
    value = ReduceMinOp::create(c.b, c.loc, valT, in[0], axes, false);
    index =
        ArgMinOp::create(c.b, c.loc, i64T, in[0], axis, UnitAttr(), UnitAttr());
  }
  out.push_back(value);
  out.push_back(c.castTo(index, idxT.getElementType()));
  return success();
}

LogicalResult reduce(Converter &c, Operation *op, ArrayRef<Value> in,
                     Results &out) {
  if (in.size() != 2)
    return argReduce(c, op, in, out);
  StringRef kind = reduceKind(op);
  SmallVector<int64_t> dims =
      ints(op, "dimensions").value_or(SmallVector<int64_t>{});
  llvm::sort(dims);
  auto resT = cast<RankedTensorType>(op->getResult(0).getType());
  Value x = in[0], init = in[1];
  if (dims.empty()) {
    out.push_back(x);
    return success();
  }
  // The dims must name distinct dims of the operand, and the declared result
  // shape must be the operand's without them (the unit-dim shortcut below
  // reshapes without a verifier to catch either; a fuzzer found it).
  {
    ArrayRef<int64_t> xs = typeOf(x).getShape();
    SmallVector<int64_t> kept;
    for (int64_t k = 0; k < (int64_t)xs.size(); ++k)
      if (!llvm::is_contained(dims, k))
        kept.push_back(xs[k]);
    bool valid = dims.front() >= 0 && dims.back() < (int64_t)xs.size() &&
                 llvm::adjacent_find(dims) == dims.end();
    if (!valid || resT.getShape() != ArrayRef<int64_t>(kept))
      return c.error(op) << "reduce dimensions do not match the operand "
                            "and result shapes";
  }
  bool isBool = resT.getElementType().isInteger(1);
  if (isBool && (kind == "and" || kind == "or")) {
    // On i8: and = min, or = max.
    x = c.castTo(x, c.b.getI8Type());
    init = c.castTo(init, c.b.getI8Type());
    kind = kind == "and" ? "minimum" : "maximum";
  }
  RankedTensorType workT = resT.clone(typeOf(x).getElementType());
  auto attrs = c.b.getDenseI64ArrayAttr(dims);
  Value r;
  // Over unit dims only (JAX's `all` over a size-1 index vector in
  // jnp.take's bounds check) the reduction is a reshape: no kernel.
  bool unitDims = llvm::all_of(
      dims, [&](int64_t d) { return typeOf(x).getDimSize(d) == 1; });
  if (unitDims && (kind == "add" || kind == "maximum" || kind == "minimum" ||
                   kind == "multiply"))
    r = c.reshape(x, workT.getShape());
  else if (kind == "add")
    r = ReduceSumOp::create(c.b, c.loc, workT, x, attrs, false);
  else if (kind == "maximum")
    r = ReduceMaxOp::create(c.b, c.loc, workT, x, attrs, false);
  else if (kind == "minimum")
    r = ReduceMinOp::create(c.b, c.loc, workT, x, attrs, false);
  else if (kind == "multiply")
    r = ReduceProdOp::create(c.b, c.loc, workT, x, attrs, false);
  else
    return c.error(op) << "reduce with a '" << (kind.empty() ? "complex" : kind)
                       << "' body is not supported (add, maximum, minimum, "
                          "multiply, and, or are)";
  // Fold the init value in unless it is the identity.
  DenseElementsAttr d = Converter::constantOf(init);
  bool identity = false;
  if (d && d.isSplat()) {
    if (auto ft = dyn_cast<FloatType>(d.getElementType())) {
      APFloat v = d.getSplatValue<APFloat>();
      identity = (kind == "add" && v.isZero()) ||
                 (kind == "multiply" && v.isExactlyValue(1.0)) ||
                 (kind == "maximum" && v.isInfinity() && v.isNegative()) ||
                 (kind == "minimum" && v.isInfinity() && !v.isNegative());
    } else {
      APInt v = d.getSplatValue<APInt>();
      unsigned w = v.getBitWidth();
      identity = (kind == "add" && v.isZero()) ||
                 (kind == "multiply" && v.isOne()) ||
                 (kind == "maximum" &&
                  (v.isMinSignedValue() || (w == 8 && isBool && v.isZero()))) ||
                 (kind == "minimum" &&
                  (v.isMaxSignedValue() || (w == 8 && isBool && v.isOne())));
    }
  }
  if (!identity) {
    if (kind == "add")
      r = AddOp::create(c.b, c.loc, workT, r, init);
    else if (kind == "maximum")
      r = MaxOp::create(c.b, c.loc, workT, r, init);
    else if (kind == "minimum")
      r = MinOp::create(c.b, c.loc, workT, r, init);
    else
      r = MulOp::create(c.b, c.loc, workT, r, init);
  }
  out.push_back(c.castTo(r, resT.getElementType()));
  return success();
}

LogicalResult convolution(Converter &c, Operation *op, ArrayRef<Value> in,
                          Results &out) {
  auto one = [&](StringRef name) -> int64_t {
    auto v = ints(op, name);
    return v && v->size() == 1 ? (*v)[0] : -1;
  };
  int64_t ib = one("input_batch_dimension"),
          ifd = one("input_feature_dimension");
  int64_t ko = one("kernel_output_feature_dimension"),
          ki = one("kernel_input_feature_dimension");
  int64_t ob = one("output_batch_dimension"),
          ofd = one("output_feature_dimension");
  auto is = ints(op, "input_spatial_dimensions");
  auto ks = ints(op, "kernel_spatial_dimensions");
  auto os = ints(op, "output_spatial_dimensions");
  if (ib < 0 || ifd < 0 || ko < 0 || ki < 0 || ob < 0 || ofd < 0 || !is ||
      !ks || !os)
    return c.error(op) << "convolution without dimension numbers";
  int64_t ns = is->size();
  if (ns < 1 || ns > 3)
    return c.error(op) << "convolution with " << ns
                       << " spatial dims is not supported (1-3 are)";
  if (one("batch_group_count") > 1)
    return c.error(op) << "convolution with batch_group_count > 1 is not "
                          "supported";
  auto ones = SmallVector<int64_t>(ns, 1);
  SmallVector<int64_t> strides = ints(op, "window_strides").value_or(ones);
  SmallVector<int64_t> lhsDil = ints(op, "lhs_dilation").value_or(ones);
  SmallVector<int64_t> rhsDil = ints(op, "rhs_dilation").value_or(ones);
  SmallVector<int64_t> padding =
      ints(op, "padding").value_or(SmallVector<int64_t>(2 * ns, 0));
  if (auto rev = op->getAttrOfType<DenseBoolArrayAttr>("window_reversal"))
    if (llvm::is_contained(rev.asArrayRef(), true))
      return c.error(op) << "convolution with window_reversal is not "
                            "supported";
  if (llvm::any_of(lhsDil, [](int64_t d) { return d != 1; }))
    return c.error(op) << "convolution with lhs_dilation (transposed "
                          "convolution) is not supported";
  if ((int64_t)padding.size() != 2 * ns)
    return c.error(op) << "convolution padding has the wrong size";
  SmallVector<int64_t> pads;
  for (int64_t k = 0; k < ns; ++k)
    pads.push_back(padding[2 * k]);
  for (int64_t k = 0; k < ns; ++k)
    pads.push_back(padding[2 * k + 1]);
  int64_t group = std::max<int64_t>(one("feature_group_count"), 1);
  SmallVector<int64_t> iperm{ib, ifd}, kperm{ko, ki};
  iperm.append(*is);
  kperm.append(*ks);
  SmallVector<int64_t> operm0{ob, ofd};
  operm0.append(*os);
  if ((int64_t)ks->size() != ns || (int64_t)os->size() != ns ||
      (int64_t)strides.size() != ns || (int64_t)rhsDil.size() != ns ||
      !Converter::isPermutation(iperm, typeOf(in[0]).getRank()) ||
      !Converter::isPermutation(kperm, typeOf(in[1]).getRank()) ||
      !Converter::isPermutation(operm0, ns + 2))
    return c.error(op) << "convolution dimension numbers do not match the "
                          "ranks of its operands";
  Value x = c.transpose(in[0], iperm);
  Value w = c.transpose(in[1], kperm);
  std::string why;
  FailureOr<shape::Shape> ys =
      shape::conv(typeOf(x).getShape(), typeOf(w).getShape(), std::nullopt,
                  strides, pads, rhsDil, group, why);
  if (failed(ys))
    return c.error(op) << why;
  Value y = ConvOp::create(
      c.b, c.loc, typeOf(x).clone(*ys), x, w, Value(),
      c.b.getDenseI64ArrayAttr(strides), c.b.getDenseI64ArrayAttr(pads),
      c.b.getDenseI64ArrayAttr(rhsDil), c.b.getI64IntegerAttr(group));
  // Back to the output layout: out[ob] = N, out[ofd] = C, out[os_i] = S_i.
  SmallVector<int64_t> operm(2 + ns);
  operm[ob] = 0;
  operm[ofd] = 1;
  for (int64_t k = 0; k < ns; ++k)
    operm[(*os)[k]] = 2 + k;
  out.push_back(c.transpose(y, operm));
  return success();
}

} // namespace

void registerContractionOps(llvm::StringMap<OpHandler> &t) {
  t["dot_general"] = dotGeneral;
  t["reduce"] = reduce;
  t["convolution"] = convolution;
}

} // namespace sinter::stablehlo
