//===- ContractionMatch.h - bufferized linears for the kernels -*- C++ -*-===//
//
// The GEMV and GEMM templates (Gemv.cpp, Gemm.cpp) take the same bufferized
// contractions: what sinter.linear and sinter.gated_linear lower to
// (lib/Conversion/GraphToLinalg/{LinearAlgebra,GatedLinear}.cpp). After
// bufferization one linear is up to three ops on an accumulator buffer:
//
//   init:        linalg.fill 0.0 -> acc, or a generic broadcasting bias[N]
//                into acc (converted to the accumulator type); for kernels
//                that ask for it (the GEMV), anything else: the contraction
//                then adds onto what the buffer holds (AccInit::Buffer);
//   contraction: linalg.generic, loops (lead..., n, k), the last one a
//                reduction; activation maps (lead..., k), weight (n, k),
//                acc (lead..., n); body `acc + X * W`, where X is formed
//                from the activation element(s) (an extf, or
//                act(gate) * up for a gated linear: the prologue) and W
//                from the weight element;
//   epilogue:    optional identity generic acc -> out converting the f32
//                accumulator to the output type (f16/bf16 models).
//
// matchContraction recognizes that shape and records the pieces; the
// emit* helpers clone the body's scalar ops (never a hard-coded formula),
// so a kernel computes exactly what the loop nest would.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_LIB_TARGET_CUDA_CONTRACTIONMATCH_H
#define SINTER_LIB_TARGET_CUDA_CONTRACTIONMATCH_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"

#include <string>

namespace sinter::cuda {

/// How the accumulator holds its initial value.
enum class AccInit {
  /// linalg.fill with 0.0.
  Zero,
  /// A generic broadcasting `bias` [N] over the leading dims.
  Bias,
  /// No init op recognized right before the contraction (a fill that CSE
  /// and bufferization left elsewhere, a residual copied into the
  /// buffer...): the contraction accumulates onto `acc`'s contents, which
  /// the kernel reads. initOp is null, nothing is erased but the
  /// contraction, and the epilogue is never fused (`output` could share
  /// bytes with `acc`, which the kernel reads).
  Buffer,
};

struct ContractionMatch {
  /// The contraction itself.
  mlir::linalg::GenericOp op;
  /// M: the product of the activation's leading (non-K) dims; N: the
  /// weight's rows; K: the reduction.
  int64_t m = 0, n = 0, k = 0;
  /// The activation operands, each a static memref [lead..., K] with static
  /// strides and innermost stride 1 (see rowStrided): one for a linear
  /// (`x`), two for a gated linear (gate, up, in that order). Same shape
  /// and element type.
  llvm::SmallVector<mlir::Value, 2> activations;
  /// The weight, a static contiguous memref [N, K] (K contiguous).
  mlir::Value weight;
  /// Element types of the activation(s) and of the weight.
  mlir::Type activationType, weightType;
  /// The accumulator's element type (f32 for f16/bf16/f32 models).
  mlir::Type accType;

  /// The initial value of the accumulator.
  AccInit init = AccInit::Zero;
  /// The linalg.fill or the bias generic writing `acc` (runs before `op`);
  /// null for AccInit::Buffer.
  mlir::Operation *initOp = nullptr;
  /// AccInit::Bias: the bias memref [N].
  mlir::Value bias;

  /// The accumulator buffer [lead..., N] of accType (the contraction's
  /// init operand), static identity-layout.
  mlir::Value acc;
  /// The conversion acc -> output, null when the accumulator is the output
  /// (f32 models).
  mlir::linalg::GenericOp epilogue;
  /// Where the result ends up: the epilogue's output buffer, else `acc`.
  /// Static identity-layout memref [lead..., N].
  mlir::Value output;
  mlir::Type outputType;
  /// True when the epilogue may be erased once a kernel writes `output`
  /// directly: the epilogue is the only reader of `acc`, and `acc` has no
  /// use besides initOp, op and the epilogue.
  bool epilogueFusable = false;

  /// True when an activation is not identity-layout (rows apart or an
  /// offset: the subview halves of a fused gate/up projection). The weight,
  /// the bias, `acc` and `output` always are identity-layout.
  bool rowStrided = false;

  bool gated() const { return activations.size() == 2; }

  /// Body values (inside op's region): X (the activation operand in
  /// accType, after the prologue) and W (the weight element in accType).
  mlir::Value bodyOperand, bodyWeight;
};

/// Recognizes a bufferized linear / gated linear (see the file comment).
/// Touches nothing; on failure `why` names the reason. `allowBufferInit`:
/// a contraction without a recognized init op matches as AccInit::Buffer
/// (else it is refused). `candidate`, when given, is set once the op has a
/// linear's loops and indexing maps: a refusal after that point is of a
/// linear, one before it of some other op.
mlir::FailureOr<ContractionMatch>
matchContraction(mlir::linalg::LinalgOp op, std::string &why,
                 bool allowBufferInit = false, bool *candidate = nullptr);

/// Clones the prologue at b's insertion point: `activationElts` hold one
/// element of each activation operand (activationType, in the order of
/// `activations`). Returns X in accType (act(gate) * up for a gated linear).
mlir::Value emitOperandElement(mlir::OpBuilder &b, const ContractionMatch &m,
                               mlir::ValueRange activationElts);

/// W in accType from one weight element (weightType).
mlir::Value emitWeightElement(mlir::OpBuilder &b, const ContractionMatch &m,
                              mlir::Value weightElt);

/// The accumulator's initial value for one output column: 0 for
/// AccInit::Zero (biasElt ignored, may be null), else the init generic's
/// body applied to the bias element. Not for AccInit::Buffer (the kernel
/// loads the element of `acc`).
mlir::Value emitInitElement(mlir::OpBuilder &b, mlir::Location loc,
                            const ContractionMatch &m, mlir::Value biasElt);

/// The output element from the accumulator (accType): the epilogue's body
/// cloned, or accElt itself when there is no epilogue.
mlir::Value emitOutputElement(mlir::OpBuilder &b, const ContractionMatch &m,
                              mlir::Value accElt);

/// After a kernel wrote `output` (when epilogueFusable) or `acc` (else)
/// including the initial value: erases initOp (if any), and the epilogue
/// when `fusedEpilogue`, then op. Through the rewriter.
void eraseContraction(mlir::RewriterBase &rw, const ContractionMatch &m,
                      bool fusedEpilogue);

} // namespace sinter::cuda

#endif // SINTER_LIB_TARGET_CUDA_CONTRACTIONMATCH_H
