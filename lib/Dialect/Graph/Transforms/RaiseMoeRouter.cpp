//===- RaiseMoeRouter.cpp - TopK + Softmax -> sinter.moe_router -----------===//
//
// A mixture-of-experts router picks the k largest of a token's router
// logits and weighs the picked experts by a softmax. Exporters write it as
// TopK on the logits then Softmax of the k values, or as Softmax over the
// row, TopK of the probabilities and a division by their sum. Lowered op by
// op it is a rank kernel, a pick kernel and a softmax's reductions: 9
// launches of one block each per layer on the CUDA target. Raised to one
// sinter.moe_router, it is one launch (lib/Target/CUDA/MoeRouter.cpp).
// Both spellings are the same function: softmax is monotone, so the top-k
// of the probabilities are the top-k logits, and the renormalised picked
// probabilities are the softmax of the picked logits.
//
//===----------------------------------------------------------------------===//

#include "RaisingUtils.h"
#include "sinter/Dialect/Graph/IR/GraphOps.h"
#include "sinter/Dialect/Graph/Transforms/FusionRemarks.h"
#include "sinter/Dialect/Graph/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"

namespace sinter {
#define GEN_PASS_DEF_RAISEMOEROUTERPASS
#include "sinter/Dialect/Graph/Transforms/Passes.h.inc"
} // namespace sinter

using namespace mlir;
using namespace sinter;
using namespace sinter::raising;

static constexpr llvm::StringLiteral kPass = "sinter-raise-moe-router";

