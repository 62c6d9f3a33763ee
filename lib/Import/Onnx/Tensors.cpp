//===- Tensors.cpp - ONNX TensorProto data as MLIR attributes -------------===//
//
// Inline data is copied into a DenseElementsAttr (it is small, or the model
// would not fit a protobuf). External data is mapped, never read whole:
// the mapping lives as long as the context's resource blob.
//
//===----------------------------------------------------------------------===//

#include "Tensors.h"
#include "ImporterInternals.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace mlir;

namespace sinter::onnx_import {

FailureOr<Type> convertElementType(MLIRContext *ctx, int32_t t) {
  Builder b(ctx);
  switch (t) {
  case onnx::TensorProto::FLOAT:
    return b.getF32Type();
  case onnx::TensorProto::FLOAT16:
    return b.getF16Type();
  case onnx::TensorProto::BFLOAT16:
    return b.getBF16Type();
  case onnx::TensorProto::DOUBLE:
    return b.getF64Type();
  case onnx::TensorProto::INT64:
    return b.getI64Type();
  case onnx::TensorProto::INT32:
    return b.getI32Type();
  case onnx::TensorProto::INT8:
    return b.getIntegerType(8);
  case onnx::TensorProto::BOOL:
    return b.getI1Type();
  default:
    return failure();
  }
}

llvm::StringRef onnxTypeName(int32_t t) {
  // TensorProto.DataType of the newest ONNX, where this build's proto is older.
  static const char *names[] = {
      "UNDEFINED", "FLOAT",      "UINT8",      "INT8",         "UINT16",
      "INT16",     "INT32",      "INT64",      "STRING",       "BOOL",
      "FLOAT16",   "DOUBLE",     "UINT32",     "UINT64",       "COMPLEX64",
      "COMPLEX128", "BFLOAT16",  "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ",
      "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4", "FLOAT4E2M1",
      "FLOAT8E8M0", "UINT2", "INT2"};
  if (t >= 0 && t < (int32_t)(sizeof(names) / sizeof(names[0])))
    return names[t];
  return "UNKNOWN";
}

static unsigned byteWidth(Type elt) {
  if (elt.isInteger(1))
    return 1; // ONNX stores bools as one byte each
  return elt.getIntOrFloatBitWidth() / 8;
}

/// Builds a DenseElementsAttr from little-endian bytes in ONNX layout.
static DenseElementsAttr fromRawBytes(RankedTensorType type, const char *data) {
  Type elt = type.getElementType();
  if (elt.isInteger(1)) {
    SmallVector<bool> bits(type.getNumElements());
    for (int64_t i = 0, e = bits.size(); i < e; ++i)
      bits[i] = data[i] != 0;
    return DenseElementsAttr::get(type, bits);
  }
  size_t bytes = type.getNumElements() * byteWidth(elt);
  return DenseElementsAttr::getFromRawBuffer(type, ArrayRef<char>(data, bytes));
}

/// Data held in the typed repeated fields (float_data, int32_data, ...).
static FailureOr<DenseElementsAttr>
fromTypedFields(RankedTensorType type, const onnx::TensorProto &t,
                std::string &why) {
  Type elt = type.getElementType();
  int64_t n = type.getNumElements();
  auto sizeError = [&](int64_t have) {
    why = "tensor '" + t.name() + "' holds " + std::to_string(have) +
          " values but its shape needs " + std::to_string(n);
    return failure();
  };
  if (elt.isF32()) {
    if (t.float_data_size() != n)
      return sizeError(t.float_data_size());
    return DenseElementsAttr::get(
        type, ArrayRef<float>(t.float_data().data(), t.float_data_size()));
  }
  if (elt.isF64()) {
    if (t.double_data_size() != n)
      return sizeError(t.double_data_size());
    return DenseElementsAttr::get(
        type, ArrayRef<double>(t.double_data().data(), t.double_data_size()));
  }
  if (elt.isInteger(64)) {
    if (t.int64_data_size() != n)
      return sizeError(t.int64_data_size());
    return DenseElementsAttr::get(
        type, ArrayRef<int64_t>(t.int64_data().data(), t.int64_data_size()));
  }
  // int32_data carries int32, int8 and bool values, and the bit patterns of
  // float16 and bfloat16.
  if (t.int32_data_size() != n)
    return sizeError(t.int32_data_size());
  if (elt.isInteger(1)) {
    SmallVector<bool> v(t.int32_data().begin(), t.int32_data().end());
    return DenseElementsAttr::get(type, ArrayRef<bool>(v));
  }
  if (elt.isInteger(32))
    return DenseElementsAttr::get(
        type, ArrayRef<int32_t>(t.int32_data().data(), t.int32_data_size()));
  if (elt.isInteger(8)) {
    SmallVector<int8_t> v(t.int32_data().begin(), t.int32_data().end());
    return DenseElementsAttr::get(type, ArrayRef<int8_t>(v));
  }
  if (elt.isF16() || elt.isBF16()) {
    SmallVector<uint16_t> v(t.int32_data().begin(), t.int32_data().end());
    return DenseElementsAttr::getFromRawBuffer(
        type, ArrayRef<char>(reinterpret_cast<const char *>(v.data()),
                             v.size() * 2));
  }
  why = "tensor '" + t.name() + "' has no data of its type";
  return failure();
}

namespace {
/// An mmap'd region that a resource blob owns.
struct Mapping {
  void *base;
  size_t length;
};
} // namespace

static FailureOr<ElementsAttr> fromExternal(RankedTensorType type,
                                            const onnx::TensorProto &t,
                                            llvm::StringRef modelDir,
                                            std::string &why,
                                            ExternalDataRef *external) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto &kv : t.external_data()) {
    if (kv.key() == "location")
      location = kv.value();
    else if (kv.key() == "offset" || kv.key() == "length") {
      int64_t v;
      if (llvm::StringRef(kv.value()).getAsInteger(10, v) || v < 0) {
        why = "tensor '" + t.name() + "': external data " + kv.key() + " '" +
              kv.value() + "' is not a non-negative integer";
        return failure();
      }
      (kv.key() == "offset" ? offset : length) = v;
    }
  }
  if (location.empty()) {
    why = "tensor '" + t.name() + "' has external data without a location";
    return failure();
  }
  // The location must name a file inside the model's folder: no absolute
  // paths, no way out through "..", no symbolic link that leads elsewhere.
  if (llvm::sys::path::is_absolute(location) ||
      llvm::StringRef(location).starts_with("~")) {
    why = "tensor '" + t.name() + "': external data location '" + location +
          "' is absolute; it must be relative to the model's folder";
    return failure();
  }
  for (auto it = llvm::sys::path::begin(location),
            e = llvm::sys::path::end(location);
       it != e; ++it)
    if (*it == "..") {
      why = "tensor '" + t.name() + "': external data location '" + location +
            "' leaves the model's folder";
      return failure();
    }
  llvm::SmallString<256> path(modelDir.empty() ? "." : modelDir);
  llvm::sys::path::append(path, location);
  llvm::SmallString<256> realDir, realFile;
  if (llvm::sys::fs::real_path(modelDir.empty() ? "." : modelDir, realDir) ||
      llvm::sys::fs::real_path(path, realFile)) {
    why = "tensor '" + t.name() + "': external data file '" + location +
          "' not found next to the model";
    return failure();
  }
  if (!llvm::StringRef(realFile).starts_with((realDir + "/").str())) {
    why = "tensor '" + t.name() + "': external data location '" + location +
          "' leaves the model's folder (resolves to " + realFile.str().str() +
          ")";
    return failure();
  }
  int64_t need = type.getNumElements() * byteWidth(type.getElementType());
  if (length >= 0 && length != need) {
    why = "tensor '" + t.name() + "': external data length " +
          std::to_string(length) + " does not match its shape (" +
          std::to_string(need) + " bytes)";
    return failure();
  }
  int fd = ::open(realFile.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    if (fd >= 0)
      ::close(fd);
    why = "tensor '" + t.name() + "': cannot open external data file '" +
          location + "'";
    return failure();
  }
  // Written so that a huge offset from the model cannot overflow.
  if (offset > st.st_size || need > st.st_size - offset) {
    ::close(fd);
    // offset + need may not fit int64_t: print it as unsigned.
    why = "tensor '" + t.name() + "': external data file '" + location +
          "' is too short (" + std::to_string(st.st_size) + " bytes, needs " +
          std::to_string(uint64_t(offset) + uint64_t(need)) + ")";
    return failure();
  }
  if (type.getElementType().isInteger(1) || need == 0 || type.getRank() == 0) {
    // Bools are re-packed; read the few bytes instead of mapping. A 0-d
    // tensor is one element, which the memref lowering needs as a scalar
    // attribute: it becomes an inline constant.
    std::string bytes(need, '\0');
    if (need && ::pread(fd, bytes.data(), need, offset) != need) {
      ::close(fd);
      why = "tensor '" + t.name() + "': cannot read external data";
      return failure();
    }
    ::close(fd);
    return ElementsAttr(fromRawBytes(type, bytes.data()));
  }
  if (external)
    *external = ExternalDataRef{location, offset, need, int64_t(st.st_size)};
  long page = ::sysconf(_SC_PAGESIZE);
  int64_t aligned = offset - offset % page;
  size_t mapLen = need + (offset - aligned);
  void *base = ::mmap(nullptr, mapLen, PROT_READ, MAP_PRIVATE, fd, aligned);
  ::close(fd);
  if (base == MAP_FAILED) {
    why = "tensor '" + t.name() + "': cannot map external data file '" +
          location + "'";
    return failure();
  }
  const char *data = static_cast<const char *>(base) + (offset - aligned);
  size_t align = 1;
  while (align < 64 && ((uintptr_t)data % (align * 2)) == 0)
    align *= 2;
  Mapping m{base, mapLen};
  AsmResourceBlob blob(
      ArrayRef<char>(data, need), align,
      [m](void *, size_t, size_t) { ::munmap(m.base, m.length); },
      /*dataIsMutable=*/false);
  std::string key = t.name().empty() ? "weight" : t.name();
  return ElementsAttr(DenseResourceElementsAttr::get(
      type, key, std::move(blob)));
}

