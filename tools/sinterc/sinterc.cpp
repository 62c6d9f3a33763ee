//===- sinterc.cpp - the Sinter compiler driver ---------------------------===//
//
// sinterc MODEL [options]: imports an ONNX model (binary .onnx or ONNX text
// .onnxtxt; an .mlir file is taken as already imported), runs the phases up
// to --compile-to, and writes the result: the IR of that phase, or with
// --target=cpu an executable (--emit=exe), LLVM IR (--emit=llvm) or an
// object file (--emit=obj). Errors go to stderr as "FILE: error: ..." and
// make the exit code 1. `sinterc PREFILL DECODE --generate-driver -o gen`
// compiles two graphs into one generation executable (GenerateDriver.h).
//
//===----------------------------------------------------------------------===//

#include "sinter/Dialect/Graph/IR/GraphOps.h"
#include "sinter/Dialect/Graph/Transforms/Passes.h"
#include "sinter/Import/OnnxImporter.h"
#include "sinter/Import/StableHloImporter.h"
#include "sinter/Pipelines/KernelCount.h"
#include "sinter/Pipelines/Pipelines.h"
#include "sinter/Target/CPU/CPUTarget.h"
#include "sinter/Target/CUDA/CUDATarget.h"
#include "sinter/Runtime/sinter_runtime.h"

#include "GenerateDriver.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "mlir/Support/FileUtilities.h"
#include <chrono>
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <optional>
#include <vector>

using namespace mlir;
namespace cl = llvm::cl;

static cl::OptionCategory sinterCat("Sinter options");

static cl::opt<std::string> inputFile(cl::Positional, cl::Optional,
                                      cl::desc("<model.onnx | model.onnxtxt | graph.mlir | stablehlo.mlir>"),
                                      cl::cat(sinterCat));
static cl::opt<std::string> secondInputFile(
    cl::Positional, cl::Optional,
    cl::desc("[decode.onnx] (with --generate-driver: the decode graph; the "
             "first input is the prefill graph)"),
    cl::cat(sinterCat));
static cl::opt<bool> generateDriver(
    "generate-driver",
    cl::desc("Compile PREFILL DECODE (two inputs) into one executable that "
             "runs greedy generation: ./gen --generate N --prompt-ids 1,2,3"),
    cl::init(false), cl::cat(sinterCat));
static cl::opt<std::string> outputFile("o", cl::desc("Output file ('-' for stdout, the default)"),
                                       cl::value_desc("file"), cl::init("-"),
                                       cl::cat(sinterCat));
static cl::opt<std::string> compileTo(
    "compile-to",
    cl::desc("Stop after this phase and write its IR: import, graph, fuse, "
             "lower, codegen (MLIR); package = the whole compile"),
    cl::value_desc("phase"), cl::init(""), cl::cat(sinterCat));
static cl::opt<std::string> target(
    "target",
    cl::desc("Code generation target: cpu (x86-64 Linux) or cuda (NVIDIA "
             "GPUs through the CUDA driver; --gpu-arch). Phases from lower "
             "on need one; cpu is the default there"),
    cl::value_desc("name"), cl::init(""), cl::cat(sinterCat));
static cl::opt<std::string> emit(
    "emit",
    cl::desc("What to write: graph = the graph-dialect IR after the graph "
             "phase (the default without --target); exe = an executable "
             "(the default with --target); ptx = the kernels' PTX (cuda); "
             "shared = a shared library with the C API of sinter_runtime.h; llvm = optimized LLVM IR text; "
             "obj = the model's object file"),
    cl::value_desc("kind"), cl::init(""), cl::cat(sinterCat));
static cl::opt<std::string> gpuArch(
    "gpu-arch",
    cl::desc("With --target=cuda: the GPU architecture (sm_80, sm_89, "
             "sm_90a; default sm_90a)"),
    cl::value_desc("sm_XX"), cl::init("sm_90a"), cl::cat(sinterCat));
static cl::list<std::string> cudaExperimental(
    "cuda-experimental",
    cl::desc("With --target=cuda: alternative kernel forms, measured "
             "without a gain or not measured yet (docs/cli.md), to use "
             "instead of the default ones (attention-early-loads, "
             "attention-prologue-fewer-barriers, expert-down-deep, "
             "expert-cluster-combine, scan-hoist-vector); off by default"),
    cl::value_desc("name,..."), cl::CommaSeparated, cl::cat(sinterCat));
static cl::opt<sinter::cuda::ProgrammaticLaunch> cudaProgrammaticLaunch(
    "cuda-programmatic-launch",
    cl::desc("With --target=cuda and sm_90 or later: whether a kernel may "
             "launch before the one ahead of it has completed (programmatic "
             "dependent launch; every kernel then waits on griddepcontrol "
             "before it touches memory)"),
    cl::values(
        clEnumValN(sinter::cuda::ProgrammaticLaunch::None, "none",
                   "each kernel launches when the one before has completed"),
        clEnumValN(sinter::cuda::ProgrammaticLaunch::Wait, "wait",
                   "as the blocks of the one before exit (default)"),
        clEnumValN(sinter::cuda::ProgrammaticLaunch::Early, "early",
                   "while the one before runs, its blocks waiting on the "
                   "SMs"),
        clEnumValN(sinter::cuda::ProgrammaticLaunch::Weights, "weights",
                   "as wait, each kernel's leading loads of constant "
                   "weights issued above its wait"),
        clEnumValN(sinter::cuda::ProgrammaticLaunch::Late, "late",
                   "as weights, and the next kernel launched once this one "
                   "has issued its last weight load")),
    cl::init(sinter::cuda::ProgrammaticLaunch::Wait), cl::cat(sinterCat));
