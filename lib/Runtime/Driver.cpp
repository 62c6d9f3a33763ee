//===- Driver.cpp - the command line program of every compiled model -----===//
//
//   ./model --input NAME=FILE ... [--output-dir DIR] [--bench N] [--help]
//
// Everything that can be checked is checked before the first forward: the
// arguments, that every input is given exactly once, that every file reads
// and has the dtype and shape the model was compiled for. Any error prints
// one "model: error: ..." line and exits 1 without writing an output. Outputs
// are written to temporary files first and renamed only once all of them
// were written, so an output directory never holds a partial result.
//
//===----------------------------------------------------------------------===//

#include "Args.h"
#include "Backend.h"
#include "Tensor.h"
#include "Weights.h"
#include "sinter/Runtime/sinter_runtime.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace sinter::rt;

namespace {

struct Options {
  std::vector<std::pair<std::string, std::string>> inputs; // name, file
  std::string outputDir;
  std::string weightsDir; // --weights: external data's folder
  long bench = 0;
  long benchStream = 0; // --bench-stream N: N forwards, one wait
  bool help = false;
};

std::string progName(const SinterModel *m, char **argv) {
  if (argv && argv[0]) {
    const char *slash = std::strrchr(argv[0], '/');
    return slash ? slash + 1 : argv[0];
  }
  return m->name ? m->name : "model";
}

std::string typeString(const SinterTensorInfo &t) {
  return dtypeName(t.dtype) + shapeString(t.shape, size_t(t.rank));
}

void printHelp(const SinterModel *m, const std::string &prog) {
  std::string target = m->target ? m->target : "?";
  target += " target";
  if (m->launch_flags & SINTER_LAUNCH_PROGRAMMATIC)
    target += " (a kernel may launch before the one ahead of it has "
              "completed:\nprogrammatic dependent launch, on sm_90 and later)";
  std::printf(
      "usage: %s --input NAME=FILE ... [--output-dir DIR] [--bench N] "
      "[--weights DIR]\n\n"
      "Runs the model '%s', compiled by sinterc for the %s.\n\n"
      "options:\n"
      "  --input NAME=FILE  the input NAME from FILE: .npy, or an ONNX "
      "TensorProto\n"
      "                     (.pb); every input is required, with exactly the "
      "dtype\n"
      "                     and shape below\n"
      "  --output-dir DIR   write each output to DIR/<output name>.npy "
      "(characters\n"
      "                     other than A-Z a-z 0-9 . _ - become '_'); "
      "without it the\n"
      "                     outputs are printed\n"
      "  --bench N          run one warm-up forward, then time N forwards "
      "and print\n"
      "                     the median and minimum milliseconds per forward\n"
      "  --weights DIR      read external-data weights from DIR (default: "
      "the model's\n"
      "                     folder when it was compiled%s%s)\n"
      "  --bench-stream N   run N forwards back to back, wait once, and "
      "print the\n"
      "                     mean milliseconds per forward (best of 3 "
      "batches):\n"
      "                     no per-forward launch/sync latency\n"
      "  --random-weights[=SEED]\n"
      "                     fill the external-data weights with "
      "deterministic\n"
      "                     pseudo-random values (on the device for "
      "cuda) instead\n"
      "                     of reading them: for timing; no weights file is "
      "opened\n"
      "  --no-graph         (cuda target) launch the kernels one by one "
      "every forward\n"
      "                     instead of replaying a CUDA graph of it\n"
      "  --no-programmatic-launch\n"
      "                     (cuda target) launch each kernel only when the "
      "one before\n"
      "                     has finished (no programmatic dependent "
      "launch)\n"
      "  --help             print this message\n\n",
      prog.c_str(), m->name ? m->name : "?", target.c_str(),
      m->weights_dir ? ", " : "", m->weights_dir ? m->weights_dir : "");
  size_t width = 0;
  for (int i = 0; i < m->num_inputs; ++i)
    width = std::max(width, std::strlen(m->inputs[i].name));
  for (int i = 0; i < m->num_outputs; ++i)
    width = std::max(width, std::strlen(m->outputs[i].name));
  std::printf("inputs:\n");
  for (int i = 0; i < m->num_inputs; ++i)
    std::printf("  %-*s  %s\n", int(width), m->inputs[i].name,
                typeString(m->inputs[i]).c_str());
  if (m->num_inputs == 0)
    std::printf("  (none)\n");
  std::printf("outputs:\n");
  for (int i = 0; i < m->num_outputs; ++i) {
    int32_t donor = m->output_donors ? m->output_donors[i] : -1;
    std::printf("  %-*s  %s%s%s\n", int(width), m->outputs[i].name,
                typeString(m->outputs[i]).c_str(),
                donor >= 0 ? "  (updated in place in input " : "",
                donor >= 0 ? (std::string(m->inputs[donor].name) + ")").c_str()
                           : "");
  }
}

/// Parses argv into `o`; false with `err` on a malformed command line.
bool parseArgs(int argc, char **argv, const SinterModel *m, Options &o,
               std::string &err) {
  ArgReader args(argc, argv);
  while (args.next()) {
    const std::string &a = args.word;
    const std::string &value = args.value;
    if (a == "--help" || a == "-h") {
      o.help = true;
    } else if (args.flag("--input")) {
      if (!args.takeValue("--input", err))
        return false;
      // NAME=FILE; a name that itself holds '=' is found by trying the
      // model's input names first.
      size_t split = std::string::npos;
      for (int k = 0; k < m->num_inputs; ++k) {
        std::string n = m->inputs[k].name;
        if (value.size() > n.size() && value.compare(0, n.size(), n) == 0 &&
            value[n.size()] == '=' &&
            (split == std::string::npos || n.size() > split))
          split = n.size();
      }
      if (split == std::string::npos)
        split = value.find('=');
      if (split == std::string::npos || split == 0 ||
          split + 1 == value.size()) {
        err = "--input expects NAME=FILE, got '" + value + "'";
        return false;
      }
      o.inputs.emplace_back(value.substr(0, split), value.substr(split + 1));
    } else if (args.flag("--output-dir")) {
      if (!args.takeValue("--output-dir", err))
        return false;
      if (value.empty()) {
        err = "--output-dir needs a directory";
        return false;
      }
      o.outputDir = value;
    } else if (args.flag("--weights")) {
      if (!args.takeValue("--weights", err))
        return false;
      if (value.empty()) {
        err = "--weights needs a directory";
        return false;
      }
      o.weightsDir = value;
    } else if (args.flag("--random-weights")) {
      if (!args.takeSeed(randomWeights.seed, err))
        return false;
      randomWeights.enabled = true;
    } else if (a == "--no-graph") {
      // CUDA target: launch kernel by kernel instead of replaying the
      // forward's CUDA graph (no effect on the CPU target).
      useCudaGraphs = false;
    } else if (a == "--no-programmatic-launch") {
      // CUDA target: each kernel waits for the one before to finish before
      // it is launched (A/B of SINTER_LAUNCH_PROGRAMMATIC).
      useProgrammaticLaunch = false;
    } else if (args.flag("--bench")) {
      if (!args.takeValue("--bench", err))
        return false;
      char *end = nullptr;
      errno = 0;
      long n = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || errno || n < 1 || n > 100000000) {
        err = "--bench expects a positive number of runs, got '" + value + "'";
        return false;
      }
      o.bench = n;
    } else if (args.flag("--bench-stream")) {
      if (!args.takeValue("--bench-stream", err))
        return false;
      char *end = nullptr;
      errno = 0;
      long n = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || errno || n < 1 || n > 100000000) {
        err = "--bench-stream expects a positive number of runs, got '" +
              value + "'";
        return false;
      }
      o.benchStream = n;
    } else {
      err = "unknown argument '" + a + "' (see --help)" + args.seedHint();
      return false;
    }
  }
  return true;
}

