# lit configuration of Sinter's regression tests: FileCheck over sinter-opt
# (passes, dialect) and sinterc (importer, CLI).
import os
import sys

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "SINTER"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".onnxtxt", ".test"]
config.excludes = ["Inputs", "lit-tools", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.sinter_obj_root, "test")

# Captured SSA names must not leak between CHECK-LABEL blocks.
config.environment["FILECHECK_OPTS"] = "-enable-var-scope"

config.substitutions.append(("%PATH%", config.environment["PATH"]))
# The site config's Python3_EXECUTABLE is empty unless CMake looked for
# Python; lit's own interpreter will do.
config.substitutions.append(("%python", config.python_executable or sys.executable))
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "Inputs")))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
# Sanitizer settings of a -DSINTER_SANITIZE=ON build (scripts/test-sanitize).
llvm_config.with_system_environment(["ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"])
# Debian's libMLIR.so is not instrumented but shares LLVM's inline
# BumpPtrAllocator with Sinter's instrumented code, which poisons slabs that
# libMLIR then uses: false use-after-poison reports (docs/security.md).
if "allow_user_poisoning" not in config.environment.get("ASAN_OPTIONS", ""):
    config.environment["ASAN_OPTIONS"] = ":".join(
        filter(None, [config.environment.get("ASAN_OPTIONS", ""), "allow_user_poisoning=0"]))
llvm_config.use_default_substitutions()
# `not`, `count` and FileCheck come from LLVM's tools folder, not from PATH.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.sinter_tools_dir, append_path=True)

tool_dirs = [config.sinter_tools_dir, config.llvm_tools_dir]
# CUDA-target tests assemble the generated PTX with ptxas when the CUDA
# toolkit is installed (the build machines have it at /usr/local/cuda; CI
# without it skips them). $SINTER_PTXAS overrides the path.
_ptxas = os.environ.get("SINTER_PTXAS", "/usr/local/cuda/bin/ptxas")
_have_ptxas = os.access(_ptxas, os.X_OK)
tools = ["sinter-opt"]
# `lit -D ptxas_all_archs=0` turns the wrapper off (to measure its cost).
if _have_ptxas and lit_config.params.get("ptxas_all_archs", "1") != "0":
    # Every PTX the suite generates is assembled for sm_80 and sm_90a (issue
    # 5): `sinterc` is a wrapper that, after each successful --target=cuda
    # run, recompiles its input to PTX for both (and the run's own arch) and
    # runs ptxas (lit-tools/ptxas_all_archs.py; docs/testing.md).
    tools.append(ToolSubst("sinterc", command=os.path.join(
        config.test_source_root, "lit-tools", "sinterc-ptxas"), extra_args=[
        config.python_executable or sys.executable, _ptxas,
        os.path.join(config.test_exec_root, "ptxas-checked"),
        os.path.join(config.sinter_tools_dir, "sinterc")]))
    config.available_features.add("ptxas-all-archs")
else:
    tools.append("sinterc")
llvm_config.add_tool_substitutions(tools, tool_dirs)

# CPU-target tests inspect objects and executables with LLVM's binutils.
llvm_config.add_tool_substitutions(["llvm-readelf"], [config.llvm_tools_dir])

# The C API tests compile sinter_runtime.h and a C program with LLVM's clang.
config.substitutions.append(("%sinter_tools_dir", config.sinter_tools_dir))
config.substitutions.append(("%sinter_include", os.path.join(config.sinter_src_root, "include")))
config.substitutions.append(("%clang_c", os.path.join(config.llvm_tools_dir, "clang")))

if _have_ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", _ptxas))

# nvcc (same toolkit) regenerates PTX that the runtime embeds as text, to
# check that the embedded copy matches its CUDA source.
_nvcc = os.environ.get("SINTER_NVCC", os.path.join(os.path.dirname(_ptxas), "nvcc"))
if os.access(_nvcc, os.X_OK):
    config.available_features.add("nvcc")
    config.substitutions.append(("%nvcc", _nvcc))

# Without an NVIDIA driver a CUDA executable must say so and exit 1.
try:
    import ctypes
    ctypes.CDLL("libcuda.so.1")
except OSError:
    config.available_features.add("no-cuda-driver")
