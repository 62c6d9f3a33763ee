//===- Backend.h - the target-specific part of the runtime ------*- C++ -*-===//
//
// The driver (argument parsing, file I/O, validation, timing) is shared by
// every target; what differs is where buffers live and how a forward runs.
// A Backend is a table of those operations. The CPU backend calls the
// generated forward directly on host memory; the CUDA backend (a later
// issue) will keep buffers on the device and launch kernels.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_RUNTIME_BACKEND_H
#define SINTER_RUNTIME_BACKEND_H

#include "sinter/Runtime/sinter_runtime.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace sinter::rt {

/// One greedy choice of the generation driver, made where the logits are
/// (Generate.cpp): the argmax of `vocab` logits (float32, float16 or
/// bfloat16; ties: the lowest index) is written to `ids` (int64 or int32,
/// the next decode step's token input), `nextPos` to `pos` (likewise) and
/// the token to `history[slot]` (int64). A NaN is not chosen: the smallest
/// `step << 32 | index` of one is kept in `*nanAt` (all ones: none).
/// `scratch` is two uint64 of target memory, zero at entry and left zero.
/// All pointers are target memory; nothing is waited for.
struct GreedyStep {
  const void *logits = nullptr;
  int32_t logitsDtype = 0;
  int64_t vocab = 0;
  void *ids = nullptr;
  int32_t idsDtype = 0;
  void *pos = nullptr;
  int32_t posDtype = 0;
  int64_t nextPos = 0;
  int64_t *history = nullptr;
  int64_t slot = 0, step = 0;
  uint64_t *scratch = nullptr, *nanAt = nullptr;
};

struct Backend {
  const char *name;
  /// Prepares the target (loads a driver, creates a stream...).
  bool (*init)(std::string &err);
  /// Allocates `bytes` of target memory, 64-byte aligned; nullptr + err.
  void *(*alloc)(size_t bytes, std::string &err);
  void (*free)(void *ptr);
  bool (*copyToTarget)(void *dst, const void *src, size_t bytes,
                       std::string &err);
  bool (*copyToHost)(void *dst, const void *src, size_t bytes,
                     std::string &err);
  /// Starts one forward; `buffers` as in SinterForwardFn.
  bool (*run)(const SinterModel *model, void *const *buffers, std::string &err);
  /// Waits until the forwards started so far have finished.
  bool (*sync)(std::string &err);
  /// Copies `bytes` between two buffers of target memory, ordered after the
  /// forwards started so far (the generation driver hands a state output
  /// that is not donated to the next step without a trip through the host).
  bool (*copyOnTarget)(void *dst, const void *src, size_t bytes,
                       std::string &err);
  /// Starts `g` (GreedyStep), ordered after the forwards started so far.
  bool (*greedyStep)(const GreedyStep &g, std::string &err);
  /// Sets `bytes` of target memory to zero, ordered like copyOnTarget (a
  /// new arena: the kernels' workspaces in it start zero).
  bool (*zero)(void *dst, size_t bytes, std::string &err);
};

/// The backend for a model's `target` string; nullptr when this runtime
/// has none.
const Backend *findBackend(const char *target);

extern const Backend cpuBackend;
/// The CUDA driver API backend (CudaBackend.cpp).
extern const Backend cudaBackend;
/// false with --no-graph: every forward launches kernel by kernel.
extern bool useCudaGraphs;
/// false with --no-programmatic-launch: the kernels of a forward launch one
/// after the other even where the model allows overlap
/// (SINTER_LAUNCH_PROGRAMMATIC).
extern bool useProgrammaticLaunch;
/// The name of the GPU the CUDA backend runs on ("" before it starts).
std::string cudaDeviceName();

} // namespace sinter::rt

#endif // SINTER_RUNTIME_BACKEND_H
