//===- Weights.h - loading a model's weights when a session opens -*- C++
//-*-===//
//
// A compiled model reads some weights through slots (SinterWeight.slot):
// external-data weights (mapped from the weights folder), the results of
// weight-pack plans (packed here, once), and on a GPU every weight (copied
// to one device allocation). The slots are globals of the model's code, so
// the weights are loaded once per process and model, shared by its
// sessions, and released with the last of them. docs/runtime.md.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_RUNTIME_WEIGHTS_H
#define SINTER_RUNTIME_WEIGHTS_H

#include "Backend.h"

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

} // namespace sinter::rt

#endif // SINTER_RUNTIME_WEIGHTS_H
