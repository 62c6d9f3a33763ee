//===- PackKernels.cpp - the kernels that apply weight-pack plans ---------===//
//
// A weight-pack plan (`sinter.pack_plans`, docs/runtime.md "Weights") is
// applied when a session opens. On a GPU the runtime uploads each source
// once and builds the packed weight on the device: a copy piece is a strided
// copy the driver does (cuMemcpy2D), but a transposed piece needs a kernel,
// and kernels come from the compiler, never from .cu sources. This pass adds
// one `sinter_pack_transpose_<element bytes>` gpu.func per element size that
// some plan transposes, to the module's kernels; the runtime finds it by that
// name and launches it through the driver API. A module whose plans only
// copy gets no kernel.
//
// The kernel moves 32x32 tiles through shared memory (a row of 33 elements,
// so that the column reads hit distinct banks): both the reads of the source
// and the writes of the result are coalesced. Its parameters are raw
// pointers and sizes, so that one kernel serves every piece of that
// element size:
//
//   sinter_pack_transpose_N(dst, src, rows, cols, dstStride)
//     dst[c * dstStride + r] = src[r * cols + c]   (0 <= r < rows, c < cols)
//
// launched with 32x8 threads per block, ceil(cols / 32) blocks on x and up
// to 65535 on y (the blocks walk the row tiles with a stride of gridDim.y).
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/Pass/Pass.h"

#include <set>

using namespace mlir;

namespace sinter::cuda {

std::string packTransposeKernelName(int64_t elementBytes) {
  return "sinter_pack_transpose_" + std::to_string(elementBytes);
}

namespace {

constexpr int64_t kTile = 32, kRowsPerPass = 8;

/// Builds `sinter_pack_transpose_<bytes>` at the end of `into`. The element
/// is moved as an integer of its width: the bits are copied, never
/// converted.
void buildTransposeKernel(OpBuilder &b, Location loc, gpu::GPUModuleOp into,
                          int64_t bytes) {
  MLIRContext *ctx = b.getContext();
  Type elt = b.getIntegerType(unsigned(bytes * 8));
  auto global = LLVM::LLVMPointerType::get(ctx, 1);
  Type i64 = b.getI64Type();
  auto tileTy = MemRefType::get(
      {kTile, kTile + 1}, elt, MemRefLayoutAttrInterface(),
      gpu::AddressSpaceAttr::get(ctx,
                                 gpu::GPUDialect::getWorkgroupAddressSpace()));
  b.setInsertionPointToEnd(into.getBody());
  auto fn = gpu::GPUFuncOp::create(
      b, loc, packTransposeKernelName(bytes),
      b.getFunctionType({global, global, i64, i64, i64}, {}),
      TypeRange{tileTy});
  fn->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  // The runtime launches it with exactly this block (known_block_size lets
  // LLVM fold the thread-index ranges).
  fn.setKnownBlockSizeAttr(
      b.getDenseI32ArrayAttr({int32_t(kTile), int32_t(kRowsPerPass), 1}));
  Block &body = fn.getBody().front();
  b.setInsertionPointToStart(&body);

  Value dst = body.getArgument(0), src = body.getArgument(1);
  Value tile = fn.getWorkgroupAttributions()[0];
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  auto asIndex = [&](Value v) -> Value {
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
  };
  auto add = [&](Value x, Value y) -> Value {
    return arith::AddIOp::create(b, loc, x, y);
  };
  auto mul = [&](Value x, Value y) -> Value {
    return arith::MulIOp::create(b, loc, x, y);
  };
  auto lt = [&](Value x, Value y) -> Value {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, y);
  };
  auto element = [&](Value base, Value offset) -> Value {
    Value off = arith::IndexCastOp::create(b, loc, i64, offset);
    return LLVM::GEPOp::create(b, loc, global, elt, base, ValueRange{off});
  };
  Value rows = asIndex(body.getArgument(2));
  Value cols = asIndex(body.getArgument(3));
  Value dstStride = asIndex(body.getArgument(4));
  Value tx = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  Value ty = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::y);
  Value bx = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  Value by = gpu::BlockIdOp::create(b, loc, gpu::Dimension::y);
  Value gy = gpu::GridDimOp::create(b, loc, gpu::Dimension::y);
  Value c0 = mul(bx, idx(kTile));
  Value rowTiles = arith::CeilDivUIOp::create(b, loc, rows, idx(kTile));

