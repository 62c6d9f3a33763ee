//===- Tensors.h - ONNX TensorProto data as MLIR attributes -------*- C++ -*-===//

#ifndef SINTER_LIB_IMPORT_ONNX_TENSORS_H
#define SINTER_LIB_IMPORT_ONNX_TENSORS_H

#include "mlir/IR/BuiltinAttributeInterfaces.h"
#include "mlir/IR/MLIRContext.h"
#include "onnx/onnx_pb.h"

namespace sinter::onnx_import {

/// The most elements any tensor of an imported model may have (2^40: 4 TiB
/// of float32). Models are untrusted input (docs/security.md): shapes beyond
/// this are refused before anything allocates or multiplies by them.
constexpr int64_t kMaxTensorElements = int64_t(1) << 40;

/// The element count of `shape`, or -1 when a dimension is negative or the
/// count is over kMaxTensorElements.
int64_t checkedElementCount(llvm::ArrayRef<int64_t> shape);

/// Converts a TensorProto (inline data, or external data read through mmap
/// from a file inside `modelDir`) to an ElementsAttr. External data becomes a
/// DenseResourceElementsAttr whose blob is the mapped file region, so the
/// weights are never copied. `what` names the tensor in errors.
/// Where an external-data tensor's bytes are: what the package phase records
/// so that the executable reads them at load time (docs/runtime.md).
struct ExternalDataRef {
  std::string location; // relative to the model's folder
  int64_t offset = 0, bytes = 0;
  int64_t fileBytes = 0; // the file's size when the model was imported
};

mlir::FailureOr<mlir::ElementsAttr>
convertTensor(mlir::MLIRContext *ctx, const onnx::TensorProto &tensor,
              llvm::StringRef modelDir, std::string &why,
              ExternalDataRef *external = nullptr);

} // namespace sinter::onnx_import

#endif // SINTER_LIB_IMPORT_ONNX_TENSORS_H
