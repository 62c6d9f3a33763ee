//===- Kernels.h - kernel templates of the CUDA target ----------*- C++ -*-===//
//
// The CUDA target's hand-shaped kernels (docs/cuda-target.md, "Kernel
// templates"). Each emitter looks at one bufferized linalg op (and, where it
// fuses them, the ops next to it) and either replaces it with a gpu.launch
// built through the rewriter, or returns failure without touching the IR,
// with the reason in `why`. Ops no template takes go to the generic mapping
// (sinter-cuda-map-loops: one thread per iteration).
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_LIB_TARGET_CUDA_KERNELS_H
#define SINTER_LIB_TARGET_CUDA_KERNELS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"

#include <string>

namespace sinter::cuda {

/// What the templates may assume about the target.
struct KernelOptions {
  /// sm_80, sm_89, sm_90a, sm_100...
  std::string gpuArch = "sm_90a";
  /// Emit a remark when a template recognizes its candidate but refuses it
  /// (so far: the decode attention, the GEMV).
  bool remarks = false;
  /// Absorb the small ops before a split decode attention into its first
  /// kernel (AttentionPrologue.h); off: they stay launches of their own.
  bool attentionPrologue = true;
  /// With the prologue, on sm_90 and later: thread 0 of every block first
  /// starts an L2 bulk prefetch of each buffer the absorbed ops read from
  /// outside (AttentionPrologue.cpp, emitExternalPrefetch).
  bool attentionProloguePrefetch = true;
  /// Alternative kernel forms checked by lit and ptxas and run on a GPU
  /// without a measured gain (docs/cli.md has the numbers): off (the
  /// default form); turned on by name (experimentalForms()).
  struct Experimental {
    /// attention-early-loads: the split decode attention issues the
    /// chunk's key loads before the absorbed prologue (AttentionSplit.cpp).
    bool attentionEarlyLoads = false;
    /// attention-prologue-fewer-barriers: the prologue replay puts a
    /// barrier only between ops that share a buffer (AttentionPrologue.cpp).
    bool prologueFewerBarriers = false;
    /// expert-down-deep: the expert GEMV with the weighted sum folded in
    /// uses the 256-thread deep plan when K is long (ExpertGemvMatch.cpp).
    bool expertDownDeep = false;
    /// expert-cluster-combine: on sm_90 and later, the expert GEMV's combine
    /// split one expert a block folds over a thread-block cluster
    /// (distributed shared memory) instead of an arrival counter
    /// (ExpertGemvMatch.cpp, Plan::cluster).
    bool expertClusterCombine = false;
    /// scan-hoist-vector: the prefill gated-delta scan's round two
    /// (GatedDeltaPrefill.cpp).
    bool scanHoistVector = false;
  } experimental;
};

/// The flag of KernelOptions::Experimental named `name` (its spelling in
/// experimentalForms()), or null for an unknown name.
bool *experimentalFlag(KernelOptions::Experimental &forms,
                       llvm::StringRef name);

/// Tensor-core GEMM for f16/bf16 contractions with M > 8 rows (Gemm.cpp).
mlir::LogicalResult emitTensorCoreGemm(mlir::RewriterBase &rw,
                                       mlir::linalg::LinalgOp op,
                                       const KernelOptions &options,
                                       std::string &why);

/// Gated linears (act(gate) * up rounded to f16/bf16, then times W^T) with
/// M > 8 rows: the rounded operand materialized by one elementwise launch
/// into a workspace global, then the tensor-core GEMM over it
/// (GatedGemm.cpp).
mlir::LogicalResult emitGatedGemm(mlir::RewriterBase &rw,
                                  mlir::linalg::LinalgOp op,
                                  const KernelOptions &options,
                                  std::string &why);

/// GEMV-shaped contractions: few rows, K-contiguous operands (Gemv.cpp).
mlir::LogicalResult emitGemv(mlir::RewriterBase &rw, mlir::linalg::LinalgOp op,
                             const KernelOptions &options, std::string &why);

/// Mixture-of-experts projections (sinter.expert_linear, weight [E, K, N])
/// at one token, with the gated prologue and the weighted sum over the
/// experts fused where possible (ExpertGemv.cpp). Takes the contraction or
/// the linalg.fill initializing its accumulator, or the lowered
/// sinter.moe_router generic, which it folds into the up projection reading
/// its indices (ExpertGemvRouter.cpp).
mlir::LogicalResult emitExpertGemv(mlir::RewriterBase &rw,
                                   mlir::linalg::LinalgOp op,
                                   const KernelOptions &options,
                                   std::string &why);

/// Mixture-of-experts projections over T > 1 tokens (the lowered
/// sinter.expert_linear generic loading W[sel(idx[t, j]), k, n]): a block
/// per (expert, column tile) that lists its routed picks and reads the
/// expert's weights once for all of them (ExpertGrouped.cpp).
mlir::LogicalResult emitExpertGrouped(mlir::RewriterBase &rw,
                                      mlir::linalg::LinalgOp op,
                                      const KernelOptions &options,
                                      std::string &why);

/// Batched contractions (both operands vary with a batch loop: the prompt
/// attention's scores and probabilities times values): 64 x 64 output tiles
/// staged through shared memory, each output accumulated in reduction
/// order with the body cloned (AttentionPrefill.cpp).
mlir::LogicalResult emitBatchedContraction(mlir::RewriterBase &rw,
                                           mlir::linalg::LinalgOp op,
                                           const KernelOptions &options,
                                           std::string &why);

/// Reductions over the innermost dimension, one block or warp per row
/// (RowReduction.cpp).
mlir::LogicalResult emitRowReduction(mlir::RewriterBase &rw,
                                     mlir::linalg::LinalgOp op,
                                     const KernelOptions &options,
                                     std::string &why);

/// Decode attention (one query): the lowered chain of sinter.attention split
/// over the cache length (one kernel whose last blocks combine, with the
/// cache write and the output gate folded where they match, and the small
/// ops that compute q and the new key/value row absorbed:
/// AttentionPrologue.h), or, when the
/// probabilities are rounded, a scores kernel and a softmax . v kernel
/// (Attention.cpp).
mlir::LogicalResult emitDecodeAttention(mlir::RewriterBase &rw,
                                        mlir::linalg::LinalgOp op,
                                        const KernelOptions &options,
                                        std::string &why);

/// sinter.moe_router (top-k of the router logits and the softmax of the
/// picks), lowered to a generic marked `sinter.moe_router`: a warp per
/// token row (MoeRouter.cpp).
mlir::LogicalResult emitMoeRouter(mlir::RewriterBase &rw,
                                  mlir::linalg::LinalgOp op,
                                  const KernelOptions &options,
                                  std::string &why);

/// The decode step of a (gated) delta-rule linear attention, marked by the
/// lowering (`sinter.gated_delta_step`), with the producers of its inputs
/// (l2norm, gates): one launch (GatedDelta.cpp). Offered first, at the
/// step's first op (isGatedDeltaStepStart), before the other templates
/// take the producers.
bool isGatedDeltaStepStart(mlir::Operation *op);
mlir::LogicalResult emitGatedDeltaStep(mlir::RewriterBase &rw,
                                       mlir::linalg::LinalgOp op,
                                       const KernelOptions &options,
                                       std::string &why);

/// The recurrence of a (gated) delta-rule linear attention over T > 1
/// tokens: the scf.for that sinter.linear_attention's lowering makes, as
/// one launch with the state in registers for the whole sequence
/// (GatedDeltaPrefill.cpp). Offered every scf.for before the linalg ops.
mlir::LogicalResult emitGatedDeltaScan(mlir::RewriterBase &rw,
                                       mlir::scf::ForOp loop,
                                       const KernelOptions &options,
                                       std::string &why);

/// The decode step of a causal depthwise conv over a donated rolling
/// state (GatedDeltaNet's conv before the step): the window op with its
/// elementwise producers, the transpose after it and the state shift
/// copies at the end of the function as one launch, a thread per channel,
/// the state updated in place (GatedDeltaConv.cpp).
mlir::LogicalResult emitConvWindow(mlir::RewriterBase &rw,
                                   mlir::linalg::LinalgOp op,
                                   const KernelOptions &options,
                                   std::string &why);

/// Marks of a one-row GEMV launch for mergeColumnConsumers: how it owns
/// its columns (`sinter.gemv_owner` = [columns a warp, split-K, warps a
/// block, N]: column bid * (warps / split-K) * cpw + (warp / split-K) *
/// cpw + c, stored by lane 0 of the group's first warp) and its column stores
/// (`sinter.gemv_column`).
inline constexpr llvm::StringLiteral kGemvOwnerAttr = "sinter.gemv_owner";
inline constexpr llvm::StringLiteral kGemvColumnAttr = "sinter.gemv_column";

/// After the templates: a launch right after a one-row GEMV whose threads
/// each read only their own column of it runs at the end of the GEMV's
/// blocks instead of as a launch (ColumnConsumer.cpp); drops the marks.
/// With `remarks`, a launch after such a GEMV that stays gets a remark
/// with the reason.
void mergeColumnConsumers(mlir::func::FuncOp fn, bool remarks);

/// linalg.transpose moving the innermost dimension (both transposed
/// dimensions at least 32): 32 x 32 tiles through shared memory, reads
/// and writes coalesced (Transpose.cpp).
mlir::LogicalResult emitTiledTranspose(mlir::RewriterBase &rw,
                                       mlir::linalg::LinalgOp op,
                                       const KernelOptions &options,
                                       std::string &why);

/// sinter-cuda-form-kernels (FormKernels.cpp).
std::unique_ptr<mlir::Pass> createFormKernelsPass(const KernelOptions &options);
void registerFormKernelsPass();

/// sinter-cuda-pack-kernels (PackKernels.cpp): the transpose kernels the
/// runtime launches to apply the module's weight-pack plans on the GPU.
std::unique_ptr<mlir::Pass> createPackKernelsPass();
void registerPackKernelsPass();
/// The name the runtime looks the transpose kernel up by (CudaBackend.cpp
/// spells the same name).
std::string packTransposeKernelName(int64_t elementBytes);

} // namespace sinter::cuda

#endif // SINTER_LIB_TARGET_CUDA_KERNELS_H
