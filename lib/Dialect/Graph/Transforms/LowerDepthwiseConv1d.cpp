//===- LowerDepthwiseConv1d.cpp - depthwise conv1d as shifted MACs --------===//
//
// Rewrites depthwise 1-D convolutions (and sinter.causal_conv_with_state) as
// K shifted slices of the input times per-channel weight columns, summed in
// f32 (see the pass description in Passes.td). This is rewrite 5 of the seed
// port: a generic grouped-conv kernel is slow for 8192 channels and K = 4,
// while K elementwise multiply-adds fuse into one memory-bound kernel. The
// accumulation must be f32, as conv1d's is, or bf16 models drift.
//
//===----------------------------------------------------------------------===//

#include "sinter/Dialect/Graph/Transforms/FusionRemarks.h"
#include "sinter/Dialect/Graph/Transforms/Passes.h"

#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"

#include <cstring>
#include <optional>

namespace sinter {
#define GEN_PASS_DEF_LOWERDEPTHWISECONV1DPASS
#include "sinter/Dialect/Graph/Transforms/Passes.h.inc"
} // namespace sinter

using namespace mlir;
using namespace sinter;

static constexpr llvm::StringLiteral kPass = "sinter-lower-depthwise-conv1d";

namespace {

RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// f64 accumulates in f64; every narrower float in f32.
Type accumulatorType(Type elt) {
  return elt.isF64() ? elt : Float32Type::get(elt.getContext());
}

Value castTo(OpBuilder &b, Location loc, Value v, Type elt) {
  RankedTensorType t = tensorType(v);
  if (t.getElementType() == elt)
    return v;
  return CastOp::create(b, loc, t.clone(elt), v);
}

/// The elements of `v`, row-major, when it is an inline float constant
/// (dense, or a resource blob as the importer makes for large weights).
std::optional<SmallVector<APFloat>> constantFloats(Value v) {
  ElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  auto ft = dyn_cast<FloatType>(attr.getElementType());
  if (!ft)
    return std::nullopt;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    auto vals = dense.getValues<APFloat>();
    return SmallVector<APFloat>(vals.begin(), vals.end());
  }
  auto res = dyn_cast<DenseResourceElementsAttr>(attr);
  if (!res)
    return std::nullopt;
  AsmResourceBlob *blob = res.getRawHandle().getBlob();
  unsigned width = ft.getWidth();
  if (!blob || width % 8 != 0 || width > 64)
    return std::nullopt;
  ArrayRef<char> data = blob->getData();
  int64_t n = attr.getNumElements(), bytes = width / 8;
  if ((int64_t)data.size() != n * bytes)
    return std::nullopt;
  SmallVector<APFloat> out;
  out.reserve(n);
  for (int64_t i = 0; i < n; ++i) {
    uint64_t bits = 0; // little-endian host and blob, as the importer maps
    std::memcpy(&bits, data.data() + i * bytes, bytes);
    out.emplace_back(ft.getFloatSemantics(), APInt(width, bits));
  }
  return out;
}

/// A [C, 1] constant of type `acc` from `vals[c * stride + offset]`.
Value columnConstant(OpBuilder &b, Location loc, ArrayRef<APFloat> vals,
                     int64_t c, int64_t stride, int64_t offset, Type acc) {
  SmallVector<APFloat> col;
  col.reserve(c);
  const llvm::fltSemantics &sem = cast<FloatType>(acc).getFloatSemantics();
  for (int64_t i = 0; i < c; ++i) {
    APFloat f = vals[i * stride + offset];
    bool lost;
    f.convert(sem, APFloat::rmNearestTiesToEven, &lost);
    col.push_back(f);
  }
  auto type = RankedTensorType::get({c, 1}, acc);
  return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(type, col));
}

/// acc[n, c, t] = sum_k x[n, c, t + k] * w[c, 0, k] (+ bias[c]), in `acc`
/// precision; `x` is already padded and of element type `acc`. The weight
/// columns and bias are [C, 1] so that they broadcast over [N, C, L].
Value buildShiftedMac(OpBuilder &b, Location loc, Value x, Value w, Value bias,
                      int64_t lOut, Type acc) {
  ArrayRef<int64_t> xs = tensorType(x).getShape();
  int64_t n = xs[0], c = xs[1], k = tensorType(w).getDimSize(2);
  Type wElt = tensorType(w).getElementType();
  std::optional<SmallVector<APFloat>> wConst = constantFloats(w);
  auto sliceTy = RankedTensorType::get({n, c, lOut}, acc);
  auto idx = [&](int64_t i) -> OpFoldResult { return b.getIndexAttr(i); };
  SmallVector<OpFoldResult> ones(3, idx(1));

  Value sum;
  for (int64_t i = 0; i < k; ++i) {
    Value shifted = tensor::ExtractSliceOp::create(
        b, loc, sliceTy, x, SmallVector<OpFoldResult>{idx(0), idx(0), idx(i)},
        SmallVector<OpFoldResult>{idx(n), idx(c), idx(lOut)}, ones);
    Value col;
    if (wConst) {
      col = columnConstant(b, loc, *wConst, c, k, i, acc);
    } else {
      col = tensor::ExtractSliceOp::create(
          b, loc, RankedTensorType::get({c, 1}, wElt), w,
          SmallVector<OpFoldResult>{idx(0), idx(0), idx(i)},
          SmallVector<OpFoldResult>{idx(c), idx(1), idx(1)}, ones);
      col = castTo(b, loc, col, acc);
    }
    Value term = MulOp::create(b, loc, sliceTy, shifted, col);
    sum = sum ? AddOp::create(b, loc, sliceTy, sum, term).getResult() : term;
  }
  if (bias) {
    Value bcol;
    if (std::optional<SmallVector<APFloat>> bConst = constantFloats(bias)) {
      bcol = columnConstant(b, loc, *bConst, c, 1, 0, acc);
    } else {
      bcol = tensor::ExpandShapeOp::create(
          b, loc, RankedTensorType::get({c, 1}, acc), castTo(b, loc, bias, acc),
          SmallVector<ReassociationIndices>{{0, 1}});
    }
    sum = AddOp::create(b, loc, sliceTy, sum, bcol);
  }
  return sum;
}

