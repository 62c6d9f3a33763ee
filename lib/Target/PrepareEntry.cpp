//===- PrepareEntry.cpp - the sinter-prepare-entry pass -------------------===//
//
// Turns the importer's `@main` into the entry point the runtime calls. The
// checks here are the ones a user can trip over (a dynamic input shape, a
// dtype the runtime cannot pass), so each error names the value and says
// what to do; later passes would fail on the same IR with far less helpful
// messages.
//
//===----------------------------------------------------------------------===//

#include "sinter/Target/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/IR/SymbolTable.h"

namespace sinter {
#define GEN_PASS_DEF_PREPAREENTRYPASS
#include "sinter/Target/Passes.h.inc"
} // namespace sinter

using namespace mlir;

namespace {

bool isSupportedElementType(Type t) {
  return t.isF32() || t.isF16() || t.isBF16() || t.isF64() ||
         t.isSignlessInteger(64) || t.isSignlessInteger(32) ||
         t.isSignlessInteger(16) || t.isSignlessInteger(8) ||
         t.isSignlessInteger(1);
}

std::string valueName(func::FuncOp f, bool isInput, unsigned i) {
  StringAttr name = isInput
                        ? f.getArgAttrOfType<StringAttr>(i, "sinter.name")
                        : f.getResultAttrOfType<StringAttr>(i, "sinter.name");
  return name ? name.str() : "#" + std::to_string(i);
}

struct PrepareEntryPass : sinter::impl::PrepareEntryPassBase<PrepareEntryPass> {
  using Base::Base;

  LogicalResult checkType(func::FuncOp f, bool isInput, unsigned i, Type t) {
    std::string what =
        (isInput ? "input '" : "output '") + valueName(f, isInput, i) + "'";
    auto tensor = dyn_cast<RankedTensorType>(t);
    if (!tensor)
      return f.emitError() << what << " has type " << t
                           << ", but a compiled model passes only ranked "
                              "tensors";
    if (!tensor.hasStaticShape()) {
      InFlightDiagnostic d = f.emitError()
                             << what << " has the dynamic shape " << t
                             << ": code generation needs static shapes";
      if (isInput)
        d << "; fix them with sinterc --input-shape " << valueName(f, true, i)
          << "=D0x...xDn (or DIMPARAM=N for a "
          << "named dimension)";
      else
        d << "; fix the inputs' shapes with sinterc --input-shape";
      return d;
    }
    if (!isSupportedElementType(tensor.getElementType()))
      return f.emitError() << what << " has element type "
                           << tensor.getElementType()
                           << ", which the runtime cannot pass (supported: "
                              "f32, f16, bf16, f64, i64, i32, i16, i8, i1)";
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> publics;
    for (func::FuncOp f : module.getOps<func::FuncOp>())
      if (f.isPublic() && !f.isExternal())
        publics.push_back(f);
    if (publics.size() != 1) {
      module.emitError() << "expected exactly one public function (the "
                            "model's forward), found "
                         << publics.size();
      return signalPassFailure();
    }
    func::FuncOp f = publics.front();
    if (Operation *clash = SymbolTable::lookupSymbolIn(module, entryName);
        clash && clash != f.getOperation()) {
      clash->emitError() << "the symbol '" << entryName
                         << "' is reserved for the model's forward function";
      return signalPassFailure();
    }

    bool ok = true;
    for (auto [i, t] : llvm::enumerate(f.getArgumentTypes()))
      ok &= succeeded(checkType(f, true, i, t));
    // Outputs only when the inputs are fine: a dynamic input makes every
    // output dynamic, and one error with its fix says it all.
    for (auto [i, t] : llvm::enumerate(f.getResultTypes()))
      ok = ok && succeeded(checkType(f, false, i, t));
    if (!ok)
      return signalPassFailure();

    Builder b(&getContext());
    for (unsigned i = 0, e = f.getNumArguments(); i < e; ++i)
      f.setArgAttr(i, bufferization::BufferizationDialect::kWritableAttrName,
                   b.getBoolAttr(false));
    if (f.getSymName() != entryName) {
      if (failed(SymbolTable::replaceAllSymbolUses(
              f, b.getStringAttr(entryName), module))) {
        f.emitError() << "cannot rename the forward function to '" << entryName
                      << "'";
        return signalPassFailure();
      }
      f.setSymName(entryName);
    }
    f->setAttr("sinter.entry", b.getUnitAttr());
    // After buffer-results-to-out-params the outputs are arguments too.
    f->setAttr("sinter.num_inputs", b.getI64IntegerAttr(f.getNumArguments()));
  }
};

} // namespace
