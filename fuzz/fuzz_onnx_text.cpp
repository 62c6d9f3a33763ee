//===- fuzz_onnx_text.cpp - the ONNX importer on arbitrary bytes --------===//
//
// Input: ONNX text (onnx::OnnxParser syntax). The model's folder is an empty
// temporary directory, so external data always resolves inside it or fails.
// Every outcome but a diagnostic-and-null or a module is a finding.
//
//===----------------------------------------------------------------------===//

#include "FuzzContext.h"
#include "sinter/Import/OnnxImporter.h"

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <cstdlib>
#include <string>

static const std::string &modelPath() {
  static const std::string path = [] {
    const char *tmp = std::getenv("TMPDIR");
    std::string dir = std::string(tmp ? tmp : "/tmp") + "/sinter-fuzz-XXXXXX";
    if (!mkdtemp(dir.data()))
      std::abort();
    return dir + "/model.onnxtxt";
  }();
  return path;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto ctx = sinter::fuzz::makeContext();
  sinter::OnnxImportOptions options;
  (void)sinter::importOnnxBuffer(
      ctx.get(), llvm::StringRef(reinterpret_cast<const char *>(data), size),
      modelPath(), options);
  return 0;
}
