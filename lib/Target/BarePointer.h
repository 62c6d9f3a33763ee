//===- BarePointer.h - memrefs the bare-pointer convention can pass -*- C++ -*-===//
//
// Both targets pass memrefs to functions (CPU: outlined loops; CUDA:
// kernels) as bare pointers, which needs a static shape, strides and
// offset. A view with a dynamic offset is instead rebuilt inside the callee
// from its source, which such views (subviews, reshapes, casts) allow.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_TARGET_BAREPOINTER_H
#define SINTER_TARGET_BAREPOINTER_H

#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace sinter {

/// True unless `type` is a memref the bare-pointer convention cannot pass.
inline bool isBarePointerMemRef(mlir::Type type) {
  auto memref = llvm::dyn_cast<mlir::MemRefType>(type);
  if (!memref)
    return true;
  if (!memref.hasStaticShape() || memref.getMemorySpace())
    return false;
  llvm::SmallVector<int64_t> strides;
  int64_t offset;
  if (mlir::failed(memref.getStridesAndOffset(strides, offset)))
    return false;
  return !mlir::ShapedType::isDynamic(offset) &&
         llvm::none_of(strides, mlir::ShapedType::isDynamic);
}

/// Ops that only make a view of their source and can be cloned into a
/// callee.
inline bool isClonableView(mlir::Operation *op) {
  return llvm::isa<mlir::memref::SubViewOp, mlir::memref::CastOp,
                   mlir::memref::ExpandShapeOp, mlir::memref::CollapseShapeOp,
                   mlir::memref::ReinterpretCastOp>(op);
}

} // namespace sinter

#endif // SINTER_TARGET_BAREPOINTER_H
