//===- FormExpertLinears.cpp - matmul(x, gather(W, idx)) -> expert_linear -===//
//
// The mixture-of-experts export gathers the k selected expert matrices of
// every token into a tensor and multiplies by it, so each expert weight
// crosses memory twice and the gathered copy needs a buffer of its own.
// sinter.expert_linear reads the experts through the index instead (see
// the pass description in Passes.td). Each matmul whose rhs is a gather is
// a candidate and gets one remark, so the pass walks the candidates once
// rather than running a greedy pattern set that would repeat refusals.
// HF transformers' export spells the same projection with the weight on
// the left, matmul(gather_nd(W, idx), x), over flattened token x slot rows;
// each matmul whose lhs is a gather_nd is a candidate as well.
//
//===----------------------------------------------------------------------===//

#include "RaisingUtils.h"
#include "sinter/Dialect/Graph/Transforms/FusionRemarks.h"
#include "sinter/Dialect/Graph/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"

namespace sinter {
#define GEN_PASS_DEF_FORMEXPERTLINEARSPASS
#include "sinter/Dialect/Graph/Transforms/Passes.h.inc"
} // namespace sinter

using namespace mlir;
using namespace sinter;
using namespace sinter::raising;

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

/// HF transformers' experts (`batched_mm`, as torch.onnx writes them):
/// the token rows repeated over their J slots and flattened to M = T * J
/// rows, the router's [T, J] indices flattened and clipped to [0, E - 1],
/// `gather_nd(W [E, N, K], idx [M, 1])` -> [M, N, K] and
/// `matmul(that, x [M, K, 1])` -> [M, N, 1]: the weight is on the left and
/// already [out, in], expert_linear's own layout.
struct HfCandidate {
  MatMulOp matmul;
  GatherNDOp gather;
};

/// Why `c` cannot become an expert_linear, or "" when it can.
std::string refusal(HfCandidate c) {
  GatherNDOp g = c.gather;
  if (g.getBatchDims() != 0)
    return "the gather_nd has batch_dims " +
           std::to_string(g.getBatchDims()) + ", not 0";
  auto wt = cast<RankedTensorType>(g.getData().getType());
  if (wt.getRank() != 3 || !isa<FloatType>(wt.getElementType()))
    return "the gathered weight is not a 3-D float [experts, out, in] tensor";
  if (wt.getElementTypeBitWidth() % 8)
    return "the weight's element type is not a whole number of bytes";
  auto it = cast<RankedTensorType>(g.getIndices().getType());
  if (it.getRank() != 2 || it.getDimSize(1) != 1)
    return "the gather_nd's indices are " + str(it.getShape()) +
           ", not [rows, 1] (one expert per row)";
  int64_t m = it.getDimSize(0), k = wt.getDimSize(2);
  ArrayRef<int64_t> xs = shapeOf(c.matmul.getRhs());
  if (xs != ArrayRef<int64_t>{m, k, 1})
    return "the matmul's rhs is " + str(xs) + ", not [" + std::to_string(m) +
           ", " + std::to_string(k) + ", 1] (one input column per row)";
  return "";
}

/// The [T, J] indices of expert_linear under HF's [M, 1] ones, with T and
/// J; [M, 1] itself (T = M, J = 1) when they are not a flattened [T, J].
/// A clip to [0, E - 1] of moe_router's indices over E experts changes
/// nothing and is read through; any other clip is kept.
Value slotIndices(OpBuilder &b, Location loc, Value idx, int64_t e,
                  int64_t &t, int64_t &j) {
  ArrayRef<int64_t> is = shapeOf(idx);
  t = is[0], j = 1;
  Value flat = reshapeSource(idx);
  if (!flat || shapeOf(flat).size() != 1)
    return idx;
  auto clip = flat.getDefiningOp<ClipOp>();
  Value tj = reshapeSource(clip ? clip.getInput() : flat);
  if (!tj || shapeOf(tj).size() != 2)
    return idx;
  t = shapeOf(tj)[0], j = shapeOf(tj)[1];
  if (!clip)
    return tj;
  auto router = tj.getDefiningOp<MoeRouterOp>();
  std::optional<int64_t> lo = splatInt(clip.getMin()),
                         hi = splatInt(clip.getMax());
  if (router && tj == router.getIndices() &&
      shapeOf(router.getLogits()).back() == e && lo == 0 && hi == e - 1)
    return tj;
  return reshapeTo(b, loc, clip.getResult(), {t, j});
}

