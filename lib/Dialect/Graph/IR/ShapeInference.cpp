//===- ShapeInference.cpp - result shapes of sinter ops -------------------===//
//
// The rules follow the ONNX operator specifications; see ShapeInference.h for
// why they live apart from the ops.
//
//===----------------------------------------------------------------------===//

#include "sinter/Dialect/Graph/IR/ShapeInference.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using llvm::ArrayRef;
using llvm::SmallVector;

namespace sinter::shape {

std::string str(ArrayRef<int64_t> shape) {
  std::string s = "[";
  llvm::raw_string_ostream os(s);
  llvm::interleave(shape, os, ",");
  os << "]";
  return s;
}

static LogicalResult fail(std::string &why, const llvm::Twine &msg) {
  why = msg.str();
  return failure();
}

FailureOr<Shape> broadcast(ArrayRef<ArrayRef<int64_t>> shapes,
                           std::string &why) {
  size_t rank = 0;
  for (ArrayRef<int64_t> s : shapes)
    rank = std::max(rank, s.size());
  Shape out(rank, 1);
  for (ArrayRef<int64_t> s : shapes) {
    for (size_t i = 0; i < s.size(); ++i) {
      int64_t &o = out[rank - s.size() + i];
      int64_t d = s[i];
      if (d == o || d == 1)
        continue;
      if (o == 1) {
        o = d;
        continue;
      }
      std::string list;
      for (ArrayRef<int64_t> t : shapes)
        list += (list.empty() ? "" : " and ") + str(t);
      (void)fail(why, "shapes " + list + " are not broadcastable");
      return failure();
    }
  }
  return out;
}

FailureOr<int64_t> normalizeAxis(int64_t axis, int64_t rank, std::string &why) {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= std::max<int64_t>(rank, 1) || (rank == 0 && a != 0)) {
    (void)fail(why, "axis " + llvm::Twine(axis) + " is out of range for rank " +
                        llvm::Twine(rank));
    return failure();
  }
  return a;
}

LogicalResult checkAxes(ArrayRef<int64_t> axes, int64_t rank, std::string &why) {
  for (size_t i = 0; i < axes.size(); ++i) {
    if (axes[i] < 0 || axes[i] >= rank)
      return fail(why, "axis " + llvm::Twine(axes[i]) +
                           " is out of range for rank " + llvm::Twine(rank));
    if (i > 0 && axes[i] <= axes[i - 1])
      return fail(why, "axes " + str(axes) + " are not sorted and unique");
  }
  return success();
}

Shape reduce(ArrayRef<int64_t> in, ArrayRef<int64_t> axes, bool keepdims) {
  Shape out;
  for (int64_t i = 0, e = in.size(); i < e; ++i) {
    if (!llvm::is_contained(axes, i))
      out.push_back(in[i]);
    else if (keepdims)
      out.push_back(1);
  }
  return out;
}

FailureOr<Shape> matmul(ArrayRef<int64_t> a, ArrayRef<int64_t> b,
                        std::string &why) {
  if (a.empty() || b.empty()) {
    (void)fail(why, "matmul operands must have rank >= 1");
    return failure();
  }
  Shape as(a), bs(b);
  bool vecA = as.size() == 1, vecB = bs.size() == 1;
  if (vecA)
    as.insert(as.begin(), 1);
  if (vecB)
    bs.push_back(1);
  int64_t m = as[as.size() - 2], k = as.back();
  int64_t k2 = bs[bs.size() - 2], n = bs.back();
  if (k != k2) {
    (void)fail(why, "contracting dimensions differ: " + str(a) + " x " + str(b));
    return failure();
  }
  ArrayRef<int64_t> batchA = ArrayRef<int64_t>(as).drop_back(2);
  ArrayRef<int64_t> batchB = ArrayRef<int64_t>(bs).drop_back(2);
  FailureOr<Shape> batch = broadcast({batchA, batchB}, why);
  if (failed(batch)) {
    why = "batch dimensions of " + str(a) + " x " + str(b) +
          " do not broadcast";
    return failure();
  }
  Shape out = *batch;
  if (!vecA)
    out.push_back(m);
  if (!vecB)
    out.push_back(n);
  return out;
}

