//===- GreedyToken.cu - the generation driver's argmax kernel -------------===//
//
// The source of the PTX in GreedyTokenPtx.cpp (not built: the runtime links
// no CUDA library and the build needs no nvcc). After a change, regenerate:
//   nvcc -ptx -arch=compute_75 -O3 lib/Runtime/GreedyToken.cu -o g.ptx
// and paste g.ptx into GreedyTokenPtx.cpp (each line a string piece).
// test/Runtime/greedy_token_ptx.test checks that the PTX assembles, and
// greedy_token_source.test (where nvcc is installed) that it is this file's.
//
//===----------------------------------------------------------------------===//
//
// sinter_greedy_token: the generation driver's argmax on the device.
// Keys: (float bits made order-preserving) << 32 | (0xffffffff - index):
// the largest key is the largest value, and among equal values the lowest
// index (the host loop's tie rule). -0 is made +0 first (the host compares
// them equal). A NaN is not a candidate; its (step, index) goes to nanAt
// (atomicMin: the first one). Every block folds its best key into
// scratch[0] and counts itself in scratch[1]; the last block to finish
// writes the token and resets both to zero (zero at entry, zero at exit).
extern "C" __global__ void sinter_greedy_token(
    const void *logits, unsigned n, int kind, unsigned long long *scratch,
    void *ids, int ids64, void *pos, int pos64, long long nextPos,
    long long *history, long long slot, long long step,
    unsigned long long *nanAt) {
  unsigned long long best = 0;
  for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += gridDim.x * blockDim.x) {
    float x;
    if (kind == 0) {
      x = static_cast<const float *>(logits)[i];
    } else if (kind == 1) {
      x = __uint_as_float(
          unsigned(static_cast<const unsigned short *>(logits)[i]) << 16);
    } else {
      unsigned short h = static_cast<const unsigned short *>(logits)[i];
      asm("cvt.f32.f16 %0, %1;" : "=f"(x) : "h"(h));
    }
    if (x != x) {
      atomicMin(nanAt, (unsigned long long)step << 32 | i);
      continue;
    }
    unsigned u = __float_as_uint(x + 0.0f);
    u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
    unsigned long long key = (unsigned long long)u << 32 | (0xffffffffu - i);
    best = key > best ? key : best;
  }
  for (int o = 16; o; o >>= 1) {
    unsigned long long other = __shfl_down_sync(0xffffffffu, best, o);
    best = other > best ? other : best;
  }
  __shared__ unsigned long long warpBest[32];
  unsigned lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0)
    warpBest[warp] = best;
  __syncthreads();
  if (threadIdx.x != 0)
    return;
  for (unsigned w = 1; w < (blockDim.x + 31) / 32; ++w)
    best = warpBest[w] > best ? warpBest[w] : best;
  atomicMax(&scratch[0], best);
  __threadfence();
  if (atomicAdd(&scratch[1], 1ull) != gridDim.x - 1)
    return;
  __threadfence();
  unsigned long long b = atomicExch(&scratch[0], 0ull);
  scratch[1] = 0;
  // b == 0: every logit was NaN (nanAt says so); token 0 keeps ids valid.
  long long tok = b ? (long long)(0xffffffffu - unsigned(b)) : 0;
  if (ids64)
    *static_cast<long long *>(ids) = tok;
  else
    *static_cast<int *>(ids) = int(tok);
  if (pos64)
    *static_cast<long long *>(pos) = nextPos;
  else
    *static_cast<int *>(pos) = int(nextPos);
  history[slot] = tok;
}