static cl::opt<std::string> cpuName(
    "cpu",
    cl::desc("x86-64 CPU to generate code for (default x86-64-v2, portable; "
             "'native' = this machine)"),
    cl::value_desc("name"), cl::init("x86-64-v2"), cl::cat(sinterCat));
static cl::opt<unsigned> optLevel("O",
                                  cl::desc("LLVM optimization level 0-3 "
                                           "(default 2)"),
                                  cl::Prefix, cl::init(2), cl::cat(sinterCat));
static cl::opt<bool> keepTemps(
    "keep-temps",
    cl::desc("Keep the temporary entry.c and model.o of --emit=exe"),
    cl::init(false), cl::cat(sinterCat));
static cl::opt<std::string> runtimeLib(
    "runtime-lib",
    cl::desc("libsinter_runtime.a to link (default: $SINTER_RUNTIME_LIB, else "
             "<sinterc's dir>/../lib/libsinter_runtime.a)"),
    cl::value_desc("path"), cl::init(""), cl::cat(sinterCat));
static cl::opt<std::string> linker(
    "linker",
    cl::desc("C++ compiler driver that links executables (default: "
             "$SINTER_CXX, else clang++-22, clang++, c++ or g++ on PATH)"),
    cl::value_desc("path"), cl::init(""), cl::cat(sinterCat));
static cl::list<std::string> freezeInputs(
    "freeze-input",
    cl::desc("Replace a graph input by the constant in an ONNX TensorProto "
             "file (NAME=FILE.pb), specializing shapes that depend on it; "
             "repeatable"),
    cl::value_desc("spec"), cl::cat(sinterCat));
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
static cl::list<std::string> disablePasses(
    "disable-pass",
    cl::desc("Do not run this fuse-phase pass (by its argument, for example "
             "sinter-fuse-parallel-linears); repeatable"),
    cl::value_desc("name"), cl::cat(sinterCat));
static cl::opt<bool> noFuse(
    "no-fuse",
    cl::desc("Run the fuse phase without any pass: every op stays its own "
             "kernel"),
    cl::init(false), cl::cat(sinterCat));
static cl::opt<bool> printRemarks(
    "remarks",
    cl::desc("Also print the fuse phase's decisions (fusions taken or "
             "refused) to stderr as remarks"),
    cl::init(false), cl::cat(sinterCat));
static cl::opt<bool> printWeights(
    "print-weights",
    cl::desc("Print every constant in full (by default tensors of more than "
             "64 elements are elided, and the printed IR cannot be re-read)"),
    cl::init(false), cl::cat(sinterCat));
static cl::opt<std::string> inputFormat(
    "input-format",
    cl::desc("Input format: onnx, mlir (sinter IR) or stablehlo (JAX's "
             "as_text()); by default from the file name, and a .mlir file "
             "with stablehlo ops is StableHLO"),
    cl::value_desc("format"), cl::init(""), cl::cat(sinterCat));
static cl::list<std::string> donatePairs(
    "donate",
    cl::desc("Update output OUT in place in the buffer of input IN (state "
             "donation: after a run IN holds the updated state); an error "
             "when the dataflow does not prove it safe; repeatable"),
    cl::value_desc("IN:OUT"), cl::cat(sinterCat));
static cl::opt<bool> noDonate(
    "no-donate",
    cl::desc("Do not donate the state inputs found by the naming convention "
             "(past_X/present_X, X/present.X); --donate pairs still apply"),
    cl::init(false), cl::cat(sinterCat));
static cl::opt<bool> listOps("list-onnx-ops",
                             cl::desc("List the ONNX ops and since-versions "
                                      "the importer supports, then exit"),
                             cl::init(false), cl::cat(sinterCat));

