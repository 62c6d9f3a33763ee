//===- FuseParallelLinears.cpp - one linear for linears sharing an input --===//
//
// Q/K/V, GatedDeltaNet's qkv/z/b/a and the shared expert's gate/up are
// linears reading one activation; one GEMM over the weights concatenated
// along the output dimension, then a split, saves launches and reads the
// activation once. A group is every linear whose input reaches the same
// value through casts and reshapes, in one block. Every piece is checked
// before anything is rewritten: pieces that cannot join (computed weight,
// other dtype or K) are refused with a remark and left untouched, and the
// rest is fused as a whole or not at all. See Passes.td.
//
//===----------------------------------------------------------------------===//

#include "WeightPacking.h"
#include "sinter/Dialect/Graph/Transforms/FusionRemarks.h"
#include "sinter/Dialect/Graph/Transforms/Passes.h"

#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

namespace sinter {
#define GEN_PASS_DEF_FUSEPARALLELLINEARSPASS
#include "sinter/Dialect/Graph/Transforms/Passes.h.inc"
} // namespace sinter

using namespace mlir;
using namespace sinter;

namespace {
constexpr llvm::StringLiteral kPass = "sinter-fuse-parallel-linears";

struct Piece {
  mutable LinearOp op; // op accessors are not const
  WeightSource weight;
  int64_t width; // N: output features
};

/// The activation `v` is computed from, looking through casts and reshapes.
Value rootActivation(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (isa<CastOp, tensor::ReshapeOp, tensor::ExpandShapeOp,
            tensor::CollapseShapeOp>(def))
      v = def->getOperand(0);
    else
      break;
  }
  return v;
}

RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

std::string typeStr(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << t;
  return s;
}

/// Why the linear reading `mine` cannot join the ones reading `theirs`.
std::string mismatch(Value mine, Value theirs, size_t theirCount) {
  RankedTensorType a = tensorType(mine), b = tensorType(theirs);
  std::string others = " of the " + std::to_string(theirCount) +
                       " other linear" + (theirCount == 1 ? "" : "s") +
                       " reading the same activation";
  if (a.getElementType() != b.getElementType())
    return "dtypes differ: input is " + typeStr(a.getElementType()) + ", not " +
           typeStr(b.getElementType()) + others;
  if (a.getShape().back() != b.getShape().back())
    return "K differs: " + std::to_string(a.getShape().back()) + ", not " +
           std::to_string(b.getShape().back()) + others;
  return "input " + typeStr(a) + " is reached through other casts than the " +
         typeStr(b) + others;
}

/// The element types along the casts from `v` back to its root activation.
SmallVector<Type> castChain(Value v) {
  SmallVector<Type> chain;
  while (Operation *def = v.getDefiningOp()) {
    if (isa<CastOp>(def))
      chain.push_back(getElementTypeOrSelf(v));
    else if (!isa<tensor::ReshapeOp, tensor::ExpandShapeOp,
                  tensor::CollapseShapeOp>(def))
      break;
    v = def->getOperand(0);
  }
  return chain;
}

/// Whether two inputs (of one root) hold the same rows of K elements: the
/// same casts, the same K; reshapes only regroup whole rows.
bool sameView(Value a, Value b) {
  if (a == b)
    return true;
  RankedTensorType ta = tensorType(a), tb = tensorType(b);
  return ta.getElementType() == tb.getElementType() &&
         ta.getShape().back() == tb.getShape().back() &&
         castChain(a) == castChain(b);
}

/// `v` reshaped to `shape` (same element count), as the importer does it.
Value reshape(RewriterBase &rewriter, Location loc, Value v,
              ArrayRef<int64_t> shape) {
  RankedTensorType src = tensorType(v);
  if (src.getShape() == shape)
    return v;
  auto dst = RankedTensorType::get(shape, src.getElementType());
  if (dst.getRank() < src.getRank()) {
    if (auto re = getReassociationIndicesForCollapse(src.getShape(), shape))
      return tensor::CollapseShapeOp::create(rewriter, loc, dst, v, *re);
  } else if (dst.getRank() > src.getRank()) {
    if (auto re = getReassociationIndicesForCollapse(shape, src.getShape()))
      return tensor::ExpandShapeOp::create(rewriter, loc, dst, v, *re);
  }
  auto shapeTy =
      RankedTensorType::get({int64_t(shape.size())}, rewriter.getI64Type());
  Value s = arith::ConstantOp::create(
      rewriter, loc, shapeTy, DenseIntElementsAttr::get(shapeTy, shape));
  return tensor::ReshapeOp::create(rewriter, loc, dst, v, s);
}

