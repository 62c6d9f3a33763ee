//===- TensorOps.cpp - ONNX shape and data-movement ops -------------------===//

#include "ImporterInternals.h"

using namespace mlir;

namespace sinter::onnx_import {

void registerTensorHandlers(HandlerRegistry &r) { (void)r; }

} // namespace sinter::onnx_import