  auto rowTileLoop = scf::ForOp::create(b, loc, by, rowTiles, gy);
  b.setInsertionPointToStart(rowTileLoop.getBody());
  Value r0 = mul(rowTileLoop.getInductionVar(), idx(kTile));
  // Each pass of the block covers 8 of the tile's 32 rows.
  auto passes = [&](function_ref<void(Value)> each) {
    auto loop = scf::ForOp::create(b, loc, idx(0), idx(kTile),
                                   idx(kRowsPerPass));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    each(add(ty, loop.getInductionVar()));
  };
  auto guarded = [&](Value cond, function_ref<void()> then) {
    auto ifOp = scf::IfOp::create(b, loc, cond, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    then();
  };
  // Source row r0 + i, columns c0 + tx: consecutive threads, consecutive
  // addresses.
  passes([&](Value i) {
    Value r = add(r0, i), c = add(c0, tx);
    Value inside = arith::AndIOp::create(b, loc, lt(r, rows), lt(c, cols));
    guarded(inside, [&] {
      Value v = LLVM::LoadOp::create(b, loc, elt,
                                     element(src, add(mul(r, cols), c)));
      memref::StoreOp::create(b, loc, v, tile, ValueRange{i, tx});
    });
  });
  gpu::BarrierOp::create(b, loc);
  // Result row c0 + i (source column), columns r0 + tx (source rows).
  passes([&](Value i) {
    Value c = add(c0, i), r = add(r0, tx);
    Value inside = arith::AndIOp::create(b, loc, lt(c, cols), lt(r, rows));
    guarded(inside, [&] {
      Value v = memref::LoadOp::create(b, loc, tile, ValueRange{tx, i});
      LLVM::StoreOp::create(b, loc, v,
                            element(dst, add(mul(c, dstStride), r)));
    });
  });
  // The next row tile overwrites the shared tile.
  gpu::BarrierOp::create(b, loc);
  b.setInsertionPointAfter(rowTileLoop);
  gpu::ReturnOp::create(b, loc);
}

struct PackKernelsPass
    : PassWrapper<PackKernelsPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(PackKernelsPass)
  StringRef getArgument() const final { return "sinter-cuda-pack-kernels"; }
  StringRef getDescription() const final {
    return "The transpose kernels the runtime launches to apply the "
           "module's weight-pack plans on the GPU";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<gpu::GPUDialect, arith::ArithDialect, scf::SCFDialect,
                    memref::MemRefDialect, LLVM::LLVMDialect>();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto plans = module->getAttrOfType<DictionaryAttr>("sinter.pack_plans");
    if (!plans)
      return;
    std::set<int64_t> sizes;
    for (NamedAttribute entry : plans) {
      auto plan = dyn_cast<DictionaryAttr>(entry.getValue());
      auto sources =
          plan ? plan.getAs<ArrayAttr>("sources") : ArrayAttr();
      auto transpose =
          plan ? plan.getAs<DenseBoolArrayAttr>("transpose")
               : DenseBoolArrayAttr();
      if (!sources || !transpose ||
          transpose.size() != int64_t(sources.size())) {
        module.emitError() << "weight-pack plan '" << entry.getName().getValue()
                           << "' is malformed (no sources, or not one "
                              "transpose flag per source)";
        return signalPassFailure();
      }
      for (auto [src, t] : llvm::zip(sources, transpose.asArrayRef())) {
        if (!t)
          continue;
        auto type = dyn_cast<ShapedType>(cast<TypedAttr>(src).getType());
        Type e = type ? type.getElementType() : Type();
        if (!e || !e.isIntOrFloat()) {
          module.emitError() << "weight-pack plan '"
                             << entry.getName().getValue()
                             << "' transposes a source of type "
                             << cast<TypedAttr>(src).getType()
                             << ", which the CUDA target cannot transpose";
          return signalPassFailure();
        }
        int64_t bytes = (int64_t(e.getIntOrFloatBitWidth()) + 7) / 8;
        if (!llvm::is_contained({1, 2, 4, 8}, bytes)) {
          module.emitError() << "weight-pack plan '"
                             << entry.getName().getValue()
                             << "' transposes " << e << " elements ("
                             << bytes << " bytes); the CUDA target's pack "
                             << "kernels move 1, 2, 4 or 8 bytes";
          return signalPassFailure();
        }
        sizes.insert(bytes);
      }
    }
    if (sizes.empty())
      return;
    // Into the kernels' module (after sinter-cuda-merge-modules there is
    // one), or a new one when the forward has no kernel at all.
    OpBuilder b(&getContext());
    gpu::GPUModuleOp into;
    for (auto m : module.getOps<gpu::GPUModuleOp>())
      into = into ? into : m;
    if (!into) {
      b.setInsertionPointToEnd(module.getBody());
      into = gpu::GPUModuleOp::create(b, module.getLoc(), "sinter_kernels");
      module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                      b.getUnitAttr());
    }
    for (int64_t bytes : sizes)
      if (!into.lookupSymbol(packTransposeKernelName(bytes)))
        buildTransposeKernel(b, module.getLoc(), into, bytes);
  }
};

} // namespace

std::unique_ptr<Pass> createPackKernelsPass() {
  return std::make_unique<PackKernelsPass>();
}
void registerPackKernelsPass() { PassRegistration<PackKernelsPass>(); }

} // namespace sinter::cuda
