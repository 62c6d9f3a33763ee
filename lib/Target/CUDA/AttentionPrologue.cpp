//===- AttentionPrologue.cpp - ops before a decode attention, per block ---===//
//
// See AttentionPrologue.h. The ops between the kernel that produces the
// packed q/k/v row (the QKV GEMV) and the decode attention are many and
// tiny (a few thousand elements each), so each costs a launch, not
// bandwidth. The split attention kernel replays them instead: each of its
// blocks runs every absorbed op over its whole iteration space with all of
// its threads (a barrier between ops that share a buffer), on copies in
// shared memory of the buffers they write. A buffer written once, by an
// elementwise op over the whole buffer whose inputs do not change
// afterwards (a cast, a transpose, the normalization after the RMS), is
// not stored at all: where it is read, its writer's body is cloned at
// that element. The bodies are cloned, so
// the arithmetic is the generic path's; only the order of the f32 adds of
// a reduction (a warp per output, then shuffles) differs.
//
//===----------------------------------------------------------------------===//

#include "AttentionPrologue.h"
#include "GemmBuffers.h"
#include "sinter/Target/CUDA/CUDATarget.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;

namespace sinter::cuda {
namespace {

/// Largest iteration space of an absorbed op, and of all shared buffers
/// together (bytes; the attention's own shared memory comes on top).
constexpr int64_t kMaxIterations = 1 << 16, kMaxSharedBytes = 40 * 1024;

bool isViewOp(Operation *op) {
  return isa<memref::SubViewOp, memref::ExpandShapeOp,
             memref::CollapseShapeOp, memref::CastOp, memref::ReshapeOp>(op);
}

bool isViewOrPure(Operation *op) {
  return op->getNumRegions() == 0 &&
         (isMemoryEffectFree(op) || isViewOp(op) ||
          isa<memref::ViewOp, memref::GetGlobalOp,
              memref::ReinterpretCastOp>(op));
}

/// Every op that uses `root` or a view of it.
void usersOf(Value root, SmallVectorImpl<Operation *> &out) {
  for (OpOperand &use : root.getUses()) {
    Operation *u = use.getOwner();
    if (isViewOp(u) && use.getOperandNumber() == 0) {
      for (Value r : u->getResults())
        usersOf(r, out);
      continue;
    }
    out.push_back(u);
  }
}

/// A buffer of the arena the prologue may keep to itself: a memref.view
/// with a static identity layout.
bool isArenaBuffer(Value root) {
  auto type = dyn_cast<MemRefType>(root.getType());
  return root.getDefiningOp<memref::ViewOp>() && type &&
         type.hasStaticShape() && type.getLayout().isIdentity() &&
         type.getElementType().isIntOrFloat();
}

/// The memrefs `op` reads and writes (the loads of a body included).
void accesses(Operation *op, SmallVectorImpl<Value> &reads,
              SmallVectorImpl<Value> &writes) {
  if (auto copy = dyn_cast<memref::CopyOp>(op)) {
    reads.push_back(copy.getSource());
    writes.push_back(copy.getTarget());
    return;
  }
  auto linalgOp = cast<linalg::LinalgOp>(op);
  for (OpOperand &operand : op->getOpOperands()) {
    if (!isa<MemRefType>(operand.get().getType()))
      continue;
    if (linalgOp.isDpsInit(&operand)) {
      writes.push_back(operand.get());
      if (!linalgOp.getMatchingBlockArgument(&operand).use_empty())
        reads.push_back(operand.get());
    } else {
      reads.push_back(operand.get());
    }
  }
  linalgOp.getBlock()->walk(
      [&](memref::LoadOp load) { reads.push_back(load.getMemRef()); });
}

bool isSumBody(linalg::LinalgOp op) {
  Block *body = op.getBlock();
  BlockArgument acc = body->getArguments().back();
  auto add =
      body->getTerminator()->getOperand(0).getDefiningOp<arith::AddFOp>();
  return add && add->getBlock() == body && acc.hasOneUse() &&
         (add.getLhs() == acc || add.getRhs() == acc) &&
         add.getLhs() != add.getRhs();
}

/// Whether the body has no effect but loads.
bool pureBody(linalg::LinalgOp op) {
  bool ok = true;
  op.getBlock()->walk([&](Operation *inner) {
    if (!isMemoryEffectFree(inner) && !isa<memref::LoadOp>(inner) &&
        !inner->hasTrait<OpTrait::IsTerminator>())
      ok = false;
  });
  return ok;
}

/// Whether the kernel can run `op` (reason in `why` otherwise): an
/// all-parallel linalg op, a sum over its innermost loop into f32, or a
/// copy, of static shape and at most kMaxIterations iterations.
bool absorbable(Operation *op, std::string &why) {
  std::string name = op->getName().getStringRef().str();
  if (auto copy = dyn_cast<memref::CopyOp>(op)) {
    auto s = cast<MemRefType>(copy.getSource().getType());
    auto t = cast<MemRefType>(copy.getTarget().getType());
    if (!s.hasStaticShape() || s.getShape() != t.getShape() ||
        t.getNumElements() > kMaxIterations) {
      why = "'" + name + "' is not a small static copy";
      return false;
    }
    return true;
  }
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  if (!linalgOp || !linalgOp.hasPureBufferSemantics() ||
      linalgOp.getNumDpsInits() != 1 || !pureBody(linalgOp)) {
    why = "'" + name + "' is not a linalg op on buffers with one output";
    return false;
  }
  SmallVector<int64_t> ranges = linalgOp.getStaticLoopRanges();
  int64_t n = 1;
  for (int64_t r : ranges) {
    if (ShapedType::isDynamic(r)) {
      why = "'" + name + "' has dynamic loop ranges";
      return false;
    }
    n *= r;
  }
  if (n > kMaxIterations) {
    why = "'" + name + "' has " + std::to_string(n) +
          " iterations (too many to repeat in every block)";
    return false;
  }
  for (AffineMap m : linalgOp.getIndexingMapsArray())
    for (AffineExpr e : m.getResults())
      if (!e.isPureAffine()) {
        why = "'" + name + "' has a semi-affine indexing map";
        return false;
      }
  unsigned reductions = linalgOp.getNumReductionLoops();
  if (reductions == 0)
    return true;
  auto initType = cast<MemRefType>(linalgOp.getDpsInits()[0].getType());
  // A contraction (two operands: the projection that produces q) is a
  // kernel of its own, read once rather than once per block.
  if (reductions != 1 || linalgOp.getNumDpsInputs() != 1 ||
      linalgOp.getIteratorTypesArray().back() !=
          utils::IteratorType::reduction ||
      !initType.getElementType().isF32() || !isSumBody(linalgOp)) {
    why = "'" + name + "' is a reduction other than an f32 sum of one "
                       "operand over its innermost loop";
    return false;
  }
  return true;
}

Value cst(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

/// The value of an affine expression (dims, constants, +, * and floordiv /
/// mod by constants) at non-negative `ivs`.
Value evalExpr(OpBuilder &b, Location loc, AffineExpr e, ArrayRef<Value> ivs) {
  if (auto d = dyn_cast<AffineDimExpr>(e))
    return ivs[d.getPosition()];
  if (auto c = dyn_cast<AffineConstantExpr>(e))
    return cst(b, loc, c.getValue());
  auto bin = cast<AffineBinaryOpExpr>(e);
  Value l = evalExpr(b, loc, bin.getLHS(), ivs);
  Value r = evalExpr(b, loc, bin.getRHS(), ivs);
  switch (bin.getKind()) {
  case AffineExprKind::Add:
    return arith::AddIOp::create(b, loc, l, r);
  case AffineExprKind::Mul:
    return arith::MulIOp::create(b, loc, l, r);
  case AffineExprKind::FloorDiv:
    return arith::DivUIOp::create(b, loc, l, r);
  case AffineExprKind::Mod:
    return arith::RemUIOp::create(b, loc, l, r);
  default:
    return arith::CeilDivUIOp::create(b, loc, l, r);
  }
}

SmallVector<Value> evalMap(OpBuilder &b, Location loc, AffineMap map,
                           ArrayRef<Value> ivs) {
  SmallVector<Value> out;
  for (AffineExpr e : map.getResults())
    out.push_back(evalExpr(b, loc, e, ivs));
  return out;
}

/// Row-major indices of `lin` in `shape`.
SmallVector<Value> delinearize(OpBuilder &b, Location loc, Value lin,
                               ArrayRef<int64_t> shape) {
  SmallVector<Value> ivs(shape.size());
  for (int64_t i = shape.size() - 1; i >= 0; --i) {
    if (i == 0) {
      ivs[i] = lin;
      break;
    }
    ivs[i] = arith::RemUIOp::create(b, loc, lin, cst(b, loc, shape[i]));
    lin = arith::DivUIOp::create(b, loc, lin, cst(b, loc, shape[i]));
  }
  return ivs;
}

/// Clones the body of `op` at `ivs`, its block arguments loaded through
/// their maps (scalars bound as they are, `acc` for the output when given);
/// returns the yielded value.
Value cloneAt(OpBuilder &b, Location loc, linalg::LinalgOp op,
              ArrayRef<Value> ivs, Value acc = nullptr) {
  Block *body = op.getBlock();
  IRMapping mapping;
  for (OpOperand &operand : op->getOpOperands()) {
    BlockArgument arg = op.getMatchingBlockArgument(&operand);
    if (arg.use_empty())
      continue;
    if (acc && op.isDpsInit(&operand)) {
      mapping.map(arg, acc);
      continue;
    }
    if (!isa<MemRefType>(operand.get().getType())) {
      mapping.map(arg, operand.get());
      continue;
    }
    mapping.map(arg, memref::LoadOp::create(
                         b, loc, operand.get(),
                         evalMap(b, loc, op.getMatchingIndexingMap(&operand),
                                 ivs)));
  }
  for (Operation &inner : body->without_terminator()) {
    if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
      mapping.map(index.getResult(), ivs[index.getDim()]);
      continue;
    }
    b.clone(inner, mapping);
  }
  return mapping.lookupOrDefault(body->getTerminator()->getOperand(0));
}

/// A loop `for i = tid; i < n; i += step` with the insertion point in it.
Value strided(OpBuilder &b, Location loc, Value from, int64_t n,
              int64_t step) {
  auto loop = scf::ForOp::create(b, loc, from, cst(b, loc, n), cst(b, loc, step));
  b.setInsertionPointToStart(loop.getBody());
  return loop.getInductionVar();
}

/// The element offset of `memref[indices]` from the start of its root.
std::optional<Value> linearIndex(OpBuilder &b, Location loc, Value memref,
                                 ValueRange indices) {
  auto type = cast<MemRefType>(memref.getType());
  SmallVector<int64_t> strides;
  int64_t offset = 0;
  if (failed(type.getStridesAndOffset(strides, offset)) ||
      ShapedType::isDynamic(offset) ||
      llvm::any_of(strides, ShapedType::isDynamic))
    return std::nullopt;
  for (Operation *def = memref.getDefiningOp(); def && isViewOp(def);
       def = def->getOperand(0).getDefiningOp())
    if (isa<memref::ReshapeOp>(def))
      return std::nullopt;
  Value lin = cst(b, loc, offset);
  for (auto [i, s] : llvm::zip(indices, strides))
    lin = arith::AddIOp::create(b, loc, lin,
                                arith::MulIOp::create(b, loc, i, cst(b, loc, s)));
  return lin;
}

} // namespace

bool AttentionPrologue::writes(Value buffer) const {
  Value root = viewSource(buffer);
  return shared.contains(root) || inlined.contains(root);
}

SmallVector<MemRefType> AttentionPrologue::sharedTypes(MLIRContext *ctx) const {
  SmallVector<MemRefType> types;
  for (auto &entry : shared) {
    auto t = cast<MemRefType>(entry.first.getType());
    types.push_back(MemRefType::get(
        {t.getNumElements()}, t.getElementType(), MemRefLayoutAttrInterface{},
        gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup)));
  }
  return types;
}

