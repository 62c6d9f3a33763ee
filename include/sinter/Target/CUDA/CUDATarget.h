//===- CUDATarget.h - the CUDA target: kernels as PTX, host as x86-64 -*- C++ -*-===//
//
// The codegen phase of the CUDA target (docs/cuda-target.md). After the
// lower phase every linalg op becomes parallel loops; each outermost
// parallel loop nest becomes one gpu.launch (one thread per iteration of
// the collapsed parallel dimensions, reductions as sequential loops in the
// thread); the launches are outlined into a gpu.module, lowered to NVVM and
// serialized to PTX by LLVM's NVPTX backend. The host side (the forward)
// becomes LLVM dialect whose gpu.launch_func ops the translation turns into
// calls of mgpuModuleLoadJIT / mgpuLaunchKernel..., which Sinter's runtime
// implements over the CUDA driver API (lib/Runtime/CudaBackend.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_TARGET_CUDA_CUDATARGET_H
#define SINTER_TARGET_CUDA_CUDATARGET_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"

#include <string>
#include <vector>

namespace sinter::cuda {

/// How kernels may overlap the kernel before them (CudaOptions).
enum class ProgrammaticLaunch {
  /// Each kernel launches when the one before has completed.
  None,
  /// Each kernel waits (griddepcontrol.wait) at its start; it launches as
  /// the blocks of the one before exit.
  Wait,
  /// Also griddepcontrol.launch_dependents after the wait: the next kernel
  /// launches while this one runs, its blocks waiting on the SMs.
  Early,
  /// Wait, with each kernel's leading loads of constant weights (which no
  /// kernel writes) issued above the wait, so that they overlap the end of
  /// the kernel before.
  Weights,
  /// Weights, and griddepcontrol.launch_dependents once the kernel has
  /// issued its last weight load: the next kernel launches (and issues its
  /// own weight loads) while this one finishes.
  Late,
};

struct CudaOptions {
  /// sm_80, sm_89, sm_90a, sm_100 or sm_100a.
  std::string gpuArch = "sm_90a";
  /// The CUDA toolkit (for libdevice, the math library as bitcode); empty
  /// to look in $CUDA_HOME, $CUDA_PATH, /usr/local/cuda.
  std::string toolkitPath;
  /// Threads per block of the elementwise mapping.
  int64_t blockSize = 256;
  /// Embed a fatbin (a cubin for gpuArch assembled by the toolkit's ptxas,
  /// plus the PTX) when ptxas and fatbinary are found at compile time: the
  /// driver loads the cubin on a GPU of that architecture and JIT-compiles
  /// the PTX on any other. Off (or without the tools): the PTX alone.
  bool embedCubin = true;
  /// Alternative kernel forms (measured without a gain, docs/cli.md) to
  /// use instead of the default ones, by name: each one of
  /// experimentalForms(), which the caller checks (sinterc
  /// --cuda-experimental).
  std::vector<std::string> experimental;
  /// Start every kernel with griddepcontrol (sinter-cuda-grid-dependency)
  /// so that the runtime may launch it before the kernel ahead of it has
  /// completed (programmatic dependent launch); sm_90 and later only.
  ProgrammaticLaunch programmaticLaunch = ProgrammaticLaunch::Wait;
};

/// The GPU architectures this build can generate code for.
llvm::ArrayRef<llvm::StringRef> supportedGpuArchs();
bool isSupportedGpuArch(llvm::StringRef arch);
/// The names of the experimental kernel forms (alternatives measured
/// without a gain, off by default): CudaOptions::experimental, the
/// form-kernels pass's `experimental` option.
llvm::ArrayRef<llvm::StringRef> experimentalForms();

/// The module attribute sinter-cuda-grid-dependency leaves: every kernel of
/// the module starts with griddepcontrol.wait (the executable's
/// SinterModel launch_flags get SINTER_LAUNCH_PROGRAMMATIC).
inline constexpr llvm::StringLiteral kProgrammaticLaunchAttr =
    "sinter.programmatic_launch";

/// Whether `arch` has griddepcontrol (programmatic dependent launch).
bool supportsProgrammaticLaunch(llvm::StringRef arch);

/// The PTX feature string used for `arch` (e.g. "+ptx80").
std::string ptxFeaturesFor(llvm::StringRef arch);

/// Registers the GPU/NVVM dialect translations and the NVVM target
/// interface (for gpu-module-to-binary and the host translation).
void registerCudaTargetDialects(mlir::DialectRegistry &registry);

/// The codegen phase for the CUDA target: from the lower phase's memrefs to
/// an LLVM-dialect host module holding gpu.binary ops with PTX.
void buildCudaCodegenPipeline(mlir::OpPassManager &pm,
                              const CudaOptions &options);

/// Registers sinter-cuda-map-loops, sinter-cuda-device-globals and the
/// sinter-cuda-codegen pipeline (sm_90a) for sinter-opt.
void registerCudaPasses();

/// The PTX text of every gpu.binary in `module` (after the codegen phase):
/// (module name, PTX).
std::vector<std::pair<std::string, std::string>>
collectPtx(mlir::ModuleOp module);

} // namespace sinter::cuda

#endif // SINTER_TARGET_CUDA_CUDATARGET_H
