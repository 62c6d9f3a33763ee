// sinter-cuda-cluster-dims (ClusterDims.cpp): a launch's thread-block
// cluster size moves onto its kernel as nvvm.cluster_dim (NVPTX's
// .explicitcluster / .reqnctapercluster), and the launch is rebuilt without
// it, its operands and attributes kept; launches without one are left
// alone. Errors: a size that is not constant, one kernel launched with two
// sizes.
// RUN: sinter-opt %s --sinter-cuda-cluster-dims -split-input-file -verify-diagnostics | FileCheck %s

// CHECK-LABEL: func.func @clustered
// CHECK: gpu.launch_func @k::@down blocks in (%c256, %c1, %c1) threads in (%c512, %c1, %c1) args(%{{.+}} : memref<8xf32>) {sinter.note = "kept"}
// CHECK: gpu.launch_func @k::@plain blocks in (%c256, %c1, %c1)
// CHECK-NOT: clusters in
// CHECK: gpu.func @down(%{{.+}}: memref<8xf32>) kernel attributes {nvvm.cluster_dim = array<i32: 8, 1, 1>}
// CHECK: gpu.func @plain(%{{.+}}: memref<8xf32>) kernel {
module attributes {gpu.container_module} {
  func.func @clustered(%m: memref<8xf32>) {
    %c1 = arith.constant 1 : index
    %c8 = arith.constant 8 : index
    %c256 = arith.constant 256 : index
    %c512 = arith.constant 512 : index
    gpu.launch_func @k::@down clusters in (%c8, %c1, %c1) blocks in (%c256, %c1, %c1) threads in (%c512, %c1, %c1) args(%m : memref<8xf32>) {sinter.note = "kept"}
    gpu.launch_func @k::@down clusters in (%c8, %c1, %c1) blocks in (%c256, %c1, %c1) threads in (%c512, %c1, %c1) args(%m : memref<8xf32>)
    gpu.launch_func @k::@plain blocks in (%c256, %c1, %c1) threads in (%c512, %c1, %c1) args(%m : memref<8xf32>)
    return
  }
  gpu.module @k {
    gpu.func @down(%a: memref<8xf32>) kernel {
      gpu.return
    }
    gpu.func @plain(%a: memref<8xf32>) kernel {
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  func.func @dynamic(%m: memref<8xf32>, %n: index) {
    %c1 = arith.constant 1 : index
    // expected-error @+1 {{cluster size is not a constant}}
    gpu.launch_func @k::@down clusters in (%n, %c1, %c1) blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%m : memref<8xf32>)
    return
  }
  gpu.module @k {
    gpu.func @down(%a: memref<8xf32>) kernel {
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  func.func @two_sizes(%m: memref<8xf32>) {
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c4 = arith.constant 4 : index
    gpu.launch_func @k::@down clusters in (%c2, %c1, %c1) blocks in (%c4, %c1, %c1) threads in (%c1, %c1, %c1) args(%m : memref<8xf32>)
    // expected-error @+1 {{kernel @down is launched with two cluster sizes}}
    gpu.launch_func @k::@down clusters in (%c4, %c1, %c1) blocks in (%c4, %c1, %c1) threads in (%c1, %c1, %c1) args(%m : memref<8xf32>)
    return
  }
  gpu.module @k {
    gpu.func @down(%a: memref<8xf32>) kernel {
      gpu.return
    }
  }
}
