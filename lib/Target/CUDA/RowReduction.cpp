//===- RowReduction.cpp - row kernels: reductions over the last dim --------===//
//
// See Kernels.h. A "row group" is a run of consecutive bufferized linalg ops
// over the same rows (the same parallel leading loops, the same length L of
// the last loop) that contains at least one reduction of that last loop:
// RMSNorm (sum of squares, then x * rsqrt(mean + eps) * w), softmax (max,
// sum of exp, normalize), a plain reduce_sum/mean/max. The group becomes ONE
// gpu.launch, or none: rows longer than 64 that fit in registers take
// RowRegisters.cpp (a block per row, 16-byte vectors, each input read
// once; a one-row group feeding a GEMV runs inside it). Here, the others:
// a warp per row (short rows, 8 rows per block) or a 256-thread block per
// row. Members run in program order as phases separated by
// barriers; in each phase thread t handles the row's elements t, t + T, ...
// (strided loads). A reduction keeps per-thread partials (f32 for
// f16/bf16 accumulators), combines them with gpu.shuffle xor inside each
// warp and through shared memory across warps, and one thread stores the
// row's result (combined with the init value, or with the fill that
// initialized the output, which is absorbed).
//
// The group passes over an all-parallel op over other rows that shares no
// byte with the members before it in a way that orders them (a write on
// either side), whose body only loads: that op moves above the group once
// the group is taken (bench8's attention mask sits between the embedding
// gather and layer 0's norm; passed over, the gather joins the norm in
// the in_proj GEMV's prologue).
//
// Correctness across blocks: a row's phases may only read what the group
// writes for that same row (maps whose leading results are the row dims,
// the same buffer value), and must not read or write, at other rows, memory
// the group writes; every other buffer access must be provably disjoint
// from the group's writes (different buffers, or disjoint byte ranges of
// the memory plan's arena).
//
//===----------------------------------------------------------------------===//

#include "RowGroup.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Debug.h"
#include "llvm/Support/FormatVariadic.h"

#include "llvm/ADT/SetVector.h"

#include <functional>

#define DEBUG_TYPE "sinter-cuda-kernels"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;


