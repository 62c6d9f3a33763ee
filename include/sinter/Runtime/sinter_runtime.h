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
 * The second half is the C API of a model compiled to a shared library
 * (`sinterc model.onnx --emit=shared -o libmodel.so`): open the model, query
 * its inputs and outputs, set inputs, run, read outputs, close. It compiles
 * as C99 and C++; docs/runtime.md has an example.
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

/*===--------------------------------------------------------------------===*
 * The C API of a compiled model (libmodel.so from --emit=shared; the same
 * functions are in every executable, whose driver uses them).
 *
 * Errors: every function that can fail returns a SinterStatus (0 = success).
 * On failure, sinter_last_error() returns the message of the last failed
 * call made by the calling thread (thread-local storage); the string stays
 * valid until that thread's next failed call. It is "" when no call failed.
 *
 * Ownership: a SinterSession owns its inputs, outputs and scratch arena on
 * the model's target. sinter_set_input copies the caller's host buffer
 * (the caller keeps ownership and may reuse it at once); inputs persist
 * across runs until set again. sinter_read_output copies an output into a
 * caller-owned host buffer; the outputs are those of the last successful
 * sinter_run and stay readable until the next sinter_run or sinter_close.
 * SinterTensorInfo pointers and their strings point into the library's
 * constant data: valid while the library is loaded, never freed.
 *
 * Thread safety: sessions are independent (each has its own arena), so
 * different sessions may be used from different threads at the same time.
 * One session is not thread-safe: calls on the same session must not
 * overlap (lock around it, or open one session per thread). The query
 * functions on a SinterTensorInfo and sinter_last_error are always safe.
 *===--------------------------------------------------------------------===*/

#if defined(__GNUC__) || defined(__clang__)
#define SINTER_API __attribute__((visibility("default")))
#else
#define SINTER_API
#endif

/* Incremented when a function below changes or goes; new functions do not. */
#define SINTER_C_API_VERSION 1

typedef enum SinterStatus {
  SINTER_OK = 0,
  SINTER_ERROR = 1 /* see sinter_last_error() */
} SinterStatus;

/* An opened model: its target buffers and the state of the last run. */
typedef struct SinterSession SinterSession;

/* Defined by the entry file sinterc generates: the model in this library
 * or executable. */
SINTER_API const SinterModel *sinter_model_descriptor(void);

/* SINTER_C_API_VERSION of the runtime linked into the library. */
SINTER_API int32_t sinter_api_version(void);

/* Opens the model of this library: checks its ABI version, prepares the
 * target, allocates the buffers. *out is NULL on failure. */
SINTER_API SinterStatus sinter_open(SinterSession **out);
/* Opens a given model descriptor (what sinter_open does with
 * sinter_model_descriptor()). */
SINTER_API SinterStatus sinter_open_model(const SinterModel *model,
                                          SinterSession **out);
/* Frees the session and its buffers; NULL is ignored. */
SINTER_API void sinter_close(SinterSession *session);

/* The model: name (its file name), target ("cpu"), and its descriptor. */
SINTER_API const char *sinter_model_name(const SinterSession *session);
SINTER_API const char *sinter_model_target(const SinterSession *session);
SINTER_API const SinterModel *sinter_session_model(const SinterSession *s);

SINTER_API int32_t sinter_num_inputs(const SinterSession *session);
SINTER_API int32_t sinter_num_outputs(const SinterSession *session);
/* Input or output `index` (0-based); NULL when out of range. */
SINTER_API const SinterTensorInfo *sinter_input_info(const SinterSession *s,
                                                     int32_t index);
SINTER_API const SinterTensorInfo *sinter_output_info(const SinterSession *s,
                                                      int32_t index);
/* The index of the input or output called `name`; -1 when there is none. */
SINTER_API int32_t sinter_find_input(const SinterSession *s, const char *name);
SINTER_API int32_t sinter_find_output(const SinterSession *s, const char *name);

/* Bytes of a dense tensor: elements times the element size; 0 for an
 * unknown dtype. */
SINTER_API uint64_t sinter_tensor_bytes(const SinterTensorInfo *info);
/* numpy-style dtype name ("float32", "bfloat16"...); NULL when unknown. */
SINTER_API const char *sinter_dtype_name(int32_t dtype);

/* Copies `bytes` of row-major host data into input `index`. `bytes` must
 * equal sinter_tensor_bytes of the input (the dtype and shape are the
 * compiled ones; the caller converts). */
SINTER_API SinterStatus sinter_set_input(SinterSession *s, int32_t index,
                                         const void *data, uint64_t bytes);
/* Runs one forward and waits for it. Fails when an input was never set. */
SINTER_API SinterStatus sinter_run(SinterSession *s);
/* Copies output `index` of the last run into `data`, which holds `bytes`
 * (exactly sinter_tensor_bytes of the output). Fails before the first
 * successful run. */
SINTER_API SinterStatus sinter_read_output(SinterSession *s, int32_t index,
                                           void *data, uint64_t bytes);

/* The message of the calling thread's last failed call; never NULL. */
SINTER_API const char *sinter_last_error(void);

/* The executable's main: parses the command line, reads and checks the
 * inputs, runs the model, writes the outputs. Returns the exit code. */
int sinter_driver_main(int argc, char **argv, const SinterModel *model);

#ifdef __cplusplus
}
#endif

#endif /* SINTER_RUNTIME_SINTER_RUNTIME_H */
