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

def SplitEmptyTensorsPass : Pass<"sinter-split-empty-tensors", "::mlir::func::FuncOp"> {
  let summary = "Gives every use of a tensor.empty its own tensor.empty";
  let description = [{
    Runs in the lower phase before empty-tensor elimination and one-shot
    bufferization. CSE merges the `tensor.empty` ops of one type into one,
    so every linalg op with an init of that type writes into the same
    value; one-shot bufferization's analysis puts all their results in one
    alias set and checks each write against every read of the set, which is
    quadratic in the number of ops (HF's exported Qwen3.5 nano: one empty
    with 768 uses, the lower phase did not finish in 10 minutes; 6 s with
    this pass). A `tensor.empty` has no contents, so one per use means the
    same program. The copies sit right after the original (same block), so
    an empty used inside a loop still allocates outside it.

    Example:
    ```mlir
    %e = tensor.empty() : tensor<4xf32>
    %a = linalg.fill ins(%x : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
    %b = linalg.fill ins(%y : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
    // becomes
    %e = tensor.empty() : tensor<4xf32>
    %e1 = tensor.empty() : tensor<4xf32>
    %a = linalg.fill ins(%x : f32) outs(%e1 : tensor<4xf32>) -> tensor<4xf32>
    %b = linalg.fill ins(%y : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
    ```
  }];
}

def DonateStatePass : Pass<"sinter-donate-state", "::mlir::ModuleOp"> {
  let summary = "Lets a state output be written in place into the input it updates";
  let description = [{
    Runs in the lower phase on tensors, after `sinter-prepare-entry`, the
    conversion to linalg and empty-tensor elimination, right before
    one-shot bufferization. A pair (input `IN`, output `OUT`) is *donated*
    when `OUT` can live in `IN`'s buffer: the forward then writes the
    update (a KV-cache row, a shifted convolution state, a recurrent state)
    into the caller's input buffer and no copy of the whole state is made.
    After the run the input holds the updated state and the output is a
    view of it (docs/runtime.md).

    Candidates: every pair forced with `donate=IN:OUT`, and, unless
    `auto=false`, the pairs whose names follow the state convention
    (`past_X` / `present_X`, `X` / `present.X`, `past_key_values.N.k` /
    `present.N.k`, `X_in` / `X_out`). Names only propose; a candidate is
    donated when the dataflow proves it:

    1. `IN` and `OUT` have the same dtype and shape, and the value of `OUT`
       is returned once (not also another output).
    2. `OUT` is `IN` updated: a chain from `IN` to `OUT` of ops that write
       into their destination (a linalg op's init, `tensor.insert_slice`'s
       destination, an `scf.for` iter_arg, which is what scatters lower
       to), of elementwise `linalg.generic`s (all loops parallel, identity
       maps) that read the state at the index they write (their init is
       switched to the state), or of the state shift
       `extract_slice(concat(IN, x))` (rewritten to move the kept columns
       through a temporary of their size and insert `x`).
    3. One-shot bufferization's own analysis, run on a copy of the module
       with the candidates' inputs writable, finds the returned value
       equivalent to `IN`: no read of `IN` (or of an older version of the
       state) comes after the write that overwrites it. Candidates are
       dropped until the set is stable.

    A forced pair that fails is an error that names both values and the
    reason; an automatic one is skipped, and the reason is recorded in the
    entry's `sinter.donation_refusals` (printed by `sinterc --report`).
    Donated inputs get `bufferization.writable = true` and
    `sinter.donate_to = J`; the output `sinter.donated_from = I`.

    Example:
    ```mlir
    func.func @sinter_forward(%k: tensor<4x8xf32> {sinter.name = "past_key"},
        %x: tensor<1x8xf32> ...) -> (tensor<4x8xf32> {sinter.name = "present_key"}) {
      %r = tensor.insert_slice %x into %k[1, 0] [1, 8] [1, 1] : ...
    // %k becomes {bufferization.writable = true, sinter.donate_to = 0 : i64},
    // the result {sinter.donated_from = 0 : i64}
    ```
  }];
  let options = [
    ListOption<"donate", "donate", "std::string",
               "Pairs IN:OUT (value names) to donate; an unsafe one is an error">,
    Option<"automatic", "auto", "bool", /*default=*/"true",
           "Also donate the state pairs found by the name convention and proven safe">,
  ];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
    "::mlir::bufferization::BufferizationDialect"
  ];
}

