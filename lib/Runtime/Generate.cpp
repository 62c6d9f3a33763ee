//===- Generate.cpp - greedy generation with a prefill and a decode graph -===//
//
//   ./gen --generate N --prompt-ids 1,2,3 [--weights DIR] [--warmup]
//
// The main program of an executable `sinterc prefill.onnx decode.onnx
// --generate-driver` writes: both models are linked in (their symbols
// prefixed, decode's external weights bound to prefill's slots where the
// two name the same data), and this file drives them. The states (KV
// caches, convolution and recurrent states) live in one buffer each on the
// target for the whole run: prefill and decode read them there and update
// them in place (state donation) or into an output that is copied back on
// the target, so they never travel through the host. Neither do the
// generated tokens until a batch is full: the backend's greedyStep takes
// the argmax of the last logits row where the logits are (a kernel on
// CUDA) and writes it as the next step's token, with its position, into
// decode's input buffers and into a token history; the host only starts
// work, and waits once per kBatch tokens. docs/runtime.md, "Generation".
//
// How the graphs are matched: GenerateMatch.h (sinterc runs the same
// check before it links).
//
// A prompt of P tokens with a prefill graph of T tokens runs P / T prefill
// forwards on consecutive chunks (each starts from the state the previous
// one left), then the P % T last tokens as decode steps. Padding a short
// chunk would be wrong for recurrent layers: the padding tokens would
// update the recurrent state.
//
//===----------------------------------------------------------------------===//

#include "Args.h"
#include "Backend.h"
#include "GenerateMatch.h"
#include "Tensor.h"
#include "Weights.h"
#include "sinter/Runtime/sinter_runtime.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace sinter::rt;
using namespace sinter::rt::gen;

namespace {

/// --generate's bound: far beyond any KV cache, small enough that P + N
/// positions never overflow.
constexpr long kMaxTokens = 100000000;

/// Tokens the target keeps before the host copies them out (and waits):
/// one wait per 1024 tokens costs nothing next to their steps, and the
/// history stays 8 KiB however many tokens are asked for.
constexpr int64_t kBatch = 1024;

struct GenOptions {
  long generate = -1; // --generate N
  std::vector<int64_t> prompt;
  bool promptGiven = false;
  std::string weightsDir;
  bool warmup = false;
  bool help = false;
};

/// One model's buffer array (SinterForwardFn order) and the state outputs
/// that are not donated, to copy back after each forward.
struct Bound {
  const SinterModel *model = nullptr;
  std::vector<void *> buffers;
  std::vector<std::pair<int, int>> copyBack; // output index, state index
};

struct Runner {
  const Backend *b = nullptr;
  const SinterModel *pre = nullptr, *dec = nullptr;
  Plan plan;
  std::vector<void *> owned;
  std::vector<void *> stateBufs;
  Bound bp, bd;
  /// GreedyStep's target memory: the token history (kBatch int64), the
  /// kernel's two scratch words (zero between steps) and the first NaN.
  int64_t *history = nullptr;
  uint64_t *scratch = nullptr, *nanAt = nullptr;
  bool preWeights = false, decWeights = false;

  ~Runner() {
    for (void *q : owned)
      b->free(q);
    // decode's shared slots were filled by prefill's load: decode first.
    if (decWeights)
      releaseWeights(dec);
    if (preWeights)
      releaseWeights(pre);
  }

  void *alloc(size_t bytes, std::string &err) {
    void *q = b->alloc(bytes, err);
    if (q)
      owned.push_back(q);
    return q;
  }

