//===- NNOps.cpp - ONNX linear algebra, reductions, normalizations --------===//

#include "ImporterInternals.h"

using namespace mlir;

namespace sinter::onnx_import {

void registerNNHandlers(HandlerRegistry &r) { (void)r; }

} // namespace sinter::onnx_import