/// Collects into `ops`, operands first, the ops that `v` needs and that
/// come after `first` in its block, so that moving them before `first` makes
/// `v` available there; false when one of them has effects or regions, or
/// is a piece of the group.
bool collectHoist(Value v, Operation *first,
                  const llvm::SmallPtrSetImpl<Operation *> &pieces,
                  llvm::SetVector<Operation *> &ops) {
  Operation *def = v.getDefiningOp();
  // Block arguments and values of other blocks dominate the whole block.
  if (!def || def->getBlock() != first->getBlock() ||
      def->isBeforeInBlock(first) || ops.contains(def))
    return true;
  if (def == first || pieces.contains(def) || !isPure(def) ||
      def->getNumRegions() != 0)
    return false;
  for (Value o : def->getOperands())
    if (!collectHoist(o, first, pieces, ops))
      return false;
  ops.insert(def);
  return true;
}

void eraseIfDead(RewriterBase &rewriter, Value v) {
  Operation *def = v.getDefiningOp();
  if (!def || !isOpTriviallyDead(def))
    return;
  SmallVector<Value> operands(def->getOperands());
  rewriter.eraseOp(def);
  for (Value o : operands)
    eraseIfDead(rewriter, o);
}

/// Rewrites `pieces` (all reading one value, all checked) into one linear
/// and a split.
void fuse(RewriterBase &rewriter, ArrayRef<Piece> pieces) {
  Operation *first = pieces.front().op;
  for (const Piece &p : pieces)
    if (p.op->isBeforeInBlock(first))
      first = p.op;
  rewriter.setInsertionPoint(first);
  SmallVector<Location> locs;
  for (const Piece &p : pieces)
    locs.push_back(p.op.getLoc());
  Location loc = rewriter.getFusedLoc(locs);

  // Pieces are in program order: the first one's input dominates `first`.
  Value input = pieces.front().op.getInput();
  RankedTensorType inTy = tensorType(input);
  Type elt = inTy.getElementType();
  int64_t k = inTy.getShape().back(), total = 0;
  SmallVector<int64_t> widths;
  SmallVector<WeightSource> weights;
  for (const Piece &p : pieces) {
    widths.push_back(p.width);
    weights.push_back(p.weight);
    total += p.width;
  }
  auto wTy = RankedTensorType::get({total, k}, elt);
  Value w = buildPack(rewriter, loc, wTy, weights, 0);
  int64_t bytes = byteSize(wTy);
  bool allInline =
      llvm::all_of(weights, [](const WeightSource &s) { return s.isInline(); });

  // Missing biases are zeros: the sum of a slice is unchanged.
  Value bias;
  unsigned numBiases = 0;
  if (llvm::any_of(pieces, [](const Piece &p) { return p.op.getBias(); })) {
    auto bTy = RankedTensorType::get({total}, elt);
    SmallVector<Value> values;
    SmallVector<WeightSource> sources;
    bool allConstant = true;
    for (const Piece &p : pieces) {
      Value b = p.op.getBias();
      if (b) {
        ++numBiases;
      } else {
        auto zTy = RankedTensorType::get({p.width}, elt);
        b = arith::ConstantOp::create(
            rewriter, loc, zTy, cast<TypedAttr>(rewriter.getZeroAttr(zTy)));
      }
      values.push_back(b);
      FailureOr<WeightSource> s = traceWeight(b);
      if (failed(s) || s->transposed)
        allConstant = false;
      else
        sources.push_back(*s);
    }
    if (allConstant) {
      bias = buildPack(rewriter, loc, bTy, sources, 0);
      allInline &= llvm::all_of(
          sources, [](const WeightSource &s) { return s.isInline(); });
    } else {
      // processGroup moved every bias up to `first` already.
      bias = tensor::ConcatOp::create(rewriter, loc, bTy, 0, values);
    }
    bytes += byteSize(bTy);
    for (Value v : values)
      eraseIfDead(rewriter, v);
  }

  SmallVector<int64_t> outShape(inTy.getShape());
  outShape.back() = total;
  auto fused = LinearOp::create(
      rewriter, loc, RankedTensorType::get(outShape, elt), input, w, bias);
  SmallVector<Type> types;
  for (const Piece &p : pieces) {
    outShape.back() = p.width;
    types.push_back(RankedTensorType::get(outShape, elt));
  }
  outShape.back() = total;
  auto split =
      SplitOp::create(rewriter, loc, types, fused,
                      rewriter.getI64IntegerAttr(int64_t(outShape.size()) - 1),
                      rewriter.getDenseI64ArrayAttr(widths));

  std::string widthList;
  llvm::raw_string_ostream os(widthList);
  llvm::interleaveComma(widths, os);
  SmallVector<Operation *> involved;
  for (const Piece &p : pieces)
    involved.push_back(p.op);
  remarkFused(fused, kPass,
              llvm::Twine(pieces.size()) + " linears of widths [" + widthList +
                  "] (N = " + llvm::Twine(total) + ", K = " + llvm::Twine(k) +
                  ", " + typeStr(elt) + ", " + llvm::Twine(numBiases) + " of " +
                  llvm::Twine(pieces.size()) + " with bias); " +
                  llvm::Twine(bytes) + " weight bytes moved " +
                  (allInline ? "at compile time"
                             : "by a weight-pack plan at load time"),
              involved);

  for (auto [p, r] : llvm::zip_equal(pieces, split.getResults())) {
    Value oldW = p.op.getWeight(), oldB = p.op.getBias(),
          oldIn = p.op.getInput();
    // A piece that read another reshape of the activation gets its slice
    // in its own shape.
    rewriter.setInsertionPointAfter(split);
    rewriter.replaceOp(
        p.op, reshape(rewriter, p.op.getLoc(), r, p.op.getType().getShape()));
    eraseIfDead(rewriter, oldW);
    if (oldB)
      eraseIfDead(rewriter, oldB);
    eraseIfDead(rewriter, oldIn);
  }
}

