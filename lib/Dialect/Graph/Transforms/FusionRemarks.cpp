//===- FusionRemarks.cpp - how fuse-phase passes report decisions ---------===//

#include "sinter/Dialect/Graph/Transforms/FusionRemarks.h"

#include "mlir/IR/Diagnostics.h"

using namespace mlir;

namespace sinter {

static void remark(Operation *anchor, llvm::StringRef passArg,
                   llvm::StringRef kind, const llvm::Twine &text,
                   ArrayRef<Operation *> involved) {
  InFlightDiagnostic d = anchor->emitRemark();
  d << passArg << ": " << kind << ": " << text;
  for (Operation *op : involved)
    d.attachNote(op->getLoc()) << "involves: " << op->getName();
}

void remarkFused(Operation *anchor, llvm::StringRef passArg,
                 const llvm::Twine &what, ArrayRef<Operation *> involved) {
  remark(anchor, passArg, "fused", what, involved);
}

void remarkRefused(Operation *anchor, llvm::StringRef passArg,
                   const llvm::Twine &why, ArrayRef<Operation *> involved) {
  remark(anchor, passArg, "refused", why, involved);
}

} // namespace sinter
