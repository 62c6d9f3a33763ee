//===- FinalizeEntry.cpp - the sinter-finalize-entry pass -----------------===//
//
// The last touch on the entry's signature before it becomes an LLVM
// function: the compiler's own argument attributes go (the descriptor was
// read from them at the end of the lower phase) and `llvm.noalias` comes,
// except on a donated output, whose pointer is its input's buffer.
//
//===----------------------------------------------------------------------===//

#include "sinter/Target/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace sinter {
#define GEN_PASS_DEF_FINALIZEENTRYPASS
#include "sinter/Target/Passes.h.inc"
} // namespace sinter

using namespace mlir;

namespace {
struct FinalizeEntryPass
    : sinter::impl::FinalizeEntryPassBase<FinalizeEntryPass> {
  using Base::Base;
  void runOnOperation() override {
    func::FuncOp f = getOperation();
    if (!f->hasAttr("sinter.entry") || f.isExternal())
      return;
    Builder b(&getContext());
    for (unsigned i = 0, e = f.getNumArguments(); i < e; ++i) {
      NamedAttrList kept;
      for (NamedAttribute a : f.getArgAttrDict(i)
                                  ? f.getArgAttrDict(i).getValue()
                                  : ArrayRef<NamedAttribute>())
        if (a.getName().strref().starts_with("llvm."))
          kept.push_back(a);
      // A donated output's pointer is its input's buffer: never noalias
      // (it is unused, but the promise would be false).
      if (isa<MemRefType>(f.getArgumentTypes()[i]) &&
          !f.getArgAttr(i, "sinter.donated_from"))
        kept.set(LLVM::LLVMDialect::getNoAliasAttrName(), b.getUnitAttr());
      f.setArgAttrs(i, kept.getDictionary(&getContext()));
    }
  }
};
} // namespace
