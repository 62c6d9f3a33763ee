//===- FusionRemarks.h - how fuse-phase passes report decisions -*- C++ -*-===//
//
// Every fusion a fuse-phase pass takes or refuses is a remark on the op it is
// about, in one fixed form that `sinterc --report` collects into the JSON
// report (and that lit tests check with -verify-diagnostics or FileCheck):
//
//   <pass-argument>: fused: <what was done>
//   <pass-argument>: refused: <why not>
//
// Ops involved are listed as notes ("involves: <op name> at <loc>").
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_DIALECT_GRAPH_TRANSFORMS_FUSIONREMARKS_H
#define SINTER_DIALECT_GRAPH_TRANSFORMS_FUSIONREMARKS_H

#include "mlir/IR/Operation.h"
#include "llvm/ADT/Twine.h"

namespace sinter {

/// Reports a fusion the pass `passArg` applied at `anchor`.
void remarkFused(mlir::Operation *anchor, llvm::StringRef passArg,
                 const llvm::Twine &what,
                 llvm::ArrayRef<mlir::Operation *> involved = {});

/// Reports a candidate the pass `passArg` left alone, and why.
void remarkRefused(mlir::Operation *anchor, llvm::StringRef passArg,
                   const llvm::Twine &why,
                   llvm::ArrayRef<mlir::Operation *> involved = {});

} // namespace sinter

#endif // SINTER_DIALECT_GRAPH_TRANSFORMS_FUSIONREMARKS_H
