//===- sinterc.cpp - the Sinter compiler driver ---------------------------===//
//
// sinterc MODEL [options]: imports an ONNX model (binary .onnx or ONNX text
// .onnxtxt; an .mlir file is taken as already imported), runs the phases up
// to --compile-to, and writes the result. Errors go to stderr as
// "FILE: error: ..." and make the exit code 1.
//
//===----------------------------------------------------------------------===//

#include "sinter/Dialect/Graph/IR/GraphOps.h"
#include "sinter/Dialect/Graph/Transforms/Passes.h"
#include "sinter/Import/OnnxImporter.h"
#include "sinter/Pipelines/Pipelines.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <map>

using namespace mlir;
namespace cl = llvm::cl;

static cl::OptionCategory sinterCat("Sinter options");

static cl::opt<std::string> inputFile(cl::Positional, cl::Required,
                                      cl::desc("<model.onnx | model.onnxtxt | graph.mlir>"),
                                      cl::cat(sinterCat));
static cl::opt<std::string> outputFile("o", cl::desc("Output file ('-' for stdout, the default)"),
                                       cl::value_desc("file"), cl::init("-"),
                                       cl::cat(sinterCat));
static cl::opt<std::string> compileTo(
    "compile-to",
    cl::desc("Stop after this phase and write its IR: import, graph, fuse, "
             "lower, codegen, package"),
    cl::value_desc("phase"), cl::init(""), cl::cat(sinterCat));
static cl::opt<std::string> emit(
    "emit",
    cl::desc("What to write: 'graph' = the graph-dialect IR after the graph "
             "phase (imported and simplified)"),
    cl::value_desc("kind"), cl::init("graph"), cl::cat(sinterCat));
static cl::list<std::string> inputShapes(
    "input-shape",
    cl::desc("Fix an input's shape (NAME=1x64x2048) or a symbolic dimension "
             "(DIMPARAM=64); repeatable"),
    cl::value_desc("spec"), cl::cat(sinterCat));
static cl::opt<std::string> reportFile(
    "report",
    cl::desc("Write a JSON report of the compile: ops per kind after each "
             "phase, phases run, fusions taken or refused"),
    cl::value_desc("file.json"), cl::init(""), cl::cat(sinterCat));
static cl::opt<bool> printWeights(
    "print-weights",
    cl::desc("Print every constant in full (by default tensors of more than "
             "64 elements are elided, and the printed IR cannot be re-read)"),
    cl::init(false), cl::cat(sinterCat));
static cl::opt<bool> listOps("list-onnx-ops",
                             cl::desc("List the ONNX ops and since-versions "
                                      "the importer supports, then exit"),
                             cl::init(false), cl::cat(sinterCat));

