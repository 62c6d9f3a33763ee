//===- CudaBackend.cpp - the runtime backend of the CUDA target -----------===//
//
// The CUDA driver API, loaded with dlopen("libcuda.so.1"): executables link
// no CUDA library. Buffers are device memory (cuMemAlloc); weights are
// uploaded when a session opens, into one allocation, and the weight-pack
// plans applied there with strided copies and the compiler's transpose
// kernel (Weights.cpp drives it through cudaPacking, and fills the slots the
// host code reads the weights through); kernels come from
// the PTX that sinterc embedded, JIT-compiled by the driver when the backend
// starts. The generated host code calls the mgpu* functions that MLIR's
// gpu.launch_func translation emits; they are implemented here over one
// stream. After the first forward the whole forward is captured as a CUDA
// graph and replayed (--no-graph launches kernel by kernel every time).
// docs/cuda-target.md.
//
//===----------------------------------------------------------------------===//

#include "Backend.h"
#include "Weights.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using CUresult = int;
using CUdevice = int;
using CUcontext = void *;
using CUmodule = void *;
using CUfunction = void *;
using CUstream = void *;
using CUgraph = void *;
using CUgraphExec = void *;
using CUdeviceptr = unsigned long long;

/// CUlaunchAttribute (cuda.h): an id, padding to 8 bytes, a 64-byte value
/// union of which this runtime sets one int.
struct LaunchAttribute {
  int id = 0;
  char pad[4] = {};
  union {
    char bytes[64];
    int value;
  } u = {};
};
/// CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION.
constexpr int kProgrammaticSerialization = 6;

/// CUlaunchConfig (cuda.h).
struct LaunchConfig {
  unsigned gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes;
  CUstream stream;
  LaunchAttribute *attrs;
  unsigned numAttrs;
};

/// CUDA_MEMCPY2D (cuda.h), the fields this runtime sets.
struct Memcpy2D {
  size_t srcXInBytes = 0, srcY = 0;
  int srcMemoryType = 0; // CU_MEMORYTYPE_HOST = 1, _DEVICE = 2
  const void *srcHost = nullptr;
  CUdeviceptr srcDevice = 0;
  void *srcArray = nullptr;
  size_t srcPitch = 0;
  size_t dstXInBytes = 0, dstY = 0;
  int dstMemoryType = 0;
  void *dstHost = nullptr;
  CUdeviceptr dstDevice = 0;
  void *dstArray = nullptr;
  size_t dstPitch = 0;
  size_t WidthInBytes = 0, Height = 0;
};

struct Driver {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDriverGetVersion)(int *);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDeviceGetName)(char *, int, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuModuleLoadDataEx)(CUmodule *, const void *, unsigned, int *,
                                 void **);
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*cuFuncSetAttribute)(CUfunction, int, int);
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
  CUresult (*cuMemFree)(CUdeviceptr);
  CUresult (*cuMemcpyDtoH)(void *, CUdeviceptr, size_t);
  CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr, const void *, size_t, CUstream);
  CUresult (*cuMemcpyDtoDAsync)(CUdeviceptr, CUdeviceptr, size_t, CUstream);
  CUresult (*cuMemcpy2DAsync)(const struct Memcpy2D *, CUstream);
  CUresult (*cuMemsetD8Async)(CUdeviceptr, unsigned char, size_t, CUstream);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned,
                             unsigned, unsigned, unsigned, unsigned, CUstream,
                             void **, void **);
  /// Optional (CUDA 12): without it kernels launch one after the other.
  CUresult (*cuLaunchKernelEx)(const LaunchConfig *, CUfunction, void **,
                               void **);
  CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*cuStreamCreate)(CUstream *, unsigned);
  CUresult (*cuStreamSynchronize)(CUstream);
  CUresult (*cuStreamBeginCapture)(CUstream, int);
  CUresult (*cuStreamEndCapture)(CUstream, CUgraph *);
  CUresult (*cuGraphInstantiate)(CUgraphExec *, CUgraph, unsigned long long);
  CUresult (*cuGraphLaunch)(CUgraphExec, CUstream);
  CUresult (*cuGraphDestroy)(CUgraph);
  CUresult (*cuGraphExecDestroy)(CUgraphExec);
  CUresult (*cuGetErrorName)(CUresult, const char **);
  CUresult (*cuGetErrorString)(CUresult, const char **);
};

