//===- Weights.cpp - loading a model's weights when a session opens -------===//
//
// See Weights.h. External files are mapped read-only (the page cache holds
// them; nothing is read before the forward or the packing touches it) and
// checked against the size the compile saw, so that a changed or truncated
// file is an error naming it instead of garbage or a fault in the forward.
// On the CPU packs are applied on the host. On a GPU every weight goes into
// one device allocation: each source is uploaded once, straight from the
// mapping or the executable, and the packs are built there (strided copies
// and the compiler's transpose kernel, through DevicePacking): no packed
// copy is ever made on the host. With --random-weights (RandomWeights) the
// external weights and the packs built from them are filled instead: on
// the host for the CPU, by the backend's fill kernel on a GPU.
//
//===----------------------------------------------------------------------===//

#include "Weights.h"
#include "Tensor.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <limits.h>
#include <map>
#include <mutex>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace sinter::rt {
namespace {

struct Mapping {
  void *base = nullptr;
  size_t length = 0;
  bool keep = false; // the forward reads it directly (CPU)
};

struct Loaded {
  int users = 0;
  std::string dir;
  const Backend *backend = nullptr;
  std::map<std::string, Mapping> files;
  std::vector<void *> hostBuffers; // packs kept on the host (CPU)
  void *device = nullptr;          // all weights, on a GPU
  void *staging = nullptr;         // transposed sources, while packing
};

std::mutex &lock() {
  static std::mutex m;
  return m;
}
std::map<const SinterModel *, Loaded> &loadedModels() {
  static std::map<const SinterModel *, Loaded> m;
  return m;
}

std::string canonical(const std::string &dir) {
  char buf[PATH_MAX];
  if (::realpath(dir.c_str(), buf))
    return buf;
  return dir;
}

void unload(const SinterModel *m, Loaded &l) {
  for (int32_t i = 0; i < m->num_weights; ++i)
    if (m->weights[i].slot)
      *m->weights[i].slot = nullptr;
  for (auto &[name, map] : l.files)
    if (map.base)
      ::munmap(map.base, map.length);
  l.files.clear();
  for (void *p : l.hostBuffers)
    std::free(p);
  l.hostBuffers.clear();
  if (l.device)
    l.backend->free(l.device);
  l.device = nullptr;
  if (l.staging)
    l.backend->free(l.staging);
  l.staging = nullptr;
}

uint64_t splitmix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// Weight `index`'s fill: its own stream of the seed, so that a weight's
/// values do not depend on which other weights are filled.
RandomFill randomFillFor(const SinterWeight &w, int32_t index) {
  RandomFill f;
  f.base = splitmix(randomWeights.seed +
                    0x9E3779B97F4A7C15ull * (uint64_t(index) + 1));
  switch (w.dtype) {
  case SINTER_DTYPE_FLOAT32:
    f.kind = 0;
    break;
  case SINTER_DTYPE_BFLOAT16:
    f.kind = 1;
    break;
  case SINTER_DTYPE_FLOAT16:
    f.kind = 2;
    break;
  case SINTER_DTYPE_FLOAT64:
    f.kind = 3;
    break;
  default:
    f.kind = 4;
  }
  size_t es = dtypeSize(w.dtype);
  f.count = f.kind == 4 || !es ? w.bytes : w.bytes / es;
  int64_t last = w.rank >= 2 ? w.shape[w.rank - 1] : 1;
  f.scale = last > 1 ? 1.0f / std::sqrt(float(last)) : 1.0f;
  return f;
}

/// IEEE binary16 of a float, rounded to nearest even (as cvt.rn.f16.f32).
uint16_t halfOf(float v) {
  uint32_t x;
  std::memcpy(&x, &v, 4);
  uint32_t sign = (x >> 16) & 0x8000u, mag = x & 0x7fffffffu;
  if (mag >= 0x47800000u) // overflow (never: |v| <= 1) or Inf/NaN
    return uint16_t(sign | (mag > 0x7f800000u ? 0x7e00u : 0x7c00u));
  if (mag < 0x38800000u) { // a subnormal half (or zero)
    if (mag < 0x33000000u)
      return uint16_t(sign);
    uint32_t m = (mag & 0x7fffffu) | 0x800000u;
    int shift = 126 - int(mag >> 23); // h = m * 2^(E - 126)
    uint32_t h = m >> shift, rest = m & ((1u << shift) - 1),
             half = 1u << (shift - 1);
    if (rest > half || (rest == half && (h & 1)))
      ++h;
    return uint16_t(sign | h);
  }
  uint32_t h = ((mag >> 13) - (112u << 10)), rest = mag & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1)))
    ++h;
  return uint16_t(sign | h);
}

