//===- FuzzContext.h - an MLIRContext per fuzz input -----------*- C++ -*-===//
//
// A fresh single-threaded context per input, so that attributes and resource
// blobs of one input do not accumulate over millions of runs; diagnostics
// are swallowed (a refusal is the expected outcome for most inputs).
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_FUZZ_FUZZCONTEXT_H
#define SINTER_FUZZ_FUZZCONTEXT_H

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <cstdlib>
#include <memory>

namespace sinter::fuzz {

inline std::unique_ptr<mlir::MLIRContext> makeContext() {
  auto ctx = std::make_unique<mlir::MLIRContext>(
      mlir::MLIRContext::Threading::DISABLED);
  // SINTER_FUZZ_VERBOSE=1 prints the diagnostics (to triage a crash input).
  static const bool verbose = std::getenv("SINTER_FUZZ_VERBOSE");
  if (!verbose)
    ctx->getDiagEngine().registerHandler([](mlir::Diagnostic &) {});
  return ctx;
}

} // namespace sinter::fuzz

#endif // SINTER_FUZZ_FUZZCONTEXT_H
