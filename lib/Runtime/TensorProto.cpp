//===- TensorProto.cpp - a minimal onnx.TensorProto reader ----------------===//
//
// Decodes the protobuf wire format by hand (no libprotobuf in generated
// executables): the fields a tensor file of ONNX's test data uses.
//
//   1 dims (int64, packed or not)   2 data_type        8 name   9 raw_data
//   4 float_data  5 int32_data  7 int64_data  10 double_data
//   14 data_location (EXTERNAL is refused)
//
// Every other field is skipped by its wire type. The int32_data field carries
// int32, int16, int8, uint8, bool and the bit patterns of float16/bfloat16.
//
//===----------------------------------------------------------------------===//

#include "Tensor.h"
#include "sinter/Runtime/sinter_runtime.h"

#include <cstring>

namespace sinter::rt {
namespace {

struct Reader {
  const uint8_t *p, *end;

  bool varint(uint64_t &v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p >= end)
        return false;
      uint8_t b = *p++;
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80))
        return true;
    }
    return false;
  }
  bool fixed(void *out, size_t n) {
    if (size_t(end - p) < n)
      return false;
    std::memcpy(out, p, n);
    p += n;
    return true;
  }
  bool bytes(const uint8_t *&data, size_t &n) {
    uint64_t len;
    if (!varint(len) || len > uint64_t(end - p))
      return false;
    data = p;
    n = size_t(len);
    p += len;
    return true;
  }
  bool skip(uint32_t wireType) {
    uint64_t v;
    const uint8_t *d;
    size_t n;
    switch (wireType) {
    case 0:
      return varint(v);
    case 1:
      return fixed(&v, 8);
    case 2:
      return bytes(d, n);
    case 5:
      return fixed(&v, 4);
    }
    return false; // groups (3, 4) and invalid wire types
  }
};

/// Appends the elements of a repeated scalar field, packed (wire type 2) or
/// not. `elemWire` is the wire type of one element (0 varint, 1 or 5 fixed).
template <typename Fn>
bool readRepeated(Reader &r, uint32_t wireType, uint32_t elemWire, Fn add) {
  auto one = [&](Reader &rr) -> bool {
    if (elemWire == 0) {
      uint64_t v;
      if (!rr.varint(v))
        return false;
      add(v);
      return true;
    }
    uint64_t v = 0;
    if (!rr.fixed(&v, elemWire == 1 ? 8 : 4))
      return false;
    add(v);
    return true;
  };
  if (wireType == 2) {
    const uint8_t *d;
    size_t n;
    if (!r.bytes(d, n))
      return false;
    Reader inner{d, d + n};
    while (inner.p < inner.end)
      if (!one(inner))
        return false;
    return true;
  }
  if (wireType != elemWire)
    return false;
  return one(r);
}

} // namespace

bool parseTensorProto(const std::vector<uint8_t> &file, HostTensor &out,
                      std::string &name, std::string &err) {
  Reader r{file.data(), file.data() + file.size()};
  std::vector<int64_t> dims;
  int64_t dataType = 0;
  const uint8_t *raw = nullptr;
  size_t rawSize = 0;
  bool haveRaw = false;
  // Typed fields, kept as 64-bit words until the dtype is known.
  std::vector<uint64_t> floatData, int32Data, int64Data, doubleData;
  while (r.p < r.end) {
    uint64_t key;
    if (!r.varint(key)) {
      err = "malformed protobuf (bad field key)";
      return false;
    }
    uint32_t field = uint32_t(key >> 3), wire = uint32_t(key & 7);
    bool ok = true;
    auto push = [](std::vector<uint64_t> &v) {
      return [&v](uint64_t x) { v.push_back(x); };
    };
    switch (field) {
    case 1:
      ok = readRepeated(r, wire, 0,
                        [&](uint64_t v) { dims.push_back(int64_t(v)); });
      break;
    case 2: {
      uint64_t v = 0;
      ok = wire == 0 && r.varint(v);
      dataType = int64_t(v);
      break;
    }
    case 4:
      ok = readRepeated(r, wire, 5, push(floatData));
      break;
    case 5:
      ok = readRepeated(r, wire, 0, push(int32Data));
      break;
    case 7:
      ok = readRepeated(r, wire, 0, push(int64Data));
      break;
    case 8: {
      const uint8_t *d;
      size_t n;
      ok = wire == 2 && r.bytes(d, n);
      if (ok)
        name.assign(reinterpret_cast<const char *>(d), n);
      break;
    }
    case 9:
      ok = wire == 2 && r.bytes(raw, rawSize);
      haveRaw = true;
      break;
    case 10:
      ok = readRepeated(r, wire, 1, push(doubleData));
      break;
    case 13:
    case 14: {
      if (field == 14 && wire == 0) {
        uint64_t v;
        ok = r.varint(v);
        if (ok && v == 1) {
          err = "the tensor's data is external (data_location = EXTERNAL); "
                "only tensors with embedded data can be read";
          return false;
        }
        break;
      }
      ok = r.skip(wire);
      break;
    }
    default:
      ok = r.skip(wire);
    }
    if (!ok) {
      err = "malformed protobuf (field " + std::to_string(field) + ")";
      return false;
    }
  }
  if (dataType == 0) {
    err = "no data_type field (is this an ONNX TensorProto?)";
    return false;
  }
  size_t elt = dtypeSize(int32_t(dataType));
  if (!elt) {
    err = "unsupported TensorProto data_type " + std::to_string(dataType);
    return false;
  }
  uint64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0 || (d != 0 && n > (uint64_t(1) << 48) / uint64_t(d))) {
      err = "invalid dims";
      return false;
    }
    n *= uint64_t(d);
  }
  out.dtype = int32_t(dataType);
  out.shape = dims;
  // The data must be there before anything is allocated for it: the dims
  // alone may ask for 2^48 elements (found by fuzz_tensorproto).
  if (haveRaw) {
    if (rawSize != n * elt) {
      err = "raw_data holds " + std::to_string(rawSize) + " bytes, shape " +
            shapeString(dims) + " of " + dtypeName(out.dtype) + " needs " +
            std::to_string(n * elt);
      return false;
    }
    out.bytes.assign(raw, raw + rawSize);
    return true;
  }
  const std::vector<uint64_t> *src;
  const char *field;
  switch (dataType) {
  case SINTER_DTYPE_FLOAT32:
    src = &floatData, field = "float_data";
    break;
  case SINTER_DTYPE_FLOAT64:
    src = &doubleData, field = "double_data";
    break;
  case SINTER_DTYPE_INT64:
    src = &int64Data, field = "int64_data";
    break;
  default:
    src = &int32Data, field = "int32_data";
  }
  if (src->size() != n) {
    err = std::string(field) + " holds " + std::to_string(src->size()) +
          " values, shape " + shapeString(dims) + " needs " + std::to_string(n);
    return false;
  }
  out.bytes.assign(n * elt, 0);
  // Little-endian host: the low `elt` bytes of each word are the element.
  for (uint64_t i = 0; i < n; ++i)
    std::memcpy(&out.bytes[i * elt], &(*src)[i], elt);
  return true;
}

} // namespace sinter::rt