  bool bind(Bound &bound, const SinterModel *m, bool isPrefill, void *arena,
            std::string &err) {
    bound.model = m;
    size_t nin = size_t(m->num_inputs), nout = size_t(m->num_outputs);
    bound.buffers.assign(nin + nout + 1, nullptr);
    bound.buffers.back() = arena;
    for (size_t k = 0; k < plan.states.size(); ++k) {
      const Plan::State &s = plan.states[k];
      int in = isPrefill ? s.preIn : s.decIn;
      int out = isPrefill ? s.preOut : s.decOut;
      bound.buffers[size_t(in)] = stateBufs[k];
      bool donated = m->output_donors && m->output_donors[out] == in;
      if (!donated)
        bound.copyBack.emplace_back(out, int(k));
    }
    for (size_t i = 0; i < nin + nout; ++i) {
      if (bound.buffers[i])
        continue;
      if (i >= nin && m->output_donors && m->output_donors[i - nin] >= 0) {
        // Donated to a non-state input (the tokens): its buffer.
        bound.buffers[i] = bound.buffers[size_t(m->output_donors[i - nin])];
        if (bound.buffers[i])
          continue;
      }
      const SinterTensorInfo &t = i < nin ? m->inputs[i] : m->outputs[i - nin];
      if (!(bound.buffers[i] = alloc(size_t(sinter_tensor_bytes(&t)), err)))
        return false;
    }
    return true;
  }

  /// `bytes` of target memory, zeroed.
  void *allocZero(size_t bytes, std::string &err) {
    void *q = alloc(bytes, err);
    return q && b->zero(q, bytes, err) ? q : nullptr;
  }

  bool open(const char *weightsDir, std::string &err) {
    if (!b->init(err))
      return false;
    if (!acquireWeights(pre, b, weightsDir, err))
      return false;
    preWeights = true;
    if (!acquireWeights(dec, b, weightsDir, err))
      return false;
    decWeights = true;
    // One arena per graph, zeroed once: an arena also holds the kernels'
    // workspaces (zero at a forward's start, left zero at its end), which
    // the other graph's activations would overwrite in a shared one.
    void *preArena = allocZero(size_t(pre->arena_bytes), err);
    void *decArena = preArena ? allocZero(size_t(dec->arena_bytes), err)
                              : nullptr;
    if (!decArena)
      return false;
    history = static_cast<int64_t *>(alloc(size_t(kBatch) * 8, err));
    scratch = static_cast<uint64_t *>(allocZero(16, err));
    nanAt = static_cast<uint64_t *>(alloc(8, err));
    if (!history || !scratch || !nanAt)
      return false;
    for (const Plan::State &s : plan.states) {
      void *q = alloc(size_t(sinter_tensor_bytes(&dec->inputs[s.decIn])), err);
      if (!q)
        return false;
      stateBufs.push_back(q);
    }
    return bind(bp, pre, true, preArena, err) &&
           bind(bd, dec, false, decArena, err);
  }

  /// Every state zero (an empty cache).
  bool resetStates(std::string &err) {
    size_t most = 0;
    for (const Plan::State &s : plan.states)
      most = std::max(most, size_t(sinter_tensor_bytes(&dec->inputs[s.decIn])));
    std::vector<uint8_t> zeros(most, 0);
    for (size_t k = 0; k < plan.states.size(); ++k)
      if (!b->copyToTarget(
              stateBufs[k], zeros.data(),
              size_t(sinter_tensor_bytes(&dec->inputs[plan.states[k].decIn])),
              err))
        return false;
    return b->sync(err);
  }

  static void encode(const SinterTensorInfo &t, const int64_t *v, size_t n,
                     std::vector<uint8_t> &bytes) {
    bytes.resize(n * dtypeSize(t.dtype));
    for (size_t i = 0; i < n; ++i) {
      if (t.dtype == SINTER_DTYPE_INT32) {
        int32_t x = int32_t(v[i]);
        std::memcpy(bytes.data() + 4 * i, &x, 4);
      } else {
        std::memcpy(bytes.data() + 8 * i, &v[i], 8);
      }
    }
  }

