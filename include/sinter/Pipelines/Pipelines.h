//===- Pipelines.h - compilation phases and their pass pipelines -*- C++ -*-===//
//
// A compile runs the phases in order and may stop after any of them
// (`sinterc --compile-to=PHASE`). Each phase past import is a named pass
// pipeline, so every compile can be replayed on a dumped .mlir file with
// `sinter-opt --pass-pipeline=...`.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_PIPELINES_PIPELINES_H
#define SINTER_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringRef.h"
#include <optional>

namespace sinter {

enum class Phase { Import, Graph, Fuse, Lower, Codegen, Package };

/// Parses a phase name ("import", "graph", ...).
std::optional<Phase> parsePhase(llvm::StringRef name);
llvm::StringRef phaseName(Phase phase);
/// Whether this build implements the phase; later phases are listed so that
/// the CLI can say which ones are still missing instead of ignoring them.
bool isPhaseImplemented(Phase phase);

/// graph phase: recognition of compound ops, canonicalization, CSE.
void buildGraphPipeline(mlir::OpPassManager &pm);

/// Registers the named pipelines (`sinter-graph`) with the pass registry.
void registerPipelines();

} // namespace sinter

#endif // SINTER_PIPELINES_PIPELINES_H
