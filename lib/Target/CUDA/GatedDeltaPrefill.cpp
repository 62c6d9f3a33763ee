//===- GatedDeltaPrefill.cpp - the delta-rule recurrence over T tokens ----===//
//
// See Kernels.h. sinter.linear_attention with T > 1 tokens is lowered
// (lib/Conversion/GraphToLinalg/LLMOps.cpp) to an scf.for over the tokens
// whose body is the decode step's chain, unmarked: fill + "retrieve"
// (r = sum_d f(S[d,m], k[d], g)), "update" (S[d,m] = F(S[d,m], k[d], v[m],
// g, beta, r[m]), in place), fill + "readout" (o = sum_d q[d] S'[d,m]),
// "output" (scale, conversion) and a copy of the token's output row. The
// generic mapping runs that as about 7 launches per token, each reading
// the whole f32 state (prefill of 512 tokens: 3584 launches per layer).
//
// This template runs the whole loop as ONE launch: a block per (batch,
// head, tile of value columns), a warp per 32 / G value columns with its
// lanes split over G key-row groups (lane = column + (32 / G) * group), so
// a thread keeps Dk / G state elements of its column in registers for the
// whole sequence. The tokens go in order inside the kernel; the state is
// read once before the first and written once after the last, and the
// reductions over Dk are xor shuffles across the row groups (no block
// barrier: a warp's columns are independent of the other warps'). The
// bodies are the generics' own, cloned per state element.
//
// The per-token inputs (q, k, v, gate, beta) are staged in shared memory
// a chunk of tokens at a time, double-buffered: the block loads chunk
// c + 1 through the loop's subviews (induction variable replaced by the
// token) into registers before computing chunk c, and stores them after
// it (one barrier a chunk), so the global latency that used to sit on
// every token's critical path (~1 us a token) hides behind a chunk of
// arithmetic. Each staged input is the values one token needs: at every
// key row, at every value column of the block's tile, or the head's one
// value. Two tokens go per loop iteration (one basic block: the first's
// readout overlaps the second's retrieve) and all row groups store the
// output (no branch). With the experimental form scan-hoist-vector (off:
// not yet run on a GPU) the body ops that depend only on the head's
// per-token inputs (the gate's exp) are computed once per token in the
// staging step and staged, not by every thread; k / q are staged with a
// thread's rows contiguous and read as 4-vectors (ld.shared.v4); the
// budget is 48 KiB.
//
// Refusals (a reason each) when the loop is not exactly that chain, a
// reduction is not `out + term`, the heads of the readout differ from the
// state's, the shapes do not split over warps, an input depends on both
// the key row and the value column, one token's inputs do not fit the
// staging budget, or the written buffers (state, output) may share bytes
// with what the kernel reads.
//
//===----------------------------------------------------------------------===//

