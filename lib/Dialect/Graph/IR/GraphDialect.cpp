//===- GraphDialect.cpp - the sinter dialect registration -----------------===//

#include "sinter/Dialect/Graph/IR/GraphOps.h"

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace sinter;

#include "sinter/Dialect/Graph/IR/GraphOpsDialect.cpp.inc"
#include "sinter/Dialect/Graph/IR/GraphEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "sinter/Dialect/Graph/IR/GraphAttrs.cpp.inc"

void SinterDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "sinter/Dialect/Graph/IR/GraphOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "sinter/Dialect/Graph/IR/GraphAttrs.cpp.inc"
      >();
}
