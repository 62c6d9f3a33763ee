//===- BindDonatedOutputs.cpp - the sinter-bind-donated-outputs pass ------===//
//
// The second half of state donation (sinter-donate-state is the first).
// After bufferization a donated output is the donated input's buffer, and
// buffer-results-to-out-params copies it into the output's out-param: a
// whole-state copy per forward, the very thing donation is for. The copy
// goes; the out-param stays in the signature (the ABI keeps one pointer per
// output) and the runtime passes the input's buffer there.
//
//===----------------------------------------------------------------------===//

#include "sinter/Target/Passes.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

namespace sinter {
#define GEN_PASS_DEF_BINDDONATEDOUTPUTSPASS
#include "sinter/Target/Passes.h.inc"
} // namespace sinter

using namespace mlir;

namespace {

/// The buffer `v` is: through casts, and through loops that carry a
/// buffer unchanged (a bufferized scatter yields its iter_arg, so its
/// result is its init).
Value stripCasts(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (auto cast = dyn_cast<memref::CastOp>(def)) {
      v = cast.getSource();
      continue;
    }
    if (auto loop = dyn_cast<scf::ForOp>(def)) {
      unsigned n = cast<OpResult>(v).getResultNumber();
      auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
      if (yield.getOperand(n) == loop.getRegionIterArg(n)) {
        v = loop.getInitArgs()[n];
        continue;
      }
    }
    break;
  }
  return v;
}

struct BindDonatedOutputsPass
    : sinter::impl::BindDonatedOutputsPassBase<BindDonatedOutputsPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp f = getOperation();
    if (!f->hasAttr("sinter.entry") || f.isExternal())
      return;
    auto numInputs = f->getAttrOfType<IntegerAttr>("sinter.num_inputs");
    if (!numInputs)
      return;
    unsigned numIn = unsigned(numInputs.getInt());
    Builder b(&getContext());
    SmallVector<Attribute> pairs;
    for (unsigned a = numIn, e = f.getNumArguments(); a < e; ++a) {
      auto from = f.getArgAttrOfType<IntegerAttr>(a, "sinter.donated_from");
      if (!from)
        continue;
      unsigned in = unsigned(from.getInt());
      auto name = [&](unsigned i) {
        auto n = f.getArgAttrOfType<StringAttr>(i, "sinter.name");
        return n ? n.str() : "#" + std::to_string(i);
      };
      BlockArgument out = f.getArgument(a);
      SmallVector<memref::CopyOp> copies;
      bool otherUse = false;
      for (Operation *user : out.getUsers()) {
        auto copy = dyn_cast<memref::CopyOp>(user);
        if (copy && copy.getTarget() == out)
          copies.push_back(copy);
        else
          otherUse = true;
      }
      if (in >= numIn || otherUse || copies.size() != 1 ||
          stripCasts(copies.front().getSource()) != f.getArgument(in)) {
        emitError(f.getLoc()) << "donated output '" << name(a)
                      << "' is not written in place into input '"
                      << (in < numIn ? name(in) : "?")
                      << "' after bufferization (sinter-donate-state "
                         "accepted the pair; this is a compiler bug: "
                         "compile with --no-donate to work around it)";
        return signalPassFailure();
      }
      Value src = copies.front().getSource();
      copies.front()->erase();
      // A cast left unused goes; anything else (the loop that wrote the
      // state) stays, used or not.
      if (auto cast = src.getDefiningOp<memref::CastOp>();
          cast && cast->use_empty())
        cast->erase();
      pairs.push_back(b.getI64ArrayAttr({int64_t(in), int64_t(a - numIn)}));
    }
    if (!pairs.empty())
      f->setAttr("sinter.donations", b.getArrayAttr(pairs));
  }
};

} // namespace
