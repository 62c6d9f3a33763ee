//===- OutlineLoops.cpp - the sinter-outline-loops pass -------------------===//
//
// One function per loop nest for large CPU entries. LLVM's loop passes and
// the x86 backend scale worse than linearly with the size of a function,
// and an exported model with thousands of kernels is one function: HF's
// Qwen3.5 export spent most of its compile in IndVarSimplify and
// LoopVectorize. Outlined loops are noinline so that the inliner does not
// rebuild the large function.
//
//===----------------------------------------------------------------------===//

#include "sinter/Target/Passes.h"

#include "BarePointer.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

namespace sinter {
#define GEN_PASS_DEF_OUTLINELOOPSPASS
#include "sinter/Target/Passes.h.inc"
} // namespace sinter

using namespace mlir;
using sinter::isBarePointerMemRef;
using sinter::isClonableView;

namespace {

struct Outline {
  SmallVector<Value> args;            // passed from the entry
  SmallVector<Operation *> clones;    // rebuilt inside, in program order
};

/// What outlining `loop` needs, or failure when a captured memref cannot be
/// passed or rebuilt.
FailureOr<Outline> planOutline(Operation *loop) {
  llvm::SetVector<Value> captured;
  getUsedValuesDefinedAbove(loop->getRegions(), captured);
  for (Value v : loop->getOperands())
    captured.insert(v);
  Outline plan;
  llvm::SetVector<Value> args;
  llvm::SetVector<Operation *> clones;
  // First seen, first passed: the arguments follow the loop's own order.
  SmallVector<Value> work(captured.begin(), captured.end());
  for (size_t i = 0; i < work.size(); ++i) {
    Value v = work[i];
    Operation *def = v.getDefiningOp();
    if (def && def->hasTrait<OpTrait::ConstantLike>()) {
      clones.insert(def);
      continue;
    }
    if (isBarePointerMemRef(v.getType())) {
      args.insert(v);
      continue;
    }
    if (!def || !isClonableView(def) || def->getBlock() != loop->getBlock())
      return failure();
    if (clones.insert(def))
      for (Value operand : def->getOperands())
        work.push_back(operand);
  }
  plan.args.assign(args.begin(), args.end());
  plan.clones.assign(clones.begin(), clones.end());
  // All in the loop's block: the loop is a top-level op of the entry.
  llvm::sort(plan.clones,
             [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
  return plan;
}

struct OutlineLoopsPass
    : sinter::impl::OutlineLoopsPassBase<OutlineLoopsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<func::FuncOp> entries;
    for (auto f : module.getOps<func::FuncOp>())
      if (f->hasAttr("sinter.entry") && !f.isExternal())
        entries.push_back(f);
    for (func::FuncOp entry : entries)
      outlineEntry(entry, symbols);
  }

  void outlineEntry(func::FuncOp entry, SymbolTable &symbols) {
    SmallVector<Operation *> loops;
    for (Operation &op : entry.getBody().getOps())
      if (isa<scf::ForOp, scf::ParallelOp>(op) && op.getNumResults() == 0)
        loops.push_back(&op);
    if (loops.size() < minLoops)
      return;
    MLIRContext *ctx = &getContext();
    OpBuilder b(ctx);
    auto internal = LLVM::LinkageAttr::get(ctx, LLVM::Linkage::Internal);
    auto noinline = b.getArrayAttr({b.getStringAttr("noinline")});
    unsigned n = 0;
    llvm::SetVector<Operation *> cloned;
    for (Operation *loop : loops) {
      FailureOr<Outline> plan = planOutline(loop);
      if (failed(plan))
        continue; // a memref the calling convention cannot pass: stays inline
      SmallVector<Type> types;
      for (Value v : plan->args)
        types.push_back(v.getType());
      b.setInsertionPointAfter(entry);
      auto fn = func::FuncOp::create(
          b, loop->getLoc(),
          (entry.getSymName() + "_loop_" + Twine(n++)).str(),
          b.getFunctionType(types, {}));
      fn.setPrivate();
      fn->setAttr("llvm.linkage", internal); // read by func-to-llvm
      fn->setAttr("passthrough", noinline);
      symbols.insert(fn);
      Block *body = fn.addEntryBlock();
      IRMapping map;
      for (auto [v, arg] : llvm::zip(plan->args, body->getArguments()))
        map.map(v, arg);
      b.setInsertionPointToStart(body);
      for (Operation *op : plan->clones) {
        b.clone(*op, map);
        cloned.insert(op);
      }
      b.clone(*loop, map);
      func::ReturnOp::create(b, loop->getLoc());
      b.setInsertionPoint(loop);
      func::CallOp::create(b, loop->getLoc(), fn, plan->args);
      loop->erase();
    }
    // The views and constants only the outlined loops used: users first.
    SmallVector<Operation *> dead = cloned.takeVector();
    llvm::sort(dead,
               [](Operation *a, Operation *b) { return b->isBeforeInBlock(a); });
    for (Operation *op : dead)
      if (isOpTriviallyDead(op))
        op->erase();
  }
};

} // namespace