FailureOr<Shape> linear(ArrayRef<int64_t> x, ArrayRef<int64_t> w,
                        std::optional<ArrayRef<int64_t>> bias,
                        std::string &why) {
  if (x.empty() || w.size() != 2) {
    (void)fail(why, "linear needs an input of rank >= 1 and a 2-D weight, got " +
                        str(x) + " and " + str(w));
    return failure();
  }
  if (x.back() != w[1]) {
    (void)fail(why, "input features " + llvm::Twine(x.back()) +
                        " do not match weight " + str(w) +
                        " ([out_features, in_features])");
    return failure();
  }
  if (bias && (bias->size() != 1 || (*bias)[0] != w[0])) {
    (void)fail(why, "bias " + str(*bias) + " must be [" + llvm::Twine(w[0]) + "]");
    return failure();
  }
  Shape out(x);
  out.back() = w[0];
  return out;
}

FailureOr<Shape> conv(ArrayRef<int64_t> x, ArrayRef<int64_t> w,
                      std::optional<ArrayRef<int64_t>> bias,
                      ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                      ArrayRef<int64_t> dilations, int64_t group,
                      std::string &why) {
  size_t sp = x.size() < 2 ? 0 : x.size() - 2;
  if (x.size() < 3 || x.size() > 5 || w.size() != x.size()) {
    (void)fail(why, "conv needs input and weight of equal rank 3 to 5, got " +
                        str(x) + " and " + str(w));
    return failure();
  }
  if (strides.size() != sp || dilations.size() != sp || pads.size() != 2 * sp) {
    (void)fail(why, "conv with " + llvm::Twine(sp) +
                        " spatial dims needs that many strides and dilations "
                        "and twice as many pads");
    return failure();
  }
  if (group < 1 || x[1] % group != 0 || w[0] % group != 0 ||
      w[1] * group != x[1]) {
    (void)fail(why, "group " + llvm::Twine(group) + " does not fit input " +
                        str(x) + " and weight " + str(w));
    return failure();
  }
  if (bias && (bias->size() != 1 || (*bias)[0] != w[0])) {
    (void)fail(why, "bias " + str(*bias) + " must be [" + llvm::Twine(w[0]) + "]");
    return failure();
  }
  Shape out{x[0], w[0]};
  for (size_t i = 0; i < sp; ++i) {
    if (strides[i] < 1 || dilations[i] < 1) {
      (void)fail(why, "strides and dilations must be positive");
      return failure();
    }
    if (pads[i] < 0 || pads[sp + i] < 0) {
      (void)fail(why, "conv pads " + str(pads) + " must not be negative");
      return failure();
    }
    int64_t eff = (w[2 + i] - 1) * dilations[i] + 1;
    int64_t len = x[2 + i] + pads[i] + pads[sp + i] - eff;
    if (len < 0) {
      (void)fail(why, "kernel " + str(w) + " is larger than padded input " +
                          str(x));
      return failure();
    }
    out.push_back(len / strides[i] + 1);
  }
  return out;
}

FailureOr<Shape> transpose(ArrayRef<int64_t> in, ArrayRef<int64_t> perm,
                           std::string &why) {
  if (perm.size() != in.size()) {
    (void)fail(why, "perm " + str(perm) + " does not match rank " +
                        llvm::Twine(in.size()));
    return failure();
  }
  SmallVector<bool> seen(in.size(), false);
  Shape out;
  for (int64_t p : perm) {
    if (p < 0 || p >= (int64_t)in.size() || seen[p]) {
      (void)fail(why, "perm " + str(perm) + " is not a permutation");
      return failure();
    }
    seen[p] = true;
    out.push_back(in[p]);
  }
  return out;
}

FailureOr<Shape> gather(ArrayRef<int64_t> data, ArrayRef<int64_t> indices,
                        int64_t axis, std::string &why) {
  if (data.empty() || axis < 0 || axis >= (int64_t)data.size()) {
    (void)fail(why, "axis " + llvm::Twine(axis) + " is out of range for data " +
                        str(data));
    return failure();
  }
  Shape out(data.begin(), data.begin() + axis);
  out.append(indices.begin(), indices.end());
  out.append(data.begin() + axis + 1, data.end());
  return out;
}

