//===- Weights.h - loading a model's weights when a session opens -*- C++
//-*-===//
//
// A compiled model reads some weights through slots (SinterWeight.slot):
// external-data weights (mapped from the weights folder), the results of
// weight-pack plans (packed once: on the host for the CPU, on the device
// for a GPU), and on a GPU every weight (in one device allocation). The
// slots are globals of the model's code, so the weights are loaded once per
// process and model, shared by its sessions, and released with the last of
// them. docs/runtime.md.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_RUNTIME_WEIGHTS_H
#define SINTER_RUNTIME_WEIGHTS_H

#include "Backend.h"

#include <cstdint>
#include <string>

namespace sinter::rt {

/// Loads `model`'s weights for `backend` (from `dir`, or the folder the
/// model records when `dir` is null or empty) and fills its slots, unless
/// a session of the model already did; then counts one more user. false
/// with a message naming the file and the tensor on failure.
bool acquireWeights(const SinterModel *model, const Backend *backend,
                    const char *dir, std::string &err);

/// One user fewer; the last frees the weights and clears the slots.
void releaseWeights(const SinterModel *model);

/// --random-weights[=SEED] (timing runs of models whose weights are not at
/// hand): every external-data weight, and every pack built from one, is
/// filled with deterministic pseudo-random values instead of being read
/// (no weights file is opened; on a GPU the values are made there, by the
/// runtime's fill kernel). Floats are uniform in [-s, s), s = 1/sqrt(last
/// dimension) (1 for rank < 2); integer and bool weights are zero (indices
/// stay in range). Embedded weights are the executable's own and stay as
/// they are. Set before the first session opens. docs/runtime.md.
struct RandomWeights {
  bool enabled = false;
  uint64_t seed = 0;
};
extern RandomWeights randomWeights;

/// How element `e` of a randomly filled weight is made (the host and the
/// CUDA fill kernel compute the same bits): z = splitmix64 finalizer of
/// `base` + (e + 1) * 0x9E3779B97F4A7C15, v = (float(z >> 40) * 2^-23 - 1)
/// * scale, stored as the dtype (bfloat16: v's upper 16 bits).
struct RandomFill {
  uint64_t base = 0; // from the seed and the weight's index
  float scale = 1;
  /// 0 float32, 1 bfloat16, 2 float16, 3 float64, 4 zero bytes.
  int kind = 4;
  uint64_t count = 0; // elements (bytes for kind 4)
};

/// What applying weight-pack plans on a device needs from its backend
/// (the CUDA backend defines `cudaPacking`; a host target packs on the
/// host). Every call is ordered with the backend's other copies and
/// launches (one stream) and may return before it finished: `sync` waits.
struct DevicePacking {
  /// `height` rows of `width` bytes from `src` (pitch `srcPitch`; host
  /// memory when `srcOnHost`, else device memory) to the device at `dst`
  /// (pitch `dstPitch`). A host source may be reused on return.
  bool (*copy2D)(void *dst, size_t dstPitch, const void *src, size_t srcPitch,
                 size_t width, size_t height, bool srcOnHost,
                 std::string &err);
  /// dst[c * dstStride + r] = src[r * cols + c] for the `rows` x `cols`
  /// matrix `src` of `elementBytes`-byte elements (both on the device),
  /// with the kernel the compiler generated for it
  /// (`sinter_pack_transpose_<elementBytes>`).
  bool (*transpose)(void *dst, int64_t dstStride, const void *src,
                    int64_t rows, int64_t cols, size_t elementBytes,
                    std::string &err);
  /// Fills `dst` on the device as `f` says (--random-weights).
  bool (*fill)(void *dst, const RandomFill &f, std::string &err);
};
extern const DevicePacking cudaPacking;

} // namespace sinter::rt

#endif // SINTER_RUNTIME_WEIGHTS_H