def BindDonatedOutputsPass : Pass<"sinter-bind-donated-outputs", "::mlir::func::FuncOp"> {
  let summary = "Drops the copy of a donated output and records the donations";
  let description = [{
    Runs on the entry right after buffer-results-to-out-params. For each
    output marked `sinter.donated_from = I` by `sinter-donate-state`, the
    out-param receives a `memref.copy` of input `I` (bufferization wrote
    the update in place and returned `I`'s buffer); that copy is erased and
    the out-param, now unused, gets `sinter.donated_from = I`: the runtime
    passes input `I`'s buffer in its place. If the copy's source is not
    input `I` (bufferization did not update in place after all), the pass
    fails naming both values: no silent whole-state copy. The entry gets
    `sinter.donations = [[I, J], ...]` when there is any (input, output index) for the model
    descriptor and the report.

    Example:
    ```mlir
    memref.copy %past_key, %present_key : memref<4x8xf32> to memref<4x8xf32>
    // is erased; %present_key {sinter.donated_from = 0 : i64}
    ```
  }];
}

def BindWeightsPass : Pass<"sinter-bind-weights", "::mlir::ModuleOp"> {
  let summary = "Weights the runtime provides at load time: slots and the weight table";
  let description = [{
    Runs on the LLVM dialect (host code). A global whose data is external
    (a resource listed in the importer's `sinter.external_data`) or the
    result of a weight-pack plan (a blobless resource listed in
    `sinter.pack_plans` by the pack_weights lowering) gets a slot, an
    external pointer global `sinter_weight_slot_N` that the runtime fills
    when a session opens; every `llvm.mlir.addressof` of the weight in a
    host function becomes a load of the slot, and the global itself is
    erased, so its bytes are neither read nor embedded. With `device`
    (the CUDA target) every constant global the host code takes the address
    of gets a slot too (the runtime uploads it at load time); its bytes stay
    as `sinter_weight_data_N`.

    The result is the module attributes `sinter.weights` (one dictionary per
    weight: name, type, bytes, and slot / data / file, offset, file_bytes /
    pack) and `sinter.packs` (axis and pieces `[op, source, offset]`, op 0 =
    copy, 1 = 2-D transpose), from which the package phase writes the
    executable's weight table. A weight without data and without a
    load-time source is an error naming it.

    Kernel workspaces (globals named in the module attribute
    `sinter.workspaces`, by the CUDA templates' zeroWorkspace) are not
    weights: each moves into the forward's arena (the entry's last
    argument) after its `sinter.arena_bytes`, 256-byte aligned, so that it
    is per session rather than per loaded model; the entry's
    `sinter.arena_bytes` grows and the module gets `sinter.arena_bytes` and
    `sinter.workspace_bytes` (sinterc puts them in the descriptor and the
    report). A workspace used outside the entry is an error.

    Example (CPU):
    ```mlir
    llvm.mlir.global private constant @__constant_w(dense_resource<w>) : !llvm.array<...>
    %0 = llvm.mlir.addressof @__constant_w : !llvm.ptr
    // becomes
    llvm.mlir.global external @sinter_weight_slot_0() : !llvm.ptr
    %s = llvm.mlir.addressof @sinter_weight_slot_0 : !llvm.ptr
    %0 = llvm.load %s : !llvm.ptr -> !llvm.ptr
    ```
  }];
  let options = [
    Option<"device", "device", "bool", /*default=*/"false",
           "Give every weight the host code uses a slot (GPU targets)">,
  ];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
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
    `sinter.unplanned_allocs` attributes for the compile report, and
    `sinter.copy_bytes`: the bytes moved by `memref.copy` and `linalg.copy`
    ops (each counted once, even in a loop), the data movement that is not
    computation (state donation removes the whole-state copies).

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
    vectorize without runtime overlap checks. The exception is a donated
    output (`sinter.donated_from`, see `sinter-bind-donated-outputs`): the
    runtime passes its input's buffer there, so it gets no `noalias` (the
    forward never uses it).

    Example:
    ```mlir
    func.func @sinter_forward(%x: memref<2x3xf32> {sinter.name = "x"}, ...)
    // becomes
    func.func @sinter_forward(%x: memref<2x3xf32> {llvm.noalias}, ...)
    ```
  }];
}

