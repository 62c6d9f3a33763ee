//===- fuzz_tensorproto.cpp - the runtime's TensorProto reader -----------===//
//
// The hand-written protobuf decoder of lib/Runtime/TensorProto.cpp on
// arbitrary bytes: what the driver does with an input file that is not .npy.
//
//===----------------------------------------------------------------------===//

#include "Tensor.h"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::vector<uint8_t> file(data, data + size);
  sinter::rt::HostTensor t;
  std::string name, err;
  if (!sinter::rt::parseTensorProto(file, t, name, err))
    return 0;
  if (t.bytes.size() != size_t(t.numElements()) * sinter::rt::dtypeSize(t.dtype))
    std::abort();
  return 0;
}
