//===- Passes.td - passes shared by the code-generating targets -*- tablegen -*-===//
//
// The entry-function ABI and the static memory plan: the lower phase of the
// CPU target uses them today, the CUDA target will use them too.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_TARGET_PASSES
#define SINTER_TARGET_PASSES

include "mlir/Pass/PassBase.td"

def PrepareEntryPass : Pass<"sinter-prepare-entry", "::mlir::ModuleOp"> {
  let summary = "Checks the model's forward function and names it for the runtime";
  let description = [{
    The module's one public function (the importer's `@main`) is the
    model's forward. This pass checks that it can become a compiled entry
    point: every input and result a ranked tensor of static shape with an
    element type the runtime can read and write (f32, f16, bf16, f64, i64,
    i32, i16, i8, i1). A dynamic dimension is an error that names the input
    or output and points at `sinterc --input-shape`.

    The function is renamed to `entry-name` (the symbol the generated
    executable calls) and marked `sinter.entry`, with `sinter.num_inputs`
    (after bufferization the outputs become arguments too). Its inputs are marked
    `bufferization.writable = false`: bufferization must never write into a
    caller's input buffer, since `--bench` reruns the forward on the same
    inputs.

    Example:
    ```mlir
    func.func @main(%x: tensor<2x3xf32> {sinter.name = "x"}) -> ...
    // becomes
    func.func @sinter_forward(%x: tensor<2x3xf32> {bufferization.writable = false,
        sinter.name = "x"}) -> ...
        attributes {sinter.entry, sinter.num_inputs = 1 : i64}
    ```
  }];
  let options = [
    Option<"entryName", "entry-name", "std::string", /*default=*/"\"sinter_forward\"",
           "Symbol name of the compiled forward function">,
  ];
}

def PlanMemoryPass : Pass<"sinter-plan-memory", "::mlir::func::FuncOp"> {
  let summary = "Places the forward's temporary buffers in one arena planned at compile time";
  let description = [{
    Runs after bufferization and buffer-results-to-out-params, on the
    function marked `sinter.entry`. Every `memref.alloc` in the function's
    body block with a static shape and identity layout gets a byte offset in
    one arena, which becomes a new last argument of the function
    (`memref<Nxi8> {sinter.arena}`); the alloc becomes a `memref.view` of
    the arena and its deallocs are erased. The runtime allocates the arena
    once (`SinterModel.arena_bytes`) and reuses it on every forward.

    Offsets come from liveness: a buffer lives from its alloc to the last
    top-level operation that uses it or any view of it (uses nested in a
    loop extend to the whole loop). Buffers whose lifetimes do not overlap
    share memory; offsets are assigned greedily, largest buffer first, each
    at the lowest `alignment`-aligned offset that does not overlap a live
    buffer. A buffer whose aliases escape (returned, yielded out of a
    region, passed to a call) lives to the end of the function.

    Allocations the plan cannot place (dynamic shapes, allocations inside
    loops, alignment above `alignment`) stay; the buffer deallocation
    pipeline frees them. The function gets `sinter.arena_bytes` and
    `sinter.unplanned_allocs` attributes for the compile report.

    Example:
    ```mlir
    %a = memref.alloc() {alignment = 64 : i64} : memref<2x3xf32>
    // becomes, with %arena: memref<64xi8> {sinter.arena} appended
    %c0 = arith.constant 0 : index
    %a = memref.view %arena[%c0][] : memref<64xi8> to memref<2x3xf32>
    ```
  }];
  let options = [
    Option<"alignment", "alignment", "unsigned", /*default=*/"64",
           "Byte alignment of the arena and of every offset in it">,
  ];
  let dependentDialects = [
    "::mlir::memref::MemRefDialect", "::mlir::arith::ArithDialect"
  ];
}

def FinalizeEntryPass : Pass<"sinter-finalize-entry", "::mlir::func::FuncOp"> {
  let summary = "Replaces the entry's bookkeeping argument attributes by LLVM ones";
  let description = [{
    Runs at the start of code generation on the function marked
    `sinter.entry`. The argument attributes that only the compiler reads
    (`sinter.name`, `sinter.arena`, bufferization's) were consumed when the
    model descriptor was written; they are dropped, since LLVM IR
    translation warns about attributes it does not know. Every memref
    argument gets `llvm.noalias`: the runtime passes distinct allocations
    for the inputs, the outputs and the arena, and the promise lets LLVM
    vectorize without runtime overlap checks.

    Example:
    ```mlir
    func.func @sinter_forward(%x: memref<2x3xf32> {sinter.name = "x"}, ...)
    // becomes
    func.func @sinter_forward(%x: memref<2x3xf32> {llvm.noalias}, ...)
    ```
  }];
}

#endif // SINTER_TARGET_PASSES