/// The host's version of the CUDA fill kernel (same values).
void fillOnHost(char *dst, const RandomFill &f) {
  if (f.kind == 4) {
    std::memset(dst, 0, size_t(f.count));
    return;
  }
  for (uint64_t e = 0; e < f.count; ++e) {
    uint64_t z = splitmix(f.base + (e + 1) * 0x9E3779B97F4A7C15ull);
    float v = (float(uint32_t(z >> 40)) * 0x1p-23f - 1.0f) * f.scale;
    if (f.kind == 0) {
      std::memcpy(dst + 4 * e, &v, 4);
    } else if (f.kind == 3) {
      double d = v;
      std::memcpy(dst + 8 * e, &d, 8);
    } else {
      uint32_t bits;
      std::memcpy(&bits, &v, 4);
      uint16_t h = f.kind == 1 ? uint16_t(bits >> 16) : halfOf(v);
      std::memcpy(dst + 2 * e, &h, 2);
    }
  }
}

std::string tensorWord(const SinterWeight &w) {
  return std::string("tensor '") + (w.name ? w.name : "?") + "'";
}

/// Maps `w`'s file (once per file) and returns where `w` starts.
const char *mapExternal(const SinterWeight &w, Loaded &l, std::string &err) {
  std::string path = l.dir + "/" + w.file;
  auto it = l.files.find(w.file);
  if (it == l.files.end()) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      err = "weights file '" + path + "' of " + tensorWord(w) +
            ": cannot open: " + std::strerror(errno);
      return nullptr;
    }
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      err = "weights file '" + path + "' of " + tensorWord(w) +
            " is not a regular file";
      return nullptr;
    }
    if (w.file_bytes && uint64_t(st.st_size) != w.file_bytes) {
      ::close(fd);
      err = "weights file '" + path + "' of " + tensorWord(w) + " has " +
            std::to_string(st.st_size) +
            " bytes, but the model was compiled "
            "against " +
            std::to_string(w.file_bytes) +
            " bytes: the file changed since the compile (recompile, or "
            "point --weights at the right folder)";
      return nullptr;
    }
    Mapping map;
    if (st.st_size > 0) {
      map.length = size_t(st.st_size);
      map.base = ::mmap(nullptr, map.length, PROT_READ, MAP_PRIVATE, fd, 0);
      if (map.base == MAP_FAILED) {
        ::close(fd);
        err = "weights file '" + path + "' of " + tensorWord(w) +
              ": cannot map: " + std::strerror(errno);
        return nullptr;
      }
    }
    ::close(fd);
    it = l.files.emplace(w.file, map).first;
  }
  const Mapping &map = it->second;
  if (w.offset > map.length || w.bytes > map.length - w.offset) {
    err = "weights file '" + path + "' is too short for " + tensorWord(w) +
          " (" + std::to_string(map.length) + " bytes, needs " +
          std::to_string(w.offset + w.bytes) + ")";
    return nullptr;
  }
  return static_cast<const char *>(map.base) + w.offset;
}

/// A plan's piece as checked against its source: `len` rows of the result
/// along the axis, from `offset` on.
struct Piece {
  int32_t op, source;
  int64_t offset, len;
};

/// A plan checked against the weight table: the result is `outer` blocks
/// of `w.shape[axis] * inner` elements of `es` bytes, and each piece fills
/// `len * inner` elements of each block.
struct CheckedPack {
  int32_t axis = 0;
  int64_t outer = 1, inner = 1;
  size_t es = 0;
  std::vector<Piece> pieces;
};