Driver drv;
bool loaded = false;
CUstream stream = nullptr;
std::string deviceName;
/// The device has griddepcontrol (compute capability 9.0 or later) and the
/// driver cuLaunchKernelEx.
bool deviceHasProgrammaticLaunch = false;
/// The forward being launched lets its kernels overlap the kernel before
/// (SINTER_LAUNCH_PROGRAMMATIC, and the device and the options allow it).
bool programmaticLaunch = false;

std::string describe(CUresult r) {
  const char *name = nullptr, *text = nullptr;
  if (drv.cuGetErrorName)
    drv.cuGetErrorName(r, &name);
  if (drv.cuGetErrorString)
    drv.cuGetErrorString(r, &text);
  std::string s = name ? name : "CUDA error " + std::to_string(r);
  if (text)
    s += std::string(" (") + text + ")";
  return s;
}

/// `call` failed with `r`: the message names the call and its arguments.
bool check(CUresult r, const std::string &call, std::string &err) {
  if (r == 0)
    return true;
  err = call + " failed: " + describe(r);
  return false;
}

std::string hex(const void *p) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%p", p);
  return buf;
}

/// One gpu.binary: its PTX (registered before main by the module's
/// constructor), loaded when the backend starts.
struct Module {
  const char *ptx; // PTX text, or a fatbin image (cubin + PTX) when size > 0
  size_t size = 0;
  CUmodule handle = nullptr;
  std::map<std::string, CUfunction> functions;
  std::map<CUfunction, std::string> names;
};
std::vector<Module *> &modules() {
  static std::vector<Module *> m;
  return m;
}

std::string launchError; // the first failure inside the forward

bool loadModule(Module &m, std::string &err) {
  if (m.handle)
    return true;
  static char log[8192];
  log[0] = 0;
  int options[] = {5 /*CU_JIT_ERROR_LOG_BUFFER*/,
                   6 /*CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES*/};
  void *values[] = {log, (void *)(uintptr_t)sizeof(log)};
  CUresult r = drv.cuModuleLoadDataEx(&m.handle, m.ptx, 2, options, values);
  if (r != 0) {
    err = std::string("cuModuleLoadDataEx(") +
          (m.size ? "fatbin of " + std::to_string(m.size)
                  : "PTX of " + std::to_string(std::strlen(m.ptx))) +
          " bytes) failed: " + describe(r) + (log[0] ? "\n" : "") + log;
    m.handle = nullptr;
    return false;
  }
  return true;
}

template <typename T>
bool sym(void *lib, T &fn, const char *name, std::string &err) {
  fn = reinterpret_cast<T>(dlsym(lib, name));
  if (!fn)
    err = std::string("libcuda.so.1 lacks ") + name;
  return fn != nullptr;
}

bool cudaInit(std::string &err) {
  if (loaded)
    return true;
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char *why = dlerror();
    err = std::string("no NVIDIA driver found (libcuda.so.1): ") +
          (why ? why : "dlopen failed");
    return false;
  }
