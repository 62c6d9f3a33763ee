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
};
extern const DevicePacking cudaPacking;

} // namespace sinter::rt

#endif // SINTER_RUNTIME_WEIGHTS_H
