/*===- sinter_runtime.h - the ABI between a compiled model and the runtime ===*
 *
 * Plain C, no includes beyond <stdint.h>: sinterc pastes this header into the
 * entry file it generates for every executable, and the runtime
 * (libsinter_runtime.a, C++17 without LLVM or MLIR) implements it. A model is
 * a constant SinterModel descriptor (names, dtypes and shapes of its inputs
 * and outputs, the size of its scratch arena) plus a `forward` trampoline
 * that calls the generated code. `sinter_driver_main` is the whole command
 * line program (`./model --input x=x.npy --output-dir out`).
 *
 * Changing a struct below changes the ABI: bump SINTER_MODEL_ABI_VERSION.
 *===----------------------------------------------------------------------===*/

#ifndef SINTER_RUNTIME_SINTER_RUNTIME_H
#define SINTER_RUNTIME_SINTER_RUNTIME_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SINTER_MODEL_ABI_VERSION 1

/* Element types, numbered as ONNX's TensorProto.DataType. */
enum SinterDType {
  SINTER_DTYPE_FLOAT32 = 1,
  SINTER_DTYPE_UINT8 = 2,
  SINTER_DTYPE_INT8 = 3,
  SINTER_DTYPE_INT16 = 5,
  SINTER_DTYPE_INT32 = 6,
  SINTER_DTYPE_INT64 = 7,
  SINTER_DTYPE_BOOL = 9,
  SINTER_DTYPE_FLOAT16 = 10,
  SINTER_DTYPE_FLOAT64 = 11,
  SINTER_DTYPE_BFLOAT16 = 16
};

/* One input or output of the model: a dense row-major tensor. */
typedef struct SinterTensorInfo {
  const char *name; /* the ONNX value name */
  int32_t dtype;    /* enum SinterDType */
  int32_t rank;
  const int64_t *shape; /* `rank` static dimensions */
} SinterTensorInfo;

/* Runs one forward. `buffers` holds, in order, one pointer per input, one per
 * output and the scratch arena (SinterModel.arena_bytes, 64-byte aligned),
 * all in the memory of the model's target. Returns 0 on success. */
typedef int (*SinterForwardFn)(void *const *buffers);

typedef struct SinterModel {
  uint32_t abi_version; /* SINTER_MODEL_ABI_VERSION */
  const char *name;     /* the model's file name, for messages */
  const char *target;   /* "cpu" */
  int32_t num_inputs;
  int32_t num_outputs;
  const SinterTensorInfo *inputs;
  const SinterTensorInfo *outputs;
  uint64_t arena_bytes; /* scratch memory planned at compile time */
  SinterForwardFn forward;
} SinterModel;

/* The executable's main: parses the command line, reads and checks the
 * inputs, runs the model, writes the outputs. Returns the exit code. */
int sinter_driver_main(int argc, char **argv, const SinterModel *model);

#ifdef __cplusplus
}
#endif

#endif /* SINTER_RUNTIME_SINTER_RUNTIME_H */