#define SYM(field, name)                                                       \
  if (!sym(lib, drv.field, name, err))                                         \
    return false;
  SYM(cuInit, "cuInit")
  SYM(cuDriverGetVersion, "cuDriverGetVersion")
  SYM(cuDeviceGet, "cuDeviceGet")
  SYM(cuDeviceGetName, "cuDeviceGetName")
  SYM(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain")
  SYM(cuCtxSetCurrent, "cuCtxSetCurrent")
  SYM(cuModuleLoadDataEx, "cuModuleLoadDataEx")
  SYM(cuModuleGetFunction, "cuModuleGetFunction")
  SYM(cuFuncSetAttribute, "cuFuncSetAttribute")
  SYM(cuMemAlloc, "cuMemAlloc_v2")
  SYM(cuMemFree, "cuMemFree_v2")
  SYM(cuMemcpyDtoH, "cuMemcpyDtoH_v2")
  SYM(cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2")
  SYM(cuMemcpyDtoDAsync, "cuMemcpyDtoDAsync_v2")
  SYM(cuMemcpy2DAsync, "cuMemcpy2DAsync_v2")
  SYM(cuMemsetD8Async, "cuMemsetD8Async")
  SYM(cuLaunchKernel, "cuLaunchKernel")
  SYM(cuDeviceGetAttribute, "cuDeviceGetAttribute")
  SYM(cuStreamCreate, "cuStreamCreate")
  SYM(cuStreamSynchronize, "cuStreamSynchronize")
  SYM(cuStreamBeginCapture, "cuStreamBeginCapture_v2")
  SYM(cuStreamEndCapture, "cuStreamEndCapture")
  SYM(cuGraphInstantiate, "cuGraphInstantiateWithFlags")
  SYM(cuGraphLaunch, "cuGraphLaunch")
  SYM(cuGraphDestroy, "cuGraphDestroy")
  SYM(cuGraphExecDestroy, "cuGraphExecDestroy")
  SYM(cuGetErrorName, "cuGetErrorName")
  SYM(cuGetErrorString, "cuGetErrorString")
#undef SYM
  if (!check(drv.cuInit(0), "cuInit(0)", err))
    return false;
  CUdevice dev;
  if (!check(drv.cuDeviceGet(&dev, 0), "cuDeviceGet(ordinal 0)", err))
    return false;
  char name[256] = {0};
  if (drv.cuDeviceGetName(name, sizeof(name), dev) == 0)
    deviceName = name;
  drv.cuLaunchKernelEx = reinterpret_cast<decltype(drv.cuLaunchKernelEx)>(
      dlsym(lib, "cuLaunchKernelEx"));
  int major = 0; // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75
  deviceHasProgrammaticLaunch =
      drv.cuLaunchKernelEx &&
      drv.cuDeviceGetAttribute(&major, 75, dev) == 0 && major >= 9;
  CUcontext ctx;
  if (!check(drv.cuDevicePrimaryCtxRetain(&ctx, dev),
             "cuDevicePrimaryCtxRetain(device 0)", err) ||
      !check(drv.cuCtxSetCurrent(ctx), "cuCtxSetCurrent(primary context)",
             err) ||
      !check(drv.cuStreamCreate(&stream, 1 /*CU_STREAM_NON_BLOCKING*/),
             "cuStreamCreate(non-blocking)", err))
    return false;
  loaded = true;
  for (Module *m : modules())
    if (!loadModule(*m, err))
      return false;
  if (std::getenv("SINTER_CUDA_VERBOSE"))
    std::fprintf(stderr, "sinter: CUDA device 0: %s\n", deviceName.c_str());
  return true;
}

void *cudaAlloc(size_t bytes, std::string &err) {
  CUdeviceptr p = 0;
  size_t rounded = (bytes + 255) / 256 * 256;
  if (!check(drv.cuMemAlloc(&p, rounded ? rounded : 256),
             "cuMemAlloc(" + std::to_string(bytes) + " bytes)", err))
    return nullptr;
  return reinterpret_cast<void *>(p);
}

void cudaFree(void *p) {
  if (p && loaded)
    drv.cuMemFree(reinterpret_cast<CUdeviceptr>(p));
}

bool cudaSync(std::string &err) {
  return check(drv.cuStreamSynchronize(stream), "cuStreamSynchronize", err);
}

bool cudaToTarget(void *dst, const void *src, size_t bytes,
                  std::string &err) {
  // On the forward's stream: the non-blocking stream does not wait for the
  // legacy stream's copies, and a copy from pageable memory may still be in
  // flight when cuMemcpyHtoD returns. The source is free again on return.
  return !bytes ||
         check(drv.cuMemcpyHtoDAsync(reinterpret_cast<CUdeviceptr>(dst), src,
                                     bytes, stream),
               "cuMemcpyHtoDAsync(dst " + hex(dst) + ", " +
                   std::to_string(bytes) + " bytes)",
               err);
}

bool cudaToHost(void *dst, const void *src, size_t bytes, std::string &err) {
  return cudaSync(err) &&
         (!bytes ||
          check(drv.cuMemcpyDtoH(dst, reinterpret_cast<CUdeviceptr>(src),
                                 bytes),
                "cuMemcpyDtoH(src " + hex(src) + ", " +
                    std::to_string(bytes) + " bytes)",
                err));
}

// Weight packing on the device (Weights.h, DevicePacking): copies and
// launches on the forward's stream, so that they are ordered with each
// other and finish before the first forward starts.

bool cudaCopy2D(void *dst, size_t dstPitch, const void *src, size_t srcPitch,
                size_t width, size_t height, bool srcOnHost,
                std::string &err) {
  auto d = reinterpret_cast<CUdeviceptr>(dst);
  auto s = reinterpret_cast<CUdeviceptr>(src);
  std::string what = "(dst " + hex(dst) + ", src " + hex(src) +
                     (srcOnHost ? " on the host" : "") + ", ";
  if (height == 1 || (width == dstPitch && width == srcPitch)) {
    size_t bytes = width * height;
    return srcOnHost
               ? check(drv.cuMemcpyHtoDAsync(d, src, bytes, stream),
                       "cuMemcpyHtoDAsync" + what + std::to_string(bytes) +
                           " bytes)",
                       err)
               : check(drv.cuMemcpyDtoDAsync(d, s, bytes, stream),
                       "cuMemcpyDtoDAsync" + what + std::to_string(bytes) +
                           " bytes)",
                       err);
  }
  // Pitches past the device's limit (CU_DEVICE_ATTRIBUTE_MAX_PITCH, 2^31 - 1
  // on current GPUs): row by row.
  if (dstPitch > 0x7fffffffu || srcPitch > 0x7fffffffu) {
    for (size_t r = 0; r < height; ++r)
      if (!cudaCopy2D(static_cast<char *>(dst) + r * dstPitch, width,
                      static_cast<const char *>(src) + r * srcPitch, width,
                      width, 1, srcOnHost, err))
        return false;
    return true;
  }
  Memcpy2D c;
  c.srcMemoryType = srcOnHost ? 1 : 2;
  c.srcHost = srcOnHost ? src : nullptr;
  c.srcDevice = srcOnHost ? 0 : s;
  c.srcPitch = srcPitch;
  c.dstMemoryType = 2;
  c.dstDevice = d;
  c.dstPitch = dstPitch;
  c.WidthInBytes = width;
  c.Height = height;
  return check(drv.cuMemcpy2DAsync(&c, stream),
               "cuMemcpy2DAsync" + what + std::to_string(height) + " rows of " +
                   std::to_string(width) + " bytes, pitches " +
                   std::to_string(srcPitch) + " -> " +
                   std::to_string(dstPitch) + ")",
               err);
}

bool cudaTranspose(void *dst, int64_t dstStride, const void *src, int64_t rows,
                   int64_t cols, size_t elementBytes, std::string &err) {
  // sinter-cuda-pack-kernels (lib/Target/CUDA/PackKernels.cpp) names it
  // and fixes its block: 32x8 threads, 32x32 tiles.
  std::string name = "sinter_pack_transpose_" + std::to_string(elementBytes);
  static std::map<std::string, CUfunction> found;
  CUfunction fn = found[name];
  for (size_t i = 0; !fn && i < modules().size(); ++i) {
    Module &m = *modules()[i];
    if (m.handle && drv.cuModuleGetFunction(&fn, m.handle, name.c_str()) != 0)
      fn = nullptr;
  }
  if (!fn) {
    err = "the model's kernels have no '" + name +
          "' (the weight-pack transpose; the executable comes from an "
          "older sinterc: recompile it)";
    return false;
  }
  found[name] = fn;
  unsigned gridX = unsigned((cols + 31) / 32);
  unsigned gridY = unsigned(std::min<int64_t>((rows + 31) / 32, 65535));
  void *params[] = {&dst, const_cast<void **>(&src), &rows, &cols, &dstStride};
  return check(drv.cuLaunchKernel(fn, gridX, gridY, 1, 32, 8, 1, 0, stream,
                                  params, nullptr),
               "cuLaunchKernel(kernel '" + name + "', grid " +
                   std::to_string(gridX) + "x" + std::to_string(gridY) +
                   ", block 32x8, dst " + hex(dst) + ", src " + hex(src) +
                   ", " + std::to_string(rows) + "x" + std::to_string(cols) +
                   ")",
               err);
}

// --random-weights (Weights.h, RandomFill): the runtime's own kernel, so
// that a model's weights can be made on the device without a file or a
// host copy (70 GB for the 40-layer Qwen3.5-MoE). Each thread makes
// elements i, i + grid, ... with the same arithmetic as Weights.cpp's
// fillOnHost (exact f32 steps, bf16 = the upper half of the f32 bits), so
// both targets give the same values. PTX for sm_52 up: the driver
// JIT-compiles it for the GPU at hand the first time a fill runs.
const char *const randomFillPtx =
    ".version 7.0\n"
    ".target sm_52\n"
    ".address_size 64\n"
    "\n"
    ".visible .entry sinter_random_fill(.param .u64 p_dst, .param .u64 p_count,\n"
    "                                   .param .u64 p_base, .param .f32 p_scale,\n"
    "                                   .param .u32 p_kind)\n"
    "{\n"
    "  .reg .pred %p<2>;\n"
    "  .reg .b16 %h<2>;\n"
    "  .reg .b32 %r<8>;\n"
    "  .reg .b64 %rd<12>;\n"
    "  .reg .f32 %f<3>;\n"
    "  .reg .f64 %fd<2>;\n"
    "  ld.param.u64 %rd1, [p_dst];\n"
    "  ld.param.u64 %rd2, [p_count];\n"
    "  ld.param.u64 %rd3, [p_base];\n"
    "  ld.param.f32 %f1, [p_scale];\n"
    "  ld.param.u32 %r1, [p_kind];\n"
    "  mov.u32 %r2, %ctaid.x;\n"
    "  mov.u32 %r3, %ntid.x;\n"
    "  mov.u32 %r4, %tid.x;\n"
    "  mov.u32 %r5, %nctaid.x;\n"
    "  mul.wide.u32 %rd4, %r2, %r3;\n"
    "  cvt.u64.u32 %rd5, %r4;\n"
    "  add.u64 %rd4, %rd4, %rd5;\n"
    "  mul.wide.u32 %rd6, %r5, %r3;\n"
    "LOOP:\n"
    "  setp.ge.u64 %p1, %rd4, %rd2;\n"
    "  @%p1 bra DONE;\n"
    "  setp.eq.u32 %p1, %r1, 4;\n"
    "  @%p1 bra ZERO;\n"
    "  add.u64 %rd7, %rd4, 1;\n"
    "  mul.lo.u64 %rd7, %rd7, 0x9E3779B97F4A7C15;\n"
    "  add.u64 %rd7, %rd7, %rd3;\n"
    "  shr.u64 %rd8, %rd7, 30;\n"
    "  xor.b64 %rd7, %rd7, %rd8;\n"
    "  mul.lo.u64 %rd7, %rd7, 0xBF58476D1CE4E5B9;\n"
    "  shr.u64 %rd8, %rd7, 27;\n"
    "  xor.b64 %rd7, %rd7, %rd8;\n"
    "  mul.lo.u64 %rd7, %rd7, 0x94D049BB133111EB;\n"
    "  shr.u64 %rd8, %rd7, 31;\n"
    "  xor.b64 %rd7, %rd7, %rd8;\n"
    "  shr.u64 %rd8, %rd7, 40;\n"
    "  cvt.u32.u64 %r6, %rd8;\n"
    "  cvt.rn.f32.u32 %f2, %r6;\n"
    "  mul.rn.f32 %f2, %f2, 0f34000000;\n"
    "  sub.rn.f32 %f2, %f2, 0f3F800000;\n"
    "  mul.rn.f32 %f2, %f2, %f1;\n"
    "  setp.eq.u32 %p1, %r1, 1;\n"
    "  @%p1 bra BF16;\n"
    "  setp.eq.u32 %p1, %r1, 2;\n"
    "  @%p1 bra F16;\n"
    "  setp.eq.u32 %p1, %r1, 3;\n"
    "  @%p1 bra F64;\n"
    "  shl.b64 %rd9, %rd4, 2;\n"
    "  add.u64 %rd9, %rd1, %rd9;\n"
    "  st.global.f32 [%rd9], %f2;\n"
    "  bra NEXT;\n"
    "BF16:\n"
    "  mov.b32 %r7, %f2;\n"
    "  shr.u32 %r7, %r7, 16;\n"
    "  cvt.u16.u32 %h1, %r7;\n"
    "  shl.b64 %rd9, %rd4, 1;\n"
    "  add.u64 %rd9, %rd1, %rd9;\n"
    "  st.global.b16 [%rd9], %h1;\n"
    "  bra NEXT;\n"
    "F16:\n"
    "  cvt.rn.f16.f32 %h1, %f2;\n"
    "  shl.b64 %rd9, %rd4, 1;\n"
    "  add.u64 %rd9, %rd1, %rd9;\n"
    "  st.global.b16 [%rd9], %h1;\n"
    "  bra NEXT;\n"
    "F64:\n"
    "  cvt.f64.f32 %fd1, %f2;\n"
    "  shl.b64 %rd9, %rd4, 3;\n"
    "  add.u64 %rd9, %rd1, %rd9;\n"
    "  st.global.f64 [%rd9], %fd1;\n"
    "  bra NEXT;\n"
    "ZERO:\n"
    "  add.u64 %rd9, %rd1, %rd4;\n"
    "  mov.u16 %h1, 0;\n"
    "  st.global.b8 [%rd9], %h1;\n"
    "NEXT:\n"
    "  add.u64 %rd4, %rd4, %rd6;\n"
    "  bra LOOP;\n"
    "DONE:\n"
    "  ret;\n"
    "}\n";

bool cudaFill(void *dst, const sinter::rt::RandomFill &f, std::string &err) {
  static Module fillModule{randomFillPtx, 0, nullptr, {}, {}};
  static CUfunction fn = nullptr;
  if (!fn && (!loadModule(fillModule, err) ||
              !check(drv.cuModuleGetFunction(&fn, fillModule.handle,
                                             "sinter_random_fill"),
                     "cuModuleGetFunction(kernel 'sinter_random_fill')",
                     err))) {
    fn = nullptr;
    return false;
  }
  if (!f.count)
    return true;
  uint64_t count = f.count, base = f.base;
  float scale = f.scale;
  uint32_t kind = uint32_t(f.kind);
  unsigned grid = unsigned(std::min<uint64_t>((count + 255) / 256, 1u << 16));
  void *params[] = {&dst, &count, &base, &scale, &kind};
  return check(drv.cuLaunchKernel(fn, grid, 1, 1, 256, 1, 1, 0, stream, params,
                                  nullptr),
               "cuLaunchKernel(kernel 'sinter_random_fill', grid " +
                   std::to_string(grid) + ", dst " + hex(dst) + ", " +
                   std::to_string(count) + " elements of kind " +
                   std::to_string(kind) + ")",
               err);
}

} // namespace
namespace sinter::rt {
extern const char *const greedyTokenPtx; // GreedyTokenPtx.cpp
} // namespace sinter::rt
namespace {

// The generation driver's greedy choice (Backend.h, GreedyStep) on the
// device: sinter_greedy_token, JIT-compiled by the driver at its first use.
// Enough blocks of 256 threads for about 8 logits a thread (248320 bf16
// logits: 122 blocks, a few microseconds), at most 1024; the last block to
// finish writes the token (GreedyToken.cu).
bool cudaGreedy(const sinter::rt::GreedyStep &g, std::string &err) {
  static Module greedyModule{sinter::rt::greedyTokenPtx, 0, nullptr, {}, {}};
  static CUfunction fn = nullptr;
  if (!fn && (!loadModule(greedyModule, err) ||
              !check(drv.cuModuleGetFunction(&fn, greedyModule.handle,
                                             "sinter_greedy_token"),
                     "cuModuleGetFunction(kernel 'sinter_greedy_token')",
                     err))) {
    fn = nullptr;
    return false;
  }
  int kind = g.logitsDtype == SINTER_DTYPE_FLOAT32    ? 0
             : g.logitsDtype == SINTER_DTYPE_BFLOAT16 ? 1
             : g.logitsDtype == SINTER_DTYPE_FLOAT16  ? 2
                                                      : -1;
  if (kind < 0 || g.vocab < 1 || g.vocab >= (int64_t(1) << 32) - 1) {
    err = "the device argmax takes 1 to 2^32 - 2 float32, float16 or "
          "bfloat16 logits, got " +
          std::to_string(g.vocab) + " of dtype " +
          std::to_string(g.logitsDtype);
    return false;
  }
  unsigned n = unsigned(g.vocab);
  int ids64 = g.idsDtype == SINTER_DTYPE_INT64,
      pos64 = g.posDtype == SINTER_DTYPE_INT64;
  long long nextPos = g.nextPos, slot = g.slot, step = g.step;
  const void *logits = g.logits;
  void *ids = g.ids, *pos = g.pos, *history = g.history, *scratch = g.scratch,
       *nanAt = g.nanAt;
  unsigned grid = unsigned(std::min<uint64_t>((n + 2047) / 2048, 1024));
  void *params[] = {&logits, &n,   &kind,    &scratch, &ids,
                    &ids64,  &pos, &pos64,   &nextPos, &history,
                    &slot,   &step, &nanAt};
  return check(drv.cuLaunchKernel(fn, grid, 1, 1, 256, 1, 1, 0, stream, params,
                                  nullptr),
               "cuLaunchKernel(kernel 'sinter_greedy_token', grid " +
                   std::to_string(grid) + ", " + std::to_string(n) +
                   " logits at " + hex(g.logits) + ")",
               err);
}

// The CUDA graph of a model's forward, for one set of buffers. Per model:
// the generation driver alternates a prefill and a decode forward, and each
// keeps its own graph (a global one would be recaptured at every switch).
struct ForwardGraph {
  std::vector<void *> buffers;
  CUgraphExec exec = nullptr;
  int forwardsRun = 0;
};
std::map<const SinterModel *, ForwardGraph> &forwardGraphs() {
  static std::map<const SinterModel *, ForwardGraph> g;
  return g;
}

bool forwardOnce(const SinterModel *model, void *const *buffers,
                 std::string &err) {
  launchError.clear();
  programmaticLaunch = sinter::rt::useProgrammaticLaunch &&
                       deviceHasProgrammaticLaunch &&
                       (model->launch_flags & SINTER_LAUNCH_PROGRAMMATIC);
  int rc = model->forward(buffers);
  // Only this forward's kernels wait on griddepcontrol (the weight packing
  // and greedy-token kernels launch with cuLaunchKernel).
  programmaticLaunch = false;
  if (!launchError.empty()) {
    err = launchError;
    return false;
  }
  if (rc != 0) {
    err = "the forward failed";
    return false;
  }
  return true;
}

bool cudaRun(const SinterModel *model, void *const *buffers,
             std::string &err) {
  size_t n = size_t(model->num_inputs + model->num_outputs) + 1;
  std::vector<void *> bufs(buffers, buffers + n);
  ForwardGraph &g = forwardGraphs()[model];
  // The first forward runs directly: it resolves the kernels
  // (cuModuleGetFunction) and shows launch errors kernel by kernel. The
  // weights are on the device already (uploaded when the session opened).
  if (!sinter::rt::useCudaGraphs || g.forwardsRun++ == 0)
    return forwardOnce(model, buffers, err);
  if (g.exec && bufs != g.buffers) {
    drv.cuGraphExecDestroy(g.exec);
    g.exec = nullptr;
  }
  if (!g.exec) {
    if (!check(drv.cuStreamBeginCapture(stream,
                                        2 /*CU_STREAM_CAPTURE_MODE_RELAXED*/),
               "cuStreamBeginCapture(relaxed)", err))
      return false;
    bool ok = forwardOnce(model, buffers, err);
    CUgraph graph = nullptr;
    CUresult r = drv.cuStreamEndCapture(stream, &graph);
    if (!ok)
      return false;
    if (!check(r, "cuStreamEndCapture", err) ||
        !check(drv.cuGraphInstantiate(&g.exec, graph, 0),
               "cuGraphInstantiateWithFlags(the forward's graph)", err))
      return false;
    drv.cuGraphDestroy(graph);
    g.buffers = bufs;
  }
  return check(drv.cuGraphLaunch(g.exec, stream),
               "cuGraphLaunch(the forward's graph)", err);
}

bool cudaOnTarget(void *dst, const void *src, size_t bytes,
                  std::string &err) {
  return !bytes ||
         check(drv.cuMemcpyDtoDAsync(reinterpret_cast<CUdeviceptr>(dst),
                                     reinterpret_cast<CUdeviceptr>(src), bytes,
                                     stream),
               "cuMemcpyDtoDAsync(dst " + hex(dst) + ", src " + hex(src) +
                   ", " + std::to_string(bytes) + " bytes)",
               err);
}

bool cudaZero(void *dst, size_t bytes, std::string &err) {
  return !bytes ||
         check(drv.cuMemsetD8Async(reinterpret_cast<CUdeviceptr>(dst), 0,
                                   bytes, stream),
               "cuMemsetD8Async(dst " + hex(dst) + ", 0, " +
                   std::to_string(bytes) + " bytes)",
               err);
}

} // namespace

