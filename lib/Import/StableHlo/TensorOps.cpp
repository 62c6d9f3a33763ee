//===- TensorOps.cpp - stablehlo data-movement ops to sinter --------------===//
//
// broadcast_in_dim, reshape, transpose, slice, dynamic_slice,
// dynamic_update_slice, concatenate, iota, and gather/scatter in the forms
// jnp.take and .at[].set produce. Dynamic slice offsets are clamped as
// StableHLO specifies (into [0, dim - size]); when they are constants (as in
// unrolled scans) the slice is static.
//
//===----------------------------------------------------------------------===//

#include "StableHloInternals.h"
#include "sinter/Dialect/Graph/IR/GraphOps.h"
#include "sinter/Dialect/Graph/IR/ShapeInference.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

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
  if (DenseElementsAttr d = Converter::constantOf(x); d && d.isSplat()) {
    out.push_back(c.constant(d.resizeSplat(rt)));
    return success();
  }
  // Order the mapped dims increasingly (transposing x), then insert the
  // unit dims and expand.
  SmallVector<int64_t> order = llvm::to_vector(llvm::seq<int64_t>(0, dims->size()));
  llvm::sort(order, [&](int64_t a, int64_t b) { return (*dims)[a] < (*dims)[b]; });
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
  out.push_back(c.reshape(in[0], resultType(op).getShape()));
  return success();
}