/// --bench-stream: sinter_run waits for every forward, which adds the
/// launch and synchronization latency (microseconds) to each one; a
/// microsecond kernel needs forwards started back to back and one wait.
/// The C API has no such call, so this runs the backend directly on buffers
/// of its own, while the caller's session stays open (its weights stay
/// loaded). A new buffer set is a new CUDA graph: two warm-up forwards
/// first. Returns the best mean of 3 batches of `n`.
bool benchStream(const SinterModel *m, const std::vector<HostTensor> &inputs,
                 long n, double &bestMs, std::string &err) {
  const Backend *b = findBackend(m->target);
  size_t count = size_t(m->num_inputs + m->num_outputs) + 1;
  std::vector<void *> bufs(count, nullptr);
  struct Freer {
    const Backend *b;
    std::vector<void *> &bufs;
    ~Freer() {
      for (void *p : bufs)
        if (p)
          b->free(p);
    }
  } freer{b, bufs};
  for (size_t i = 0; i < count; ++i) {
    size_t bytes;
    if (i < size_t(m->num_inputs))
      bytes = size_t(sinter_tensor_bytes(&m->inputs[i]));
    else if (i + 1 < count)
      bytes = size_t(sinter_tensor_bytes(&m->outputs[i - m->num_inputs]));
    else
      bytes = size_t(m->arena_bytes);
    if (!(bufs[i] = b->alloc(bytes, err)))
      return false;
    // A new arena: its kernel workspaces start zero (as in sinter_open).
    if (i + 1 == count && !b->zero(bufs[i], bytes, err))
      return false;
    if (i < size_t(m->num_inputs) &&
        !b->copyToTarget(bufs[i], inputs[i].bytes.data(),
                         inputs[i].bytes.size(), err))
      return false;
  }
  for (int w = 0; w < 2; ++w)
    if (!b->run(m, bufs.data(), err) || !b->sync(err))
      return false;
  bestMs = 0;
  for (int batch = 0; batch < 3; ++batch) {
    auto t0 = std::chrono::steady_clock::now();
    for (long r = 0; r < n; ++r)
      if (!b->run(m, bufs.data(), err))
        return false;
    if (!b->sync(err))
      return false;
    auto t1 = std::chrono::steady_clock::now();
    double ms =
        std::chrono::duration<double, std::milli>(t1 - t0).count() / double(n);
    bestMs = batch == 0 ? ms : std::min(bestMs, ms);
  }
  return true;
}