FailureOr<Shape> gatherND(ArrayRef<int64_t> data, ArrayRef<int64_t> indices,
                          int64_t b, std::string &why) {
  if (indices.empty() || data.empty() || b < 0 ||
      b >= (int64_t)std::min(data.size(), indices.size())) {
    (void)fail(why, "batch_dims " + llvm::Twine(b) + " does not fit data " +
                        str(data) + " and indices " + str(indices));
    return failure();
  }
  for (int64_t i = 0; i < b; ++i)
    if (data[i] != indices[i]) {
      (void)fail(why, "batch dims of data " + str(data) + " and indices " +
                          str(indices) + " differ");
      return failure();
    }
  int64_t last = indices.back();
  if (last < 1 || b + last > (int64_t)data.size()) {
    (void)fail(why, "index tuples of length " + llvm::Twine(last) +
                        " do not fit data " + str(data));
    return failure();
  }
  Shape out(indices.begin(), indices.end() - 1);
  out.append(data.begin() + b + last, data.end());
  return out;
}

LogicalResult checkScatterND(ArrayRef<int64_t> data, ArrayRef<int64_t> indices,
                             ArrayRef<int64_t> updates, std::string &why) {
  if (indices.empty() || indices.back() < 1 ||
      indices.back() > (int64_t)data.size())
    return fail(why, "indices " + str(indices) + " do not fit data " + str(data));
  Shape expect(indices.begin(), indices.end() - 1);
  expect.append(data.begin() + indices.back(), data.end());
  if (ArrayRef<int64_t>(expect) != updates)
    return fail(why, "updates " + str(updates) + " must have shape " +
                         str(expect));
  return success();
}

FailureOr<SmallVector<Shape>> split(ArrayRef<int64_t> in, int64_t axis,
                                    ArrayRef<int64_t> sizes, std::string &why) {
  if (axis < 0 || axis >= (int64_t)in.size()) {
    (void)fail(why, "axis " + llvm::Twine(axis) + " is out of range for " +
                        str(in));
    return failure();
  }
  int64_t sum = 0;
  SmallVector<Shape> outs;
  for (int64_t s : sizes) {
    if (s < 0) {
      (void)fail(why, "split sizes " + str(sizes) + " must not be negative");
      return failure();
    }
    sum += s;
    Shape o(in);
    o[axis] = s;
    outs.push_back(o);
  }
  if (sum != in[axis]) {
    (void)fail(why, "split sizes " + str(sizes) + " add up to " +
                        llvm::Twine(sum) + ", not to dimension " +
                        llvm::Twine(in[axis]) + " of " + str(in));
    return failure();
  }
  return outs;
}

FailureOr<Shape> pad(ArrayRef<int64_t> in, ArrayRef<int64_t> pads,
                     std::string &why) {
  if (pads.size() != 2 * in.size()) {
    (void)fail(why, "pads " + str(pads) + " must have 2 * rank = " +
                        llvm::Twine(2 * in.size()) + " entries");
    return failure();
  }
  Shape out;
  for (size_t i = 0; i < in.size(); ++i) {
    int64_t d = in[i] + pads[i] + pads[in.size() + i];
    if (d < 0) {
      (void)fail(why, "pads " + str(pads) + " crop " + str(in) +
                          " below zero size");
      return failure();
    }
    out.push_back(d);
  }
  return out;
}

FailureOr<Shape> topk(ArrayRef<int64_t> in, int64_t k, int64_t axis,
                      std::string &why) {
  if (axis < 0 || axis >= (int64_t)in.size()) {
    (void)fail(why, "axis " + llvm::Twine(axis) + " is out of range for " +
                        str(in));
    return failure();
  }
  if (k < 0 || k > in[axis]) {
    (void)fail(why, "k = " + llvm::Twine(k) + " is not within [0, " +
                        llvm::Twine(in[axis]) + "]");
    return failure();
  }
  Shape out(in);
  out[axis] = k;
  return out;
}

