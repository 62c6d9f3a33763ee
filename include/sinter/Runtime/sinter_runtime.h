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

#define SINTER_MODEL_ABI_VERSION 3

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

/* A weight the runtime provides when a session opens (docs/runtime.md,
 * "Weights"). Exactly one of `data`, `file` and `pack >= 0` says where its
 * bytes come from. */
typedef struct SinterWeight {
  const char *name; /* the initializer's name (or the pack's), for messages */
  int32_t dtype;    /* enum SinterDType */
  int32_t rank;
  const int64_t *shape;
  uint64_t bytes;
  const void *data;    /* embedded in the executable; else NULL */
  const char *file;    /* external data: a file relative to the weights
                          directory; else NULL */
  uint64_t offset;     /* external data: where the tensor starts in `file` */
  uint64_t file_bytes; /* external data: the file's size at compile time */
  int32_t pack;        /* >= 0: made at load time by packs[pack] */
  void **slot; /* where the runtime stores the address (in target memory)
                  the forward reads; NULL for a weight only packs read */
} SinterWeight;

/* How a pack piece is laid out from its source. New layouts (interleaves a
 * kernel wants) get new codes; a runtime refuses codes it does not know. */
enum SinterPackOp {
  SINTER_PACK_COPY = 0,     /* the source as it is */
  SINTER_PACK_TRANSPOSE = 1 /* a 2-D source with its dimensions swapped */
};

/* One source of a pack: weights[source] laid out by `op`, placed at
 * `offset` along the pack's axis (every other dimension is whole). */
typedef struct SinterPackPiece {
  int32_t op; /* enum SinterPackOp */
  int32_t source;
  int64_t offset;
} SinterPackPiece;

/* A weight-pack plan: the pieces concatenated along `axis` into the weight
 * whose `pack` names this plan. Applied once, when a session opens. */
typedef struct SinterPack {
  int32_t axis;
  int32_t num_pieces;
  const SinterPackPiece *pieces;
} SinterPack;

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
  /* The weights the runtime loads when a session opens (ABI 2). */
  const char *weights_dir; /* external data's folder at compile time (the
                              model's folder); NULL when there is none */
  int32_t num_weights;
  const SinterWeight *weights;
  int32_t num_packs;
  const SinterPack *packs;
  /* State donation (ABI 2): per output, the input whose buffer holds it, or
   * -1 when the output has its own; NULL when no output is donated. The
   * forward updates that input in place, and the runtime passes the
   * input's buffer at the output's position in `buffers`. */
  const int32_t *output_donors;
  /* How the runtime may launch the forward's kernels (ABI 3): SINTER_LAUNCH_*
   * bits, 0 for none. */
  uint32_t launch_flags;
} SinterModel;

/* Every kernel of the forward starts with griddepcontrol.wait (ahead of
 * any memory access): the CUDA runtime may launch it with programmatic
 * stream serialization, before the kernel ahead of it has completed
 * (docs/runtime.md). */
#define SINTER_LAUNCH_PROGRAMMATIC 1u

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
 * State donation is the exception to "inputs persist": a donated input
 * (sinter_output_donor) is overwritten by each run with the updated state,
 * which is also the output's value.
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
/* sinter_open_model, reading external-data weights from `weights_dir`
 * instead of the folder recorded at compile time (NULL: that folder).
 * Weights are loaded once per process and model: a second session of the
 * same model shares them and must name the same folder. */
SINTER_API SinterStatus sinter_open_with_weights(const SinterModel *model,
                                                 const char *weights_dir,
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

/* State donation: the input whose buffer holds output `index` (the model
 * updates that input in place), or -1 when the output has its own buffer
 * or `index` is out of range. After sinter_run such an input holds the
 * updated state and the output is a view of it: sinter_read_output reads
 * the input's buffer. An input not set again keeps its value for the next
 * run, so a caller that runs step after step sets the state once and never
 * copies it (on CUDA it stays in device memory); sinter_set_input of the
 * input replaces the state. */
SINTER_API int32_t sinter_output_donor(const SinterSession *s, int32_t index);

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