  /// One forward of `bound` on `tokens` at positions start, start + 1, ...
  /// (copied in from the host: the prompt).
  bool forward(Bound &bound, const Io &io, const int64_t *tokens, size_t n,
               int64_t start, std::string &err) {
    const SinterModel *m = bound.model;
    std::vector<int64_t> positions(n);
    for (size_t i = 0; i < n; ++i)
      positions[i] = start + int64_t(i);
    std::vector<uint8_t> ids, pos;
    encode(m->inputs[io.ids], tokens, n, ids);
    encode(m->inputs[io.pos], positions.data(), n, pos);
    if (!b->copyToTarget(bound.buffers[size_t(io.ids)], ids.data(), ids.size(),
                         err) ||
        !b->copyToTarget(bound.buffers[size_t(io.pos)], pos.data(), pos.size(),
                         err))
      return false;
    return step(bound, err);
  }

  /// One forward of `bound` on the token and positions its input buffers
  /// hold, and the hand-over of the states it did not update in place.
  bool step(Bound &bound, std::string &err) {
    const SinterModel *m = bound.model;
    if (!b->run(m, bound.buffers.data(), err))
      return false;
    size_t nin = size_t(m->num_inputs);
    for (auto [out, k] : bound.copyBack)
      if (!b->copyOnTarget(stateBufs[size_t(k)],
                           bound.buffers[nin + size_t(out)],
                           size_t(sinter_tensor_bytes(&m->outputs[out])), err))
        return false;
    return true;
  }

  /// Starts the greedy choice over row `row` of `bound`'s logits: generated
  /// token `j`, written to decode's token input (at position `nextPos`)
  /// and to history slot j % kBatch.
  bool greedy(Bound &bound, const Io &io, int64_t row, int64_t nextPos,
              long j, std::string &err) {
    const SinterModel *m = bound.model;
    const SinterTensorInfo &l = m->outputs[io.logits];
    GreedyStep g;
    g.logits = static_cast<const char *>(
                   bound.buffers[size_t(m->num_inputs + io.logits)]) +
               size_t(row * io.vocab) * dtypeSize(l.dtype);
    g.logitsDtype = l.dtype;
    g.vocab = io.vocab;
    g.ids = bd.buffers[size_t(plan.dec.ids)];
    g.idsDtype = dec->inputs[plan.dec.ids].dtype;
    g.pos = bd.buffers[size_t(plan.dec.pos)];
    g.posDtype = dec->inputs[plan.dec.pos].dtype;
    g.nextPos = nextPos;
    g.history = history;
    g.slot = int64_t(j) % kBatch;
    g.step = j;
    g.scratch = scratch;
    g.nanAt = nanAt;
    return b->greedyStep(g, err);
  }

