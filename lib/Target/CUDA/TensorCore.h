//===- TensorCore.h - i32 index math, ldmatrix and mma.sync -----*- C++ -*-===//
//
// The building blocks the tensor-core templates share (Gemm.cpp,
// ExpertGroupedMma.cpp): i32 index arithmetic and raw-pointer memory ops
// inside a kernel, ldmatrix.x4 and mma.sync m16n8k16 through the NVVM
// dialect.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_LIB_TARGET_CUDA_TENSORCORE_H
#define SINTER_LIB_TARGET_CUDA_TENSORCORE_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"

namespace sinter::cuda {

/// Builds i32 index arithmetic and raw-pointer memory ops inside the kernel.
struct KernelBuilder {
  mlir::OpBuilder &b;
  mlir::Location loc;

  mlir::Type i32() { return b.getI32Type(); }
  mlir::Value c(int64_t v) {
    return mlir::arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(v));
  }
  mlir::Value add(mlir::Value x, mlir::Value y) {
    return mlir::arith::AddIOp::create(b, loc, x, y);
  }
  mlir::Value add(mlir::Value x, int64_t y) { return y ? add(x, c(y)) : x; }
  mlir::Value mul(mlir::Value x, int64_t y) {
    return y == 1 ? x : mlir::arith::MulIOp::create(b, loc, x, c(y));
  }
  mlir::Value shr(mlir::Value x, int64_t y) {
    return mlir::arith::ShRUIOp::create(b, loc, x, c(y));
  }
  mlir::Value band(mlir::Value x, int64_t y) {
    return mlir::arith::AndIOp::create(b, loc, x, c(y));
  }
  mlir::Value bxor(mlir::Value x, mlir::Value y) {
    return mlir::arith::XOrIOp::create(b, loc, x, y);
  }
  mlir::Value lt(mlir::Value x, int64_t y) {
    return mlir::arith::CmpIOp::create(b, loc, mlir::arith::CmpIPredicate::slt,
                                       x, c(y));
  }
  mlir::Value both(mlir::Value x, mlir::Value y) {
    return mlir::arith::AndIOp::create(b, loc, x, y);
  }
  mlir::Value select(mlir::Value cond, mlir::Value x, mlir::Value y) {
    return mlir::arith::SelectOp::create(b, loc, cond, x, y);
  }
  mlir::Value toI32(mlir::Value index) {
    return mlir::arith::IndexCastOp::create(b, loc, i32(), index);
  }

  /// The memref's aligned base as a pointer in `addrSpace` (1: global,
  /// 3: shared). Identity layouts only, so there is no offset to add.
  mlir::Value pointer(mlir::Value memref, unsigned addrSpace) {
    mlir::Value idx =
        mlir::memref::ExtractAlignedPointerAsIndexOp::create(b, loc, memref);
    mlir::Value i =
        mlir::arith::IndexCastOp::create(b, loc, b.getI64Type(), idx);
    return mlir::LLVM::IntToPtrOp::create(
        b, loc, mlir::LLVM::LLVMPointerType::get(b.getContext(), addrSpace),
        i);
  }
  mlir::Value gep(mlir::Value ptr, mlir::Type elt, mlir::Value offset) {
    return mlir::LLVM::GEPOp::create(b, loc, ptr.getType(), elt, ptr,
                                     mlir::ValueRange{offset});
  }
  mlir::Value extract(mlir::Value aggregate, int64_t pos) {
    return mlir::LLVM::ExtractValueOp::create(b, loc, aggregate, pos);
  }
};

/// ldmatrix.x4 of four 8x8 b16 matrices from shared memory (`ptr`: this
/// lane's row address): four i32, one per matrix. `trans` reads each matrix
/// transposed (.trans: a K-row-major B operand becomes mma's col layout).
llvm::SmallVector<mlir::Value, 4> ldmatrixX4(KernelBuilder &kb,
                                             mlir::Value ptr, bool trans);

/// acc[0..3] += A * B by one mma.sync m16n8k16 (row x col, f32
/// accumulators): `a` the four A registers, `b` the two B registers (i32
/// each, as ldmatrix returns them) of 16-bit type `elt` (f16 or bf16).
void mmaM16N8K16(KernelBuilder &kb, mlir::Type elt,
                 llvm::ArrayRef<mlir::Value> a, llvm::ArrayRef<mlir::Value> b,
                 llvm::MutableArrayRef<mlir::Value> acc);

} // namespace sinter::cuda

#endif // SINTER_LIB_TARGET_CUDA_TENSORCORE_H
