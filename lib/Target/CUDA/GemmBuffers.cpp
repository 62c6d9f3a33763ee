//===- GemmBuffers.cpp - where the GEMM template's buffers live -----------===//
//
// See GemmBuffers.h.
//
//===----------------------------------------------------------------------===//

#include "GemmBuffers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Matchers.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

#include <mutex>
#include <optional>

using namespace mlir;

namespace sinter::cuda {
namespace {

/// A buffer as a byte range of a root allocation. The root is identified by
/// an opaque key: a function argument's or memref.alloc's value, or a
/// global's symbol name.
struct ByteRange {
  const void *root = nullptr;
  int64_t begin = 0, end = 0;
};

std::optional<int64_t> byteSize(Value v) {
  auto t = dyn_cast<MemRefType>(v.getType());
  if (!t || !t.hasStaticShape() || !t.getLayout().isIdentity() ||
      !t.getElementType().isIntOrFloat())
    return std::nullopt;
  return t.getNumElements() *
         ((t.getElementType().getIntOrFloatBitWidth() + 7) / 8);
}

std::optional<ByteRange> rangeOf(Value v) {
  std::optional<int64_t> size = byteSize(v);
  if (!size)
    return std::nullopt;
  // A fresh allocation shares bytes with no other root.
  if (isa<BlockArgument>(v) || v.getDefiningOp<memref::AllocOp>())
    return ByteRange{v.getAsOpaquePointer(), 0, *size};
  if (auto g = v.getDefiningOp<memref::GetGlobalOp>())
    return ByteRange{g.getNameAttr().getAttr().getAsOpaquePointer(), 0, *size};
  if (auto view = v.getDefiningOp<memref::ViewOp>()) {
    APInt shift;
    if (!isa<BlockArgument>(view.getSource()) ||
        !matchPattern(view.getByteShift(), m_ConstantInt(&shift)))
      return std::nullopt;
    int64_t b = shift.getSExtValue();
    return ByteRange{view.getSource().getAsOpaquePointer(), b, b + *size};
  }
  return std::nullopt;
}

/// rangeOf, also through subviews and reshapes of such a buffer: the
/// bytes from the view's first element to its last (static layouts only).
std::optional<ByteRange> rangeThroughViews(Value v) {
  auto t = dyn_cast<MemRefType>(v.getType());
  if (!t || !t.hasStaticShape() || !t.getElementType().isIntOrFloat())
    return std::nullopt;
  Value base = v;
  while (Operation *def = base.getDefiningOp()) {
    if (auto sv = dyn_cast<memref::SubViewOp>(def))
      base = sv.getSource();
    else if (auto e = dyn_cast<memref::ExpandShapeOp>(def))
      base = e.getSrc();
    else if (auto c = dyn_cast<memref::CollapseShapeOp>(def))
      base = c.getSrc();
    else
      break;
  }
  if (base == v)
    return rangeOf(v);
  std::optional<ByteRange> r = rangeOf(base);
  SmallVector<int64_t> strides;
  int64_t offset = 0;
  if (!r || failed(t.getStridesAndOffset(strides, offset)) ||
      ShapedType::isDynamic(offset) ||
      llvm::any_of(strides, ShapedType::isDynamic))
    return std::nullopt;
  int64_t last = offset;
  for (auto [size, stride] : llvm::zip(t.getShape(), strides)) {
    if (size == 0)
      return ByteRange{r->root, r->begin, r->begin};
    last += (size - 1) * stride;
  }
  int64_t eb = (t.getElementType().getIntOrFloatBitWidth() + 7) / 8;
  return ByteRange{r->root, r->begin + offset * eb, r->begin + (last + 1) * eb};
}

} // namespace

int64_t knownBaseAlignment(Value memref) {
  if (isa<BlockArgument>(memref) || memref.getDefiningOp<memref::GetGlobalOp>())
    return 256;
  if (auto view = memref.getDefiningOp<memref::ViewOp>()) {
    APInt shift;
    if (!matchPattern(view.getByteShift(), m_ConstantInt(&shift)))
      return 0;
    int64_t base = knownBaseAlignment(view.getSource());
    int64_t s = shift.getSExtValue();
    while (base > 1 && s % base != 0)
      base /= 2;
    return base;
  }
  // A reshape keeps its source's base pointer. Only identity layouts (a
  // contiguous reshape of a whole buffer, offset 0): the prefill's
  // [512, 4096] activation of out_proj / o_proj is a collapse_shape of the
  // arena view holding [1, 512, 32, 128].
  Operation *def = memref.getDefiningOp();
  if (def && isa<memref::CollapseShapeOp, memref::ExpandShapeOp>(def) &&
      cast<MemRefType>(memref.getType()).getLayout().isIdentity())
    return knownBaseAlignment(def->getOperand(0));
  return 0;
}

bool mayAlias(Value a, Value b) {
  std::optional<ByteRange> ra = rangeOf(a), rb = rangeOf(b);
  if (!ra || !rb)
    return true;
  if (ra->root != rb->root)
    return false;
  return ra->begin < rb->end && rb->begin < ra->end;
}

Value viewSource(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (!isa<memref::SubViewOp, memref::ExpandShapeOp, memref::CollapseShapeOp,
             memref::CastOp, memref::ReshapeOp>(def))
      break;
    v = def->getOperand(0);
  }
  return v;
}