int64_t checkedElementCount(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    if (d < 0 || (d > 0 && n > kMaxTensorElements / d))
      return -1;
    else
      n *= d;
  return n;
}

FailureOr<ElementsAttr> convertTensor(MLIRContext *ctx,
                                      const onnx::TensorProto &t,
                                      llvm::StringRef modelDir,
                                      std::string &why,
                                      ExternalDataRef *external) {
  FailureOr<Type> elt = convertElementType(ctx, t.data_type());
  if (failed(elt)) {
    why = "tensor '" + t.name() + "' has element type " +
          onnxTypeName(t.data_type()).str() + ", which Sinter does not support";
    return failure();
  }
  SmallVector<int64_t> dims(t.dims().begin(), t.dims().end());
  int64_t n = checkedElementCount(dims);
  if (n < 0) {
    why = "tensor '" + t.name() + "' has shape " + shape::str(dims) +
          ", which has a negative dimension or more than 2^40 elements";
    return failure();
  }
  auto type = RankedTensorType::get(dims, *elt);
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    return fromExternal(type, t, modelDir, why, external);
  if (t.has_raw_data()) {
    size_t need = n * byteWidth(*elt);
    if (t.raw_data().size() != need) {
      why = "tensor '" + t.name() + "' has " +
            std::to_string(t.raw_data().size()) +
            " bytes of raw data but its shape needs " + std::to_string(need);
      return failure();
    }
    return ElementsAttr(fromRawBytes(type, t.raw_data().data()));
  }
  FailureOr<DenseElementsAttr> attr = fromTypedFields(type, t, why);
  if (failed(attr))
    return failure();
  return ElementsAttr(*attr);
}

} // namespace sinter::onnx_import
