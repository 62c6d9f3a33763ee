//===- GatedDeltaBuffers.h - buffers around a gated-delta step -*- C++ -*-===//
//
// What the gated-delta template (GatedDelta.cpp) needs to know about the
// bufferized IR around a decode step: where a memref lives (a static
// strided view of a function argument, a global or the memory plan's
// arena), whether two views may share bytes, what an op reads and writes,
// and whether a producer's output is read by anything the kernel does not
// replace.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_LIB_TARGET_CUDA_GATEDDELTABUFFERS_H
#define SINTER_LIB_TARGET_CUDA_GATEDDELTABUFFERS_H

#include "mlir/IR/Operation.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SetVector.h"

#include <optional>
#include <string>

namespace sinter::cuda::gated_delta {

using mlir::Operation;
using mlir::Value;

/// A static strided view of an allocation: the base (function argument,
/// global or alloc), the byte shift of the memory plan's view, and the
/// layout of the final view relative to it.
struct Buf {
  Value base;
  std::string global;
  bool planned = false; // reached through a memref.view (arena scratch)
  int64_t shift = 0;    // bytes
  int64_t offset = 0;   // elements
  llvm::SmallVector<int64_t> shape, strides;
  int64_t elemBytes = 0;

  int64_t begin() const { return shift + offset * elemBytes; }
  int64_t end() const {
    int64_t last = offset;
    for (auto [n, s] : llvm::zip(shape, strides))
      last += (n - 1) * s;
    return shift + (last + 1) * elemBytes;
  }
  bool contiguous() const {
    int64_t s = 1;
    for (int k = int(shape.size()) - 1; k >= 0; --k) {
      if (shape[k] != 1 && strides[k] != s)
        return false;
      s *= shape[k];
    }
    return true;
  }
  bool sameBase(const Buf &o) const {
    return global.empty() ? base == o.base : global == o.global;
  }
  bool sameView(const Buf &o) const {
    return sameBase(o) && begin() == o.begin() && shape == o.shape &&
           strides == o.strides && elemBytes == o.elemBytes;
  }
};

std::optional<Buf> bufOf(Value v);
/// Whether two views may share bytes (distinct arguments of one type may:
/// state donation passes an input's buffer for the output).
bool overlap(const Buf &a, const Buf &b);
/// Whether `a` is an argument of a function that promises it shares no
/// byte with the other arguments (below).
bool distinctArg(mlir::BlockArgument a);
/// overlap(), except that an argument of a function that promises it
/// shares no byte with the other arguments (`llvm.noalias`, which
/// sinter-finalize-entry puts on every argument but a donated output, or
/// before that pass a donated input) is no other argument. The conv window
/// template's rule, and the column consumer merge's.
bool overlapDistinctArgs(const Buf &a, const Buf &b);
/// Whether `outer`'s bytes include all of `inner`'s.
bool covers(const Buf &outer, const Buf &inner);
/// Views, constants, index math: no memory effect of their own.
bool isViewOrPure(Operation *op);

/// The memrefs `op` reads and writes; nullopt when unknown.
struct Effects {
  llvm::SmallVector<Value> reads, writes;
};
std::optional<Effects> effectsOf(Operation *op);

/// Whether the kernel may drop producer `p` (it computed what `p` wrote):
/// every later reader of p's output, up to the writes that cover it
/// (together: the bytes still holding p's values are tracked), is dropped
/// too, the launch does not load it, and the output is arena scratch.
bool erasable(Operation *p, const llvm::SetVector<Operation *> &dropped,
              Operation *launch, llvm::ArrayRef<Buf> launchReads);
/// Whether something after `launch` may read what is left in `b`.
bool readAfter(const Buf &b, Operation *launch);

/// The latest op before `at` in its block that may write `b` (`meets`: may
/// a written buffer share bytes with `b`; the step template and the conv
/// window template answer that differently for function arguments); sets
/// `unknown` when an op with unknown effects comes first.
Operation *latestWriter(const Buf &b, Operation *at, bool &unknown,
                        llvm::function_ref<bool(const Buf &, const Buf &)> meets);

} // namespace sinter::cuda::gated_delta

#endif // SINTER_LIB_TARGET_CUDA_GATEDDELTABUFFERS_H