bool mayAliasViewSources(Value a, Value b) {
  return mayAlias(viewSource(a), viewSource(b));
}

bool argumentsMayAlias(BlockArgument a, BlockArgument b) {
  return a.getType() == b.getType();
}

bool mayOverlap(Value a, Value b) {
  std::optional<ByteRange> ra = rangeThroughViews(a),
                           rb = rangeThroughViews(b);
  if (!ra || !rb)
    return true;
  if (ra->root != rb->root)
    return false;
  return ra->begin < rb->end && rb->begin < ra->end;
}

Value zeroWorkspace(RewriterBase &rw, Location loc, Operation *anchor,
                    MemRefType type, StringRef name) {
  static std::mutex lock;
  auto module = anchor->getParentOfType<ModuleOp>();
  {
    std::lock_guard<std::mutex> guard(lock);
    if (!SymbolTable::lookupSymbolIn(module, name)) {
      OpBuilder b(module.getContext());
      b.setInsertionPointToStart(module.getBody());
      Type elt = type.getElementType();
      Attribute zero = isa<FloatType>(elt) ? Attribute(b.getFloatAttr(elt, 0))
                                           : Attribute(b.getIntegerAttr(elt, 0));
      memref::GlobalOp::create(
          b, loc, name, b.getStringAttr("private"), type,
          DenseElementsAttr::get(
              RankedTensorType::get(type.getShape(), elt), zero),
          /*constant=*/true, b.getI64IntegerAttr(256));
      // Listed for sinter-bind-weights, which moves it into the forward's
      // arena (per-session memory the runtime zeroes once) instead of
      // giving it one device copy per loaded model like a weight. On the
      // module, not the global: the memref-to-LLVM lowering drops a
      // global's attributes. Touched only here, under the lock.
      SmallVector<Attribute> names;
      if (auto listed = module->getAttrOfType<ArrayAttr>("sinter.workspaces"))
        names.append(listed.begin(), listed.end());
      names.push_back(b.getStringAttr(name));
      module->setAttr("sinter.workspaces", b.getArrayAttr(names));
    }
  }
  return memref::GetGlobalOp::create(rw, loc, type, name);
}

