//===- PlanMemory.cpp - the sinter-plan-memory pass -----------------------===//
//
// A static memory plan for the forward: all of its temporary buffers become
// views of one arena whose size and offsets are decided here, at compile
// time. The runtime allocates the arena once per executable instead of
// calling malloc and free for every intermediate tensor of every forward,
// and buffers that are never live together share bytes.
//
// Liveness is computed on the function's body block only: a use nested in a
// region counts as a use by its top-level ancestor, which is conservative
// (the buffer stays live for the whole loop) and needs no analysis of
// region control flow. An allocation inside a loop is placed too when it
// does not outlive its iteration (nestedLiveness): every iteration reuses
// its bytes, live for the whole top-level op.
//
//===----------------------------------------------------------------------===//

#include "sinter/Target/Passes.h"

#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"

#include <algorithm>
#include <map>

namespace sinter {
#define GEN_PASS_DEF_PLANMEMORYPASS
#include "sinter/Target/Passes.h.inc"
} // namespace sinter

using namespace mlir;

namespace {

struct PlannedBuffer {
  memref::AllocOp alloc;
  int64_t bytes = 0;
  unsigned start = 0, end = 0; // positions in the body block, inclusive
  int64_t offset = -1;
  SmallVector<Operation *> deallocs;
};

/// Bytes per element of a buffer the plan can place, 0 otherwise.
int64_t elementBytes(Type t) {
  if (t.isIntOrFloat())
    return (int64_t(t.getIntOrFloatBitWidth()) + 7) / 8;
  if (t.isIndex())
    return 8;
  return 0;
}

int64_t alignTo(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

struct PlanMemoryPass : sinter::impl::PlanMemoryPassBase<PlanMemoryPass> {
  using Base::Base;

  enum class Visit { Follow, Skip, Stop };

  /// Calls `visit` on each user of `root` and of the memrefs those users
  /// produce when it answers Follow (views, casts and loop results may
  /// alias the buffer); deallocs go to `deallocs` instead. False when a
  /// visit answered Stop.
  static bool walkAliases(Value root, SmallVector<Operation *> &deallocs,
                          function_ref<Visit(Operation *)> visit) {
    SmallVector<Value> worklist{root};
    DenseSet<Value> seen{root};
    while (!worklist.empty()) {
      Value v = worklist.pop_back_val();
      for (OpOperand &use : v.getUses()) {
        Operation *user = use.getOwner();
        if (isa<memref::DeallocOp>(user)) {
          deallocs.push_back(user);
          continue;
        }
        Visit answer = visit(user);
        if (answer == Visit::Stop)
          return false;
        if (answer == Visit::Skip)
          continue;
        for (Value r : user->getResults())
          if (isa<BaseMemRefType>(r.getType()) && seen.insert(r).second)
            worklist.push_back(r);
      }
    }
    return true;
  }

  /// Sets `b.end` to the position of the last top-level op using the buffer
  /// or one of its aliases; false when an alias reaches a func.return (the
  /// buffer must then outlive the call and cannot live in the arena).
  bool computeLiveness(Block &body,
                       const DenseMap<Operation *, unsigned> &position,
                       PlannedBuffer &b) {
    unsigned blockEnd = body.getOperations().size();
    return walkAliases(b.alloc.getResult(), b.deallocs, [&](Operation *user) {
      if (isa<func::ReturnOp>(user))
        return Visit::Stop;
      Operation *top = body.findAncestorOpInBlock(*user);
      if (!top || isa<CallOpInterface>(user) ||
          (user->hasTrait<OpTrait::IsTerminator>() &&
           user->getParentOp() != body.getParentOp())) {
        // Escapes through a call or out of a region: live to the end.
        b.end = blockEnd;
        return Visit::Skip;
      }
      b.end = std::max(b.end, position.lookup(top));
      return Visit::Follow;
    });
  }

  /// An allocation inside a loop (or other region) of the body: placeable
  /// when no alias of it leaves the iteration that allocated it (no
  /// terminator, call or return uses one), because then every iteration may
  /// reuse the same bytes: an allocation's contents are undefined. Its
  /// lifetime is the top-level op that holds it. Without this, a CUDA
  /// forward's per-token buffers (the prefill recurrence) were host mallocs
  /// passed to kernels.
  bool nestedLiveness(Block &body,
                      const DenseMap<Operation *, unsigned> &position,
                      PlannedBuffer &b) {
    Operation *top = body.findAncestorOpInBlock(*b.alloc);
    if (!top)
      return false;
    b.start = b.end = position.lookup(top);
    return walkAliases(b.alloc.getResult(), b.deallocs, [&](Operation *user) {
      return user->hasTrait<OpTrait::IsTerminator>() ||
                     isa<CallOpInterface>(user) || !top->isAncestor(user)
                 ? Visit::Stop
                 : Visit::Follow;
    });
  }

  /// Bytes the forward moves with plain copies (memref.copy, linalg.copy),
  /// each counted once even inside a loop: what the report shows of the
  /// data movement that is not computation (state donation removes the
  /// whole-state copies).
  static int64_t copyBytes(func::FuncOp f) {
    int64_t total = 0;
    auto count = [&](Type t) {
      auto m = dyn_cast<MemRefType>(t);
      if (m && m.hasStaticShape())
        total += m.getNumElements() * elementBytes(m.getElementType());
    };
    f.walk([&](Operation *op) {
      if (auto copy = dyn_cast<memref::CopyOp>(op))
        count(copy.getSource().getType());
      else if (op->getName().getStringRef() == "linalg.copy" &&
               op->getNumOperands() == 2)
        count(op->getOperand(0).getType());
    });
    return total;
  }

  void runOnOperation() override {
    func::FuncOp f = getOperation();
    if (!f->hasAttr("sinter.entry") || f.isExternal())
      return;
    if (alignment == 0 || (alignment & (alignment - 1))) {
      f.emitError() << "sinter-plan-memory: alignment must be a power of two";
      return signalPassFailure();
    }
    Block &body = f.getBody().front();
    DenseMap<Operation *, unsigned> position;
    for (auto [i, op] : llvm::enumerate(body))
      position[&op] = i;

    SmallVector<PlannedBuffer> buffers;
    int64_t unplanned = 0;
    f.walk([&](memref::AllocOp alloc) {
      MemRefType type = alloc.getType();
      int64_t eltBytes = elementBytes(type.getElementType());
      bool placeable = type.hasStaticShape() &&
                       type.getLayout().isIdentity() &&
                       !type.getMemorySpace() && eltBytes > 0 &&
                       alloc.getAlignment().value_or(1) <= alignment;
      if (!placeable) {
        ++unplanned;
        return;
      }
      PlannedBuffer b;
      b.alloc = alloc;
      b.bytes = type.getNumElements() * eltBytes;
      b.start = b.end = position.lookup(alloc);
      bool nested = alloc->getBlock() != &body;
      if (nested ? !nestedLiveness(body, position, b)
                 : !computeLiveness(body, position, b)) {
        ++unplanned;
        return;
      }
      buffers.push_back(std::move(b));
    });

    // Greedy by size: largest first, each at the lowest aligned offset that
    // does not overlap a placed buffer whose lifetime overlaps its own.
    SmallVector<PlannedBuffer *> order;
    for (PlannedBuffer &b : buffers)
      order.push_back(&b);
    llvm::stable_sort(order, [](PlannedBuffer *a, PlannedBuffer *b) {
      return a->bytes > b->bytes;
    });
    SmallVector<PlannedBuffer *> placed;
    int64_t arenaBytes = 0;
    for (PlannedBuffer *b : order) {
      SmallVector<std::pair<int64_t, int64_t>> busy; // [offset, offset+bytes)
      for (PlannedBuffer *p : placed)
        if (p->start <= b->end && b->start <= p->end)
          busy.push_back({p->offset, p->offset + p->bytes});
      llvm::sort(busy);
      int64_t offset = 0;
      for (auto [lo, hi] : busy) {
        if (offset + b->bytes <= lo)
          break;
        offset = std::max(offset, alignTo(hi, alignment));
      }
      b->offset = offset;
      arenaBytes = std::max(arenaBytes, alignTo(offset + b->bytes, alignment));
      placed.push_back(b);
    }

    MLIRContext *ctx = &getContext();
    OpBuilder builder(ctx);
    auto arenaType = MemRefType::get({arenaBytes}, IntegerType::get(ctx, 8));
    unsigned arenaIndex = f.getNumArguments();
    NamedAttrList arenaAttrs;
    arenaAttrs.append("sinter.arena", builder.getUnitAttr());
    if (failed(f.insertArgument(arenaIndex, arenaType,
                                arenaAttrs.getDictionary(ctx), f.getLoc()))) {
      f.emitError() << "cannot append the arena argument";
      return signalPassFailure();
    }
    Value arena = f.getArgument(arenaIndex);
    // One constant per distinct offset, at the top of the function.
    std::map<int64_t, Value> offsets;
    for (PlannedBuffer &b : buffers) {
      Value &shift = offsets[b.offset];
      if (!shift) {
        builder.setInsertionPointToStart(&body);
        shift = arith::ConstantIndexOp::create(builder, f.getLoc(), b.offset);
      }
    }
    for (PlannedBuffer &b : buffers) {
      for (Operation *d : b.deallocs)
        d->erase();
      builder.setInsertionPoint(b.alloc);
      Value view =
          memref::ViewOp::create(builder, b.alloc.getLoc(), b.alloc.getType(),
                                 arena, offsets[b.offset], ValueRange{});
      b.alloc.getResult().replaceAllUsesWith(view);
      b.alloc.erase();
    }
    f->setAttr("sinter.arena_bytes", builder.getI64IntegerAttr(arenaBytes));
    f->setAttr("sinter.unplanned_allocs", builder.getI64IntegerAttr(unplanned));
    f->setAttr("sinter.copy_bytes", builder.getI64IntegerAttr(copyBytes(f)));
  }
};

} // namespace
