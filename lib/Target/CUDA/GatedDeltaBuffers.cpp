//===- GatedDeltaBuffers.cpp - buffers around a gated-delta step -----------===//
//
// See GatedDeltaBuffers.h.
//
//===----------------------------------------------------------------------===//

#include "GatedDeltaBuffers.h"
#include "GemmBuffers.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

using namespace mlir;

namespace sinter::cuda::gated_delta {

std::optional<Buf> bufOf(Value v) {
  auto type = dyn_cast<MemRefType>(v.getType());
  if (!type || !type.hasStaticShape() || !type.getElementType().isIntOrFloat())
    return std::nullopt;
  Buf b;
  b.shape.assign(type.getShape().begin(), type.getShape().end());
  if (failed(type.getStridesAndOffset(b.strides, b.offset)) ||
      ShapedType::isDynamic(b.offset) ||
      llvm::any_of(b.strides, ShapedType::isDynamic))
    return std::nullopt;
  b.elemBytes = (type.getElementTypeBitWidth() + 7) / 8;
  // The final view's layout (above) is relative to the buffer it is carved
  // from; only that buffer's own placement is left to find.
  Value cur = viewSource(v);
  Operation *def = cur.getDefiningOp();
  if (auto view = dyn_cast_or_null<memref::ViewOp>(def)) {
    auto shift = getConstantIntValue(view.getByteShift());
    if (!shift)
      return std::nullopt;
    b.shift = *shift;
    b.planned = true;
    b.base = view.getSource();
    return b;
  }
  if (auto g = dyn_cast_or_null<memref::GetGlobalOp>(def)) {
    b.global = g.getName().str();
    b.base = cur;
    return b;
  }
  if (def && !isa<memref::AllocOp, memref::AllocaOp>(def))
    return std::nullopt;
  b.base = cur;
  return b;
}

bool overlap(const Buf &a, const Buf &b) {
  if (!a.global.empty() || !b.global.empty())
    return a.global == b.global;
  if (a.base != b.base) {
    // State donation: distinct arguments of one type may be one buffer
    // (argumentsMayAlias, stricter than mayAlias on purpose).
    if (isa<BlockArgument>(a.base) && isa<BlockArgument>(b.base))
      return argumentsMayAlias(cast<BlockArgument>(a.base),
                               cast<BlockArgument>(b.base));
    return !(a.base.getDefiningOp<memref::AllocOp>() &&
             b.base.getDefiningOp<memref::AllocOp>());
  }
  return a.begin() < b.end() && b.begin() < a.end();
}

/// Whether `a` is an argument of a function that promises it shares no
/// byte with the other arguments (its own output, for a donated input,
/// which nothing else accesses).
bool distinctArg(mlir::BlockArgument a) {
  auto f = dyn_cast<func::FuncOp>(a.getOwner()->getParentOp());
  return f && (f.getArgAttr(a.getArgNumber(), "llvm.noalias") ||
               f.getArgAttr(a.getArgNumber(), "sinter.donate_to"));
}

bool overlapDistinctArgs(const Buf &a, const Buf &b) {
  auto aa = dyn_cast_or_null<BlockArgument>(a.base);
  auto ba = dyn_cast_or_null<BlockArgument>(b.base);
  if (a.global.empty() && b.global.empty() && aa && ba && aa != ba &&
      (distinctArg(aa) || distinctArg(ba)))
    return false;
  return overlap(a, b);
}

bool covers(const Buf &outer, const Buf &inner) {
  return outer.sameBase(inner) && outer.begin() <= inner.begin() &&
         inner.end() <= outer.end();
}

bool isViewOrPure(Operation *op) {
  return isMemoryEffectFree(op) || isa<ViewLikeOpInterface>(op) ||
         isa<memref::ViewOp, memref::SubViewOp, memref::ExpandShapeOp,
             memref::CollapseShapeOp, memref::GetGlobalOp, memref::CastOp>(op);
}

/// Workgroup or private memory: a formed kernel's own scratch, which no
/// other launch sees.
static bool launchLocal(Value m) {
  auto space = dyn_cast_or_null<gpu::AddressSpaceAttr>(
      cast<MemRefType>(m.getType()).getMemorySpace());
  return space && space.getValue() != gpu::AddressSpace::Global;
}

std::optional<Effects> effectsOf(Operation *op) {
  Effects e;
  if (isViewOrPure(op))
    return e;
  // Accesses inside formed kernels (the decode attention's launches come
  // before the conv window is formed): vector loads and stores, and
  // scratch that only the launch sees.
  Value accessed;
  if (auto l = dyn_cast<memref::LoadOp>(op))
    accessed = l.getMemref();
  else if (auto s = dyn_cast<memref::StoreOp>(op))
    accessed = s.getMemref();
  else if (auto l = dyn_cast<vector::LoadOp>(op))
    accessed = l.getBase();
  else if (auto s = dyn_cast<vector::StoreOp>(op))
    accessed = s.getBase();
  if (accessed && launchLocal(accessed))
    return e;
  if (auto l = dyn_cast<vector::LoadOp>(op)) {
    e.reads.push_back(l.getBase());
    return e;
  }
  if (auto s = dyn_cast<vector::StoreOp>(op)) {
    e.writes.push_back(s.getBase());
    return e;
  }
  if (auto l = dyn_cast<linalg::LinalgOp>(op)) {
    if (!l.hasPureBufferSemantics())
      return std::nullopt;
    for (OpOperand *in : l.getDpsInputOperands())
      if (isa<MemRefType>(in->get().getType()))
        e.reads.push_back(in->get());
    for (OpOperand &out : l.getDpsInitsMutable()) {
      e.writes.push_back(out.get());
      if (l.payloadUsesValueFromOperand(&out))
        e.reads.push_back(out.get());
    }
    return e;
  }
  if (auto c = dyn_cast<memref::CopyOp>(op)) {
    e.reads.push_back(c.getSource());
    e.writes.push_back(c.getTarget());
    return e;
  }
  if (auto l = dyn_cast<memref::LoadOp>(op)) {
    e.reads.push_back(l.getMemref());
    return e;
  }
  if (auto s = dyn_cast<memref::StoreOp>(op)) {
    e.writes.push_back(s.getMemref());
    return e;
  }
  if (isa<func::ReturnOp>(op))
    return e;
  // Loops, conditionals and formed kernels: what their bodies do.
  if (op->getNumRegions() && !isa<func::FuncOp>(op) &&
      (isa<gpu::LaunchOp>(op) ||
       op->hasTrait<OpTrait::HasRecursiveMemoryEffects>())) {
    bool known = true;
    op->walk([&](Operation *inner) {
      if (inner == op || !known || isa<gpu::BarrierOp>(inner) ||
          (inner->getNumRegions() && !isa<linalg::LinalgOp>(inner)))
        return;
      std::optional<Effects> ie = effectsOf(inner);
      if (!ie) {
        known = false;
        return;
      }
      e.reads.append(ie->reads);
      e.writes.append(ie->writes);
    });
    if (known)
      return e;
  }
  return std::nullopt;
}

/// Whether the kernel may drop `p` (it computed what `p` wrote): every
/// later reader of p's output, up to the writes that cover it, is dropped
/// too, and the output is the memory plan's scratch. The bytes still
/// holding p's values are tracked as intervals, so that several partial
/// writes (the memory plan reusing the bytes for smaller buffers) end
/// them too.
bool erasable(Operation *p, const SetVector<Operation *> &dropped,
              Operation *launch, ArrayRef<Buf> launchReads) {
  std::optional<Buf> out = bufOf(cast<linalg::LinalgOp>(p).getDpsInits()[0]);
  if (!out || !out->planned)
    return false;
  SmallVector<std::pair<int64_t, int64_t>> live{{out->begin(), out->end()}};
  auto meets = [&](const Buf &b) {
    if (!b.sameBase(*out))
      return overlap(b, *out);
    return llvm::any_of(live, [&](auto &iv) {
      return b.begin() < iv.second && iv.first < b.end();
    });
  };
  for (Operation *op = p->getNextNode(); op; op = op->getNextNode()) {
    if (op == launch) {
      for (const Buf &r : launchReads)
        if (meets(r))
          return false;
      continue;
    }
    std::optional<Effects> e = effectsOf(op);
    if (!e)
      return false;
    bool dropping = dropped.contains(op);
    for (Value r : e->reads) {
      std::optional<Buf> rb = bufOf(r);
      if ((!rb || meets(*rb)) && !dropping)
        return false;
    }
    for (Value w : e->writes) {
      std::optional<Buf> wb = bufOf(w);
      if (!wb || !wb->sameBase(*out) || !wb->contiguous())
        continue;
      SmallVector<std::pair<int64_t, int64_t>> rest;
      for (auto [b, en] : live) {
        if (wb->begin() > b)
          rest.push_back({b, std::min(en, wb->begin())});
        if (wb->end() < en)
          rest.push_back({std::max(b, wb->end()), en});
      }
      live = std::move(rest);
      if (live.empty())
        return true;
    }
  }
  return true;
}

/// Whether something after `launch` may read what the kernel leaves in
/// `b` (else a step result there is not stored: the retrieved vector and
/// the unscaled readout are usually arena scratch read by nothing else).
bool readAfter(const Buf &b, Operation *launch) {
  if (!b.planned)
    return true;
  for (Operation *op = launch->getNextNode(); op; op = op->getNextNode()) {
    std::optional<Effects> e = effectsOf(op);
    if (!e)
      return true;
    for (Value r : e->reads) {
      std::optional<Buf> rb = bufOf(r);
      if (!rb || overlap(*rb, b))
        return true;
    }
    for (Value w : e->writes) {
      std::optional<Buf> wb = bufOf(w);
      if (wb && covers(*wb, b))
        return false;
    }
  }
  return false;
}

Operation *latestWriter(const Buf &b, Operation *at, bool &unknown,
                        llvm::function_ref<bool(const Buf &, const Buf &)> meets) {
  unknown = false;
  for (Operation *op = at->getPrevNode(); op; op = op->getPrevNode()) {
    std::optional<Effects> e = effectsOf(op);
    if (!e) {
      unknown = true;
      return op;
    }
    for (Value w : e->writes) {
      std::optional<Buf> wb = bufOf(w);
      if (!wb || meets(*wb, b))
        return op;
    }
  }
  return nullptr;
}

} // namespace sinter::cuda::gated_delta