/// Checks weight `wi`'s plan against the table (the same on every target):
/// known layouts, sources that are loaded non-pack weights of the result's
/// dtype, placed inside the result and covering it.
bool checkPack(const SinterModel *m, int32_t wi,
               const std::vector<const char *> &host, CheckedPack &c,
               std::string &err) {
  const SinterWeight &w = m->weights[wi];
  auto bad = [&](const std::string &why) {
    err = "the weight-pack plan of " + tensorWord(w) + " " + why;
    return false;
  };
  if (w.pack >= m->num_packs)
    return bad("does not exist");
  const SinterPack &p = m->packs[w.pack];
  int32_t rank = w.rank, axis = p.axis;
  if (axis < 0 || axis >= rank)
    return bad("has axis " + std::to_string(axis) + " out of range");
  c.axis = axis;
  c.es = dtypeSize(w.dtype);
  for (int32_t d = 0; d < axis; ++d)
    c.outer *= w.shape[d];
  for (int32_t d = axis + 1; d < rank; ++d)
    c.inner *= w.shape[d];
  int64_t covered = 0;
  for (int32_t k = 0; k < p.num_pieces; ++k) {
    const SinterPackPiece &q = p.pieces[k];
    if (q.source < 0 || q.source >= m->num_weights ||
        m->weights[q.source].pack >= 0 || !host[size_t(q.source)])
      return bad("has a piece whose source is not a loaded weight");
    const SinterWeight &s = m->weights[q.source];
    if (s.dtype != w.dtype)
      return bad("mixes dtypes (" + tensorWord(s) + ")");
    std::vector<int64_t> shape(s.shape, s.shape + s.rank);
    if (q.op == SINTER_PACK_TRANSPOSE) {
      if (s.rank != 2)
        return bad("transposes " + tensorWord(s) + ", which is not 2-D");
      std::swap(shape[0], shape[1]);
    } else if (q.op != SINTER_PACK_COPY) {
      return bad("has a piece of layout " + std::to_string(q.op) +
                 ", which this runtime does not know (a newer compiler?)");
    }
    bool fits = int32_t(shape.size()) == rank && q.offset >= 0 &&
                q.offset + shape[size_t(axis)] <= w.shape[axis];
    for (int32_t d = 0; fits && d < rank; ++d)
      fits = d == axis || shape[size_t(d)] == w.shape[d];
    if (!fits)
      return bad("places " + tensorWord(s) + " " + shapeString(shape) +
                 " outside the result " + shapeString(w.shape, size_t(rank)));
    covered += shape[size_t(axis)];
    c.pieces.push_back({q.op, q.source, q.offset, shape[size_t(axis)]});
  }
  if (covered != w.shape[axis])
    return bad("covers " + std::to_string(covered) + " of " +
               std::to_string(w.shape[axis]) + " along axis " +
               std::to_string(axis));
  return true;
}

/// Copies a `rows` x `cols` matrix of `es`-byte elements transposed into
/// `dst` (row stride `dstStride` elements), in tiles so that both sides
/// stay in cache.
void transposeInto(char *dst, int64_t dstStride, const char *src, int64_t rows,
                   int64_t cols, size_t es) {
  const int64_t tile = 32;
  for (int64_t rb = 0; rb < rows; rb += tile)
    for (int64_t cb = 0; cb < cols; cb += tile) {
      int64_t re = rb + tile < rows ? rb + tile : rows;
      int64_t ce = cb + tile < cols ? cb + tile : cols;
      for (int64_t r = rb; r < re; ++r)
        for (int64_t c = cb; c < ce; ++c)
          std::memcpy(dst + size_t(c * dstStride + r) * es,
                      src + size_t(r * cols + c) * es, es);
    }
}

/// Where piece `q` of weight `w` starts in the result, in bytes: row
/// `offset` of block 0 (a transposed source is 2-D, so its piece starts at
/// row `offset` for axis 0, column `offset` for axis 1).
size_t pieceStart(const SinterWeight &w, const CheckedPack &c,
                  const Piece &q) {
  if (q.op == SINTER_PACK_TRANSPOSE)
    return size_t(c.axis == 0 ? q.offset * w.shape[1] : q.offset) * c.es;
  return size_t(q.offset * c.inner) * c.es;
}

/// Fills `out` with weight `wi` as its checked plan lays the sources out.
void packOnHost(const SinterModel *m, int32_t wi, const CheckedPack &c,
                const std::vector<const char *> &host, char *out) {
  const SinterWeight &w = m->weights[wi];
  for (const Piece &q : c.pieces) {
    const SinterWeight &s = m->weights[q.source];
    const char *src = host[size_t(q.source)];
    char *dst = out + pieceStart(w, c, q);
    if (q.op == SINTER_PACK_COPY) {
      size_t chunk = size_t(q.len * c.inner) * c.es;
      size_t pitch = size_t(w.shape[c.axis] * c.inner) * c.es;
      for (int64_t o = 0; o < c.outer; ++o)
        std::memcpy(dst + size_t(o) * pitch, src + size_t(o) * chunk, chunk);
    } else {
      transposeInto(dst, w.shape[1], src, s.shape[0], s.shape[1], c.es);
    }
  }
}