  /// Copies generated tokens `from` .. `to` - 1 (one batch) out of the
  /// history (waiting for them), failing if a logits row held NaN.
  bool collect(long from, long to, bool firstFromPrefill,
               std::vector<int64_t> &out, std::string &err) {
    uint64_t nan = 0;
    size_t at = out.size();
    out.resize(at + size_t(to - from));
    if (!b->copyToHost(out.data() + at, history + from % kBatch,
                       size_t(to - from) * 8, err) ||
        !b->copyToHost(&nan, nanAt, 8, err))
      return false;
    if (nan != ~uint64_t(0)) {
      long j = long(nan >> 32);
      const SinterModel *m = j == 0 && firstFromPrefill ? pre : dec;
      err = graphName(m, m == pre ? "prefill" : "decode") +
            ": the logits hold NaN (at index " +
            std::to_string(nan & 0xffffffffu) + ", for generated token " +
            std::to_string(j) + ")";
      return false;
    }
    return true;
  }
};

struct Timing {
  double promptMs = 0, decodeMs = 0;
  long prefillForwards = 0, promptDecodeSteps = 0, decodeSteps = 0;
};

/// Prefill then `n` greedy tokens from the zero state.
bool generate(Runner &r, const std::vector<int64_t> &prompt, long n,
              std::vector<int64_t> &out, Timing &t, std::string &err) {
  using clock = std::chrono::steady_clock;
  const Plan &p = r.plan;
  const uint64_t noNan = ~uint64_t(0);
  if (!r.resetStates(err) || !r.b->copyToTarget(r.nanAt, &noNan, 8, err))
    return false;
  out.clear();
  t = Timing();
  auto t0 = clock::now();
  size_t T = size_t(p.pre.tokens), P = prompt.size(), done = 0;
  for (; done + T <= P; done += T, ++t.prefillForwards)
    if (!r.forward(r.bp, p.pre, prompt.data() + done, T, int64_t(done), err))
      return false;
  bool lastFromPrefill = done == P;
  for (; done < P; ++done, ++t.promptDecodeSteps)
    if (!r.forward(r.bd, p.dec, prompt.data() + done, 1, int64_t(done), err))
      return false;
  // The prompt's last logits give token 0; each decode step then reads
  // the token and position the previous greedy choice left in its input
  // buffers: nothing waits until a batch of tokens is copied out.
  if (!(lastFromPrefill ? r.greedy(r.bp, p.pre, int64_t(T) - 1, int64_t(P),
                                   0, err)
                        : r.greedy(r.bd, p.dec, 0, int64_t(P), 0, err)) ||
      !r.b->sync(err))
    return false;
  auto t1 = clock::now();
  long from = 0;
  for (long j = 1; j < n; ++j, ++t.decodeSteps) {
    if (!r.step(r.bd, err) ||
        !r.greedy(r.bd, p.dec, 0, int64_t(P) + j, j, err))
      return false;
    if ((j + 1) % kBatch == 0) {
      if (!r.collect(from, j + 1, lastFromPrefill, out, err))
        return false;
      from = j + 1;
    }
  }
  if (!r.collect(from, n, lastFromPrefill, out, err))
    return false;
  auto t2 = clock::now();
  t.promptMs = std::chrono::duration<double, std::milli>(t1 - t0).count();
  t.decodeMs = std::chrono::duration<double, std::milli>(t2 - t1).count();
  return true;
}

/// Decimal digits only: strtol/strtoll alone take leading spaces and a
/// sign.
bool allDigits(const std::string &v) {
  return !v.empty() && std::all_of(v.begin(), v.end(), [](char c) {
    return c >= '0' && c <= '9';
  });
}

bool parseCount(const std::string &flag, const std::string &v, long &n,
                std::string &err) {
  errno = 0;
  long x = allDigits(v) ? std::strtol(v.c_str(), nullptr, 10) : 0;
  if (errno || x < 1 || x > kMaxTokens) {
    err = flag + " expects a number of tokens from 1 to " +
          std::to_string(kMaxTokens) + ", got '" + v + "'";
    return false;
  }
  n = x;
  return true;
}

bool parsePrompt(const std::string &v, std::vector<int64_t> &ids,
                 std::string &err) {
  ids.clear();
  size_t at = 0;
  while (at <= v.size()) {
    size_t comma = v.find(',', at);
    std::string item = v.substr(
        at, comma == std::string::npos ? std::string::npos : comma - at);
    // Spaces around an id are allowed ("1, 2, 3"); inside one they are
    // not, nor are signs.
    size_t b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
    item = b == std::string::npos ? "" : item.substr(b, e - b + 1);
    errno = 0;
    long long x = allDigits(item) ? std::strtoll(item.c_str(), nullptr, 10) : -1;
    if (errno || x < 0) {
      err = "--prompt-ids expects token ids separated by commas (1,2,3), "
            "got '" +
            v + "'";
      return false;
    }
    ids.push_back(int64_t(x));
    if (comma == std::string::npos)
      break;
    at = comma + 1;
  }
  return true;
}

bool parseGenArgs(int argc, char **argv, GenOptions &o, std::string &err) {
  ArgReader args(argc, argv);
  while (args.next()) {
    const std::string &a = args.word;
    const std::string &value = args.value;
    if (a == "--help" || a == "-h") {
      o.help = true;
    } else if (args.flag("--generate")) {
      // Given twice is refused rather than the last one winning: a second
      // --prompt-ids could as well be meant to extend the first.
      if (o.generate >= 0) {
        err = "--generate is given twice";
        return false;
      }
      if (!args.takeValue("--generate", err) ||
          !parseCount("--generate", value, o.generate, err))
        return false;
    } else if (args.flag("--prompt-ids")) {
      if (o.promptGiven) {
        err = "--prompt-ids is given twice";
        return false;
      }
      if (!args.takeValue("--prompt-ids", err) || !parsePrompt(value, o.prompt, err))
        return false;
      o.promptGiven = true;
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
    } else if (a == "--warmup") {
      o.warmup = true;
    } else if (a == "--no-graph") {
      useCudaGraphs = false;
    } else if (a == "--no-programmatic-launch") {
      useProgrammaticLaunch = false;
    } else {
      err = "unknown argument '" + a + "' (see --help)" + args.seedHint();
      return false;
    }
  }
  return true;
}

void printInterface(const SinterModel *m, const char *role) {
  std::printf("%s graph '%s':\n", role, m->name ? m->name : "?");
  for (int i = 0; i < m->num_inputs; ++i)
    std::printf("  input  %s  %s\n", m->inputs[i].name,
                typeOf(m->inputs[i]).c_str());
  for (int i = 0; i < m->num_outputs; ++i)
    std::printf("  output %s  %s\n", m->outputs[i].name,
                typeOf(m->outputs[i]).c_str());
}

void printGenHelp(const std::string &prog, const SinterModel *pre,
                  const SinterModel *dec, const Plan *plan) {
  std::printf(
      "usage: %s --generate N --prompt-ids ID,ID,... [--weights DIR | "
      "--random-weights[=SEED]] [--warmup] [--no-graph]\n"
      "       [--no-programmatic-launch]\n\n"
      "Greedy generation with a prefill and a decode graph compiled by "
      "sinterc for the %s target\n"
      "(sinterc PREFILL DECODE --generate-driver).\n\n"
      "options:\n"
      "  --generate N       generate N tokens: the prompt through the "
      "prefill graph (chunks of\n"
      "                     its token count; the rest as decode steps), "
      "then N - 1 decode steps,\n"
      "                     each on the argmax of the last logits\n"
      "  --prompt-ids LIST  the prompt's token ids, separated by commas\n"
      "  --weights DIR      read external-data weights from DIR (default: "
      "the models' folder\n"
      "                     when they were compiled)\n"
      "  --random-weights[=SEED]\n"
      "                     fill the external-data weights of both graphs "
      "with deterministic\n"
      "                     pseudo-random values (on the device for cuda) "
      "instead of reading\n"
      "                     them: for timing (the tokens mean nothing); no "
      "weights file is opened\n"
      "  --warmup           generate twice untimed first (kernels resolved, "
      "CUDA graphs captured)\n"
      "  --no-graph         (cuda target) launch kernel by kernel instead "
      "of replaying CUDA graphs\n"
      "  --no-programmatic-launch\n"
      "                     (cuda target) launch each kernel only when the "
      "one before has finished\n"
      "  --help             print this message\n\n",
      prog.c_str(), dec->target ? dec->target : "?");
  if (plan) {
    std::printf("prefill takes %lld tokens per forward; %zu states; ",
                (long long)plan->pre.tokens, plan->states.size());
    if (plan->maxLen >= 0)
      std::printf("the KV cache holds %lld positions (%s)\n",
                  (long long)plan->maxLen, plan->maxLenInput.c_str());
    else
      std::printf("no KV cache length known\n");
  }
  printInterface(pre, "prefill");
  printInterface(dec, "decode");
}

int genFail(const std::string &prog, const std::string &msg) {
  std::fflush(stdout);
  std::fprintf(stderr, "%s: error: %s\n", prog.c_str(), msg.c_str());
  return 1;
}

} // namespace

