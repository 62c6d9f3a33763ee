//===- ConstantFolding.cpp - compile-time evaluation of constant nodes ----===//

#include "ImporterInternals.h"

using namespace mlir;

namespace sinter::onnx_import {

FailureOr<bool> tryConstantFold(NodeContext &ctx) {
  (void)ctx;
  return false;
}

} // namespace sinter::onnx_import
