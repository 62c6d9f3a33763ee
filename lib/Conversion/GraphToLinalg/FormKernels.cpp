//===- FormKernels.cpp - the sinter-form-kernels pass ---------------------===//
//
// Kernel formation on tensor-level linalg (Passes.td says what fuses). The
// lowering emits one linalg.generic per sinter op; every one of them is a
// loop nest on the CPU and a launch on the GPU. Upstream elementwise fusion
// does the rewriting; this file decides which producer/consumer pairs may
// fuse, so that no work is duplicated and contractions keep their operands.
//
//===----------------------------------------------------------------------===//

#include "sinter/Conversion/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace sinter {
#define GEN_PASS_DEF_FORMKERNELSPASS
#include "sinter/Conversion/Passes.h.inc"
} // namespace sinter

using namespace mlir;

namespace {

bool allParallel(linalg::LinalgOp op) {
  return op.getNumLoops() == op.getNumParallelLoops();
}

/// Number of scalar ops in the body (the yield not counted).
int64_t bodySize(linalg::GenericOp op) {
  return static_cast<int64_t>(op.getBody()->getOperations().size()) - 1;
}

/// Static trip count of the consumer's loops that do not index the fused
/// operand: how many times each producer element would be recomputed.
int64_t recomputeFactor(linalg::GenericOp consumer, OpOperand *operand) {
  AffineMap map = consumer.getMatchingIndexingMap(operand);
  SmallVector<int64_t> ranges = consumer.getStaticLoopRanges();
  llvm::SmallBitVector used(map.getNumDims());
  for (AffineExpr e : map.getResults())
    e.walk([&](AffineExpr sub) {
      if (auto d = dyn_cast<AffineDimExpr>(sub))
        used.set(d.getPosition());
    });
  int64_t factor = 1;
  for (unsigned i = 0; i < map.getNumDims(); ++i)
    if (!used.test(i))
      factor *= ranges[i] == ShapedType::kDynamic ? 2 : ranges[i];
  return factor;
}

/// Why `operand`'s producer must not be fused into its consumer, or empty.
std::string refusal(OpOperand *operand, int64_t maxRecomputedOps) {
  auto producer = operand->get().getDefiningOp<linalg::GenericOp>();
  auto consumer = dyn_cast<linalg::GenericOp>(operand->getOwner());
  if (!producer || !consumer)
    return "producer or consumer is not a linalg.generic";
  if (!allParallel(producer))
    return "the producer has reduction loops (a reduction's result is "
           "consumed after the whole row is reduced)";
  if (!producer->hasOneUse())
    return "the producer has several users; fusing would compute it once "
           "per user";
  int64_t factor = recomputeFactor(consumer, operand);
  if (factor == 1)
    return "";
  if (!allParallel(consumer))
    return "the consumer reads each producer element " +
           std::to_string(factor) +
           " times (a contraction or reduction operand); fusing would "
           "recompute it";
  if (bodySize(producer) > maxRecomputedOps)
    return "the producer (" + std::to_string(bodySize(producer)) +
           " scalar ops) is broadcast " + std::to_string(factor) +
           " times; only producers of at most " +
           std::to_string(maxRecomputedOps) + " ops are recomputed";
  return "";
}

/// A generic reading a tensor.expand_shape that only inserts unit dims
/// (`tensor<8xf32>` viewed as `tensor<8x1xf32>`, what keepdims leaves) reads
/// the source instead, the unit results dropped from its indexing map. The
/// reshape is a view, but it hides the producer from elementwise fusion and
/// from the row-reduction template, which look at the generic's operands.
struct ReadThroughUnitExpand : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rw) const override {
    for (OpOperand *operand : op.getDpsInputOperands()) {
      auto expand = operand->get().getDefiningOp<tensor::ExpandShapeOp>();
      if (!expand || !expand.getResultType().hasStaticShape())
        continue;
      ArrayRef<int64_t> shape = expand.getResultType().getShape();
      AffineMap map = op.getMatchingIndexingMap(operand);
      // Each group keeps its one non-unit dim (or the first, if all are 1).
      SmallVector<AffineExpr> kept;
      bool ok = true;
      for (ReassociationIndices group : expand.getReassociationIndices()) {
        std::optional<int64_t> keep;
        for (int64_t d : group)
          if (shape[d] != 1) {
            if (keep) {
              ok = false; // a real split of a dimension: not a unit expand
              break;
            }
            keep = d;
          }
        if (!ok)
          break;
        kept.push_back(map.getResult(keep.value_or(group.front())));
      }
      if (!ok)
        continue;
      SmallVector<AffineMap> maps = op.getIndexingMapsArray();
      maps[operand->getOperandNumber()] =
          AffineMap::get(map.getNumDims(), 0, kept, op.getContext());
      // A loop that only the dropped unit results indexed would have no
      // extent left.
      if (!inversePermutation(concatAffineMaps(maps, op.getContext())))
        continue;
      rw.modifyOpInPlace(op, [&] {
        operand->set(expand.getSrc());
        op.setIndexingMapsAttr(rw.getAffineMapArrayAttr(maps));
      });
      return success();
    }
    return rw.notifyMatchFailure(op, "no input is a unit-dim expand_shape");
  }
};

