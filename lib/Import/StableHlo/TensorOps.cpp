//===- TensorOps.cpp - stablehlo data-movement ops to sinter --------------===//
//
// broadcast_in_dim, reshape, transpose, slice, dynamic_slice,
// dynamic_update_slice, concatenate, iota, and gather/scatter in the forms
// jnp.take, take_along_axis and .at[].set/.add/... produce. Dynamic slice
// offsets are clamped as StableHLO specifies (into [0, dim - size]); when
// they are constants (as in unrolled scans) the slice is static. A
// data-dependent offset or index is never read on the host (the CUDA target
// cannot): it feeds a gather, a tensor_scatter, a masked select or a
// scatter_nd, whose lowerings read it per element inside the kernel.
//
//===----------------------------------------------------------------------===//

#include "StableHloInternals.h"
#include "sinter/Dialect/Graph/IR/GraphOps.h"
#include "sinter/Dialect/Graph/IR/ShapeInference.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;

namespace sinter::stablehlo {
namespace {

using Results = SmallVectorImpl<Value>;

RankedTensorType resultType(Operation *op) {
  return cast<RankedTensorType>(op->getResult(0).getType());
}
RankedTensorType typeOf(Value v) { return cast<RankedTensorType>(v.getType()); }

LogicalResult broadcastInDim(Converter &c, Operation *op, ArrayRef<Value> in,
                             Results &out) {
  RankedTensorType rt = resultType(op);
  std::optional<SmallVector<int64_t>> dims = ints(op, "broadcast_dimensions");
  if (!dims)
    return c.error(op) << "broadcast_in_dim without broadcast_dimensions";
  Value x = in[0];
  {
    // Each operand dim maps to a distinct result dim of the same size or
    // from a unit dim (checked before any shape is indexed with them).
    RankedTensorType xt = typeOf(x);
    SmallVector<bool> used(rt.getRank(), false);
    bool valid = (int64_t)dims->size() == xt.getRank() &&
                 xt.getElementType() == rt.getElementType();
    for (auto [k, d] : llvm::enumerate(*dims)) {
      if (!valid)
        break;
      valid = d >= 0 && d < rt.getRank() && !used[d] &&
              (xt.getDimSize(k) == 1 ||
               xt.getDimSize(k) == rt.getDimSize(d));
      if (valid)
        used[d] = true;
    }
    if (!valid)
      return c.error(op) << "broadcast_dimensions do not map the operand's "
                            "dims onto the result's";
  }
  if (DenseElementsAttr d = Converter::constantOf(x); d && d.isSplat()) {
    out.push_back(c.constant(d.resizeSplat(rt)));
    return success();
  }
  // Order the mapped dims increasingly (transposing x), then insert the
  // unit dims and expand.
  SmallVector<int64_t> order =
      llvm::to_vector(llvm::seq<int64_t>(0, dims->size()));
  llvm::sort(order,
             [&](int64_t a, int64_t b) { return (*dims)[a] < (*dims)[b]; });
  x = c.transpose(x, order);
  SmallVector<int64_t> shape(rt.getRank(), 1);
  for (auto [k, src] : llvm::enumerate(order))
    shape[(*dims)[src]] = typeOf(x).getDimSize(k);
  x = c.reshape(x, shape);
  if (typeOf(x) != rt)
    x = ExpandOp::create(c.b, c.loc, rt, x);
  out.push_back(x);
  return success();
}

LogicalResult reshape(Converter &c, Operation *op, ArrayRef<Value> in,
                      Results &out) {
  if (resultType(op).getNumElements() != typeOf(in[0]).getNumElements() ||
      resultType(op).getElementType() != typeOf(in[0]).getElementType())
    return c.error(op) << "reshape to a type with another element count "
                          "or element type";
  out.push_back(c.reshape(in[0], resultType(op).getShape()));
  return success();
}

LogicalResult transpose(Converter &c, Operation *op, ArrayRef<Value> in,
                        Results &out) {
  std::optional<SmallVector<int64_t>> perm = ints(op, "permutation");
  if (!perm || !Converter::isPermutation(*perm, typeOf(in[0]).getRank()))
    return c.error(op) << "transpose without a permutation of its operand's "
                          "dims";
  out.push_back(c.transpose(in[0], *perm));
  return success();
}

LogicalResult slice(Converter &c, Operation *op, ArrayRef<Value> in,
                    Results &out) {
  auto starts = ints(op, "start_indices");
  auto strides = ints(op, "strides");
  if (!starts || !strides)
    return c.error(op) << "slice without start_indices/strides";
  RankedTensorType rt = resultType(op);
  RankedTensorType st = typeOf(in[0]);
  bool valid = (int64_t)starts->size() == st.getRank() &&
               (int64_t)strides->size() == st.getRank() &&
               rt.getRank() == st.getRank() &&
               rt.getElementType() == st.getElementType();
  for (int64_t d = 0; valid && d < st.getRank(); ++d)
    valid = (*strides)[d] >= 1 && (*starts)[d] >= 0 &&
            (rt.getDimSize(d) == 0 ||
             (*starts)[d] + (rt.getDimSize(d) - 1) * (*strides)[d] <
                 st.getDimSize(d));
  if (!valid)
    return c.error(op) << "slice bounds do not fit the operand";
  if (rt == st) {
    out.push_back(in[0]);
    return success();
  }
  out.push_back(tensor::ExtractSliceOp::create(
      c.b, c.loc, rt, in[0], ValueRange{}, ValueRange{}, ValueRange{},
      c.b.getDenseI64ArrayAttr(*starts),
      c.b.getDenseI64ArrayAttr(rt.getShape()),
      c.b.getDenseI64ArrayAttr(*strides)));
  return success();
}

/// `clamp(index, 0, hi)` as a scalar i64 tensor (a constant when the index
/// is one).
Value clampedOffset(Converter &c, Value index, int64_t hi) {
  auto scalar = RankedTensorType::get({}, c.b.getI64Type());
  auto cst = [&](int64_t v) {
    return c.constant(DenseElementsAttr::get(scalar, APInt(64, v)));
  };
  if (std::optional<int64_t> k = Converter::constantInt(index))
    return cst(std::clamp<int64_t>(*k, 0, hi));
  return ClipOp::create(c.b, c.loc, scalar, c.castTo(index, c.b.getI64Type()),
                        cst(0), cst(hi));
}

/// 0, 1, ..., n - 1 as an i64 constant.
Value iotaI64(Converter &c, int64_t n) {
  auto t = RankedTensorType::get({n}, c.b.getI64Type());
  SmallVector<APInt> v;
  for (int64_t i = 0; i < n; ++i)
    v.push_back(APInt(64, i));
  return c.constant(DenseElementsAttr::get(t, v));
}

/// Constant offsets are a static tensor.extract_slice; each dimension with a
/// data-dependent offset is then a sinter.gather of `offset + iota(size)`,
/// so that the offset is read inside the kernel that copies (a slice offset
/// would be read on the host, which the CUDA target cannot do).
LogicalResult dynamicSlice(Converter &c, Operation *op, ArrayRef<Value> in,
                           Results &out) {
  RankedTensorType rt = resultType(op);
  RankedTensorType st = typeOf(in[0]);
  ArrayRef<Value> indices = in.drop_front();
  if (rt.getRank() != st.getRank() ||
      llvm::any_of(llvm::seq<int64_t>(0, st.getRank()), [&](int64_t d) {
        return rt.getDimSize(d) > st.getDimSize(d);
      }))
    return c.error(op) << "dynamic_slice result larger than its operand";
  if ((int64_t)indices.size() != st.getRank())
    return c.error(op) << "dynamic_slice with " << indices.size()
                       << " start indices for a rank-" << st.getRank()
                       << " operand";
  SmallVector<int64_t> offs, sizes;
  SmallVector<int64_t> dynamicDims;
  for (auto [d, v] : llvm::enumerate(indices)) {
    int64_t hi = st.getDimSize(d) - rt.getDimSize(d);
    std::optional<int64_t> k = Converter::constantInt(v);
    if (k || hi == 0) {
      offs.push_back(std::clamp<int64_t>(k.value_or(0), 0, hi));
      sizes.push_back(rt.getDimSize(d));
    } else {
      offs.push_back(0);
      sizes.push_back(st.getDimSize(d));
      dynamicDims.push_back(d);
    }
  }
  Value x = in[0];
  auto staticT = RankedTensorType::get(sizes, st.getElementType());
  if (staticT != st)
    x = tensor::ExtractSliceOp::create(
        c.b, c.loc, staticT, x, ValueRange{}, ValueRange{}, ValueRange{},
        c.b.getDenseI64ArrayAttr(offs), c.b.getDenseI64ArrayAttr(sizes),
        c.b.getDenseI64ArrayAttr(SmallVector<int64_t>(sizes.size(), 1)));
  for (int64_t d : dynamicDims) {
    int64_t n = rt.getDimSize(d);
    Value off = clampedOffset(c, indices[d], st.getDimSize(d) - n);
    auto idsT = RankedTensorType::get({n}, c.b.getI64Type());
    Value ids = AddOp::create(c.b, c.loc, idsT, off, iotaI64(c, n));
    SmallVector<int64_t> shape(typeOf(x).getShape());
    shape[d] = n;
    x = GatherOp::create(c.b, c.loc, typeOf(x).clone(shape), x, ids,
                         c.b.getI64IntegerAttr(d));
  }
  out.push_back(x);
  return success();
}

/// An update at constant offsets (clamped into [0, dim - size]), a static
/// tensor.insert_slice.
Value updateSlice(Converter &c, Value dest, Value update,
                  ArrayRef<Value> indices) {
  RankedTensorType dt = typeOf(dest), ut = typeOf(update);
  SmallVector<OpFoldResult> offs, sizes, strides;
  for (auto [d, v] : llvm::enumerate(indices)) {
    int64_t hi = dt.getDimSize(d) - ut.getDimSize(d);
    offs.push_back(c.b.getIndexAttr(
        std::clamp<int64_t>(Converter::constantInt(v).value_or(0), 0, hi)));
    sizes.push_back(c.b.getIndexAttr(ut.getDimSize(d)));
    strides.push_back(c.b.getIndexAttr(1));
  }
  return tensor::InsertSliceOp::create(c.b, c.loc, update, dest, offs, sizes,
                                       strides);
}

/// A KV-cache write: `update` covers `dest` except along one non-batch axis,
/// whose offset is the only dynamic index (the others are 0). That is
/// sinter.tensor_scatter with one clamped write index per batch row, which
/// every target lowers inside a kernel and which becomes an in-place update
/// when the cache is model state.
Value cacheWrite(Converter &c, Value dest, Value update,
                 ArrayRef<Value> indices) {
  RankedTensorType dt = typeOf(dest), ut = typeOf(update);
  if (dt.getRank() < 2)
    return {};
  int64_t axis = -1;
  for (auto [k, v] : llvm::enumerate(indices)) {
    std::optional<int64_t> cst = Converter::constantInt(v);
    if (cst && *cst == 0 && ut.getDimSize(k) == dt.getDimSize(k))
      continue;
    if (cst || axis >= 0 || k == 0)
      return {};
    axis = k;
  }
  if (axis < 0)
    return {};
  auto i64 = c.b.getI64Type();
  auto scalar = RankedTensorType::get({}, i64);
  Value idx = c.castTo(indices[axis], i64);
  auto bound = [&](int64_t v) {
    return c.constant(DenseElementsAttr::get(scalar, APInt(64, v)));
  };
  int64_t hi = dt.getDimSize(axis) - ut.getDimSize(axis);
  idx = ClipOp::create(c.b, c.loc, scalar, idx, bound(0), bound(hi));
  idx = c.reshape(idx, {1});
  auto rows = RankedTensorType::get({dt.getDimSize(0)}, i64);
  if (dt.getDimSize(0) != 1)
    idx = ExpandOp::create(c.b, c.loc, rows, idx);
  return TensorScatterOp::create(
      c.b, c.loc, dt, dest, update, idx, c.b.getI64IntegerAttr(axis),
      CacheModeAttr::get(c.b.getContext(), CacheMode::linear));
}

/// An update window at data-dependent offsets, computed per element of the
/// result (so that the offsets are read inside the kernel): along each
/// dimension the window does not cover, the update is spread to the full
/// size by a sinter.gather of clip(p - offset, 0, size - 1), and a mask
/// `offset <= p < offset + size` selects it over the old value.
Value maskedUpdate(Converter &c, Value dest, Value update,
                   ArrayRef<Value> indices) {
  RankedTensorType dt = typeOf(dest), ut = typeOf(update);
  int64_t r = dt.getRank();
  auto i64 = c.b.getI64Type();
  auto scalar = RankedTensorType::get({}, i64);
  auto cst = [&](int64_t v) {
    return c.constant(DenseElementsAttr::get(scalar, APInt(64, v)));
  };
  Value spread = update, mask;
  SmallVector<int64_t> maskShape(r, 1);
  for (int64_t d = 0; d < r; ++d) {
    int64_t full = dt.getDimSize(d), size = ut.getDimSize(d);
    if (size == full)
      continue; // the offset clamps to 0
    Value off = clampedOffset(c, indices[d], full - size);
    auto vecT = RankedTensorType::get({full}, i64);
    Value rel = SubOp::create(c.b, c.loc, vecT, iotaI64(c, full), off);
    Value ids = ClipOp::create(c.b, c.loc, vecT, rel, cst(0), cst(size - 1));
    SmallVector<int64_t> shape(typeOf(spread).getShape());
    shape[d] = full;
    spread = GatherOp::create(c.b, c.loc, typeOf(spread).clone(shape), spread,
                              ids, c.b.getI64IntegerAttr(d));
    auto boolT = RankedTensorType::get({full}, c.b.getI1Type());
    Value m =
        AndOp::create(c.b, c.loc, boolT,
                      GreaterEqualOp::create(c.b, c.loc, boolT, rel, cst(0)),
                      LessOp::create(c.b, c.loc, boolT, rel, cst(size)));
    SmallVector<int64_t> one(r, 1);
    one[d] = full;
    m = c.reshape(m, one);
    maskShape[d] = full;
    mask =
        mask ? AndOp::create(c.b, c.loc,
                             RankedTensorType::get(maskShape, c.b.getI1Type()),
                             mask, m)
             : m;
  }
  if (!mask)
    return spread;
  return WhereOp::create(c.b, c.loc, dt, mask, spread, dest);
}

/// A window update: static offsets insert a slice; a cache write (one
/// dynamic non-batch axis) is sinter.tensor_scatter; any other dynamic
/// offsets take the masked form.
Value dynamicUpdate(Converter &c, Value dest, Value update,
                    ArrayRef<Value> indices) {
  if (llvm::all_of(indices, [](Value v) {
        return Converter::constantInt(v).has_value();
      }))
    return updateSlice(c, dest, update, indices);
  if (Value v = cacheWrite(c, dest, update, indices))
    return v;
  return maskedUpdate(c, dest, update, indices);
}

LogicalResult dynamicUpdateSlice(Converter &c, Operation *op,
                                 ArrayRef<Value> in, Results &out) {
  if ((int64_t)in.size() != 2 + typeOf(in[0]).getRank())
    return c.error(op) << "dynamic_update_slice with " << in.size() - 2
                       << " start indices for a rank-"
                       << typeOf(in[0]).getRank() << " operand";
  RankedTensorType dt = typeOf(in[0]), ut = typeOf(in[1]);
  if (ut.getRank() != dt.getRank() ||
      ut.getElementType() != dt.getElementType() ||
      llvm::any_of(llvm::seq<int64_t>(0, dt.getRank()), [&](int64_t d) {
        return ut.getDimSize(d) > dt.getDimSize(d);
      }))
    return c.error(op) << "dynamic_update_slice update does not fit its "
                          "operand";
  out.push_back(dynamicUpdate(c, in[0], in[1], in.drop_front(2)));
  return success();
}

LogicalResult concatenate(Converter &c, Operation *op, ArrayRef<Value> in,
                          Results &out) {
  std::optional<SmallVector<int64_t>> dim = ints(op, "dimension");
  if (!dim || dim->size() != 1)
    return c.error(op) << "concatenate without dimension";
  int64_t rank = resultType(op).getRank();
  if ((*dim)[0] < 0 || (*dim)[0] >= rank ||
      llvm::any_of(in, [&](Value v) { return typeOf(v).getRank() != rank; }))
    return c.error(op) << "concatenate dimension or operand ranks do not "
                          "match the result";
  if (in.size() == 1) {
    out.push_back(in[0]);
    return success();
  }
  out.push_back(
      tensor::ConcatOp::create(c.b, c.loc, resultType(op), (*dim)[0], in));
  return success();
}

LogicalResult iota(Converter &c, Operation *op, ArrayRef<Value>, Results &out) {
  RankedTensorType rt = resultType(op);
  std::optional<SmallVector<int64_t>> dim = ints(op, "iota_dimension");
  if (!dim || dim->size() != 1 || (*dim)[0] < 0 || (*dim)[0] >= rt.getRank())
    return c.error(op) << "iota without a valid iota_dimension";
  int64_t d = (*dim)[0];
  int64_t inner = 1;
  for (int64_t k = d + 1; k < rt.getRank(); ++k)
    inner *= rt.getDimSize(k);
  Type elt = rt.getElementType();
  int64_t n = rt.getNumElements();
  if (auto it = dyn_cast<IntegerType>(elt)) {
    SmallVector<APInt> v;
    for (int64_t i = 0; i < n; ++i)
      v.push_back(APInt(it.getWidth(), (i / inner) % rt.getDimSize(d)));
    out.push_back(c.constant(DenseElementsAttr::get(rt, v)));
    return success();
  }
  if (auto ft = dyn_cast<FloatType>(elt)) {
    SmallVector<APFloat> v;
    for (int64_t i = 0; i < n; ++i) {
      APFloat f((double)((i / inner) % rt.getDimSize(d)));
      bool lost;
      f.convert(ft.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
      v.push_back(f);
    }
    out.push_back(c.constant(DenseElementsAttr::get(rt, v)));
    return success();
  }
  return c.error(op) << "iota of " << elt << " is not supported";
}

/// The dimension numbers of a gather or scatter, for error messages.
std::string dimensionNumbers(Operation *op, ArrayRef<StringRef> names) {
  std::string text;
  llvm::raw_string_ostream os(text);
  for (StringRef n : names) {
    std::optional<SmallVector<int64_t>> v = ints(op, n);
    if (!v)
      continue;
    os << (text.empty() ? "" : ", ") << n << " = [";
    llvm::interleaveComma(*v, os);
    os << "]";
  }
  return text;
}

const StringRef kGatherDims[] = {"offset_dims",
                                 "collapsed_slice_dims",
                                 "operand_batching_dims",
                                 "start_indices_batching_dims",
                                 "start_index_map",
                                 "index_vector_dim",
                                 "slice_sizes"};
const StringRef kScatterDims[] = {
    "update_window_dims",           "inserted_window_dims",
    "input_batching_dims",          "scatter_indices_batching_dims",
    "scatter_dims_to_operand_dims", "index_vector_dim"};

/// x[b, ids[b, ...]] with batch dims (jnp.take_along_axis, a vmapped x[i]):
/// one indexed dim `a`, operand batching dims paired with index batching
/// dims, full slices elsewhere. The data is transposed to [batch, a,
/// offset], the indices to [batch, others] and broadcast over the offset
/// dims, so that sinter.gather_elements along `a` computes it; a transpose
/// then puts the dims where StableHLO wants them.
LogicalResult batchedGather(Converter &c, Operation *op, Value data, Value idx,
                            int64_t axis, ArrayRef<int64_t> operandBatch,
                            SmallVector<int64_t> indexBatch,
                            ArrayRef<int64_t> offsetDims, Results &out,
                            function_ref<LogicalResult(StringRef)> refuse) {
  RankedTensorType dt = typeOf(data), it = typeOf(idx);
  if (operandBatch.size() != indexBatch.size())
    return refuse("operand_batching_dims and start_indices_batching_dims "
                  "differ in length");
  SmallVector<int64_t> dataPerm(operandBatch), offsets;
  dataPerm.push_back(axis);
  for (int64_t d = 0; d < dt.getRank(); ++d)
    if (d != axis && !llvm::is_contained(operandBatch, d)) {
      dataPerm.push_back(d);
      offsets.push_back(d);
    }
  SmallVector<int64_t> idxPerm(indexBatch), others;
  for (int64_t d = 0; d < it.getRank(); ++d)
    if (!llvm::is_contained(indexBatch, d)) {
      idxPerm.push_back(d);
      others.push_back(d);
    }
  int64_t nb = operandBatch.size();
  for (int64_t k = 0; k < nb; ++k)
    if (dt.getDimSize(operandBatch[k]) != it.getDimSize(indexBatch[k]))
      return refuse("a batching dim has different sizes in operand and "
                    "indices");
  Value d = c.transpose(data, dataPerm);
  Value i = c.transpose(idx, idxPerm);
  int64_t flat = 1;
  for (int64_t o : others)
    flat *= it.getDimSize(o);
  SmallVector<int64_t> idxShape, fullShape;
  for (int64_t k = 0; k < nb; ++k)
    idxShape.push_back(it.getDimSize(indexBatch[k]));
  idxShape.push_back(flat);
  fullShape = idxShape;
  for (int64_t o : offsets) {
    idxShape.push_back(1);
    fullShape.push_back(dt.getDimSize(o));
  }
  i = c.reshape(i, idxShape);
  auto fullT = RankedTensorType::get(fullShape, typeOf(i).getElementType());
  if (typeOf(i) != fullT)
    i = ExpandOp::create(c.b, c.loc, fullT, i);
  Value g = GatherElementsOp::create(
      c.b, c.loc, RankedTensorType::get(fullShape, dt.getElementType()), d, i,
      c.b.getI64IntegerAttr(nb));
  // g: [index batch dims (in pairing order), other index dims, offsets].
  SmallVector<int64_t> gShape;
  for (int64_t k = 0; k < nb; ++k)
    gShape.push_back(it.getDimSize(indexBatch[k]));
  for (int64_t o : others)
    gShape.push_back(it.getDimSize(o));
  for (int64_t o : offsets)
    gShape.push_back(dt.getDimSize(o));
  g = c.reshape(g, gShape);
  SmallVector<int64_t> perm;
  int64_t rank = gShape.size(), nextOffset = 0, nextIndex = 0;
  for (int64_t j = 0; j < rank; ++j) {
    if (llvm::is_contained(offsetDims, j)) {
      perm.push_back(nb + others.size() + nextOffset++);
      continue;
    }
    int64_t k = nextIndex++; // the k-th index dim, in index order
    auto pos = llvm::find(indexBatch, k);
    perm.push_back(pos != indexBatch.end()
                       ? pos - indexBatch.begin()
                       : nb + (llvm::find(others, k) - others.begin()));
  }
  out.push_back(c.transpose(g, perm));
  return success();
}

/// jnp.take(x, ids, axis=a) and x[ids]: one collapsed dim `a` addressed by
/// a trailing index vector of size 1, full slices elsewhere ->
/// sinter.gather, then a transpose when the offset dims are not where
/// sinter.gather puts them. With batching dims: batchedGather.
LogicalResult gather(Converter &c, Operation *op, ArrayRef<Value> in,
                     Results &out) {
  auto offsetDims = ints(op, "offset_dims");
  auto collapsed = ints(op, "collapsed_slice_dims");
  auto startMap = ints(op, "start_index_map");
  auto ivd = ints(op, "index_vector_dim");
  auto sliceSizes = ints(op, "slice_sizes");
  auto batching = ints(op, "operand_batching_dims");
  RankedTensorType dt = typeOf(in[0]), it = typeOf(in[1]);
  auto refuse = [&](StringRef why) -> LogicalResult {
    return c.error(op) << "unsupported stablehlo.gather form (jnp.take, "
                          "x[ids] and take_along_axis are supported): "
                       << why << " (" << dimensionNumbers(op, kGatherDims)
                       << ")";
  };
  if (!collapsed)
    collapsed = SmallVector<int64_t>{};
  if (!offsetDims)
    offsetDims = SmallVector<int64_t>{};
  if (!startMap || !sliceSizes)
    return refuse("missing dimension numbers");
  if ((int64_t)sliceSizes->size() != dt.getRank())
    return refuse("slice_sizes does not match the operand rank");
  if (startMap->size() != 1 || !llvm::is_contained(*collapsed, (*startMap)[0]))
    return refuse("not exactly one indexed dim that is also collapsed");
  int64_t axis = (*startMap)[0];
  SmallVector<int64_t> operandBatch = batching.value_or(SmallVector<int64_t>{});
  auto outOfRange = [](ArrayRef<int64_t> dims, int64_t rank) {
    return llvm::any_of(dims, [&](int64_t d) { return d < 0 || d >= rank; });
  };
  if (axis < 0 || axis >= dt.getRank() || outOfRange(operandBatch, dt.getRank()))
    return refuse("an operand dim out of range");
  if (outOfRange(*offsetDims, dt.getRank() - 1 + it.getRank()))
    return refuse("an offset_dims entry out of range");
  for (int64_t k : *collapsed)
    if (k != axis)
      return refuse("a collapsed dim that is not indexed");
  for (int64_t k = 0; k < dt.getRank(); ++k) {
    bool one = k == axis || llvm::is_contained(operandBatch, k);
    if ((*sliceSizes)[k] != (one ? 1 : dt.getDimSize(k)))
      return refuse("partial slices");
  }
  int64_t vd = ivd && !ivd->empty() ? (*ivd)[0] : it.getRank();
  Value idx = in[1];
  SmallVector<int64_t> batchShape(it.getShape());
  if (vd < it.getRank()) {
    if (vd != it.getRank() - 1 || it.getDimSize(vd) != 1)
      return refuse("the index vector is not the trailing unit dim");
    batchShape.pop_back();
    idx = c.reshape(idx, batchShape);
  }
  if (!operandBatch.empty()) {
    SmallVector<int64_t> indexBatch = ints(op, "start_indices_batching_dims")
                                          .value_or(SmallVector<int64_t>{});
    for (int64_t &k : indexBatch) {
      if (k == vd || k < 0 || k >= it.getRank())
        return refuse("start_indices_batching_dims out of range");
      k -= k > vd;
    }
    return batchedGather(c, op, in[0], idx, axis, operandBatch, indexBatch,
                         *offsetDims, out, refuse);
  }
  std::string why;
  FailureOr<shape::Shape> gs =
      shape::gather(dt.getShape(), batchShape, axis, why);
  if (failed(gs))
    return c.error(op) << why;
  Value g = GatherOp::create(c.b, c.loc, dt.clone(*gs), in[0], idx,
                             c.b.getI64IntegerAttr(axis));
  // sinter order: data[:axis], batch..., data[axis+1:]. StableHLO order:
  // offset dims at offset_dims, batch dims elsewhere, each in order.
  int64_t nb = batchShape.size();
  SmallVector<int64_t> perm;
  int64_t nextData = 0, nextBatch = 0;
  int64_t rank = dt.getRank() - 1 + nb;
  for (int64_t j = 0; j < rank; ++j) {
    if (llvm::is_contained(*offsetDims, j)) {
      int64_t k = nextData++; // k-th non-collapsed data dim
      perm.push_back(k < axis ? k : k + nb);
    } else {
      perm.push_back(axis + nextBatch++);
    }
  }
  out.push_back(c.transpose(g, perm));
  return success();
}

/// The combiner of a scatter body: `set` (returns the update), or one
/// add / multiply / maximum / minimum of the old value and the update.
std::optional<ScatterReduction> scatterKind(Operation *op) {
  if (op->getNumRegions() != 1 || op->getRegion(0).empty())
    return std::nullopt;
  Block &body = op->getRegion(0).front();
  Operation *ret = body.getTerminator();
  if (body.getNumArguments() != 2 || !ret || ret->getNumOperands() != 1)
    return std::nullopt;
  Value v = ret->getOperand(0);
  if (v == body.getArgument(1))
    return ScatterReduction::none;
  Operation *def = v.getDefiningOp();
  if (!def || def->getNumOperands() != 2 ||
      !llvm::is_contained(def->getOperands(), body.getArgument(0)) ||
      !llvm::is_contained(def->getOperands(), body.getArgument(1)))
    return std::nullopt;
  StringRef name = def->getName().getStringRef();
  if (name == "stablehlo.add")
    return ScatterReduction::add;
  if (name == "stablehlo.multiply")
    return ScatterReduction::mul;
  if (name == "stablehlo.maximum")
    return ScatterReduction::max;
  if (name == "stablehlo.minimum")
    return ScatterReduction::min;
  return std::nullopt;
}

/// x.at[i, j].set(v) with one index tuple: an update of one window (which
/// may be partial), i.e. dynamic_update_slice.
LogicalResult singleIndexSet(Converter &c, Operation *op, ArrayRef<Value> in,
                             ArrayRef<int64_t> windowDims,
                             ArrayRef<int64_t> inserted,
                             ArrayRef<int64_t> toOperand, int64_t numIdx,
                             Results &out) {
  RankedTensorType dt = typeOf(in[0]), it = typeOf(in[1]);
  // Window shape: update dims, with 1 at the inserted dims.
  SmallVector<int64_t> window;
  int64_t next = 0;
  for (int64_t k = 0; k < dt.getRank(); ++k)
    window.push_back(llvm::is_contained(inserted, k)
                         ? 1
                         : typeOf(in[2]).getDimSize(windowDims[next++]));
  Value update = c.reshape(in[2], window);
  // One scalar index per operand dim: the tuple's entries at their dims.
  Type idxElt = it.getElementType();
  auto scalarT = RankedTensorType::get({}, idxElt);
  DenseElementsAttr constIdx = Converter::constantOf(in[1]);
  Value flat = c.reshape(in[1], {numIdx});
  SmallVector<Value> indices;
  for (int64_t k = 0; k < dt.getRank(); ++k) {
    auto pos = llvm::find(toOperand, k);
    int64_t e = pos - toOperand.begin();
    if (pos == toOperand.end() || constIdx) {
      int64_t v = pos == toOperand.end()
                      ? 0
                      : (*(constIdx.value_begin<APInt>() + e)).getSExtValue();
      indices.push_back(c.constant(DenseElementsAttr::get(
          scalarT, APInt(idxElt.getIntOrFloatBitWidth(), v, true))));
      continue;
    }
    Value one = tensor::ExtractSliceOp::create(
        c.b, c.loc, RankedTensorType::get({1}, idxElt), flat, ValueRange{},
        ValueRange{}, ValueRange{}, c.b.getDenseI64ArrayAttr({e}),
        c.b.getDenseI64ArrayAttr({1}), c.b.getDenseI64ArrayAttr({1}));
    indices.push_back(c.reshape(one, {}));
  }
  out.push_back(dynamicUpdate(c, in[0], update, indices));
  return success();
}

/// .at[ids].set / .add / .mul / .max / .min with many index tuples whose
/// windows are whole (every dim not indexed is fully updated): the indexed
/// dims are moved to the front, the index vector to the back, and
/// sinter.scatter_nd with the body's combiner does the rest.
LogicalResult scatter(Converter &c, Operation *op, ArrayRef<Value> in,
                      Results &out) {
  auto refuse = [&](StringRef why) {
    return c.error(op) << "unsupported stablehlo.scatter form (.at[].set, "
                          ".add, .mul, .max, .min are supported): "
                       << why << " (" << dimensionNumbers(op, kScatterDims)
                       << ")";
  };
  if (in.size() != 3)
    return refuse("more than one operand");
  auto windowDims =
      ints(op, "update_window_dims").value_or(SmallVector<int64_t>{});
  auto inserted =
      ints(op, "inserted_window_dims").value_or(SmallVector<int64_t>{});
  auto toOperand = ints(op, "scatter_dims_to_operand_dims");
  auto ivd = ints(op, "index_vector_dim");
  if (!toOperand)
    return refuse("missing dimension numbers");
  if (auto b = ints(op, "input_batching_dims"); b && !b->empty())
    return refuse("input_batching_dims");
  std::optional<ScatterReduction> kind = scatterKind(op);
  if (!kind)
    return refuse("the update computation is not a set or one add, "
                  "multiply, maximum or minimum");
  RankedTensorType dt = typeOf(in[0]), it = typeOf(in[1]), ut = typeOf(in[2]);
  // Every dimension number must name a dim of its tensor: the checks below
  // index shapes with them (a fuzzer found the unchecked version).
  auto inRange = [](ArrayRef<int64_t> dims, int64_t rank) {
    llvm::SmallDenseSet<int64_t> seen;
    return llvm::all_of(dims, [&](int64_t d) {
      return d >= 0 && d < rank && seen.insert(d).second;
    });
  };
  if (!inRange(windowDims, ut.getRank()))
    return refuse("an update_window_dims entry out of range or repeated");
  if (!inRange(inserted, dt.getRank()) || !inRange(*toOperand, dt.getRank()))
    return refuse("an operand dim out of range or repeated");
  if (ivd && (ivd->size() > 1 || (!ivd->empty() && ((*ivd)[0] < 0 ||
                                                    (*ivd)[0] > it.getRank()))))
    return refuse("index_vector_dim out of range");
  int64_t vd = ivd && !ivd->empty() ? (*ivd)[0] : it.getRank();
  int64_t numIdx = vd < it.getRank() ? it.getDimSize(vd) : 1;
  if ((int64_t)toOperand->size() != numIdx)
    return refuse("the index vector does not match "
                  "scatter_dims_to_operand_dims");
  for (int64_t k : inserted)
    if (!llvm::is_contained(*toOperand, k))
      return refuse("an inserted window dim that is not indexed");
  int64_t scatterRank = ut.getRank() - (int64_t)windowDims.size();
  if (windowDims.size() + inserted.size() != (size_t)dt.getRank())
    return refuse("the update window does not cover the operand's other dims");
  {
    // Window sizes may not exceed the operand's dims.
    int64_t next = 0;
    for (int64_t k = 0; k < dt.getRank(); ++k)
      if (!llvm::is_contained(inserted, k) &&
          ut.getDimSize(windowDims[next++]) > dt.getDimSize(k))
        return refuse("an update window larger than the operand");
  }
  if (it.getNumElements() == numIdx && *kind == ScatterReduction::none)
    return singleIndexSet(c, op, in, windowDims, inserted, *toOperand, numIdx,
                          out);
  // Whole windows: the non-inserted operand dims, in order, must equal
  // the update's window dims.
  SmallVector<int64_t> rest;
  for (int64_t k = 0; k < dt.getRank(); ++k)
    if (!llvm::is_contained(inserted, k))
      rest.push_back(k);
  for (auto [k, w] : llvm::zip(rest, windowDims))
    if (ut.getDimSize(w) != dt.getDimSize(k))
      return refuse("partial update windows with more than one index tuple");
  if (inserted.size() != toOperand->size())
    return refuse("indexed dims that are not inserted window dims");
  // data: indexed dims first, in index-vector order.
  SmallVector<int64_t> dataPerm(*toOperand);
  dataPerm.append(rest);
  Value data = c.transpose(in[0], dataPerm);
  // indices: [scatter dims..., index vector], i64.
  Value idx = in[1];
  if (vd == it.getRank()) {
    SmallVector<int64_t> shape(it.getShape());
    shape.push_back(1);
    idx = c.reshape(idx, shape);
  } else {
    SmallVector<int64_t> perm;
    for (int64_t d = 0; d < it.getRank(); ++d)
      if (d != vd)
        perm.push_back(d);
    perm.push_back(vd);
    idx = c.transpose(idx, perm);
  }
  idx = c.castTo(idx, c.b.getI64Type());
  // updates: [scatter dims..., window dims in operand order].
  SmallVector<int64_t> updPerm;
  for (int64_t d = 0; d < ut.getRank(); ++d)
    if (!llvm::is_contained(windowDims, d))
      updPerm.push_back(d);
  if ((int64_t)updPerm.size() != scatterRank)
    return refuse("update_window_dims out of range");
  updPerm.append(windowDims);
  Value upd = c.transpose(in[2], updPerm);
  Value r =
      ScatterNDOp::create(c.b, c.loc, typeOf(data), data, idx, upd,
                          ScatterReductionAttr::get(c.b.getContext(), *kind));
  SmallVector<int64_t> inverse(dataPerm.size());
  for (auto [i, p] : llvm::enumerate(dataPerm))
    inverse[p] = i;
  out.push_back(c.transpose(r, inverse));
  return success();
}

} // namespace

void registerTensorOps(llvm::StringMap<OpHandler> &t) {
  t["broadcast_in_dim"] = broadcastInDim;
  t["reshape"] = reshape;
  t["transpose"] = transpose;
  t["slice"] = slice;
  t["dynamic_slice"] = dynamicSlice;
  t["dynamic_update_slice"] = dynamicUpdateSlice;
  t["concatenate"] = concatenate;
  t["iota"] = iota;
  t["gather"] = gather;
  t["scatter"] = scatter;
}

} // namespace sinter::stablehlo