/// `maxLen`, `maxLenInput`: the positions the KV caches hold and where
/// that comes from, found by sinterc in the graphs' cache writes (-1, "":
/// no position-indexed cache).
extern "C" int sinter_generate_main(int argc, char **argv,
                                    const SinterModel *pre,
                                    const SinterModel *dec, long long maxLen,
                                    const char *maxLenInput) {
  std::string prog = argv && argv[0] ? argv[0] : "generate";
  if (size_t slash = prog.rfind('/'); slash != std::string::npos)
    prog = prog.substr(slash + 1);
  if (!pre || !dec || pre->abi_version != SINTER_MODEL_ABI_VERSION ||
      dec->abi_version != SINTER_MODEL_ABI_VERSION)
    return genFail(prog, "this executable's models were compiled for another "
                         "version of the Sinter runtime");
  GenOptions o;
  std::string err;
  if (!parseGenArgs(argc, argv, o, err))
    return genFail(prog, err);
  Plan plan;
  bool planned = makePlan(pre, dec, plan, err);
  plan.maxLen = maxLen;
  plan.maxLenInput = maxLenInput ? maxLenInput : "";
  if (o.help) {
    printGenHelp(prog, pre, dec, planned ? &plan : nullptr);
    return planned ? 0 : genFail(prog, err);
  }
  if (!planned)
    return genFail(prog, err);
  if (o.generate < 0)
    return genFail(prog, "--generate N is required (see --help)");
  if (!o.promptGiven)
    return genFail(prog, "--prompt-ids is required: the prompt's token ids "
                         "(1,2,3)");
  for (int64_t id : o.prompt)
    if (id >= plan.dec.vocab)
      return genFail(prog, "prompt token " + std::to_string(id) +
                               " is outside the vocabulary (" +
                               std::to_string(plan.dec.vocab) +
                               " logits per token)");
  // Positions 0 .. P + N - 2 are written to the cache (the last token is
  // not fed back).
  int64_t lastPos = int64_t(o.prompt.size()) + o.generate - 2;
  if (plan.maxLen >= 0 && lastPos >= plan.maxLen)
    return genFail(prog, "a prompt of " + std::to_string(o.prompt.size()) +
                             " tokens and " + std::to_string(o.generate) +
                             " generated tokens need positions up to " +
                             std::to_string(lastPos) +
                             ", past the KV cache of " +
                             std::to_string(plan.maxLen) + " positions (" +
                             plan.maxLenInput + ")");
  if (!pre->target || !dec->target || std::strcmp(pre->target, dec->target))
    return genFail(prog, "the prefill and decode graphs were compiled for "
                         "different targets");
  Runner r;
  r.b = findBackend(dec->target);
  if (!r.b)
    return genFail(prog, std::string("this runtime has no backend for the '") +
                             dec->target + "' target");
  r.pre = pre;
  r.dec = dec;
  r.plan = plan;
  if (!r.open(o.weightsDir.empty() ? nullptr : o.weightsDir.c_str(), err))
    return genFail(prog, err);
  std::vector<int64_t> tokens;
  Timing t;
  // Two untimed passes: the first forward of each graph runs directly and
  // the second is captured as a CUDA graph; a prompt of one prefill chunk
  // captures prefill's graph only in the second pass.
  for (int pass = 0; o.warmup && pass < 2; ++pass)
    if (!generate(r, o.prompt, o.generate, tokens, t, err))
      return genFail(prog, err);
  if (!generate(r, o.prompt, o.generate, tokens, t, err))
    return genFail(prog, err);
  std::printf("tokens:");
  for (int64_t tok : tokens)
    std::printf(" %lld", (long long)tok);
  std::printf("\n");
  size_t P = o.prompt.size();
  std::printf("prompt: %zu tokens (%ld prefill forwards of %lld, %ld decode "
              "steps) in %.3f ms, %.1f tokens/s\n",
              P, t.prefillForwards, (long long)plan.pre.tokens,
              t.promptDecodeSteps, t.promptMs,
              double(P) / std::max(t.promptMs, 1e-6) * 1000.0);
  std::printf("decode: %ld steps in %.3f ms, %.3f ms/token, %.1f tokens/s on "
              "%s\n",
              t.decodeSteps, t.decodeMs,
              t.decodeSteps ? t.decodeMs / double(t.decodeSteps) : 0.0,
              double(t.decodeSteps) / std::max(t.decodeMs, 1e-6) * 1000.0,
              dec->target);
  return 0;
}
