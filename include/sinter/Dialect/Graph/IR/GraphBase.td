//===- GraphBase.td - the sinter graph dialect, types, enums -*- tablegen -*-===//
//
// The `sinter` dialect holds tensor-level graph ops: what ONNX/StableHLO
// import produces and what the graph and fuse phases rewrite. Every tensor
// has a static shape (symbolic dimensions are fixed at import), so verifiers
// can check shapes exactly and later phases can plan memory statically.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_GRAPH_BASE
#define SINTER_GRAPH_BASE

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Sinter_Dialect : Dialect {
  let name = "sinter";
  let cppNamespace = "::sinter";
  let summary = "Tensor-level graph ops of the Sinter compiler";
  let description = [{
    Ops for transformer decoders, mixture-of-experts and GatedDeltaNet
    models at the level of ONNX nodes: value semantics on statically shaped
    ranked tensors. Elementwise ops broadcast like numpy. Ops that an
    upstream dialect expresses exactly are not duplicated here: constants
    are `arith.constant`, concatenation is `tensor.concat`, reshapes are
    `tensor.expand_shape`/`tensor.collapse_shape`/`tensor.reshape` and
    positive-step slices are `tensor.extract_slice`.
  }];
  let useDefaultAttributePrinterParser = 1;
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::tensor::TensorDialect"];
}

//===----------------------------------------------------------------------===//
// Types. Integers are signless and read as signed (ONNX int8/int32/int64).
//===----------------------------------------------------------------------===//

def Sinter_FloatElement : AnyTypeOf<[F64, F32, F16, BF16]>;
def Sinter_IntElement : AnyTypeOf<[I64, I32, I8]>;
def Sinter_AnyElement : AnyTypeOf<[F64, F32, F16, BF16, I64, I32, I8, I1]>;

def Sinter_Tensor : StaticShapeTensorOf<[F64, F32, F16, BF16, I64, I32, I8, I1]>;
def Sinter_NumericTensor : StaticShapeTensorOf<[F64, F32, F16, BF16, I64, I32, I8]>;
def Sinter_FloatTensor : StaticShapeTensorOf<[F64, F32, F16, BF16]>;
def Sinter_IntTensor : StaticShapeTensorOf<[I64, I32, I8]>;
def Sinter_IndexTensor : StaticShapeTensorOf<[I64, I32]>;
def Sinter_BoolTensor : StaticShapeTensorOf<[I1]>;
def Sinter_IntOrBoolTensor : StaticShapeTensorOf<[I64, I32, I8, I1]>;

// A signless i64 attribute read as signed: axes, k and offsets may be
// negative, and upstream I64Attr hands them out as uint64_t.
def Sinter_I64Attr : TypedSignlessIntegerAttrBase<I64, "int64_t",
    "64-bit signless integer attribute"> {
  let convertFromStorage = "$_self.getValue().getSExtValue()";
}

//===----------------------------------------------------------------------===//
// Enums.
//===----------------------------------------------------------------------===//

def Sinter_ReductionNone : I32EnumAttrCase<"none", 0>;
def Sinter_ReductionAdd : I32EnumAttrCase<"add", 1>;
def Sinter_ReductionMul : I32EnumAttrCase<"mul", 2>;
def Sinter_ReductionMax : I32EnumAttrCase<"max", 3>;
def Sinter_ReductionMin : I32EnumAttrCase<"min", 4>;
def Sinter_ScatterReductionEnum : I32EnumAttr<"ScatterReduction",
    "how a scatter combines an update with the existing element",
    [Sinter_ReductionNone, Sinter_ReductionAdd, Sinter_ReductionMul,
     Sinter_ReductionMax, Sinter_ReductionMin]> {
  let cppNamespace = "::sinter";
  let genSpecializedAttr = 0;
}
def Sinter_ScatterReductionAttr : EnumAttr<Sinter_Dialect,
    Sinter_ScatterReductionEnum, "reduction">;

