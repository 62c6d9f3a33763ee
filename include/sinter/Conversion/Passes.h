//===- Passes.h - lower phase passes -----------------------------*- C++ -*-===//

#ifndef SINTER_CONVERSION_PASSES_H
#define SINTER_CONVERSION_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace sinter {
#define GEN_PASS_DECL
#include "sinter/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "sinter/Conversion/Passes.h.inc"
} // namespace sinter

#endif // SINTER_CONVERSION_PASSES_H