std::string inputNames(const SinterModel *m) {
  std::string s;
  for (int i = 0; i < m->num_inputs; ++i)
    s += (i ? ", " : "") + std::string(m->inputs[i].name);
  return s.empty() ? "none" : s;
}

/// Reads and checks every input; fills `tensors` in the model's order.
bool loadInputs(const SinterModel *m, const Options &o,
                std::vector<HostTensor> &tensors, std::string &err) {
  std::map<std::string, int> index;
  for (int i = 0; i < m->num_inputs; ++i)
    index[m->inputs[i].name] = i;
  std::vector<const std::string *> files(size_t(m->num_inputs), nullptr);
  for (const auto &[name, file] : o.inputs) {
    auto it = index.find(name);
    if (it == index.end()) {
      err = "unknown input '" + name +
            "' (the model's inputs: " + inputNames(m) + ")";
      return false;
    }
    if (files[size_t(it->second)]) {
      err = "input '" + name + "' is given twice ('" +
            *files[size_t(it->second)] + "' and '" + file + "')";
      return false;
    }
    files[size_t(it->second)] = &file;
  }
  for (int i = 0; i < m->num_inputs; ++i)
    if (!files[size_t(i)]) {
      err = "missing input '" + std::string(m->inputs[i].name) + "' (" +
            typeString(m->inputs[i]) + "); pass --input " + m->inputs[i].name +
            "=FILE";
      return false;
    }
  tensors.resize(size_t(m->num_inputs));
  for (int i = 0; i < m->num_inputs; ++i) {
    const SinterTensorInfo &info = m->inputs[i];
    const std::string &file = *files[size_t(i)];
    HostTensor &t = tensors[size_t(i)];
    std::string why;
    if (!readTensorFile(file, t, why)) {
      err = "input '" + std::string(info.name) + "': cannot read '" + file +
            "': " + why;
      return false;
    }
    if (t.dtype != info.dtype) {
      err = "input '" + std::string(info.name) + "' from '" + file +
            "' has dtype " + dtypeName(t.dtype) + ", the model expects " +
            dtypeName(info.dtype) + shapeString(info.shape, size_t(info.rank));
      return false;
    }
    if (t.shape.size() != size_t(info.rank) ||
        !std::equal(t.shape.begin(), t.shape.end(), info.shape)) {
      err = "input '" + std::string(info.name) + "' from '" + file +
            "' has shape " + shapeString(t.shape) + ", the model expects " +
            shapeString(info.shape, size_t(info.rank));
      return false;
    }
  }
  return true;
}

