//===- fuzz_stablehlo.cpp - the StableHLO importer on arbitrary text -----===//
//
// importStableHloFile reads a path, so each input is written to one
// temporary file first. The importer expects the dialects sinterc loads.
//
//===----------------------------------------------------------------------===//

#include "FuzzContext.h"
#include "sinter/Dialect/Graph/IR/GraphOps.h"
#include "sinter/Import/StableHloImporter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

static const std::string &inputPath() {
  static const std::string path = [] {
    const char *tmp = std::getenv("TMPDIR");
    std::string dir = std::string(tmp ? tmp : "/tmp") + "/sinter-fuzz-XXXXXX";
    if (!mkdtemp(dir.data()))
      std::abort();
    return dir + "/input.mlir";
  }();
  return path;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FILE *f = std::fopen(inputPath().c_str(), "wb");
  if (!f || std::fwrite(data, 1, size, f) != size || std::fclose(f) != 0)
    std::abort();
  auto ctx = sinter::fuzz::makeContext();
  // What sinterc loads before it calls the importer.
  ctx->loadDialect<sinter::SinterDialect, mlir::func::FuncDialect,
                   mlir::arith::ArithDialect, mlir::tensor::TensorDialect>();
  (void)sinter::importStableHloFile(ctx.get(), inputPath());
  return 0;
}