/// Checks one group (linears in one block whose inputs share a root) and
/// fuses what may be fused.
void processGroup(RewriterBase &rewriter, ArrayRef<LinearOp> group) {
  SmallVector<Piece> candidates;
  for (LinearOp op : group) {
    FailureOr<WeightSource> w = traceWeight(op.getWeight());
    if (failed(w)) {
      remarkRefused(op, kPass,
                    "weight is not a compile-time constant: it is computed "
                    "by the graph, so it cannot be concatenated");
      continue;
    }
    candidates.push_back(
        {op, *w, tensorType(op.getWeight()).getShape().front()});
  }
  // Linears whose inputs are one activation seen through the same casts
  // (reshapes aside: a linear acts on the last dimension only, so a slice
  // of the fused output is reshaped instead) fuse together.
  llvm::MapVector<Value, SmallVector<Piece>> classes;
  for (const Piece &p : candidates) {
    Value in = p.op.getInput();
    auto it =
        llvm::find_if(classes, [&](auto &c) { return sameView(c.first, in); });
    if (it == classes.end())
      classes[in].push_back(p);
    else
      it->second.push_back(p);
  }
  for (auto &[input, pieces] : classes) {
    if (pieces.size() < 2) {
      if (classes.size() < 2)
        continue;
      // Compared with the largest other class.
      const std::pair<Value, SmallVector<Piece>> *other = nullptr;
      for (auto &c : classes)
        if (c.first != input &&
            (!other || c.second.size() > other->second.size()))
          other = &c;
      remarkRefused(pieces.front().op, kPass,
                    mismatch(input, other->first, other->second.size()));
      continue;
    }
    // A bias computed after the first piece (Gemm's beta * C) is moved up
    // to where the fused linear goes, when it can be.
    Operation *first = pieces.front().op;
    llvm::SmallPtrSet<Operation *, 8> pieceOps;
    for (const Piece &p : pieces)
      pieceOps.insert(p.op);
    llvm::SetVector<Operation *> hoist;
    SmallVector<Piece> ready;
    for (const Piece &p : pieces) {
      llvm::SetVector<Operation *> mine;
      if (p.op.getBias() &&
          !collectHoist(p.op.getBias(), first, pieceOps, mine)) {
        remarkRefused(p.op, kPass,
                      "its bias is computed after the first linear of the "
                      "group from values not available there");
        continue;
      }
      hoist.insert(mine.begin(), mine.end());
      ready.push_back(p);
    }
    if (ready.size() < 2)
      continue;
    for (Operation *op : hoist)
      rewriter.moveOpBefore(op, first);
    fuse(rewriter, ready);
  }
}

struct FuseParallelLinearsPass
    : sinter::impl::FuseParallelLinearsPassBase<FuseParallelLinearsPass> {
  using Base::Base;
  void runOnOperation() override {
    llvm::MapVector<std::pair<Value, Block *>, SmallVector<LinearOp>> groups;
    getOperation()->walk([&](LinearOp op) {
      groups[{rootActivation(op.getInput()), op->getBlock()}].push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (auto &[key, group] : groups)
      if (group.size() >= 2)
        processGroup(rewriter, group);
  }
};
} // namespace