namespace {

/// A location as people read it: the ONNX node name when there is one, then
/// "file:line:col" when the line is known.
std::string describeLoc(Location loc) {
  std::string name, file;
  loc->walk([&](Location l) {
    if (auto n = dyn_cast<NameLoc>(l); n && name.empty())
      name = n.getName().str();
    if (auto f = dyn_cast<FileLineColLoc>(l); f && file.empty() &&
                                              f.getLine() > 0)
      file = (f.getFilename().str() + ":" + std::to_string(f.getLine()) +
              ":" + std::to_string(f.getColumn()));
    return WalkResult::advance();
  });
  if (!name.empty() && !file.empty())
    return name + " (" + file + ")";
  return name.empty() ? file : name;
}

/// One fuse-phase decision, parsed from a remark in the FusionRemarks.h form
/// "<pass>: fused: <what>" or "<pass>: refused: <why>".
struct FusionDecision {
  std::string pass, decision, detail, location;
  std::vector<std::pair<std::string, std::string>> involves; // op, location
};

/// Parses a FusionRemarks.h remark; nullopt for any other diagnostic.
std::optional<FusionDecision> parseFusionRemark(Diagnostic &diag) {
  if (diag.getSeverity() != DiagnosticSeverity::Remark)
    return std::nullopt;
  std::string msg = diag.str();
  llvm::StringRef rest(msg);
  auto [pass, afterPass] = rest.split(": ");
  if (pass.empty() || pass.contains(' ') || afterPass.empty())
    return std::nullopt;
  FusionDecision d;
  if (afterPass.consume_front("fused: "))
    d.decision = "fused";
  else if (afterPass.consume_front("refused: "))
    d.decision = "refused";
  else
    return std::nullopt;
  d.pass = pass.str();
  d.detail = afterPass.str();
  d.location = describeLoc(diag.getLocation());
  for (Diagnostic &note : diag.getNotes()) {
    std::string text = note.str();
    llvm::StringRef t(text);
    if (t.consume_front("involves: "))
      d.involves.emplace_back(t.split(" ").first.str(),
                              describeLoc(note.getLocation()));
  }
  return d;
}

/// Fusion decisions seen so far (collected for the report).
std::vector<FusionDecision> &fusionDecisions() {
  static std::vector<FusionDecision> decisions;
  return decisions;
}

/// Prints "FILE: error: message" (FILE from the innermost file location) and
/// attached notes; keeps errors readable for people who never saw MLIR.
/// Fuse-phase decisions are collected for the report and printed only with
/// --remarks.
/// Errors printed so far: a pass may emit an error and still succeed (MLIR's
/// NVVM serialization when the CUDA toolkit path does not exist), which
/// must still fail the compile.
int &errorsPrinted() {
  static int n = 0;
  return n;
}

void installDiagnosticPrinter(MLIRContext &ctx) {
  ctx.getDiagEngine().registerHandler([](Diagnostic &diag) {
    if (std::optional<FusionDecision> d = parseFusionRemark(diag)) {
      fusionDecisions().push_back(std::move(*d));
      if (!printRemarks)
        return success();
    }
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
      ++errorsPrinted();
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

namespace {

/// Writes `data` to `path` ("-" is stdout); false after printing an error.
bool writeOutput(llvm::StringRef path,
                 llvm::function_ref<void(llvm::raw_ostream &)> write) {
  std::string err;
  auto out = openOutputFile(path, &err);
  if (!out) {
    llvm::errs() << "sinterc: error: " << err << "\n";
    return false;
  }
  write(out->os());
  out->keep();
  return true;
}

/// The file name an artifact gets when -o is not given.
std::string defaultOutput(llvm::StringRef kind) {
  llvm::StringRef stem = llvm::sys::path::stem(inputFile.getValue());
  if (kind == "exe")
    return stem.str();
  if (kind == "obj")
    return (stem + ".o").str();
  if (kind == "shared")
    return ("lib" + stem + ".so").str();
  return "-";
}

/// `--report=-`: the report as a few readable lines.
void printReportSummary(const llvm::json::Object &report,
                        llvm::raw_ostream &os) {
  auto str = [](const llvm::json::Value *v) {
    return v && v->getAsString() ? v->getAsString()->str() : std::string();
  };
  os << "sinter report: " << str(report.get("model"));
  if (const llvm::json::Value *t = report.get("target"))
    os << " (target " << str(t) << ")";
  os << "\n";
  if (const llvm::json::Array *phases = report.getArray("phases")) {
    os << "phases: ";
    llvm::interleaveComma(*phases, os,
                          [&](const llvm::json::Value &p) { os << str(&p); });
    os << "\n";
  }
  if (const llvm::json::Object *k = report.getObject("kernels_per_forward")) {
    std::optional<int64_t> before = k->getInteger("before_fuse");
    std::optional<int64_t> after = k->getInteger("after_fuse");
    if (before && after)
      os << "kernels per forward: " << *before << " before fuse, " << *after
         << " after (" << (*after - *before >= 0 ? "+" : "")
         << (*after - *before) << "); ops "
         << k->getInteger("ops_before_fuse").value_or(0) << " -> "
         << k->getInteger("ops_after_fuse").value_or(0) << "\n";
    else if (before)
      os << "kernels per forward: " << *before << " (fuse phase not run)\n";
    if (std::optional<int64_t> lowered = k->getInteger("after_lower"))
      os << "kernels per forward after lower (formed): " << *lowered << "\n";
  }
  if (const llvm::json::Array *layers = report.getArray("launches_per_layer");
      layers && !layers->empty()) {
    os << "kernel launches per layer:";
    for (const llvm::json::Value &v : *layers)
      if (const llvm::json::Object *o = v.getAsObject())
        os << " " << str(o->get("layer")) << " "
           << o->getInteger("launches").value_or(0);
    os << "\n";
  }
  if (const llvm::json::Object *t = report.getObject("compile_seconds")) {
    os << "compile seconds:";
    if (const llvm::json::Array *phases = report.getArray("phases"))
      for (const llvm::json::Value &p : *phases)
        if (std::optional<double> sec = t->getNumber(str(&p)))
          os << " " << str(&p) << " " << llvm::formatv("{0:F2}", *sec);
    os << ", total "
       << llvm::formatv("{0:F2}", t->getNumber("total").value_or(0)) << "\n";
  }
  if (const llvm::json::Object *f = report.getObject("fuse")) {
    if (f->getBoolean("enabled") == false)
      os << "fuse phase: off (--no-fuse)\n";
    else if (const llvm::json::Array *off = f->getArray("passes_disabled");
             off && !off->empty()) {
      os << "fuse passes disabled: ";
      llvm::interleaveComma(*off, os,
                            [&](const llvm::json::Value &p) { os << str(&p); });
      os << "\n";
    }
  }
  if (const llvm::json::Array *fusions = report.getArray("fusions")) {
    int taken = 0;
    for (const llvm::json::Value &v : *fusions)
      if (str(v.getAsObject()->get("decision")) == "fused")
        ++taken;
    os << "fusions: " << taken << " taken, " << fusions->size() - taken
       << " refused\n";
    for (const llvm::json::Value &v : *fusions) {
      const llvm::json::Object &o = *v.getAsObject();
      os << "  " << (str(o.get("decision")) == "fused" ? "fused   " : "refused ")
         << str(o.get("pass")) << ": " << str(o.get("detail"));
      std::string loc = str(o.get("location"));
      if (!loc.empty())
        os << " [at " << loc << "]";
      if (const llvm::json::Array *inv = o.getArray("involves");
          inv && !inv->empty()) {
        os << " (involves ";
        llvm::interleaveComma(*inv, os, [&](const llvm::json::Value &i) {
          os << str(i.getAsObject()->get("op"));
        });
        os << ")";
      }
      os << "\n";
    }
  }
  if (const llvm::json::Object *p = report.getObject("pack_plan"))
    os << "weight pack plan: " << p->getInteger("ops").value_or(0)
       << " ops, " << p->getInteger("bytes_moved_at_load").value_or(0)
       << " bytes moved at load time\n";
  if (const llvm::json::Object *m = report.getObject("memory_plan"))
    os << "memory plan: arena " << m->getInteger("arena_bytes").value_or(0)
       << " bytes, " << m->getInteger("unplanned_allocs").value_or(0)
       << " unplanned allocations, "
       << m->getInteger("copy_bytes").value_or(0)
       << " bytes copied per forward\n";
  if (const llvm::json::Object *d = report.getObject("donations")) {
    const llvm::json::Array *pairs = d->getArray("pairs");
    const llvm::json::Array *refused = d->getArray("refused");
    os << "state donation: " << (pairs ? pairs->size() : 0) << " pairs, "
       << d->getInteger("bytes").value_or(0) << " bytes updated in place\n";
    if (pairs)
      for (const llvm::json::Value &v : *pairs)
        os << "  donated " << str(v.getAsObject()->get("input")) << " -> "
           << str(v.getAsObject()->get("output")) << "\n";
    if (refused)
      for (const llvm::json::Value &v : *refused)
        os << "  refused " << str(&v) << "\n";
  }
}

/// The donated pairs (input -> output, from the model descriptor) and the
/// refused candidates with their reasons (sinter-donate-state).
llvm::json::Object donationReport(const sinter::cpu::ModelDesc &model,
                                  ModuleOp module) {
  llvm::json::Array pairs, refused;
  int64_t bytes = 0;
  for (const sinter::cpu::TensorDesc &out : model.outputs) {
    if (out.donor < 0)
      continue;
    pairs.push_back(llvm::json::Object{
        {"input", model.inputs[size_t(out.donor)].name}, {"output", out.name}});
    bytes += out.bytes();
  }
  for (func::FuncOp f : module.getOps<func::FuncOp>())
    if (auto why = f->getAttrOfType<ArrayAttr>("sinter.donation_refusals"))
      for (Attribute a : why)
        if (auto s = dyn_cast<StringAttr>(a))
          refused.push_back(s.str());
  return llvm::json::Object{{"pairs", std::move(pairs)},
                            {"refused", std::move(refused)},
                            {"bytes", bytes}};
}

} // namespace

/// A model compiled for --generate-driver, before its object file.
struct GenUnitOut {
  const char *role = ""; // "prefill" or "decode"
  sinter::gen::Unit unit;
  sinter::cpu::CodegenOptions codegen;
  llvm::json::Object report;
};

/// What main decided from the command line for every model it compiles.
struct Job {
  bool cudaTarget = false;
  std::string emitKind, targetName, output;
  sinter::Phase stopAfter = sinter::Phase::Graph;
  bool packaging = false;
  std::chrono::steady_clock::time_point startTime;
  const char *argv0 = nullptr;
};

/// Compiles `input` as `job` says and writes the result. With `gen`
/// (--generate-driver), stops after the optimized LLVM IR instead and
/// leaves it, the model's descriptor and the report in `gen`.
static int compileModel(const std::string &input, const Job &job,
                        GenUnitOut *gen) {
  const bool cudaTarget = job.cudaTarget;
  const std::string &emitKind = job.emitKind;
  const sinter::Phase stopAfter = job.stopAfter;
  const bool packaging = job.packaging;
  const std::string &targetName = job.targetName;
  const std::string &output = job.output;
  const auto startTime = job.startTime;
  fusionDecisions().clear();
  sinter::OnnxImportOptions importOptions;
  for (const std::string &spec : freezeInputs) {
    auto [name, file] = llvm::StringRef(spec).split('=');
    if (name.empty() || file.empty()) {
      llvm::errs() << "sinterc: error: --freeze-input expects NAME=FILE.pb, "
                      "got '" << spec << "'\n";
      return 1;
    }
    importOptions.frozenInputs[name] = file.str();
  }
  for (const std::string &spec : inputShapes) {
    std::string why;
    if (failed(sinter::parseInputShapeOption(spec, importOptions, why))) {
      llvm::errs() << "sinterc: error: " << why << "\n";
      return 1;
    }
  }

  sinter::FuseOptions fuseOptions;
  fuseOptions.enabled = !noFuse;
  {
    llvm::SmallVector<std::string> known = sinter::fusePassNames();
    for (const std::string &name : disablePasses) {
      if (!llvm::is_contained(known, name)) {
        llvm::errs() << "sinterc: error: --disable-pass=" << name
                     << ": no such fuse-phase pass (known: "
                     << (known.empty() ? std::string("none yet")
                                       : llvm::join(known, ", "))
                     << ")\n";
        return 1;
      }
      fuseOptions.disabledPasses.insert(name);
    }
  }

  DialectRegistry registry;
  registry.insert<sinter::SinterDialect, func::FuncDialect, arith::ArithDialect,
                  tensor::TensorDialect>();
  sinter::cpu::registerCpuTargetDialects(registry);
  sinter::cuda::registerCudaTargetDialects(registry);
  MLIRContext context(registry);
  context.loadDialect<sinter::SinterDialect, func::FuncDialect,
                      arith::ArithDialect, tensor::TensorDialect>();
  installDiagnosticPrinter(context);

  OwningOpRef<ModuleOp> module;
  bool isMlir = llvm::StringRef(input).ends_with(".mlir");
  bool isStableHlo = inputFormat == "stablehlo";
  if (inputFormat.empty() && isMlir) {
    // StableHLO text is detected by content (`stablehlo.` ops).
    std::string err;
    if (auto buffer = openInputFile(input, &err))
      isStableHlo = sinter::looksLikeStableHlo(buffer->getBuffer());
  }
  if (!inputFormat.empty() && inputFormat != "stablehlo" &&
      inputFormat != "mlir" && inputFormat != "onnx") {
    llvm::errs() << "sinterc: error: --input-format=" << inputFormat
                 << ": expected onnx, mlir or stablehlo\n";
    return 1;
  }
  if (isStableHlo) {
    module = sinter::importStableHloFile(&context, input);
  } else if (inputFormat == "mlir" || (inputFormat.empty() && isMlir)) {
    llvm::SourceMgr sourceMgr;
    std::string err;
    auto buffer = openInputFile(input, &err);
    if (!buffer) {
      llvm::errs() << input << ": error: " << err << "\n";
      return 1;
    }
    sourceMgr.AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());
    module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  } else {
    module = sinter::importOnnxFile(&context, input, importOptions);
  }
  if (!module)
    return 1;
  // The KV caches' length, from the graph as imported (its cache writes
  // are still the ONNX ops there).
  if (gen) {
    std::string err;
    std::string graph = std::string(gen->role) + " graph '" +
                        llvm::sys::path::filename(input).str() + "'";
    if (!sinter::gen::findCacheBound(*module, graph, gen->unit.cache, err)) {
      llvm::errs() << input << ": error: " << err << "\n";
      return 1;
    }
  }

  llvm::json::Object report;
  report["model"] = input;
  // Wall seconds per phase (issue 7 asks for the compile time of the full
  // model; this says where it goes). `import` counts from the start of the
  // program: option parsing and reading the file.
  llvm::json::Object seconds;
  auto phaseStart = startTime;
  const auto compileStart = startTime;
  auto lap = [&](llvm::StringRef phase) {
    auto now = std::chrono::steady_clock::now();
    seconds[phase] =
        std::chrono::duration<double>(now - phaseStart).count();
    phaseStart = now;
  };
  if (!targetName.empty())
    report["target"] = targetName;
  llvm::json::Array phases;
  phases.push_back("import");
  lap("import");
  report["ops_after_import"] = countsJson(countOps(*module));

  auto runPhase = [&](sinter::Phase phase,
                      llvm::function_ref<void(OpPassManager &)> build) {
    PassManager pm(&context);
    if (failed(applyPassManagerCLOptions(pm)))
      return false;
    applyDefaultTimingPassManagerCLOptions(pm); // --mlir-timing
    build(pm);
    int errorsBefore = errorsPrinted();
    if (failed(pm.run(*module)))
      return false;
    if (errorsPrinted() > errorsBefore) {
      llvm::errs() << "sinterc: error: the " << sinter::phaseName(phase)
                   << " phase reported errors (above)\n";
      return false;
    }
    phases.push_back(sinter::phaseName(phase));
    lap(sinter::phaseName(phase));
    report[("ops_after_" + sinter::phaseName(phase)).str()] =
        countsJson(countOps(*module));
    return true;
  };

  if (stopAfter >= sinter::Phase::Graph &&
      !runPhase(sinter::Phase::Graph, sinter::buildGraphPipeline))
    return 1;
  // Kernels per forward before and after the fuse phase (KernelCount.h
  // says what counts), and the weight-pack plan the fuse phase leaves.
  llvm::json::Object kernels{
      {"counted", "ops of the forward that launch a kernel (not constants, "
                  "views, the weight-pack plan); a connected chain of "
                  "elementwise ops is one kernel; ops_* count every op"}};
  std::optional<sinter::KernelCount> kernelsBefore, kernelsAfter;
  if (stopAfter >= sinter::Phase::Graph) {
    kernelsBefore = sinter::countKernels(*module);
    kernels["before_fuse"] = kernelsBefore->kernels;
    kernels["ops_before_fuse"] = kernelsBefore->ops;
  }
  if (stopAfter >= sinter::Phase::Fuse) {
    if (!runPhase(sinter::Phase::Fuse, [&](OpPassManager &pm) {
          sinter::buildFusePipeline(pm, fuseOptions);
        }))
      return 1;
    kernelsAfter = sinter::countKernels(*module);
    kernels["after_fuse"] = kernelsAfter->kernels;
    kernels["ops_after_fuse"] = kernelsAfter->ops;
    llvm::json::Array ran, disabled;
    llvm::SmallVector<std::string> known = sinter::fusePassNames();
    for (const std::string &name : known)
      (fuseOptions.isPassEnabled(name) ? ran : disabled).push_back(name);
    report["fuse"] = llvm::json::Object{{"enabled", fuseOptions.enabled},
                                        {"passes_run", std::move(ran)},
                                        {"passes_disabled", std::move(disabled)}};
    report["pack_plan"] = llvm::json::Object{
        {"ops", kernelsAfter->packOps},
        {"bytes_moved_at_load", kernelsAfter->packBytes}};
  }
  report["kernels_per_forward"] = std::move(kernels);
  {
    llvm::json::Array fusions;
    for (const FusionDecision &d : fusionDecisions()) {
      llvm::json::Array involves;
      for (const auto &[op, loc] : d.involves)
        involves.push_back(llvm::json::Object{{"op", op}, {"location", loc}});
      fusions.push_back(llvm::json::Object{{"pass", d.pass},
                                           {"decision", d.decision},
                                           {"detail", d.detail},
                                           {"location", d.location},
                                           {"involves", std::move(involves)}});
    }
    report["fusions"] = std::move(fusions);
  }

  std::optional<sinter::cpu::ModelDesc> model;
  if (stopAfter >= sinter::Phase::Lower) {
    sinter::LowerOptions lowerOptions;
    lowerOptions.autoDonate = !noDonate;
    lowerOptions.donate.assign(donatePairs.begin(), donatePairs.end());
    if (!runPhase(sinter::Phase::Lower, [&](OpPassManager &pm) {
          sinter::buildLowerPipeline(pm, lowerOptions);
        }))
      return 1;
    if (llvm::json::Object *k = report.getObject("kernels_per_forward"))
      (*k)["after_lower"] = sinter::countLoweredKernels(*module);
    FailureOr<sinter::cpu::ModelDesc> desc =
        sinter::cpu::describeLoweredModel(*module);
    if (failed(desc))
      return 1;
    model = std::move(*desc);
    model->name = llvm::sys::path::filename(input).str();
    report["memory_plan"] = llvm::json::Object{
        {"arena_bytes", int64_t(model->arenaBytes)},
        {"unplanned_allocs", model->unplannedAllocs},
        {"copy_bytes", model->copyBytes}};
    report["donations"] = donationReport(*model, *module);
  }
  if (stopAfter >= sinter::Phase::Codegen &&
      !runPhase(sinter::Phase::Codegen, [&](OpPassManager &pm) {
        if (!cudaTarget)
          return sinter::buildCpuCodegenPipeline(pm);
        sinter::cuda::CudaOptions cuda;
        cuda.gpuArch = gpuArch;
        cuda.experimental.assign(cudaExperimental.begin(),
                                 cudaExperimental.end());
        cuda.programmaticLaunch = cudaProgrammaticLaunch;
        // --emit=ptx prints the PTX text, so no fatbin then.
        cuda.embedCubin = emitKind != "ptx";
        sinter::cuda::buildCudaCodegenPipeline(pm, cuda);
      }))
    return 1;
  if (stopAfter >= sinter::Phase::Codegen && cudaTarget) {
    // Launches per decode step and layer (issue 6 asks for it per layer).
    llvm::json::Array perLayer;
    for (auto &[layer, n] : sinter::countLaunchesByLayer(*module))
      perLayer.push_back(llvm::json::Object{{"layer", layer}, {"launches", n}});
    report["launches_per_layer"] = std::move(perLayer);
  }

  auto writeReport = [&]() {
    if (reportFile.empty())
      return true;
    report["phases"] = llvm::json::Array(phases);
    if (!phases.empty() && phases.back() == "package")
      lap("package");
    seconds["total"] = std::chrono::duration<double>(
                           std::chrono::steady_clock::now() - compileStart)
                           .count();
    report["compile_seconds"] = llvm::json::Object(seconds);
    if (gen) {
      gen->report = std::move(report);
      return true;
    }
    if (reportFile == "-")
      return writeOutput("-", [&](llvm::raw_ostream &os) {
        printReportSummary(report, os);
      });
    return writeOutput(reportFile, [&](llvm::raw_ostream &os) {
      os << llvm::formatv("{0:2}", llvm::json::Value(std::move(report)))
         << "\n";
    });
  };

  if (!packaging) {
    if (!writeReport())
      return 1;
    OpPrintingFlags flags;
    if (!printWeights)
      flags.elideLargeElementsAttrs(64).elideLargeResourceString(64);
    return writeOutput(output, [&](llvm::raw_ostream &os) {
             module->print(os, flags);
             os << "\n";
           })
               ? 0
               : 1;
  }

  // package: LLVM IR, object file, executable.
  if (cudaTarget) {
    model->target = "cuda";
    if (emitKind == "ptx") {
      phases.push_back("package");
      if (!writeReport())
        return 1;
      return writeOutput(output, [&](llvm::raw_ostream &os) {
               for (auto &[name, ptx] : sinter::cuda::collectPtx(*module))
                 os << "// gpu.module @" << name << "\n" << ptx << "\n";
             })
                 ? 0
                 : 1;
    }
  }
  // The weights the executable loads at run time (sinter-bind-weights).
  if (failed(sinter::cpu::describeWeights(*module, *model)))
    return 1;
  // Kernels that wait on griddepcontrol (sinter-cuda-grid-dependency).
  if ((*module)->removeAttr(sinter::cuda::kProgrammaticLaunchAttr))
    model->launchFlags |= SINTER_LAUNCH_PROGRAMMATIC;
  // The kernel workspaces sinter-bind-weights moved into the arena, after
  // the memory plan's bytes (docs/runtime.md, "Kernel workspaces").
  if (auto ws =
          (*module)->getAttrOfType<IntegerAttr>("sinter.workspace_bytes")) {
    model->arenaBytes =
        (*module)->getAttrOfType<IntegerAttr>("sinter.arena_bytes").getInt();
    if (llvm::json::Object *plan = report.getObject("memory_plan")) {
      (*plan)["arena_bytes"] = int64_t(model->arenaBytes);
      (*plan)["workspace_bytes"] = ws.getInt();
    }
  }
  sinter::cpu::CodegenOptions codegen;
  codegen.cpu = cpuName;
  codegen.optLevel = optLevel;
  auto llvmContextOwner = std::make_unique<llvm::LLVMContext>();
  llvm::LLVMContext &llvmContext = *llvmContextOwner;
  std::string err;
  std::unique_ptr<llvm::Module> llvmModule =
      sinter::cpu::translateAndOptimize(*module, llvmContext, codegen, err);
  if (!llvmModule) {
    llvm::errs() << "sinterc: error: " << err << "\n";
    return 1;
  }
  phases.push_back("package");
  if (gen) {
    gen->unit.model = std::move(*model);
    gen->unit.context = std::move(llvmContextOwner);
    gen->unit.module = std::move(llvmModule);
    gen->codegen = codegen;
    return writeReport() ? 0 : 1;
  }
  if (emitKind == "llvm") {
    if (!writeReport())
      return 1;
    return writeOutput(output, [&](llvm::raw_ostream &os) {
             llvmModule->print(os, nullptr);
           })
               ? 0
               : 1;
  }
  llvm::SmallVector<char, 0> object;
  if (!sinter::cpu::emitObject(*llvmModule, codegen, object, err)) {
    llvm::errs() << "sinterc: error: " << err << "\n";
    return 1;
  }
  if (emitKind == "obj") {
    if (!writeReport())
      return 1;
    return writeOutput(output, [&](llvm::raw_ostream &os) {
             os.write(object.data(), object.size());
           })
               ? 0
               : 1;
  }
  sinter::cpu::LinkOptions link;
  link.runtimeLibrary =
      runtimeLib.empty()
          ? sinter::cpu::findRuntimeLibrary(job.argv0, (void *)&defaultOutput)
          : runtimeLib.getValue();
  link.compiler = linker;
  link.keepTemps = keepTemps;
  link.shared = emitKind == "shared";
  if (!sinter::cpu::linkExecutable(*model, object, output, link, err)) {
    llvm::errs() << "sinterc: error: " << err << "\n";
    return 1;
  }
  return writeReport() ? 0 : 1;
}

/// --generate-driver: prefill and decode compiled alike, their symbols
/// prefixed, decode's weights bound to prefill's where they load alike, one
/// executable (GenerateDriver.h). The report holds both compiles.
static int generateMain(const Job &job) {
  GenUnitOut pre, dec;
  pre.role = "prefill";
  dec.role = "decode";
  if (compileModel(inputFile, job, &pre) != 0)
    return 1;
  Job second = job; // its compile seconds count from its own start
  second.startTime = std::chrono::steady_clock::now();
  if (compileModel(secondInputFile, second, &dec) != 0)
    return 1;
  std::string err;
  if (!sinter::gen::checkPairing(pre.unit, dec.unit, err)) {
    llvm::errs() << "sinterc: error: " << err << "\n";
    return 1;
  }
  const char *prePrefix = "sinter_gen_prefill_",
             *decPrefix = "sinter_gen_decode_";
  sinter::gen::prefixSymbols(pre.unit, prePrefix);
  sinter::gen::prefixSymbols(dec.unit, decPrefix);
  sinter::gen::ShareStats shared = sinter::gen::shareWeights(pre.unit, dec.unit);
  sinter::gen::CacheBound kvCache = sinter::gen::smallerBound(pre.unit, dec.unit);
  llvm::SmallVector<char, 0> preObj, decObj;
  if (!sinter::cpu::emitObject(*pre.unit.module, pre.codegen, preObj, err) ||
      !sinter::cpu::emitObject(*dec.unit.module, dec.codegen, decObj, err)) {
    llvm::errs() << "sinterc: error: " << err << "\n";
    return 1;
  }
  sinter::cpu::LinkOptions link;
  link.runtimeLibrary =
      runtimeLib.empty()
          ? sinter::cpu::findRuntimeLibrary(job.argv0, (void *)&defaultOutput)
          : runtimeLib.getValue();
  link.compiler = linker;
  link.keepTemps = keepTemps;
  if (!sinter::gen::linkGenerateDriver(pre.unit, preObj, prePrefix, dec.unit,
                                       decObj, decPrefix, job.output, link,
                                       err)) {
    llvm::errs() << "sinterc: error: " << err << "\n";
    return 1;
  }
  if (reportFile.empty())
    return 0;
  if (reportFile == "-")
    return writeOutput("-", [&](llvm::raw_ostream &os) {
             os << "generation driver: " << job.output << " (prefill "
                << inputFile << ", decode " << secondInputFile << "): "
                << shared.shared << " weights (" << shared.sharedBytes
                << " bytes) loaded once for both; decode loads "
                << shared.decodeExternal << " external weights ("
                << shared.decodeExternalBytes << " bytes) of its own\n";
             printReportSummary(pre.report, os);
             printReportSummary(dec.report, os);
           })
               ? 0
               : 1;
  llvm::json::Object report{
      {"generate_driver",
       llvm::json::Object{{"output", job.output},
                          {"shared_weights", shared.shared},
                          {"shared_weight_bytes", int64_t(shared.sharedBytes)},
                          {"decode_own_external_weights", shared.decodeExternal},
                          {"decode_own_external_bytes",
                           int64_t(shared.decodeExternalBytes)},
                          {"kv_cache_positions", kvCache.positions},
                          {"kv_cache_input", kvCache.input},
                          {"kv_cache_graph", kvCache.graph}}},
      {"prefill", std::move(pre.report)},
      {"decode", std::move(dec.report)}};
  return writeOutput(reportFile, [&](llvm::raw_ostream &os) {
           os << llvm::formatv("{0:2}", llvm::json::Value(std::move(report)))
              << "\n";
         })
             ? 0
             : 1;
}

int main(int argc, char **argv) {
  const auto startTime = std::chrono::steady_clock::now();
  llvm::InitLLVM y(argc, argv);
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  registerDefaultTimingManagerCLOptions();
  cl::HideUnrelatedOptions(sinterCat);
  // MLIR's own IR-printing and pass-manager flags (--mlir-print-ir-after-all,
  // ...) stay accepted though hidden from --help; docs/cli.md lists them.
  cl::ParseCommandLineOptions(
      argc, argv,
      "sinterc: compiles ONNX models to fused kernels and a driver program\n\n"
      "  sinterc model.onnx --emit=graph            print the optimized graph\n"
      "  sinterc model.onnx --compile-to=import     print the graph as imported\n"
      "  sinterc model.onnx --target=cpu -o model   write an executable\n"
      "  sinterc model.onnx --emit=shared -o libmodel.so  a shared library\n"
      "  sinterc model.onnx --target=cpu --emit=llvm  print the LLVM IR\n"
      "  sinterc model.onnx --compile-to=lower      print the bufferized IR\n"
      "  sinterc model.onnx --report=r.json         also write a compile report\n"
      "  sinterc prefill.onnx decode.onnx --generate-driver --target=cpu -o gen\n"
      "                                             one generation executable\n");

  if (listOps) {
    for (const std::string &line : sinter::listSupportedOnnxOps())
      llvm::outs() << line << "\n";
    return 0;
  }
  if (inputFile.empty()) {
    llvm::errs() << "sinterc: error: no input model given (see --help)\n";
    return 1;
  }

  // What to produce: the IR of a phase (--compile-to, or --emit=graph), or
  // an artifact of the package phase (--emit=exe|llvm|obj).
  bool cudaTarget = target == "cuda";
  if (cudaTarget && !sinter::cuda::isSupportedGpuArch(gpuArch)) {
    llvm::errs() << "sinterc: error: unknown --gpu-arch '" << gpuArch
                 << "' (supported: "
                 << llvm::join(sinter::cuda::supportedGpuArchs(), ", ")
                 << ")\n";
    return 1;
  }
  for (const std::string &name : cudaExperimental)
    if (!llvm::is_contained(sinter::cuda::experimentalForms(), name)) {
      llvm::errs() << "sinterc: error: unknown --cuda-experimental '" << name
                   << "' (known: "
                   << llvm::join(sinter::cuda::experimentalForms(), ", ")
                   << ")\n";
      return 1;
    }
  if (emit == "ptx" && !cudaTarget) {
    llvm::errs() << "sinterc: error: --emit=ptx needs --target=cuda\n";
    return 1;
  }
  if (!target.empty() && target != "cpu" && !cudaTarget) {
    llvm::errs() << "sinterc: error: unknown target '" << target
                 << "' (this build has: cpu, cuda)\n";
    return 1;
  }
  std::string emitKind = emit;
  if (emitKind.empty())
    emitKind = target.empty() && !generateDriver ? "graph" : "exe";
  if (generateDriver) {
    const char *why =
        secondInputFile.empty() ? "needs two inputs: the prefill graph, then "
                                  "the decode graph"
        : emitKind != "exe"     ? "writes an executable; it cannot be "
                                  "combined with --emit other than exe"
        : !compileTo.empty()    ? "writes an executable; it cannot be "
                                  "combined with --compile-to"
        : !outputFile.getNumOccurrences() || outputFile == "-"
            ? "writes an executable; name it with -o"
            : nullptr;
    if (why) {
      llvm::errs() << "sinterc: error: --generate-driver " << why << "\n";
      return 1;
    }
  } else if (!secondInputFile.empty()) {
    llvm::errs() << "sinterc: error: a second input ('" << secondInputFile
                 << "') needs --generate-driver; sinterc compiles one model\n";
    return 1;
  }
  if (emitKind != "graph" && emitKind != "exe" && emitKind != "llvm" &&
      emitKind != "ptx" &&
      emitKind != "obj" && emitKind != "shared") {
    llvm::errs() << "sinterc: error: unknown --emit kind '" << emitKind
                 << "' (graph, exe, shared, llvm, obj, ptx)\n";
    return 1;
  }
  sinter::Phase stopAfter =
      emitKind == "graph" ? sinter::Phase::Graph : sinter::Phase::Package;
  if (!compileTo.empty()) {
    std::optional<sinter::Phase> p = sinter::parsePhase(compileTo);
    if (!p) {
      llvm::errs() << "sinterc: error: unknown phase '" << compileTo
                   << "' (phases: import, graph, fuse, lower, codegen, "
                      "package)\n";
      return 1;
    }
    if (*p == sinter::Phase::Package) {
      if (emit.empty())
        emitKind = "exe";
    } else if (!emit.empty() && emitKind != "graph") {
      llvm::errs() << "sinterc: error: --compile-to=" << compileTo
                   << " writes MLIR; it cannot be combined with --emit="
                   << emitKind << "\n";
      return 1;
    }
    stopAfter = *p;
  }
  bool packaging = stopAfter == sinter::Phase::Package;
  std::string targetName = target;
  if (targetName.empty() && stopAfter >= sinter::Phase::Lower)
    targetName = "cpu";
  std::string output = outputFile;
  if (packaging && !outputFile.getNumOccurrences())
    output = defaultOutput(emitKind);
  if (packaging && output == "-" && emitKind != "llvm" && emitKind != "ptx") {
    llvm::errs() << "sinterc: error: --emit=" << emitKind
                 << " writes a binary file; name it with -o\n";
    return 1;
  }
  if (optLevel > 3) {
    llvm::errs() << "sinterc: error: -O" << optLevel << ": levels are 0-3\n";
    return 1;
  }

  Job job;
  job.cudaTarget = cudaTarget;
  job.emitKind = emitKind;
  job.targetName = targetName;
  job.output = output;
  job.stopAfter = stopAfter;
  job.packaging = packaging;
  job.startTime = startTime;
  job.argv0 = argv[0];
  if (generateDriver)
    return generateMain(job);
  return compileModel(inputFile, job, nullptr);
}
