//===- Weights.cpp - loading a model's weights when a session opens -------===//
//
// See Weights.h. External files are mapped read-only (the page cache holds
// them; nothing is read before the forward or the packing touches it) and
// checked against the size the compile saw, so that a changed or truncated
// file is an error naming it instead of garbage or a fault in the forward.
// Packs are applied on the host; on a GPU the packed result and every other
// weight are then copied into one device allocation and the host copies are
// dropped.
//
//===----------------------------------------------------------------------===//

#include "Weights.h"
#include "Tensor.h"

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
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

/// Fills `out` with weight `wi` as its pack plan lays the sources out.
bool applyPack(const SinterModel *m, int32_t wi,
               const std::vector<const char *> &host, char *out,
               std::string &err) {
  const SinterWeight &w = m->weights[wi];
  const SinterPack &p = m->packs[w.pack];
  auto bad = [&](const std::string &why) {
    err = "the weight-pack plan of " + tensorWord(w) + " " + why;
    return false;
  };
  int32_t rank = w.rank, axis = p.axis;
  if (axis < 0 || axis >= rank)
    return bad("has axis " + std::to_string(axis) + " out of range");
  size_t es = dtypeSize(w.dtype);
  int64_t outer = 1, inner = 1;
  for (int32_t d = 0; d < axis; ++d)
    outer *= w.shape[d];
  for (int32_t d = axis + 1; d < rank; ++d)
    inner *= w.shape[d];
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
    const char *src = host[size_t(q.source)];
    int64_t len = shape[size_t(axis)];
    if (q.op == SINTER_PACK_COPY) {
      size_t chunk = size_t(len * inner) * es;
      for (int64_t o = 0; o < outer; ++o)
        std::memcpy(out + size_t((o * w.shape[axis] + q.offset) * inner) * es,
                    src + size_t(o) * chunk, chunk);
    } else {
      // Piece [i][j] = source[j][i]; the piece starts at row `offset`
      // (axis 0) or column `offset` (axis 1) of the result.
      int64_t cols = w.shape[1];
      char *dst = out + size_t(axis == 0 ? q.offset * cols : q.offset) * es;
      transposeInto(dst, cols, src, s.shape[0], s.shape[1], es);
    }
  }
  if (covered != w.shape[axis])
    return bad("covers " + std::to_string(covered) + " of " +
               std::to_string(w.shape[axis]) + " along axis " +
               std::to_string(axis));
  return true;
}

bool load(const SinterModel *m, const Backend *backend, Loaded &l,
          std::string &err) {
  size_t n = size_t(m->num_weights);
  std::vector<const char *> host(n, nullptr);
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
  // Packs read only non-pack weights (applyPack checks), so each can be
  // built on its own: on a device it is uploaded and freed before the next
  // one is built, so host memory peaks at one packed weight.
  auto pack = [&](size_t i) -> char * {
    const SinterWeight &w = m->weights[i];
    if (w.pack >= m->num_packs) {
      err = tensorWord(w) + " names a pack plan that does not exist";
      return nullptr;
    }
    size_t bytes = (size_t(w.bytes) + 63) / 64 * 64;
    auto *buf = static_cast<char *>(std::aligned_alloc(64, bytes ? bytes : 64));
    if (!buf) {
      err = "out of memory packing " + tensorWord(w) + " (" +
            std::to_string(w.bytes) + " bytes)";
      return nullptr;
    }
    l.hostBuffers.push_back(buf);
    return applyPack(m, int32_t(i), host, buf, err) ? buf : nullptr;
  };

  if (backend == &cpuBackend) {
    std::vector<char *> packed(n, nullptr);
    for (size_t i = 0; i < n; ++i)
      if (m->weights[i].pack >= 0 && !(packed[i] = pack(i)))
        return false;
    for (size_t i = 0; i < n; ++i)
      if (packed[i])
        host[i] = packed[i];
    for (size_t i = 0; i < n; ++i) {
      const SinterWeight &w = m->weights[i];
      if (!w.slot)
        continue;
      *w.slot = const_cast<char *>(host[i]);
      if (w.file)
        l.files[w.file].keep = true;
    }
    // Files only packs read are not needed any more.
    for (auto &[name, map] : l.files)
      if (!map.keep && map.base) {
        ::munmap(map.base, map.length);
        map.base = nullptr;
      }
    return true;
  }

  // A device: one allocation for every weight the forward reads.
  const uint64_t align = 256;
  uint64_t total = 0;
  for (size_t i = 0; i < n; ++i)
    if (m->weights[i].slot)
      total += (m->weights[i].bytes + align - 1) / align * align;
  if (total) {
    if (!(l.device = backend->alloc(size_t(total), err))) {
      err = "allocating " + std::to_string(total) + " bytes for the " +
            "weights on the device: " + err;
      return false;
    }
    uint64_t offset = 0;
    for (size_t i = 0; i < n; ++i) {
      const SinterWeight &w = m->weights[i];
      if (!w.slot)
        continue;
      char *dst = static_cast<char *>(l.device) + offset;
      const char *src = w.pack >= 0 ? pack(i) : host[i];
      if (!src)
        return false;
      if (!backend->copyToTarget(dst, src, size_t(w.bytes), err)) {
        err = "uploading " + tensorWord(w) + ": " + err;
        return false;
      }
      // From pageable memory the copy returns once the source is staged:
      // the buffer is free again.
      if (w.pack >= 0) {
        std::free(l.hostBuffers.back());
        l.hostBuffers.pop_back();
      }
      *w.slot = dst;
      offset += (w.bytes + align - 1) / align * align;
    }
    if (!backend->sync(err))
      return false;
  }
  // The device has its copies: no host memory stays.
  for (auto &[name, map] : l.files)
    if (map.base) {
      ::munmap(map.base, map.length);
      map.base = nullptr;
    }
  for (void *p : l.hostBuffers)
    std::free(p);
  l.hostBuffers.clear();
  return true;
}

} // namespace

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