/// The [T, K] token rows when the [M, K, 1] columns are HF's repeat of
/// them over the J slots (an expand of [T, 1, K] to [T, J, K] under
/// reshapes), or null.
Value sharedRows(Value col, int64_t t, int64_t j, int64_t k,
                 SmallVectorImpl<Operation *> &dead) {
  for (Value cur = col; cur; cur = reshapeSource(cur)) {
    dead.push_back(cur.getDefiningOp());
    auto ex = cur.getDefiningOp<ExpandOp>();
    if (!ex)
      continue;
    if (shapeOf(cur) == ArrayRef<int64_t>{t, j, k} &&
        shapeOf(ex.getInput()) == ArrayRef<int64_t>{t, 1, k})
      return ex.getInput();
    return {};
  }
  return {};
}

/// Rewrites `c`; returns the expert_linear and says in `how` which form.
ExpertLinearOp rewrite(IRRewriter &rewriter, HfCandidate c, std::string &how) {
  MatMulOp mm = c.matmul;
  GatherNDOp g = c.gather;
  Location loc = mm.getLoc();
  auto wt = cast<RankedTensorType>(g.getData().getType());
  int64_t e = wt.getDimSize(0), n = wt.getDimSize(1), k = wt.getDimSize(2);
  rewriter.setInsertionPoint(mm);
  int64_t t, j;
  Value idx = slotIndices(rewriter, loc, g.getIndices(), e, t, j);
  // The flattened (and clipped) indices die with the last gather_nd.
  SmallVector<Operation *> dead{g, g.getIndices().getDefiningOp()};
  if (Value flat = reshapeSource(g.getIndices()))
    if (auto clip = flat.getDefiningOp<ClipOp>())
      dead.append({clip, clip.getInput().getDefiningOp()});
  Value x;
  how = std::to_string(t) + " tokens x " + std::to_string(j) + " slots, ";
  if (Value rows = j > 1 ? sharedRows(mm.getRhs(), t, j, k, dead) : Value()) {
    x = reshapeTo(rewriter, loc, rows, {t, k}); // the up projection
    how += "one input row per token";
  } else {
    x = reshapeTo(rewriter, loc, mm.getRhs(), {t, j, k});
    how += "one input row per slot";
  }
  auto y = ExpertLinearOp::create(
      rewriter, loc, RankedTensorType::get({t, j, n}, wt.getElementType()), x,
      g.getData(), idx, Value(), /*weight_kn=*/false);
  rewriter.replaceOp(mm, reshapeTo(rewriter, loc, y, shapeOf(mm.getResult())));
  eraseDeadOps(rewriter, dead);
  return y;
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
    SmallVector<HfCandidate> hfCandidates;
    getOperation()->walk([&](MatMulOp mm) {
      if (auto g = mm.getLhs().getDefiningOp<GatherNDOp>())
        hfCandidates.push_back({mm, g});
    });
    IRRewriter rewriter(&getContext());
    for (HfCandidate c : hfCandidates) {
      std::string why = refusal(c);
      if (!why.empty()) {
        remarkRefused(c.matmul, kPass, why, {c.gather});
        continue;
      }
      int64_t experts = shapeOf(c.gather.getData())[0];
      std::string how;
      ExpertLinearOp y = rewrite(rewriter, c, how);
      remarkFused(y, kPass,
                  "matmul of gather_nd-selected experts (HF's batched_mm) "
                  "reads " + std::to_string(experts) + " experts by index (" +
                      how + ")");
    }
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
