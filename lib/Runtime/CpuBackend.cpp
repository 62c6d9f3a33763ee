//===- CpuBackend.cpp - the runtime backend of the CPU target -------------===//
//
// Buffers are host memory and a forward is a direct call of the generated
// code. Also defines `memrefCopy`, which MLIR's memref-to-LLVM lowering calls
// for copies between non-contiguous memrefs (MLIR's own C runner utilities
// are not linked into Sinter executables).
//
//===----------------------------------------------------------------------===//

#include "Backend.h"
#include "Tensor.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace sinter::rt {
namespace {

bool cpuInit(std::string &) { return true; }

void *cpuAlloc(size_t bytes, std::string &err) {
  size_t rounded = (bytes + 63) / 64 * 64;
  void *p = std::aligned_alloc(64, rounded ? rounded : 64);
  if (!p)
    err = "out of memory allocating " + std::to_string(bytes) + " bytes";
  return p;
}

void cpuFree(void *p) { std::free(p); }

bool cpuCopy(void *dst, const void *src, size_t bytes, std::string &) {
  if (bytes)
    std::memcpy(dst, src, bytes);
  return true;
}

bool cpuRun(const SinterModel *model, void *const *buffers, std::string &err) {
  if (model->forward(buffers) != 0) {
    err = "the forward failed";
    return false;
  }
  return true;
}

bool cpuSync(std::string &) { return true; }

/// The host's GreedyStep: the same choice as the CUDA kernel (the first
/// largest value; -0 equals +0; NaN never chosen).
bool cpuGreedy(const GreedyStep &g, std::string &) {
  int64_t best = 0;
  double bestV = -INFINITY;
  bool any = false;
  for (int64_t v = 0; v < g.vocab; ++v) {
    double x = elementAsDouble(g.logitsDtype, g.logits, v);
    if (std::isnan(x)) {
      *g.nanAt = std::min(*g.nanAt, uint64_t(g.step) << 32 | uint64_t(v));
      continue;
    }
    if (!any || x > bestV) {
      bestV = x;
      best = v;
      any = true;
    }
  }
  if (g.idsDtype == SINTER_DTYPE_INT64)
    std::memcpy(g.ids, &best, 8);
  else
    *static_cast<int32_t *>(g.ids) = int32_t(best);
  if (g.posDtype == SINTER_DTYPE_INT64)
    std::memcpy(g.pos, &g.nextPos, 8);
  else
    *static_cast<int32_t *>(g.pos) = int32_t(g.nextPos);
  g.history[g.slot] = best;
  return true;
}

bool cpuZero(void *dst, size_t bytes, std::string &) {
  if (bytes)
    std::memset(dst, 0, bytes);
  return true;
}

} // namespace

const Backend cpuBackend = {"cpu",   cpuInit, cpuAlloc, cpuFree,  cpuCopy,
                            cpuCopy, cpuRun,  cpuSync,  cpuCopy, cpuGreedy,
                            cpuZero};

const Backend *findBackend(const char *target) {
  if (target && std::strcmp(target, "cpu") == 0)
    return &cpuBackend;
  if (target && std::strcmp(target, "cuda") == 0)
    return &cudaBackend;
  return nullptr;
}

} // namespace sinter::rt

// The ABI of MLIR's CRunnerUtils: an unranked memref is {rank, descriptor*},
// the descriptor {allocated, aligned, offset, sizes[rank], strides[rank]}.
namespace {
struct UnrankedMemRef {
  int64_t rank;
  void *descriptor;
};
struct Strided {
  char *allocated;
  char *aligned;
  int64_t offset;
  int64_t sizesAndStrides[1]; // sizes[rank] then strides[rank]
};
} // namespace

extern "C" void memrefCopy(int64_t elemSize, UnrankedMemRef *srcArg,
                           UnrankedMemRef *dstArg) {
  int64_t rank = srcArg->rank;
  auto *src = static_cast<Strided *>(srcArg->descriptor);
  auto *dst = static_cast<Strided *>(dstArg->descriptor);
  const int64_t *sizes = src->sizesAndStrides;
  const int64_t *srcStrides = src->sizesAndStrides + rank;
  const int64_t *dstStrides = dst->sizesAndStrides + rank;
  char *s = src->aligned + src->offset * elemSize;
  char *d = dst->aligned + dst->offset * elemSize;
  if (rank == 0) {
    std::memcpy(d, s, size_t(elemSize));
    return;
  }
  for (int64_t k = 0; k < rank; ++k)
    if (sizes[k] == 0)
      return;
  // Odometer over all but the innermost dimension.
  int64_t idx[64] = {0};
  if (rank > 64)
    std::abort();
  for (;;) {
    int64_t so = 0, dof = 0;
    for (int64_t k = 0; k + 1 < rank; ++k) {
      so += idx[k] * srcStrides[k];
      dof += idx[k] * dstStrides[k];
    }
    int64_t inner = sizes[rank - 1];
    if (srcStrides[rank - 1] == 1 && dstStrides[rank - 1] == 1) {
      std::memcpy(d + dof * elemSize, s + so * elemSize,
                  size_t(inner * elemSize));
    } else {
      for (int64_t i = 0; i < inner; ++i)
        std::memcpy(d + (dof + i * dstStrides[rank - 1]) * elemSize,
                    s + (so + i * srcStrides[rank - 1]) * elemSize,
                    size_t(elemSize));
    }
    int64_t k = rank - 2;
    for (; k >= 0; --k) {
      if (++idx[k] < sizes[k])
        break;
      idx[k] = 0;
    }
    if (k < 0)
      return;
  }
}