/// Validates the table's sizes and finds every weight's host bytes (the
/// mapped file, or the executable's data); packs have none.
bool locateSources(const SinterModel *m, Loaded &l,
                   std::vector<const char *> &host, std::string &err) {
  size_t n = size_t(m->num_weights);
  host.assign(n, nullptr);
  for (size_t i = 0; i < n; ++i) {
    const SinterWeight &w = m->weights[i];
    uint64_t want = dtypeSize(w.dtype);
    for (int32_t d = 0; d < w.rank; ++d)
      want *= uint64_t(w.shape[d]);
    if (want != w.bytes) {
      err = "the weight table is inconsistent: " + tensorWord(w) + " has " +
            std::to_string(w.bytes) + " bytes for " + dtypeName(w.dtype) +
            shapeString(w.shape, size_t(w.rank));
      return false;
    }
    if (w.file && randomWeights.enabled)
      continue; // filled, never read: host[i] stays null
    if (w.file) {
      if (l.dir.empty()) {
        err = tensorWord(w) + " is external data ('" + w.file +
              "'), but the model records no weights folder: pass --weights "
              "DIR";
        return false;
      }
      if (!(host[i] = mapExternal(w, l, err)))
        return false;
    } else if (w.data) {
      host[i] = static_cast<const char *>(w.data);
    }
  }
  return true;
}

/// --random-weights: which weights are filled rather than read: the
/// external ones, and packs with an external source (a pack of random
/// values is random values; its plan is not applied).
std::vector<char> randomlyFilled(const SinterModel *m) {
  size_t n = size_t(m->num_weights);
  std::vector<char> random(n, 0);
  if (!randomWeights.enabled)
    return random;
  for (size_t i = 0; i < n; ++i)
    random[i] = m->weights[i].file != nullptr;
  for (size_t i = 0; i < n; ++i) {
    const SinterWeight &w = m->weights[i];
    if (w.pack < 0 || w.pack >= m->num_packs)
      continue;
    const SinterPack &p = m->packs[w.pack];
    for (int32_t k = 0; k < p.num_pieces; ++k) {
      int32_t src = p.pieces[k].source;
      if (src >= 0 && src < m->num_weights && m->weights[src].file)
        random[i] = 1;
    }
  }
  return random;
}

/// The CPU: packs (and --random-weights fills) into 64-byte-aligned host
/// buffers, every slot a host address; files only packs read are unmapped
/// afterwards.
bool loadOnHost(const SinterModel *m, Loaded &l,
                const std::vector<const char *> &sources,
                const std::vector<char> &random, std::string &err) {
  size_t n = size_t(m->num_weights);
  std::vector<const char *> host = sources;
  auto buffer = [&](const SinterWeight &w, const char *why) -> char * {
    size_t bytes = (size_t(w.bytes) + 63) / 64 * 64;
    auto *buf = static_cast<char *>(std::aligned_alloc(64, bytes ? bytes : 64));
    if (!buf) {
      err = std::string("out of memory ") + why + " " + tensorWord(w) + " (" +
            std::to_string(w.bytes) + " bytes)";
      return nullptr;
    }
    l.hostBuffers.push_back(buf);
    return buf;
  };
  for (size_t i = 0; i < n; ++i) {
    const SinterWeight &w = m->weights[i];
    if (!random[i] || !w.slot)
      continue;
    char *buf = buffer(w, "filling");
    if (!buf)
      return false;
    fillOnHost(buf, randomFillFor(w, int32_t(i)));
    host[i] = buf;
  }
  for (size_t i = 0; i < n; ++i) {
    const SinterWeight &w = m->weights[i];
    if (w.pack < 0 || random[i])
      continue;
    CheckedPack c;
    if (!checkPack(m, int32_t(i), sources, c, err))
      return false;
    char *buf = buffer(w, "packing");
    if (!buf)
      return false;
    packOnHost(m, int32_t(i), c, sources, buf);
    host[i] = buf;
  }
  for (size_t i = 0; i < n; ++i) {
    const SinterWeight &w = m->weights[i];
    if (!w.slot)
      continue;
    *w.slot = const_cast<char *>(host[i]);
    if (w.file && !random[i])
      l.files[w.file].keep = true;
  }
  for (auto &[name, map] : l.files)
    if (!map.keep && map.base) {
      ::munmap(map.base, map.length);
      map.base = nullptr;
    }
  return true;
}