def OutlineLoopsPass : Pass<"sinter-outline-loops", "::mlir::ModuleOp"> {
  let summary = "Moves each top-level loop nest of a large entry into its own function";
  let description = [{
    Runs in the CPU codegen phase after linalg is lowered to loops. LLVM's
    loop passes (IndVarSimplify, LoopVectorize, LoopRotate) and the x86
    backend cost more than linearly in the size of one function: HF's
    exported Qwen3.5 micro, one entry of 735 loop nests, spent 27 s in
    `opt -O2` and 12 s in `llc`. When the entry has at least `min-loops`
    top-level `scf.for` / `scf.parallel` ops without results, each becomes
    a private function (internal linkage, `noinline`, so the inliner does
    not undo it) called from the entry, and LLVM optimizes many small
    functions instead of one large one.

    Captured values become arguments; constants are cloned into the
    function. A captured memref whose layout has a dynamic offset or
    stride cannot be a bare pointer (the CPU target's calling
    convention), so the view ops that made it (subview, casts, reshapes)
    are cloned into the function and their sources passed instead; a loop
    that needs such a memref from any other op stays in the entry.

    Example:
    ```mlir
    func.func @sinter_forward(%a: memref<4xf32>, ...) {
      scf.for %i = %c0 to %c4 step %c1 { ... memref.store %v, %a[%i] ... }
    // becomes
    func.func @sinter_forward(%a: memref<4xf32>, ...) {
      call @sinter_forward_loop_0(%a) : (memref<4xf32>) -> ()
    func.func private @sinter_forward_loop_0(%a: memref<4xf32>)
        attributes {llvm.linkage = #llvm.linkage<internal>, passthrough = ["noinline"]}
    ```
  }];
  let options = [
    Option<"minLoops", "min-loops", "unsigned", /*default=*/"256",
           "Outline only when the entry has at least this many top-level loop nests">,
  ];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def SinkDynamicViewsPass : Pass<"sinter-sink-dynamic-views", "::mlir::ModuleOp"> {
  let summary = "Rebuilds dynamic-offset views inside the gpu.launch that uses them";
  let description = [{
    Runs in the CUDA codegen phase right before kernel outlining. Kernels
    take memrefs as bare pointers, so a memref with a dynamic offset or
    stride cannot be a kernel parameter ("failed to legalize operation
    'gpu.func'"). A loop that launches a kernel per iteration on a slice
    (CumSum's scan, in HF's exported Qwen3.5) captures such a subview. The
    view ops that made it (subview, casts, reshapes) are cloned into the
    launch body, so the kernel gets their static source and the index
    operands instead. A dynamic memref from any other op is left as it is
    (and still refused by the lowering).

    Example:
    ```mlir
    %s = memref.subview %m[0, %i] [4, 1] [1, 1] : memref<4x64xf32> to memref<4x1xf32, strided<[64, 1], offset: ?>>
    gpu.launch ... { ... memref.load %s[%t, %c0] ... }
    // becomes
    gpu.launch ... {
      %s2 = memref.subview %m[0, %i] [4, 1] [1, 1] : ...
      ... memref.load %s2[%t, %c0] ...
    }
    ```
  }];
}

#endif // SINTER_TARGET_PASSES
