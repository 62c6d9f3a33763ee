//===- OnnxText.cpp - onnx::OnnxParser behind a no-throw wall -------------===//
//
// onnx::OnnxParser reports most syntax errors through its Status, but some
// malformed numbers reach std::stoll/std::stof, which throw (found by
// fuzz_onnx_text). The rest of Sinter builds with -fno-exceptions, so this
// one file is compiled with -fexceptions to turn every throw into an error.
//
//===----------------------------------------------------------------------===//

#include "OnnxText.h"

#include "onnx/defs/parser.h"

#include <exception>

namespace sinter::onnx_import {

bool parseOnnxText(const std::string &text, onnx::ModelProto &model,
                   std::string &why) {
  try {
    onnx::Common::Status status = onnx::OnnxParser::Parse(model, text.c_str());
    if (!status.IsOK()) {
      why = status.ErrorMessage();
      return false;
    }
    return true;
  } catch (const std::exception &e) {
    why = std::string("a number is malformed or out of range (") + e.what() + ")";
  } catch (...) {
    why = "the ONNX text parser failed";
  }
  return false;
}

} // namespace sinter::onnx_import
