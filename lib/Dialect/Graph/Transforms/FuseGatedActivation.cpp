//===- FuseGatedActivation.cpp - down(act(gate) * up) -> gated_linear -----===//
//
// SEED rewrite 1: the gated MLP's activation and product move into the down
// projection's operand load (see the pass description in Passes.td). Each
// multiply with an activation operand is a candidate and gets exactly one
// remark, so the pass walks the candidates once instead of running a greedy
// pattern set (which would repeat refusals on every iteration).
//
// Exported graphs put exact steps between the product and the linear: a
// bf16 model rounds the f32 product to bf16 (sinter.cast), and the heads of
// a per-head product are flattened (collapse/expand/reshape) into the
// linear's feature dim. The rewrite looks through them: the cast becomes
// gated_linear's operand_type (the same rounding, in the operand load), the
// reshapes are applied to gate and up instead. Widening casts of 16-bit gate
// and up to f32 are looked through too: the fused op widens them itself.
//
//===----------------------------------------------------------------------===//

#include "sinter/Dialect/Graph/Transforms/FusionRemarks.h"
#include "sinter/Dialect/Graph/Transforms/Passes.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"

namespace sinter {
#define GEN_PASS_DEF_FUSEGATEDACTIVATIONPASS
#include "sinter/Dialect/Graph/Transforms/Passes.h.inc"
} // namespace sinter

using namespace mlir;
using namespace sinter;

