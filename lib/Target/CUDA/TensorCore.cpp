//===- TensorCore.cpp - ldmatrix and mma.sync helpers ---------------------===//
//
// See TensorCore.h.
//
//===----------------------------------------------------------------------===//

#include "TensorCore.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

#include <array>

using namespace mlir;

namespace sinter::cuda {

SmallVector<Value, 4> ldmatrixX4(KernelBuilder &kb, Value ptr, bool trans) {
  MLIRContext *ctx = kb.b.getContext();
  Type i32 = kb.i32();
  auto resTy = LLVM::LLVMStructType::getLiteral(ctx, {i32, i32, i32, i32});
  Value r = NVVM::LdMatrixOp::create(
      kb.b, kb.loc, resTy, ptr, 4,
      trans ? NVVM::MMALayout::col : NVVM::MMALayout::row,
      NVVM::LdStMatrixShapeAttr::get(ctx, 8, 8), NVVM::LdStMatrixEltType::B16);
  SmallVector<Value, 4> regs;
  for (int64_t i = 0; i < 4; ++i)
    regs.push_back(kb.extract(r, i));
  return regs;
}

void mmaM16N8K16(KernelBuilder &kb, Type elt, ArrayRef<Value> a,
                 ArrayRef<Value> b, MutableArrayRef<Value> acc) {
  OpBuilder &builder = kb.b;
  Type f32 = builder.getF32Type();
  auto accTy = LLVM::LLVMStructType::getLiteral(builder.getContext(),
                                                {f32, f32, f32, f32});
  NVVM::MMATypes ptxType =
      elt.isBF16() ? NVVM::MMATypes::bf16 : NVVM::MMATypes::f16;
  // mma.sync takes bf16 pairs as i32 and f16 pairs as vector<2xf16>.
  auto operand = [&](Value reg) -> Value {
    if (elt.isBF16())
      return reg;
    return LLVM::BitcastOp::create(
        builder, kb.loc, VectorType::get({2}, builder.getF16Type()), reg);
  };
  SmallVector<Value, 4> aOps, bOps;
  for (Value r : a)
    aOps.push_back(operand(r));
  for (Value r : b)
    bOps.push_back(operand(r));
  const int64_t shape[] = {16, 8, 16};
  SmallVector<Value, 4> cOps(acc.begin(), acc.end());
  Value d = NVVM::MmaOp::create(
      builder, kb.loc, accTy, aOps, bOps, cOps, ArrayRef<int64_t>(shape),
      std::nullopt, std::nullopt, std::array{ptxType, ptxType},
      std::array{NVVM::MMALayout::row, NVVM::MMALayout::col});
  for (int64_t e = 0; e < 4; ++e)
    acc[e] = kb.extract(d, e);
}

} // namespace sinter::cuda
