//===- GenerateMatch.h - how prefill and decode graphs fit -*- C++ -*-===//
//
// The generation driver's view of its two graphs (docs/cli.md, "Generation
// driver"): the token input `input_ids`, the position input
// `position_ids` (int64 or int32, T elements; T = 1 for decode), the
// `logits` output (float, T x vocab); every other decode input is a state,
// updated by the output donated to it, else by the output the state naming
// convention gives (present.X, past_X -> present_X, X_in -> X_out,
// past_key_values.N.k -> present.N.k); prefill has the same state inputs
// (same dtype and shape) and outputs for them. Shared by the runtime
// (Generate.cpp, when the executable starts) and sinterc (at compile
// time, on descriptors built from its model descriptions), so both refuse
// the same graphs with the same messages. No dependency beyond the ABI
// header.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_RUNTIME_GENERATEMATCH_H
#define SINTER_RUNTIME_GENERATEMATCH_H

#include "sinter/Runtime/sinter_runtime.h"

#include <cstdint>
#include <string>
#include <vector>

namespace sinter::rt::gen {

/// A graph's token, position and logits tensors.
struct Io {
  int ids = -1, pos = -1, logits = -1;
  int64_t tokens = 0, vocab = 0;
};

/// How the two graphs fit together: per decode state input, the decode
/// output that updates it and prefill's input and output for it.
struct Plan {
  Io pre, dec;
  struct State {
    int decIn, decOut, preIn, preOut;
  };
  std::vector<State> states;
  /// Positions the KV caches hold (-1: no state is a position-indexed
  /// cache) and the input that says so ("input 'past_key.3' of the decode
  /// graph 'd.onnx'"). Not from makePlan: sinterc finds them in the graphs'
  /// cache writes (GenerateDriver.h, findCacheBound) and the executable's
  /// main passes them to sinter_generate_main.
  int64_t maxLen = -1;
  std::string maxLenInput;
};

/// false with a message naming the graph and the tensor when the two do
/// not fit.
bool makePlan(const SinterModel *prefill, const SinterModel *decode, Plan &p,
              std::string &err);

/// "prefill graph 'p.onnx'".
std::string graphName(const SinterModel *m, const char *role);
/// "float32[1,8]".
std::string typeOf(const SinterTensorInfo &t);

} // namespace sinter::rt::gen

#endif // SINTER_RUNTIME_GENERATEMATCH_H