FailureOr<AttentionPrologue>
matchAttentionPrologue(Operation *chainStart, ArrayRef<Value> consumed,
                       ArrayRef<Operation *> kept, bool &candidate,
                       std::string &why) {
  llvm::SmallPtrSet<Operation *, 32> keptSet(kept.begin(), kept.end());
  llvm::SetVector<Value> needed;
  for (Value v : consumed)
    needed.insert(viewSource(v));
  SmallVector<Operation *> absorbed, skipped;
  std::string stop;
  for (Operation *cur = chainStart->getPrevNode(); cur;
       cur = cur->getPrevNode()) {
    if (isViewOrPure(cur) || keptSet.contains(cur))
      continue;
    if (!isa<linalg::LinalgOp, memref::CopyOp>(cur)) {
      stop = "'" + cur->getName().getStringRef().str() + "'";
      break;
    }
    SmallVector<Value> reads, writes;
    accesses(cur, reads, writes);
    bool writesNeeded = llvm::any_of(
        writes, [&](Value w) { return needed.contains(viewSource(w)); });
    if (!writesNeeded) {
      skipped.push_back(cur);
      continue;
    }
    std::string whyNot;
    if (!absorbable(cur, whyNot)) {
      stop = whyNot;
      break;
    }
    absorbed.push_back(cur);
    for (Value r : reads)
      needed.insert(viewSource(r));
  }
  if (absorbed.empty()) {
    why = "nothing before the attention computes its query" +
          (stop.empty() ? std::string() : " (stopped at " + stop + ")");
    return failure();
  }
  candidate = true;
  AttentionPrologue p;
  p.ops.assign(absorbed.rbegin(), absorbed.rend());
  llvm::DenseMap<Operation *, unsigned> position;
  for (auto [i, op] : llvm::enumerate(p.ops))
    position[op] = i;

  // The buffers written, each by a first op that covers it whole.
  llvm::MapVector<Value, SmallVector<Operation *>> writers;
  for (Operation *op : p.ops) {
    SmallVector<Value> reads, writes;
    accesses(op, reads, writes);
    for (Value w : writes) {
      Value root = viewSource(w);
      if (!isArenaBuffer(root)) {
        why = "'" + op->getName().getStringRef().str() +
              "' before the attention writes a buffer other than an "
              "activation of the arena";
        return failure();
      }
      auto &list = writers[root];
      if (list.empty() && cast<MemRefType>(w.getType()).getNumElements() !=
                              cast<MemRefType>(root.getType()).getNumElements()) {
        why = "'" + op->getName().getStringRef().str() +
              "' writes part of a buffer it does not initialize";
        return failure();
      }
      list.push_back(op);
    }
  }
  // Reads of a written buffer come after its first writer; everything
  // else read is an external.
  llvm::SetVector<Value> externals;
  for (Operation *op : p.ops) {
    SmallVector<Value> reads, writes;
    accesses(op, reads, writes);
    for (Value r : reads) {
      Value root = viewSource(r);
      auto it = writers.find(root);
      if (it == writers.end()) {
        externals.insert(root);
        continue;
      }
      // (Its first writer must not read it: nothing initialized it.)
      if (position[it->second.front()] >= position[op]) {
        why = "'" + op->getName().getStringRef().str() +
              "' reads a buffer before the prologue writes it";
        return failure();
      }
    }
  }
  p.externals.assign(externals.begin(), externals.end());
  // Nothing else reads what the prologue writes (it no longer reaches
  // global memory): the buffers' other users (the memory plan reuses
  // them, and one view serves every op of its offset and type) come
  // before the prologue, or after the attention and after an op that
  // writes the whole buffer again.
  llvm::SmallPtrSet<Operation *, 32> allowed(p.ops.begin(), p.ops.end());
  allowed.insert(kept.begin(), kept.end());
  Block *block = chainStart->getBlock();
  Operation *last = chainStart;
  for (Operation *k : kept)
    if (k && k->getBlock() == block && last->isBeforeInBlock(k))
      last = k;
  auto rewritesWhole = [&](Operation *op, Value root) {
    auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
    if (!linalgOp || linalgOp.getNumDpsInits() != 1 ||
        !linalgOp.hasPureBufferSemantics())
      return false;
    Value init = linalgOp.getDpsInits()[0];
    if (viewSource(init) != root ||
        cast<MemRefType>(init.getType()).getNumElements() !=
            cast<MemRefType>(root.getType()).getNumElements() ||
        !linalgOp.getBlock()->getArguments().back().use_empty())
      return false;
    SmallVector<Value> reads, writes;
    accesses(op, reads, writes);
    return llvm::none_of(reads,
                         [&](Value r) { return viewSource(r) == root; });
  };
  for (auto &entry : writers) {
    SmallVector<Operation *> users;
    usersOf(entry.first, users);
    for (Operation *u : users) {
      Operation *top = block->findAncestorOpInBlock(*u);
      if (allowed.contains(u) || (top && allowed.contains(top)) ||
          (top && top->isBeforeInBlock(p.ops.front())))
        continue;
      bool redefined = false;
      if (top && last->isBeforeInBlock(top))
        for (Operation *mid = last; mid; mid = mid->getNextNode()) {
          // (`top` itself may be the op that writes it whole, and so may
          // the last kept op, whose kernel still writes its output.)
          if (rewritesWhole(mid, entry.first)) {
            redefined = true;
            break;
          }
          if (mid == top)
            break;
        }
      if (!redefined) {
        std::string at;
        llvm::raw_string_ostream os(at);
        u->getLoc().print(os);
        why = "'" + u->getName().getStringRef().str() + "' at " + at +
              " also reads a buffer the prologue writes";
        return failure();
      }
    }
  }
  // The ops left in place between the prologue and the attention run
  // before it now: they must not write what it reads.
  for (Operation *op : skipped) {
    if (op->isBeforeInBlock(p.ops.front()))
      continue;
    SmallVector<Value> reads, writes;
    accesses(op, reads, writes);
    for (Value w : writes)
      for (Value e : p.externals) {
        auto wa = dyn_cast<BlockArgument>(viewSource(w));
        auto ea = dyn_cast<BlockArgument>(e);
        if (mayOverlap(w, e) || (wa && ea && argumentsMayAlias(wa, ea))) {
          why = "'" + op->getName().getStringRef().str() +
                "' between the prologue and the attention writes what the "
                "prologue reads";
          return failure();
        }
      }
  }
  // Inline the buffers written once, whole, by an elementwise op whose
  // inputs are final by then.
  for (auto &entry : writers) {
    Value root = entry.first;
    auto writer = dyn_cast<linalg::LinalgOp>(entry.second.front());
    if (entry.second.size() != 1 || !writer ||
        writer.getNumReductionLoops() != 0 ||
        writer.getDpsInits()[0] != root ||
        !writer.getMatchingIndexingMap(writer.getDpsInitOperand(0))
             .isIdentity() ||
        !writer.getBlock()->getArguments().back().use_empty())
      continue;
    SmallVector<Value> reads, writes;
    accesses(writer, reads, writes);
    bool final = true;
    for (Value r : reads) {
      auto it = writers.find(viewSource(r));
      if (it != writers.end() &&
          llvm::any_of(it->second, [&](Operation *w) {
            return position[w] > position[writer];
          }))
        final = false;
    }
    if (final)
      p.inlined[root] = writer;
  }
  int64_t bytes = 0;
  for (auto &entry : writers) {
    if (p.inlined.contains(entry.first))
      continue;
    auto t = cast<MemRefType>(entry.first.getType());
    bytes += t.getNumElements() *
             ((t.getElementType().getIntOrFloatBitWidth() + 7) / 8);
    p.shared.insert({entry.first, p.shared.size()});
  }
  if (bytes > kMaxSharedBytes) {
    why = "the prologue's buffers need " + std::to_string(bytes) +
          " bytes of shared memory (at most " +
          std::to_string(kMaxSharedBytes) + ")";
    return failure();
  }
  for (Operation *op : p.ops) {
    auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
    if (!linalgOp || !p.inlined.contains(linalgOp.getDpsInits()[0]) ||
        p.inlined.lookup(linalgOp.getDpsInits()[0]) != op)
      p.replayed.push_back(op);
  }
  return p;
}