namespace sinter::cuda {
namespace rows {

/// Whether `op` has no memory effect (views, constants, index math).
bool isViewOrPure(Operation *op) {
  return isMemoryEffectFree(op) ||
         isa<memref::ViewOp, memref::SubViewOp, memref::ExpandShapeOp,
             memref::CollapseShapeOp, memref::GetGlobalOp,
             memref::ReinterpretCastOp, memref::CastOp>(op);
}

Extent extentOf(Value v) {
  Extent e;
  while (true) {
    Operation *def = v.getDefiningOp();
    if (auto view = dyn_cast_or_null<memref::ViewOp>(def)) {
      auto type = view.getType();
      auto off = getConstantIntValue(view.getByteShift());
      if (off && type.hasStaticShape() &&
          type.getElementType().isIntOrFloat()) {
        e.begin = *off;
        e.end = *off + type.getNumElements() *
                           ((type.getElementTypeBitWidth() + 7) / 8);
      }
      v = view.getSource();
      continue;
    }
    if (auto g = dyn_cast_or_null<memref::GetGlobalOp>(def)) {
      e.global = def;
      e.base = v;
      return e;
    }
    if (def && isa<memref::SubViewOp, memref::ExpandShapeOp,
                   memref::CollapseShapeOp, memref::ReinterpretCastOp,
                   memref::CastOp>(def)) {
      // Reshapes cover the bytes of their source, subviews a part of them:
      // the source's range is a safe bound.
      v = def->getOperand(0);
      continue;
    }
    e.base = v;
    return e;
  }
}

bool mayOverlap(const Extent &a, const Extent &b) {
  if (a.global && b.global)
    return cast<memref::GetGlobalOp>(a.global).getName() ==
           cast<memref::GetGlobalOp>(b.global).getName();
  if (a.global || b.global)
    return false;
  if (a.base != b.base) {
    // Distinct allocations do not alias; distinct function arguments only
    // when their types differ: state donation passes an input's buffer for
    // the output of the same shape (docs/architecture.md).
    if (isa<BlockArgument>(a.base) && isa<BlockArgument>(b.base))
      return a.base.getType() == b.base.getType();
    return !(a.base.getDefiningOp<memref::AllocOp>() &&
             b.base.getDefiningOp<memref::AllocOp>());
  }
  return a.begin < b.end && b.begin < a.end;
}

Value identity(OpBuilder &b, Location loc, Combiner kind) {
  float v = 0;
  switch (kind) {
  case Combiner::Add:
    v = 0;
    break;
  case Combiner::Mul:
    v = 1;
    break;
  case Combiner::Max:
  case Combiner::MaxNum:
    v = -std::numeric_limits<float>::infinity();
    break;
  case Combiner::Min:
  case Combiner::MinNum:
    v = std::numeric_limits<float>::infinity();
    break;
  }
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
}

Value combine(OpBuilder &b, Location loc, Combiner kind, Value x, Value y) {
  switch (kind) {
  case Combiner::Add:
    return arith::AddFOp::create(b, loc, x, y);
  case Combiner::Mul:
    return arith::MulFOp::create(b, loc, x, y);
  case Combiner::Max:
    return arith::MaximumFOp::create(b, loc, x, y);
  case Combiner::Min:
    return arith::MinimumFOp::create(b, loc, x, y);
  case Combiner::MaxNum:
    return arith::MaxNumFOp::create(b, loc, x, y);
  case Combiner::MinNum:
    return arith::MinNumFOp::create(b, loc, x, y);
  }
  return {};
}

Value toF32(OpBuilder &b, Location loc, Value v) {
  if (v.getType().isF32())
    return v;
  return arith::ExtFOp::create(b, loc, b.getF32Type(), v);
}

/// Loads of operand indices: `map` applied to the loop values.
SmallVector<Value> indicesOf(OpBuilder &b, Location loc, AffineMap map,
                             ArrayRef<Value> ivs) {
  SmallVector<Value> idx;
  for (AffineExpr e : map.getResults()) {
    if (auto d = dyn_cast<AffineDimExpr>(e))
      idx.push_back(ivs[d.getPosition()]);
    else // memberOf admits projected permutations: dims and zeros.
      idx.push_back(arith::ConstantIndexOp::create(
          b, loc, cast<AffineConstantExpr>(e).getValue()));
  }
  return idx;
}

/// The body of `m` at loop values `ivs`, the reduction's combiner left out.
/// Returns the yielded values (for a reduction: its contribution).
SmallVector<Value> emitBody(OpBuilder &b, Location loc, Member &m,
                            ArrayRef<Value> ivs) {
  linalg::LinalgOp op = m.op;
  Block *body = op.getBlock();
  IRMapping map;
  for (OpOperand &operand : op->getOpOperands()) {
    BlockArgument arg = op.getMatchingBlockArgument(&operand);
    if (arg.use_empty() || (m.reduction && op.isDpsInit(&operand)))
      continue;
    SmallVector<Value> idx =
        indicesOf(b, loc, op.getMatchingIndexingMap(&operand), ivs);
    map.map(arg, memref::LoadOp::create(b, loc, operand.get(), idx));
  }
  for (Operation &inner : body->without_terminator()) {
    if (&inner == m.combineOp)
      continue;
    if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
      map.map(index.getResult(), ivs[index.getDim()]);
      continue;
    }
    b.clone(inner, map);
  }
  if (m.reduction)
    return {map.lookup(m.contribution)};
  SmallVector<Value> out;
  for (Value v : body->getTerminator()->getOperands())
    out.push_back(map.lookupOrDefault(v));
  return out;
}

/// Combines `v` across the 32 lanes of each warp (every lane gets the
/// result).
Value warpReduce(OpBuilder &b, Location loc, Combiner kind, Value v) {
  for (int32_t offset = 16; offset >= 1; offset /= 2) {
    auto shuffle = gpu::ShuffleOp::create(b, loc, v, offset, /*width=*/32,
                                          gpu::ShuffleMode::XOR);
    v = combine(b, loc, kind, v, shuffle.getShuffleResult());
  }
  return v;
}

} // namespace rows

