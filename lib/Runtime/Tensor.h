//===- Tensor.h - host tensors and the files they come from -----*- C++ -*-===//
//
// The runtime's view of a tensor on the host: dtype, shape and row-major
// bytes. Inputs come from .npy files or ONNX TensorProto .pb files (as in
// ONNX's test data); outputs are written as .npy. Everything reports errors
// through a message string, never by exiting: the driver decides.
//
// Plain C++17: the runtime is linked into every generated executable and must
// not depend on LLVM or MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_RUNTIME_TENSOR_H
#define SINTER_RUNTIME_TENSOR_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sinter::rt {

struct HostTensor {
  int32_t dtype = 0; // enum SinterDType
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes; // row-major, little-endian

  int64_t numElements() const;
};

/// numpy-style name ("float32", "bfloat16", ...); "dtype N" when unknown.
std::string dtypeName(int32_t dtype);
/// Bytes per element, 0 for dtypes the runtime does not support.
size_t dtypeSize(int32_t dtype);
/// "[2,3]", "[]" for a scalar.
std::string shapeString(const int64_t *shape, size_t rank);
inline std::string shapeString(const std::vector<int64_t> &shape) {
  return shapeString(shape.data(), shape.size());
}

/// Reads a whole file; false with `err` set (strerror) when it cannot.
bool readFile(const std::string &path, std::vector<uint8_t> &out,
              std::string &err);

/// Parses a .npy file (format 1.0 to 3.0; little- or big-endian; C or
/// Fortran order, converted to C order). bfloat16 is numpy's '<V2' as
/// written by ml_dtypes.
bool parseNpy(const std::vector<uint8_t> &file, HostTensor &out,
              std::string &err);
/// Parses a serialized onnx.TensorProto (dims, data_type, raw_data or the
/// typed *_data fields, name). External data is refused.
bool parseTensorProto(const std::vector<uint8_t> &file, HostTensor &out,
                      std::string &name, std::string &err);
/// Reads a .npy or .pb file: by its magic number, else by its extension.
bool readTensorFile(const std::string &path, HostTensor &out, std::string &err);

/// Serializes a tensor as a .npy (format 1.0) file image.
std::vector<uint8_t> encodeNpy(int32_t dtype, const int64_t *shape, size_t rank,
                               const void *data, size_t bytes);
/// Writes `data` to `path`; false with `err` set when it cannot.
bool writeFile(const std::string &path, const std::vector<uint8_t> &data,
               std::string &err);

/// Float value of element `i` of a buffer of `dtype` (for printing).
double elementAsDouble(int32_t dtype, const void *data, int64_t i);

} // namespace sinter::rt

#endif // SINTER_RUNTIME_TENSOR_H