FailureOr<SmallVector<Shape>>
attention(ArrayRef<int64_t> q, ArrayRef<int64_t> k, ArrayRef<int64_t> v,
          std::optional<ArrayRef<int64_t>> mask,
          std::optional<ArrayRef<int64_t>> pastKey,
          std::optional<ArrayRef<int64_t>> pastValue, std::string &why) {
  if (q.size() != 4 || k.size() != 4 || v.size() != 4) {
    (void)fail(why, "query, key and value must be 4-D [B, heads, S, D], got " +
                        str(q) + ", " + str(k) + ", " + str(v));
    return failure();
  }
  if (q[0] != k[0] || q[0] != v[0] || k[1] != v[1] || k[2] != v[2] ||
      q[3] != k[3]) {
    (void)fail(why, "query " + str(q) + ", key " + str(k) + " and value " +
                        str(v) + " disagree");
    return failure();
  }
  if (k[1] < 1 || q[1] % k[1] != 0) {
    (void)fail(why, "query heads " + llvm::Twine(q[1]) +
                        " are not a multiple of key/value heads " +
                        llvm::Twine(k[1]));
    return failure();
  }
  if (pastKey.has_value() != pastValue.has_value()) {
    (void)fail(why, "past_key and past_value must be given together");
    return failure();
  }
  int64_t past = 0;
  if (pastKey) {
    ArrayRef<int64_t> pk = *pastKey, pv = *pastValue;
    if (pk.size() != 4 || pv.size() != 4 || pk[0] != k[0] || pk[1] != k[1] ||
        pk[3] != k[3] || pv[0] != v[0] || pv[1] != v[1] || pv[3] != v[3] ||
        pk[2] != pv[2]) {
      (void)fail(why, "past_key " + str(pk) + " / past_value " + str(pv) +
                          " do not match key " + str(k) + " / value " + str(v));
      return failure();
    }
    past = pk[2];
  }
  int64_t total = past + k[2];
  if (mask) {
    Shape full{q[0], q[1], q[2], total};
    std::string tmp;
    FailureOr<Shape> b = broadcast({*mask, full}, tmp);
    if (failed(b) || ArrayRef<int64_t>(*b) != ArrayRef<int64_t>(full)) {
      (void)fail(why, "mask " + str(*mask) + " does not broadcast to " +
                          str(full));
      return failure();
    }
  }
  Shape y{q[0], q[1], q[2], v[3]};
  Shape pk{k[0], k[1], total, k[3]};
  Shape pv{v[0], v[1], total, v[3]};
  return SmallVector<Shape>{y, pk, pv};
}

LogicalResult rotaryEmbedding(ArrayRef<int64_t> x, ArrayRef<int64_t> cos,
                              ArrayRef<int64_t> sin,
                              std::optional<ArrayRef<int64_t>> pos,
                              int64_t rotaryDim, std::string &why) {
  if (x.size() != 4)
    return fail(why, "input must be 4-D [B, heads, S, D], got " + str(x));
  if (rotaryDim <= 0 || rotaryDim % 2 || rotaryDim > x[3])
    return fail(why, "rotary_dim " + llvm::Twine(rotaryDim) +
                         " must be even and within head size " +
                         llvm::Twine(x[3]));
  if (cos != sin)
    return fail(why, "cos_cache " + str(cos) + " and sin_cache " + str(sin) +
                         " differ");
  int64_t half = rotaryDim / 2;
  if (pos) {
    if (pos->size() != 2 || (*pos)[0] != x[0] || (*pos)[1] != x[2])
      return fail(why, "position_ids " + str(*pos) + " must be [" +
                           llvm::Twine(x[0]) + "," + llvm::Twine(x[2]) + "]");
    if (cos.size() != 2 || cos[1] != half)
      return fail(why, "caches " + str(cos) + " must be [max_position, " +
                           llvm::Twine(half) + "] with position_ids");
  } else if (cos.size() != 3 || cos[0] != x[0] || cos[1] != x[2] ||
             cos[2] != half) {
    return fail(why, "caches " + str(cos) + " must be [" + llvm::Twine(x[0]) +
                         "," + llvm::Twine(x[2]) + "," + llvm::Twine(half) +
                         "] without position_ids");
  }
  return success();
}

LogicalResult tensorScatter(ArrayRef<int64_t> cache, ArrayRef<int64_t> update,
                            std::optional<ArrayRef<int64_t>> writeIndices,
                            int64_t axis, std::string &why) {
  if (cache.size() < 2 || update.size() != cache.size())
    return fail(why, "cache " + str(cache) + " and update " + str(update) +
                         " must have the same rank >= 2");
  if (axis < 1 || axis >= (int64_t)cache.size())
    return fail(why, "axis " + llvm::Twine(axis) +
                         " must be a non-batch dimension of the cache " +
                         str(cache));
  for (size_t i = 0; i < cache.size(); ++i)
    if ((int64_t)i != axis && cache[i] != update[i])
      return fail(why, "update " + str(update) + " differs from cache " +
                           str(cache) + " outside the sequence axis " +
                           llvm::Twine(axis));
  if (update[axis] > cache[axis])
    return fail(why, "update " + str(update) + " is longer than cache " +
                         str(cache) + " along the sequence axis " +
                         llvm::Twine(axis));
  if (writeIndices &&
      ArrayRef<int64_t>(*writeIndices) != ArrayRef<int64_t>{cache[0]})
    return fail(why, "write_indices " + str(*writeIndices) + " must be [" +
                         llvm::Twine(cache[0]) + "]");
  return success();
}