/// (Declared in GemmBuffers.h.) One `atom.acq_rel.gpu.add`: its
/// release orders the block's partial stores (which the barrier before it
/// orders before this thread's) ahead of the count, and its acquire, with
/// the barrier after it, orders the last block's loads of the other
/// blocks' partials after it (the semaphore pattern of split-K GEMMs).
/// Inline PTX because memref.atomic_rmw has no ordering or scope (and a
/// compare-and-swap loop serializes the blocks arriving together). The
/// asm is not marked as having side effects, so that templates scanning
/// the IR after this launch see only its loads and stores; its result is
/// used (it cannot be dropped), it stays inside the thread-0 branch, and
/// LLVM still treats the call as touching memory.
Value countArrival(RewriterBase &rw, Location loc, Value counters,
                   Value at) {
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(rw, loc,
                                                              counters);
  Value addr = arith::AddIOp::create(
      rw, loc, base,
      arith::MulIOp::create(rw, loc, at,
                            arith::ConstantIndexOp::create(rw, loc, 4)));
  Value addr64 =
      arith::IndexCastUIOp::create(rw, loc, rw.getI64Type(), addr);
  auto atom = LLVM::InlineAsmOp::create(
      rw, loc, rw.getI32Type(), ValueRange{addr64},
      "atom.acq_rel.gpu.add.u32 $0, [$1], 1;", "=r,l,~{memory}",
      /*has_side_effects=*/false, /*is_align_stack=*/false,
      LLVM::tailcallkind::TailCallKind::None, LLVM::AsmDialectAttr(),
      ArrayAttr());
  return arith::UIToFPOp::create(rw, loc, rw.getF32Type(), atom.getResult(0));
}

Value arriveBlock(RewriterBase &rw, Location loc, Value counters, Value at,
                  Value isFirst, Value scratch, ValueRange scratchIndex) {
  gpu::BarrierOp::create(rw, loc);
  {
    auto ifOp = scf::IfOp::create(rw, loc, isFirst, /*withElse=*/false);
    OpBuilder::InsertionGuard guard(rw);
    rw.setInsertionPointToStart(ifOp.thenBlock());
    memref::StoreOp::create(rw, loc, countArrival(rw, loc, counters, at),
                            scratch, scratchIndex);
  }
  gpu::BarrierOp::create(rw, loc);
  return memref::LoadOp::create(rw, loc, scratch, scratchIndex);
}

void giveDeferredEffects(Operation *root) {
  root->walk([](LLVM::InlineAsmOp op) {
    if (op->removeAttr(kDeferredEffects))
      op.setHasSideEffects(true);
  });
}

void clusterBarrier(RewriterBase &rw, Location loc) {
  auto asmOp = LLVM::InlineAsmOp::create(
      rw, loc, Type(), ValueRange{},
      "barrier.cluster.arrive;\n\tbarrier.cluster.wait;", "~{memory}",
      /*has_side_effects=*/false, /*is_align_stack=*/false,
      LLVM::tailcallkind::TailCallKind::None, LLVM::AsmDialectAttr(),
      ArrayAttr());
  asmOp->setAttr(kDeferredEffects, rw.getUnitAttr());
}

Value loadClusterF32(RewriterBase &rw, Location loc, Value smem, Value index,
                     Value rank) {
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(rw, loc, smem);
  Value addr = arith::AddIOp::create(
      rw, loc, base,
      arith::MulIOp::create(rw, loc, index,
                            arith::ConstantIndexOp::create(rw, loc, 4)));
  Value addr32 = arith::IndexCastUIOp::create(rw, loc, rw.getI32Type(), addr);
  Value rank32 = arith::IndexCastUIOp::create(rw, loc, rw.getI32Type(), rank);
  // A result that is used and a memory clobber: kept, and not moved across
  // the cluster barrier before it.
  auto ld = LLVM::InlineAsmOp::create(
      rw, loc, rw.getF32Type(), ValueRange{addr32, rank32},
      "{\n\t.reg .b32 a;\n\tmapa.shared::cluster.u32 a, $1, $2;\n\t"
      "ld.shared::cluster.f32 $0, [a];\n\t}",
      "=f,r,r,~{memory}", /*has_side_effects=*/false, /*is_align_stack=*/false,
      LLVM::tailcallkind::TailCallKind::None, LLVM::AsmDialectAttr(),
      ArrayAttr());
  return ld.getResult(0);
}

} // namespace sinter::cuda
