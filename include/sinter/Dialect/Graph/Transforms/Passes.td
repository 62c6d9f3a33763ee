//===- Passes.td - graph and fuse phase passes ---------------*- tablegen -*-===//

#ifndef SINTER_GRAPH_PASSES
#define SINTER_GRAPH_PASSES

include "mlir/Pass/PassBase.td"

def RecognizeActivationsPass : Pass<"sinter-recognize-activations"> {
  let summary = "Recognizes activations written out as their decomposition";
  let description = [{
    Exporters often spell activations out: `x * sigmoid(x)` for SiLU,
    `log(1 + exp(x))` for softplus. Later passes (the gated-activation
    fusion into a GEMM's operand load, kernel formation) match the compound
    op, so this pass folds the decompositions into `sinter.silu` and
    `sinter.softplus`. Only exact forms are matched: `sigmoid(x) * x` too,
    but never `x * sigmoid(y)` with a different `y`.

    Example:
    ```mlir
    %s = sinter.sigmoid %x : tensor<4xf32>
    %y = sinter.mul %x, %s : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    // becomes
    %y = sinter.silu %x : tensor<4xf32>
    ```
  }];
  let dependentDialects = ["::sinter::SinterDialect"];
}

#endif // SINTER_GRAPH_PASSES