size_t tensorBytes(const SinterTensorInfo &t) {
  size_t n = dtypeSize(t.dtype);
  for (int k = 0; k < t.rank; ++k)
    n *= size_t(t.shape[k]);
  return n;
}

/// An output name as a file name: [A-Za-z0-9._-] kept, others become '_'.
std::string fileNameFor(const std::string &name) {
  std::string s = name;
  for (char &c : s)
    if (!(std::isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-'))
      c = '_';
  if (s.empty() || s == "." || s == "..")
    s = "_" + s;
  return s;
}

void printTensor(const SinterTensorInfo &info, const std::vector<uint8_t> &d) {
  std::printf("%s: %s\n ", info.name, typeString(info).c_str());
  int64_t n = int64_t(d.size() / dtypeSize(info.dtype));
  const int64_t limit = 64;
  bool isFloat = info.dtype == SINTER_DTYPE_FLOAT32 ||
                 info.dtype == SINTER_DTYPE_FLOAT16 ||
                 info.dtype == SINTER_DTYPE_BFLOAT16 ||
                 info.dtype == SINTER_DTYPE_FLOAT64;
  for (int64_t i = 0; i < n && i < limit; ++i) {
    double v = elementAsDouble(info.dtype, d.data(), i);
    if (isFloat)
      std::printf(" %.6g", v);
    else
      std::printf(" %lld", (long long)v);
  }
  if (n > limit)
    std::printf(" ... (%lld more)", (long long)(n - limit));
  std::printf("\n");
}

/// Writes all outputs, or none: temporary files renamed at the end.
bool writeOutputs(const SinterModel *m, const std::string &dir,
                  const std::vector<std::vector<uint8_t>> &outputs,
                  std::string &err) {
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    if (mkdir(dir.c_str(), 0777) != 0) {
      err = "cannot create the output directory '" + dir +
            "': " + std::strerror(errno);
      return false;
    }
  } else if (!S_ISDIR(st.st_mode)) {
    err = "the output directory '" + dir + "' is not a directory";
    return false;
  }
  std::vector<std::string> finals, temps;
  std::map<std::string, std::string> taken;
  for (int i = 0; i < m->num_outputs; ++i) {
    std::string file = fileNameFor(m->outputs[i].name);
    auto [it, fresh] = taken.emplace(file, m->outputs[i].name);
    if (!fresh) {
      err = "outputs '" + it->second + "' and '" + m->outputs[i].name +
            "' would both be written to '" + file + ".npy'";
      return false;
    }
    finals.push_back(dir + "/" + file + ".npy");
    temps.push_back(dir + "/." + file + ".npy.tmp" +
                    std::to_string(long(getpid())));
  }
  auto cleanup = [&](size_t upTo) {
    for (size_t k = 0; k < upTo; ++k)
      std::remove(temps[k].c_str());
  };
  for (int i = 0; i < m->num_outputs; ++i) {
    const SinterTensorInfo &info = m->outputs[i];
    std::vector<uint8_t> npy =
        encodeNpy(info.dtype, info.shape, size_t(info.rank),
                  outputs[size_t(i)].data(), outputs[size_t(i)].size());
    std::string why;
    if (!writeFile(temps[size_t(i)], npy, why)) {
      cleanup(size_t(i) + 1);
      err = "cannot write output '" + std::string(info.name) + "' to '" +
            finals[size_t(i)] + "': " + why;
      return false;
    }
  }
  for (size_t i = 0; i < finals.size(); ++i)
    if (std::rename(temps[i].c_str(), finals[i].c_str()) != 0) {
      err = "cannot rename '" + temps[i] + "' to '" + finals[i] +
            "': " + std::strerror(errno);
      for (size_t k = 0; k < i; ++k)
        std::remove(finals[k].c_str());
      cleanup(temps.size());
      return false;
    }
  return true;
}

int fail(const std::string &prog, const std::string &msg) {
  std::fflush(stdout);
  std::fprintf(stderr, "%s: error: %s\n", prog.c_str(), msg.c_str());
  return 1;
}

} // namespace

