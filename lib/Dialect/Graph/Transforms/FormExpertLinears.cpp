//===- FormExpertLinears.cpp - matmul(x, gather(W, idx)) -> expert_linear -===//
//
// The mixture-of-experts export gathers the k selected expert matrices of
// every token into a tensor and multiplies by it, so each expert weight
// crosses memory twice and the gathered copy needs a buffer of its own.
// sinter.expert_linear reads the experts through the index instead (see
// the pass description in Passes.td). Each matmul whose rhs is a gather is
// a candidate and gets one remark, so the pass walks the candidates once
// rather than running a greedy pattern set that would repeat refusals.
//
//===----------------------------------------------------------------------===//

#include "sinter/Dialect/Graph/Transforms/FusionRemarks.h"
#include "sinter/Dialect/Graph/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"

namespace sinter {
#define GEN_PASS_DEF_FORMEXPERTLINEARSPASS
#include "sinter/Dialect/Graph/Transforms/Passes.h.inc"
} // namespace sinter

using namespace mlir;
using namespace sinter;

namespace {

constexpr llvm::StringLiteral kPass = "sinter-form-expert-linears";

struct Candidate {
  MatMulOp matmul;
  GatherOp gather;
};

/// Why `c` cannot become an expert_linear, or "" when it can.
std::string refusal(Candidate c) {
  auto g = c.gather;
  if (g.getAxis() != 0)
    return "the gather is along axis " + std::to_string(g.getAxis()) +
           ", not the expert axis 0";
  auto wt = cast<RankedTensorType>(g.getData().getType());
  if (wt.getRank() != 3 || !isa<FloatType>(wt.getElementType()))
    return "the gathered weight is not a 3-D float [experts, in, out] tensor";
  if (wt.getElementTypeBitWidth() % 8)
    return "the weight's element type is not a whole number of bytes";
  auto it = cast<RankedTensorType>(g.getIndices().getType());
  if (it.getRank() != 2)
    return "the indices are not [tokens, slots] (rank " +
           std::to_string(it.getRank()) + ")";
  auto xt = cast<RankedTensorType>(c.matmul.getLhs().getType());
  int64_t t = it.getDimSize(0), j = it.getDimSize(1), k = wt.getDimSize(1);
  if (xt.getRank() != 4 || xt.getDimSize(0) != t ||
      (xt.getDimSize(1) != 1 && xt.getDimSize(1) != j) ||
      xt.getDimSize(2) != 1 || xt.getDimSize(3) != k)
    return "the matmul's lhs is not [" + std::to_string(t) + ", 1 or " +
           std::to_string(j) + ", 1, " + std::to_string(k) +
           "] (one row per token or per slot)";
  return "";
}

void rewrite(IRRewriter &rewriter, Candidate c) {
  MatMulOp mm = c.matmul;
  GatherOp g = c.gather;
  Location loc = mm.getLoc();
  auto xt = cast<RankedTensorType>(mm.getLhs().getType());
  auto wt = cast<RankedTensorType>(g.getData().getType());
  auto it = cast<RankedTensorType>(g.getIndices().getType());
  int64_t t = it.getDimSize(0), j = it.getDimSize(1), k = wt.getDimSize(1),
          n = wt.getDimSize(2);
  Type elt = wt.getElementType();
  rewriter.setInsertionPoint(mm);

  bool perSlot = xt.getDimSize(1) == j && j != 1;
  Value x;
  if (perSlot)
    x = tensor::CollapseShapeOp::create(
        rewriter, loc, RankedTensorType::get({t, j, k}, xt.getElementType()),
        mm.getLhs(), ArrayRef<ReassociationIndices>{{0}, {1, 2}, {3}});
  else
    x = tensor::CollapseShapeOp::create(
        rewriter, loc, RankedTensorType::get({t, k}, xt.getElementType()),
        mm.getLhs(), ArrayRef<ReassociationIndices>{{0, 1, 2}, {3}});
  // The weight keeps the gather's [E, K, N]: an external-data weight is
  // then used as the file holds it (no per-expert transpose at load time,
  // no second copy in the artifact), and the M = 1 kernel reads its rows
  // N-contiguous (ExpertGemv.cpp).
  Value y = ExpertLinearOp::create(
      rewriter, loc, RankedTensorType::get({t, j, n}, elt), x, g.getData(),
      g.getIndices(), Value(), /*weight_kn=*/true);
  Value out = tensor::ExpandShapeOp::create(
      rewriter, loc, mm.getType(), y,
      ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
  rewriter.replaceOp(mm, out);
  if (g->use_empty())
    rewriter.eraseOp(g);
}

struct FormExpertLinearsPass
    : sinter::impl::FormExpertLinearsPassBase<FormExpertLinearsPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<Candidate> candidates;
    getOperation()->walk([&](MatMulOp mm) {
      if (auto g = mm.getRhs().getDefiningOp<GatherOp>())
        candidates.push_back({mm, g});
    });
    IRRewriter rewriter(&getContext());
    for (Candidate c : candidates) {
      std::string why = refusal(c);
      if (!why.empty()) {
        remarkRefused(c.matmul, kPass, why, {c.gather});
        continue;
      }
      auto it = cast<RankedTensorType>(c.gather.getIndices().getType());
      auto wt = cast<RankedTensorType>(c.gather.getData().getType());
      remarkFused(c.matmul, kPass,
                  "matmul over " + std::to_string(it.getDimSize(1)) + " of " +
                      std::to_string(wt.getDimSize(0)) +
                      " gathered experts reads them by index",
                  {c.gather});
      rewrite(rewriter, c);
    }
  }
};

} // namespace
