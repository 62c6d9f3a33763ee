//===- ExpertGemv.h - the M = 1 expert GEMV's parts -------------*- C++ -*-===//
//
// What the files of the decode-step expert projection (ExpertGemv.cpp: the
// template's description, the kernel's frame and the entry point) share:
// the match and its fusions with the block's plan (ExpertGemvMatch.cpp), a
// thread's walk over K (ExpertGemvWalk.cpp), the shared expert's down
// projection folded into the routed block's kernel (ExpertGemvShared.cpp),
// and the router folded into the up projection's (ExpertGemvRouter.cpp).
// Private to the template: nothing outside these files includes it.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_LIB_TARGET_CUDA_EXPERTGEMV_H
#define SINTER_LIB_TARGET_CUDA_EXPERTGEMV_H

#include "ContractionMatch.h"
#include "Kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

#include <optional>
#include <string>
#include <tuple>

namespace sinter::cuda::expert_gemv {

/// Blocks wanted (about two per SM of an H100/H200) before a block's
/// column tile is narrowed.
constexpr int64_t kTargetBlocks = 256;
/// Threads sharing one weight row: at least 2 (32 contiguous bytes of
/// bf16, one DRAM sector), at most 8 (128 bytes).
constexpr int64_t kMinRowThreads = 2, kMaxRowThreads = 8;
/// Threads a block: two or more 256-thread blocks an SM; a combine block
/// holds all J experts of its columns, so it is larger and there are
/// fewer, about one an SM (bench8's down projection, H200: 512 threads
/// 9.2-9.8 us, 256 threads 10.4, 1024 threads 9.6-10.2).
constexpr int64_t kThreads = 256, kCombineThreads = 512;
constexpr int64_t kTargetCombineBlocks = 128;
/// Trips of a thread whose loads are issued together.
constexpr int64_t kMaxUnroll = 8;
/// The deep combine plan (ExpertGemvMatch.cpp's plan; the experimental
/// form expert-down-deep, not yet run on a GPU): threads a block and
/// trips a group (two groups in flight: 32 vectors, 128 registers).
constexpr int64_t kDeepCombineThreads = 256, kMaxDeepUnroll = 16;
/// Groups of trips a pipelined thread walks (unrolled: code size).
constexpr int64_t kMaxPipelinedGroups = 16;
/// Bytes of x a block may copy into shared memory.
constexpr int64_t kMaxStagedX = 16384;

struct ExpertMatch {
  mlir::linalg::GenericOp op;
  mlir::linalg::FillOp fill;
  mlir::Value x, idx, weight, acc;
  bool perSlot = false;
  int64_t j = 0, n = 0, k = 0;
  mlir::Type wType;
  mlir::Block *body = nullptr;
  /// Body values: the block arguments, the weight element's load, the
  /// expert index (the load's first index), the product's two factors.
  mlir::Value argX, argIdx, argOut, load, expert, factorX, factorW;
  mlir::Value indexN, indexK; // linalg.index 2 and 3 (null when unused)