/// One absorbed op over its whole iteration space by the block's threads
/// (no barrier).
static void emitReplayOf(RewriterBase &rw, Location loc, Operation *op,
                         Value tid, int64_t threads, int64_t warps);

/// The buffers (roots) `op` reads, through the inlined buffers it reads
/// (recomputed from their writer's inputs), and writes.
static void replayAccesses(const AttentionPrologue &p, Operation *op,
                           llvm::DenseSet<Value> &reads,
                           llvm::DenseSet<Value> &writes) {
  SmallVector<Value> r, w;
  accesses(op, r, w);
  for (Value x : w)
    writes.insert(viewSource(x));
  SmallVector<Value> work;
  for (Value x : r)
    work.push_back(viewSource(x));
  while (!work.empty()) {
    Value root = work.pop_back_val();
    if (!reads.insert(root).second)
      continue;
    if (Operation *writer = p.inlined.lookup(root)) {
      SmallVector<Value> r2, w2;
      accesses(writer, r2, w2);
      for (Value x : r2)
        work.push_back(viewSource(x));
    }
  }
}

/// Largest buffer the prologue prefetch asks for (bytes): the RoPE tables
/// the prologue reads one row of are whole buffers (64 KB each in bench8).
constexpr int64_t kMaxPrefetchBytes = 1 << 20;

