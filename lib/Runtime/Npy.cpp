//===- Npy.cpp - .npy files and dtype helpers -----------------------------===//
//
// The .npy format (numpy.lib.format): magic "\x93NUMPY", a version, a header
// length and a Python dict literal with 'descr', 'fortran_order' and 'shape'.
// Only the dict shapes numpy itself writes are accepted; anything else is an
// error that says what was found.
//
//===----------------------------------------------------------------------===//

#include "Tensor.h"
#include "sinter/Runtime/sinter_runtime.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace sinter::rt {

int64_t HostTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::string dtypeName(int32_t dtype) {
  switch (dtype) {
  case SINTER_DTYPE_FLOAT32:
    return "float32";
  case SINTER_DTYPE_UINT8:
    return "uint8";
  case SINTER_DTYPE_INT8:
    return "int8";
  case SINTER_DTYPE_INT16:
    return "int16";
  case SINTER_DTYPE_INT32:
    return "int32";
  case SINTER_DTYPE_INT64:
    return "int64";
  case SINTER_DTYPE_BOOL:
    return "bool";
  case SINTER_DTYPE_FLOAT16:
    return "float16";
  case SINTER_DTYPE_FLOAT64:
    return "float64";
  case SINTER_DTYPE_BFLOAT16:
    return "bfloat16";
  }
  return "dtype " + std::to_string(dtype);
}

size_t dtypeSize(int32_t dtype) {
  switch (dtype) {
  case SINTER_DTYPE_UINT8:
  case SINTER_DTYPE_INT8:
  case SINTER_DTYPE_BOOL:
    return 1;
  case SINTER_DTYPE_INT16:
  case SINTER_DTYPE_FLOAT16:
  case SINTER_DTYPE_BFLOAT16:
    return 2;
  case SINTER_DTYPE_FLOAT32:
  case SINTER_DTYPE_INT32:
    return 4;
  case SINTER_DTYPE_INT64:
  case SINTER_DTYPE_FLOAT64:
    return 8;
  }
  return 0;
}

std::string shapeString(const int64_t *shape, size_t rank) {
  std::string s = "[";
  for (size_t i = 0; i < rank; ++i)
    s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

bool readFile(const std::string &path, std::vector<uint8_t> &out,
              std::string &err) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f) {
    err = std::strerror(errno);
    return false;
  }
  out.clear();
  uint8_t chunk[1 << 16];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof(chunk), f)) > 0)
    out.insert(out.end(), chunk, chunk + n);
  bool bad = std::ferror(f);
  int e = errno;
  std::fclose(f);
  if (bad) {
    err = std::strerror(e ? e : EIO);
    return false;
  }
  return true;
}

bool writeFile(const std::string &path, const std::vector<uint8_t> &data,
               std::string &err) {
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f) {
    err = std::strerror(errno);
    return false;
  }
  size_t n = std::fwrite(data.data(), 1, data.size(), f);
  int e = errno;
  if (std::fclose(f) != 0 || n != data.size()) {
    err = std::strerror(e ? e : EIO);
    return false;
  }
  return true;
}

namespace {

/// A cursor over the header dict, e.g.
/// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
struct DictParser {
  const std::string &s;
  size_t pos = 0;
  explicit DictParser(const std::string &s) : s(s) {}