double nowMs() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return double(t.tv_sec) * 1e3 + double(t.tv_nsec) / 1e6;
}

/// A device: one allocation holds every weight the forward reads. The
/// sources are uploaded once each and the packs built on the device: a
/// copy piece is a strided copy straight from the source's bytes (the host
/// mapping, or the source's device copy when the forward reads it too); a
/// transposed piece goes through a staging buffer (one, reused, as large
/// as the largest such source) and the compiler's transpose kernel. No
/// host buffer is allocated; sources only plans read do not stay on the
/// device.
bool loadOnDevice(const SinterModel *m, const Backend *backend,
                  const DevicePacking &dev, Loaded &l,
                  const std::vector<const char *> &host,
                  const std::vector<char> &random, std::string &err) {
  double t0 = nowMs();
  size_t n = size_t(m->num_weights);
  const uint64_t align = 256;
  auto rounded = [&](uint64_t b) { return (b + align - 1) / align * align; };
  uint64_t total = 0, staging = 0, uploaded = 0, filled = 0;
  int packs = 0, transposed = 0;
  std::vector<CheckedPack> plans(n);
  for (size_t i = 0; i < n; ++i) {
    const SinterWeight &w = m->weights[i];
    if (w.slot)
      total += rounded(w.bytes);
    // A plan of a weight the forward does not read is not applied.
    if (w.pack < 0 || !w.slot || random[i])
      continue;
    if (!checkPack(m, int32_t(i), host, plans[i], err))
      return false;
    ++packs;
    for (const Piece &q : plans[i].pieces) {
      if (q.op != SINTER_PACK_TRANSPOSE)
        continue;
      ++transposed;
      if (!m->weights[q.source].slot)
        staging = std::max<uint64_t>(staging, m->weights[q.source].bytes);
    }
  }
  if (!total)
    return true;
  if (!(l.device = backend->alloc(size_t(total), err))) {
    err = "allocating " + std::to_string(total) + " bytes for the " +
          "weights on the device: " + err;
    return false;
  }
  std::vector<char *> onDevice(n, nullptr);
  uint64_t offset = 0;
  for (size_t i = 0; i < n; ++i)
    if (m->weights[i].slot) {
      onDevice[i] = static_cast<char *>(l.device) + offset;
      *m->weights[i].slot = onDevice[i];
      offset += rounded(m->weights[i].bytes);
    }
  // --random-weights fills, then the weights the forward reads as they
  // are: plans may read those.
  for (size_t i = 0; i < n; ++i) {
    const SinterWeight &w = m->weights[i];
    if (!w.slot || !random[i] || !w.bytes)
      continue;
    if (!dev.fill(onDevice[i], randomFillFor(w, int32_t(i)), err)) {
      err = "filling " + tensorWord(w) + " with random values: " + err;
      return false;
    }
    filled += w.bytes;
  }
  for (size_t i = 0; i < n; ++i) {
    const SinterWeight &w = m->weights[i];
    if (!w.slot || w.pack >= 0 || !w.bytes || random[i])
      continue;
    if (!dev.copy2D(onDevice[i], size_t(w.bytes), host[i], size_t(w.bytes),
                    size_t(w.bytes), 1, true, err)) {
      err = "uploading " + tensorWord(w) + ": " + err;
      return false;
    }
    uploaded += w.bytes;
  }
  if (staging && !(l.staging = backend->alloc(size_t(staging), err))) {
    err = "allocating " + std::to_string(staging) + " bytes to stage the " +
          "transposed sources of weight-pack plans on the device: " + err;
    return false;
  }
  for (size_t i = 0; i < n; ++i) {
    const SinterWeight &w = m->weights[i];
    if (w.pack < 0 || !w.slot || random[i])
      continue;
    const CheckedPack &c = plans[i];
    for (size_t k = 0; k < c.pieces.size(); ++k) {
      const Piece &q = c.pieces[k];
      const SinterWeight &s = m->weights[q.source];
      auto fail = [&] {
        err = "packing " + tensorWord(w) + " on the device (piece " +
              std::to_string(k) + ", " + tensorWord(s) + "): " + err;
        return false;
      };
      char *dst = onDevice[i] + pieceStart(w, c, q);
      const char *src = onDevice[size_t(q.source)];
      if (q.op == SINTER_PACK_COPY) {
        size_t chunk = size_t(q.len * c.inner) * c.es;
        size_t pitch = size_t(w.shape[c.axis] * c.inner) * c.es;
        bool fromHost = !src;
        if (chunk && !dev.copy2D(dst, pitch, fromHost ? host[q.source] : src,
                                 chunk, chunk, size_t(c.outer), fromHost,
                                 err))
          return fail();
        if (fromHost)
          uploaded += s.bytes;
        continue;
      }
      if (!src) {
        if (s.bytes && !dev.copy2D(l.staging, size_t(s.bytes),
                                   host[q.source], size_t(s.bytes),
                                   size_t(s.bytes), 1, true, err))
          return fail();
        uploaded += s.bytes;
        src = static_cast<const char *>(l.staging);
      }
      if (s.bytes && !dev.transpose(dst, w.shape[1], src, s.shape[0],
                                    s.shape[1], c.es, err))
        return fail();
    }
  }
  if (!backend->sync(err)) {
    err = "building the weights on the device: " + err;
    return false;
  }
  if (l.staging) {
    backend->free(l.staging);
    l.staging = nullptr;
  }
  if (std::getenv("SINTER_CUDA_VERBOSE"))
    std::fprintf(stderr,
                 "sinter: weights: %.3f GB on the device (%.3f GB uploaded, "
                 "%.3f GB random, %d packs built there, %d transposed "
                 "pieces, %.3f GB staging) in %.1f ms\n",
                 double(total) / 1e9, double(uploaded) / 1e9,
                 double(filled) / 1e9, packs, transposed,
                 double(staging) / 1e9, nowMs() - t0);
  return true;
}

