//===- StableHloImporter.h - StableHLO text to the sinter dialect -*- C++ -*-===//
//
// Reads StableHLO as JAX prints it (`jax.jit(f).lower(...).as_text()`, the
// pretty form, or the generic form) and builds a module with one
// `func.func @main` of sinter/arith/tensor ops. Private functions reached by
// `call` are inlined, `while` loops with a constant trip count are unrolled.
// Inputs are named arg0, arg1, ... and outputs result0, result1, ...
// (`sinter.name`). Unsupported ops and attributes are reported with their
// location in the file; the importer never aborts on bad input.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_IMPORT_STABLEHLOIMPORTER_H
#define SINTER_IMPORT_STABLEHLOIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

namespace sinter {

/// True when `text` looks like StableHLO (a `stablehlo.` op name appears
/// before any sinter op).
bool looksLikeStableHlo(llvm::StringRef text);

/// Imports the StableHLO program at `path`. Returns null after emitting
/// diagnostics on failure.
mlir::OwningOpRef<mlir::ModuleOp>
importStableHloFile(mlir::MLIRContext *context, llvm::StringRef path);

} // namespace sinter

#endif // SINTER_IMPORT_STABLEHLOIMPORTER_H