/// The prologue prefetch (KernelOptions::attentionProloguePrefetch, on by
/// default since 2026-11-27, tenth session: bench8 decode 0.8321 ->
/// 0.8313 ms on an H100; an experimental form before): thread 0 starts an
/// L2 bulk prefetch (cp.async.bulk.prefetch, sm_90 and later) of every
/// buffer the absorbed ops read from outside, before the first of them.
/// Why: the replay is a chain of ops, and each op whose input is a weight
/// (the norms' scales, the RoPE tables: evicted from L2 by the step's
/// weight stream) waits a DRAM round trip of its own (bench8, H100: the
/// prologue costs about 9 us of each 23-26 us attention launch; ncu: long
/// scoreboard stalls 39%); prefetched together, they wait about one. Only
/// buffers of static contiguous shape whose base is known 16-byte aligned,
/// their 16-byte multiple (the rest is read as before).
void emitExternalPrefetch(RewriterBase &rw, Location loc,
                          const AttentionPrologue &p, Value tid) {
  auto isFirst = arith::CmpIOp::create(
      rw, loc, arith::CmpIPredicate::eq, tid,
      arith::ConstantIndexOp::create(rw, loc, 0));
  auto ifOp = scf::IfOp::create(rw, loc, isFirst, /*withElse=*/false);
  OpBuilder::InsertionGuard guard(rw);
  rw.setInsertionPointToStart(ifOp.thenBlock());
  for (Value v : p.externals) {
    auto type = dyn_cast<MemRefType>(v.getType());
    if (!type || !type.hasStaticShape() || !type.getLayout().isIdentity() ||
        knownBaseAlignment(v) < 16)
      continue;
    int64_t bytes =
        type.getNumElements() * type.getElementTypeBitWidth() / 8 / 16 * 16;
    if (bytes < 16 || bytes > kMaxPrefetchBytes)
      continue;
    Value base = memref::ExtractAlignedPointerAsIndexOp::create(rw, loc, v);
    Value addr = arith::IndexCastUIOp::create(rw, loc, rw.getI64Type(), base);
    // Inline PTX, not nvvm.cp.async.bulk.prefetch: an op of unknown
    // effects in this launch would make the templates that look across it
    // (the conv window's) refuse. Created without side effects (so that
    // they see none) and marked; sinter-cuda-form-kernels gives it its side
    // effects once every template has run (giveDeferredEffects).
    auto prefetch = LLVM::InlineAsmOp::create(
        rw, loc, Type(),
        ValueRange{addr, arith::ConstantOp::create(
                             rw, loc, rw.getI32IntegerAttr(bytes))},
        "cp.async.bulk.prefetch.L2.global [$0], $1;", "l,r",
        /*has_side_effects=*/false, /*is_align_stack=*/false,
        LLVM::tailcallkind::TailCallKind::None, LLVM::AsmDialectAttr(),
        ArrayAttr());
    prefetch->setAttr(kDeferredEffects, rw.getUnitAttr());
  }
}

