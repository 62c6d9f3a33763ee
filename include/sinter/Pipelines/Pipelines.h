//===- Pipelines.h - compilation phases and their pass pipelines -*- C++
//-*-===//
//
// A compile runs the phases in order and may stop after any of them
// (`sinterc --compile-to=PHASE`). Each phase past import is a named pass
// pipeline, so every compile can be replayed on a dumped .mlir file with
// `sinter-opt --pass-pipeline=...`:
//
//   graph    sinter-graph
//   fuse     sinter-fuse            (empty today: the seed rewrites and
//                                    kernel formation come in a later issue)
//   lower    sinter-lower           graph -> linalg -> bufferized memrefs
//                                    with a static memory plan
//   codegen  sinter-cpu-codegen     memrefs -> LLVM dialect (x86-64 ABI)
//   package  (not a pass pipeline)  LLVM IR -> object -> executable, in
//                                    sinter/Target/CPU/CPUTarget.h
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_PIPELINES_PIPELINES_H
#define SINTER_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/StringSet.h"
#include <memory>
#include <string>
#include <optional>
#include <vector>

namespace sinter {

enum class Phase { Import, Graph, Fuse, Lower, Codegen, Package };

/// Parses a phase name ("import", "graph", ...).
std::optional<Phase> parsePhase(llvm::StringRef name);
llvm::StringRef phaseName(Phase phase);

/// graph phase: recognition of compound ops, canonicalization, CSE.
void buildGraphPipeline(mlir::OpPassManager &pm);

/// What the fuse phase runs: `sinterc --no-fuse` turns the whole phase off,
/// `sinterc --disable-pass=NAME` (repeatable) one pass of it, named by its
/// pass argument (for example `sinter-fuse-parallel-linears`).
struct FuseOptions {
  /// False: the fuse phase runs no pass at all (--no-fuse).
  bool enabled = true;
  /// Pass arguments of fuse-phase passes not to run (--disable-pass).
  llvm::StringSet<> disabledPasses;
  /// When set, addFusePass appends every pass argument it sees here, run or
  /// not (fusePassNames uses it).
  llvm::SmallVectorImpl<std::string> *seenPasses = nullptr;

  bool isPassEnabled(llvm::StringRef passArg) const {
    return enabled && !disabledPasses.contains(passArg);
  }
};

/// Adds `pass` to `pm` unless `options` disables it (by its argument).
/// Every fuse-phase pass is added through this, so that --disable-pass and
/// --no-fuse reach it.
void addFusePass(mlir::OpPassManager &pm, const FuseOptions &options,
                 std::unique_ptr<mlir::Pass> pass);

/// fuse phase: the seed rewrites (parallel linears, gated activation,
/// depthwise conv1d), each through addFusePass, then kernel formation.
void buildFusePipeline(mlir::OpPassManager &pm,
                       const FuseOptions &options = {});

/// The pass arguments of every pass the fuse phase can run (what
/// --disable-pass accepts), in pipeline order.
llvm::SmallVector<std::string> fusePassNames();

/// lower phase (target independent): graph ops to linalg/tensor/arith/math,
/// the forward renamed `sinter_forward` with read-only inputs, one-shot
/// bufferization with identity layouts at the function boundary, results
/// turned into out-params, temporaries placed in one arena by the static
/// memory plan, and whatever the plan cannot place freed by the buffer
/// deallocation pipeline. The result's entry function is
///   sinter_forward(inputs..., outputs..., arena: memref<Nxi8>)
/// State donation (sinter-donate-state, sinter-bind-donated-outputs) lets a
/// state output live in the buffer of the input it updates.
struct LowerOptions {
  /// Donate the pairs the state naming convention proposes and the
  /// dataflow proves safe (sinterc --no-donate: false).
  bool autoDonate = true;
  /// Pairs "IN:OUT" to donate; an unsafe one is an error (sinterc --donate).
  std::vector<std::string> donate;
};
void buildLowerPipeline(mlir::OpPassManager &pm,
                        const LowerOptions &options = {});

/// codegen phase of the CPU target: linalg to loops, everything to the LLVM
/// dialect; memref arguments as bare pointers, so that the entry is the C
/// function `void sinter_forward(T *in0, ..., T *out0, ..., i8 *arena)`.
void buildCpuCodegenPipeline(mlir::OpPassManager &pm);

/// Registers the named pipelines (`sinter-graph`, `sinter-fuse`,
/// `sinter-lower`, `sinter-cpu-codegen`) with the pass registry.
void registerPipelines();

} // namespace sinter

#endif // SINTER_PIPELINES_PIPELINES_H
