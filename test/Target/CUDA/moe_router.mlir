// RUN: sinter-opt %s --split-input-file --sinter-cuda-form-kernels | FileCheck %s
// The MoE router template (lib/Target/CUDA/MoeRouter.cpp): the generic the
// lowering of sinter.moe_router leaves (marked `sinter.moe_router`, here
// k = 5 of 33 f16 logits on 3 rows, as sinterc --compile-to=lower prints
// it) becomes one launch, a warp per row: 3 rows in one block of 96
// threads, two lane slots (the second partial: a guarded load) of 64-bit
// selection keys, per round a max below the previous pick and xor
// shuffles of the key's halves, stores of lanes < k. Logits that are a
// slice of a fused linear's output (a subview) are taken; buffers that
// may overlap are refused.

#map = affine_map<(d0, d1, d2) -> (d0, d2)>
#map1 = affine_map<(d0, d1, d2) -> (d0, d1)>

// CHECK-LABEL: func.func @router
// CHECK-SAME: (%[[X:.+]]: memref<3x33xf16>, %[[W:.+]]: memref<3x5xf16>, %[[I:.+]]: memref<3x5xi64>)
// CHECK-NOT: linalg.generic
// CHECK-DAG: %[[C96:.+]] = arith.constant 96 : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{.*}}) threads({{.*}}) in ({{.*}} = %[[C96]],
// The lane's logits are loaded together (the partial slot's under an
// scf.if), then made keys.
// CHECK: memref.load %[[X]]
// CHECK: scf.if
// CHECK: memref.load %[[X]]
// CHECK: arith.bitcast {{.*}} : f32 to i32
// CHECK: arith.bitcast {{.*}} : f32 to i32
// CHECK: scf.for
// CHECK: arith.cmpi ult, {{.*}} : i64
// CHECK: arith.maxui
// CHECK-COUNT-10: gpu.shuffle  xor {{.*}} : i32
// CHECK: math.exp
// CHECK: math.exp
// CHECK: arith.truncf {{.*}} : f32 to f16
// CHECK: memref.store {{.*}}, %[[W]]
// CHECK: arith.extui {{.*}} : i32 to i64
// CHECK: memref.store {{.*}}, %[[I]]
// CHECK: sinter.kernel = "moe_router rows=3 experts=33 k=5 slots=2"
func.func @router(%X: memref<3x33xf16>, %W: memref<3x5xf16>, %I: memref<3x5xi64>) {
    %false = arith.constant false
    %c33 = arith.constant 33 : index
    %true = arith.constant true
    %c5 = arith.constant 5 : index
    %c0_i64 = arith.constant 0 : i64
    %cst = arith.constant 0.000000e+00 : f32
    %c1 = arith.constant 1 : index
    %c0 = arith.constant 0 : index
    linalg.generic {indexing_maps = [#map, #map1, #map1], iterator_types = ["parallel", "parallel", "reduction"]} ins(%X : memref<3x33xf16>) outs(%W, %I : memref<3x5xf16>, memref<3x5xi64>) attrs =  {sinter.moe_router = 5 : i64} {
    ^bb0(%in: f16, %out: f16, %out_0: i64):
      %0 = linalg.index 0 : index
      %1 = linalg.index 1 : index
      %2 = linalg.index 2 : index
      %3 = arith.cmpi eq, %2, %c0 : index
      %4:2 = scf.if %3 -> (f16, i64) {
        %5 = arith.index_cast %1 : index to i64
        %6:6 = scf.for %arg7 = %c0 to %c5 step %c1 iter_args(%arg8 = %cst, %arg9 = %c0_i64, %arg10 = %cst, %arg11 = %cst, %arg12 = %cst, %arg13 = %c0_i64) -> (f32, i64, f32, f32, f32, i64) {
          %11 = arith.cmpi eq, %arg7, %c0 : index
          %12:3 = scf.for %arg14 = %c0 to %c33 step %c1 iter_args(%arg15 = %cst, %arg16 = %c0_i64, %arg17 = %false) -> (f32, i64, i1) {
            %21 = memref.load %X[%0, %arg14] : memref<3x33xf16>
            %22 = arith.extf %21 : f16 to f32
            %23 = arith.index_cast %arg14 : index to i64
            %24 = arith.cmpi slt, %arg9, %23 : i64
            %25 = arith.cmpf uno, %arg8, %arg8 : f32
            %26 = arith.cmpf uno, %22, %22 : f32
            %27 = arith.cmpf ogt, %arg8, %22 : f32
            %28 = arith.xori %26, %true : i1
            %29 = arith.andi %25, %28 : i1
            %30 = arith.ori %27, %29 : i1
            %31 = arith.cmpf oeq, %arg8, %22 : f32
            %32 = arith.andi %25, %26 : i1
            %33 = arith.ori %31, %32 : i1
            %34 = arith.andi %33, %24 : i1
            %35 = arith.ori %30, %34 : i1
            %36 = arith.ori %11, %35 : i1
            %37 = arith.xori %arg17, %true : i1
            %38 = arith.cmpi slt, %23, %arg16 : i64
            %39 = arith.cmpf uno, %arg15, %arg15 : f32
            %40 = arith.cmpf ogt, %22, %arg15 : f32
            %41 = arith.xori %39, %true : i1
            %42 = arith.andi %26, %41 : i1
            %43 = arith.ori %40, %42 : i1
            %44 = arith.cmpf oeq, %22, %arg15 : f32
            %45 = arith.andi %26, %39 : i1
            %46 = arith.ori %44, %45 : i1
            %47 = arith.andi %46, %38 : i1
            %48 = arith.ori %43, %47 : i1
            %49 = arith.ori %37, %48 : i1
            %50 = arith.andi %36, %49 : i1
            %51 = arith.select %50, %22, %arg15 : f32
            %52 = arith.select %50, %23, %arg16 : i64
            %53 = arith.ori %arg17, %50 : i1
            scf.yield %51, %52, %53 : f32, i64, i1
          }
          %13 = arith.select %11, %12#0, %arg10 : f32
          %14 = arith.subf %12#0, %13 : f32
          %15 = math.exp %14 : f32
          %16 = arith.addf %arg11, %15 : f32
          %17 = arith.index_cast %arg7 : index to i64
          %18 = arith.cmpi eq, %17, %5 : i64
          %19 = arith.select %18, %12#0, %arg12 : f32
          %20 = arith.select %18, %12#1, %arg13 : i64
          scf.yield %12#0, %12#1, %13, %16, %19, %20 : f32, i64, f32, f32, f32, i64
        }
        %7 = arith.subf %6#4, %6#2 : f32
        %8 = math.exp %7 : f32
        %9 = arith.divf %8, %6#3 : f32
        %10 = arith.truncf %9 : f32 to f16
        scf.yield %10, %6#5 : f16, i64
      } else {
        scf.yield %out, %out_0 : f16, i64
      }
      linalg.yield %4#0, %4#1 : f16, i64
    }
    return
}

// -----

#map = affine_map<(d0, d1, d2) -> (d0, d2)>
#map1 = affine_map<(d0, d1, d2) -> (d0, d1)>

// The weights are arena bytes the logits also occupy: refused (the generic
// stays for the generic mapping).
// CHECK-LABEL: func.func @aliased
// CHECK-NOT: gpu.launch
// CHECK: linalg.generic
// CHECK-SAME: sinter.moe_router = 5
func.func @aliased(%arena: memref<1024xi8>, %I: memref<3x5xi64>) {
    %false = arith.constant false
    %c33 = arith.constant 33 : index
    %true = arith.constant true
    %c5 = arith.constant 5 : index
    %c0_i64 = arith.constant 0 : i64
    %cst = arith.constant 0.000000e+00 : f32
    %c1 = arith.constant 1 : index
    %c0 = arith.constant 0 : index
    %X = memref.view %arena[%c0][] : memref<1024xi8> to memref<3x33xf16>
    %c64 = arith.constant 64 : index
    %W = memref.view %arena[%c64][] : memref<1024xi8> to memref<3x5xf16>
    linalg.generic {indexing_maps = [#map, #map1, #map1], iterator_types = ["parallel", "parallel", "reduction"]} ins(%X : memref<3x33xf16>) outs(%W, %I : memref<3x5xf16>, memref<3x5xi64>) attrs =  {sinter.moe_router = 5 : i64} {
    ^bb0(%in: f16, %out: f16, %out_0: i64):
      %0 = linalg.index 0 : index
      %1 = linalg.index 1 : index
      %2 = linalg.index 2 : index
      %3 = arith.cmpi eq, %2, %c0 : index
      %4:2 = scf.if %3 -> (f16, i64) {
        %5 = arith.index_cast %1 : index to i64
        %6:6 = scf.for %arg7 = %c0 to %c5 step %c1 iter_args(%arg8 = %cst, %arg9 = %c0_i64, %arg10 = %cst, %arg11 = %cst, %arg12 = %cst, %arg13 = %c0_i64) -> (f32, i64, f32, f32, f32, i64) {
          %11 = arith.cmpi eq, %arg7, %c0 : index
          %12:3 = scf.for %arg14 = %c0 to %c33 step %c1 iter_args(%arg15 = %cst, %arg16 = %c0_i64, %arg17 = %false) -> (f32, i64, i1) {
            %21 = memref.load %X[%0, %arg14] : memref<3x33xf16>
            %22 = arith.extf %21 : f16 to f32
            %23 = arith.index_cast %arg14 : index to i64
            %24 = arith.cmpi slt, %arg9, %23 : i64
            %25 = arith.cmpf uno, %arg8, %arg8 : f32
            %26 = arith.cmpf uno, %22, %22 : f32
            %27 = arith.cmpf ogt, %arg8, %22 : f32
            %28 = arith.xori %26, %true : i1
            %29 = arith.andi %25, %28 : i1
            %30 = arith.ori %27, %29 : i1
            %31 = arith.cmpf oeq, %arg8, %22 : f32
            %32 = arith.andi %25, %26 : i1
            %33 = arith.ori %31, %32 : i1
            %34 = arith.andi %33, %24 : i1
            %35 = arith.ori %30, %34 : i1
            %36 = arith.ori %11, %35 : i1
            %37 = arith.xori %arg17, %true : i1
            %38 = arith.cmpi slt, %23, %arg16 : i64
            %39 = arith.cmpf uno, %arg15, %arg15 : f32
            %40 = arith.cmpf ogt, %22, %arg15 : f32
            %41 = arith.xori %39, %true : i1
            %42 = arith.andi %26, %41 : i1
            %43 = arith.ori %40, %42 : i1
            %44 = arith.cmpf oeq, %22, %arg15 : f32
            %45 = arith.andi %26, %39 : i1
            %46 = arith.ori %44, %45 : i1
            %47 = arith.andi %46, %38 : i1
            %48 = arith.ori %43, %47 : i1
            %49 = arith.ori %37, %48 : i1
            %50 = arith.andi %36, %49 : i1
            %51 = arith.select %50, %22, %arg15 : f32
            %52 = arith.select %50, %23, %arg16 : i64
            %53 = arith.ori %arg17, %50 : i1
            scf.yield %51, %52, %53 : f32, i64, i1
          }
          %13 = arith.select %11, %12#0, %arg10 : f32
          %14 = arith.subf %12#0, %13 : f32
          %15 = math.exp %14 : f32
          %16 = arith.addf %arg11, %15 : f32
          %17 = arith.index_cast %arg7 : index to i64
          %18 = arith.cmpi eq, %17, %5 : i64
          %19 = arith.select %18, %12#0, %arg12 : f32
          %20 = arith.select %18, %12#1, %arg13 : i64
          scf.yield %12#0, %12#1, %13, %16, %19, %20 : f32, i64, f32, f32, f32, i64
        }
        %7 = arith.subf %6#4, %6#2 : f32
        %8 = math.exp %7 : f32
        %9 = arith.divf %8, %6#3 : f32
        %10 = arith.truncf %9 : f32 to f16
        scf.yield %10, %6#5 : f16, i64
      } else {
        scf.yield %out, %out_0 : f16, i64
      }
      linalg.yield %4#0, %4#1 : f16, i64
    }
    return
}

// -----

#map = affine_map<(d0, d1, d2) -> (d0, d2)>
#map1 = affine_map<(d0, d1, d2) -> (d0, d1)>

// The logits are a slice of a wider arena buffer (a split of a fused
// linear's output); the weights are other arena bytes: taken.
// CHECK-LABEL: func.func @sliced
// CHECK-NOT: linalg.generic
// CHECK: gpu.launch
// CHECK: sinter.kernel = "moe_router rows=3 experts=33 k=5 slots=2"
func.func @sliced(%arena: memref<1024xi8>, %I: memref<3x5xi64>) {
    %false = arith.constant false
    %c33 = arith.constant 33 : index
    %true = arith.constant true
    %c5 = arith.constant 5 : index
    %c0_i64 = arith.constant 0 : i64
    %cst = arith.constant 0.000000e+00 : f32
    %c1 = arith.constant 1 : index
    %c0 = arith.constant 0 : index
    %F = memref.view %arena[%c0][] : memref<1024xi8> to memref<3x40xf16>
    %X = memref.subview %F[0, 0] [3, 33] [1, 1] : memref<3x40xf16> to memref<3x33xf16, strided<[40, 1]>>
    %c256 = arith.constant 256 : index
    %W = memref.view %arena[%c256][] : memref<1024xi8> to memref<3x5xf16>
    linalg.generic {indexing_maps = [#map, #map1, #map1], iterator_types = ["parallel", "parallel", "reduction"]} ins(%X : memref<3x33xf16, strided<[40, 1]>>) outs(%W, %I : memref<3x5xf16>, memref<3x5xi64>) attrs =  {sinter.moe_router = 5 : i64} {
    ^bb0(%in: f16, %out: f16, %out_0: i64):
      %0 = linalg.index 0 : index
      %1 = linalg.index 1 : index
      %2 = linalg.index 2 : index
      %3 = arith.cmpi eq, %2, %c0 : index
      %4:2 = scf.if %3 -> (f16, i64) {
        %5 = arith.index_cast %1 : index to i64
        %6:6 = scf.for %arg7 = %c0 to %c5 step %c1 iter_args(%arg8 = %cst, %arg9 = %c0_i64, %arg10 = %cst, %arg11 = %cst, %arg12 = %cst, %arg13 = %c0_i64) -> (f32, i64, f32, f32, f32, i64) {
          %11 = arith.cmpi eq, %arg7, %c0 : index
          %12:3 = scf.for %arg14 = %c0 to %c33 step %c1 iter_args(%arg15 = %cst, %arg16 = %c0_i64, %arg17 = %false) -> (f32, i64, i1) {
            %21 = memref.load %X[%0, %arg14] : memref<3x33xf16, strided<[40, 1]>>
            %22 = arith.extf %21 : f16 to f32
            %23 = arith.index_cast %arg14 : index to i64
            %24 = arith.cmpi slt, %arg9, %23 : i64
            %25 = arith.cmpf uno, %arg8, %arg8 : f32
            %26 = arith.cmpf uno, %22, %22 : f32
            %27 = arith.cmpf ogt, %arg8, %22 : f32
            %28 = arith.xori %26, %true : i1
            %29 = arith.andi %25, %28 : i1
            %30 = arith.ori %27, %29 : i1
            %31 = arith.cmpf oeq, %arg8, %22 : f32
            %32 = arith.andi %25, %26 : i1
            %33 = arith.ori %31, %32 : i1
            %34 = arith.andi %33, %24 : i1
            %35 = arith.ori %30, %34 : i1
            %36 = arith.ori %11, %35 : i1
            %37 = arith.xori %arg17, %true : i1
            %38 = arith.cmpi slt, %23, %arg16 : i64
            %39 = arith.cmpf uno, %arg15, %arg15 : f32
            %40 = arith.cmpf ogt, %22, %arg15 : f32
            %41 = arith.xori %39, %true : i1
            %42 = arith.andi %26, %41 : i1
            %43 = arith.ori %40, %42 : i1
            %44 = arith.cmpf oeq, %22, %arg15 : f32
            %45 = arith.andi %26, %39 : i1
            %46 = arith.ori %44, %45 : i1
            %47 = arith.andi %46, %38 : i1
            %48 = arith.ori %43, %47 : i1
            %49 = arith.ori %37, %48 : i1
            %50 = arith.andi %36, %49 : i1
            %51 = arith.select %50, %22, %arg15 : f32
            %52 = arith.select %50, %23, %arg16 : i64
            %53 = arith.ori %arg17, %50 : i1
            scf.yield %51, %52, %53 : f32, i64, i1
          }
          %13 = arith.select %11, %12#0, %arg10 : f32
          %14 = arith.subf %12#0, %13 : f32
          %15 = math.exp %14 : f32
          %16 = arith.addf %arg11, %15 : f32
          %17 = arith.index_cast %arg7 : index to i64
          %18 = arith.cmpi eq, %17, %5 : i64
          %19 = arith.select %18, %12#0, %arg12 : f32
          %20 = arith.select %18, %12#1, %arg13 : i64
          scf.yield %12#0, %12#1, %13, %16, %19, %20 : f32, i64, f32, f32, f32, i64
        }
        %7 = arith.subf %6#4, %6#2 : f32
        %8 = math.exp %7 : f32
        %9 = arith.divf %8, %6#3 : f32
        %10 = arith.truncf %9 : f32 to f16
        scf.yield %10, %6#5 : f16, i64
      } else {
        scf.yield %out, %out_0 : f16, i64
      }
      linalg.yield %4#0, %4#1 : f16, i64
    }
    return
}