namespace {

/// A matched router: `weights` (the op whose result are the routing
/// weights) is replaced by the router's weights, the TopK's indices by its
/// indices; `logits` is what the router reads.
struct RouterMatch {
  Value logits;
  Operation *weights = nullptr;
  SmallVector<Operation *> chain;
  const char *spelling = "";
};

/// The logits before a widening cast (bf16/f16 -> f32): the router computes
/// in f32 anyway, and reading the narrow type halves its loads.
Value throughWideningCast(Value v) {
  auto cast = v.getDefiningOp<CastOp>();
  if (!cast)
    return v;
  auto from = dyn_cast<FloatType>(tensorType(cast.getInput()).getElementType());
  auto to = dyn_cast<FloatType>(tensorType(v).getElementType());
  if (!from || !to || !to.isF32() || from.getWidth() >= 32)
    return v;
  return cast.getInput();
}

/// Softmax(p) -> TopK -> values / ReduceSum(values): the logits, or empty
/// with `why` set.
std::string matchSoftmaxFirst(TopKOp topk, SoftmaxOp softmax,
                              RouterMatch &m) {
  int64_t last = tensorType(topk.getValues()).getRank() - 1;
  if (softmax.getAxis() != last)
    return "the softmax is over axis " + std::to_string(softmax.getAxis()) +
           ", not the last";
  Value values = topk.getValues();
  ReduceSumOp sum;
  DivOp div;
  // One ReduceSum and one Div only: with a second reader the topk stays
  // anyway, and which of two Divs was taken for the renormalisation
  // depended on the order of the uses.
  for (Operation *user : values.getUsers()) {
    if (auto s = dyn_cast<ReduceSumOp>(user)) {
      if (sum && sum != s)
        return "the top-k probabilities are read by two ReduceSums, not "
               "only by their renormalisation";
      sum = s;
    } else if (auto d = dyn_cast<DivOp>(user)) {
      if (div && div != d)
        return "the top-k probabilities are read by two Divs, not only by "
               "their renormalisation";
      div = d;
    } else
      return "the top-k probabilities are read by " +
             user->getName().getStringRef().str() +
             ", not only by their renormalisation";
  }
  if (!sum || !div)
    return "the top-k probabilities are not renormalised (no ReduceSum and "
           "Div of them)";
  if (sum.getAxes().size() != 1 || sum.getAxes()[0] != last ||
      !sum.getKeepdims())
    return "the ReduceSum is not over the last axis with keepdims";
  if (div.getLhs() != values || div.getRhs() != sum.getResult())
    return "the Div is not top-k values / their sum";
  if (!sum->hasOneUse())
    return "the sum of the top-k probabilities has other users";
  if (tensorType(div.getResult()).getShape() != shapeOf(values))
    return "the renormalisation broadcasts to " +
           str(shapeOf(div.getResult()));
  m.logits = softmax.getInput();
  m.weights = div;
  m.chain = {div, sum, topk, softmax};
  m.spelling = "softmax, topk, renormalisation";
  return "";
}

/// Why `topk` is no router, or empty with `m` filled.
std::string match(TopKOp topk, RouterMatch &m) {
  auto type = tensorType(topk.getInput());
  int64_t last = type.getRank() - 1;
  if (!topk.getLargest())
    return "the topk selects the smallest";
  if (topk.getAxis() != last)
    return "the topk is over axis " + std::to_string(topk.getAxis()) +
           ", not the last";
  auto elt = dyn_cast<FloatType>(type.getElementType());
  if (!elt || elt.getWidth() > 32)
    return "the topk's input is not f32, f16 or bf16";
  int64_t e = type.getDimSize(last), k = topk.getK();
  if (k < 1 || k > MoeRouterOp::kMaxK)
    return "k = " + std::to_string(k) + " (the router takes 1.." +
           std::to_string(MoeRouterOp::kMaxK) + ")";
  if (e > MoeRouterOp::kMaxExperts)
    return "rows of " + std::to_string(e) + " (the router takes at most " +
           std::to_string(MoeRouterOp::kMaxExperts) + ")";
  Value values = topk.getValues();
  if (values.use_empty())
    return "the top-k values are unused";
  if (auto softmax = topk.getInput().getDefiningOp<SoftmaxOp>())
    return matchSoftmaxFirst(topk, softmax, m);
  // TopK(logits) -> Softmax(values).
  auto softmax = dyn_cast<SoftmaxOp>(*values.getUsers().begin());
  if (!softmax || !values.hasOneUse())
    return "the top-k values are not read by one softmax only (nor is the "
           "topk's input a softmax)";
  if (softmax.getAxis() != last)
    return "the softmax is over axis " + std::to_string(softmax.getAxis()) +
           ", not the last";
  m.logits = topk.getInput();
  m.weights = softmax;
  m.chain = {softmax, topk};
  m.spelling = "topk, softmax";
  return "";
}

struct RaiseMoeRouterPass
    : sinter::impl::RaiseMoeRouterPassBase<RaiseMoeRouterPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<TopKOp> candidates;
    getOperation()->walk([&](TopKOp op) { candidates.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (TopKOp topk : candidates) {
      RouterMatch m;
      std::string why = match(topk, m);
      if (!why.empty()) {
        if (remarks)
          remarkRefused(topk, kPass, why);
        continue;
      }
      Value logits = throughWideningCast(m.logits);
      Operation *anchor = m.weights;
      // At the topk: the indices may be read before the weights are made.
      rewriter.setInsertionPoint(topk);
      auto router = MoeRouterOp::create(
          rewriter, topk.getLoc(), anchor->getResult(0).getType(),
          topk.getIndices().getType(), logits, topk.getKAttr());
      if (remarks)
        remarkFused(router, kPass,
                    "moe_router k = " + std::to_string(topk.getK()) +
                        " over rows of " +
                        std::to_string(shapeOf(logits).back()) + " (" +
                        m.spelling +
                        (logits != m.logits ? ", through a widening cast"
                                            : "") +
                        ")");
      rewriter.replaceAllUsesWith(topk.getIndices(), router.getIndices());
      rewriter.replaceOp(anchor, router.getWeights());
      m.chain.erase(m.chain.begin());
      eraseDeadOps(rewriter, m.chain);
      if (logits != m.logits)
        eraseDeadOps(rewriter, {m.logits.getDefiningOp()});
    }
  }
};
} // namespace
