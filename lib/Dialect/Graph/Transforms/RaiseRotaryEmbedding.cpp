//===- RaiseRotaryEmbedding.cpp - split-half RoPE -> rotary_embedding -----===//
//
// Exports without RotaryEmbedding write rotate-half RoPE on the first
// rot_dim features of [B, H, S, D] as Split (or Slice), Mul by cos and sin
// (gathered from tables by position ids), Sub, Add and Concat (see the pass
// description in Passes.td). Raised to sinter.rotary_embedding it is one
// kernel that gathers the table rows itself, as the opset-23 export does.
//
//===----------------------------------------------------------------------===//

#include "RaisingUtils.h"
#include "sinter/Dialect/Graph/Transforms/FusionRemarks.h"
#include "sinter/Dialect/Graph/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

namespace sinter {
#define GEN_PASS_DEF_RAISEROTARYEMBEDDINGPASS
#include "sinter/Dialect/Graph/Transforms/Passes.h.inc"
} // namespace sinter

using namespace mlir;
using namespace sinter;
using namespace sinter::raising;

static constexpr llvm::StringLiteral kPass = "sinter-raise-rotary-embedding";

namespace {

/// A piece [offset, offset + size) of the last axis of `src`.
struct Piece {
  Value src;
  int64_t offset = 0, size = 0;
  Operation *op = nullptr;
};

/// `v` as a piece of the last axis of a 4-D tensor: a result of a
/// sinter.split of the last axis, or a unit-stride extract_slice that keeps
/// every other axis whole.
std::optional<Piece> pieceOf(Value v) {
  if (auto split = v.getDefiningOp<SplitOp>()) {
    int64_t rank = shapeOf(split.getInput()).size();
    if (rank != 4 || (int64_t)split.getAxis() != rank - 1)
      return std::nullopt;
    unsigned i = cast<OpResult>(v).getResultNumber();
    ArrayRef<int64_t> sizes = split.getSizes();
    int64_t off = 0;
    for (unsigned j = 0; j < i; ++j)
      off += sizes[j];
    return Piece{split.getInput(), off, sizes[i], split};
  }
  if (auto sl = v.getDefiningOp<tensor::ExtractSliceOp>()) {
    ArrayRef<int64_t> src = shapeOf(sl.getSource());
    ArrayRef<int64_t> off = sl.getStaticOffsets(), sz = sl.getStaticSizes();
    if (src.size() != 4 || sl.getType().getRank() != 4 ||
        llvm::any_of(sl.getStaticStrides(), [](int64_t s) { return s != 1; }))
      return std::nullopt;
    for (int i = 0; i < 3; ++i)
      if (off[i] != 0 || sz[i] != src[i])
        return std::nullopt;
    if (ShapedType::isDynamic(off[3]))
      return std::nullopt;
    return Piece{sl.getSource(), off[3], sz[3], sl};
  }
  return std::nullopt;
}

/// mul(a, b) as (piece, factor) where the piece is `index` (0 = x1, 1 = x2)
/// of the rotated half pair.
struct Term {
  Piece piece;
  Value factor;
  Operation *op;
};
std::optional<Term> termOf(Value v) {
  auto mul = v.getDefiningOp<MulOp>();
  if (!mul)
    return std::nullopt;
  for (auto [a, c] : {std::pair(mul.getLhs(), mul.getRhs()),
                      std::pair(mul.getRhs(), mul.getLhs())})
    if (std::optional<Piece> p = pieceOf(a); p && a.getType() == mul.getType())
      return Term{*p, c, mul};
  return std::nullopt;
}

struct RopeMatch {
  Value x, cos, sin;
  int64_t half = 0;
  SmallVector<Operation *> chain;
};

/// Why `cat` is not rotate-half RoPE, or "" with `m` filled in.
/// Expected: cat(x1 c - x2 s, x2 c + x1 s [, rest]).
std::string match(tensor::ConcatOp cat, RopeMatch &m) {
  auto sub = cat.getInputs()[0].getDefiningOp<SubOp>();
  auto add = cat.getInputs()[1].getDefiningOp<AddOp>();
  if (!sub || !add)
    return "not x1 * cos - x2 * sin, x2 * cos + x1 * sin";
  std::optional<Term> a1 = termOf(sub.getLhs()), a2 = termOf(sub.getRhs());
  std::optional<Term> b1 = termOf(add.getLhs()), b2 = termOf(add.getRhs());
  if (!a1 || !a2 || !b1 || !b2)
    return "the rotated halves are not products of slices of one tensor";
  // In the add, the x2 * cos term comes first or second.
  if (b1->piece.offset != a2->piece.offset)
    std::swap(b1, b2);
  Value x = a1->piece.src;
  int64_t h = a1->piece.size;
  for (const Term &t : {*a1, *a2, *b1, *b2})
    if (t.piece.src != x || t.piece.size != h)
      return "the products read slices of different tensors or widths";
  if (a1->piece.offset != 0 || a2->piece.offset != h || b1->piece.offset != h ||
      b2->piece.offset != 0)
    return "the halves are not x[..., 0:h] and x[..., h:2h] in rotate-half "
           "order";
  if (a1->factor != b1->factor || a2->factor != b2->factor)
    return "cos and sin are not the same tensors in both halves";
  ArrayRef<int64_t> xs = shapeOf(x);
  if (cat.getType() != x.getType())
    return "the concat is not x's shape";
  if (cat.getInputs().size() == 3) {
    std::optional<Piece> rest = pieceOf(cat.getInputs()[2]);
    if (!rest || rest->src != x || rest->offset != 2 * h)
      return "the third piece is not the unrotated x[..., 2h:]";
    m.chain.push_back(rest->op);
  } else if (cat.getInputs().size() != 2 || 2 * h != xs[3]) {
    return "the concat has other pieces than the rotated halves";
  }
  m.x = x, m.half = h, m.cos = a1->factor, m.sin = a2->factor;
  m.chain.append(
      {sub, add, a1->op, a2->op, b1->op, b2->op, a1->piece.op, a2->piece.op});
  return "";
}

/// The [B, S, h] cache behind a factor that broadcasts as [B, 1, S, h] (a
/// reshape that inserts the head axis is looked through), or null.
Value cacheOf(OpBuilder &b, Location loc, Value f, ArrayRef<int64_t> xs,
              int64_t h) {
  ArrayRef<int64_t> fs = shapeOf(f);
  SmallVector<int64_t> padded(4 - std::min<size_t>(fs.size(), 4), 1);
  padded.append(fs.begin(), fs.end());
  if (padded.size() != 4 || padded[0] != xs[0] || padded[1] != 1 ||
      padded[2] != xs[2] || padded[3] != h)
    return {};
  SmallVector<int64_t> want{xs[0], xs[2], h};
  if (auto e = f.getDefiningOp<tensor::ExpandShapeOp>())
    if (shapeOf(e.getSrc()) == ArrayRef<int64_t>(want))
      return e.getSrc();
  return reshapeTo(b, loc, f, want);
}

/// The table and position ids when `c` is gather(table [P, h], ids [B, S]).
std::pair<Value, Value> tableOf(Value c) {
  auto g = c.getDefiningOp<GatherOp>();
  if (!g || g.getAxis() != 0 || shapeOf(g.getData()).size() != 2 ||
      !tensorType(g.getIndices()).getElementType().isInteger(64))
    return {};
  return {g.getData(), g.getIndices()};
}

//===----------------------------------------------------------------------===//
// Hugging Face's spelling: x * cos + rotate_half(x) * sin, full-width cos/sin
//===----------------------------------------------------------------------===//

/// True when the full-width factor `f` (last axis 2h) is two equal halves
/// that can be rebuilt h wide: concat(a, a) on the last axis, a unary
/// elementwise op (cos, sin, cast) or a reshape keeping the last axis of
/// such a value, a Gather of rows of a constant table with equal halves,
/// or a constant with equal halves.
bool isDuplicatedHalves(Value f, int64_t h) {
  Operation *def = f.getDefiningOp();
  if (!def || shapeOf(f).empty() || shapeOf(f).back() != 2 * h)
    return false;
  if (auto cat = dyn_cast<tensor::ConcatOp>(def))
    return cat.getInputs().size() == 2 &&
           cat.getDim() == (int64_t)shapeOf(f).size() - 1 &&
           cat.getInputs()[0] == cat.getInputs()[1];
  if (isa<CosOp, SinOp, CastOp>(def))
    return isDuplicatedHalves(def->getOperand(0), h);
  if (auto e = dyn_cast<tensor::ExpandShapeOp>(def))
    return e.getReassociationIndices().back().size() == 1 ||
                   llvm::all_of(
                       ArrayRef<int64_t>(shapeOf(f))
                           .take_back(e.getReassociationIndices().back().size())
                           .drop_back(),
                       [](int64_t d) { return d == 1; })
               ? isDuplicatedHalves(e.getSrc(), h)
               : false;
  if (auto g = dyn_cast<GatherOp>(def))
    return g.getAxis() == 0 && shapeOf(g.getData()).size() == 2 &&
           isDuplicatedHalves(g.getData(), h);
  DenseElementsAttr attr;
  if (!matchPattern(f, m_Constant(&attr)) ||
      !isa<FloatType>(attr.getElementType()))
    return false;
  auto vals = llvm::to_vector(attr.getValues<APFloat>());
  for (size_t i = 0; i < vals.size(); i += 2 * h)
    for (int64_t j = 0; j < h; ++j)
      if (vals[i + j].bitwiseIsEqual(vals[i + j + h]) == false)
        return false;
  return true;
}

/// The first half of a value isDuplicatedHalves accepted, rebuilt h wide.
Value firstHalf(OpBuilder &b, Location loc, Value f, int64_t h) {
  Operation *def = f.getDefiningOp();
  auto halfType = [&](Value v) {
    SmallVector<int64_t> s(shapeOf(v));
    s.back() = h;
    return tensorType(v).clone(s);
  };
  if (auto cat = dyn_cast<tensor::ConcatOp>(def))
    return cat.getInputs()[0];
  if (isa<CosOp, SinOp, CastOp>(def)) {
    Value in = firstHalf(b, loc, def->getOperand(0), h);
    OperationState st(loc, def->getName());
    st.addOperands(in);
    st.addTypes(halfType(f));
    st.addAttributes(def->getAttrs());
    return b.create(st)->getResult(0);
  }
  // The last axis (2h on both sides) ends the last group, so the same
  // grouping expands the halves.
  if (auto e = dyn_cast<tensor::ExpandShapeOp>(def))
    return tensor::ExpandShapeOp::create(b, loc, halfType(f),
                                         firstHalf(b, loc, e.getSrc(), h),
                                         e.getReassociationIndices());
  if (auto g = dyn_cast<GatherOp>(def)) {
    Value table = firstHalf(b, loc, g.getData(), h);
    return GatherOp::create(b, loc, halfType(f), table, g.getIndices(),
                            g.getAxisAttr())
        .getResult();
  }
  DenseElementsAttr attr;
  (void)matchPattern(f, m_Constant(&attr));
  auto vals = llvm::to_vector(attr.getValues<APFloat>());
  SmallVector<APFloat> half;
  for (size_t i = 0; i < vals.size(); i += 2 * h)
    half.append(vals.begin() + i, vals.begin() + i + h);
  return arith::ConstantOp::create(b, loc,
                                   DenseElementsAttr::get(halfType(f), half));
}

/// Why `add` is not `x_rot * C + concat(-x2, x1) * S`, or "" with `m`
/// filled in (cos/sin still full width) and `anchor` the op to replace:
/// the add, or the concat that appends the unrotated tail.
std::string matchRotateHalf(AddOp add, RopeMatch &m, Operation *&anchor) {
  for (auto [p, q] : {std::pair(add.getLhs(), add.getRhs()),
                      std::pair(add.getRhs(), add.getLhs())}) {
    auto qm = q.getDefiningOp<MulOp>();
    auto pm = p.getDefiningOp<MulOp>();
    if (!qm || !pm)
      continue;
    tensor::ConcatOp rot;
    Value sinF;
    for (auto [a, c] : {std::pair(qm.getLhs(), qm.getRhs()),
                        std::pair(qm.getRhs(), qm.getLhs())})
      if (auto r = a.getDefiningOp<tensor::ConcatOp>();
          r && r.getInputs().size() == 2 &&
          r.getInputs()[0].getDefiningOp<NegOp>() &&
          a.getType() == qm.getType())
        rot = r, sinF = c;
    if (!rot)
      continue;
    auto neg = rot.getInputs()[0].getDefiningOp<NegOp>();
    std::optional<Piece> x1 = pieceOf(rot.getInputs()[1]);
    std::optional<Piece> x2 = pieceOf(neg.getInput());
    if (!x1 || !x2 || x1->src != x2->src || x1->offset != 0 ||
        x2->offset != x1->size || x2->size != x1->size)
      return "rotate_half is not concat(-x[..., h:2h], x[..., 0:h])";
    int64_t h = x1->size;
    Value inner = x1->src; // x_rot itself, or the whole x
    Value xr, cosF;
    for (auto [a, c] : {std::pair(pm.getLhs(), pm.getRhs()),
                        std::pair(pm.getRhs(), pm.getLhs())}) {
      if (a.getType() != pm.getType())
        continue;
      std::optional<Piece> pa = pieceOf(a);
      if (a == inner ||
          (pa && pa->src == inner && pa->offset == 0 && pa->size == 2 * h))
        xr = a, cosF = c;
    }
    if (!xr)
      return "x * cos does not read the tensor rotate_half rotates";
    // The whole input: the tensor the rotated part is the head of.
    Value base = inner;
    if (std::optional<Piece> pi = pieceOf(inner);
        pi && pi->offset == 0 && pi->size == 2 * h)
      base = pi->src;
    int64_t d = shapeOf(base)[3];
    anchor = add;
    if (d != 2 * h) {
      auto tail = add->hasOneUse()
                      ? dyn_cast<tensor::ConcatOp>(*add->getUsers().begin())
                      : tensor::ConcatOp();
      std::optional<Piece> pass =
          tail && tail.getInputs().size() == 2 && tail.getInputs()[0] == add
              ? pieceOf(tail.getInputs()[1])
              : std::nullopt;
      if (!pass || pass->src != base || pass->offset != 2 * h ||
          tail.getType() != base.getType())
        return "the rotated head is not concatenated with the unrotated "
               "tail of the same tensor";
      anchor = tail;
      m.chain.push_back(pass->op);
    }
    if (!isDuplicatedHalves(cosF, h) || !isDuplicatedHalves(sinF, h))
      return "cos and sin are not two equal halves (concat(c, c) or a "
             "table with equal halves)";
    m.x = base, m.half = h, m.cos = cosF, m.sin = sinF;
    m.chain.append({add, pm, qm, rot, neg, x1->op, x2->op});
    if (Operation *d = xr.getDefiningOp(); d && xr != base)
      m.chain.push_back(d);
    return "";
  }
  return "not x * cos + rotate_half(x) * sin";
}

struct RaiseRotaryEmbeddingPass
    : sinter::impl::RaiseRotaryEmbeddingPassBase<RaiseRotaryEmbeddingPass> {
  using Base::Base;
  void runOnOperation() override {
    // Candidates: concats of the last axis whose first piece is a Sub (the
    // split-half spelling), adds with a rotate_half product (-x2 first).
    SmallVector<Operation *> candidates;
    getOperation()->walk([&](Operation *op) {
      if (auto cat = dyn_cast<tensor::ConcatOp>(op)) {
        if (cat.getType().getRank() == 4 && cat.getDim() == 3 &&
            cat.getInputs().size() >= 2 &&
            cat.getInputs()[0].getDefiningOp<SubOp>())
          candidates.push_back(op);
      } else if (auto add = dyn_cast<AddOp>(op)) {
        for (Value v : {add.getLhs(), add.getRhs()})
          if (auto mul = v.getDefiningOp<MulOp>())
            for (Value f : {mul.getLhs(), mul.getRhs()})
              if (auto r = f.getDefiningOp<tensor::ConcatOp>();
                  r && r.getType().getRank() == 4 &&
                  r.getInputs()[0].getDefiningOp<NegOp>()) {
                candidates.push_back(op);
                return;
              }
      }
    });
    IRRewriter rewriter(&getContext());
    for (Operation *cand : candidates) {
      RopeMatch m;
      Operation *anchor = cand;
      std::string why;
      bool fullWidth = isa<AddOp>(cand);
      if (fullWidth)
        why = matchRotateHalf(cast<AddOp>(cand), m, anchor);
      else
        why = match(cast<tensor::ConcatOp>(cand), m);
      ArrayRef<int64_t> xs = m.x ? shapeOf(m.x) : ArrayRef<int64_t>();
      rewriter.setInsertionPoint(anchor);
      Location loc = anchor->getLoc();
      Value cos, sin;
      if (why.empty()) {
        if (fullWidth) {
          // The full-width factors' producers die once the halves replace them.
          for (Value f : {m.cos, m.sin})
            for (Operation *d = f.getDefiningOp();
                 isa_and_nonnull<tensor::ExpandShapeOp, CosOp, SinOp, CastOp,
                                 GatherOp, tensor::ConcatOp>(d);
                 d = d->getOperand(0).getDefiningOp())
              m.chain.push_back(d);
          m.cos = firstHalf(rewriter, loc, m.cos, m.half);
          m.sin = firstHalf(rewriter, loc, m.sin, m.half);
        }
        cos = cacheOf(rewriter, loc, m.cos, xs, m.half);
        sin = cacheOf(rewriter, loc, m.sin, xs, m.half);
        if (!cos || !sin)
          why = "cos " + str(shapeOf(m.cos)) + " and sin " +
                str(shapeOf(m.sin)) + " are not [B, 1, S, rot_dim / 2]";
      }
      if (!why.empty()) {
        if (remarks)
          remarkRefused(cand, kPass, why);
        if (fullWidth && m.x) // drop the halves built for nothing
          eraseDeadOps(rewriter,
                       {m.cos.getDefiningOp(), m.sin.getDefiningOp()});
        continue;
      }
      // Gathers of tables by the same ids: the op gathers the rows itself.
      auto [cosT, cosIds] = tableOf(cos);
      auto [sinT, sinIds] = tableOf(sin);
      Value ids;
      Value cosRows = cos, sinRows = sin;
      if (cosT && sinT && cosIds == sinIds && shapeOf(cosT) == shapeOf(sinT)) {
        cos = cosT, sin = sinT, ids = cosIds;
      }
      auto rope = RotaryEmbeddingOp::create(
          rewriter, loc, anchor->getResult(0).getType(), m.x, cos, sin, ids,
          rewriter.getI64IntegerAttr(2 * m.half), UnitAttr());
      if (remarks)
        remarkFused(rope, kPass,
                    "rotary_embedding (rot_dim " + std::to_string(2 * m.half) +
                        " of head dim " + std::to_string(xs[3]) + ", " +
                        (fullWidth ? "rotate_half form, " : "") +
                        (ids ? "cos/sin tables gathered by position ids"
                             : "cos/sin per position") +
                        ") from " +
                        std::to_string(llvm::SmallPtrSet<Operation *, 16>(
                                           m.chain.begin(), m.chain.end())
                                           .size() +
                                       1) +
                        " ops");
      // The anchor is erased here: it must not stay in the chain that
      // eraseDeadOps walks (ASan found the use after free).
      llvm::erase(m.chain, anchor);
      rewriter.replaceOp(anchor, rope.getResult());
      for (Value f : {m.cos, m.sin, cosRows, sinRows})
        if (Operation *def = f.getDefiningOp())
          m.chain.push_back(def);
      eraseDeadOps(rewriter, m.chain);
    }
  }
};
} // namespace