namespace {

/// Prints "FILE: error: message" (FILE from the innermost file location) and
/// attached notes; keeps errors readable for people who never saw MLIR.
void installDiagnosticPrinter(MLIRContext &ctx) {
  ctx.getDiagEngine().registerHandler([](Diagnostic &diag) {
    std::string where;
    diag.getLocation()->walk([&](Location loc) {
      if (auto f = dyn_cast<FileLineColLoc>(loc)) {
        where = f.getFilename().str();
        if (f.getLine() > 0)
          where += ":" + std::to_string(f.getLine()) + ":" +
                   std::to_string(f.getColumn());
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    llvm::raw_ostream &os = llvm::errs();
    auto print = [&](Diagnostic &d, llvm::StringRef kind) {
      os << (where.empty() ? "sinterc" : where) << ": " << kind << ": " << d
         << "\n";
    };
    switch (diag.getSeverity()) {
    case DiagnosticSeverity::Error:
      print(diag, "error");
      break;
    case DiagnosticSeverity::Warning:
      print(diag, "warning");
      break;
    case DiagnosticSeverity::Remark:
      print(diag, "remark");
      break;
    case DiagnosticSeverity::Note:
      print(diag, "note");
      break;
    }
    for (Diagnostic &note : diag.getNotes())
      print(note, "note");
    return success();
  });
}

std::map<std::string, int64_t> countOps(ModuleOp module) {
  std::map<std::string, int64_t> counts;
  module.walk([&](Operation *op) {
    if (!isa<ModuleOp, func::FuncOp, func::ReturnOp>(op))
      ++counts[op->getName().getStringRef().str()];
  });
  return counts;
}

llvm::json::Object countsJson(const std::map<std::string, int64_t> &counts) {
  llvm::json::Object o;
  int64_t total = 0;
  for (const auto &kv : counts) {
    o[kv.first] = kv.second;
    total += kv.second;
  }
  o["total"] = total;
  return o;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM y(argc, argv);
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  cl::HideUnrelatedOptions(sinterCat);
  // Still accepted, documented by --help-hidden: MLIR's own IR-printing and
  // pass-manager flags, useful when debugging a phase.
  cl::ParseCommandLineOptions(
      argc, argv,
      "sinterc: compiles ONNX models to fused kernels and a driver program\n\n"
      "  sinterc model.onnx --emit=graph          print the optimized graph\n"
      "  sinterc model.onnx --compile-to=import   print the graph as imported\n"
      "  sinterc model.onnx --report=r.json       also write a compile report\n");

  if (listOps) {
    for (const std::string &line : sinter::listSupportedOnnxOps())
      llvm::outs() << line << "\n";
    return 0;
  }

  sinter::Phase stopAfter = sinter::Phase::Graph;
  if (!compileTo.empty()) {
    std::optional<sinter::Phase> p = sinter::parsePhase(compileTo);
    if (!p) {
      llvm::errs() << "sinterc: error: unknown phase '" << compileTo
                   << "' (phases: import, graph, fuse, lower, codegen, "
                      "package)\n";
      return 1;
    }
    if (!sinter::isPhaseImplemented(*p)) {
      llvm::errs() << "sinterc: error: phase '" << compileTo
                   << "' is not implemented in this build yet (implemented: "
                      "import, graph)\n";
      return 1;
    }
    stopAfter = *p;
  }
  if (emit != "graph") {
    llvm::errs() << "sinterc: error: unknown --emit kind '" << emit
                 << "' (this build emits: graph)\n";
    return 1;
  }

  sinter::OnnxImportOptions importOptions;
  for (const std::string &spec : inputShapes) {
    std::string why;
    if (failed(sinter::parseInputShapeOption(spec, importOptions, why))) {
      llvm::errs() << "sinterc: error: " << why << "\n";
      return 1;
    }
  }

  DialectRegistry registry;
  registry.insert<sinter::SinterDialect, func::FuncDialect, arith::ArithDialect,
                  tensor::TensorDialect>();
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  installDiagnosticPrinter(context);

  OwningOpRef<ModuleOp> module;
  if (llvm::StringRef(inputFile).ends_with(".mlir")) {
    llvm::SourceMgr sourceMgr;
    std::string err;
    auto buffer = openInputFile(inputFile, &err);
    if (!buffer) {
      llvm::errs() << inputFile << ": error: " << err << "\n";
      return 1;
    }
    sourceMgr.AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());
    module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  } else {
    module = sinter::importOnnxFile(&context, inputFile, importOptions);
  }
  if (!module)
    return 1;

  llvm::json::Object report;
  report["model"] = inputFile;
  llvm::json::Array phases;
  phases.push_back("import");
  report["ops_after_import"] = countsJson(countOps(*module));

  if (stopAfter >= sinter::Phase::Graph) {
    PassManager pm(&context);
    if (failed(applyPassManagerCLOptions(pm)))
      return 1;
    sinter::buildGraphPipeline(pm);
    if (failed(pm.run(*module)))
      return 1;
    phases.push_back("graph");
    report["ops_after_graph"] = countsJson(countOps(*module));
  }
  report["phases"] = std::move(phases);
  // The fuse phase is not implemented yet: no fusion was considered.
  report["fusions"] = llvm::json::Array();

  if (!reportFile.empty()) {
    std::string err;
    auto out = openOutputFile(reportFile, &err);
    if (!out) {
      llvm::errs() << "sinterc: error: " << err << "\n";
      return 1;
    }
    out->os() << llvm::formatv("{0:2}", llvm::json::Value(std::move(report)))
              << "\n";
    out->keep();
  }

  std::string err;
  auto out = openOutputFile(outputFile, &err);
  if (!out) {
    llvm::errs() << "sinterc: error: " << err << "\n";
    return 1;
  }
  OpPrintingFlags flags;
  if (!printWeights)
    flags.elideLargeElementsAttrs(64).elideLargeResourceString(64);
  module->print(out->os(), flags);
  out->os() << "\n";
  out->keep();
  return 0;
}
