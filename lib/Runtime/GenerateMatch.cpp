//===- GenerateMatch.cpp - how a prefill and a decode graph fit together --===//
//
// See GenerateMatch.h.
//
//===----------------------------------------------------------------------===//

#include "GenerateMatch.h"

#include <algorithm>

namespace sinter::rt::gen {

std::string graphName(const SinterModel *m, const char *role) {
  return std::string(role) + " graph '" + (m->name ? m->name : "?") + "'";
}

std::string typeOf(const SinterTensorInfo &t) {
  static const char *const names[] = {
      nullptr, "float32", "uint8", "int8",  nullptr,   "int16",
      "int32", "int64",   nullptr, "bool",  "float16", "float64",
      nullptr, nullptr,   nullptr, nullptr, "bfloat16"};
  std::string s = t.dtype >= 0 && t.dtype <= 16 && names[t.dtype]
                      ? names[t.dtype]
                      : "dtype " + std::to_string(t.dtype);
  s += "[";
  for (int32_t k = 0; k < t.rank; ++k)
    s += (k ? "," : "") + std::to_string(t.shape[k]);
  return s + "]";
}

namespace {

int64_t elements(const SinterTensorInfo &t) {
  int64_t n = 1;
  for (int k = 0; k < t.rank; ++k)
    n *= t.shape[k];
  return n;
}

bool sameType(const SinterTensorInfo &a, const SinterTensorInfo &b) {
  return a.dtype == b.dtype && a.rank == b.rank &&
         std::equal(a.shape, a.shape + a.rank, b.shape);
}

int findInput(const SinterModel *m, const std::string &name) {
  for (int i = 0; i < m->num_inputs; ++i)
    if (name == m->inputs[i].name)
      return i;
  return -1;
}
int findOutput(const SinterModel *m, const std::string &name) {
  for (int i = 0; i < m->num_outputs; ++i)
    if (name == m->outputs[i].name)
      return i;
  return -1;
}

/// The names the state naming convention gives the updated value of state
/// input `x` (the same convention sinter-donate-state uses).
std::vector<std::string> stateOutputNames(const std::string &x) {
  std::vector<std::string> names = {"present." + x};
  if (x.rfind("past_", 0) == 0)
    names.push_back("present_" + x.substr(5));
  if (x.size() > 3 && x.compare(x.size() - 3, 3, "_in") == 0)
    names.push_back(x.substr(0, x.size() - 3) + "_out");
  if (x.rfind("past_key_values.", 0) == 0)
    names.push_back("present." + x.substr(16));
  return names;
}

/// The output of `m` that is state input `in` updated: the one donated to
/// it, else the one the naming convention finds; -1 with `err` if none.
int stateOutput(const SinterModel *m, const char *role, int in,
                std::string &err) {
  const SinterTensorInfo &x = m->inputs[in];
  for (int j = 0; m->output_donors && j < m->num_outputs; ++j)
    if (m->output_donors[j] == in)
      return j;
  std::vector<std::string> names = stateOutputNames(x.name);
  for (const std::string &n : names) {
    int j = findOutput(m, n);
    if (j < 0)
      continue;
    if (!sameType(m->outputs[j], x)) {
      err = graphName(m, role) + ": output '" + n + "' (" +
            typeOf(m->outputs[j]) + ") is the update of state input '" +
            x.name + "' (" + typeOf(x) + ") but its type differs";
      return -1;
    }
    return j;
  }
  std::string tried;
  for (const std::string &n : names)
    tried += (tried.empty() ? "'" : ", '") + n + "'";
  err = graphName(m, role) + ": state input '" + x.name + "' (" + typeOf(x) +
        ") has no updated output (looked for a donated output and " + tried +
        ")";
  return -1;
}

bool findIo(const SinterModel *m, const char *role, Io &io, std::string &err) {
  io.ids = findInput(m, "input_ids");
  io.pos = findInput(m, "position_ids");
  io.logits = findOutput(m, "logits");
  const char *missing = io.ids < 0      ? "input 'input_ids' (the tokens)"
                        : io.pos < 0    ? "input 'position_ids'"
                        : io.logits < 0 ? "output 'logits'"
                                        : nullptr;
  if (missing) {
    err = graphName(m, role) + " has no " + missing +
          " (a generation driver needs input_ids, position_ids and logits)";
    return false;
  }
  for (int i : {io.ids, io.pos}) {
    const SinterTensorInfo &t = m->inputs[i];
    if (t.dtype != SINTER_DTYPE_INT64 && t.dtype != SINTER_DTYPE_INT32) {
      err = graphName(m, role) + ": input '" + t.name + "' is " + typeOf(t) +
            ", expected int64 or int32";
      return false;
    }
  }
  io.tokens = elements(m->inputs[io.ids]);
  if (elements(m->inputs[io.pos]) != io.tokens || io.tokens < 1) {
    err = graphName(m, role) + ": input_ids (" + typeOf(m->inputs[io.ids]) +
          ") and position_ids (" + typeOf(m->inputs[io.pos]) +
          ") do not hold the same number of tokens";
    return false;
  }
  const SinterTensorInfo &l = m->outputs[io.logits];
  bool isFloat = l.dtype == SINTER_DTYPE_FLOAT32 ||
                 l.dtype == SINTER_DTYPE_FLOAT16 ||
                 l.dtype == SINTER_DTYPE_BFLOAT16;
  io.vocab = l.rank ? l.shape[l.rank - 1] : 0;
  if (!isFloat || io.vocab < 1 || elements(l) != io.tokens * io.vocab) {
    err = graphName(m, role) + ": output 'logits' is " + typeOf(l) +
          ", expected float32, float16 or bfloat16 with " +
          std::to_string(io.tokens) + " x vocab elements";
    return false;
  }
  return true;
}

bool isTokenOrPosition(const Io &io, int i) {
  return i == io.ids || i == io.pos;
}

} // namespace

bool makePlan(const SinterModel *pre, const SinterModel *dec, Plan &p,
              std::string &err) {
  if (!findIo(pre, "prefill", p.pre, err) || !findIo(dec, "decode", p.dec, err))
    return false;
  if (p.dec.tokens != 1) {
    err = graphName(dec, "decode") + " takes " + std::to_string(p.dec.tokens) +
          " tokens per step (input_ids " + typeOf(dec->inputs[p.dec.ids]) +
          "); a decode graph takes one";
    return false;
  }
  if (p.pre.vocab != p.dec.vocab) {
    err = "the prefill graph's logits (" + typeOf(pre->outputs[p.pre.logits]) +
          ") and the decode graph's (" + typeOf(dec->outputs[p.dec.logits]) +
          ") have different vocabularies";
    return false;
  }
  for (int i = 0; i < dec->num_inputs; ++i) {
    if (isTokenOrPosition(p.dec, i))
      continue;
    const SinterTensorInfo &x = dec->inputs[i];
    Plan::State s{i, -1, findInput(pre, x.name), -1};
    if ((s.decOut = stateOutput(dec, "decode", i, err)) < 0)
      return false;
    if (s.preIn < 0) {
      err = graphName(pre, "prefill") + " has no input '" + x.name +
            "' (a state of the " + graphName(dec, "decode") + ", " + typeOf(x) +
            ")";
      return false;
    }
    if (!sameType(pre->inputs[s.preIn], x)) {
      err = "state '" + std::string(x.name) + "' is " +
            typeOf(pre->inputs[s.preIn]) + " in the " +
            graphName(pre, "prefill") + " but " + typeOf(x) + " in the " +
            graphName(dec, "decode");
      return false;
    }
    if ((s.preOut = stateOutput(pre, "prefill", s.preIn, err)) < 0)
      return false;
    p.states.push_back(s);
  }
  for (int i = 0; i < pre->num_inputs; ++i) {
    if (isTokenOrPosition(p.pre, i))
      continue;
    bool isState =
        std::any_of(p.states.begin(), p.states.end(),
                    [&](const Plan::State &s) { return s.preIn == i; });
    if (!isState) {
      err = graphName(pre, "prefill") + ": input '" + pre->inputs[i].name +
            "' (" + typeOf(pre->inputs[i]) +
            ") is neither input_ids, position_ids nor a state input of the " +
            graphName(dec, "decode");
      return false;
    }
  }
  return true;
}

} // namespace sinter::rt::gen