  void skipSpace() {
    while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t' ||
                              s[pos] == '\n' || s[pos] == '\r'))
      ++pos;
  }
  bool consume(char c) {
    skipSpace();
    if (pos < s.size() && s[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }
  bool string(std::string &out) {
    skipSpace();
    if (pos >= s.size() || (s[pos] != '\'' && s[pos] != '"'))
      return false;
    char q = s[pos++];
    size_t end = s.find(q, pos);
    if (end == std::string::npos)
      return false;
    out = s.substr(pos, end - pos);
    pos = end + 1;
    return true;
  }
  bool word(std::string &out) {
    skipSpace();
    size_t start = pos;
    while (pos < s.size() &&
           (std::isalnum((unsigned char)s[pos]) || s[pos] == '_'))
      ++pos;
    out = s.substr(start, pos - start);
    return !out.empty();
  }
  bool tuple(std::vector<int64_t> &out) {
    if (!consume('('))
      return false;
    out.clear();
    while (!consume(')')) {
      std::string w;
      if (!word(w))
        return false;
      char *end = nullptr;
      long long v = std::strtoll(w.c_str(), &end, 10);
      if (*end != '\0' || v < 0)
        return false;
      out.push_back(v);
      if (!consume(',') && !(skipSpace(), pos < s.size() && s[pos] == ')'))
        return false;
    }
    return true;
  }
};

/// Maps a numpy descr ('<f4', '|b1', '<V2', 'bfloat16') to a dtype.
int32_t dtypeFromDescr(const std::string &descr, bool &bigEndian) {
  bigEndian = false;
  if (descr == "bfloat16")
    return SINTER_DTYPE_BFLOAT16;
  if (descr.size() < 3)
    return 0;
  char order = descr[0];
  if (order == '>')
    bigEndian = true;
  else if (order != '<' && order != '|' && order != '=')
    return 0;
  std::string kind = descr.substr(1);
  if (kind == "f4")
    return SINTER_DTYPE_FLOAT32;
  if (kind == "f2")
    return SINTER_DTYPE_FLOAT16;
  if (kind == "f8")
    return SINTER_DTYPE_FLOAT64;
  if (kind == "i8")
    return SINTER_DTYPE_INT64;
  if (kind == "i4")
    return SINTER_DTYPE_INT32;
  if (kind == "i2")
    return SINTER_DTYPE_INT16;
  if (kind == "i1")
    return SINTER_DTYPE_INT8;
  if (kind == "u1")
    return SINTER_DTYPE_UINT8;
  if (kind == "b1")
    return SINTER_DTYPE_BOOL;
  if (kind == "V2") // ml_dtypes.bfloat16 is saved as a 2-byte void
    return SINTER_DTYPE_BFLOAT16;
  return 0;
}

const char *descrOf(int32_t dtype) {
  switch (dtype) {
  case SINTER_DTYPE_FLOAT32:
    return "<f4";
  case SINTER_DTYPE_FLOAT16:
    return "<f2";
  case SINTER_DTYPE_FLOAT64:
    return "<f8";
  case SINTER_DTYPE_INT64:
    return "<i8";
  case SINTER_DTYPE_INT32:
    return "<i4";
  case SINTER_DTYPE_INT16:
    return "<i2";
  case SINTER_DTYPE_INT8:
    return "|i1";
  case SINTER_DTYPE_UINT8:
    return "|u1";
  case SINTER_DTYPE_BOOL:
    return "|b1";
  case SINTER_DTYPE_BFLOAT16:
    return "<V2"; // what ml_dtypes writes; np.load(...).view(bfloat16)
  }
  return "|V1";
}

/// Fortran order to C order, element by element.
std::vector<uint8_t> fortranToC(const std::vector<uint8_t> &src,
                                const std::vector<int64_t> &shape, size_t elt) {
  std::vector<uint8_t> dst(src.size());
  size_t rank = shape.size();
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  std::vector<int64_t> idx(rank, 0);
  for (int64_t c = 0; c < n; ++c) {
    // idx is the multi-index of C-order element c.
    int64_t f = 0, stride = 1;
    for (size_t k = 0; k < rank; ++k) {
      f += idx[k] * stride;
      stride *= shape[k];
    }
    std::memcpy(&dst[c * elt], &src[f * elt], elt);
    for (size_t k = rank; k-- > 0;) {
      if (++idx[k] < shape[k])
        break;
      idx[k] = 0;
    }
  }
  return dst;
}

} // namespace

bool parseNpy(const std::vector<uint8_t> &file, HostTensor &out,
              std::string &err) {
  static const char magic[] = "\x93NUMPY";
  if (file.size() < 10 || std::memcmp(file.data(), magic, 6) != 0) {
    err = "not a .npy file (no \\x93NUMPY magic)";
    return false;
  }
  uint8_t major = file[6];
  size_t headerLen, headerStart;
  if (major == 1) {
    headerLen = file[8] | (size_t(file[9]) << 8);
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (file.size() < 12) {
      err = "truncated .npy header";
      return false;
    }
    headerLen = file[8] | (size_t(file[9]) << 8) | (size_t(file[10]) << 16) |
                (size_t(file[11]) << 24);
    headerStart = 12;
  } else {
    err = "unsupported .npy format version " + std::to_string(major);
    return false;
  }
  if (headerStart + headerLen > file.size()) {
    err = "truncated .npy header";
    return false;
  }
  std::string header(reinterpret_cast<const char *>(&file[headerStart]),
                     headerLen);
  DictParser p(header);
  std::string descr;
  bool fortran = false, haveDescr = false, haveShape = false;
  std::vector<int64_t> shape;
  if (!p.consume('{')) {
    err = "malformed .npy header: " + header;
    return false;
  }
  while (!p.consume('}')) {
    std::string key, value;
    if (!p.string(key) || !p.consume(':')) {
      err = "malformed .npy header: " + header;
      return false;
    }
    bool ok;
    if (key == "descr") {
      ok = p.string(descr);
      haveDescr = true;
    } else if (key == "fortran_order") {
      ok = p.word(value) && (value == "True" || value == "False");
      fortran = value == "True";
    } else if (key == "shape") {
      ok = p.tuple(shape);
      haveShape = true;
    } else {
      ok = false;
    }
    if (!ok) {
      err =
          "malformed or unsupported .npy header field '" + key + "': " + header;
      return false;
    }
    if (!p.consume(',') &&
        !(p.skipSpace(), p.pos < header.size() && header[p.pos] == '}')) {
      err = "malformed .npy header: " + header;
      return false;
    }
  }
  if (!haveDescr || !haveShape) {
    err = "the .npy header lacks 'descr' or 'shape': " + header;
    return false;
  }
  bool bigEndian;
  int32_t dtype = dtypeFromDescr(descr, bigEndian);
  if (!dtype) {
    err = "unsupported .npy dtype '" + descr +
          "' (supported: float32, float16, bfloat16, float64, int64, int32, "
          "int16, int8, uint8, bool)";
    return false;
  }
  size_t elt = dtypeSize(dtype);
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d != 0 && n > (uint64_t(1) << 48) / uint64_t(d)) {
      err = "the .npy shape is too large";
      return false;
    }
    n *= uint64_t(d);
  }
  size_t dataStart = headerStart + headerLen;
  if (file.size() - dataStart < n * elt) {
    err = "truncated .npy data: expected " + std::to_string(n * elt) +
          " bytes for shape " + shapeString(shape) + ", found " +
          std::to_string(file.size() - dataStart);
    return false;
  }
  out.dtype = dtype;
  out.shape = shape;
  out.bytes.assign(file.begin() + dataStart,
                   file.begin() + dataStart + n * elt);
  if (bigEndian && elt > 1)
    for (size_t i = 0; i < out.bytes.size(); i += elt)
      for (size_t a = 0, b = elt - 1; a < b; ++a, --b)
        std::swap(out.bytes[i + a], out.bytes[i + b]);
  if (fortran && shape.size() > 1)
    out.bytes = fortranToC(out.bytes, shape, elt);
  return true;
}