extern "C" int sinter_driver_main(int argc, char **argv, const SinterModel *m) {
  std::string prog = progName(m, argv);
  if (!m || m->abi_version != SINTER_MODEL_ABI_VERSION)
    return fail(prog, "this executable's model was compiled for another "
                      "version of the Sinter runtime");
  Options o;
  std::string err;
  if (!parseArgs(argc, argv, m, o, err))
    return fail(prog, err);
  if (o.help) {
    printHelp(m, prog);
    return 0;
  }
  if (!findBackend(m->target))
    return fail(prog, std::string("this runtime has no backend for the '") +
                          (m->target ? m->target : "?") + "' target");

  std::vector<HostTensor> inputs;
  if (!loadInputs(m, o, inputs, err))
    return fail(prog, err);

  // The rest goes through the C API, as a shared library's users do.
  SinterSession *session = nullptr;
  if (sinter_open_with_weights(m, o.weightsDir.c_str(), &session) != SINTER_OK)
    return fail(prog, sinter_last_error());
  struct Closer {
    SinterSession *s;
    ~Closer() { sinter_close(s); }
  } closer{session};
  for (int32_t i = 0; i < m->num_inputs; ++i)
    if (sinter_set_input(session, i, inputs[size_t(i)].bytes.data(),
                         inputs[size_t(i)].bytes.size()) != SINTER_OK)
      return fail(prog, sinter_last_error());

  if (sinter_run(session) != SINTER_OK)
    return fail(prog, sinter_last_error());
  if (o.bench > 0) {
    std::vector<double> ms;
    ms.reserve(size_t(o.bench));
    for (long r = 0; r < o.bench; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      if (sinter_run(session) != SINTER_OK)
        return fail(prog, sinter_last_error());
      auto t1 = std::chrono::steady_clock::now();
      ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    size_t n = ms.size();
    double median = n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
    std::printf("bench: %ld runs on %s, median %.6g ms, min %.6g ms per "
                "forward\n",
                o.bench, sinter_model_target(session), median, ms.front());
  }
  // State donation (sinter_output_donor): every forward updated the
  // donated inputs in place, so the timed ones ran on ever newer state.
  // Set them back from the files and run once more: the outputs written
  // are those of the given inputs (on CUDA, from a replayed graph: the
  // buffers did not move).
  if (o.bench > 0 && m->output_donors) {
    for (int32_t j = 0; j < m->num_outputs; ++j) {
      int32_t i = m->output_donors[j];
      if (i >= 0 && sinter_set_input(session, i, inputs[size_t(i)].bytes.data(),
                                     inputs[size_t(i)].bytes.size()) != SINTER_OK)
        return fail(prog, sinter_last_error());
    }
    if (sinter_run(session) != SINTER_OK)
      return fail(prog, sinter_last_error());
  }

  if (o.benchStream > 0) {
    double best = 0;
    if (!benchStream(m, inputs, o.benchStream, best, err))
      return fail(prog, err);
    std::printf("bench-stream: %ld runs on %s back to back, mean %.6g ms per "
                "forward (best of 3 batches)\n",
                o.benchStream, sinter_model_target(session), best);
  }

  // A donated output is read from its input's buffer.
  std::vector<std::vector<uint8_t>> outputs(size_t(m->num_outputs));
  for (size_t i = 0; i < outputs.size(); ++i) {
    outputs[i].resize(tensorBytes(m->outputs[i]));
    if (sinter_read_output(session, int32_t(i), outputs[i].data(),
                           outputs[i].size()) != SINTER_OK)
      return fail(prog, sinter_last_error());
  }
  if (!o.outputDir.empty()) {
    if (!writeOutputs(m, o.outputDir, outputs, err))
      return fail(prog, err);
  } else if (o.bench == 0 && o.benchStream == 0) {
    for (size_t i = 0; i < outputs.size(); ++i)
      printTensor(m->outputs[i], outputs[i]);
  }
  return 0;
}