  /// Optional fusions (null when not fused).
  mlir::linalg::GenericOp prologue, epilogue, combine;
  mlir::linalg::FillOp combineFill;
  /// The combine's operand number of the accumulator.
  int64_t combineAccInput = -1;
  /// The shared expert's down projection (an [N, K] GEMV at one row over
  /// the same N columns, which an elementwise op later adds to the
  /// combine's result) computed by the same blocks: see matchSharedFold.
  std::optional<ContractionMatch> shared;
  /// The MoE router folded into the blocks (see matchRouterFold): its
  /// lowered generic, the logits it reads, the weights and indices it
  /// writes, and k.
  mlir::linalg::GenericOp router;
  mlir::Value logits, routerWeights, routerIndices;
  int64_t routerK = 0;
};

struct Plan {
  int64_t vec = 1, rowThreads = 2, threads = 256, cols = 16, rows = 128;
  int64_t slotsPerExpert = 0; // combine: row slots of one expert
  int64_t grid = 1, trips = 1, unroll = 1;
  /// Groups of `unroll` trips (0: K is not a multiple of the stride, one
  /// trip per iteration); pipelined: the next group's loads are issued
  /// before the current group's FMAs.
  int64_t groups = 0;
  bool pipelined = false;
  /// x (not a fused prologue's result) is copied into shared memory first,
  /// the rows of the block's slots: with global loads of x between the
  /// weight loads, ptxas waits for each weight load before issuing the next
  /// (bench8's up projection: 15.4 us unstaged, 12.2-12.9 staged, H200).
  /// Not a per-slot prologue's: computing it into shared memory first
  /// measured slower (11.6 us against 9.2-9.8 for the down projection).
  /// A prologue all slots share (the up projection's rounding of x) is
  /// computed into the copy.
  bool stageX = false;
  int64_t stagedRows = 1; // J with the combine, else the block's slot
  /// The shared expert's part (ExpertMatch::shared): a block reads the
  /// `cols` weight rows of its columns (contiguous, cols x K) as
  /// `sharedVec`-element chunks, chunk c of the block in thread c mod
  /// threads (`sharedPasses` rounds); the chunks of a row are summed by
  /// `sharedWidth` lanes with xor shuffles, then by the writer over the
  /// row's segments.
  int64_t sharedVec = 0, sharedChunks = 0, sharedWidth = 0, sharedPasses = 0;
  /// The combine's experts split over `splits` blocks a column tile (each
  /// has J / splits of them; block b: split b / tiles, tile b mod tiles):
  /// wider column tiles at the same block count (the row segments a block
  /// reads of the [E, K, N] weight are `cols` elements wide). Each block
  /// writes its experts' column sums to a workspace; the last of a tile's
  /// blocks to arrive (a counter) folds the weighted sum over all J in
  /// slot order. The shared expert's rows of the tile are split too
  /// (`sharedCols` a block).
  int64_t splits = 1, sharedCols = 0;
  /// The split combine over a thread-block cluster of `splits` blocks
  /// (sm_90, one expert a block; the experimental form
  /// expert-cluster-combine, off by default: measured slower):
  /// block b is split b mod splits of tile b / splits, so a tile's blocks
  /// form one cluster (`.reqnctapercluster`); each keeps its column sums in
  /// its shared memory, and after a cluster barrier rank 0 reads all J
  /// through distributed shared memory and folds them in slot order. No
  /// workspace, counter or L2 round trip (the counter's release and
  /// atomic cost bench8 about 0.9 us a launch), but a cluster must be
  /// placed on one GPC at once: bench8's decode step measured 2.6 us a
  /// launch slower with it.
  bool cluster = false;
};

// Body and buffer helpers (ExpertGemvMatch.cpp).

/// The ops and block arguments of `body` that `v` depends on; `leaf` (if
/// any) is taken as an input, its operands not followed.
void sliceOf(mlir::Value v, mlir::Block *body,
             llvm::SetVector<mlir::Operation *> &ops,
             llvm::SmallPtrSetImpl<mlir::Value> &args,
             mlir::Operation *leaf = nullptr);
/// Bodies cloned into a kernel may not ask for their loop indices.
bool usesIndices(mlir::linalg::GenericOp g);
/// Clones the ops of `body` that `v` depends on at b's insertion point;
/// block arguments and linalg.index results must be in `map`.
mlir::Value cloneValue(mlir::OpBuilder &b, mlir::Value v, mlir::Block *body,
                       mlir::IRMapping &map);
/// An all-parallel elementwise generic: one output, static shapes.
bool isElementwise(mlir::linalg::GenericOp g);
/// The next op after `op` in its block that uses `v`, if any.
mlir::Operation *nextUser(mlir::Operation *op, mlir::Value v);
/// The linalg.fill writing `v` right before `op`, or null.
mlir::linalg::FillOp fillBefore(mlir::Operation *op, mlir::Value v);
/// The iteration point of `g` that reads the accumulator element
/// `accIndex` through `accMap`.
llvm::SmallVector<mlir::Value>
iterationOf(mlir::OpBuilder &b, mlir::Location loc, mlir::linalg::GenericOp g,
            mlir::AffineMap accMap, llvm::ArrayRef<mlir::Value> accIndex);
/// The indices a projected permutation (zeros allowed) gives for `it`.
llvm::SmallVector<mlir::Value> applyMap(mlir::OpBuilder &b, mlir::Location loc,
                                        mlir::AffineMap m,
                                        llvm::ArrayRef<mlir::Value> it);
/// Whether every loop of `g` absent from `map` has one iteration.
bool coversLoops(mlir::linalg::GenericOp g, mlir::AffineMap map,
                 int64_t reduced = -1);
/// Ops strictly between `from` and `to` (same block), `fused` ones aside,
/// neither write what the kernel reads nor touch what it writes.
bool quietBetween(mlir::Operation *from, mlir::Operation *to,
                  llvm::ArrayRef<mlir::Value> reads,
                  llvm::ArrayRef<mlir::Value> writes,
                  const llvm::SmallPtrSetImpl<mlir::Operation *> &fused);

// The match, its fusions and the plan (ExpertGemvMatch.cpp).

/// Matches the expert contraction; the refusal's reason, or "".
std::string matchExpert(mlir::linalg::LinalgOp lop, ExpertMatch &m);
/// Sets the prologue, epilogue and combine that are safe to fuse.
void matchFusions(ExpertMatch &m);
/// The block shape and K walk for a match.
Plan plan(const ExpertMatch &m, const KernelOptions &options);

/// The SM number of an `sm_NN[a]` architecture, or 0 (ExpertGemvRouter.cpp).
int64_t smVersion(llvm::StringRef arch);

/// The shared expert's down projection beside a routed MoE block
/// (ExpertGemvShared.cpp): the refusal's reason, or "" with `m` and `p`
/// the routed block's, `m.shared` set.
std::string matchSharedFold(mlir::linalg::GenericOp target, ExpertMatch &m,
                            Plan &p, const KernelOptions &options);

/// The MoE router (the lowered sinter.moe_router generic `router`) folded
/// into the up projection that first reads its indices
/// (ExpertGemvRouter.cpp): the refusal's reason, or "" with `m` and `p` the
/// projection's, `m.router` set.
std::string matchRouterFold(mlir::linalg::GenericOp router, ExpertMatch &m,
                            Plan &p, const KernelOptions &options);

/// Builds the kernel of a match and plan at the rewriter's insertion point.
struct Builder {
  mlir::RewriterBase &rw;
  mlir::Location loc;
  ExpertMatch m; // a copy: op accessors are not const
  const Plan &p;
  mlir::Value xs; // x's row in shared memory (stageX)
  mlir::Value tid;
  /// The block's first expert slot when the combine is split (null else):
  /// x's copy holds the rows of this block's slots only.
  mlir::Value splitBase;
  /// The shared expert's activation (in shared memory, accumulator type),
  /// its per-segment sums, and this thread's weight chunks.
  mlir::Value sharedX, sharedSums;
  llvm::SmallVector<mlir::Value> sharedW;