std::vector<uint8_t> encodeNpy(int32_t dtype, const int64_t *shape, size_t rank,
                               const void *data, size_t bytes) {
  std::string dict = std::string("{'descr': '") + descrOf(dtype) +
                     "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < rank; ++i)
    dict += std::to_string(shape[i]) + (rank == 1      ? ","
                                        : i + 1 < rank ? ", "
                                                       : "");
  dict += "), }";
  // Pad with spaces so that the data starts at a multiple of 64 bytes.
  size_t total = 10 + dict.size() + 1;
  size_t padded = (total + 63) / 64 * 64;
  dict.append(padded - total, ' ');
  dict += '\n';
  std::vector<uint8_t> out;
  out.reserve(10 + dict.size() + bytes);
  const char magic[] = "\x93NUMPY\x01\x00";
  out.insert(out.end(), magic, magic + 8);
  out.push_back(uint8_t(dict.size() & 0xff));
  out.push_back(uint8_t(dict.size() >> 8));
  out.insert(out.end(), dict.begin(), dict.end());
  const uint8_t *p = static_cast<const uint8_t *>(data);
  out.insert(out.end(), p, p + bytes);
  return out;
}

bool readTensorFile(const std::string &path, HostTensor &out,
                    std::string &err) {
  std::vector<uint8_t> file;
  if (!readFile(path, file, err))
    return false;
  bool npy = file.size() >= 6 && std::memcmp(file.data(), "\x93NUMPY", 6) == 0;
  bool npyName =
      path.size() >= 4 && path.compare(path.size() - 4, 4, ".npy") == 0;
  if (npy || npyName)
    return parseNpy(file, out, err);
  std::string name;
  if (!parseTensorProto(file, out, name, err)) {
    err = "neither a .npy file nor an ONNX TensorProto: " + err;
    return false;
  }
  return true;
}

static float halfToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else { // subnormal: normalize
      exp = 127 - 15 + 1;
      while (!(man & 0x400)) {
        man <<= 1;
        --exp;
      }
      bits = sign | (exp << 23) | ((man & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000 | (man << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

double elementAsDouble(int32_t dtype, const void *data, int64_t i) {
  const uint8_t *p = static_cast<const uint8_t *>(data) + i * dtypeSize(dtype);
  switch (dtype) {
  case SINTER_DTYPE_FLOAT32: {
    float v;
    std::memcpy(&v, p, 4);
    return v;
  }
  case SINTER_DTYPE_FLOAT64: {
    double v;
    std::memcpy(&v, p, 8);
    return v;
  }
  case SINTER_DTYPE_FLOAT16: {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return halfToFloat(v);
  }
  case SINTER_DTYPE_BFLOAT16: {
    uint16_t v;
    std::memcpy(&v, p, 2);
    uint32_t bits = uint32_t(v) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  case SINTER_DTYPE_INT64: {
    int64_t v;
    std::memcpy(&v, p, 8);
    return double(v);
  }
  case SINTER_DTYPE_INT32: {
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  case SINTER_DTYPE_INT16: {
    int16_t v;
    std::memcpy(&v, p, 2);
    return v;
  }
  case SINTER_DTYPE_INT8:
    return int8_t(*p);
  case SINTER_DTYPE_UINT8:
  case SINTER_DTYPE_BOOL:
    return *p;
  }
  return 0;
}

} // namespace sinter::rt
