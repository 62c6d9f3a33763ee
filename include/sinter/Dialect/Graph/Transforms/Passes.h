//===- Passes.h - graph and fuse phase passes --------------------*- C++ -*-===//

#ifndef SINTER_DIALECT_GRAPH_TRANSFORMS_PASSES_H
#define SINTER_DIALECT_GRAPH_TRANSFORMS_PASSES_H

#include "sinter/Dialect/Graph/IR/GraphOps.h"
#include "mlir/Pass/Pass.h"

namespace sinter {
#define GEN_PASS_DECL
#include "sinter/Dialect/Graph/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "sinter/Dialect/Graph/Transforms/Passes.h.inc"
} // namespace sinter

#endif // SINTER_DIALECT_GRAPH_TRANSFORMS_PASSES_H
