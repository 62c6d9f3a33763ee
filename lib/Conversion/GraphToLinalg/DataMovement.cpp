//===- DataMovement.cpp - layout, pad and gather/scatter ops to linalg ----===//
//
// Ops whose output element comes from a statically known input position
// (transpose, expand, reverse) are linalg ops with indexing maps. Ops whose
// source position depends on the output index (pad modes, trilu) or on data
// (gathers) are linalg.generic over the output with `linalg.index` and
// `tensor.extract` in the body. Scatters are sequential by definition
// (duplicate indices: the last write wins, or updates combine in order);
// they are linalg.generics over the data, in place on it, in which each
// element visits the updates that may address it in order (an scf.for in
// the body), so that indices are read inside the kernel on every target.
// Negative indices count from the end of the dimension, as in ONNX.
//
//===----------------------------------------------------------------------===//

#include "GenericBuilders.h"

#include "sinter/Conversion/GraphToLinalg/GraphToLinalg.h"
#include "sinter/Dialect/Graph/IR/GraphOps.h"

using namespace mlir;
using namespace sinter::gen;

namespace {

RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

SmallVector<Value> loopIndices(OpBuilder &b, Location loc, unsigned n) {
  SmallVector<Value> ivs;
  for (unsigned i = 0; i < n; ++i)
    ivs.push_back(linalg::IndexOp::create(b, loc, i));
  return ivs;
}

struct TransposeLowering : OpConversionPattern<sinter::TransposeOp> {
  using Base::Base;
  LogicalResult
  matchAndRewrite(sinter::TransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto outTy = cast<RankedTensorType>(op.getType());
    Value init = emptyTensor(rewriter, op.getLoc(), outTy.getShape(),
                             outTy.getElementType());
    auto t = linalg::TransposeOp::create(
        rewriter, op.getLoc(), adaptor.getInput(), init, op.getPerm());
    rewriter.replaceOp(op, t.getResult());
    return success();
  }
};

struct ExpandLowering : OpConversionPattern<sinter::ExpandOp> {
  using Base::Base;
  LogicalResult
  matchAndRewrite(sinter::ExpandOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto outTy = cast<RankedTensorType>(op.getType());
    unsigned r = outTy.getRank();
    MLIRContext *ctx = rewriter.getContext();
    Value in = adaptor.getInput();
    SmallVector<AffineMap> maps{
        broadcastMap(ctx, tensorType(in).getShape(), outTy.getShape(), r),
        AffineMap::getMultiDimIdentityMap(r, ctx)};
    Value init = emptyTensor(rewriter, op.getLoc(), outTy.getShape(),
                             outTy.getElementType());
    rewriter.replaceOp(op, generic1(rewriter, op.getLoc(), in, init, maps,
                                    iterators(r),
                                    [](OpBuilder &b, Location l, ValueRange a) {
                                      yield(b, l, a[0]);
                                    }));
    return success();
  }
};

/// The input map reads `size - 1 - d` along the reversed axes.
struct ReverseLowering : OpConversionPattern<sinter::ReverseOp> {
  using Base::Base;
  LogicalResult
  matchAndRewrite(sinter::ReverseOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto ty = cast<RankedTensorType>(op.getType());
    unsigned r = ty.getRank();
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<AffineExpr> e;
    for (unsigned i = 0; i < r; ++i) {
      AffineExpr d = getAffineDimExpr(i, ctx);
      e.push_back(llvm::is_contained(op.getAxes(), (int64_t)i)
                      ? getAffineConstantExpr(ty.getDimSize(i) - 1, ctx) - d
                      : d);
    }
    SmallVector<AffineMap> maps{AffineMap::get(r, 0, e, ctx),
                                AffineMap::getMultiDimIdentityMap(r, ctx)};
    Value init =
        emptyTensor(rewriter, op.getLoc(), ty.getShape(), ty.getElementType());
    rewriter.replaceOp(op, generic1(rewriter, op.getLoc(), adaptor.getInput(),
                                    init, maps, iterators(r),
                                    [](OpBuilder &b, Location l, ValueRange a) {
                                      yield(b, l, a[0]);
                                    }));
    return success();
  }
};

struct SplitLowering : OpConversionPattern<sinter::SplitOp> {
  using Base::Base;
  LogicalResult
  matchAndRewrite(sinter::SplitOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value in = adaptor.getInput();
    ArrayRef<int64_t> shape = tensorType(in).getShape();
    int64_t axis = op.getAxis(), offset = 0;
    SmallVector<Value> results;
    for (auto [res, size] : llvm::zip(op.getResults(), op.getSizes())) {
      SmallVector<OpFoldResult> offs(shape.size(), rewriter.getIndexAttr(0)),
          sizes, strides(shape.size(), rewriter.getIndexAttr(1));
      for (int64_t d : shape)
        sizes.push_back(rewriter.getIndexAttr(d));
      // An empty piece at the very end would be out of bounds there.
      offs[axis] = rewriter.getIndexAttr(size == 0 ? 0 : offset);
      sizes[axis] = rewriter.getIndexAttr(size);
      results.push_back(tensor::ExtractSliceOp::create(
          rewriter, op.getLoc(), cast<RankedTensorType>(res.getType()), in,
          offs, sizes, strides));
      offset += size;
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

/// Maps an index of the padded dimension, already shifted by the low pad
/// (so in [-low, n + high)), to a source index in [0, n).
Value padSourceIndex(OpBuilder &b, Location loc, Value i, int64_t n,
                     sinter::PadMode mode) {
  switch (mode) {
  case sinter::PadMode::edge: {
    Value lo = arith::MaxSIOp::create(b, loc, i, cstIndex(b, loc, 0));
    return arith::MinSIOp::create(b, loc, lo, cstIndex(b, loc, n - 1));
  }
  case sinter::PadMode::wrap:
    return floorMod(b, loc, i, n);
  case sinter::PadMode::reflect: {
    // Triangle wave of period 2(n-1) (numpy "reflect": the edge is not
    // repeated); a single element reflects onto itself.
    int64_t period = 2 * (n - 1);
    if (period == 0)
      return cstIndex(b, loc, 0);
    Value j = floorMod(b, loc, i, period);
    Value hi = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, j,
                                     cstIndex(b, loc, n));
    Value mirrored = arith::SubIOp::create(b, loc, cstIndex(b, loc, period), j);
    return arith::SelectOp::create(b, loc, hi, mirrored, j);
  }
  case sinter::PadMode::constant:
    break;
  }
  llvm_unreachable("constant pads use tensor.pad");
}

/// Negative pads crop first (tensor.extract_slice), then the remaining
/// non-negative pads are applied to the cropped tensor, as ONNX Runtime
/// does: constant mode with tensor.pad, the other modes with a generic that
/// reads the source position of every output element.
struct PadLowering : OpConversionPattern<sinter::PadOp> {
  using Base::Base;
  LogicalResult
  matchAndRewrite(sinter::PadOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value in = adaptor.getInput();
    auto outTy = cast<RankedTensorType>(op.getType());
    ArrayRef<int64_t> shape = tensorType(in).getShape(), pads = op.getPads();
    unsigned r = shape.size();
    SmallVector<int64_t> low(r), high(r), cropOff(r), cropSize(r);
    bool crop = false, pad = false;
    for (unsigned i = 0; i < r; ++i) {
      int64_t lo = pads[i], hi = pads[r + i];
      cropOff[i] = std::max<int64_t>(-lo, 0);
      cropSize[i] = shape[i] - cropOff[i] - std::max<int64_t>(-hi, 0);
      low[i] = std::max<int64_t>(lo, 0);
      high[i] = std::max<int64_t>(hi, 0);
      crop |= lo < 0 || hi < 0;
      pad |= lo > 0 || hi > 0;
    }
    if (crop) {
      SmallVector<OpFoldResult> offs, sizes, strides;
      for (unsigned i = 0; i < r; ++i) {
        offs.push_back(rewriter.getIndexAttr(cropSize[i] ? cropOff[i] : 0));
        sizes.push_back(rewriter.getIndexAttr(cropSize[i]));
        strides.push_back(rewriter.getIndexAttr(1));
      }
      in = tensor::ExtractSliceOp::create(
          rewriter, loc,
          RankedTensorType::get(cropSize, outTy.getElementType()), in, offs,
          sizes, strides);
    }
    if (!pad) {
      rewriter.replaceOp(op, in);
      return success();
    }
    sinter::PadMode mode = op.getMode();
    if (mode == sinter::PadMode::constant) {
      Value v = tensor::ExtractOp::create(rewriter, loc, adaptor.getValue(),
                                          ValueRange{});
      SmallVector<OpFoldResult> lo, hi;
      for (unsigned i = 0; i < r; ++i) {
        lo.push_back(rewriter.getIndexAttr(low[i]));
        hi.push_back(rewriter.getIndexAttr(high[i]));
      }
      rewriter.replaceOpWithNewOp<tensor::PadOp>(op, outTy, in, lo, hi, v);
      return success();
    }
    Value init =
        emptyTensor(rewriter, loc, outTy.getShape(), outTy.getElementType());
    AffineMap id = AffineMap::getMultiDimIdentityMap(r, rewriter.getContext());
    Value res = generic1(
        rewriter, loc, ValueRange{}, init, {id}, iterators(r),
        [&](OpBuilder &b, Location l, ValueRange) {
          SmallVector<Value> src = loopIndices(b, l, r);
          for (unsigned i = 0; i < r; ++i) {
            if (low[i] == 0 && high[i] == 0)
              continue;
            Value shifted =
                arith::SubIOp::create(b, l, src[i], cstIndex(b, l, low[i]));
            src[i] = padSourceIndex(b, l, shifted, cropSize[i], mode);
          }
          yield(b, l, tensor::ExtractOp::create(b, l, in, src).getResult());
        });
    rewriter.replaceOp(op, res);
    return success();
  }
};

struct TriluLowering : OpConversionPattern<sinter::TriluOp> {
  using Base::Base;
  LogicalResult
  matchAndRewrite(sinter::TriluOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto ty = cast<RankedTensorType>(op.getType());
    unsigned r = ty.getRank();
    AffineMap id = AffineMap::getMultiDimIdentityMap(r, rewriter.getContext());
    Value init =
        emptyTensor(rewriter, op.getLoc(), ty.getShape(), ty.getElementType());
    int64_t k = op.getK();
    bool upper = op.getUpper();
    Value res = generic1(
        rewriter, op.getLoc(), adaptor.getInput(), init, {id, id}, iterators(r),
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value i = linalg::IndexOp::create(b, l, r - 2);
          Value j = linalg::IndexOp::create(b, l, r - 1);
          Value diff = arith::SubIOp::create(b, l, j, i);
          // upper keeps j - i >= k, lower keeps j - i <= k.
          Value keep = arith::CmpIOp::create(b, l,
                                             upper ? arith::CmpIPredicate::sge
                                                   : arith::CmpIPredicate::sle,
                                             diff, cstIndex(b, l, k));
          Value zero = constant(b, l, ty.getElementType(), 0.0);
          yield(b, l,
                arith::SelectOp::create(b, l, keep, a[0], zero).getResult());
        });
    rewriter.replaceOp(op, res);
    return success();
  }
};

struct GatherLowering : OpConversionPattern<sinter::GatherOp> {
  using Base::Base;
  LogicalResult
  matchAndRewrite(sinter::GatherOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    MLIRContext *ctx = rewriter.getContext();
    auto outTy = cast<RankedTensorType>(op.getType());
    Value data = adaptor.getData(), idx = adaptor.getIndices();
    ArrayRef<int64_t> ds = tensorType(data).getShape();
    unsigned ro = outTy.getRank(), ri = tensorType(idx).getRank();
    unsigned axis = op.getAxis(), rd = ds.size();
    SmallVector<unsigned> idxDims;
    for (unsigned i = 0; i < ri; ++i)
      idxDims.push_back(axis + i);
    SmallVector<AffineMap> maps{dimsMap(ctx, ro, idxDims),
                                AffineMap::getMultiDimIdentityMap(ro, ctx)};
    Value init = emptyTensor(rewriter, op.getLoc(), outTy.getShape(),
                             outTy.getElementType());
    Value res = generic1(
        rewriter, op.getLoc(), idx, init, maps, iterators(ro),
        [&](OpBuilder &b, Location l, ValueRange a) {
          SmallVector<Value> ivs = loopIndices(b, l, ro), coords;
          for (unsigned i = 0; i < axis; ++i)
            coords.push_back(ivs[i]);
          coords.push_back(wrapIndex(b, l, a[0], ds[axis]));
          for (unsigned i = axis + 1; i < rd; ++i)
            coords.push_back(ivs[ri + i - 1]);
          yield(b, l,
                tensor::ExtractOp::create(b, l, data, coords).getResult());
        });
    rewriter.replaceOp(op, res);
    return success();
  }
};

struct GatherElementsLowering : OpConversionPattern<sinter::GatherElementsOp> {
  using Base::Base;
  LogicalResult
  matchAndRewrite(sinter::GatherElementsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto outTy = cast<RankedTensorType>(op.getType());
    Value data = adaptor.getData();
    ArrayRef<int64_t> ds = tensorType(data).getShape();
    unsigned r = outTy.getRank(), axis = op.getAxis();
    AffineMap id = AffineMap::getMultiDimIdentityMap(r, rewriter.getContext());
    Value init = emptyTensor(rewriter, op.getLoc(), outTy.getShape(),
                             outTy.getElementType());
    Value res = generic1(
        rewriter, op.getLoc(), adaptor.getIndices(), init, {id, id},
        iterators(r), [&](OpBuilder &b, Location l, ValueRange a) {
          SmallVector<Value> coords = loopIndices(b, l, r);
          coords[axis] = wrapIndex(b, l, a[0], ds[axis]);
          yield(b, l,
                tensor::ExtractOp::create(b, l, data, coords).getResult());
        });
    rewriter.replaceOp(op, res);
    return success();
  }
};

/// result[b..., q..., t...] = data[b..., indices[b..., q..., :], t...].
struct GatherNDLowering : OpConversionPattern<sinter::GatherNDOp> {
  using Base::Base;
  LogicalResult
  matchAndRewrite(sinter::GatherNDOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto outTy = cast<RankedTensorType>(op.getType());
    Value data = adaptor.getData(), idx = adaptor.getIndices();
    ArrayRef<int64_t> ds = tensorType(data).getShape();
    ArrayRef<int64_t> is = tensorType(idx).getShape();
    unsigned ro = outTy.getRank(), ri = is.size(), rd = ds.size();
    int64_t nb = op.getBatchDims(), tuple = is.back();
    AffineMap id = AffineMap::getMultiDimIdentityMap(ro, rewriter.getContext());
    Value init = emptyTensor(rewriter, op.getLoc(), outTy.getShape(),
                             outTy.getElementType());
    Value res = generic1(
        rewriter, op.getLoc(), ValueRange{}, init, {id}, iterators(ro),
        [&](OpBuilder &b, Location l, ValueRange) {
          SmallVector<Value> ivs = loopIndices(b, l, ro);
          SmallVector<Value> at(ivs.begin(), ivs.begin() + (ri - 1));
          at.push_back(Value());
          SmallVector<Value> coords(ivs.begin(), ivs.begin() + nb);
          for (int64_t t = 0; t < tuple; ++t) {
            at.back() = cstIndex(b, l, t);
            Value v = tensor::ExtractOp::create(b, l, idx, at);
            coords.push_back(wrapIndex(b, l, v, ds[nb + t]));
          }
          for (unsigned i = nb + tuple; i < rd; ++i)
            coords.push_back(ivs[ri - 1 + (i - nb - tuple)]);
          yield(b, l,
                tensor::ExtractOp::create(b, l, data, coords).getResult());
        });
    rewriter.replaceOp(op, res);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Scatters
//===----------------------------------------------------------------------===//

/// Combines an existing element with an update (numpy semantics: max/min
/// propagate NaN).
Value combine(OpBuilder &b, Location loc, sinter::ScatterReduction kind,
              Value old, Value upd) {
  Type t = old.getType();
  bool isFloat = isa<FloatType>(t), isBool = t.isInteger(1);
  switch (kind) {
  case sinter::ScatterReduction::none:
    return upd;
  case sinter::ScatterReduction::add:
    if (isBool)
      return arith::OrIOp::create(b, loc, old, upd);
    return add(b, loc, old, upd);
  case sinter::ScatterReduction::mul:
    if (isBool)
      return arith::AndIOp::create(b, loc, old, upd);
    return mul(b, loc, old, upd);
  case sinter::ScatterReduction::max:
    if (isFloat)
      return arith::MaximumFOp::create(b, loc, old, upd);
    if (isBool)
      return arith::OrIOp::create(b, loc, old, upd);
    return arith::MaxSIOp::create(b, loc, old, upd);
  case sinter::ScatterReduction::min:
    if (isFloat)
      return arith::MinimumFOp::create(b, loc, old, upd);
    if (isBool)
      return arith::AndIOp::create(b, loc, old, upd);
    return arith::MinSIOp::create(b, loc, old, upd);
  }
  llvm_unreachable("unknown scatter reduction");
}

/// A loop nest over `shape` carrying `init`; `body` returns the new value.
Value loopNest(
    OpBuilder &b, Location loc, ArrayRef<int64_t> shape, Value init,
    function_ref<Value(OpBuilder &, Location, ValueRange, Value)> body) {
  SmallVector<Value> lbs, ubs, steps;
  for (int64_t d : shape) {
    lbs.push_back(cstIndex(b, loc, 0));
    ubs.push_back(cstIndex(b, loc, d));
    steps.push_back(cstIndex(b, loc, 1));
  }
  scf::LoopNest nest = scf::buildLoopNest(
      b, loc, lbs, ubs, steps, init,
      [&](OpBuilder &nb, Location l, ValueRange ivs, ValueRange iter) {
        return scf::ValueVector{body(nb, l, ivs, iter[0])};
      });
  return nest.results[0];
}

/// Scatters are linalg.generics over the data, in place on it: each element
/// visits, in order, the updates that may address it and keeps the last
/// written (or combines them in order), reading the indices inside the
/// kernel. A host loop placing one update at a time would read the indices
/// on the host, which the CUDA target cannot do. The price is
/// O(data x updates per element) work instead of O(updates).
Value scatterGeneric(
    OpBuilder &rewriter, Location loc, Value data,
    function_ref<Value(OpBuilder &, Location, ValueRange, Value)> body) {
  unsigned r = tensorType(data).getRank();
  AffineMap id = AffineMap::getMultiDimIdentityMap(r, rewriter.getContext());
  return generic(rewriter, loc, ValueRange{}, ValueRange{data}, {id},
                 iterators(r),
                 [&](OpBuilder &b, Location l, ValueRange args) {
                   SmallVector<Value> ivs = loopIndices(b, l, r);
                   yield(b, l, body(b, l, ivs, args[0]));
                 })[0];
}

/// Element c of the data is addressed by the index elements at c with the
/// axis coordinate replaced by j, for each j (when c is inside the indices'
/// shape off the axis).
struct ScatterElementsLowering
    : OpConversionPattern<sinter::ScatterElementsOp> {
  using Base::Base;
  LogicalResult
  matchAndRewrite(sinter::ScatterElementsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value data = adaptor.getData(), idx = adaptor.getIndices(),
          upd = adaptor.getUpdates();
    ArrayRef<int64_t> ds = tensorType(data).getShape(),
                      is = tensorType(idx).getShape();
    unsigned axis = op.getAxis();
    sinter::ScatterReduction kind = op.getReduction();
    Value res = scatterGeneric(
        rewriter, op.getLoc(), data,
        [&](OpBuilder &b, Location l, ValueRange c, Value old) -> Value {
          // Outside the indices' shape (off the axis): never written.
          Value inside = arith::ConstantIntOp::create(b, l, 1, 1);
          SmallVector<Value> at(c);
          for (unsigned k = 0; k < ds.size(); ++k) {
            if (k == axis || is[k] == ds[k])
              continue;
            inside = arith::AndIOp::create(
                b, l, inside,
                arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, c[k],
                                      cstIndex(b, l, is[k])));
            at[k] = arith::MinSIOp::create(b, l, c[k], cstIndex(b, l, is[k] - 1));
          }
          return loopNest(
              b, l, {is[axis]}, old,
              [&](OpBuilder &nb, Location nl, ValueRange j, Value v) -> Value {
                SmallVector<Value> pos(at);
                pos[axis] = j[0];
                Value i = wrapIndex(
                    nb, nl, tensor::ExtractOp::create(nb, nl, idx, pos),
                    ds[axis]);
                Value hit = arith::AndIOp::create(
                    nb, nl, inside,
                    arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq, i,
                                          c[axis]));
                Value u = tensor::ExtractOp::create(nb, nl, upd, pos);
                if (kind != sinter::ScatterReduction::none)
                  u = combine(nb, nl, kind, v, u);
                return arith::SelectOp::create(nb, nl, hit, u, v);
              });
        });
    rewriter.replaceOp(op, res);
    return success();
  }
};

/// Element c of the data is addressed by every index tuple equal to its
/// leading coordinates; the update element is the tuple's slice at c's
/// trailing coordinates.
struct ScatterNDLowering : OpConversionPattern<sinter::ScatterNDOp> {
  using Base::Base;
  LogicalResult
  matchAndRewrite(sinter::ScatterNDOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value data = adaptor.getData(), idx = adaptor.getIndices(),
          upd = adaptor.getUpdates();
    ArrayRef<int64_t> ds = tensorType(data).getShape(),
                      is = tensorType(idx).getShape();
    int64_t tuple = is.back();
    sinter::ScatterReduction kind = op.getReduction();
    Value res = scatterGeneric(
        rewriter, op.getLoc(), data,
        [&](OpBuilder &b, Location l, ValueRange c, Value old) -> Value {
          return loopNest(
              b, l, is.drop_back(), old,
              [&](OpBuilder &nb, Location nl, ValueRange ivs, Value v) -> Value {
                Value hit = arith::ConstantIntOp::create(nb, nl, 1, 1);
                SmallVector<Value> at(ivs);
                at.push_back(Value());
                for (int64_t t = 0; t < tuple; ++t) {
                  at.back() = cstIndex(nb, nl, t);
                  Value i = wrapIndex(
                      nb, nl, tensor::ExtractOp::create(nb, nl, idx, at), ds[t]);
                  hit = arith::AndIOp::create(
                      nb, nl, hit,
                      arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq, i,
                                            c[t]));
                }
                SmallVector<Value> uAt(ivs);
                uAt.append(c.begin() + tuple, c.end());
                Value u = tensor::ExtractOp::create(nb, nl, upd, uAt);
                if (kind != sinter::ScatterReduction::none)
                  u = combine(nb, nl, kind, v, u);
                return arith::SelectOp::create(nb, nl, hit, u, v);
              });
        });
    rewriter.replaceOp(op, res);
    return success();
  }
};

/// A linalg.generic over the cache, in place on it (the cache is the init):
/// each element finds the update position that writes it, from its batch's
/// write index, and takes that update element or keeps its value. The write
/// index is thus read per element inside the kernel (the CUDA target cannot
/// read device memory on the host to place a slice), at the price of
/// visiting the whole cache rather than the update window. Linear mode:
/// position p is written by update position p - start when that is in
/// [0, len); circular mode: by j = (p - start) mod cacheLen when j < len.
struct TensorScatterLowering : OpConversionPattern<sinter::TensorScatterOp> {
  using Base::Base;
  LogicalResult
  matchAndRewrite(sinter::TensorScatterOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value cache = adaptor.getCache(), upd = adaptor.getUpdate(),
          pos = adaptor.getWriteIndices();
    auto cacheTy = tensorType(cache);
    ArrayRef<int64_t> cs = cacheTy.getShape(), us = tensorType(upd).getShape();
    unsigned r = cs.size(), axis = op.getAxis();
    bool circular = op.getMode() == sinter::CacheMode::circular;
    int64_t maxLen = cs[axis], len = us[axis];
    AffineMap id = AffineMap::getMultiDimIdentityMap(r, rewriter.getContext());
    Value res = generic(
        rewriter, loc, ValueRange{}, ValueRange{cache}, {id}, iterators(r),
        [&](OpBuilder &b, Location l, ValueRange args) {
          SmallVector<Value> ivs = loopIndices(b, l, r);
          Value start = cstIndex(b, l, 0);
          if (pos)
            start = convert(b, l, tensor::ExtractOp::create(b, l, pos, ivs[0]),
                            b.getIndexType());
          Value j = arith::SubIOp::create(b, l, ivs[axis], start);
          // The verifier keeps len <= cacheLen: one writer at most.
          if (circular)
            j = floorMod(b, l, j, maxLen);
          Value inWindow = arith::AndIOp::create(
              b, l,
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, j,
                                    cstIndex(b, l, 0)),
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, j,
                                    cstIndex(b, l, len)));
          // Clamped so that the read stays in bounds where it is not used.
          Value jc = arith::MaxSIOp::create(
              b, l, arith::MinSIOp::create(b, l, j, cstIndex(b, l, len - 1)),
              cstIndex(b, l, 0));
          SmallVector<Value> at(ivs);
          at[axis] = jc;
          Value u = tensor::ExtractOp::create(b, l, upd, at);
          yield(b, l, arith::SelectOp::create(b, l, inWindow, u, args[0])
                          .getResult());
        })[0];
    rewriter.replaceOp(op, res);
    return success();
  }
};

} // namespace

void sinter::populateDataMovementToLinalgPatterns(RewritePatternSet &patterns) {
  patterns
      .add<TransposeLowering, ExpandLowering, ReverseLowering, SplitLowering,
           PadLowering, TriluLowering, GatherLowering, GatherElementsLowering,
           GatherNDLowering, ScatterElementsLowering, ScatterNDLowering,
           TensorScatterLowering>(patterns.getContext());
}
