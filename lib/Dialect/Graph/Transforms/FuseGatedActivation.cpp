//===- FuseGatedActivation.cpp - down(act(gate) * up) -> gated_linear -----===//
//
// SEED rewrite 1: the gated MLP's activation and product move into the down
// projection's operand load (see the pass description in Passes.td). Each
// multiply with an activation operand is a candidate and gets exactly one
// remark, so the pass walks the candidates once instead of running a greedy
// pattern set (which would repeat refusals on every iteration).
//
//===----------------------------------------------------------------------===//

#include "sinter/Dialect/Graph/Transforms/FusionRemarks.h"
#include "sinter/Dialect/Graph/Transforms/Passes.h"

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

/// Whether gate and up are projections of one input: two linears of the
/// same tensor, or two results of one split of a linear's output.
bool sameProjection(Value gate, Value up) {
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

/// Why `act(gate) * up` (the product `mul`) cannot fold into a linear, or
/// the empty string when it can; `down` is then that linear.
std::string whyNot(MulOp mul, const Activation &act, Value up, LinearOp &down) {
  Value product = mul.getResult();
  if (!product.hasOneUse())
    return "the gated product has " +
           std::to_string(
               std::distance(product.use_begin(), product.use_end())) +
           " users; only a single linear can load it";
  OpOperand &use = *product.use_begin();
  down = dyn_cast<LinearOp>(use.getOwner());
  if (!down || use.getOperandNumber() != 0)
    return "the gated product feeds '" +
           use.getOwner()->getName().getStringRef().str() +
           "', not the input of a sinter.linear";
  Value gate = act.input;
  if (gate.getType() != product.getType() || up.getType() != product.getType())
    return "the multiply broadcasts (gate " + typeStr(gate.getType()) +
           ", up " + typeStr(up.getType()) + ", product " +
           typeStr(product.getType()) + ")";
  Type elt = getElementTypeOrSelf(gate);
  if (getElementTypeOrSelf(up) != elt ||
      getElementTypeOrSelf(down.getWeight()) != elt)
    return "element types differ (gate " + typeStr(elt) + ", up " +
           typeStr(getElementTypeOrSelf(up)) + ", weight " +
           typeStr(getElementTypeOrSelf(down.getWeight())) + ")";
  for (Operation *op : act.ops)
    if (!op->getResult(0).hasOneUse())
      return "the activation has other users ('" +
             op->getName().getStringRef().str() +
             "'); fusing would compute it twice";
  if (!sameProjection(gate, up))
    return "gate and up are not linears of one input, nor two parts of one "
           "split linear";
  return "";
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
      LinearOp down;
      std::string why;
      for (auto [a, b] : {std::pair(mul.getLhs(), mul.getRhs()),
                          std::pair(mul.getRhs(), mul.getLhs())}) {
        std::optional<Activation> act = matchActivation(a);
        if (!act)
          continue;
        LinearOp d;
        std::string w = whyNot(mul, *act, b, d);
        if (w.empty()) {
          chosen = act, up = b, down = d, why.clear();
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

      SmallVector<Location> locs{down.getLoc(), mul.getLoc()};
      for (Operation *op : chosen->ops)
        locs.push_back(op->getLoc());
      rewriter.setInsertionPoint(down);
      auto fused = GatedLinearOp::create(
          rewriter, rewriter.getFusedLoc(locs), down.getType(), chosen->input,
          up, down.getWeight(), down.getBias(), chosen->kind);
      SmallVector<Operation *> involved(chosen->ops.begin(), chosen->ops.end());
      involved.append({mul, down});
      auto inTy = cast<RankedTensorType>(up.getType());
      remarkFused(fused, kPass,
                  stringifyGatedActivation(chosen->kind) +
                      "(gate) * up (feature dim " +
                      llvm::Twine(inTy.getShape().back()) +
                      ") formed in the operand load of the down projection; "
                      "no tensor of the gated product remains",
                  involved);
      rewriter.replaceOp(down, fused.getResult());
      rewriter.eraseOp(mul);
      erased.insert(mul);
      for (Operation *op : chosen->ops) {
        rewriter.eraseOp(op);
        erased.insert(op);
      }
    }
  }
};

} // namespace