LogicalResult transpose(Converter &c, Operation *op, ArrayRef<Value> in,
                        Results &out) {
  std::optional<SmallVector<int64_t>> perm = ints(op, "permutation");
  if (!perm)
    return c.error(op) << "transpose without permutation";
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
  if (rt == typeOf(in[0])) {
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

/// Offsets of a dynamic slice: constants where the index is one (clamped
/// here), else `clamp(index, 0, dim - size)` computed on index values.
SmallVector<OpFoldResult> offsets(Converter &c, ArrayRef<Value> indices,
                                  ArrayRef<int64_t> dims,
                                  ArrayRef<int64_t> sizes) {
  SmallVector<OpFoldResult> out;
  for (auto [i, v] : llvm::enumerate(indices)) {
    int64_t hi = dims[i] - sizes[i];
    if (std::optional<int64_t> k = Converter::constantInt(v)) {
      out.push_back(c.b.getIndexAttr(std::clamp<int64_t>(*k, 0, hi)));
      continue;
    }
    Value s = tensor::ExtractOp::create(c.b, c.loc, v, ValueRange{});
    s = arith::IndexCastOp::create(c.b, c.loc, c.b.getIndexType(), s);
    Value zero = arith::ConstantIndexOp::create(c.b, c.loc, 0);
    Value top = arith::ConstantIndexOp::create(c.b, c.loc, hi);
    s = arith::MaxSIOp::create(c.b, c.loc, s, zero);
    s = arith::MinSIOp::create(c.b, c.loc, s, top);
    out.push_back(s);
  }
  return out;
}

LogicalResult dynamicSlice(Converter &c, Operation *op, ArrayRef<Value> in,
                           Results &out) {
  RankedTensorType rt = resultType(op);
  RankedTensorType st = typeOf(in[0]);
  SmallVector<OpFoldResult> offs =
      offsets(c, in.drop_front(), st.getShape(), rt.getShape());
  SmallVector<OpFoldResult> sizes, strides;
  for (int64_t d : rt.getShape()) {
    sizes.push_back(c.b.getIndexAttr(d));
    strides.push_back(c.b.getIndexAttr(1));
  }
  out.push_back(tensor::ExtractSliceOp::create(c.b, c.loc, rt, in[0], offs,
                                               sizes, strides));
  return success();
}

Value updateSlice(Converter &c, Value dest, Value update,
                  ArrayRef<Value> indices) {
  RankedTensorType ut = typeOf(update);
  SmallVector<OpFoldResult> offs =
      offsets(c, indices, typeOf(dest).getShape(), ut.getShape());
  SmallVector<OpFoldResult> sizes, strides;
  for (int64_t d : ut.getShape()) {
    sizes.push_back(c.b.getIndexAttr(d));
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

LogicalResult dynamicUpdateSlice(Converter &c, Operation *op,
                                 ArrayRef<Value> in, Results &out) {
  if (Value v = cacheWrite(c, in[0], in[1], in.drop_front(2))) {
    out.push_back(v);
    return success();
  }
  out.push_back(updateSlice(c, in[0], in[1], in.drop_front(2)));
  return success();
}

LogicalResult concatenate(Converter &c, Operation *op, ArrayRef<Value> in,
                          Results &out) {
  std::optional<SmallVector<int64_t>> dim = ints(op, "dimension");
  if (!dim || dim->size() != 1)
    return c.error(op) << "concatenate without dimension";
  if (in.size() == 1) {
    out.push_back(in[0]);
    return success();
  }
  out.push_back(tensor::ConcatOp::create(c.b, c.loc, resultType(op),
                                         (*dim)[0], in));
  return success();
}

LogicalResult iota(Converter &c, Operation *op, ArrayRef<Value>, Results &out) {
  RankedTensorType rt = resultType(op);
  std::optional<SmallVector<int64_t>> dim = ints(op, "iota_dimension");
  if (!dim || dim->size() != 1 || (*dim)[0] >= rt.getRank())
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

/// jnp.take(x, ids, axis=a): one collapsed dim `a` addressed by a trailing
/// index vector of size 1, full slices elsewhere -> sinter.gather, then a
/// transpose when the offset dims are not where sinter.gather puts them.
LogicalResult gather(Converter &c, Operation *op, ArrayRef<Value> in,
                     Results &out) {
  auto offsetDims = ints(op, "offset_dims");
  auto collapsed = ints(op, "collapsed_slice_dims");
  auto startMap = ints(op, "start_index_map");
  auto ivd = ints(op, "index_vector_dim");
  auto sliceSizes = ints(op, "slice_sizes");
  auto batching = ints(op, "operand_batching_dims");
  RankedTensorType dt = typeOf(in[0]), it = typeOf(in[1]);
  auto refuse = [&](StringRef why) {
    return c.error(op) << "unsupported stablehlo.gather form (only the one "
                          "jnp.take produces): "
                       << why;
  };
  if (!offsetDims || !collapsed || !startMap || !sliceSizes)
    return refuse("missing dimension numbers");
  if (batching && !batching->empty())
    return refuse("operand_batching_dims");
  if (collapsed->size() != 1 || *startMap != *collapsed)
    return refuse("not exactly one collapsed dim that is also indexed");
  int64_t axis = (*collapsed)[0];
  for (int64_t k = 0; k < dt.getRank(); ++k)
    if ((*sliceSizes)[k] != (k == axis ? 1 : dt.getDimSize(k)))
      return refuse("partial slices");
  int64_t vd = ivd && !ivd->empty() ? (*ivd)[0] : it.getRank();
  Value idx = in[1];
  SmallVector<int64_t> batchShape(it.getShape());
  if (vd < it.getRank()) {
    if (vd != it.getRank() - 1 || it.getDimSize(vd) != 1)
      return refuse("the index vector is not the trailing unit dim");
    batchShape.pop_back();
    idx = c.reshape(idx, batchShape);
  }
  std::string why;
  FailureOr<shape::Shape> gs = shape::gather(dt.getShape(), batchShape, axis, why);
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

/// x.at[i, j].set(v) with one index tuple and an overwriting body: an
/// update of one window, i.e. dynamic_update_slice.
LogicalResult scatter(Converter &c, Operation *op, ArrayRef<Value> in,
                      Results &out) {
  auto refuse = [&](StringRef why) {
    return c.error(op) << "unsupported stablehlo.scatter form (only a "
                          "single-index .at[].set is): "
                       << why;
  };
  if (in.size() != 3)
    return refuse("more than one operand");
  auto windowDims = ints(op, "update_window_dims");
  auto inserted = ints(op, "inserted_window_dims");
  auto toOperand = ints(op, "scatter_dims_to_operand_dims");
  auto ivd = ints(op, "index_vector_dim");
  if (!windowDims || !inserted || !toOperand)
    return refuse("missing dimension numbers");
  if (auto b = ints(op, "input_batching_dims"); b && !b->empty())
    return refuse("input_batching_dims");
  Block &body = op->getRegion(0).front();
  Operation *ret = body.getTerminator();
  if (body.getNumArguments() != 2 || ret->getNumOperands() != 1 ||
      ret->getOperand(0) != body.getArgument(1))
    return refuse("the update computation is not a plain set");
  RankedTensorType dt = typeOf(in[0]), it = typeOf(in[1]),
                   ut = typeOf(in[2]);
  int64_t vd = ivd && !ivd->empty() ? (*ivd)[0] : it.getRank();
  int64_t numIdx = vd < it.getRank() ? it.getDimSize(vd) : 1;
  if (it.getNumElements() != numIdx ||
      (int64_t)toOperand->size() != numIdx)
    return refuse("more than one index tuple");
  if ((int64_t)windowDims->size() != ut.getRank())
    return refuse("update dims besides the window");
  // Window shape: update dims, with 1 at the inserted dims.
  SmallVector<int64_t> window;
  int64_t next = 0;
  for (int64_t k = 0; k < dt.getRank(); ++k)
    window.push_back(llvm::is_contained(*inserted, k)
                         ? 1
                         : ut.getDimSize((*windowDims)[next++]));
  Value update = c.reshape(in[2], window);
  // One scalar index per operand dim: the tuple's entries at their dims.
  Type idxElt = it.getElementType();
  auto scalarT = RankedTensorType::get({}, idxElt);
  Value flat = c.reshape(in[1], {numIdx});
  SmallVector<Value> indices;
  Value zero = c.constant(DenseElementsAttr::get(
      scalarT, APInt(idxElt.getIntOrFloatBitWidth(), 0)));
  for (int64_t k = 0; k < dt.getRank(); ++k) {
    auto pos = llvm::find(*toOperand, k);
    if (pos == toOperand->end()) {
      indices.push_back(zero);
      continue;
    }
    int64_t e = pos - toOperand->begin();
    Value one = tensor::ExtractSliceOp::create(
        c.b, c.loc, RankedTensorType::get({1}, idxElt), flat, ValueRange{},
        ValueRange{}, ValueRange{}, c.b.getDenseI64ArrayAttr({e}),
        c.b.getDenseI64ArrayAttr({1}), c.b.getDenseI64ArrayAttr({1}));
    Value s = c.reshape(one, {});
    if (auto k2 = Converter::constantInt(in[1]))
      s = c.constant(DenseElementsAttr::get(
          scalarT, APInt(idxElt.getIntOrFloatBitWidth(), *k2)));
    indices.push_back(s);
  }
  out.push_back(updateSlice(c, in[0], update, indices));
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