#include "GatedDeltaBuffers.h"
#include "Kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace sinter::cuda {
using namespace gated_delta;
namespace {

/// Key-row groups per warp (lanes sharing a column); 32 / kGroups columns.
constexpr int64_t kGroups = 8;
constexpr int64_t kMaxRowsPerThread = 64;
constexpr int64_t kMaxWarps = 4;
/// Tokens staged in shared memory at a time (two buffers of them: one
/// read, one filled); both buffers within this many bytes.
constexpr int64_t kChunk = 16;
/// 40 KiB without the experimental form scan-hoist-vector (the GPU-run
/// form).
constexpr int64_t kMaxStageBytes = 48 * 1024;
constexpr int64_t kMaxStageBytesRoundOne = 40 * 1024;
/// Values of a key-row input per shared load (ld.shared.v4), where a
/// thread's rows split into such runs.
constexpr int64_t kVec = 4;
/// Independent partial sums of a thread's rows in a reduction. 1: the rows
/// are summed in order, as before staging, so the kernel's results are
/// bitwise those of the serial sum. On an H100, bench8 prefill 512's six
/// scans took 933 us with 4 chains and 946 us serial, but the 4 chains'
/// rounding moved the logits' max_rel against the PyTorch reference from
/// 0.024 to 0.057 (the bar is 0.05; ulps in o can flip MoE routing
/// downstream), so the serial order stays.
constexpr int64_t kChains = 1;

/// How a generic's operand is read at one token: directly (a loop-invariant
/// buffer) or through a subview made in the loop (offsets constant or the
/// induction variable, unit strides).
struct TokenRead {
  Value source;
  SmallVector<int64_t> offsets; // kDynamic where the offset is the token
  llvm::SmallBitVector dropped;
};

std::optional<TokenRead> tokenRead(Value v, scf::ForOp loop,
                                   std::string &why) {
  TokenRead r;
  if (!loop->isAncestor(v.getParentRegion()->getParentOp())) {
    r.source = v;
    auto type = cast<MemRefType>(v.getType());
    r.offsets.assign(type.getRank(), 0);
    r.dropped.resize(type.getRank());
    return r;
  }
  auto sub = v.getDefiningOp<memref::SubViewOp>();
  if (!sub || loop->isAncestor(sub.getSource().getParentRegion()->getParentOp())) {
    why = "an operand of the step is not a loop-invariant buffer or a "
          "subview of one";
    return std::nullopt;
  }
  if (!llvm::all_of(sub.getStaticStrides(),
                    [](int64_t s) { return s == 1; })) {
    why = "a per-token subview has non-unit strides";
    return std::nullopt;
  }
  r.source = sub.getSource();
  r.dropped = sub.getDroppedDims();
  unsigned dyn = 0;
  for (int64_t o : sub.getStaticOffsets()) {
    if (!ShapedType::isDynamic(o)) {
      r.offsets.push_back(o);
      continue;
    }
    if (sub.getOffsets()[dyn++] != loop.getInductionVar()) {
      why = "a per-token subview's offset is not the token index";
      return std::nullopt;
    }
    r.offsets.push_back(ShapedType::kDynamic);
  }
  return r;
}

/// A per-token input staged in shared memory chunk by chunk: its values
/// at every key row (the map uses d), at every value column of the
/// block's tile (uses m) or its one value for the block's head (neither).
struct Stage {
  TokenRead read;
  AffineMap map; // over (b, h, m, d)
  bool usesM = false, usesD = false;
  Type elem;
  int64_t extent = 1; // values per token
  int64_t slots = 1;  // registers (vectors) per thread per chunk
  /// A key-row input read as vectors of `vec` values: a token's values are
  /// `pitch` apart per row group (row group + G i at group * pitch + i), so
  /// a thread's rows are contiguous (see kVec).
  int64_t vec = 1, pitch = 0;
  /// A hoisted value: `derived`'s result in `from`'s body, computed from
  /// the head's per-token inputs in the staging step (read unused).
  linalg::GenericOp from;
  Operation *derived = nullptr;
  SmallVector<const void *> key;
};

/// The value of `e` over `dims` (non-negative index values).
Value expand(OpBuilder &b, Location l, AffineExpr e, ArrayRef<Value> dims) {
  if (auto c = dyn_cast<AffineConstantExpr>(e))
    return arith::ConstantIndexOp::create(b, l, c.getValue());
  if (auto d = dyn_cast<AffineDimExpr>(e))
    return dims[d.getPosition()];
  auto bin = cast<AffineBinaryOpExpr>(e);
  Value x = expand(b, l, bin.getLHS(), dims),
        y = expand(b, l, bin.getRHS(), dims);
  switch (e.getKind()) {
  case AffineExprKind::Add:
    return arith::AddIOp::create(b, l, x, y);
  case AffineExprKind::Mul:
    return arith::MulIOp::create(b, l, x, y);
  case AffineExprKind::FloorDiv:
    return arith::DivUIOp::create(b, l, x, y);
  case AffineExprKind::Mod:
    return arith::RemUIOp::create(b, l, x, y);
  default:
    return arith::CeilDivUIOp::create(b, l, x, y);
  }
}

/// Loads element `at` (in the operand's own index space) of a token read.
Value load(OpBuilder &b, Location l, const TokenRead &r, ArrayRef<Value> at,
           Value token) {
  SmallVector<Value> idx;
  unsigned k = 0;
  for (auto [i, off] : llvm::enumerate(r.offsets)) {
    Value base = ShapedType::isDynamic(off)
                     ? token
                     : arith::ConstantIndexOp::create(b, l, off).getResult();
    if (r.dropped.test(i)) {
      idx.push_back(base);
      continue;
    }
    idx.push_back(off == 0 ? at[k] : arith::AddIOp::create(b, l, base, at[k]));
    ++k;
  }
  return memref::LoadOp::create(b, l, r.source, idx);
}

/// Whether the generic's body yields `out + term` with `out` (its single
/// init block argument) used only there.
bool isSumOfTerms(linalg::GenericOp g) {
  Block &body = g.getRegion().front();
  BlockArgument out = body.getArguments().back();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  return add && out.hasOneUse() &&
         (add.getLhs() == out || add.getRhs() == out);
}

AffineMap dimsMap(MLIRContext *ctx, ArrayRef<unsigned> d) {
  SmallVector<AffineExpr> e;
  for (unsigned i : d)
    e.push_back(getAffineDimExpr(i, ctx));
  return AffineMap::get(4, 0, e, ctx);
}

bool sameRanges(linalg::GenericOp g, ArrayRef<int64_t> ranges) {
  SmallVector<int64_t> r = g.getStaticLoopRanges();
  return ArrayRef<int64_t>(r) == ranges;
}

std::optional<double> fillValue(linalg::FillOp f) {
  FloatAttr a;
  if (!matchPattern(f.getInputs()[0], m_Constant(&a)))
    return std::nullopt;
  return a.getValueAsDouble();
}

} // namespace

