//===- GraphOps.td - ops of the sinter graph dialect ---------*- tablegen -*-===//
//
// Each op's verifier checks every invariant a later pass relies on: result
// shapes are recomputed from the operands and attributes and compared (the
// importer computes them with the same functions, see ShapeInference.h).
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_GRAPH_OPS
#define SINTER_GRAPH_OPS

include "sinter/Dialect/Graph/IR/GraphBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

//===----------------------------------------------------------------------===//
// Elementwise binary ops (numpy broadcasting)
//===----------------------------------------------------------------------===//

class Sinter_BinaryOp<string mnemonic, Type operandType, string doc,
                      list<Trait> traits = []>
    : Sinter_Op<mnemonic, !listconcat([Pure, Sinter_Broadcasting], traits)> {
  let summary = "elementwise " # doc # " with broadcasting";
  let description = [{
    Computes the elementwise result of both operands after broadcasting them
    to a common shape (numpy rules: dimensions aligned from the right, size-1
    dimensions stretch). Both operands and the result share an element type.

    Example:
    ```mlir
    %r = sinter.}] # mnemonic # [{ %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins operandType:$lhs, operandType:$rhs);
  let results = (outs operandType:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

def Sinter_AddOp : Sinter_BinaryOp<"add", Sinter_NumericTensor, "addition", [Commutative]>;
def Sinter_SubOp : Sinter_BinaryOp<"sub", Sinter_NumericTensor, "subtraction">;
def Sinter_MulOp : Sinter_BinaryOp<"mul", Sinter_NumericTensor, "multiplication", [Commutative]>;
def Sinter_DivOp : Sinter_BinaryOp<"div", Sinter_NumericTensor,
    "division (integers truncate toward zero)">;
def Sinter_PowOp : Sinter_BinaryOp<"pow", Sinter_NumericTensor, "power">;
def Sinter_MaxOp : Sinter_BinaryOp<"max", Sinter_NumericTensor,
    "maximum (NaN propagates)", [Commutative]>;
def Sinter_MinOp : Sinter_BinaryOp<"min", Sinter_NumericTensor,
    "minimum (NaN propagates)", [Commutative]>;
def Sinter_AndOp : Sinter_BinaryOp<"and", Sinter_BoolTensor, "logical and", [Commutative]>;
def Sinter_OrOp : Sinter_BinaryOp<"or", Sinter_BoolTensor, "logical or", [Commutative]>;
def Sinter_XorOp : Sinter_BinaryOp<"xor", Sinter_BoolTensor, "logical xor", [Commutative]>;

def Sinter_ModOp : Sinter_BinaryOp<"mod", Sinter_NumericTensor,
    "remainder (sign of the divisor unless `fmod`, then of the dividend)"> {
  let arguments = (ins Sinter_NumericTensor:$lhs, Sinter_NumericTensor:$rhs,
                       UnitAttr:$fmod);
}

class Sinter_CompareOp<string mnemonic, string doc, list<Trait> traits = []>
    : Sinter_Op<mnemonic, !listconcat([Pure, Sinter_Broadcasting,
                                        Sinter_CompareResult], traits)> {
  let summary = "elementwise " # doc # " comparison with broadcasting";
  let description = [{
    Compares both operands after broadcasting; the result is an i1 tensor of
    the broadcast shape. Floating point comparisons are ordered (false when
    either side is NaN).

    Example:
    ```mlir
    %r = sinter.}] # mnemonic # [{ %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
    ```
  }];
  let arguments = (ins Sinter_Tensor:$lhs, Sinter_Tensor:$rhs);
  let results = (outs Sinter_BoolTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

def Sinter_EqualOp : Sinter_CompareOp<"equal", "equality", [Commutative]>;
def Sinter_LessOp : Sinter_CompareOp<"less", "less-than">;
def Sinter_LessEqualOp : Sinter_CompareOp<"less_equal", "less-or-equal">;
def Sinter_GreaterOp : Sinter_CompareOp<"greater", "greater-than">;
def Sinter_GreaterEqualOp : Sinter_CompareOp<"greater_equal", "greater-or-equal">;

def Sinter_WhereOp : Sinter_Op<"where", [Pure, Sinter_Broadcasting]> {
  let summary = "elementwise select with broadcasting";
  let description = [{
    `result = cond ? lhs : rhs`, all three broadcast to the result shape.

    Example:
    ```mlir
    %r = sinter.where %c, %a, %b : (tensor<4xi1>, tensor<4xf32>, tensor<1xf32>) -> tensor<4xf32>
    ```
  }];
  let arguments = (ins Sinter_BoolTensor:$cond, Sinter_Tensor:$lhs,
                       Sinter_Tensor:$rhs);
  let results = (outs Sinter_Tensor:$result);
  let assemblyFormat = "$cond `,` $lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Elementwise unary ops
//===----------------------------------------------------------------------===//

class Sinter_UnaryOp<string mnemonic, Type type, string doc,
                     list<Trait> traits = []>
    : Sinter_Op<mnemonic, !listconcat([Pure, SameOperandsAndResultType],
                                      traits)> {
  let summary = "elementwise " # doc;
  let description = [{
    Applies }] # doc # [{ to every element; the result has the operand's type.

    Example:
    ```mlir
    %r = sinter.}] # mnemonic # [{ %x : tensor<2x3xf32>
    ```
  }];
  let arguments = (ins type:$input);
  let results = (outs type:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Sinter_NegOp : Sinter_UnaryOp<"neg", Sinter_NumericTensor, "negation">;
def Sinter_AbsOp : Sinter_UnaryOp<"abs", Sinter_NumericTensor, "absolute value">;
def Sinter_SignOp : Sinter_UnaryOp<"sign", Sinter_NumericTensor, "sign (-1, 0 or 1)">;
def Sinter_ReluOp : Sinter_UnaryOp<"relu", Sinter_NumericTensor, "max(x, 0)">;
def Sinter_NotOp : Sinter_UnaryOp<"not", Sinter_BoolTensor, "logical not">;
def Sinter_ExpOp : Sinter_UnaryOp<"exp", Sinter_FloatTensor, "exp(x)">;
def Sinter_LogOp : Sinter_UnaryOp<"log", Sinter_FloatTensor, "natural logarithm">;
def Sinter_SqrtOp : Sinter_UnaryOp<"sqrt", Sinter_FloatTensor, "square root">;
def Sinter_RsqrtOp : Sinter_UnaryOp<"rsqrt", Sinter_FloatTensor, "1 / sqrt(x)">;
def Sinter_ReciprocalOp : Sinter_UnaryOp<"reciprocal", Sinter_FloatTensor, "1 / x">;
def Sinter_SigmoidOp : Sinter_UnaryOp<"sigmoid", Sinter_FloatTensor, "1 / (1 + exp(-x))">;
def Sinter_SiluOp : Sinter_UnaryOp<"silu", Sinter_FloatTensor, "x * sigmoid(x)">;
def Sinter_TanhOp : Sinter_UnaryOp<"tanh", Sinter_FloatTensor, "hyperbolic tangent">;
def Sinter_ErfOp : Sinter_UnaryOp<"erf", Sinter_FloatTensor, "the error function">;
def Sinter_SoftplusOp : Sinter_UnaryOp<"softplus", Sinter_FloatTensor, "log(1 + exp(x))">;
def Sinter_SoftsignOp : Sinter_UnaryOp<"softsign", Sinter_FloatTensor, "x / (1 + |x|)">;
def Sinter_SinOp : Sinter_UnaryOp<"sin", Sinter_FloatTensor, "sine">;
def Sinter_CosOp : Sinter_UnaryOp<"cos", Sinter_FloatTensor, "cosine">;
def Sinter_TanOp : Sinter_UnaryOp<"tan", Sinter_FloatTensor, "tangent">;
def Sinter_AsinOp : Sinter_UnaryOp<"asin", Sinter_FloatTensor, "arcsine">;
def Sinter_AcosOp : Sinter_UnaryOp<"acos", Sinter_FloatTensor, "arccosine">;
def Sinter_AtanOp : Sinter_UnaryOp<"atan", Sinter_FloatTensor, "arctangent">;
def Sinter_SinhOp : Sinter_UnaryOp<"sinh", Sinter_FloatTensor, "hyperbolic sine">;
def Sinter_CoshOp : Sinter_UnaryOp<"cosh", Sinter_FloatTensor, "hyperbolic cosine">;
def Sinter_AsinhOp : Sinter_UnaryOp<"asinh", Sinter_FloatTensor, "inverse hyperbolic sine">;
def Sinter_AcoshOp : Sinter_UnaryOp<"acosh", Sinter_FloatTensor, "inverse hyperbolic cosine">;
def Sinter_AtanhOp : Sinter_UnaryOp<"atanh", Sinter_FloatTensor, "inverse hyperbolic tangent">;
def Sinter_FloorOp : Sinter_UnaryOp<"floor", Sinter_FloatTensor, "round toward -inf">;
def Sinter_CeilOp : Sinter_UnaryOp<"ceil", Sinter_FloatTensor, "round toward +inf">;
def Sinter_RoundOp : Sinter_UnaryOp<"round", Sinter_FloatTensor,
    "round half to even">;

def Sinter_GeluOp : Sinter_UnaryOp<"gelu", Sinter_FloatTensor,
    "x * Phi(x) (erf form, or the tanh approximation when `tanh_approximation`)"> {
  let arguments = (ins Sinter_FloatTensor:$input, UnitAttr:$tanh_approximation);
}

class Sinter_AlphaUnaryOp<string mnemonic, string doc, string alphaDefault>
    : Sinter_UnaryOp<mnemonic, Sinter_FloatTensor, doc> {
  let arguments = (ins Sinter_FloatTensor:$input,
                       DefaultValuedAttr<F32Attr, alphaDefault>:$alpha);
}
def Sinter_LeakyReluOp : Sinter_AlphaUnaryOp<"leaky_relu",
    "x >= 0 ? x : alpha * x", "0.01">;
def Sinter_EluOp : Sinter_AlphaUnaryOp<"elu",
    "x >= 0 ? x : alpha * (exp(x) - 1)", "1.0">;
def Sinter_CeluOp : Sinter_AlphaUnaryOp<"celu",
    "max(0, x) + min(0, alpha * (exp(x / alpha) - 1))", "1.0">;
def Sinter_ThresholdedReluOp : Sinter_AlphaUnaryOp<"thresholded_relu",
    "x > alpha ? x : 0", "1.0">;

def Sinter_SeluOp : Sinter_UnaryOp<"selu", Sinter_FloatTensor,
    "gamma * (x > 0 ? x : alpha * (exp(x) - 1))"> {
  let arguments = (ins Sinter_FloatTensor:$input, F32Attr:$alpha, F32Attr:$gamma);
}
def Sinter_HardSigmoidOp : Sinter_UnaryOp<"hard_sigmoid", Sinter_FloatTensor,
    "max(0, min(1, alpha * x + beta))"> {
  let arguments = (ins Sinter_FloatTensor:$input, F32Attr:$alpha, F32Attr:$beta);
}

class Sinter_ClassifyOp<string mnemonic, string doc>
    : Sinter_Op<mnemonic, [Pure, SameOperandsAndResultShape]> {
  let summary = doc;
  let description = [{
    Tests every element; the result is an i1 tensor of the operand's shape.

    Example:
    ```mlir
    %r = sinter.}] # mnemonic # [{ %x : (tensor<4xf32>) -> tensor<4xi1>
    ```
  }];
  let results = (outs Sinter_BoolTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}
def Sinter_IsNanOp : Sinter_ClassifyOp<"isnan", "elementwise NaN test"> {
  let arguments = (ins Sinter_FloatTensor:$input);
}
def Sinter_IsInfOp : Sinter_ClassifyOp<"isinf", "elementwise infinity test"> {
  let arguments = (ins Sinter_FloatTensor:$input,
                       DefaultValuedAttr<BoolAttr, "true">:$detect_positive,
                       DefaultValuedAttr<BoolAttr, "true">:$detect_negative);
}

def Sinter_CastOp : Sinter_Op<"cast", [Pure, SameOperandsAndResultShape]> {
  let summary = "elementwise conversion to another element type";
  let description = [{
    Converts each element to the result element type: float to integer
    truncates toward zero, to i1 tests `!= 0`, from i1 gives 0 or 1, float to
    narrower float rounds to nearest even.

    Example:
    ```mlir
    %r = sinter.cast %x : (tensor<4xf32>) -> tensor<4xbf16>
    ```
  }];
  let arguments = (ins Sinter_Tensor:$input);
  let results = (outs Sinter_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Sinter_ClipOp : Sinter_Op<"clip", [Pure, AttrSizedOperandSegments]> {
  let summary = "elementwise clamp to optional scalar bounds";
  let description = [{
    `min(max(x, min), max)` with each bound an optional rank-0 tensor of the
    input's element type.

    Example:
    ```mlir
    %r = sinter.clip %x min %lo max %hi : (tensor<4xf32>, tensor<f32>, tensor<f32>) -> tensor<4xf32>
    ```
  }];
  let arguments = (ins Sinter_NumericTensor:$input,
                       Optional<Sinter_NumericTensor>:$min,
                       Optional<Sinter_NumericTensor>:$max);
  let results = (outs Sinter_NumericTensor:$result);
  let assemblyFormat = [{
    $input (`min` $min^)? (`max` $max^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Reductions and normalizations
//===----------------------------------------------------------------------===//

class Sinter_ReduceOp<string mnemonic, string doc, Type type = Sinter_NumericTensor>
    : Sinter_Op<mnemonic, [Pure]> {
  let summary = "reduction: " # doc;
  let description = [{
    Reduces the input over `axes` (sorted, unique, non-negative; never empty:
    the importer spells "all axes" out). With `keepdims` the reduced
    dimensions stay with size 1.

    Example:
    ```mlir
    %r = sinter.}] # mnemonic # [{ %x {axes = array<i64: 1>, keepdims} : (tensor<2x3xf32>) -> tensor<2x1xf32>
    ```
  }];
  let arguments = (ins type:$input, DenseI64ArrayAttr:$axes, UnitAttr:$keepdims);
  let results = (outs type:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Sinter_ReduceSumOp : Sinter_ReduceOp<"reduce_sum", "sum">;
def Sinter_ReduceMeanOp : Sinter_ReduceOp<"reduce_mean", "arithmetic mean">;
def Sinter_ReduceMaxOp : Sinter_ReduceOp<"reduce_max", "maximum">;
def Sinter_ReduceMinOp : Sinter_ReduceOp<"reduce_min", "minimum">;
def Sinter_ReduceProdOp : Sinter_ReduceOp<"reduce_prod", "product">;
def Sinter_ReduceL1Op : Sinter_ReduceOp<"reduce_l1", "sum of absolute values">;
def Sinter_ReduceL2Op : Sinter_ReduceOp<"reduce_l2", "sqrt of the sum of squares",
    Sinter_FloatTensor>;
def Sinter_ReduceSumSquareOp : Sinter_ReduceOp<"reduce_sum_square", "sum of squares">;
def Sinter_ReduceLogSumOp : Sinter_ReduceOp<"reduce_log_sum", "log of the sum",
    Sinter_FloatTensor>;
def Sinter_ReduceLogSumExpOp : Sinter_ReduceOp<"reduce_log_sum_exp",
    "log of the sum of exponentials (computed stably)", Sinter_FloatTensor>;

class Sinter_ArgReduceOp<string mnemonic, string doc> : Sinter_Op<mnemonic, [Pure]> {
  let summary = "index of the " # doc # " along an axis";
  let description = [{
    Returns i64 indices of the }] # doc # [{ along `axis`; ties give the first
    index, or the last with `select_last_index`.

    Example:
    ```mlir
    %r = sinter.}] # mnemonic # [{ %x {axis = 1 : i64} : (tensor<2x3xf32>) -> tensor<2xi64>
    ```
  }];
  let arguments = (ins Sinter_NumericTensor:$input, Sinter_I64Attr:$axis,
                       UnitAttr:$keepdims, UnitAttr:$select_last_index);
  let results = (outs StaticShapeTensorOf<[I64]>:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}
def Sinter_ArgMaxOp : Sinter_ArgReduceOp<"argmax", "maximum">;
def Sinter_ArgMinOp : Sinter_ArgReduceOp<"argmin", "minimum">;

class Sinter_SoftmaxLikeOp<string mnemonic, string doc>
    : Sinter_Op<mnemonic, [Pure, SameOperandsAndResultType]> {
  let summary = doc # " along one axis";
  let description = [{
    Normalizes along `axis` (non-negative); computed as exp(x - max) / sum so
    that large inputs do not overflow.

    Example:
    ```mlir
    %r = sinter.}] # mnemonic # [{ %x {axis = 1 : i64} : tensor<2x8xf32>
    ```
  }];
  let arguments = (ins Sinter_FloatTensor:$input, Sinter_I64Attr:$axis);
  let results = (outs Sinter_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}
def Sinter_SoftmaxOp : Sinter_SoftmaxLikeOp<"softmax", "softmax">;
def Sinter_LogSoftmaxOp : Sinter_SoftmaxLikeOp<"log_softmax", "log of softmax">;

def Sinter_RmsNormOp : Sinter_Op<"rms_norm", [Pure]> {
  let summary = "RMS normalization over the trailing axes";
  let description = [{
    `y = x / sqrt(mean(x^2 over dims [axis, rank)) + epsilon) * scale`,
    computed in f32 whatever the input type. `scale` broadcasts to the
    normalized (trailing) shape. Gemma-style `(1 + w)` scales are a `sinter.add`
    on the scale operand, not a separate op.

    Example:
    ```mlir
    %y = sinter.rms_norm %x, %w {axis = 2 : i64, epsilon = 1.0e-06 : f32} : (tensor<1x4x64xf32>, tensor<64xf32>) -> tensor<1x4x64xf32>
    ```
  }];
  let arguments = (ins Sinter_FloatTensor:$input, Sinter_FloatTensor:$scale,
                       Sinter_I64Attr:$axis, F32Attr:$epsilon);
  let results = (outs Sinter_FloatTensor:$result);
  let assemblyFormat = "$input `,` $scale attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Sinter_LayerNormOp : Sinter_Op<"layer_norm", [Pure]> {
  let summary = "layer normalization over the trailing axes";
  let description = [{
    `y = (x - mean) * inv_std_dev * scale + bias` with mean and variance over
    dims [axis, rank), computed in f32. `mean` and `inv_std_dev` are also
    results (shape of the input with the normalized dims set to 1, f32).

    Example:
    ```mlir
    %y, %m, %r = sinter.layer_norm %x, %w bias %b {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<2x8xf32>, tensor<2x1xf32>, tensor<2x1xf32>)
    ```
  }];
  let arguments = (ins Sinter_FloatTensor:$input, Sinter_FloatTensor:$scale,
                       Optional<Sinter_FloatTensor>:$bias, Sinter_I64Attr:$axis,
                       F32Attr:$epsilon);
  let results = (outs Sinter_FloatTensor:$result, Sinter_FloatTensor:$mean,
                      Sinter_FloatTensor:$inv_std_dev);
  let assemblyFormat = [{
    $input `,` $scale (`bias` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Sinter_CumSumOp : Sinter_Op<"cumsum", [Pure, SameOperandsAndResultType]> {
  let summary = "cumulative sum along an axis";
  let description = [{
    Running sum along `axis`; `exclusive` leaves out the current element,
    `reverse` runs from the end.

    Example:
    ```mlir
    %r = sinter.cumsum %x {axis = 0 : i64} : tensor<5xf32>
    ```
  }];
  let arguments = (ins Sinter_NumericTensor:$input, Sinter_I64Attr:$axis,
                       UnitAttr:$exclusive, UnitAttr:$reverse);
  let results = (outs Sinter_NumericTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Sinter_TopKOp : Sinter_Op<"topk", [Pure]> {
  let summary = "the k largest (or smallest) elements along an axis";
  let description = [{
    Returns values and i64 indices of the `k` largest elements along `axis`
    (smallest without `largest`), sorted in that order; equal values keep
    the lower index first.

    Example:
    ```mlir
    %v, %i = sinter.topk %x {axis = 1 : i64, k = 2 : i64, largest} : (tensor<1x8xf32>) -> (tensor<1x2xf32>, tensor<1x2xi64>)
    ```
  }];
  let arguments = (ins Sinter_NumericTensor:$input, Sinter_I64Attr:$k, Sinter_I64Attr:$axis,
                       UnitAttr:$largest);
  let results = (outs Sinter_NumericTensor:$values,
                      StaticShapeTensorOf<[I64]>:$indices);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Sinter_MoeRouterOp : Sinter_Op<"moe_router", [Pure]> {
  let summary = "mixture-of-experts router: top-k experts and their weights";
  let description = [{
    Per row of `logits` (the last axis, one logit per expert): the indices
    of the `k` largest logits, largest first, equal logits in index order
    (ONNX TopK with largest = 1; NaN counts as the largest), and `weights`,
    the softmax over those k logits, which equals the softmax over the row
    renormalised over the k picked. Computed in f32 whatever the input
    type. Raised from TopK + Softmax by `sinter-raise-moe-router`; rows of
    at most 1024 with k <= 16 (the verifier's limits, the CUDA template's).

    Example:
    ```mlir
    %w, %i = sinter.moe_router %logits {k = 8 : i64} : (tensor<1x1x256xbf16>) -> (tensor<1x1x8xf32>, tensor<1x1x8xi64>)
    ```
  }];
  let arguments = (ins Sinter_FloatTensor:$logits, Sinter_I64Attr:$k);
  let results = (outs Sinter_FloatTensor:$weights,
                      StaticShapeTensorOf<[I64]>:$indices);
  let assemblyFormat = "$logits attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    static constexpr int64_t kMaxK = 16;
    static constexpr int64_t kMaxExperts = 1024;
  }];
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

def Sinter_MatMulOp : Sinter_Op<"matmul", [Pure]> {
  let summary = "batched matrix product with numpy broadcasting";
  let description = [{
    numpy.matmul: the last two dims multiply, leading (batch) dims broadcast;
    a 1-D lhs is a row vector and a 1-D rhs a column vector, their unit
    dimension dropped from the result. Integer products accumulate in the
    result type.

    Example:
    ```mlir
    %r = sinter.matmul %a, %b : (tensor<4x1x8x16xf32>, tensor<3x16x2xf32>) -> tensor<4x3x8x2xf32>
    ```
  }];
  let arguments = (ins Sinter_NumericTensor:$lhs, Sinter_NumericTensor:$rhs);
  let results = (outs Sinter_NumericTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Sinter_LinearOp : Sinter_Op<"linear", [Pure]> {
  let summary = "activation times transposed weight plus optional bias";
  let description = [{
    `y[..., n] = sum_k x[..., k] * weight[n, k] + bias[n]`: the weight is
    [out_features, in_features] as in torch.nn.Linear, so that linears that
    share an input concatenate their weights along dim 0. This is the op the
    fusion passes work on.

    Example:
    ```mlir
    %y = sinter.linear %x, %w bias %b : (tensor<1x4x64xf32>, tensor<128x64xf32>, tensor<128xf32>) -> tensor<1x4x128xf32>
    ```
  }];
  let arguments = (ins Sinter_FloatTensor:$input, Sinter_FloatTensor:$weight,
                       Optional<Sinter_FloatTensor>:$bias);
  let results = (outs Sinter_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`bias` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Sinter_GatedLinearOp : Sinter_Op<"gated_linear", [Pure]> {
  let summary = "linear of act(gate) * up, the product formed as it is loaded";
  let description = [{
    `y[..., n] = sum_k act(gate[..., k]) * up[..., k] * weight[n, k] + bias[n]`
    with `act` one of silu, gelu (erf form), gelu_tanh (tanh approximation)
    and relu. The SwiGLU/GeGLU MLP's down projection, formed by
    `sinter-fuse-gated-activation`: the lowering computes `act(gate) * up`
    inside the contraction (a prologue of the operand load), so no tensor of
    the gated product exists. `gate` and `up` have one type [..., I]; the
    weight is [N, I] as for `sinter.linear`; the optional bias is [N].
    f16/bf16 compute in f32 throughout and round once.

    With `operand_type` (which must be the weight's element type) the
    gated product, computed in the gate's compute type (f32 for f16/bf16
    gate and up), is rounded to `operand_type` as it is loaded, before the
    multiply with the weight: what a graph does that casts the product to
    the weight's type before the down projection (a bf16 model whose
    activation runs in f32). Gate and up may then have another element
    type than the weight; without it they have the weight's.

    Example:
    ```mlir
    %y = sinter.gated_linear %g, %u, %w {activation = #sinter<gated_activation silu>} : (tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<64x16xf32>) -> tensor<1x4x64xf32>
    %z = sinter.gated_linear %g, %u, %wb {activation = #sinter<gated_activation silu>, operand_type = bf16} : (tensor<1x4x16xf32>, tensor<1x4x16xf32>, tensor<64x16xbf16>) -> tensor<1x4x64xbf16>
    ```
  }];
  let arguments = (ins Sinter_FloatTensor:$gate, Sinter_FloatTensor:$up,
                       Sinter_FloatTensor:$weight,
                       Optional<Sinter_FloatTensor>:$bias,
                       Sinter_GatedActivationAttr:$activation,
                       OptionalAttr<TypeAttrOf<AnyFloat>>:$operand_type);
  let results = (outs Sinter_FloatTensor:$result);
  let assemblyFormat = [{
    $gate `,` $up `,` $weight (`bias` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Sinter_ExpertLinearOp : Sinter_Op<"expert_linear", [Pure]> {
  let summary = "linear over the expert weight that an index selects, per token and slot";
  let description = [{
    `y[t, j, n] = sum_k x[t, (j,) k] * weight[indices[t, j], n, k]
    + bias[indices[t, j], n]`: the mixture-of-experts projection. The weight
    holds E expert matrices [E, N, K], each laid out like `sinter.linear`'s
    [out, in]; `indices` [T, J] names the expert of token t's j-th slot
    (negative indices count from E, as in Gather). The input is [T, K] (one
    row per token, shared by its J slots: the up projection) or [T, J, K]
    (one row per slot: the down projection); the result is [T, J, N].
    With `weight_kn` the weight is [E, K, N] instead (each expert [in, out],
    the export's own layout): external-data weights stay as the file holds
    them, with no per-expert transpose when they are loaded.
    Formed by `sinter-form-expert-linears` from `matmul(x, gather(W, idx))`,
    so that the J selected expert matrices are read where they lie instead
    of being copied into a gathered tensor first. f16/bf16 accumulate in
    f32 and round once.

    Example:
    ```mlir
    %y = sinter.expert_linear %x, %w, %idx : (tensor<4x64xf32>, tensor<8x32x64xf32>, tensor<4x2xi64>) -> tensor<4x2x32xf32>
    ```
  }];
  let arguments = (ins Sinter_FloatTensor:$input, Sinter_FloatTensor:$weight,
                       Sinter_IndexTensor:$indices,
                       Optional<Sinter_FloatTensor>:$bias,
                       UnitAttr:$weight_kn);
  let results = (outs Sinter_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $indices (`bias` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Sinter_ConvOp : Sinter_Op<"conv", [Pure]> {
  let summary = "grouped N-D convolution (1-D to 3-D), channels first";
  let description = [{
    ONNX Conv semantics with explicit padding: input [N, C, D...], weight
    [M, C / group, K...], optional bias [M]; `pads` holds the low pads of
    every spatial dim then the high pads. Depthwise conv is `group == C`.

    Example:
    ```mlir
    %y = sinter.conv %x, %w {dilations = array<i64: 1>, group = 8 : i64, pads = array<i64: 3, 0>, strides = array<i64: 1>} : (tensor<1x8x16xf32>, tensor<8x1x4xf32>) -> tensor<1x8x16xf32>
    ```
  }];
  let arguments = (ins Sinter_FloatTensor:$input, Sinter_FloatTensor:$weight,
                       Optional<Sinter_FloatTensor>:$bias,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations, Sinter_I64Attr:$group);
  let results = (outs Sinter_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`bias` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

def Sinter_TransposeOp : Sinter_Op<"transpose", [Pure]> {
  let summary = "permutes dimensions";
  let description = [{
    `result.shape[i] = input.shape[perm[i]]`. Not `linalg.transpose`: that op
    needs a destination tensor, which graph rewrites should not carry.

    Example:
    ```mlir
    %r = sinter.transpose %x {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
    ```
  }];
  let arguments = (ins Sinter_Tensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs Sinter_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Sinter_ExpandOp : Sinter_Op<"expand", [Pure]> {
  let summary = "broadcasts to a larger shape";
  let description = [{
    Broadcasts the input (numpy rules) to the result shape, which must be the
    broadcast of the input shape with itself.

    Example:
    ```mlir
    %r = sinter.expand %x : (tensor<3x1xf32>) -> tensor<2x3x4xf32>
    ```
  }];
  let arguments = (ins Sinter_Tensor:$input);
  let results = (outs Sinter_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Sinter_ReverseOp : Sinter_Op<"reverse", [Pure, SameOperandsAndResultType]> {
  let summary = "reverses the order of elements along axes";
  let description = [{
    Used with `tensor.extract_slice` to express slices with negative steps.

    Example:
    ```mlir
    %r = sinter.reverse %x {axes = array<i64: 0>} : tensor<4x2xf32>
    ```
  }];
  let arguments = (ins Sinter_Tensor:$input, DenseI64ArrayAttr:$axes);
  let results = (outs Sinter_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Sinter_SplitOp : Sinter_Op<"split", [Pure]> {
  let summary = "splits a tensor into consecutive pieces along an axis";
  let description = [{
    Result i is the slice of `sizes[i]` elements along `axis` that follows
    result i-1; the sizes add up to the dimension. Fusion passes emit it to
    split a fused linear's output back into its parts.

    Example:
    ```mlir
    %a, %b = sinter.split %x {axis = 1 : i64, sizes = array<i64: 2, 6>} : (tensor<4x8xf32>) -> (tensor<4x2xf32>, tensor<4x6xf32>)
    ```
  }];
  let arguments = (ins Sinter_Tensor:$input, Sinter_I64Attr:$axis,
                       DenseI64ArrayAttr:$sizes);
  let results = (outs Variadic<Sinter_Tensor>:$results);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Sinter_PackWeightsOp : Sinter_Op<"pack_weights", [Pure]> {
  let summary = "a weight-pack plan: constants laid out into one weight";
  let description = [{
    The result is the concatenation along `axis` of the sources, source i
    first transposed (2-D, dims swapped) when `transpose[i]` is set; it
    starts at `offsets[i]` along `axis`. Every source must be a constant:
    the op is a plan applied to the weights once, when they are loaded,
    not a computation of the forward. Fusion passes emit it for weights
    whose data the compiler must not read (external-data initializers,
    `DenseResourceElementsAttr`); inline constants are folded at compile
    time instead. Layout changes a kernel wants (a transpose) use it too,
    with one source. See "Weight-pack plan" in docs/architecture.md.

    Example:
    ```mlir
    %w = sinter.pack_weights %q, %k {axis = 0 : i64, offsets = array<i64: 0, 8>, transpose = array<i1: false, true>} : (tensor<8x4xf32>, tensor<4x2xf32>) -> tensor<10x4xf32>
    ```
  }];
  let arguments = (ins Variadic<Sinter_Tensor>:$sources, Sinter_I64Attr:$axis,
                       DenseI64ArrayAttr:$offsets, DenseBoolArrayAttr:$transpose);
  let results = (outs Sinter_Tensor:$result);
  let assemblyFormat = "$sources attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Sinter_PadOp : Sinter_Op<"pad", [Pure]> {
  let summary = "pads (or crops, with negative pads) every dimension";
  let description = [{
    `pads` has 2 * rank entries: the low pads of every dim, then the high
    pads. `mode` is constant (filled with the rank-0 `value`), reflect, edge
    or wrap. Not `tensor.pad`, which has only the constant mode and no crop.

    Example:
    ```mlir
    %r = sinter.pad %x, %v {mode = #sinter<pad_mode constant>, pads = array<i64: 1, 0, 1, 0>} : (tensor<2x2xf32>, tensor<f32>) -> tensor<4x2xf32>
    ```
  }];
  let arguments = (ins Sinter_Tensor:$input, Sinter_Tensor:$value,
                       DenseI64ArrayAttr:$pads, Sinter_PadModeAttr:$mode);
  let results = (outs Sinter_Tensor:$result);
  let assemblyFormat = "$input `,` $value attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Sinter_TriluOp : Sinter_Op<"trilu", [Pure, SameOperandsAndResultType]> {
  let summary = "keeps the upper or lower triangle of the last two dims";
  let description = [{
    Zeroes the elements below (with `upper`) or above the `k`-th diagonal of
    each trailing matrix.

    Example:
    ```mlir
    %r = sinter.trilu %x {k = 0 : i64, upper} : tensor<4x4xf32>
    ```
  }];
  let arguments = (ins Sinter_Tensor:$input, Sinter_I64Attr:$k, UnitAttr:$upper);
  let results = (outs Sinter_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Sinter_GatherOp : Sinter_Op<"gather", [Pure]> {
  let summary = "takes slices of data at indices along an axis";
  let description = [{
    `result = data.shape[:axis] + indices.shape + data.shape[axis+1:]`;
    negative indices count from the end. Embedding lookup and the gathering
    of expert weights are this op.

    Example:
    ```mlir
    %r = sinter.gather %table, %ids {axis = 0 : i64} : (tensor<256x64xf32>, tensor<1x4xi64>) -> tensor<1x4x64xf32>
    ```
  }];
  let arguments = (ins Sinter_Tensor:$data, Sinter_IndexTensor:$indices,
                       Sinter_I64Attr:$axis);
  let results = (outs Sinter_Tensor:$result);
  let assemblyFormat = "$data `,` $indices attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Sinter_GatherElementsOp : Sinter_Op<"gather_elements", [Pure]> {
  let summary = "takes one element of data per index along an axis";
  let description = [{
    `result[i][j] = data[indices[i][j]][j]` (axis 0); the result has the
    shape of `indices`.

    Example:
    ```mlir
    %r = sinter.gather_elements %d, %i {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x2xi64>) -> tensor<2x2xf32>
    ```
  }];
  let arguments = (ins Sinter_Tensor:$data, Sinter_IndexTensor:$indices,
                       Sinter_I64Attr:$axis);
  let results = (outs Sinter_Tensor:$result);
  let assemblyFormat = "$data `,` $indices attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Sinter_GatherNDOp : Sinter_Op<"gather_nd", [Pure]> {
  let summary = "takes slices of data addressed by index tuples";
  let description = [{
    ONNX GatherND: the last dim of `indices` holds tuples into the dims of
    `data` after the first `batch_dims`.

    Example:
    ```mlir
    %r = sinter.gather_nd %d, %i {batch_dims = 0 : i64} : (tensor<2x2xf32>, tensor<2x2xi64>) -> tensor<2xf32>
    ```
  }];
  let arguments = (ins Sinter_Tensor:$data, StaticShapeTensorOf<[I64]>:$indices,
                       Sinter_I64Attr:$batch_dims);
  let results = (outs Sinter_Tensor:$result);
  let assemblyFormat = "$data `,` $indices attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Sinter_ScatterElementsOp : Sinter_Op<"scatter_elements", [Pure]> {
  let summary = "writes updates into a copy of data at per-element indices";
  let description = [{
    `result[indices[i][j]][j] = updates[i][j]` (axis 0), combined by
    `reduction`; indices and updates share a shape.

    Example:
    ```mlir
    %r = sinter.scatter_elements %d, %i, %u {axis = 0 : i64, reduction = #sinter<reduction none>} : (tensor<3x3xf32>, tensor<2x3xi64>, tensor<2x3xf32>) -> tensor<3x3xf32>
    ```
  }];
  let arguments = (ins Sinter_Tensor:$data, Sinter_IndexTensor:$indices,
                       Sinter_Tensor:$updates, Sinter_I64Attr:$axis,
                       Sinter_ScatterReductionAttr:$reduction);
  let results = (outs Sinter_Tensor:$result);
  let assemblyFormat = "$data `,` $indices `,` $updates attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Sinter_ScatterNDOp : Sinter_Op<"scatter_nd", [Pure]> {
  let summary = "writes slices into a copy of data at index tuples";
  let description = [{
    ONNX ScatterND: `updates.shape == indices.shape[:-1] +
    data.shape[indices.shape[-1]:]`. KV-cache writes in exported decoders are
    this op.

    Example:
    ```mlir
    %r = sinter.scatter_nd %d, %i, %u {reduction = #sinter<reduction none>} : (tensor<4x4xf32>, tensor<1x1xi64>, tensor<1x4xf32>) -> tensor<4x4xf32>
    ```
  }];
  let arguments = (ins Sinter_Tensor:$data, StaticShapeTensorOf<[I64]>:$indices,
                       Sinter_Tensor:$updates,
                       Sinter_ScatterReductionAttr:$reduction);
  let results = (outs Sinter_Tensor:$result);
  let assemblyFormat = "$data `,` $indices `,` $updates attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// LLM operators (ONNX opsets 23-27)
//===----------------------------------------------------------------------===//

def Sinter_AttentionOp : Sinter_Op<"attention", [Pure, AttrSizedOperandSegments]> {
  let summary = "scaled dot-product attention with GQA and a KV cache";
  let description = [{
    ONNX Attention (opset 23). Q, K, V are 4-D [B, heads, S, head_dim] (the
    importer unpacks the 3-D form); `q_num_heads` must be a multiple of the
    KV heads (grouped-query attention). `past_key`/`past_value` are
    concatenated in front of K/V along the sequence and returned as
    `present_key`/`present_value`. Query head h reads KV head
    h / (q_heads / kv_heads). `mask` is bool (true = attend) or additive
    float, broadcast to [B, q_heads, S_q, S_kv] (S_kv includes the past).
    With `is_causal`, query i attends to keys j <= i + P, where P is the
    length of `past_key` (0 without a past), as ONNX's reference does. The
    scores are `scale * q k^T` (`scale` is explicit; ONNX's default
    1/sqrt(head_dim) is filled in by the importer), then `softcap > 0` applies
    `softcap * tanh(s / softcap)`, then the mask and causal bias are added and
    the softmax taken. A query row whose keys are all masked out yields zeros,
    not NaN (ONNX's fully-masked-row rule).

    Example:
    ```mlir
    %y, %pk, %pv = sinter.attention %q, %k, %v past %pk0, %pv0 {is_causal, scale = 2.5e-01 : f32, softcap = 0.0 : f32} : (tensor<1x4x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x7x16xf32>, tensor<1x2x7x16xf32>) -> (tensor<1x4x1x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>)
    ```
  }];
  let arguments = (ins Sinter_FloatTensor:$query, Sinter_FloatTensor:$key,
                       Sinter_FloatTensor:$value,
                       Optional<Sinter_Tensor>:$mask,
                       Optional<Sinter_FloatTensor>:$past_key,
                       Optional<Sinter_FloatTensor>:$past_value,
                       UnitAttr:$is_causal, F32Attr:$scale, F32Attr:$softcap);
  let results = (outs Sinter_FloatTensor:$result,
                      Sinter_FloatTensor:$present_key,
                      Sinter_FloatTensor:$present_value);
  let assemblyFormat = [{
    $query `,` $key `,` $value (`mask` $mask^)? (`past` $past_key^ `,` $past_value)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Sinter_RotaryEmbeddingOp : Sinter_Op<"rotary_embedding", [Pure]> {
  let summary = "rotary position embedding on the first rotary_dim features";
  let description = [{
    ONNX RotaryEmbedding (opset 23) on a 4-D [B, heads, S, head_dim] input
    (the importer converts the 3-D form). The first `rotary_dim` features
    rotate, the rest pass through. Without `position_ids` the caches are
    [B, S, rotary_dim / 2]; with them, [max_pos, rotary_dim / 2] rows
    gathered at position_ids [B, S]. `interleaved` pairs features (2i, 2i+1)
    instead of (i, i + rotary_dim / 2).

    Example:
    ```mlir
    %r = sinter.rotary_embedding %x, %cos, %sin positions %p {rotary_dim = 8 : i64} : (tensor<1x2x4x16xf32>, tensor<64x4xf32>, tensor<64x4xf32>, tensor<1x4xi64>) -> tensor<1x2x4x16xf32>
    ```
  }];
  let arguments = (ins Sinter_FloatTensor:$input, Sinter_FloatTensor:$cos_cache,
                       Sinter_FloatTensor:$sin_cache,
                       Optional<StaticShapeTensorOf<[I64]>>:$position_ids,
                       Sinter_I64Attr:$rotary_dim, UnitAttr:$interleaved);
  let results = (outs Sinter_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $cos_cache `,` $sin_cache (`positions` $position_ids^)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Sinter_TensorScatterOp : Sinter_Op<"tensor_scatter", [Pure]> {
  let summary = "writes new sequence entries into a cache at per-batch offsets";
  let description = [{
    ONNX TensorScatter (opset 24): `update` [B, ..., S_new, ...] is written
    into a copy of `cache` [B, ..., S_max, ...] along `axis`, starting at
    `write_indices[b]` for batch b (0 when absent); with circular mode the
    positions wrap modulo S_max. Lowered to an in-place update when the cache
    is model state.

    Example:
    ```mlir
    %r = sinter.tensor_scatter %cache, %upd, %pos {axis = 2 : i64, mode = #sinter<cache_mode linear>} : (tensor<1x2x16x8xf32>, tensor<1x2x1x8xf32>, tensor<1xi64>) -> tensor<1x2x16x8xf32>
    ```
  }];
  let arguments = (ins Sinter_Tensor:$cache, Sinter_Tensor:$update,
                       Optional<StaticShapeTensorOf<[I64]>>:$write_indices,
                       Sinter_I64Attr:$axis, Sinter_CacheModeAttr:$mode);
  let results = (outs Sinter_Tensor:$result);
  let assemblyFormat = [{
    $cache `,` $update (`,` $write_indices^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Sinter_LinearAttentionOp : Sinter_Op<"linear_attention", [Pure, AttrSizedOperandSegments]> {
  let summary = "recurrent linear attention (GatedDeltaNet and relatives)";
  let description = [{
    ONNX LinearAttention (opset 27). Inputs are packed [B, T, H * D]; the
    state is [B, H_kv, d_k, d_v]. For each token t, with g the log-space
    decay and beta the update rate:
    - linear:      S = S + k v^T
    - gated:       S = exp(g) S + k v^T
    - delta:       S = S + beta k (v - S^T k)^T
    - gated_delta: S = exp(g) S + beta k (v - exp(g) S^T k)^T
    and `o_t = scale * S^T q_t`. `q_num_heads` is a multiple of `kv_num_heads`;
    query head h reads the state of KV head h / (q_num_heads / kv_num_heads).
    `decay` is per head [B, T, H_kv] or per key feature [B, T, H_kv * d_k];
    `beta` is per head [B, T, H_kv] or shared [B, T, 1].
    The recurrence is computed in f32.

    Example:
    ```mlir
    %o, %s = sinter.linear_attention %q, %k, %v state %s0 decay %g beta %b {kv_num_heads = 2 : i64, q_num_heads = 2 : i64, scale = 2.5e-01 : f32, update_rule = #sinter<update_rule gated_delta>} : (tensor<1x1x32xf32>, tensor<1x1x32xf32>, tensor<1x1x32xf32>, tensor<1x2x16x16xf32>, tensor<1x1x2xf32>, tensor<1x1x2xf32>) -> (tensor<1x1x32xf32>, tensor<1x2x16x16xf32>)
    ```
  }];
  let arguments = (ins Sinter_FloatTensor:$query, Sinter_FloatTensor:$key,
                       Sinter_FloatTensor:$value,
                       Optional<Sinter_FloatTensor>:$past_state,
                       Optional<Sinter_FloatTensor>:$decay,
                       Optional<Sinter_FloatTensor>:$beta,
                       Sinter_I64Attr:$q_num_heads, Sinter_I64Attr:$kv_num_heads,
                       F32Attr:$scale, Sinter_UpdateRuleAttr:$update_rule);
  let results = (outs Sinter_FloatTensor:$result,
                      Sinter_FloatTensor:$present_state);
  let assemblyFormat = [{
    $query `,` $key `,` $value (`state` $past_state^)? (`decay` $decay^)?
    (`beta` $beta^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Sinter_CausalConvWithStateOp : Sinter_Op<"causal_conv_with_state",
    [Pure, AttrSizedOperandSegments]> {
  let summary = "depthwise causal 1-D convolution with a carried state";
  let description = [{
    ONNX CausalConvWithState (opset 27): input [B, C, L], weight [C, 1, K],
    optional bias [C] and past state [B, C, K-1] (zeros when absent). The
    output at position t sees inputs t-K+1 .. t of the state-prefixed
    sequence; `present_state` holds its last K-1 positions. `silu` applies
    x * sigmoid(x) to the output. Accumulates in f32.

    Example:
    ```mlir
    %y, %s = sinter.causal_conv_with_state %x, %w state %s0 {silu} : (tensor<1x8x1xf32>, tensor<8x1x4xf32>, tensor<1x8x3xf32>) -> (tensor<1x8x1xf32>, tensor<1x8x3xf32>)
    ```
  }];
  let arguments = (ins Sinter_FloatTensor:$input, Sinter_FloatTensor:$weight,
                       Optional<Sinter_FloatTensor>:$bias,
                       Optional<Sinter_FloatTensor>:$past_state,
                       UnitAttr:$silu);
  let results = (outs Sinter_FloatTensor:$result,
                      Sinter_FloatTensor:$present_state);
  let assemblyFormat = [{
    $input `,` $weight (`bias` $bias^)? (`state` $past_state^)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // SINTER_GRAPH_OPS
