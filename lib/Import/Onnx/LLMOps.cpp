//===- LLMOps.cpp - ONNX LLM operators of opsets 23-27 --------------------===//

#include "ImporterInternals.h"

using namespace mlir;

namespace sinter::onnx_import {

void registerLLMHandlers(HandlerRegistry &r) { (void)r; }

} // namespace sinter::onnx_import