/// An elementwise generic reading a static slice of a constant-padded
/// tensor (the depthwise conv1d's K shifted windows of the zero-padded
/// input) reads the unpadded source in its body instead, with the bounds
/// check the pad stood for: the pad (a fill and a copy) is no kernel of
/// its own any more. When the source is itself a small single-use
/// elementwise generic (the cast to f32), its body is evaluated there too.
struct ReadPaddedSliceInBody : OpRewritePattern<linalg::GenericOp> {
  ReadPaddedSliceInBody(MLIRContext *ctx, int64_t maxOps)
      : OpRewritePattern(ctx), maxOps(maxOps) {}
  int64_t maxOps;

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rw) const override {
    if (!allParallel(op) || !op.hasPureTensorSemantics())
      return rw.notifyMatchFailure(op, "not an elementwise generic on tensors");
    for (OpOperand *operand : op.getDpsInputOperands()) {
      auto slice = operand->get().getDefiningOp<tensor::ExtractSliceOp>();
      auto pad = slice ? slice.getSource().getDefiningOp<tensor::PadOp>()
                       : tensor::PadOp();
      if (!pad || !pad.getConstantPaddingValue() ||
          !pad.getResultType().hasStaticShape() ||
          !pad.getSourceType().hasStaticShape() ||
          ShapedType::isDynamicShape(pad.getStaticLow()) ||
          !slice.hasUnitStride() ||
          slice.getResultType().getRank() != pad.getResultType().getRank() ||
          ShapedType::isDynamicShape(slice.getStaticOffsets()))
        continue;
      AffineMap map = op.getMatchingIndexingMap(operand);
      if (!llvm::all_of(map.getResults(), llvm::IsaPred<AffineDimExpr>))
        continue;
      // The pad value must be available inside the body.
      Value padValue = pad.getConstantPaddingValue();
      if (!padValue.getDefiningOp<arith::ConstantOp>())
        continue;
      auto producer = pad.getSource().getDefiningOp<linalg::GenericOp>();
      if (producer &&
          (!allParallel(producer) || !producer->hasOneUse() ||
           producer.getNumDpsInits() != 1 || bodySize(producer) > maxOps ||
           !producer.getMatchingIndexingMap(producer.getDpsInitOperand(0))
                .isIdentity() ||
           llvm::any_of(producer.getIndexingMapsArray(), [](AffineMap m) {
             return !m.isProjectedPermutation();
           }) ||
           llvm::any_of(producer.getBody()->getOperations(),
                        llvm::IsaPred<linalg::IndexOp>)))
        producer = {};
      rewrite(op, operand, slice, pad, producer, rw);
      return success();
    }
    return rw.notifyMatchFailure(op, "no input is a slice of a constant pad");
  }

  void rewrite(linalg::GenericOp op, OpOperand *operand,
               tensor::ExtractSliceOp slice, tensor::PadOp pad,
               linalg::GenericOp producer, PatternRewriter &rw) const {
    Location loc = op.getLoc();
    unsigned dropped = operand->getOperandNumber();
    SmallVector<Value> inputs;
    SmallVector<AffineMap> maps;
    for (OpOperand &o : op->getOpOperands()) {
      if (o.getOperandNumber() == dropped)
        continue;
      if (op.isDpsInput(&o))
        inputs.push_back(o.get());
      maps.push_back(op.getMatchingIndexingMap(&o));
    }
    AffineMap map = op.getMatchingIndexingMap(operand);
    ArrayRef<int64_t> srcShape = pad.getSourceType().getShape();
    ArrayRef<int64_t> low = pad.getStaticLow();
    ArrayRef<int64_t> offsets = slice.getStaticOffsets();
    Value padValue = pad.getConstantPaddingValue();
    Value source = producer ? Value() : pad.getSource();
    auto body = [&](OpBuilder &b, Location l, ValueRange args) {
      // Index into the source: the loop index plus the slice offset minus
      // the low pad, zero (and masked) where it falls into the padding.
      Value inBounds;
      SmallVector<Value> idx;
      for (auto [dim, expr] : llvm::enumerate(map.getResults())) {
        unsigned loop = cast<AffineDimExpr>(expr).getPosition();
        Value i = linalg::IndexOp::create(b, l, loop);
        int64_t shift = offsets[dim] - low[dim];
        if (shift != 0)
          i = arith::AddIOp::create(
              b, l, i, arith::ConstantIndexOp::create(b, l, shift));
        if (shift < 0 || offsets[dim] + slice.getStaticSizes()[dim] - low[dim] >
                             srcShape[dim]) {
          Value zero = arith::ConstantIndexOp::create(b, l, 0);
          Value size = arith::ConstantIndexOp::create(b, l, srcShape[dim]);
          Value ok = arith::AndIOp::create(
              b, l,
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, i, zero),
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i, size));
          i = arith::SelectOp::create(b, l, ok, i, zero);
          inBounds = inBounds ? arith::AndIOp::create(b, l, inBounds, ok)
                                    .getResult()
                              : ok;
        }
        idx.push_back(i);
      }
      Value value;
      if (!producer) {
        value = tensor::ExtractOp::create(b, l, source, idx);
      } else {
        IRMapping pm;
        for (OpOperand *in : producer.getDpsInputOperands()) {
          AffineMap m = producer.getMatchingIndexingMap(in);
          SmallVector<Value> at;
          for (AffineExpr e : m.getResults())
            at.push_back(
                isa<AffineDimExpr>(e)
                    ? idx[cast<AffineDimExpr>(e).getPosition()]
                    : arith::ConstantIndexOp::create(
                          b, l, cast<AffineConstantExpr>(e).getValue())
                          .getResult());
          Value v = in->get();
          pm.map(producer.getMatchingBlockArgument(in),
                 isa<RankedTensorType>(v.getType())
                     ? tensor::ExtractOp::create(b, l, v, at).getResult()
                     : v);
        }
        for (Operation &inner : producer.getBody()->without_terminator())
          b.clone(inner, pm);
        value = pm.lookupOrDefault(
            producer.getBody()->getTerminator()->getOperand(0));
      }
      if (inBounds) {
        Value padHere = b.clone(*padValue.getDefiningOp())->getResult(0);
        value = arith::SelectOp::create(b, l, inBounds, value, padHere);
      }
      IRMapping m;
      unsigned next = 0;
      for (BlockArgument arg : op.getBody()->getArguments())
        m.map(arg, arg.getArgNumber() == dropped ? value : args[next++]);
      for (Operation &inner : op.getBody()->without_terminator())
        b.clone(inner, m);
      SmallVector<Value> yields;
      for (Value v : op.getBody()->getTerminator()->getOperands())
        yields.push_back(m.lookupOrDefault(v));
      linalg::YieldOp::create(b, l, yields);
    };
    auto fused = linalg::GenericOp::create(
        rw, loc, op.getResultTypes(), inputs, op.getDpsInits(), maps,
        op.getIteratorTypesArray(), body);
    rw.replaceOp(op, fused.getResults());
  }
};