def Sinter_PadConstant : I32EnumAttrCase<"constant", 0>;
def Sinter_PadReflect : I32EnumAttrCase<"reflect", 1>;
def Sinter_PadEdge : I32EnumAttrCase<"edge", 2>;
def Sinter_PadWrap : I32EnumAttrCase<"wrap", 3>;
def Sinter_PadModeEnum : I32EnumAttr<"PadMode", "how pad fills new elements",
    [Sinter_PadConstant, Sinter_PadReflect, Sinter_PadEdge, Sinter_PadWrap]> {
  let cppNamespace = "::sinter";
  let genSpecializedAttr = 0;
}
def Sinter_PadModeAttr : EnumAttr<Sinter_Dialect, Sinter_PadModeEnum,
    "pad_mode">;

def Sinter_RuleLinear : I32EnumAttrCase<"linear", 0>;
def Sinter_RuleGated : I32EnumAttrCase<"gated", 1>;
def Sinter_RuleDelta : I32EnumAttrCase<"delta", 2>;
def Sinter_RuleGatedDelta : I32EnumAttrCase<"gated_delta", 3>;
def Sinter_UpdateRuleEnum : I32EnumAttr<"UpdateRule",
    "recurrence of a linear attention",
    [Sinter_RuleLinear, Sinter_RuleGated, Sinter_RuleDelta,
     Sinter_RuleGatedDelta]> {
  let cppNamespace = "::sinter";
  let genSpecializedAttr = 0;
}
def Sinter_UpdateRuleAttr : EnumAttr<Sinter_Dialect, Sinter_UpdateRuleEnum,
    "update_rule">;

def Sinter_ScatterModeLinear : I32EnumAttrCase<"linear", 0>;
def Sinter_ScatterModeCircular : I32EnumAttrCase<"circular", 1>;
def Sinter_CacheModeEnum : I32EnumAttr<"CacheMode",
    "how tensor_scatter maps write positions into the cache",
    [Sinter_ScatterModeLinear, Sinter_ScatterModeCircular]> {
  let cppNamespace = "::sinter";
  let genSpecializedAttr = 0;
}
def Sinter_CacheModeAttr : EnumAttr<Sinter_Dialect, Sinter_CacheModeEnum,
    "cache_mode">;

def Sinter_GatedSilu : I32EnumAttrCase<"silu", 0>;
def Sinter_GatedGelu : I32EnumAttrCase<"gelu", 1>;
def Sinter_GatedGeluTanh : I32EnumAttrCase<"gelu_tanh", 2>;
def Sinter_GatedRelu : I32EnumAttrCase<"relu", 3>;
def Sinter_GatedActivationEnum : I32EnumAttr<"GatedActivation",
    "the activation a gated linear applies to its gate operand",
    [Sinter_GatedSilu, Sinter_GatedGelu, Sinter_GatedGeluTanh,
     Sinter_GatedRelu]> {
  let cppNamespace = "::sinter";
  let genSpecializedAttr = 0;
}
def Sinter_GatedActivationAttr : EnumAttr<Sinter_Dialect,
    Sinter_GatedActivationEnum, "gated_activation">;

//===----------------------------------------------------------------------===//
// Traits implemented in C++ (GraphOps.h), shared by op families.
//===----------------------------------------------------------------------===//

// Operands broadcast numpy-style to the result shape; the result element type
// equals the operands' (or i1 for comparisons, see CompareResult).
def Sinter_Broadcasting : NativeOpTrait<"Broadcasting"> {
  let cppNamespace = "::sinter::OpTrait";
}
def Sinter_CompareResult : NativeOpTrait<"CompareResult"> {
  let cppNamespace = "::sinter::OpTrait";
}

class Sinter_Op<string mnemonic, list<Trait> traits = []>
    : Op<Sinter_Dialect, mnemonic, traits>;

#endif // SINTER_GRAPH_BASE