FailureOr<SmallVector<Shape>>
linearAttention(ArrayRef<int64_t> q, ArrayRef<int64_t> k, ArrayRef<int64_t> v,
                std::optional<ArrayRef<int64_t>> state,
                std::optional<ArrayRef<int64_t>> decay,
                std::optional<ArrayRef<int64_t>> beta, int64_t qHeads,
                int64_t kvHeads, bool needsDecay, bool needsBeta,
                std::string &why) {
  if (q.size() != 3 || k.size() != 3 || v.size() != 3) {
    (void)fail(why, "query, key and value must be 3-D [B, T, H*D], got " +
                        str(q) + ", " + str(k) + ", " + str(v));
    return failure();
  }
  if (qHeads < 1 || kvHeads < 1 || qHeads % kvHeads != 0 ||
      q[2] % qHeads != 0 || k[2] % kvHeads != 0 || v[2] % kvHeads != 0) {
    (void)fail(why, "head counts q=" + llvm::Twine(qHeads) + " kv=" +
                        llvm::Twine(kvHeads) + " do not divide the packed " +
                        "widths of query " + str(q) + ", key " + str(k) +
                        ", value " + str(v));
    return failure();
  }
  int64_t dk = k[2] / kvHeads, dv = v[2] / kvHeads;
  if (q[0] != k[0] || q[0] != v[0] || q[1] != k[1] || q[1] != v[1] ||
      q[2] / qHeads != dk) {
    (void)fail(why, "query " + str(q) + ", key " + str(k) + " and value " +
                        str(v) + " disagree");
    return failure();
  }
  Shape st{q[0], kvHeads, dk, dv};
  if (state && ArrayRef<int64_t>(*state) != ArrayRef<int64_t>(st)) {
    (void)fail(why, "past_state " + str(*state) + " must be " + str(st));
    return failure();
  }
  if (needsDecay && !decay) {
    (void)fail(why, "this update_rule needs a decay input");
    return failure();
  }
  if (needsBeta && !beta) {
    (void)fail(why, "this update_rule needs a beta input");
    return failure();
  }
  if (decay && (decay->size() != 3 || (*decay)[0] != q[0] ||
                (*decay)[1] != q[1] ||
                ((*decay)[2] != kvHeads && (*decay)[2] != kvHeads * dk))) {
    (void)fail(why, "decay " + str(*decay) + " must be [B, T, H_kv] or " +
                        "[B, T, H_kv*d_k]");
    return failure();
  }
  if (beta && (beta->size() != 3 || (*beta)[0] != q[0] || (*beta)[1] != q[1] ||
               ((*beta)[2] != kvHeads && (*beta)[2] != 1))) {
    (void)fail(why, "beta " + str(*beta) + " must be [B, T, H_kv] or [B, T, 1]");
    return failure();
  }
  Shape out{q[0], q[1], qHeads * dv};
  return SmallVector<Shape>{out, st};
}

FailureOr<SmallVector<Shape>>
causalConv(ArrayRef<int64_t> x, ArrayRef<int64_t> w,
           std::optional<ArrayRef<int64_t>> bias,
           std::optional<ArrayRef<int64_t>> state, std::string &why) {
  if (x.size() != 3 || w.size() != 3 || w[0] != x[1] || w[1] != 1 || w[2] < 1) {
    (void)fail(why, "input " + str(x) + " and weight " + str(w) +
                        " must be [B, C, L] and [C, 1, K]");
    return failure();
  }
  if (bias && (bias->size() != 1 || (*bias)[0] != x[1])) {
    (void)fail(why, "bias " + str(*bias) + " must be [" + llvm::Twine(x[1]) + "]");
    return failure();
  }
  Shape st{x[0], x[1], w[2] - 1};
  if (state && ArrayRef<int64_t>(*state) != ArrayRef<int64_t>(st)) {
    (void)fail(why, "past_state " + str(*state) + " must be " + str(st));
    return failure();
  }
  return SmallVector<Shape>{Shape(x), st};
}

} // namespace sinter::shape