void emitPrologueReplay(RewriterBase &rw, Location loc,
                        const AttentionPrologue &p, Value tid, int64_t threads,
                        ArrayRef<Value> buffers, const KernelOptions &options) {
  int64_t warps = threads / 32;
  (void)buffers;
  if (options.attentionProloguePrefetch &&
      supportsProgrammaticLaunch(options.gpuArch))
    emitExternalPrefetch(rw, loc, p, tid);
  // What the ops since the last barrier read and wrote: the next op waits
  // for a barrier only if it reads or writes what they wrote, or writes
  // what they read (each buffer is its own shared copy, so roots compare
  // exactly; globals are only read). Only with the experimental form
  // attention-prologue-fewer-barriers (not yet run on a GPU); off, a
  // barrier after every op (the form run on a GPU).
  llvm::DenseSet<Value> pendingReads, pendingWrites;
  for (auto [i, op] : llvm::enumerate(p.replayed)) {
    llvm::DenseSet<Value> reads, writes;
    replayAccesses(p, op, reads, writes);
    bool conflict =
        !options.experimental.prologueFewerBarriers ||
        llvm::any_of(reads,
                     [&](Value v) { return pendingWrites.contains(v); }) ||
        llvm::any_of(writes, [&](Value v) {
          return pendingWrites.contains(v) || pendingReads.contains(v);
        });
    if (i > 0 && conflict) {
      // Outside the ops' loops, which threads enter unevenly.
      gpu::BarrierOp::create(rw, loc);
      pendingReads.clear();
      pendingWrites.clear();
    }
    emitReplayOf(rw, loc, op, tid, threads, warps);
    pendingReads.insert(reads.begin(), reads.end());
    pendingWrites.insert(writes.begin(), writes.end());
  }
  gpu::BarrierOp::create(rw, loc);
}