std::string str(ArrayRef<int64_t> v) {
  std::string s = "[";
  llvm::interleave(
      v, [&](int64_t i) { s += std::to_string(i); }, [&] { s += ", "; });
  return s + "]";
}

/// Why `op` is not a depthwise 1-D conv the pass rewrites, or "".
std::string whyNot(ConvOp op, int64_t maxK) {
  RankedTensorType xt = tensorType(op.getInput()),
                   wt = tensorType(op.getWeight());
  if (xt.getRank() != 3)
    return "not a 1-D convolution (" + std::to_string(xt.getRank() - 2) + "-D)";
  if (!xt.hasStaticShape() || !wt.hasStaticShape() ||
      !cast<RankedTensorType>(op.getType()).hasStaticShape())
    return "dynamic shape";
  int64_t c = xt.getDimSize(1), m = wt.getDimSize(0), k = wt.getDimSize(2);
  if (op.getGroup() != c)
    return "group " + std::to_string(op.getGroup()) +
           " is not the input channel count " + std::to_string(c) +
           " (not depthwise)";
  if (m != c)
    return "channel multiplier: " + std::to_string(m) +
           " output channels for " + std::to_string(c) +
           " input channels (depthwise needs M == C)";
  if (op.getStrides()[0] != 1)
    return "stride " + std::to_string(op.getStrides()[0]) + " (needs 1)";
  if (op.getDilations()[0] != 1)
    return "dilation " + std::to_string(op.getDilations()[0]) + " (needs 1)";
  if (llvm::any_of(op.getPads(), [](int64_t p) { return p < 0; }))
    return "negative pads " + str(op.getPads());
  if (k > maxK)
    return "kernel size " + std::to_string(k) + " above max-kernel-size " +
           std::to_string(maxK);
  return "";
}

/// The stateful decode form: the conv reads concat(state, x) along the
/// length, the state being the K-1 columns a causal conv needs.
bool isStatefulForm(ConvOp op) {
  auto concat = op.getInput().getDefiningOp<tensor::ConcatOp>();
  int64_t k = tensorType(op.getWeight()).getDimSize(2);
  return concat && concat.getDim() == 2 && concat.getInputs().size() == 2 &&
         tensorType(concat.getInputs()[0]).getDimSize(2) == k - 1 &&
         llvm::all_of(op.getPads(), [](int64_t p) { return p == 0; });
}

/// Weights and biases folded into per-column constants leave the original
/// constant unused; drop it rather than carry a dead copy of the weights.
void eraseDeadConstants(IRRewriter &rewriter, ArrayRef<Value> values) {
  for (Value v : values)
    if (Operation *def = v ? v.getDefiningOp() : nullptr)
      if (def->use_empty() && matchPattern(v, m_Constant()))
        rewriter.eraseOp(def);
}

void rewriteConv(IRRewriter &rewriter, ConvOp op) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  auto outTy = cast<RankedTensorType>(op.getType());
  Type elt = outTy.getElementType(), acc = accumulatorType(elt);
  ArrayRef<int64_t> pads = op.getPads();
  Value x = castTo(rewriter, loc, op.getInput(), acc);
  if (pads[0] != 0 || pads[1] != 0) {
    SmallVector<int64_t> padded(tensorType(x).getShape());
    padded[2] += pads[0] + pads[1];
    Value zero = arith::ConstantOp::create(
        rewriter, loc,
        DenseElementsAttr::get(RankedTensorType::get({}, acc),
                               rewriter.getFloatAttr(acc, 0.0).getValue()));
    x = PadOp::create(
        rewriter, loc, RankedTensorType::get(padded, acc), x, zero,
        rewriter.getDenseI64ArrayAttr({0, 0, pads[0], 0, 0, pads[1]}),
        PadModeAttr::get(rewriter.getContext(), PadMode::constant));
  }
  Value sum = buildShiftedMac(rewriter, loc, x, op.getWeight(), op.getBias(),
                              outTy.getDimSize(2), acc);
  SmallVector<Value> folded{op.getWeight(), op.getBias()};
  rewriter.replaceOp(op, castTo(rewriter, loc, sum, elt));
  eraseDeadConstants(rewriter, folded);
}

