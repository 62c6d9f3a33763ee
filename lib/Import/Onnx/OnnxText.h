//===- OnnxText.h - ONNX text to a ModelProto, without throwing -*- C++ -*-===//

#ifndef SINTER_LIB_IMPORT_ONNX_ONNXTEXT_H
#define SINTER_LIB_IMPORT_ONNX_ONNXTEXT_H

#include "onnx/onnx_pb.h"

#include <string>

namespace sinter::onnx_import {

/// Parses ONNX text (NUL-terminated) into `model`; false with `why` set on
/// any error, including the exceptions onnx::OnnxParser lets escape.
bool parseOnnxText(const std::string &text, onnx::ModelProto &model,
                   std::string &why);

} // namespace sinter::onnx_import

#endif // SINTER_LIB_IMPORT_ONNX_ONNXTEXT_H