/// Marks the batched loops of forEachElement, whose loads
/// hoistBatchLoads moves ahead of their arithmetic once the loads of
/// recomputed buffers have become their writers' bodies.
constexpr llvm::StringLiteral kReplayBatch = "sinter.replay_batch";

/// Runs `load(lin)` then `store(lin, value)` for every element lin < n, a
/// thread per element in rounds of `threads`. Up to 8 rounds are emitted
/// together, their loads before their stores: each thread's global loads
/// are in flight at once (a loop of one element per round waits a whole
/// L2 round trip per element). The rounds that do not fill a batch run in
/// a plain strided loop.
static void forEachElement(
    RewriterBase &rw, Location loc, Value tid, int64_t n, int64_t threads,
    llvm::function_ref<Value(Value)> load,
    llvm::function_ref<void(Value, Value)> store) {
  int64_t rounds = n / threads;
  int64_t batch = std::min<int64_t>(rounds, 8);
  int64_t batched = batch > 1 ? rounds / batch * batch : 0;
  if (batched > 0) {
    OpBuilder::InsertionGuard guard(rw);
    auto loop = scf::ForOp::create(rw, loc, cst(rw, loc, 0),
                                   cst(rw, loc, batched), cst(rw, loc, batch));
    loop->setAttr(kReplayBatch, rw.getUnitAttr());
    rw.setInsertionPointToStart(loop.getBody());
    SmallVector<Value> lins, values;
    for (int64_t u = 0; u < batch; ++u) {
      Value round = arith::AddIOp::create(rw, loc, loop.getInductionVar(),
                                          cst(rw, loc, u));
      lins.push_back(arith::AddIOp::create(
          rw, loc, arith::MulIOp::create(rw, loc, round, cst(rw, loc, threads)),
          tid));
      values.push_back(load(lins.back()));
    }
    for (int64_t u = 0; u < batch; ++u)
      store(lins[u], values[u]);
  }
  if (batched * threads >= n)
    return;
  OpBuilder::InsertionGuard guard(rw);
  Value from = arith::AddIOp::create(rw, loc, tid,
                                     cst(rw, loc, batched * threads));
  Value lin = strided(rw, loc, from, n, threads);
  store(lin, load(lin));
}