LogicalResult emitGatedDeltaScan(RewriterBase &rw, scf::ForOp loop,
                                 const KernelOptions &options,
                                 std::string &why) {
  if (loop.getNumResults() != 0) {
    why = "the loop carries values (the bufferized recurrence carries none)";
    return failure();
  }
  auto lb = getConstantIntValue(loop.getLowerBound()),
       ub = getConstantIntValue(loop.getUpperBound()),
       st = getConstantIntValue(loop.getStep());
  if (!lb || !ub || !st || *lb != 0 || *st != 1 || *ub < 1) {
    why = "the loop is not 0 to a constant T by 1";
    return failure();
  }
  int64_t T = *ub;

  // The effectful ops of the body, in order; the rest must be views.
  SmallVector<Operation *> chain;
  for (Operation &op : loop.getBody()->without_terminator()) {
    if (isa<linalg::LinalgOp, memref::CopyOp>(op)) {
      chain.push_back(&op);
      continue;
    }
    if (!isViewOrPure(&op)) {
      why = "the loop body has an op other than views, fills, generics and "
            "a copy: " +
            op.getName().getStringRef().str();
      return failure();
    }
  }
  auto fillR = chain.size() == 7 ? dyn_cast<linalg::FillOp>(chain[0]) : nullptr;
  auto retrieve =
      fillR ? dyn_cast<linalg::GenericOp>(chain[1]) : linalg::GenericOp();
  auto update =
      retrieve ? dyn_cast<linalg::GenericOp>(chain[2]) : linalg::GenericOp();
  auto fillO = update ? dyn_cast<linalg::FillOp>(chain[3]) : nullptr;
  auto readout =
      fillO ? dyn_cast<linalg::GenericOp>(chain[4]) : linalg::GenericOp();
  auto output =
      readout ? dyn_cast<linalg::GenericOp>(chain[5]) : linalg::GenericOp();
  auto copy = output ? dyn_cast<memref::CopyOp>(chain[6]) : nullptr;
  if (!copy) {
    why = "the loop body is not fill, retrieve, update, fill, readout, "
          "output, copy (a delta-rule recurrence)";
    return failure();
  }
  for (linalg::GenericOp g : {retrieve, update, readout, output})
    if (!g.hasPureBufferSemantics() || g.getNumDpsInits() != 1) {
      why = "a step generic is not bufferized with one output";
      return failure();
    }

  MLIRContext *ctx = loop.getContext();
  Value rBuf = retrieve.getDpsInits()[0], S = update.getDpsInits()[0],
        oBuf = readout.getDpsInits()[0], yBuf = output.getDpsInits()[0];
  if (fillR.getDpsInits()[0] != rBuf || fillO.getDpsInits()[0] != oBuf) {
    why = "the fills do not initialize the retrieve and readout outputs";
    return failure();
  }
  auto sType = dyn_cast<MemRefType>(S.getType());
  if (!sType || sType.getRank() != 4 || !sType.hasStaticShape() ||
      !sType.getElementType().isF32() ||
      loop->isAncestor(S.getParentRegion()->getParentOp())) {
    why = "the updated state is not a loop-invariant static 4-D f32 buffer";
    return failure();
  }
  int64_t B = sType.getDimSize(0), H = sType.getDimSize(1),
          Dk = sType.getDimSize(2), Dv = sType.getDimSize(3);

  auto iters = [](linalg::GenericOp g, int reductions) {
    auto it = g.getIteratorTypesArray();
    for (auto [i, t] : llvm::enumerate(it))
      if ((t == utils::IteratorType::reduction) !=
          (int(i) >= int(it.size()) - reductions))
        return false;
    return true;
  };
  // retrieve and readout: loops (b, h, m, d), reduction over d, the state
  // read at (b, h, d, m); update: loops (b, h, d, m), the state in place.
  AffineMap bhm = dimsMap(ctx, {0, 1, 2}), bhdm = dimsMap(ctx, {0, 1, 3, 2});
  SmallVector<int64_t> reduceRanges{B, H, Dv, Dk}, stateRanges{B, H, Dk, Dv};
  for (linalg::GenericOp g : {retrieve, readout}) {
    if (g.getNumLoops() != 4 || !iters(g, 1) ||
        !sameRanges(g, reduceRanges) ||
        g.getIndexingMapsArray().back() != bhm || !isSumOfTerms(g) ||
        !isa<MemRefType>(g.getDpsInits()[0].getType()) ||
        !cast<MemRefType>(g.getDpsInits()[0].getType())
             .getElementType()
             .isF32()) {
      why = "the retrieve/readout is not an f32 sum over the key rows of "
            "the state's heads (b, h, m, d) -> (b, h, m)";
      return failure();
    }
    bool readsState = false;
    for (OpOperand *in : g.getDpsInputOperands())
      if (in->get() == S) {
        if (g.getMatchingIndexingMap(in) != bhdm) {
          why = "the retrieve/readout reads the state other than at "
                "(b, h, d, m) (query heads differ from the state's?)";
          return failure();
        }
        readsState = true;
      }
    if (!readsState) {
      why = "the retrieve/readout does not read the state";
      return failure();
    }
  }
  if (update.getNumLoops() != 4 || !iters(update, 0) ||
      !sameRanges(update, stateRanges) ||
      !update.getIndexingMapsArray().back().isIdentity()) {
    why = "the update is not elementwise over the state";
    return failure();
  }
  AffineMap bhmOfUpdate = dimsMap(ctx, {0, 1, 3});
  for (OpOperand *in : update.getDpsInputOperands()) {
    if (in->get() == S || in->get() == oBuf || in->get() == yBuf) {
      why = "the update reads the state or the readout through an input";
      return failure();
    }
    if (in->get() == rBuf && update.getMatchingIndexingMap(in) != bhmOfUpdate) {
      why = "the update reads the retrieved vector other than at (b, h, m)";
      return failure();
    }
  }
  if (output.getNumLoops() != 3 || !iters(output, 0) ||
      output.getNumDpsInputs() != 1 || output.getDpsInputs()[0] != oBuf ||
      !llvm::all_of(output.getIndexingMapsArray(),
                    [](AffineMap m) { return m.isIdentity(); }) ||
      !sameRanges(output, {B, H, Dv}) ||
      output.getRegion().front().getArguments().back().use_empty() == false) {
    why = "the output is not elementwise over the readout alone";
    return failure();
  }
  auto yType = dyn_cast<MemRefType>(yBuf.getType());
  if (!yType || !yType.getLayout().isIdentity()) {
    why = "the output row is not an identity-layout buffer";
    return failure();
  }
  // The copy: the output row (maybe collapsed) into the token's row.
  Value src = copy.getSource();
  if (auto c = src.getDefiningOp<memref::CollapseShapeOp>())
    src = c.getSrc();
  if (src != yBuf) {
    why = "the copy does not store the output row";
    return failure();
  }
  auto dstType = cast<MemRefType>(copy.getTarget().getType());
  if (output.getRegion().front().getTerminator()->getOperand(0).getType() !=
      dstType.getElementType()) {
    why = "the output row's element type differs from its destination's";
    return failure();
  }
  std::optional<TokenRead> dst = tokenRead(copy.getTarget(), loop, why);
  if (!dst)
    return failure();
  if (!llvm::is_contained(dst->offsets, ShapedType::kDynamic)) {
    why = "the copy's destination does not move with the token";
    return failure();
  }

  // Every per-token input, by the generic operand that reads it: one
  // staged input per distinct (buffer, offsets, map over (b, h, m, d)), so
  // that k (read by the retrieve and the update) is staged once.
  DenseMap<OpOperand *, unsigned> stageOf;
  SmallVector<Stage> stages;
  SmallVector<Value> sources;
  AffineMap bhdmToCanonical = dimsMap(ctx, {0, 1, 3, 2});
  for (linalg::GenericOp g : {retrieve, update, readout})
    for (OpOperand *in : g.getDpsInputOperands()) {
      if (in->get() == S || in->get() == rBuf)
        continue;
      if (in->get() == oBuf || in->get() == yBuf) {
        why = "a step generic reads the readout";
        return failure();
      }
      std::optional<TokenRead> r = tokenRead(in->get(), loop, why);
      if (!r)
        return failure();
      Stage st;
      st.read = *r;
      st.map = g.getMatchingIndexingMap(in);
      if (g == update)
        st.map = st.map.compose(bhdmToCanonical);
      st.usesM = st.map.isFunctionOfDim(2);
      st.usesD = st.map.isFunctionOfDim(3);
      if (st.usesM && st.usesD) {
        why = "a per-token input depends on both the key row and the value "
              "column (not stageable per token)";
        return failure();
      }
      st.elem = cast<MemRefType>(r->source.getType()).getElementType();
      if (!st.elem.isIntOrFloat()) {
        why = "a per-token input's element type is not a scalar";
        return failure();
      }
      auto same = llvm::find_if(stages, [&](const Stage &o) {
        return o.read.source == st.read.source &&
               o.read.offsets == st.read.offsets &&
               o.read.dropped == st.read.dropped && o.map == st.map;
      });
      stageOf[in] = same - stages.begin();
      if (same == stages.end())
        stages.push_back(st);
      sources.push_back(r->source);
    }

  // The body ops that depend only on the head's per-token inputs (the
  // gate's exp): every thread of the block computed them for every token.
  // They are computed once per token in the staging step instead, by the
  // same ops on the same values (bitwise the same results), and staged;
  // the per-token body reads the staged value in place of each value of
  // them that a not-hoisted op uses. Equal chains (the retrieve's and the
  // update's exp(g)) share one staged value.
  DenseSet<Operation *> hoisted;
  DenseMap<Operation *, unsigned> derivedOf;
  unsigned rawStages = stages.size();
  // Round two of the staging (these hoisted ops, k / q as 4-vectors, the
  // 48 KiB budget) is the experimental form scan-hoist-vector (not yet run
  // on a GPU); off, round one's kernel (run on a GPU).
  bool roundTwo = options.experimental.scanHoistVector;
  for (linalg::GenericOp g : {retrieve, update, readout}) {
    if (!roundTwo)
      break;
    Block &gb = g.getRegion().front();
    DenseSet<Value> perHead;
    for (OpOperand *in : g.getDpsInputOperands()) {
      auto it = stageOf.find(in);
      if (it != stageOf.end() && !stages[it->second].usesM &&
          !stages[it->second].usesD)
        perHead.insert(gb.getArgument(in->getOperandNumber()));
    }
    SmallVector<Operation *> mine;
    for (Operation &op : gb.without_terminator()) {
      Type t = op.getNumResults() == 1 ? op.getResult(0).getType() : Type();
      if (!t || !t.isIntOrFloat() || t.getIntOrFloatBitWidth() < 8 ||
          !isPure(&op) || op.getNumRegions() != 0)
        continue;
      bool perToken = false, inBody = false;
      for (Value x : op.getOperands()) {
        if (perHead.contains(x))
          perToken = true;
        else if (x.getParentBlock() == &gb)
          inBody = true;
      }
      if (!perToken || inBody)
        continue;
      perHead.insert(op.getResult(0));
      hoisted.insert(&op);
      mine.push_back(&op);
    }
    // A structural key of a hoisted value: ops, attributes, types, staged
    // inputs and outside values, so equal chains of two bodies match.
    std::function<void(Value, SmallVector<const void *> &)> keyOf =
        [&](Value v, SmallVector<const void *> &key) {
          if (auto arg = dyn_cast<BlockArgument>(v);
              arg && arg.getOwner() == &gb) {
            key.push_back(nullptr);
            key.push_back(reinterpret_cast<const void *>(
                uintptr_t(stageOf.at(&g->getOpOperand(arg.getArgNumber())))));
            return;
          }
          Operation *op = v.getDefiningOp();
          if (!op || op->getBlock() != &gb) {
            key.push_back(v.getAsOpaquePointer());
            return;
          }
          key.push_back(op->getName().getAsOpaquePointer());
          key.push_back(op->getAttrDictionary().getAsOpaquePointer());
          key.push_back(v.getType().getAsOpaquePointer());
          key.push_back(
              reinterpret_cast<const void *>(uintptr_t(op->getNumOperands())));
          for (Value x : op->getOperands())
            keyOf(x, key);
        };
    for (Operation *op : mine) {
      if (llvm::all_of(op->getUsers(),
                       [&](Operation *u) { return hoisted.contains(u); }))
        continue;
      SmallVector<const void *> key;
      keyOf(op->getResult(0), key);
      auto same = llvm::find_if(llvm::drop_begin(stages, rawStages),
                                [&](const Stage &o) { return o.key == key; });
      derivedOf[op] = same - stages.begin();
      if (same != stages.end())
        continue;
      Stage st;
      st.from = g;
      st.derived = op;
      st.elem = op->getResult(0).getType();
      st.key = key;
      stages.push_back(st);
    }
  }

  // The kernel reads the inputs of every token before writing the state
  // and all output rows: neither may share bytes with an input.
  std::optional<Buf> sBuf = bufOf(S), dBuf = bufOf(dst->source);
  if (!sBuf || !dBuf) {
    why = "the state or output buffer is not a static view";
    return failure();
  }
  if (overlap(*sBuf, *dBuf)) {
    why = "the state and the output may share bytes";
    return failure();
  }
  for (Value s : sources) {
    std::optional<Buf> b = bufOf(s);
    if (!b || overlap(*b, *sBuf) || overlap(*b, *dBuf)) {
      why = "a per-token input may share bytes with the state or output";
      return failure();
    }
  }
  // The scratch rows are not written: nothing after the loop may read them.
  for (Value scratch : {rBuf, oBuf, yBuf}) {
    std::optional<Buf> b = bufOf(scratch);
    if (!b || readAfter(*b, loop.getOperation())) {
      why = "a per-token scratch buffer may be read after the loop";
      return failure();
    }
  }

  if (Dk % kGroups != 0 || Dk / kGroups > kMaxRowsPerThread) {
    why = llvm::formatv("Dk = {0} does not split into {1} row groups of at "
                        "most {2} rows",
                        Dk, kGroups, kMaxRowsPerThread);
    return failure();
  }
  int64_t cols = 32 / kGroups, R = Dk / kGroups;
  if (Dv % cols != 0) {
    why = llvm::formatv("Dv = {0} is not a multiple of {1} columns per warp",
                        Dv, cols);
    return failure();
  }
  int64_t warps = kMaxWarps;
  while ((Dv / cols) % warps != 0)
    warps /= 2;
  int64_t tiles = Dv / (cols * warps);
  int64_t threads = 32 * warps, mTile = cols * warps;
  // Values per token of each staged input, then the chunk: the largest
  // power of two up to kChunk whose two buffers fit kMaxStageBytes.
  for (Stage &st : stages) {
    st.extent = st.usesD ? Dk : st.usesM ? mTile : 1;
    // A thread's rows of k / q as R / kVec vector loads: the groups' runs
    // of rows at a pitch of an odd number of vectors put the 8 groups of a
    // warp's load on distinct banks (lanes of a group share the address).
    if (roundTwo && st.usesD && R % kVec == 0 &&
        st.elem.getIntOrFloatBitWidth() == 32) {
      st.vec = kVec;
      st.pitch = (R / kVec) % 2 ? R : R + kVec;
      st.extent = kGroups * st.pitch;
    }
  }
  auto stageBytes = [&](int64_t c) {
    int64_t bytes = 0;
    for (const Stage &st : stages)
      bytes += 2 * llvm::divideCeil(c * st.extent / st.vec, threads) * threads *
               st.vec * ((st.elem.getIntOrFloatBitWidth() + 7) / 8);
    return bytes;
  };
  int64_t maxStageBytes = roundTwo ? kMaxStageBytes : kMaxStageBytesRoundOne;
  int64_t C = std::min<int64_t>(kChunk, T);
  while (C > 1 && stageBytes(C) > maxStageBytes)
    C /= 2;
  if (stageBytes(C) > maxStageBytes) {
    why = llvm::formatv("one token's inputs ({0} bytes, double-buffered) do "
                        "not fit the {1}-byte staging budget",
                        stageBytes(1), maxStageBytes);
    return failure();
  }
  for (Stage &st : stages)
    st.slots = llvm::divideCeil(C * st.extent / st.vec, threads);
  int64_t chunks = llvm::divideCeil(T, C);
  int64_t chains = std::min<int64_t>(kChains, R);
  std::optional<double> r0 = fillValue(fillR), o0 = fillValue(fillO);
  if (!r0 || !o0) {
    why = "a reduction's fill value is not a constant";
    return failure();
  }

  Location loc = loop.getLoc();
  rw.setInsertionPoint(loop);
  auto idx = [&](OpBuilder &b, int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  auto workgroup = gpu::AddressSpaceAttr::get(
      ctx, gpu::GPUDialect::getWorkgroupAddressSpace());
  SmallVector<Type> attributions;
  for (const Stage &st : stages)
    attributions.push_back(MemRefType::get(
        {2 * st.slots * threads},
        st.vec > 1 ? Type(VectorType::get({st.vec}, st.elem)) : st.elem,
        MemRefLayoutAttrInterface(), workgroup));
  Value one = idx(rw, 1);
  auto launch = gpu::LaunchOp::create(
      rw, loc, idx(rw, tiles), idx(rw, H), idx(rw, B), idx(rw, threads), one,
      one, /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
      /*asyncDependencies=*/{}, /*workgroupAttributions=*/attributions);
  launch->setAttr(
      "sinter.kernel",
      rw.getStringAttr(
          roundTwo
              ? llvm::formatv("gated_delta_scan t={0} b={1} h={2} dk={3} "
                              "dv={4} grid={5}x{2}x{1} block={6} "
                              "rows_per_thread={7} chunk={8} staged={9} "
                              "hoisted={10} shared={11}",
                              T, B, H, Dk, Dv, tiles, threads, R, C, rawStages,
                              stages.size() - rawStages, stageBytes(C))
                    .str()
              : llvm::formatv("gated_delta_scan t={0} b={1} h={2} dk={3} "
                              "dv={4} grid={5}x{2}x{1} block={6} "
                              "rows_per_thread={7} chunk={8} staged={9} "
                              "shared={10}",
                              T, B, H, Dk, Dv, tiles, threads, R, C,
                              stages.size(), stageBytes(C))
                    .str()));
  Block &body = launch.getBody().front();
  rw.setInsertionPointToStart(&body);
  gpu::TerminatorOp::create(rw, loc);
  rw.setInsertionPointToStart(&body);

  Value tid = launch.getThreadIds().x;
  Value bb = launch.getBlockIds().z, hh = launch.getBlockIds().y;
  Value c32 = idx(rw, 32), cCols = idx(rw, cols), zero = idx(rw, 0);
  Value warp = arith::DivUIOp::create(rw, loc, tid, c32);
  Value lane = arith::RemUIOp::create(rw, loc, tid, c32);
  Value group = arith::DivUIOp::create(rw, loc, lane, cCols);
  Value tileBase =
      arith::MulIOp::create(rw, loc, launch.getBlockIds().x, idx(rw, mTile));
  Value mLocal = arith::AddIOp::create(
      rw, loc, arith::MulIOp::create(rw, loc, warp, cCols),
      arith::RemUIOp::create(rw, loc, lane, cCols));
  Value m = arith::AddIOp::create(rw, loc, tileBase, mLocal);
  // Rows group + G i: the groups of a column read adjacent rows (the
  // state's loads, and the staged k / q: 8 consecutive shared words a
  // warp, no bank conflict).
  SmallVector<Value> rows;
  for (int64_t i = 0; i < R; ++i)
    rows.push_back(
        arith::AddIOp::create(rw, loc, group, idx(rw, kGroups * i)));
  SmallVector<Value> init;
  for (Value d : rows)
    init.push_back(
        memref::LoadOp::create(rw, loc, S, ValueRange{bb, hh, d, m}));
  Value firstGroup = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq,
                                           group, idx(rw, 0));

  // The staging: the block loads chunk c + 1's inputs into registers (slot
  // k of a thread: element k * threads + tid of the chunk, consecutive
  // threads at consecutive rows / columns) before computing chunk c, and
  // stores them to the other shared buffer after it, so the loads' latency
  // hides behind C tokens of arithmetic. Past the chunk's elements or the
  // last token the index is clamped (a valid load whose value no token
  // reads).
  auto stageLoads = [&](OpBuilder &b, Value chunkStart) {
    SmallVector<Value> vals;
    for (const Stage &st : stages) {
      if (st.derived)
        continue;
      if (st.vec > 1) {
        // Slot k: the vector k * threads + tid of the chunk, rows
        // group + G (i0 + e) of one token (a padding value past row R - 1:
        // a clamped load no token reads).
        Value units = idx(b, st.extent / st.vec);
        for (int64_t k = 0; k < st.slots; ++k) {
          Value u = arith::MinUIOp::create(
              b, loc, arith::AddIOp::create(b, loc, idx(b, k * threads), tid),
              idx(b, C * st.extent / st.vec - 1));
          Value tok = arith::MinUIOp::create(
              b, loc,
              arith::AddIOp::create(b, loc, chunkStart,
                                    arith::DivUIOp::create(b, loc, u, units)),
              idx(b, T - 1));
          Value p0 = arith::MulIOp::create(
              b, loc, arith::RemUIOp::create(b, loc, u, units), idx(b, st.vec));
          Value g0 = arith::DivUIOp::create(b, loc, p0, idx(b, st.pitch));
          Value i0 = arith::RemUIOp::create(b, loc, p0, idx(b, st.pitch));
          SmallVector<Value> elems;
          for (int64_t e = 0; e < st.vec; ++e) {
            Value i = arith::MinUIOp::create(
                b, loc, arith::AddIOp::create(b, loc, i0, idx(b, e)),
                idx(b, R - 1));
            Value d = arith::AddIOp::create(
                b, loc, g0, arith::MulIOp::create(b, loc, i, idx(b, kGroups)));
            Value dims[4] = {bb, hh, zero, d};
            SmallVector<Value> at;
            for (AffineExpr x : st.map.getResults())
              at.push_back(expand(b, loc, x, dims));
            elems.push_back(load(b, loc, st.read, at, tok));
          }
          vals.push_back(vector::FromElementsOp::create(
              b, loc, VectorType::get({st.vec}, st.elem), elems));
        }
        continue;
      }
      Value ext = idx(b, st.extent);
      for (int64_t k = 0; k < st.slots; ++k) {
        Value e = arith::MinUIOp::create(
            b, loc,
            arith::AddIOp::create(b, loc, idx(b, k * threads), tid),
            idx(b, C * st.extent - 1));
        Value tl = arith::DivUIOp::create(b, loc, e, ext);
        Value j = arith::RemUIOp::create(b, loc, e, ext);
        Value tok = arith::MinUIOp::create(
            b, loc, arith::AddIOp::create(b, loc, chunkStart, tl),
            idx(b, T - 1));
        Value dims[4] = {
            bb, hh,
            st.usesM ? arith::AddIOp::create(b, loc, tileBase, j).getResult()
                     : zero,
            st.usesD ? j : zero};
        SmallVector<Value> at;
        for (AffineExpr x : st.map.getResults())
          at.push_back(expand(b, loc, x, dims));
        vals.push_back(load(b, loc, st.read, at, tok));
      }
    }
    return vals;
  };
  // The hoisted values are computed here, after the chunk's tokens (their
  // inputs' loads had the chunk to arrive).
  auto stageStores = [&](OpBuilder &b, ArrayRef<Value> raw, Value buf) {
    SmallVector<Value> vals(raw);
    SmallVector<unsigned> first; // each stage's first value in vals
    unsigned n = 0;
    for (const Stage &st : stages) {
      first.push_back(n);
      n += st.slots;
    }
    for (const Stage &st : stages) {
      if (st.derived) {
        // Slot k of a head value holds the same token in every such stage
        // (extent 1): the hoisted ops run on the raw slot-k values.
        linalg::GenericOp from = st.from;
        Block &gb = from.getRegion().front();
        for (int64_t k = 0; k < st.slots; ++k) {
          IRMapping map;
          for (OpOperand *in : from.getDpsInputOperands()) {
            auto it = stageOf.find(in);
            if (it != stageOf.end() && !stages[it->second].usesM &&
                !stages[it->second].usesD)
              map.map(gb.getArgument(in->getOperandNumber()),
                      vals[first[it->second] + k]);
          }
          for (Operation &op : gb.without_terminator()) {
            if (hoisted.contains(&op))
              b.clone(op, map);
            if (&op == st.derived)
              break;
          }
          vals.push_back(map.lookup(st.derived->getResult(0)));
        }
      }
    }
    n = 0;
    for (auto [s, st] : llvm::enumerate(stages)) {
      Value base =
          arith::MulIOp::create(b, loc, buf, idx(b, st.slots * threads));
      for (int64_t k = 0; k < st.slots; ++k)
        memref::StoreOp::create(
            b, loc, vals[n++], launch.getWorkgroupAttributions()[s],
            ValueRange{arith::AddIOp::create(
                b, loc, base,
                arith::AddIOp::create(b, loc, idx(b, k * threads), tid))});
    }
  };

  // One generic body at one element: inputs substituted (state, retrieved
  // vector, staged values), the init block argument bound to `out`.
  auto apply = [&](OpBuilder &b, linalg::GenericOp g, Value out,
                   llvm::function_ref<Value(OpOperand *)> substitute,
                   llvm::function_ref<Value(unsigned, int64_t)> stagedAt) {
    Block &gb = g.getRegion().front();
    IRMapping map;
    for (OpOperand *in : g.getDpsInputOperands())
      map.map(gb.getArgument(in->getOperandNumber()), substitute(in));
    map.map(gb.getArguments().back(), out);
    for (Operation &op : gb.without_terminator()) {
      if (!hoisted.contains(&op)) {
        b.clone(op, map);
        continue;
      }
      // Computed in the staging step: only the values the rest reads.
      auto it = derivedOf.find(&op);
      if (it != derivedOf.end())
        map.map(op.getResult(0), stagedAt(it->second, -1));
    }
    return map.lookupOrDefault(gb.getTerminator()->getOperand(0));
  };
  auto warpSum = [&](OpBuilder &b, Value v) {
    for (int64_t off = cols; off < 32; off *= 2)
      v = arith::AddFOp::create(
          b, loc, v,
          gpu::ShuffleOp::create(b, loc, v, off, /*width=*/32,
                                 gpu::ShuffleMode::XOR)
              .getShuffleResult());
    return v;
  };
  auto startOf = [&](OpBuilder &b, double fill) -> Value {
    // The fill is added once per column: by the first row group.
    return arith::SelectOp::create(
        b, loc, firstGroup,
        arith::ConstantOp::create(b, loc, b.getF32FloatAttr(fill)),
        arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0)));
  };

  // One token: tl-th of the chunk in shared buffer `buf`.
  auto tokenStep = [&](OpBuilder &b, Value t, Value tl, Value buf,
                       ValueRange s) {
    // A staged value at key row i (or the column / head value), loaded
    // from shared memory once per token.
    DenseMap<std::pair<unsigned, int64_t>, Value> cache, vectors;
    auto stagedAt = [&](unsigned si, int64_t i) -> Value {
      const Stage &st = stages[si];
      if (st.vec > 1) {
        // Rows i of the thread: element i % vec of its vector i / vec.
        auto [it, fresh] = vectors.try_emplace({si, i / st.vec}, Value());
        if (fresh) {
          Value at = arith::AddIOp::create(
              b, loc,
              arith::MulIOp::create(b, loc, buf, idx(b, st.slots * threads)),
              arith::MulIOp::create(b, loc, tl, idx(b, st.extent / st.vec)));
          at = arith::AddIOp::create(
              b, loc, at,
              arith::AddIOp::create(
                  b, loc,
                  arith::MulIOp::create(b, loc, group,
                                        idx(b, st.pitch / st.vec)),
                  idx(b, i / st.vec)));
          it->second = memref::LoadOp::create(
              b, loc, launch.getWorkgroupAttributions()[si], ValueRange{at});
        }
        return vector::ExtractOp::create(b, loc, it->second, i % st.vec);
      }
      int64_t key = st.usesD ? i : -1;
      auto [it, fresh] = cache.try_emplace({si, key}, Value());
      if (!fresh)
        return it->second;
      Value at = arith::AddIOp::create(
          b, loc,
          arith::MulIOp::create(b, loc, buf, idx(b, st.slots * threads)),
          arith::MulIOp::create(b, loc, tl, idx(b, st.extent)));
      if (st.usesD || st.usesM)
        at = arith::AddIOp::create(b, loc, at, st.usesD ? rows[i] : mLocal);
      it->second = memref::LoadOp::create(
          b, loc, launch.getWorkgroupAttributions()[si], ValueRange{at});
      return it->second;
    };
    auto staged = [&](OpOperand *in, int64_t i) {
      return stagedAt(stageOf.at(in), i);
    };
    // A sum over the thread's rows in `chains` independent partial sums
    // (row i into sum i % chains; the fill in the first), then added
    // pairwise: a short dependent chain instead of R additions in a row.
    // Each row is the body's `out + term` on its partial sum.
    auto rowSum = [&](linalg::GenericOp g, double fill,
                      llvm::function_ref<Value(int64_t)> stateAt) {
      SmallVector<Value> acc(chains);
      acc[0] = startOf(b, fill);
      for (int64_t c = 1; c < chains; ++c)
        // -0 is the identity of addition (x + -0 = x for every x, +0
        // included), so the first term's addition folds away.
        acc[c] = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(-0.0));
      for (int64_t i = 0; i < R; ++i)
        acc[i % chains] = apply(
            b, g, acc[i % chains],
            [&](OpOperand *in) -> Value {
              return in->get() == S ? stateAt(i) : staged(in, i);
            },
            stagedAt);
      while (acc.size() > 1) {
        SmallVector<Value> half;
        for (size_t k = 0; k + 1 < acc.size(); k += 2)
          half.push_back(arith::AddFOp::create(b, loc, acc[k], acc[k + 1]));
        if (acc.size() % 2)
          half.push_back(acc.back());
        acc = std::move(half);
      }
      return warpSum(b, acc[0]);
    };
    Value r = rowSum(retrieve, *r0, [&](int64_t i) { return s[i]; });
    SmallVector<Value> next;
    for (int64_t i = 0; i < R; ++i)
      next.push_back(apply(
          b, update, s[i],
          [&](OpOperand *in) -> Value {
            return in->get() == rBuf ? r : staged(in, i);
          },
          stagedAt));
    Value o = rowSum(readout, *o0, [&](int64_t i) { return next[i]; });
    // Every row group holds the same sum (the xor butterfly adds the same
    // two values in each lane of a pair, and addition commutes exactly),
    // so all of them store it: one address per column, no branch.
    Block &ob = output.getRegion().front();
    IRMapping omap;
    omap.map(ob.getArgument(0), o);
    for (Operation &op : ob.without_terminator())
      b.clone(op, omap);
    Value y = omap.lookupOrDefault(ob.getTerminator()->getOperand(0));
    // The row's linear index, then its place in the copy's target.
    Value lin = arith::AddIOp::create(
        b, loc,
        arith::MulIOp::create(
            b, loc,
            arith::AddIOp::create(
                b, loc, arith::MulIOp::create(b, loc, bb, idx(b, H)), hh),
            idx(b, Dv)),
        m);
    ArrayRef<int64_t> shape = dstType.getShape();
    SmallVector<Value> rev;
    for (int k = int(shape.size()) - 1; k >= 0; --k) {
      rev.push_back(
          k > 0 ? arith::RemUIOp::create(b, loc, lin, idx(b, shape[k]))
                      .getResult()
                : lin);
      if (k > 0)
        lin = arith::DivUIOp::create(b, loc, lin, idx(b, shape[k]));
    }
    SmallVector<Value> at(rev.rbegin(), rev.rend()), full;
    unsigned k = 0;
    for (auto [i, off] : llvm::enumerate(dst->offsets)) {
      Value base = ShapedType::isDynamic(off) ? t : idx(b, off);
      full.push_back(dst->dropped.test(i)
                         ? base
                         : arith::AddIOp::create(b, loc, base, at[k++])
                               .getResult());
    }
    memref::StoreOp::create(b, loc, y, dst->source, full);
    return next;
  };

  stageStores(rw, stageLoads(rw, zero), zero);
  gpu::BarrierOp::create(rw, loc);
  auto chunkLoop = scf::ForOp::create(
      rw, loc, zero, idx(rw, chunks), one, init,
      [&](OpBuilder &b, Location, Value c, ValueRange s) {
        Value start = arith::MulIOp::create(b, loc, c, idx(b, C));
        Value buf = arith::RemUIOp::create(b, loc, c, idx(b, 2));
        SmallVector<Value> ahead = stageLoads(
            b, arith::AddIOp::create(b, loc, start, idx(b, C)));
        Value count = arith::MinUIOp::create(
            b, loc, idx(b, C),
            arith::SubIOp::create(b, loc, idx(b, T), start));
        // Two tokens an iteration: the readout of the first (its own
        // shuffles and store) is independent of the second's retrieve, and
        // in one block the scheduler overlaps them. An odd count's last
        // token after the loop.
        auto step = [&](OpBuilder &ib, Value tl, ValueRange st) {
          Value t = arith::AddIOp::create(ib, loc, start, tl);
          return tokenStep(ib, t, tl, buf, st);
        };
        auto pairs = scf::ForOp::create(
            b, loc, zero, arith::DivUIOp::create(b, loc, count, idx(b, 2)),
            one, s, [&](OpBuilder &ib, Location, Value p, ValueRange st) {
              Value tl = arith::MulIOp::create(ib, loc, p, idx(ib, 2));
              SmallVector<Value> mid = step(ib, tl, st);
              scf::YieldOp::create(
                  ib, loc,
                  step(ib, arith::AddIOp::create(ib, loc, tl, idx(ib, 1)),
                       mid));
            });
        Value odd = arith::CmpIOp::create(
            b, loc, arith::CmpIPredicate::ne,
            arith::RemUIOp::create(b, loc, count, idx(b, 2)), zero);
        auto inner = scf::IfOp::create(
            b, loc, odd,
            [&](OpBuilder &ib, Location) {
              scf::YieldOp::create(
                  ib, loc,
                  step(ib, arith::SubIOp::create(ib, loc, count, idx(ib, 1)),
                       pairs.getResults()));
            },
            [&](OpBuilder &ib, Location) {
              scf::YieldOp::create(ib, loc, pairs.getResults());
            });
        // Every thread is past chunk c - 1 (the last barrier), so the
        // other buffer is free; the barrier publishes chunk c + 1.
        stageStores(b, ahead, arith::SubIOp::create(b, loc, one, buf));
        gpu::BarrierOp::create(b, loc);
        scf::YieldOp::create(b, loc, inner.getResults());
      });
  for (int64_t i = 0; i < R; ++i)
    memref::StoreOp::create(rw, loc, chunkLoop.getResult(i), S,
                            ValueRange{bb, hh, rows[i], m});
  rw.eraseOp(loop);
  return success();
}

} // namespace sinter::cuda