namespace {
using namespace rows;

std::string str(int64_t v) { return std::to_string(v); }

/// The row structure of `op`, or a reason.
FailureOr<Rows> rowsOf(linalg::LinalgOp op, std::string &why) {
  if (!op.hasPureBufferSemantics()) {
    why = "not on buffers";
    return failure();
  }
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (ranges.empty() || llvm::any_of(ranges, ShapedType::isDynamic)) {
    why = "no loops or a dynamic loop range";
    return failure();
  }
  auto iters = op.getIteratorTypesArray();
  for (size_t i = 0; i + 1 < iters.size(); ++i)
    if (iters[i] != utils::IteratorType::parallel) {
      why = "reduction loop " + str(i) +
            " is not the innermost loop (only innermost reductions form rows)";
      return failure();
    }
  Rows rows;
  rows.shape.assign(ranges.begin(), ranges.end() - 1);
  rows.length = ranges.back();
  return rows;
}

/// Whether the leading results of `map` are the row dims d0..dP-1.
bool rowLocal(AffineMap map, unsigned numRowDims) {
  if (map.getNumResults() < numRowDims)
    return false;
  for (unsigned i = 0; i < numRowDims; ++i) {
    auto d = dyn_cast<AffineDimExpr>(map.getResult(i));
    if (!d || d.getPosition() != i)
      return false;
  }
  return true;
}

/// Finds the combiner of a one-output reduction body, or a reason.
LogicalResult matchCombiner(Member &m, std::string &why) {
  linalg::LinalgOp op = m.op;
  if (op.getNumDpsInits() != 1) {
    why = "reduction with " + str(op.getNumDpsInits()) +
          " outputs (argmax/argmin keep an index: not handled)";
    return failure();
  }
  Block *body = op.getBlock();
  BlockArgument acc = body->getArguments().back();
  Type accType = acc.getType();
  if (!accType.isF32() && !accType.isF16() && !accType.isBF16()) {
    why = "accumulator type is not f32, f16 or bf16";
    return failure();
  }
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  Operation *combine = yield.getOperand(0).getDefiningOp();
  if (!combine || combine->getBlock() != body ||
      combine->getNumOperands() != 2) {
    why = "the yielded value is not a binary combiner";
    return failure();
  }
  std::optional<Combiner> kind =
      llvm::TypeSwitch<Operation *, std::optional<Combiner>>(combine)
          .Case([](arith::AddFOp) { return Combiner::Add; })
          .Case([](arith::MulFOp) { return Combiner::Mul; })
          .Case([](arith::MaximumFOp) { return Combiner::Max; })
          .Case([](arith::MinimumFOp) { return Combiner::Min; })
          .Case([](arith::MaxNumFOp) { return Combiner::MaxNum; })
          .Case([](arith::MinNumFOp) { return Combiner::MinNum; })
          .Default([](Operation *) { return std::nullopt; });
  if (!kind) {
    why = "combiner '" + combine->getName().getStringRef().str() +
          "' is not addf, mulf, maximumf, minimumf, maxnumf or minnumf";
    return failure();
  }
  Value other;
  if (combine->getOperand(0) == acc)
    other = combine->getOperand(1);
  else if (combine->getOperand(1) == acc)
    other = combine->getOperand(0);
  if (!other || other == acc || !acc.hasOneUse()) {
    why = "the accumulator is used by more than the combiner";
    return failure();
  }
  m.kind = *kind;
  m.combineOp = combine;
  m.contribution = other;
  return success();
}

/// A member over `rows`, or a reason. `first` is true for the op that the
/// group starts from.
FailureOr<Member> memberOf(linalg::LinalgOp op, const Rows *rows,
                           std::string &why) {
  if (!isa<linalg::GenericOp>(op)) {
    why = "not a linalg.generic ('" + op->getName().getStringRef().str() +
          "')";
    return failure();
  }
  if (rows && op.getNumLoops() == rows->shape.size() &&
      op.getNumLoops() == op.getNumParallelLoops() &&
      op.getStaticLoopRanges() == rows->shape) {
    Member m;
    m.op = op;
    m.perRow = true;
    for (OpOperand &operand : op->getOpOperands())
      if (!op.getMatchingIndexingMap(&operand).isProjectedPermutation(true)) {
        why = "operand " + str(operand.getOperandNumber()) +
              " has an indexing map that is not a projected permutation";
        return failure();
      }
    for (OpOperand &init : op.getDpsInitsMutable())
      if (!op.getMatchingIndexingMap(&init).isIdentity()) {
        why = "a per-row output not written in loop order";
        return failure();
      }
    return m;
  }
  FailureOr<Rows> r = rowsOf(op, why);
  if (failed(r))
    return failure();
  if (rows && (r->shape != rows->shape || r->length != rows->length)) {
    why = "other rows than the group's";
    return failure();
  }
  Member m;
  m.op = op;
  m.reduction = op.getNumReductionLoops() == 1;
  unsigned p = r->shape.size();
  for (OpOperand &init : op.getDpsInitsMutable()) {
    AffineMap map = op.getMatchingIndexingMap(&init);
    bool ok = m.reduction ? map == AffineMap::getMultiDimIdentityMap(
                                       op.getNumLoops(), op.getContext())
                                       .getMajorSubMap(p)
                          : map.isIdentity();
    if (!ok) {
      why = "output " + str(init.getOperandNumber()) +
            " is not written in loop order (row-major, one element per "
            "iteration)";
      return failure();
    }
  }
  for (OpOperand *in : op.getDpsInputOperands())
    if (!op.getMatchingIndexingMap(in).isProjectedPermutation(
            /*allowZeroInResults=*/true)) {
      why = "input " + str(in->getOperandNumber()) +
            " has an indexing map that is not a projected permutation";
      return failure();
    }
  if (m.reduction) {
    if (failed(matchCombiner(m, why)))
      return failure();
    // A contraction (two inputs varying along the row, one of them shared
    // by all rows) belongs to the GEMM/GEMV templates.
    int64_t varying = 0;
    bool shared = false;
    unsigned last = op.getNumLoops() - 1;
    for (OpOperand *in : op.getDpsInputOperands()) {
      AffineMap map = op.getMatchingIndexingMap(in);
      if (!map.isFunctionOfDim(last))
        continue;
      ++varying;
      shared |= !rowLocal(map, p) && p > 0;
    }
    if (varying > 1 && shared) {
      why = "a contraction (an operand shared by all rows): left to the "
            "GEMM/GEMV templates";
      return failure();
    }
  }
  return m;
}

/// The memrefs `op` reads and writes: its operands, and the buffers its
/// body loads from (captured from above, e.g. an embedding table); false
/// when its body has any other memory effect.
bool accessesOf(linalg::LinalgOp op, SmallVectorImpl<Value> &reads,
                SmallVectorImpl<Value> &writes) {
  for (OpOperand *in : op.getDpsInputOperands())
    if (isa<MemRefType>(in->get().getType()))
      reads.push_back(in->get());
  for (OpOperand &init : op.getDpsInitsMutable()) {
    reads.push_back(init.get());
    writes.push_back(init.get());
  }
  WalkResult r = op->walk([&](Operation *inner) {
    if (inner == op.getOperation() || isMemoryEffectFree(inner))
      return WalkResult::advance();
    if (auto load = dyn_cast<memref::LoadOp>(inner)) {
      reads.push_back(load.getMemRef());
      return WalkResult::advance();
    }
    return WalkResult::interrupt();
  });
  return !r.wasInterrupted();
}

/// Whether `op`, an all-parallel op, may move above `start`: it shares no
/// byte with what the group's members so far (all between `start` and
/// `op`) read or write in a way that orders them (a write on either side),
/// its body only loads, and every op between `start` and `op` that defines
/// one of its operands is a view or pure op (moved with it). Appends the
/// ops to move (in order, `op` last) to `moves`.
bool canHoist(linalg::LinalgOp op, Operation *start,
              MutableArrayRef<Member> members,
              SmallVectorImpl<Operation *> &moves) {
  if (op.getNumLoops() != op.getNumParallelLoops())
    return false;
  SmallVector<Value> opReads, opWrites;
  if (!accessesOf(op, opReads, opWrites))
    return false;
  for (Member &m : members) {
    SmallVector<Value> reads, writes;
    if (!accessesOf(m.op, reads, writes))
      return false;
    if (m.fill)
      writes.push_back(m.fill.getOutputs()[0]);
    auto clash = [](ArrayRef<Value> a, ArrayRef<Value> b) {
      for (Value x : a)
        for (Value y : b)
          if (mayOverlap(extentOf(x), extentOf(y)))
            return true;
      return false;
    };
    if (clash(opWrites, reads) || clash(opWrites, writes) ||
        clash(opReads, writes))
      return false;
  }
  // Its operands' definitions between `start` and `op`, in order.
  SmallVector<Operation *> defs;
  llvm::SmallPtrSet<Operation *, 8> seen;
  std::function<bool(Value)> need = [&](Value v) {
    Operation *d = v.getDefiningOp();
    if (!d || d->getBlock() != op->getBlock() || d->isBeforeInBlock(start))
      return true; // defined above the group
    if (d == start)
      return false;
    if (!seen.insert(d).second)
      return true;
    if (!isViewOrPure(d) || d->getNumRegions())
      return false;
    for (Value o : d->getOperands())
      if (!need(o))
        return false;
    defs.push_back(d);
    return true;
  };
  for (Value v : op->getOperands())
    if (!need(v))
      return false;
  // Values from above used in the body (the table of a gather).
  bool ok = true;
  op->walk([&](Operation *inner) {
    for (Value v : inner->getOperands())
      if (!op->getRegion(0).isAncestor(v.getParentRegion()) && !need(v))
        ok = false;
  });
  if (!ok)
    return false;
  llvm::sort(defs,
             [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
  llvm::append_range(moves, defs);
  moves.push_back(op);
  return true;
}

} // namespace

LogicalResult emitRowReduction(RewriterBase &rw, linalg::LinalgOp start,
                               const KernelOptions &options, std::string &why) {
  // Collect the group: the start op and the ops after it over the same rows
  // (pure view ops in between are skipped; fills are absorbed when they
  // initialize a member reduction's output).
  SmallVector<Member> members;
  SmallVector<linalg::FillOp> pendingFills;
  SmallVector<Operation *> hoists;
  std::optional<Rows> rows;
  std::string firstWhy;
  Block *block = start->getBlock();
  for (Operation *cur = start, *next = nullptr;
       cur && cur != block->getTerminator(); cur = next) {
    next = cur->getNextNode();
    if (cur != start.getOperation() && isViewOrPure(cur))
      continue;
    if (auto fill = dyn_cast<linalg::FillOp>(cur)) {
      if (!fill.hasPureBufferSemantics())
        break;
      pendingFills.push_back(fill);
      continue;
    }
    auto op = dyn_cast<linalg::LinalgOp>(cur);
    if (!op)
      break;
    std::string memberWhy;
    FailureOr<Member> m = memberOf(op, rows ? &*rows : nullptr, memberWhy);
    if (failed(m)) {
      if (members.empty())
        firstWhy = memberWhy;
      // An op over other rows that touches nothing the group has touched
      // so far moves above the group, which goes on after it (bench8's
      // attention mask between the embedding gather and layer 0's norm).
      // (Moved once the group is taken, below.)
      if (!members.empty() && pendingFills.empty() &&
          canHoist(op, start.getOperation(), members, hoists))
        continue;
      break;
    }
    if (!rows)
      rows = *rowsOf(op, memberWhy);
    // A fill before this op: absorbed into this reduction when it writes
    // its output buffer, else the group stops before it.
    if (!pendingFills.empty()) {
      if (!m->reduction || pendingFills.size() != 1 ||
          pendingFills.front().getOutputs()[0] !=
              m->op.getDpsInits()[0] ||
          pendingFills.front().value().getType() !=
              getElementTypeOrSelf(m->op.getDpsInits()[0].getType()))
        break;
      m->fill = pendingFills.front();
      pendingFills.clear();
    }
    members.push_back(*m);
  }
  if (members.empty()) {
    why = firstWhy.empty() ? "not a row reduction" : firstWhy;
    return failure();
  }
  // The op FormKernels gave us must be in the group (it may be a fill).
  if (!isa<linalg::FillOp>(start.getOperation()) &&
      members.front().op != start) {
    why = "not a row reduction";
    return failure();
  }
  auto hasReduction = [](MutableArrayRef<Member> group) {
    return llvm::any_of(group, [](Member &m) { return m.reduction; });
  };
  // The group needs a reduction: elementwise ops alone gain nothing here.
  if (!hasReduction(members)) {
    why = isa<linalg::FillOp>(start.getOperation())
              ? "a fill not followed by a row reduction of its buffer"
              : "elementwise ops not followed by a reduction over the same "
                "rows";
    return failure();
  }
  if (isa<linalg::FillOp>(start.getOperation()) && !members.front().fill) {
    why = "a fill not followed by a row reduction of its buffer";
    return failure();
  }
  // The ops the group passed over go above it: its kernel may be emitted
  // anywhere from its first member to the op after its last.
  // Each op once, in its original order (two passed-over ops may share a
  // view).
  llvm::SetVector<Operation *> unique(hoists.begin(), hoists.end());
  SmallVector<Operation *> ordered(unique.begin(), unique.end());
  llvm::sort(ordered,
             [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
  for (Operation *op : ordered)
    rw.moveOpBefore(op, start);

  // Memory safety across blocks: shrink the group until every access is
  // row-local or disjoint from what the group writes.
  unsigned p = rows->shape.size();
  auto safe = [&](MutableArrayRef<Member> group) -> bool {
    SmallVector<std::pair<Value, Extent>> written;
    for (Member &m : group)
      for (Value out : m.op.getDpsInits())
        written.push_back({out, extentOf(out)});
    for (Member &m : group)
      for (OpOperand &operand : m.op->getOpOperands()) {
        Extent e = extentOf(operand.get());
        bool local = rowLocal(m.op.getMatchingIndexingMap(&operand), p);
        for (auto &[value, extent] : written) {
          if (!mayOverlap(e, extent))
            continue;
          // The same buffer, or two arguments that may be one (donation):
          // fine when both are accessed at the row only.
          bool same = value == operand.get() ||
                      (isa<BlockArgument>(value) &&
                       isa<BlockArgument>(operand.get()) &&
                       value.getType() == operand.get().getType());
          if (!same || !local)
            return false;
        }
      }
    return true;
  };
  size_t n = members.size();
  while (n > 0 && !safe(MutableArrayRef(members).take_front(n)))
    --n;
  members.resize(n);
  if (!hasReduction(members)) {
    why = "its buffers may alias what it writes at other rows (cannot "
          "prove the rows independent)";
    return failure();
  }

  // Rows longer than a warp's that fit in registers: a block per row that
  // reads each input once.
  if (rows->length > 64)
    if (succeeded(
            emitRegisterRows(rw, members, *rows, options, start.getLoc()))) {
      for (Member &m : members) {
        if (m.fill)
          rw.eraseOp(m.fill);
        rw.eraseOp(m.op);
      }
      return success();
    }

  // Launch shape.
  int64_t rowCount = rows->count();
  int64_t length = rows->length;
  bool warpPerRow = length <= 64;
  int64_t threads = warpPerRow ? 256 : (length >= 2048 ? 256 : 128);
  int64_t lanes = warpPerRow ? 32 : threads; // threads per row
  int64_t rowsPerBlock = warpPerRow ? threads / 32 : 1;
  int64_t blocks = (rowCount + rowsPerBlock - 1) / rowsPerBlock;
  int64_t warps = threads / 32;

  Location loc = start.getLoc();
  // After the last member: the views between members dominate the launch.
  rw.setInsertionPointAfter(members.back().op);
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(rw, loc, v);
  };
  Value one = idx(1);
  auto scratchType = MemRefType::get(
      {warps}, rw.getF32Type(), MemRefLayoutAttrInterface{},
      gpu::AddressSpaceAttr::get(rw.getContext(),
                                 gpu::AddressSpace::Workgroup));
  auto launch = gpu::LaunchOp::create(
      rw, loc, idx(blocks), one, one, idx(threads), one, one,
      /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
      /*asyncDependencies=*/{}, /*workgroupAttributions=*/
      warpPerRow ? TypeRange{} : TypeRange{scratchType});
  launch->setAttr("sinter.kernel",
                  rw.getStringAttr(llvm::formatv(
                      "rows count={0} length={1} threads={2} {3} members={4}",
                      rowCount, length, threads,
                      warpPerRow ? "warp-per-row" : "strided", members.size())));
  Block &body = launch.getBody().front();
  rw.setInsertionPointToStart(&body);
  gpu::TerminatorOp::create(rw, loc);
  rw.setInsertionPointToStart(&body);

  Value tid = launch.getThreadIds().x, bid = launch.getBlockIds().x;
  Value c32 = idx(32);
  Value row = warpPerRow
                  ? arith::AddIOp::create(
                        rw, loc, arith::MulIOp::create(rw, loc, bid,
                                                       idx(rowsPerBlock)),
                        arith::DivUIOp::create(rw, loc, tid, c32))
                  : bid;
  Value lane = warpPerRow ? arith::RemUIOp::create(rw, loc, tid, c32) : tid;
  Value valid = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, row,
                                      idx(rowCount));
  // Rows past the end (the last block of warp-per-row) run no iterations
  // but reach every barrier.
  Value upper =
      arith::SelectOp::create(rw, loc, valid, idx(length), idx(0));
  // The row's leading loop values.
  SmallVector<Value> rowIvs(p);
  {
    Value rest = row;
    for (int k = int(p) - 1; k >= 0; --k) {
      rowIvs[k] = k > 0 ? arith::RemUIOp::create(rw, loc, rest,
                                                 idx(rows->shape[k]))
                        : rest;
      if (k > 0)
        rest = arith::DivUIOp::create(rw, loc, rest, idx(rows->shape[k]));
    }
  }
  Value step = idx(lanes);
  Value scratch;
  if (!warpPerRow)
    scratch = launch.getWorkgroupAttributions().front();

  for (Member &m : members) {
    if (m.perRow) {
      Value writer = arith::AndIOp::create(
          rw, loc, valid,
          arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq, lane,
                                idx(0)));
      auto ifOp = scf::IfOp::create(rw, loc, writer, false);
      OpBuilder::InsertionGuard guard(rw);
      rw.setInsertionPointToStart(ifOp.thenBlock());
      SmallVector<Value> values = emitBody(rw, loc, m, rowIvs);
      for (auto [out, v] : llvm::zip(m.op.getDpsInitsMutable(), values))
        memref::StoreOp::create(
            rw, loc, v, out.get(),
            indicesOf(rw, loc, m.op.getMatchingIndexingMap(&out), rowIvs));
    } else if (!m.reduction) {
      auto loop = scf::ForOp::create(rw, loc, lane, upper, step);
      OpBuilder::InsertionGuard guard(rw);
      rw.setInsertionPointToStart(loop.getBody());
      SmallVector<Value> ivs(rowIvs);
      ivs.push_back(loop.getInductionVar());
      SmallVector<Value> values = emitBody(rw, loc, m, ivs);
      for (auto [out, v] : llvm::zip(m.op.getDpsInitsMutable(), values))
        memref::StoreOp::create(
            rw, loc, v, out.get(),
            indicesOf(rw, loc, m.op.getMatchingIndexingMap(&out), ivs));
    } else {
      Value init = identity(rw, loc, m.kind);
      auto loop = scf::ForOp::create(rw, loc, lane, upper, step, init);
      {
        OpBuilder::InsertionGuard guard(rw);
        rw.setInsertionPointToStart(loop.getBody());
        SmallVector<Value> ivs(rowIvs);
        ivs.push_back(loop.getInductionVar());
        Value c = toF32(rw, loc, emitBody(rw, loc, m, ivs).front());
        Value next = combine(rw, loc, m.kind, loop.getRegionIterArg(0), c);
        scf::YieldOp::create(rw, loc, next);
      }
      Value partial = warpReduce(rw, loc, m.kind, loop.getResult(0));
      if (!warpPerRow) {
        // Lane 0 of each warp publishes; every thread combines them.
        Value warp = arith::DivUIOp::create(rw, loc, tid, c32);
        Value first = arith::CmpIOp::create(
            rw, loc, arith::CmpIPredicate::eq,
            arith::RemUIOp::create(rw, loc, tid, c32), idx(0));
        auto publish = scf::IfOp::create(rw, loc, first, false);
        {
          OpBuilder::InsertionGuard guard(rw);
          rw.setInsertionPointToStart(publish.thenBlock());
          memref::StoreOp::create(rw, loc, partial, scratch, warp);
        }
        gpu::BarrierOp::create(rw, loc);
        Value all = memref::LoadOp::create(rw, loc, scratch, idx(0)).getResult();
        for (int64_t w = 1; w < warps; ++w)
          all = combine(rw, loc, m.kind, all,
                        memref::LoadOp::create(rw, loc, scratch, idx(w)));
        partial = all;
      }
      // One thread per row stores init (or the absorbed fill) combined
      // with the row's value.
      Value out = m.op.getDpsInits()[0];
      Type accType = cast<MemRefType>(out.getType()).getElementType();
      Value writer = arith::AndIOp::create(
          rw, loc, valid,
          arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq, lane,
                                idx(0)));
      auto store = scf::IfOp::create(rw, loc, writer, false);
      {
        OpBuilder::InsertionGuard guard(rw);
        rw.setInsertionPointToStart(store.thenBlock());
        Value before = m.fill ? m.fill.value()
                              : memref::LoadOp::create(rw, loc, out, rowIvs)
                                    .getResult();
        Value result = combine(rw, loc, m.kind, toF32(rw, loc, before),
                               partial);
        if (!accType.isF32())
          result = arith::TruncFOp::create(rw, loc, accType, result);
        memref::StoreOp::create(rw, loc, result, out, rowIvs);
      }
    }
    // The next phase reads what this one wrote (and reuses the scratch).
    if (&m != &members.back())
      gpu::BarrierOp::create(rw, loc);
  }

  for (Member &m : members) {
    if (m.fill)
      rw.eraseOp(m.fill);
    rw.eraseOp(m.op);
  }
  return success();
}

} // namespace sinter::cuda