static void emitReplayOf(RewriterBase &rw, Location loc, Operation *op,
                         Value tid, int64_t threads, int64_t warps) {
  {
    OpBuilder::InsertionGuard guard(rw);
    if (auto copy = dyn_cast<memref::CopyOp>(op)) {
      auto t = cast<MemRefType>(copy.getTarget().getType());
      forEachElement(
          rw, loc, tid, t.getNumElements(), threads,
          [&](Value lin) -> Value {
            SmallVector<Value> ivs = delinearize(rw, loc, lin, t.getShape());
            return memref::LoadOp::create(rw, loc, copy.getSource(), ivs);
          },
          [&](Value lin, Value v) {
            SmallVector<Value> ivs = delinearize(rw, loc, lin, t.getShape());
            memref::StoreOp::create(rw, loc, v, copy.getTarget(), ivs);
          });
    } else {
      auto linalgOp = cast<linalg::LinalgOp>(op);
      SmallVector<int64_t> ranges = linalgOp.getStaticLoopRanges();
      OpOperand *init = linalgOp.getDpsInitOperand(0);
      AffineMap initMap = linalgOp.getMatchingIndexingMap(init);
      if (linalgOp.getNumReductionLoops() == 0) {
        int64_t n = 1;
        for (int64_t r : ranges)
          n *= r;
        forEachElement(
            rw, loc, tid, n, threads,
            [&](Value lin) -> Value {
              SmallVector<Value> ivs = delinearize(rw, loc, lin, ranges);
              return cloneAt(rw, loc, linalgOp, ivs);
            },
            [&](Value lin, Value v) {
              SmallVector<Value> ivs = delinearize(rw, loc, lin, ranges);
              memref::StoreOp::create(rw, loc, v, init->get(),
                                      evalMap(rw, loc, initMap, ivs));
            });
      } else {
        // A warp per output element, its lanes striding the reduction.
        ArrayRef<int64_t> outer = ArrayRef(ranges).drop_back();
        int64_t n = 1;
        for (int64_t r : outer)
          n *= r;
        Value warp = arith::DivUIOp::create(rw, loc, tid, cst(rw, loc, 32));
        Value lane = arith::RemUIOp::create(rw, loc, tid, cst(rw, loc, 32));
        Value o = strided(rw, loc, warp, n, warps);
        SmallVector<Value> ivs = delinearize(rw, loc, o, outer);
        Value zero = arith::ConstantOp::create(rw, loc, rw.getF32FloatAttr(0));
        Value total;
        int64_t steps = ranges.back() / 32;
        if (ranges.back() % 32 == 0 && steps <= 16) {
          // Unrolled: the lane's loads issued together, added in the
          // loop's order.
          total = zero;
          for (int64_t k = 0; k < steps; ++k) {
            SmallVector<Value> all(ivs);
            all.push_back(
                arith::AddIOp::create(rw, loc, lane, cst(rw, loc, 32 * k)));
            total = cloneAt(rw, loc, linalgOp, all, total);
          }
        } else {
          auto red = scf::ForOp::create(rw, loc, lane,
                                        cst(rw, loc, ranges.back()),
                                        cst(rw, loc, 32), ValueRange{zero});
          {
            OpBuilder::InsertionGuard g2(rw);
            rw.setInsertionPointToStart(red.getBody());
            SmallVector<Value> all(ivs);
            all.push_back(red.getInductionVar());
            scf::YieldOp::create(
                rw, loc,
                cloneAt(rw, loc, linalgOp, all, red.getRegionIterArg(0)));
          }
          total = red.getResult(0);
        }
        for (int32_t off = 16; off >= 1; off /= 2)
          total = arith::AddFOp::create(
              rw, loc, total,
              gpu::ShuffleOp::create(rw, loc, total, off, 32,
                                     gpu::ShuffleMode::XOR)
                  .getShuffleResult());
        Value first = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq,
                                            lane, cst(rw, loc, 0));
        auto ifOp = scf::IfOp::create(rw, loc, first, false);
        rw.setInsertionPointToStart(ifOp.thenBlock());
        SmallVector<Value> all(ivs);
        all.push_back(cst(rw, loc, 0));
        SmallVector<Value> at = evalMap(rw, loc, initMap, all);
        Value old = memref::LoadOp::create(rw, loc, init->get(), at);
        memref::StoreOp::create(rw, loc,
                                arith::AddFOp::create(rw, loc, old, total),
                                init->get(), at);
      }
    }
  }
}

