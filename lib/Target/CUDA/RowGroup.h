//===- RowGroup.h - the row template's groups, shared by its two paths -*- C++ -*-===//
//
// A row group (RowReduction.cpp) runs either as a strided loop per phase
// (RowReduction.cpp) or with the row kept in registers, alone or as the
// prologue of the GEMV after it (RowRegisters.cpp). What both need.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_LIB_TARGET_CUDA_ROWGROUP_H
#define SINTER_LIB_TARGET_CUDA_ROWGROUP_H

#include "Kernels.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/PatternMatch.h"

namespace sinter::cuda::rows {

enum class Combiner { Add, Mul, Max, Min, MaxNum, MinNum };

/// One member of a row group.
struct Member {
  mlir::linalg::LinalgOp op;
  bool reduction = false;
  // An elementwise op over the rows themselves (one element per row, such
  // as the conversion of a reduction's f32 result to bf16): run by the
  // thread that stored the row's result.
  bool perRow = false;
  // Reductions: the combiner, the op computing it (not cloned) and the
  // value it combines with the accumulator.
  Combiner kind = Combiner::Add;
  mlir::Operation *combineOp = nullptr;
  mlir::Value contribution;
  // The linalg.fill that initialized the output, absorbed.
  mlir::linalg::FillOp fill;
};

/// The row structure shared by a group's members.
struct Rows {
  llvm::SmallVector<int64_t> shape; // the leading parallel loops
  int64_t length = 0;         // the last loop
  int64_t count() const {
    int64_t n = 1;
    for (int64_t s : shape)
      n *= s;
    return n;
  }
};

/// Where a buffer lives: the underlying allocation (function argument,
/// global, alloc) and, for the memory plan's views, a byte range of it.
struct Extent {
  mlir::Value base;
  mlir::Operation *global = nullptr;
  int64_t begin = 0, end = INT64_MAX;
};

/// Whether `op` has no memory effect (views, constants, index math).
bool isViewOrPure(mlir::Operation *op);
Extent extentOf(mlir::Value v);
/// False only when the two provably share no byte (function arguments of
/// one type may be one buffer: state donation).
bool mayOverlap(const Extent &a, const Extent &b);

/// The combiner's identity, the combiner, and f32 widening (f32 partials).
mlir::Value identity(mlir::OpBuilder &b, mlir::Location loc, Combiner kind);
mlir::Value combine(mlir::OpBuilder &b, mlir::Location loc, Combiner kind,
                    mlir::Value x, mlir::Value y);
mlir::Value toF32(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v);
/// Indices of an operand: `map` (dims and zeros) applied to `ivs`.
llvm::SmallVector<mlir::Value> indicesOf(mlir::OpBuilder &b, mlir::Location loc,
                                         mlir::AffineMap map,
                                         llvm::ArrayRef<mlir::Value> ivs);
/// The body of `m` at loop values `ivs` (operands loaded from memory), the
/// reduction's combiner left out: the yielded values (a reduction's
/// contribution).
llvm::SmallVector<mlir::Value> emitBody(mlir::OpBuilder &b, mlir::Location loc,
                                        Member &m,
                                        llvm::ArrayRef<mlir::Value> ivs);
/// Combines `v` across the 32 lanes of each warp (every lane gets it).
mlir::Value warpReduce(mlir::OpBuilder &b, mlir::Location loc, Combiner kind,
                       mlir::Value v);

/// The group as one block per row keeping the row in registers
/// (RowRegisters.cpp), inside the GEMV that reads its output when it can
/// be; failure (nothing changed) when the row is too long for registers.
/// The members are the caller's to erase.
mlir::LogicalResult emitRegisterRows(mlir::RewriterBase &rw,
                                     llvm::MutableArrayRef<Member> members,
                                     const Rows &rows,
                                     const KernelOptions &options,
                                     mlir::Location loc);

} // namespace sinter::cuda::rows

#endif // SINTER_LIB_TARGET_CUDA_ROWGROUP_H
