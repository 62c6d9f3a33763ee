//===- CApi.cpp - the C API of a compiled model ---------------------------===//
//
// A SinterSession is one opened model: its target buffers (inputs, outputs,
// arena, in the order SinterForwardFn takes them) and which inputs were set.
// The executable's driver and a shared library's users go through these same
// functions. Errors are thread-local strings (sinter_last_error); no
// exception leaves a function of the API.
//
//===----------------------------------------------------------------------===//

#include "Backend.h"
#include "Tensor.h"
#include "Weights.h"
#include "sinter/Runtime/sinter_runtime.h"

#include <cstring>
#include <new>
#include <string>
#include <vector>

using namespace sinter::rt;

struct SinterSession {
  const SinterModel *model = nullptr;
  const Backend *backend = nullptr;
  std::vector<void *> buffers; // inputs, outputs, arena
  std::vector<bool> inputSet;
  bool ran = false;
  bool weightsHeld = false; // this session counts as a user of the weights

  /// The input whose buffer output `j` is (state donation), or -1.
  int32_t donor(int32_t j) const {
    return model->output_donors ? model->output_donors[j] : -1;
  }

  ~SinterSession() {
    for (size_t i = 0; i < buffers.size(); ++i) {
      size_t in = size_t(model->num_inputs);
      bool alias = i >= in && i < in + size_t(model->num_outputs) &&
                   donor(int32_t(i - in)) >= 0;
      if (buffers[i] && !alias)
        backend->free(buffers[i]);
    }
    if (weightsHeld)
      releaseWeights(model);
  }
};

namespace {

thread_local std::string lastError;

SinterStatus fail(const std::string &msg) {
  try {
    lastError = msg;
  } catch (...) {
  }
  return SINTER_ERROR;
}

template <typename F> SinterStatus guard(F &&f) {
  try {
    return f();
  } catch (const std::bad_alloc &) {
    return fail("out of memory");
  } catch (...) {
    return fail("internal error in the Sinter runtime");
  }
}

bool checkSession(const SinterSession *s) {
  if (!s) {
    fail("the session is NULL");
    return false;
  }
  return true;
}

std::string describe(const SinterTensorInfo &t) {
  return dtypeName(t.dtype) + shapeString(t.shape, size_t(t.rank));
}

} // namespace

