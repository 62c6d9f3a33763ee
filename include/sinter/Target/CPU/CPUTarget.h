//===- CPUTarget.h - the CPU target: x86-64 objects and executables -*- C++
//-*-===//
//
// The package phase of the CPU target. After the codegen pipeline
// (sinter::buildCpuCodegenPipeline) the module is LLVM dialect; this file
// translates it to LLVM IR, optimizes it (-O2) for x86-64 with libLLVM's
// TargetMachine, emits an object file, and links it with a generated entry
// file and libsinter_runtime.a into an executable (Link.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_TARGET_CPU_CPUTARGET_H
#define SINTER_TARGET_CPU_CPUTARGET_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sinter::cpu {

/// Dialects and interface implementations the lower, codegen and package
/// phases need (bufferization models, LLVM IR translation).
void registerCpuTargetDialects(mlir::DialectRegistry &registry);

/// One input or output of a compiled model, as the runtime sees it.
struct TensorDesc {
  std::string name;
  int32_t dtype = 0; // ONNX TensorProto.DataType, as SinterDType
  llvm::SmallVector<int64_t> shape;
  /// An output only: the input whose buffer holds it (state donation,
  /// SinterModel.output_donors), -1 when it has its own.
  int32_t donor = -1;
  /// Bytes of the dense tensor.
  int64_t bytes() const;
};

/// A weight the runtime provides when a session opens (SinterWeight):
/// embedded (`data`, a symbol of the object), external data (`file`,
/// relative to the weights directory) or the result of `packs[pack]`.
/// `slot` is the pointer global the forward reads it through; empty for a
/// weight only plans read.
struct WeightDesc {
  std::string name;
  int32_t dtype = 0;
  llvm::SmallVector<int64_t> shape;
  uint64_t bytes = 0;
  std::string slot, data, file;
  uint64_t offset = 0, fileBytes = 0;
  int64_t pack = -1;
};

/// A weight-pack plan (SinterPack): pieces {op, source weight, offset}.
struct PackDesc {
  int64_t axis = 0;
  std::vector<std::array<int64_t, 3>> pieces;
};

/// The interface of a compiled forward:
///   sinter_forward(inputs..., outputs..., arena)
struct ModelDesc {
  std::string name; // for messages and --help of the executable
  /// The runtime backend the executable uses: "cpu" or "cuda".
  std::string target = "cpu";
  std::vector<TensorDesc> inputs, outputs;
  uint64_t arenaBytes = 0;
  int64_t unplannedAllocs = 0;
  /// Bytes the forward moves with memref.copy (sinter-plan-memory).
  int64_t copyBytes = 0;
  /// The weights loaded at run time, and the folder of external data as
  /// the compile saw it (the default of the executable's --weights).
  std::vector<WeightDesc> weights;
  std::vector<PackDesc> packs;
  std::string weightsDir;
  /// SINTER_LAUNCH_* bits of the SinterModel (sinter_runtime.h).
  uint32_t launchFlags = 0;
};

/// Reads the weight table that sinter-bind-weights left in the module
/// attributes (`sinter.weights`, `sinter.packs`, `sinter.weights_dir`)
/// into `model` and removes them. Fails with an error on a malformed table.
mlir::LogicalResult describeWeights(mlir::ModuleOp module, ModelDesc &model);

/// Reads the interface of the forward from a module after the lower phase
/// (the function marked `sinter.entry`). Emits an error and fails when the
/// module is not in that state.
mlir::FailureOr<ModelDesc> describeLoweredModel(mlir::ModuleOp module);

struct CodegenOptions {
  /// LLVM CPU name. The default is portable to every x86-64 machine of the
  /// last fifteen years (SSE4.2, POPCNT); "native" tunes for this machine.
  std::string cpu = "x86-64-v2";
  unsigned optLevel = 2;
};

/// Translates an LLVM-dialect module to LLVM IR for x86-64 and optimizes it.
std::unique_ptr<llvm::Module>
translateAndOptimize(mlir::ModuleOp module, llvm::LLVMContext &ctx,
                     const CodegenOptions &options, std::string &error);

/// Emits an ELF object file of `module` into `out`.
bool emitObject(llvm::Module &module, const CodegenOptions &options,
                llvm::SmallVectorImpl<char> &out, std::string &error);

struct LinkOptions {
  /// libsinter_runtime.a; see findRuntimeLibrary.
  std::string runtimeLibrary;
  /// A C++ compiler driver used to compile the entry file and link; empty
  /// to search PATH (clang++-22, clang++, c++, g++) or $SINTER_CXX.
  std::string compiler;
  /// Keep the temporary directory (entry.c, model.o) and print its path.
  bool keepTemps = false;
  /// Link a shared library exporting only the C API (--emit=shared)
  /// instead of an executable.
  bool shared = false;
};

/// The C++ compiler driver that links executables: options.compiler, else
/// $SINTER_CXX, else the first of clang++-22, clang++, c++, g++ on PATH;
/// nullopt with `error` naming what was looked for.
std::optional<std::string> findCompiler(const LinkOptions &options,
                                        std::string &error);

/// $SINTER_RUNTIME_LIB, else <dir of the sinterc binary>/../lib/
/// libsinter_runtime.a. `argv0` and `mainAddr` locate the binary.
std::string findRuntimeLibrary(const char *argv0, void *mainAddr);

/// The C source of the executable's entry: the runtime ABI header, the
/// model descriptor, sinter_model_descriptor() and a trampoline that calls
/// sinter_forward; and `main` unless `shared`.
std::string generateEntrySource(const ModelDesc &model, bool shared = false);

/// The functions a shared library exports: the C API of sinter_runtime.h.
llvm::ArrayRef<const char *> cApiSymbols();

/// Writes `object` and the entry file to a temporary directory and links
/// them with the runtime into the executable (or, with options.shared, the
/// shared library) `outputPath`.
bool linkExecutable(const ModelDesc &model, llvm::ArrayRef<char> object,
                    llvm::StringRef outputPath, const LinkOptions &options,
                    std::string &error);

} // namespace sinter::cpu

#endif // SINTER_TARGET_CPU_CPUTARGET_H