/// In each batch of forEachElement (marked kReplayBatch), the loads of
/// its elements and the index arithmetic they need move ahead of the
/// rest, keeping their order: every load of a thread's elements is in
/// flight before the first element's arithmetic. A recomputed element
/// carries its writer's body, RMSNorm's f32 division among them, which
/// ptxas expands with a branch to a slow path; no load crosses that
/// branch, so each element's load waited for the one before (bench8's
/// q norm: 8 L2 round trips in a row). Only the ops before the batch's
/// first store move, and those only compute and load.
static void hoistBatchLoads(RewriterBase &rw, Operation *launch) {
  SmallVector<scf::ForOp> batches;
  launch->walk([&](scf::ForOp loop) {
    if (loop->removeAttr(kReplayBatch))
      batches.push_back(loop);
  });
  for (scf::ForOp loop : batches) {
    SmallVector<Operation *> phase;
    for (Operation &op : loop.getBody()->without_terminator()) {
      bool load = isa<memref::LoadOp, vector::LoadOp>(op);
      if (op.getNumRegions() || (!load && !isMemoryEffectFree(&op)))
        break;
      phase.push_back(&op);
    }
    // The loads and what they depend on, found from the back.
    llvm::DenseSet<Operation *> slice;
    for (Operation *op : llvm::reverse(phase))
      if (isa<memref::LoadOp, vector::LoadOp>(op) ||
          llvm::any_of(op->getUsers(),
                       [&](Operation *u) { return slice.contains(u); }))
        slice.insert(op);
    Operation *rest = nullptr;
    for (Operation *op : phase) {
      if (!slice.contains(op)) {
        if (!rest)
          rest = op;
        continue;
      }
      if (rest)
        rw.moveOpBefore(op, rest);
    }
  }
}

LogicalResult redirectPrologueAccesses(RewriterBase &rw, Operation *launch,
                                       const AttentionPrologue &p,
                                       ArrayRef<Value> buffers,
                                       std::string &why) {
  // Each round replaces the accesses found; inlined bodies may read
  // further prologue buffers, found by the next round.
  for (int round = 0; round < 64; ++round) {
    SmallVector<Operation *> todo;
    bool vectorHit = false;
    launch->walk([&](Operation *op) {
      if (auto load = dyn_cast<memref::LoadOp>(op)) {
        if (p.writes(load.getMemRef()))
          todo.push_back(op);
      } else if (auto store = dyn_cast<memref::StoreOp>(op)) {
        // Another kernel's stores are the folded ops' own (the output
        // gate's may reuse a prologue buffer's bytes).
        if (!buffers.empty() && p.writes(store.getMemRef()))
          todo.push_back(op);
      } else if (auto vl = dyn_cast<vector::LoadOp>(op)) {
        vectorHit |= p.writes(vl.getBase());
      } else if (auto vs = dyn_cast<vector::StoreOp>(op)) {
        vectorHit |= p.writes(vs.getBase());
      }
    });
    if (vectorHit) {
      why = "a vector access to a buffer the prologue writes";
      return failure();
    }
    if (todo.empty()) {
      hoistBatchLoads(rw, launch);
      return success();
    }
    for (Operation *op : todo) {
      Location loc = op->getLoc();
      rw.setInsertionPoint(op);
      bool isLoad = isa<memref::LoadOp>(op);
      Value memref = isLoad ? cast<memref::LoadOp>(op).getMemRef()
                            : cast<memref::StoreOp>(op).getMemRef();
      ValueRange indices = isLoad ? cast<memref::LoadOp>(op).getIndices()
                                  : cast<memref::StoreOp>(op).getIndices();
      Value root = viewSource(memref);
      std::optional<Value> lin = linearIndex(rw, loc, memref, indices);
      if (!lin) {
        why = "a view of a prologue buffer without a static layout";
        return failure();
      }
      auto it = p.shared.find(root);
      if (it != p.shared.end()) {
        if (buffers.empty()) {
          why = "a prologue buffer in shared memory read by another kernel";
          return failure();
        }
        Value buffer = buffers[it->second];
        if (isLoad)
          rw.replaceOpWithNewOp<memref::LoadOp>(op, buffer, ValueRange{*lin});
        else
          rw.replaceOpWithNewOp<memref::StoreOp>(
              op, cast<memref::StoreOp>(op).getValue(), buffer,
              ValueRange{*lin});
        continue;
      }
      if (!isLoad) {
        why = "a store to a prologue buffer that is recomputed";
        return failure();
      }
      auto writer = cast<linalg::LinalgOp>(p.inlined.lookup(root));
      SmallVector<Value> ivs = delinearize(
          rw, loc, *lin, cast<MemRefType>(root.getType()).getShape());
      rw.replaceOp(op, cloneAt(rw, loc, writer, ivs));
    }
  }
  why = "prologue buffers recomputed from each other too deeply";
  return failure();
}

} // namespace sinter::cuda