/// The state-prefixed input: concat(past state or zeros, x) along the length.
void rewriteCausalConv(IRRewriter &rewriter, CausalConvWithStateOp op) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  Value x = op.getInput(), w = op.getWeight(), st = op.getPastState();
  ArrayRef<int64_t> xs = tensorType(x).getShape();
  int64_t n = xs[0], c = xs[1], l = xs[2], k = tensorType(w).getDimSize(2);
  Type elt = tensorType(x).getElementType(), acc = accumulatorType(elt);

  Value prefixed = x;
  if (k > 1) {
    auto stTy = RankedTensorType::get({n, c, k - 1}, elt);
    if (!st)
      st = arith::ConstantOp::create(
          rewriter, loc,
          DenseElementsAttr::get(stTy,
                                 rewriter.getFloatAttr(elt, 0.0).getValue()));
    st = castTo(rewriter, loc, st, elt);
    prefixed = tensor::ConcatOp::create(rewriter, loc, 2, ValueRange{st, x});
  }
  Value sum =
      buildShiftedMac(rewriter, loc, castTo(rewriter, loc, prefixed, acc), w,
                      op.getBias(), l, acc);
  Value y = castTo(rewriter, loc, sum, elt);
  if (op.getSilu())
    y = SiluOp::create(rewriter, loc, y.getType(), y);

  Type presentElt = tensorType(op.getPresentState()).getElementType();
  Value present;
  if (k > 1) {
    auto idx = [&](int64_t i) -> OpFoldResult {
      return rewriter.getIndexAttr(i);
    };
    present = tensor::ExtractSliceOp::create(
        rewriter, loc, RankedTensorType::get({n, c, k - 1}, elt), prefixed,
        SmallVector<OpFoldResult>{idx(0), idx(0), idx(l)},
        SmallVector<OpFoldResult>{idx(n), idx(c), idx(k - 1)},
        SmallVector<OpFoldResult>(3, idx(1)));
    present = castTo(rewriter, loc, present, presentElt);
  } else {
    present = tensor::EmptyOp::create(
        rewriter, loc, SmallVector<int64_t>{n, c, 0}, presentElt);
  }
  SmallVector<Value> folded{w, op.getBias()};
  rewriter.replaceOp(op, {y, present});
  eraseDeadConstants(rewriter, folded);
}

struct LowerDepthwiseConv1dPass
    : sinter::impl::LowerDepthwiseConv1dPassBase<LowerDepthwiseConv1dPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<Operation *> candidates;
    getOperation()->walk([&](Operation *op) {
      if (isa<ConvOp, CausalConvWithStateOp>(op))
        candidates.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (Operation *candidate : candidates) {
      if (auto op = dyn_cast<ConvOp>(candidate)) {
        std::string why = whyNot(op, maxKernelSize);
        if (!why.empty()) {
          remarkRefused(op, kPass, why);
          continue;
        }
        int64_t c = tensorType(op.getInput()).getDimSize(1),
                k = tensorType(op.getWeight()).getDimSize(2);
        bool stateful = isStatefulForm(op);
        remarkFused(op, kPass,
                    "depthwise conv1d (" + std::to_string(c) + " channels, K " +
                        std::to_string(k) + ", pads " + str(op.getPads()) +
                        (op.getBias() ? ", bias" : "") +
                        (stateful ? ", stateful decode form" : "") + ") as " +
                        std::to_string(k) +
                        " shifted slice multiply-adds accumulated in f" +
                        (tensorType(op.getInput()).getElementType().isF64()
                             ? "64"
                             : "32"));
        rewriteConv(rewriter, op);
        continue;
      }
      auto op = cast<CausalConvWithStateOp>(candidate);
      RankedTensorType xt = tensorType(op.getInput()),
                       wt = tensorType(op.getWeight());
      if (!xt.hasStaticShape() || !wt.hasStaticShape()) {
        remarkRefused(op, kPass, "dynamic shape");
        continue;
      }
      int64_t k = wt.getDimSize(2);
      if (k > maxKernelSize) {
        remarkRefused(op, kPass,
                      "kernel size " + std::to_string(k) +
                          " above max-kernel-size " +
                          std::to_string(maxKernelSize));
        continue;
      }
      remarkFused(op, kPass,
                  "causal_conv_with_state (" +
                      std::to_string(xt.getDimSize(1)) + " channels, K " +
                      std::to_string(k) + ") as state concat and " +
                      std::to_string(k) +
                      " shifted slice multiply-adds accumulated in f" +
                      (xt.getElementType().isF64() ? "64" : "32"));
      rewriteCausalConv(rewriter, op);
    }
  }
};
} // namespace
