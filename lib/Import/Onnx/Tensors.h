//===- Tensors.h - ONNX TensorProto data as MLIR attributes -------*- C++ -*-===//

#ifndef SINTER_LIB_IMPORT_ONNX_TENSORS_H
#define SINTER_LIB_IMPORT_ONNX_TENSORS_H

#include "mlir/IR/BuiltinAttributeInterfaces.h"
#include "mlir/IR/MLIRContext.h"
#include "onnx/onnx_pb.h"

namespace sinter::onnx_import {

/// Converts a TensorProto (inline data, or external data read through mmap
/// from a file inside `modelDir`) to an ElementsAttr. External data becomes a
/// DenseResourceElementsAttr whose blob is the mapped file region, so the
/// weights are never copied. `what` names the tensor in errors.
mlir::FailureOr<mlir::ElementsAttr>
convertTensor(mlir::MLIRContext *ctx, const onnx::TensorProto &tensor,
              llvm::StringRef modelDir, std::string &why);

} // namespace sinter::onnx_import

#endif // SINTER_LIB_IMPORT_ONNX_TENSORS_H