namespace {

constexpr llvm::StringLiteral kPass = "sinter-fuse-gated-activation";

/// An activation applied to `input`, computed by `ops` (the result first).
struct Activation {
  GatedActivation kind;
  Value input;
  SmallVector<Operation *, 2> ops;
};

/// silu, gelu (both forms), relu, or silu spelled `x * sigmoid(x)`.
std::optional<Activation> matchActivation(Value v) {
  Operation *def = v.getDefiningOp();
  if (!def)
    return std::nullopt;
  if (auto op = dyn_cast<SiluOp>(def))
    return Activation{GatedActivation::silu, op.getInput(), {def}};
  if (auto op = dyn_cast<GeluOp>(def))
    return Activation{op.getTanhApproximation() ? GatedActivation::gelu_tanh
                                                : GatedActivation::gelu,
                      op.getInput(),
                      {def}};
  if (auto op = dyn_cast<ReluOp>(def))
    return Activation{GatedActivation::relu, op.getInput(), {def}};
  if (auto mul = dyn_cast<MulOp>(def)) {
    for (auto [x, s] : {std::pair(mul.getLhs(), mul.getRhs()),
                        std::pair(mul.getRhs(), mul.getLhs())}) {
      auto sig = s.getDefiningOp<SigmoidOp>();
      if (sig && sig.getInput() == x && x.getType() == mul.getType())
        return Activation{GatedActivation::silu, x, {def, sig}};
    }
  }
  return std::nullopt;
}

/// `v` without a widening cast from f16/bf16 to f32: exact, and what
/// gated_linear's lowering does itself with 16-bit gate and up.
Value throughWidening(Value v) {
  auto c = v.getDefiningOp<CastOp>();
  if (!c)
    return v;
  Type from = getElementTypeOrSelf(c.getInput()), to = getElementTypeOrSelf(c);
  return (from.isBF16() || from.isF16()) && to.isF32() ? c.getInput() : v;
}

/// Whether gate and up are projections of one input: two linears of the
/// same tensor, or two results of one split of a linear's output.
bool sameProjection(Value gate, Value up) {
  gate = throughWidening(gate);
  up = throughWidening(up);
  auto lg = gate.getDefiningOp<LinearOp>(), lu = up.getDefiningOp<LinearOp>();
  if (lg && lu)
    return lg.getInput() == lu.getInput();
  auto sg = gate.getDefiningOp<SplitOp>(), su = up.getDefiningOp<SplitOp>();
  return sg && sg == su && sg.getInput().getDefiningOp<LinearOp>();
}

std::string typeStr(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << t;
  return s;
}

std::string opName(Operation *op) {
  return op->getName().getStringRef().str();
}

bool isReshape(Operation *op) {
  return isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp, tensor::ReshapeOp>(
      op);
}

/// Whether reshaping [src] to [dst] keeps rows and features apart: dst's
/// last dim (the linear's K) is src's trailing dims merged, so that the
/// leading dims only merge or split among themselves.
bool keepsRowsApart(ArrayRef<int64_t> src, ArrayRef<int64_t> dst) {
  if (dst.empty())
    return false;
  int64_t k = dst.back(), p = 1;
  for (int64_t d : llvm::reverse(src)) {
    p *= d;
    if (p == k)
      return true;
  }
  return false;
}

/// The linear that loads the gated product, and the exact steps between.
struct Consumer {
  LinearOp down;
  SmallVector<Operation *, 2> between; // casts and reshapes, product first
  CastOp rounding;                     // the cast among them, if any
};

/// " (after a, b)" naming the ops between the product and `user`.
std::string after(const Consumer &c) {
  if (c.between.empty())
    return "";
  std::string s = " (after ";
  for (auto [i, op] : llvm::enumerate(c.between))
    s += (i ? ", " : "") + opName(op);
  return s + ")";
}

/// Follows the product through single-use casts and reshapes to the linear
/// that loads it; returns why not, or the empty string.
std::string findConsumer(Value product, Consumer &c) {
  Value v = product;
  while (true) {
    if (!v.hasOneUse()) {
      std::string n =
          std::to_string(std::distance(v.use_begin(), v.use_end()));
      if (v == product)
        return "the gated product has " + n +
               " users; only a single linear can load it";
      return "the gated product's '" + opName(v.getDefiningOp()) + "' has " +
             n + " users; only a single linear can load it";
    }
    OpOperand &use = *v.use_begin();
    Operation *user = use.getOwner();
    if (auto cast = dyn_cast<CastOp>(user)) {
      Type from = getElementTypeOrSelf(v), to = getElementTypeOrSelf(cast);
      if (c.rounding)
        return "the gated product is cast twice (to " +
               typeStr(getElementTypeOrSelf(c.rounding)) + ", then to " +
               typeStr(to) + ") before the linear";
      if (!isa<FloatType>(to))
        return "the gated product is cast to " + typeStr(to) +
               ", not to a float type";
      // The fused op forms the product in f32 (or f64) and rounds it once,
      // to the cast's type: a 16-bit product was rounded before the cast.
      if (from.isBF16() || from.isF16())
        return "the gated product is " + typeStr(from) +
               " before its cast to " + typeStr(to) +
               "; the fused op would not round it to " + typeStr(from) +
               " first";
      c.rounding = cast;
      c.between.push_back(cast);
      v = cast.getResult();
      continue;
    }
    if (isReshape(user) && use.getOperandNumber() == 0) {
      if (!cast<RankedTensorType>(user->getResult(0).getType())
               .hasStaticShape())
        return "the gated product's '" + opName(user) +
               "' has a dynamic result shape";
      c.between.push_back(user);
      v = user->getResult(0);
      continue;
    }
    if (auto lin = dyn_cast<LinearOp>(user);
        lin && use.getOperandNumber() == 0) {
      auto from = cast<RankedTensorType>(product.getType());
      auto to = cast<RankedTensorType>(v.getType());
      if (!keepsRowsApart(from.getShape(), to.getShape()))
        return "the gated product's reshape from " + typeStr(from) + " to " +
               typeStr(to) +
               " mixes rows and features (the linear's K is not a merge of "
               "the product's trailing dims)";
      c.down = lin;
      return "";
    }
    if (isa<ExpertLinearOp>(user) && use.getOperandNumber() == 0)
      return "the gated product feeds the input of 'sinter.expert_linear'" +
             after(c) +
             ": there is no gated expert_linear; the CUDA expert GEMV forms "
             "act(gate) * up (and its rounding) in that projection's operand "
             "load instead";
    return "the gated product feeds '" + opName(user) + "'" + after(c) +
           ", not the input of a sinter.linear";
  }
}

/// Why `act(gate) * up` (the product `mul`) cannot fold into a linear, or
/// the empty string when it can; `c` then says which linear, through what.
std::string whyNot(MulOp mul, const Activation &act, Value up, Consumer &c) {
  Value product = mul.getResult();
  if (std::string why = findConsumer(product, c); !why.empty())
    return why;
  LinearOp down = c.down;
  Value gate = act.input;
  if (gate.getType() != product.getType() || up.getType() != product.getType())
    return "the multiply broadcasts (gate " + typeStr(gate.getType()) +
           ", up " + typeStr(up.getType()) + ", product " +
           typeStr(product.getType()) + ")";
  // Without a cast the product reaches the linear in its own type.
  Type elt = getElementTypeOrSelf(gate);
  if (!c.rounding && getElementTypeOrSelf(down.getWeight()) != elt)
    return "element types differ (gate " + typeStr(elt) + ", up " +
           typeStr(getElementTypeOrSelf(up)) + ", weight " +
           typeStr(getElementTypeOrSelf(down.getWeight())) + ")";
  for (Operation *op : act.ops)
    if (!op->getResult(0).hasOneUse())
      return "the activation has other users ('" +
             op->getName().getStringRef().str() +
             "'); fusing would compute it twice";
  if (!sameProjection(gate, up)) {
    auto from = [](Value v) {
      Operation *def = throughWidening(v).getDefiningOp();
      return def ? "'" + opName(def) + "'" : std::string("an argument");
    };
    return "gate and up are not linears of one input, nor two parts of one "
           "split linear (gate from " +
           from(gate) + ", up from " + from(up) + ")";
  }
  return "";
}

/// `v` reshaped as `reshape` reshapes the product (same shapes, the element
/// type of `v`).
Value reshapeLike(RewriterBase &rewriter, Operation *reshape, Value v) {
  IRMapping map;
  map.map(reshape->getOperand(0), v);
  Operation *copy = rewriter.clone(*reshape, map);
  auto ty = cast<RankedTensorType>(reshape->getResult(0).getType());
  rewriter.modifyOpInPlace(copy, [&] {
    copy->getResult(0).setType(ty.clone(getElementTypeOrSelf(v)));
  });
  return copy->getResult(0);
}

struct FuseGatedActivationPass
    : sinter::impl::FuseGatedActivationPassBase<FuseGatedActivationPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<MulOp> muls;
    getOperation()->walk([&](MulOp op) { muls.push_back(op); });
    llvm::DenseSet<Operation *> erased;
    IRRewriter rewriter(&getContext());
    for (MulOp mul : muls) {
      if (erased.contains(mul))
        continue;
      // Either operand order; the first order with an activation that can
      // fuse wins, else the first order's refusal is reported.
      std::optional<Activation> chosen;
      Value up;
      Consumer consumer;
      std::string why;
      for (auto [a, b] : {std::pair(mul.getLhs(), mul.getRhs()),
                          std::pair(mul.getRhs(), mul.getLhs())}) {
        std::optional<Activation> act = matchActivation(a);
        if (!act)
          continue;
        Consumer c;
        std::string w = whyNot(mul, *act, b, c);
        if (w.empty()) {
          chosen = act, up = b, consumer = c, why.clear();
          break;
        }
        if (why.empty())
          why = w;
      }
      if (!chosen) {
        if (!why.empty())
          remarkRefused(mul, kPass, why);
        continue;
      }
      fuse(rewriter, mul, *chosen, up, consumer, erased);
    }
  }

  void fuse(IRRewriter &rewriter, MulOp mul, const Activation &act, Value up,
            const Consumer &c, llvm::DenseSet<Operation *> &erased) {
    LinearOp down = c.down;
    SmallVector<Operation *> involved(act.ops.begin(), act.ops.end());
    involved.push_back(mul);
    involved.append(c.between.begin(), c.between.end());
    involved.push_back(down);

    // 16-bit gate and up widened to f32 are read as they are: the fused op
    // widens them in its operand load.
    Value gate = act.input;
    Value g16 = throughWidening(gate), u16 = throughWidening(up);
    SmallVector<Operation *, 2> widenings;
    if (g16 != gate && u16 != up && g16.getType() == u16.getType()) {
      widenings = {gate.getDefiningOp(), up.getDefiningOp()};
      gate = g16, up = u16;
    }

    rewriter.setInsertionPoint(down);
    std::string reshapes;
    for (Operation *op : c.between) {
      if (!isReshape(op))
        continue;
      gate = reshapeLike(rewriter, op, gate);
      up = reshapeLike(rewriter, op, up);
      reshapes += (reshapes.empty() ? "" : ", ") + ::opName(op);
    }
    Type wElt = getElementTypeOrSelf(down.getWeight());
    TypeAttr operandType;
    if (c.rounding || getElementTypeOrSelf(gate) != wElt)
      operandType = TypeAttr::get(wElt);

    // The down projection's location first: the fused op is that linear.
    SmallVector<Location> locs{down.getLoc()};
    for (Operation *op : involved)
      if (op != down)
        locs.push_back(op->getLoc());
    auto fused = GatedLinearOp::create(
        rewriter, rewriter.getFusedLoc(locs), down.getType(), gate, up,
        down.getWeight(), down.getBias(), act.kind, operandType);

    std::string detail;
    llvm::raw_string_ostream os(detail);
    auto inTy = cast<RankedTensorType>(up.getType());
    os << stringifyGatedActivation(act.kind) << "(gate) * up (feature dim "
       << inTy.getShape().back()
       << ") formed in the operand load of the down projection";
    if (c.rounding)
      os << ", rounded to " << wElt << " there as the graph's cast rounds it";
    if (!reshapes.empty())
      os << "; gate and up reshaped as the product was (" << reshapes << ")";
    if (!widenings.empty())
      os << "; gate and up read as " << getElementTypeOrSelf(gate)
         << " (their casts to f32 looked through)";
    os << "; no tensor of the gated product remains";
    involved.append(widenings.begin(), widenings.end());
    remarkFused(fused, kPass, detail, involved);

    rewriter.replaceOp(down, fused.getResult());
    for (Operation *op : llvm::reverse(c.between))
      rewriter.eraseOp(op);
    rewriter.eraseOp(mul);
    erased.insert(mul);
    for (Operation *op : act.ops) {
      rewriter.eraseOp(op);
      erased.insert(op);
    }
    for (Operation *op : widenings)
      if (op->use_empty() && !erased.contains(op)) {
        rewriter.eraseOp(op);
        erased.insert(op);
      }
  }
};

} // namespace
