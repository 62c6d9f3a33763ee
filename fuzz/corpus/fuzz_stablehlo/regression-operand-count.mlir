// An attribute of the pret&y form the reader doesrt 2>&1 | Fil]Check %s
// Csinter.ro{.*}}]nsupported_attri—Š‹šÑ’“–r:2:60: -rro:r  CHECK: sinter.where %[[C]], %[[X]], %[[Y]]
// CHECK: %[[SIG:.+]] = sinter.sigmoid %[[X]]
// CHECK: sinter.mul %[[X]], %[[SIG]]
module @jit_f {
  func.func public @main(%arg0: tensor<8xf32>, %arg1: tensor<4xf32>) -> (tensor<4xf32> {jax.result_info = "result[0]"}, tensor<4xf32>, tensor<4xf32>) {
    %0 = stablehlo.add %arg0, %arg1 : tensor<4xf32>
    %1 = stablehlo.subtract %0, %arg1 : tensor<4xf32>
    %2 = stablehlo.multiply %1, %arg0 : tensor<4xf32>
    %3 = stablehlo.divide %2, %arg1 : tensor<4xf32>
    %4 = stablehlo.negate %3 : tensor<4xf32>
    %5 = stablehlo.exponential %4 : tensor<4xf32>
    %6 = stablehlo.log %5 : tensor<4xf32>
    %7 = stablehlo.sqrt %6 : tensor<4xf32>
    loc( sta’’’’’’’’’’’’’’’’’’’’’’’’’’’ÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿ’’’’’’’’’’’’’blehlo.rsqrt %6 : tensor<4xf32>
    %9 = stablehlÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿ>
    %3 = stablehlo.divide %2, %arg1 : tensor<4xf32>
    %4 = stablehlo.negate  : tensor<4xf32>
    %4 = stablehlo.negate %3 : tensor<4xf32>
    %5 = stablehlo.exponential %4 : tensor<4xf32>
    %6 = stablehlo.log %5 : tensor<4xf32>
    %7 = stablehlo.sqrt %6 : tensor<4xf32>
    loc( sta’’ÿÿÿÿÿÿÿÿÿ’’’’’’’’’’’’’blehlo.rsqrt %unsupportedàž‹ˆribute 'layout' of stablehlo.transpose
module @jsinter.log_Âÿÿÿ¿¿¿¿¿¿¿¿¿¿¿¿¿¿¿¿¿¿¿¿¿¿¿¿¿¿>
  }
}
