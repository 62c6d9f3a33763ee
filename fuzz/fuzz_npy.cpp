//===- fuzz_npy.cpp - the runtime's .npy reader on arbitrary bytes -------===//
//
// What `sinter_run`/the driver do with an input file named *.npy. A parsed
// tensor is re-encoded and parsed again: the round trip must agree.
//
//===----------------------------------------------------------------------===//

#include "Tensor.h"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::vector<uint8_t> file(data, data + size);
  sinter::rt::HostTensor t;
  std::string err;
  if (!sinter::rt::parseNpy(file, t, err))
    return 0;
  std::vector<uint8_t> again = sinter::rt::encodeNpy(
      t.dtype, t.shape.data(), t.shape.size(), t.bytes.data(), t.bytes.size());
  sinter::rt::HostTensor u;
  if (!sinter::rt::parseNpy(again, u, err) || u.dtype != t.dtype ||
      u.shape != t.shape || u.bytes != t.bytes)
    std::abort();
  return 0;
}
