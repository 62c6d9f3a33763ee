//===- LaunchBodies.h - moving a launch's body into another -----*- C++ -*-===//
//
// What the two launch merges share (ColumnConsumer.cpp: a per-column
// launch into the GEMV before it; MergeLaunches.cpp: independent launches
// side by side): the launch after another past views and constants, the
// static 1-D shape of a launch, what it reads and writes, and its body cloned elsewhere as one given
// block and thread of its own grid.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_LIB_TARGET_CUDA_LAUNCHBODIES_H
#define SINTER_LIB_TARGET_CUDA_LAUNCHBODIES_H

#include "GatedDeltaBuffers.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/PatternMatch.h"

#include <optional>
#include <utility>

namespace sinter::cuda {

/// The value of a constant integer or index, else nullopt.
std::optional<int64_t> constIndex(mlir::Value v);

/// (grid x, block x) of a launch whose grid and blocks are static and 1-D.
std::optional<std::pair<int64_t, int64_t>> static1DShape(mlir::gpu::LaunchOp l);

/// The launch right after `l` with only views and constants between them,
/// or null.
mlir::gpu::LaunchOp nextLaunch(mlir::gpu::LaunchOp l);

/// The static views a launch reads and writes (GatedDeltaBuffers'
/// effectsOf and bufOf); nullopt when an access is unknown or not a static
/// view.
struct LaunchAccesses {
  llvm::SmallVector<gated_delta::Buf> reads, writes;
};
std::optional<LaunchAccesses> launchAccesses(mlir::gpu::LaunchOp l);

/// Moves the ops between `first` and `second` (views and constants:
/// nextLaunch) above `first`, so that `second`'s body may move into it.
void hoistBetween(mlir::RewriterBase &rw, mlir::Operation *first,
                  mlir::Operation *second);

/// Clones the body of `from` (static 1-D: static1DShape) at the rewriter's
/// point as block `block`, thread `thread` of its own grid: its ids are
/// those values (y and z 0), its grid and block sizes constants.
void cloneLaunchBody(mlir::RewriterBase &rw, mlir::gpu::LaunchOp from,
                     mlir::Value block, mlir::Value thread);

} // namespace sinter::cuda

#endif // SINTER_LIB_TARGET_CUDA_LAUNCHBODIES_H