extern "C" {

int32_t sinter_api_version(void) { return SINTER_C_API_VERSION; }

SinterStatus sinter_open_model(const SinterModel *m, SinterSession **out) {
  return sinter_open_with_weights(m, nullptr, out);
}

SinterStatus sinter_open_with_weights(const SinterModel *m,
                                      const char *weightsDir,
                                      SinterSession **out) {
  return guard([&]() -> SinterStatus {
    if (!out)
      return fail("sinter_open: the output pointer is NULL");
    *out = nullptr;
    if (!m)
      return fail("sinter_open: the model descriptor is NULL");
    if (m->abi_version != SINTER_MODEL_ABI_VERSION)
      return fail("the model was compiled for ABI version " +
                  std::to_string(m->abi_version) + " of the Sinter runtime, "
                  "this runtime has version " +
                  std::to_string(SINTER_MODEL_ABI_VERSION));
    const Backend *backend = findBackend(m->target);
    if (!backend)
      return fail(std::string("this runtime has no backend for the '") +
                  (m->target ? m->target : "?") + "' target");
    std::string err;
    if (!backend->init(err))
      return fail(err);
    auto *s = new SinterSession;
    s->model = m;
    s->backend = backend;
    size_t n = size_t(m->num_inputs + m->num_outputs) + 1;
    s->buffers.assign(n, nullptr);
    s->inputSet.assign(size_t(m->num_inputs), false);
    for (size_t i = 0; i < n; ++i) {
      // A donated output is its input's buffer: the forward writes the
      // updated state there and nothing is allocated for the output.
      if (i >= size_t(m->num_inputs) && i + 1 < n) {
        int32_t j = int32_t(i - size_t(m->num_inputs));
        int32_t d = s->donor(j);
        if (d >= m->num_inputs ||
            (d >= 0 && sinter_tensor_bytes(&m->inputs[d]) !=
                           sinter_tensor_bytes(&m->outputs[j]))) {
          delete s;
          return fail("the model descriptor donates input " +
                      std::to_string(d) + " to output '" +
                      m->outputs[j].name + "', which does not fit it");
        }
        if (d >= 0) {
          s->buffers[i] = s->buffers[size_t(d)];
          continue;
        }
      }
      size_t bytes;
      if (i < size_t(m->num_inputs))
        bytes = size_t(sinter_tensor_bytes(&m->inputs[i]));
      else if (i + 1 < n)
        bytes = size_t(sinter_tensor_bytes(&m->outputs[i - m->num_inputs]));
      else
        bytes = size_t(m->arena_bytes);
      s->buffers[i] = backend->alloc(bytes, err);
      // The arena is zeroed once: it holds the kernels' workspaces, which
      // must be zero at the first forward (docs/runtime.md, "Kernel
      // workspaces"); the forwards leave them zero.
      if (s->buffers[i] && i + 1 == n &&
          !backend->zero(s->buffers[i], bytes, err)) {
        backend->free(s->buffers[i]);
        s->buffers[i] = nullptr;
      }
      if (!s->buffers[i]) {
        delete s;
        return fail(err);
      }
    }
    // Weights last: the device is ready, and a failure here frees the
    // buffers with the session.
    if (!acquireWeights(m, backend, weightsDir, err)) {
      delete s;
      return fail(err);
    }
    s->weightsHeld = true;
    *out = s;
    return SINTER_OK;
  });
}

SinterStatus sinter_open(SinterSession **out) {
  return sinter_open_model(sinter_model_descriptor(), out);
}

void sinter_close(SinterSession *s) { delete s; }

const SinterModel *sinter_session_model(const SinterSession *s) {
  return s ? s->model : nullptr;
}
const char *sinter_model_name(const SinterSession *s) {
  return s && s->model->name ? s->model->name : "";
}
const char *sinter_model_target(const SinterSession *s) {
  return s && s->model->target ? s->model->target : "";
}
int32_t sinter_num_inputs(const SinterSession *s) {
  return s ? s->model->num_inputs : 0;
}
int32_t sinter_num_outputs(const SinterSession *s) {
  return s ? s->model->num_outputs : 0;
}
const SinterTensorInfo *sinter_input_info(const SinterSession *s,
                                          int32_t index) {
  if (!s || index < 0 || index >= s->model->num_inputs)
    return nullptr;
  return &s->model->inputs[index];
}
const SinterTensorInfo *sinter_output_info(const SinterSession *s,
                                           int32_t index) {
  if (!s || index < 0 || index >= s->model->num_outputs)
    return nullptr;
  return &s->model->outputs[index];
}
int32_t sinter_find_input(const SinterSession *s, const char *name) {
  if (!s || !name)
    return -1;
  for (int32_t i = 0; i < s->model->num_inputs; ++i)
    if (std::strcmp(s->model->inputs[i].name, name) == 0)
      return i;
  return -1;
}
int32_t sinter_find_output(const SinterSession *s, const char *name) {
  if (!s || !name)
    return -1;
  for (int32_t i = 0; i < s->model->num_outputs; ++i)
    if (std::strcmp(s->model->outputs[i].name, name) == 0)
      return i;
  return -1;
}

int32_t sinter_output_donor(const SinterSession *s, int32_t index) {
  if (!s || index < 0 || index >= s->model->num_outputs)
    return -1;
  return s->donor(index);
}

uint64_t sinter_tensor_bytes(const SinterTensorInfo *t) {
  if (!t)
    return 0;
  uint64_t n = dtypeSize(t->dtype);
  for (int32_t k = 0; k < t->rank; ++k)
    n *= uint64_t(t->shape[k]);
  return n;
}

const char *sinter_dtype_name(int32_t dtype) {
  switch (dtype) {
  case SINTER_DTYPE_FLOAT32: return "float32";
  case SINTER_DTYPE_UINT8: return "uint8";
  case SINTER_DTYPE_INT8: return "int8";
  case SINTER_DTYPE_INT16: return "int16";
  case SINTER_DTYPE_INT32: return "int32";
  case SINTER_DTYPE_INT64: return "int64";
  case SINTER_DTYPE_BOOL: return "bool";
  case SINTER_DTYPE_FLOAT16: return "float16";
  case SINTER_DTYPE_FLOAT64: return "float64";
  case SINTER_DTYPE_BFLOAT16: return "bfloat16";
  default: return nullptr;
  }
}

SinterStatus sinter_set_input(SinterSession *s, int32_t index,
                              const void *data, uint64_t bytes) {
  return guard([&]() -> SinterStatus {
    if (!checkSession(s))
      return SINTER_ERROR;
    const SinterTensorInfo *info = sinter_input_info(s, index);
    if (!info)
      return fail("input index " + std::to_string(index) +
                  " is out of range (the model has " +
                  std::to_string(s->model->num_inputs) + " inputs)");
    uint64_t want = sinter_tensor_bytes(info);
    if (bytes != want)
      return fail("input '" + std::string(info->name) + "' (" +
                  describe(*info) + ") takes " + std::to_string(want) +
                  " bytes, got " + std::to_string(bytes));
    if (!data && bytes)
      return fail("input '" + std::string(info->name) + "': data is NULL");
    std::string err;
    if (!s->backend->copyToTarget(s->buffers[size_t(index)], data,
                                  size_t(bytes), err))
      return fail("copying input '" + std::string(info->name) +
                  "' to the target: " + err);
    s->inputSet[size_t(index)] = true;
    return SINTER_OK;
  });
}

SinterStatus sinter_run(SinterSession *s) {
  return guard([&]() -> SinterStatus {
    if (!checkSession(s))
      return SINTER_ERROR;
    for (int32_t i = 0; i < s->model->num_inputs; ++i)
      if (!s->inputSet[size_t(i)])
        return fail("input '" + std::string(s->model->inputs[i].name) +
                    "' (" + describe(s->model->inputs[i]) + ") was not set");
    s->ran = false;
    std::string err;
    if (!s->backend->run(s->model, s->buffers.data(), err) ||
        !s->backend->sync(err))
      return fail(err);
    s->ran = true;
    return SINTER_OK;
  });
}

SinterStatus sinter_read_output(SinterSession *s, int32_t index, void *data,
                                uint64_t bytes) {
  return guard([&]() -> SinterStatus {
    if (!checkSession(s))
      return SINTER_ERROR;
    const SinterTensorInfo *info = sinter_output_info(s, index);
    if (!info)
      return fail("output index " + std::to_string(index) +
                  " is out of range (the model has " +
                  std::to_string(s->model->num_outputs) + " outputs)");
    if (!s->ran)
      return fail("output '" + std::string(info->name) +
                  "' read before a successful sinter_run");
    uint64_t want = sinter_tensor_bytes(info);
    if (bytes != want)
      return fail("output '" + std::string(info->name) + "' (" +
                  describe(*info) + ") has " + std::to_string(want) +
                  " bytes, the buffer " + std::to_string(bytes));
    if (!data && bytes)
      return fail("output '" + std::string(info->name) + "': data is NULL");
    std::string err;
    if (!s->backend->copyToHost(
            data, s->buffers[size_t(s->model->num_inputs + index)],
            size_t(bytes), err))
      return fail("copying output '" + std::string(info->name) +
                  "' from the target: " + err);
    return SINTER_OK;
  });
}

const char *sinter_last_error(void) { return lastError.c_str(); }

} // extern "C"