/// A linalg.fill that initializes several linalg ops (CSE merges identical
/// fills) is cloned per user: one shared init tensor makes bufferization
/// copy it (a memref.copy kernel) for all but one user, while a fill per
/// user is written in place, and a reduction kernel can absorb it. Every
/// init user gets its clone right before it, the one that could keep the
/// original too: CSE left that fill where its first occurrence was, maybe
/// layers away, and the CUDA templates absorb only the fill right before
/// a contraction (in bench8 one layer's GDN in_proj, QKV and shared-expert
/// linears ran through the generic mapping because of it).
void fillPerUser(func::FuncOp func) {
  SmallVector<linalg::FillOp> fills;
  func.walk([&](linalg::FillOp fill) {
    if (fill.hasPureTensorSemantics() && !fill->hasOneUse())
      fills.push_back(fill);
  });
  IRRewriter rw(func.getContext());
  for (linalg::FillOp fill : fills) {
    SmallVector<OpOperand *> uses;
    for (OpOperand &use : fill->getUses()) {
      auto user = dyn_cast<linalg::LinalgOp>(use.getOwner());
      if (user && user.isDpsInit(&use))
        uses.push_back(&use);
    }
    // With fewer than two init users (the others read the fill as an
    // input, or are no linalg ops: an insert_slice destination) there is
    // nothing to split.
    if (uses.size() < 2)
      continue;
    for (OpOperand *use : uses) {
      rw.setInsertionPoint(use->getOwner());
      Operation *copy = rw.clone(*fill);
      rw.modifyOpInPlace(use->getOwner(),
                         [&] { use->set(copy->getResult(0)); });
    }
    if (fill->use_empty())
      rw.eraseOp(fill);
  }
}