namespace sinter::rt {
bool useCudaGraphs = true;
bool useProgrammaticLaunch = true;
const Backend cudaBackend = {"cuda",       cudaInit,  cudaAlloc, cudaFree,
                             cudaToTarget, cudaToHost, cudaRun,  cudaSync,
                             cudaOnTarget, cudaGreedy, cudaZero};
std::string cudaDeviceName() { return deviceName; }
const DevicePacking cudaPacking = {cudaCopy2D, cudaTranspose, cudaFill};
} // namespace sinter::rt

// What the host code of a CUDA model calls (MLIR's gpu.launch_func
// translation names them; MLIR's libmlir_cuda_runtime is not used).
extern "C" {

void *mgpuModuleLoadJIT(void *data, int /*optLevel*/) {
  auto *m = new Module{static_cast<const char *>(data)};
  modules().push_back(m);
  return m;
}

// A fatbin (the default when ptxas was found at compile time): the driver
// takes the cubin on a GPU of its architecture, else JIT-compiles the PTX.
void *mgpuModuleLoad(void *data, size_t size) {
  auto *m = static_cast<Module *>(mgpuModuleLoadJIT(data, 3));
  m->size = size;
  return m;
}

void mgpuModuleUnload(void * /*module*/) {
  // Process exit: the driver releases the modules with the context.
}

void *mgpuModuleGetFunction(void *module, const char *name) {
  auto *m = static_cast<Module *>(module);
  auto it = m->functions.find(name);
  if (it != m->functions.end())
    return it->second;
  std::string err;
  CUfunction fn = nullptr;
  if (!loaded) {
    if (launchError.empty())
      launchError = "kernel '" + std::string(name) +
                    "' requested before the CUDA backend started";
    return nullptr;
  }
  if (!loadModule(*m, err) ||
      !check(drv.cuModuleGetFunction(&fn, m->handle, name),
             "cuModuleGetFunction(kernel '" + std::string(name) + "')",
             err)) {
    if (launchError.empty())
      launchError = err;
    return nullptr;
  }
  m->functions[name] = fn;
  m->names[fn] = name;
  return fn;
}

void *mgpuStreamCreate() { return stream; }
void mgpuStreamDestroy(void *) {}
// Launches are ordered on the one stream; the driver synchronizes before
// it reads outputs. (Synchronizing here would break graph capture.)
void mgpuStreamSynchronize(void *) {}

void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t smem, void * /*stream*/,
                      void **params, void **extra, size_t /*paramsCount*/) {
  if (!function || !launchError.empty())
    return;
  // Kernels using more than 48 KiB of (dynamic) shared memory must opt in,
  // once per kernel (CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8).
  static std::unordered_map<void *, int32_t> sharedOptIn;
  if (smem > 48 * 1024 && sharedOptIn[function] < smem) {
    CUresult a = drv.cuFuncSetAttribute(function, 8, int(smem));
    if (a != 0) {
      launchError = "cuFuncSetAttribute(max dynamic shared memory " +
                    std::to_string(smem) + " bytes) failed: " + describe(a);
      return;
    }
    sharedOptIn[function] = smem;
  }
  CUresult r;
  if (programmaticLaunch) {
    // The kernel starts with griddepcontrol.wait (sinter-cuda-grid-
    // dependency): it may be launched before the kernel ahead of it on the
    // stream has finished. A CUDA graph captures the programmatic edge.
    LaunchAttribute attr;
    attr.id = kProgrammaticSerialization;
    attr.u.value = 1;
    LaunchConfig config{unsigned(gridX),  unsigned(gridY),  unsigned(gridZ),
                        unsigned(blockX), unsigned(blockY), unsigned(blockZ),
                        unsigned(smem),   stream,           &attr,
                        1};
    r = drv.cuLaunchKernelEx(&config, function, params, extra);
  } else {
    r = drv.cuLaunchKernel(function, unsigned(gridX), unsigned(gridY),
                           unsigned(gridZ), unsigned(blockX), unsigned(blockY),
                           unsigned(blockZ), unsigned(smem), stream, params,
                           extra);
  }
  if (r != 0) {
    std::string name = "?";
    for (Module *m : modules()) {
      auto it = m->names.find(function);
      if (it != m->names.end())
        name = it->second;
    }
    launchError = "cuLaunchKernel(kernel '" + name + "', grid " +
                  std::to_string(gridX) + "x" + std::to_string(gridY) + "x" +
                  std::to_string(gridZ) + ", block " + std::to_string(blockX) +
                  "x" + std::to_string(blockY) + "x" + std::to_string(blockZ) +
                  ", " + std::to_string(smem) + " bytes shared) failed: " +
                  describe(r);
  }
}

} // extern "C"