  mlir::Value idx(int64_t v) {
    return mlir::arith::ConstantIndexOp::create(rw, loc, v);
  }

  // A thread's walk over K (ExpertGemvWalk.cpp).
  llvm::SmallVector<mlir::Value> loadX(mlir::Value j, mlir::Value k);
  llvm::SmallVector<mlir::Value> loadGlobalX(mlir::Value j, mlir::Value k);
  mlir::Value xFrom(llvm::ArrayRef<mlir::Value> loads);
  mlir::Value computeX(llvm::ArrayRef<mlir::Value> loads);
  int64_t xLoads();
  void stageX(mlir::Value j);
  void preloadX(mlir::Value j);
  /// x's global loads of this thread's part of the copy, issued ahead by
  /// preloadX (the folded router's rounds run while they are in flight);
  /// stageX then only stores them.
  llvm::SmallVector<llvm::SmallVector<mlir::Value>> preX;
  llvm::SmallVector<mlir::Value> issue(mlir::Value expert, mlir::Value j,
                                       mlir::Value n0, mlir::Value first,
                                       mlir::Value t0, int64_t count,
                                       int64_t stride, bool stage = false);
  void consume(llvm::ArrayRef<mlir::Value> loaded, int64_t count,
               llvm::SmallVectorImpl<mlir::Value> &accs);
  llvm::SmallVector<mlir::Value> accumulate(mlir::Value expert, mlir::Value j,
                                            mlir::Value n0, mlir::Value first,
                                            int64_t stride);

  // The shared expert's part (ExpertGemvShared.cpp).
  std::tuple<mlir::Value, mlir::Value, mlir::Value> sharedChunk(int64_t pass);
  llvm::SmallVector<mlir::Value> rowIndex(mlir::Value buffer, mlir::Value i);
  void issueSharedLoads(mlir::Value rowBase);
  void stageSharedX();
  void sumSharedChunks();
  void storeShared(mlir::Value rowBase);

  // The folded router (ExpertGemvRouter.cpp): slot j's expert index (the
  // indices' element type), the router's results stored by the last block.
  mlir::Value routerPick(mlir::Value j, mlir::Value bid);

  // The launch, the fold of the row slots and the store (ExpertGemv.cpp).
  void build();
  void storeResult(mlir::Value j, mlir::Value col, mlir::Value v);
  /// The weighted sum over the J experts of column `col`: `sumOf(e)` is
  /// expert e's column sum, `in[e]` the combine's other operands; stored.
  void storeCombined(mlir::Value col,
                     llvm::function_ref<mlir::Value(int64_t)> sumOf,
                     llvm::ArrayRef<llvm::SmallVector<mlir::Value>> in);
};

} // namespace sinter::cuda::expert_gemv

#endif // SINTER_LIB_TARGET_CUDA_EXPERTGEMV_H