struct FormKernelsPass
    : sinter::impl::FormKernelsPassBase<FormKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    int64_t maxOps = maxRecomputedOps;
    linalg::ControlFusionFn fuse = [maxOps](OpOperand *operand) {
      return refusal(operand, maxOps).empty() &&
             linalg::areElementwiseOpsFusable(operand);
    };
    // Reshapes move across elementwise generics only: a contraction or a
    // reduction keeps the loop structure the kernel templates expect.
    linalg::ControlFusionFn reshape = [](OpOperand *operand) {
      Operation *producer = operand->get().getDefiningOp();
      Operation *consumer = operand->getOwner();
      auto elementwise = [](Operation *op) {
        auto g = dyn_cast_or_null<linalg::GenericOp>(op);
        return g && allParallel(g);
      };
      // Folding a collapse_shape into its consumer, or an expand_shape into
      // its producer: the generic on the other side of the reshape.
      Operation *generic = isa<linalg::GenericOp>(consumer) ? consumer
                                                             : producer;
      if (!elementwise(generic))
        return false;
      return !producer || producer->hasOneUse();
    };
    RewritePatternSet patterns(ctx);
    linalg::populateElementwiseOpsFusionPatterns(patterns, fuse);
    linalg::populateFoldReshapeOpsByExpansionPatterns(patterns, reshape);
    linalg::populateEraseUnusedOperandsAndResultsPatterns(patterns);
    patterns.add<ReadThroughUnitExpand>(ctx);
    patterns.add<ReadPaddedSliceInBody>(ctx, maxOps);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, ctx);
    affine::AffineApplyOp::getCanonicalizationPatterns(patterns, ctx);
    // Not converging within the driver's iteration limit leaves valid IR
    // (fewer fusions): the upstream fusion pass ignores it as well, but it
    // is said, so that a missed fusion is not a mystery.
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      getOperation().emitWarning()
          << "sinter-form-kernels: the fusion rewrites did not converge; "
             "some kernels may stay unfused";
    fillPerUser(getOperation());
    // A rewrite that left an invalid op is reported here, naming the op,
    // instead of as a bare failure of the pipeline.
    if (failed(verify(getOperation()))) {
      getOperation().emitError()
          << "sinter-form-kernels produced invalid IR (the op is named in "
             "the error above)";
      return signalPassFailure();
    }
    if (!remarks)
      return;
    // What is left unfused, and why: one remark per generic-to-generic edge.
    getOperation().walk([&](linalg::GenericOp consumer) {
      for (OpOperand &operand : consumer->getOpOperands()) {
        if (!operand.get().getDefiningOp<linalg::GenericOp>())
          continue;
        std::string why = refusal(&operand, maxOps);
        if (why.empty())
          why = "not fusable by linalg elementwise fusion (indexing maps)";
        consumer.emitRemark() << "sinter-form-kernels: operand "
                              << operand.getOperandNumber()
                              << " not fused: " << why;
      }
    });
  }
};

} // namespace