bool load(const SinterModel *m, const Backend *backend, Loaded &l,
          std::string &err) {
  std::vector<const char *> host;
  if (!locateSources(m, l, host, err))
    return false;
  std::vector<char> random = randomlyFilled(m);
  if (backend == &cpuBackend)
    return loadOnHost(m, l, host, random, err);
  if (backend != &cudaBackend) {
    err = std::string("the runtime cannot load weights for the '") +
          backend->name + "' backend";
    return false;
  }
  if (!loadOnDevice(m, backend, cudaPacking, l, host, random, err))
    return false;
  // The device has its copies: no host memory stays.
  for (auto &[name, map] : l.files)
    if (map.base) {
      ::munmap(map.base, map.length);
      map.base = nullptr;
    }
  return true;
}

} // namespace

RandomWeights randomWeights;

bool acquireWeights(const SinterModel *m, const Backend *backend,
                    const char *dir, std::string &err) {
  std::lock_guard<std::mutex> guard(lock());
  std::string folder = dir && *dir      ? std::string(dir)
                       : m->weights_dir ? std::string(m->weights_dir)
                                        : std::string();
  bool external = false;
  for (int32_t i = 0; i < m->num_weights; ++i)
    external |= m->weights[i].file != nullptr;
  if (external && !folder.empty())
    folder = canonical(folder);
  Loaded &l = loadedModels()[m];
  if (l.users > 0) {
    if (external && folder != l.dir) {
      err = "the weights of this model are already loaded from '" + l.dir +
            "' in this process; a session with weights from '" + folder +
            "' needs another process";
      return false;
    }
    ++l.users;
    return true;
  }
  l.dir = folder;
  l.backend = backend;
  if (!load(m, backend, l, err)) {
    unload(m, l);
    loadedModels().erase(m);
    return false;
  }
  l.users = 1;
  return true;
}

void releaseWeights(const SinterModel *m) {
  std::lock_guard<std::mutex> guard(lock());
  auto it = loadedModels().find(m);
  if (it == loadedModels().end() || --it->second.users > 0)
    return;
  unload(m, it->second);
  loadedModels().erase(it);
}

} // namespace sinter::rt
