//===- Passes.h - passes shared by the code-generating targets --*- C++ -*-===//

#ifndef SINTER_TARGET_PASSES_H
#define SINTER_TARGET_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace sinter {
#define GEN_PASS_DECL
#include "sinter/Target/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "sinter/Target/Passes.h.inc"
} // namespace sinter

#endif // SINTER_TARGET_PASSES_H
