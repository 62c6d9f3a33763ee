//===- BindWeights.cpp - the sinter-bind-weights pass ---------------------===//
//
// Weights whose bytes the executable must not carry (external data) or
// cannot carry (a pack plan's result, which exists only after load time), and
// on a GPU every weight (the kernels need device copies), are read by the
// forward through a slot: a pointer global the runtime fills when a session
// opens. This pass, on the LLVM dialect, gives each such weight its slot,
// turns every `llvm.mlir.addressof` of the weight in host code into a load
// of the slot, and describes the weights and plans in the module attributes
// `sinter.weights` and `sinter.packs`, from which the package phase writes
// the executable's weight table (docs/runtime.md, "Weights").
//
// Where a weight comes from is told by the importer and the pack lowering:
// `sinter.external_data` maps a resource key to its file, offset and
// length; `sinter.pack_plans` maps the key of a plan's blobless resource to
// the plan. Both are consumed here. External data is never read.
//
// Kernel workspaces (the CUDA templates' scratch globals, listed in
// `sinter.workspaces` by zeroWorkspace) are not weights: a weight's device
// copy is one per loaded model, shared by its sessions, and two forwards
// in flight would race on it. They move into the forward's arena, past the
// memory plan's bytes, which each session (and each generation graph) has
// to itself and the runtime zeroes once when it allocates it; the entry's
// `sinter.arena_bytes` grows and the module gets the new total
// (docs/runtime.md, "Kernel workspaces").
//
//===----------------------------------------------------------------------===//

#include "sinter/Target/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"
#include "llvm/Support/MathExtras.h"

namespace sinter {
#define GEN_PASS_DEF_BINDWEIGHTSPASS
#include "sinter/Target/Passes.h.inc"
} // namespace sinter

using namespace mlir;

namespace {

std::optional<StringRef> resourceKey(Attribute value) {
  if (auto r = dyn_cast_or_null<DenseResourceElementsAttr>(value))
    return r.getRawHandle().getKey();
  return std::nullopt;
}

/// The tensor type of a global's value: 0-d memrefs lower to a scalar
/// attribute, the rest keep their ElementsAttr.
ShapedType valueType(Attribute value) {
  if (auto e = dyn_cast<ElementsAttr>(value))
    return cast<ShapedType>(e.getType());
  return RankedTensorType::get({}, cast<TypedAttr>(value).getType());
}

struct BindWeightsPass : sinter::impl::BindWeightsPassBase<BindWeightsPass> {
  using Base::Base;

  ModuleOp module;
  DictionaryAttr external, plans;
  SmallVector<NamedAttrList> weights;
  SmallVector<Attribute> packs;
  /// Weight-table index of a source value (external resources, inline data)
  /// so that a weight read directly and by a plan is loaded once.
  DenseMap<Attribute, int64_t> indexOfValue;
  DenseMap<StringAttr, SmallVector<LLVM::AddressOfOp>> hostUses,
      initializerUses;

  int64_t addWeight(StringRef name, ShapedType type, int64_t bytes) {
    Builder b(module.getContext());
    NamedAttrList w;
    w.set("name", b.getStringAttr(name));
    w.set("type", TypeAttr::get(type));
    w.set("bytes", b.getI64IntegerAttr(bytes));
    weights.push_back(std::move(w));
    return int64_t(weights.size()) - 1;
  }

  /// The table entry of an external-data resource `value` (key `key`).
  int64_t externalWeight(Attribute value, DictionaryAttr ext) {
    if (auto it = indexOfValue.find(value); it != indexOfValue.end())
      return it->second;
    auto get = [&](StringRef k) { return ext.get(k); };
    int64_t i = addWeight(cast<StringAttr>(get("name")).getValue(),
                          cast<ShapedType>(cast<TypedAttr>(value).getType()),
                          cast<IntegerAttr>(get("bytes")).getInt());
    weights[i].set("file", get("file"));
    weights[i].set("offset", get("offset"));
    weights[i].set("file_bytes", get("file_bytes"));
    indexOfValue[value] = i;
    return i;
  }

  /// Replaces every address of `global` in host functions by a load of a
  /// new slot for weight `index`.
  void bindSlot(LLVM::GlobalOp global, int64_t index) {
    MLIRContext *ctx = module.getContext();
    OpBuilder b(ctx);
    auto ptrTy = LLVM::LLVMPointerType::get(ctx);
    std::string name = "sinter_weight_slot_" + std::to_string(index);
    b.setInsertionPoint(global);
    auto slot = LLVM::GlobalOp::create(
        b, global.getLoc(), ptrTy, /*isConstant=*/false,
        LLVM::Linkage::External, name, Attribute(), /*alignment=*/8,
        /*addrSpace=*/0, /*dsoLocal=*/true);
    Region &init = slot.getInitializerRegion();
    if (init.empty())
      init.emplaceBlock();
    b.setInsertionPointToStart(&init.front());
    Value null = LLVM::ZeroOp::create(b, global.getLoc(), ptrTy);
    LLVM::ReturnOp::create(b, global.getLoc(), null);

    // Taken out of the index: the new loads replace them (the slot's own
    // addresses are not weights and are never bound).
    SmallVector<LLVM::AddressOfOp> uses =
        hostUses.lookup(global.getSymNameAttr());
    hostUses.erase(global.getSymNameAttr());
    for (LLVM::AddressOfOp a : uses) {
      b.setInsertionPoint(a);
      Value addr = LLVM::AddressOfOp::create(b, a.getLoc(), slot);
      Value ptr = LLVM::LoadOp::create(b, a.getLoc(), ptrTy, addr, 8);
      a.getResult().replaceAllUsesWith(ptr);
      a.erase();
    }
    weights[index].set("slot", b.getStringAttr(name));
  }

  /// `global` keeps its bytes in the executable under a name the weight
  /// table (another object file) can refer to.
  void exportData(LLVM::GlobalOp global, int64_t index) {
    auto name = StringAttr::get(module.getContext(),
                                "sinter_weight_data_" + std::to_string(index));
    // The host's addresses of the global are in the index; renaming them
    // there instead of through SymbolTable::replaceAllSymbolUses (a walk of
    // the whole module per weight) keeps the pass linear in the model.
    for (auto *table : {&hostUses, &initializerUses}) {
      auto it = table->find(global.getSymNameAttr());
      if (it == table->end())
        continue;
      SmallVector<LLVM::AddressOfOp> uses = std::move(it->second);
      table->erase(it);
      for (LLVM::AddressOfOp a : uses)
        a.setGlobalName(name.getValue());
      (*table)[name] = std::move(uses);
    }
    global.setSymName(name);
    global.setLinkage(LLVM::Linkage::External);
    global.setDsoLocal(true);
    weights[index].set("data", name);
  }

  /// The table entry of an inline pack source: an existing global with the
  /// same data, else a new one.
  FailureOr<int64_t> inlineWeight(ElementsAttr value, Location loc) {
    if (auto it = indexOfValue.find(value); it != indexOfValue.end())
      return it->second;
    auto type = cast<ShapedType>(value.getType());
    DataLayout dl(module);
    LLVM::GlobalOp global;
    for (auto g : module.getOps<LLVM::GlobalOp>())
      if (g.getConstant() && g.getValueOrNull() == value)
        global = g;
    if (!global) {
      if (!isa<DenseElementsAttr, DenseResourceElementsAttr>(value) ||
          type.getElementType().isInteger(1) || !type.getRank())
        return emitError(loc) << "a weight-pack source of type " << type
                              << " is neither external data nor dense "
                                 "numeric data",
               failure();
      Type arrayTy = type.getElementType();
      for (int64_t d : llvm::reverse(type.getShape()))
        arrayTy = LLVM::LLVMArrayType::get(arrayTy, d);
      OpBuilder b(module.getContext());
      b.setInsertionPointToEnd(module.getBody());
      global = LLVM::GlobalOp::create(b, loc, arrayTy, /*isConstant=*/true,
                                      LLVM::Linkage::Private, "sinter_src",
                                      value, /*alignment=*/64);
    }
    std::string what;
    llvm::raw_string_ostream os(what);
    os << "(inline " << type.getElementType() << "[";
    llvm::interleave(type.getShape(), os, ",");
    os << "])";
    int64_t i = addWeight(what, type, dl.getTypeSize(global.getGlobalType()));
    exportData(global, i);
    indexOfValue[value] = i;
    return i;
  }

  LogicalResult bindPack(LLVM::GlobalOp global, DictionaryAttr plan) {
    auto type = cast<ShapedType>(cast<TypedAttr>(*global.getValue()).getType());
    auto sources = cast<ArrayAttr>(plan.get("sources"));
    auto offsets = cast<DenseI64ArrayAttr>(plan.get("offsets"));
    auto transpose = cast<DenseBoolArrayAttr>(plan.get("transpose"));
    Builder b(module.getContext());
    SmallVector<Attribute> pieces;
    std::string name;
    for (auto [k, src] : llvm::enumerate(sources)) {
      int64_t index;
      std::optional<StringRef> key = resourceKey(src);
      if (DictionaryAttr ext =
              key && external ? external.getAs<DictionaryAttr>(*key) : nullptr)
        index = externalWeight(src, ext);
      else if (FailureOr<int64_t> i =
                   inlineWeight(cast<ElementsAttr>(src), global.getLoc());
               succeeded(i))
        index = *i;
      else
        return failure();
      name += (name.empty() ? "" : ", ") +
              cast<StringAttr>(weights[index].get("name")).str();
      // [op, source, offset]; op 1 = SINTER_PACK_TRANSPOSE.
      pieces.push_back(
          b.getDenseI64ArrayAttr({transpose[k] ? 1 : 0, index, offsets[k]}));
    }
    int64_t i =
        addWeight("pack(" + name + ")", type,
                  DataLayout(module).getTypeSize(global.getGlobalType()));
    weights[i].set("pack", b.getI64IntegerAttr(int64_t(packs.size())));
    packs.push_back(b.getDictionaryAttr(
        {b.getNamedAttr("axis", plan.get("axis")),
         b.getNamedAttr("pieces", b.getArrayAttr(pieces))}));
    bindSlot(global, i);
    return success();
  }

  bool usedByHost(LLVM::GlobalOp global) {
    auto it = hostUses.find(global.getSymNameAttr());
    return it != hostUses.end() && !it->second.empty();
  }

  /// Every `llvm.mlir.addressof` of the host, by the global it names: in
  /// host functions (`hostUses`: what is bound to slots) and in global
  /// initializers (`initializerUses`: only renamed), not in gpu.modules,
  /// whose symbols are their own. The pass looks up and rewrites the uses
  /// of each weight through these instead of walking the module once per
  /// weight, which was quadratic in the model (50 s of the 40-layer
  /// compile).
  void indexHostUses() {
    for (Operation &op : module.getBody()->getOperations()) {
      auto &index = isa<LLVM::LLVMFuncOp>(op) ? hostUses : initializerUses;
      if (isa<LLVM::LLVMFuncOp, LLVM::GlobalOp>(op))
        op.walk([&](LLVM::AddressOfOp a) {
          index[a.getGlobalNameAttr().getAttr()].push_back(a);
        });
    }
  }

  /// Moves every kernel workspace into the arena (the file comment says
  /// why): its addresses in the forward become the arena argument (the
  /// forward's last) plus its offset, 256-byte aligned like the global was.
  LogicalResult placeWorkspaces() {
    auto names = module->getAttrOfType<ArrayAttr>("sinter.workspaces");
    if (!names)
      return success();
    module->removeAttr("sinter.workspaces");
    LLVM::LLVMFuncOp entry;
    for (auto f : module.getOps<LLVM::LLVMFuncOp>())
      if (f->hasAttr("sinter.arena_bytes") && !f.isExternal())
        entry = f;
    MLIRContext *ctx = module.getContext();
    Builder b(ctx);
    DataLayout dl(module);
    int64_t planned = 0, end = 0;
    if (entry) {
      planned =
          cast<IntegerAttr>(entry->getAttr("sinter.arena_bytes")).getInt();
      end = int64_t(llvm::alignTo(uint64_t(planned), 256));
    }
    for (Attribute a : names) {
      auto name = cast<StringAttr>(a);
      auto g = module.lookupSymbol<LLVM::GlobalOp>(name);
      if (!g)
        continue; // no kernel kept it
      if (initializerUses.count(name))
        return g.emitError() << "kernel workspace '" << name.getValue()
                             << "' has its address taken by a global's "
                                "initializer; it lives in the arena, whose "
                                "address is only known to the forward";
      SmallVector<LLVM::AddressOfOp> uses = hostUses.lookup(name);
      hostUses.erase(name);
      if (uses.empty()) {
        g.erase(); // no launch passes it: no bytes
        continue;
      }
      if (!entry)
        return g.emitError() << "kernel workspace '" << name.getValue()
                             << "' needs the forward's arena, but no "
                                "function has sinter.arena_bytes (the "
                                "memory plan did not run)";
      int64_t offset = end;
      end = int64_t(llvm::alignTo(
          uint64_t(offset) + dl.getTypeSize(g.getGlobalType()), 256));
      for (LLVM::AddressOfOp use : uses) {
        if (use->getParentOfType<LLVM::LLVMFuncOp>() != entry)
          return use.emitError()
                 << "kernel workspace '" << name.getValue()
                 << "' is used outside the forward '" << entry.getName()
                 << "', whose last argument is the arena it lives in";
        OpBuilder ob(use);
        Value arena = entry.getArgument(entry.getNumArguments() - 1);
        // An i64 operand: a GEP's constant indices are i32.
        Value off = LLVM::ConstantOp::create(ob, use.getLoc(),
                                             b.getI64IntegerAttr(offset));
        Value at = LLVM::GEPOp::create(ob, use.getLoc(),
                                       LLVM::LLVMPointerType::get(ctx),
                                       IntegerType::get(ctx, 8), arena,
                                       ValueRange{off});
        use.getResult().replaceAllUsesWith(at);
        use.erase();
      }
      g.erase();
    }
    if (!entry)
      return success();
    entry->setAttr("sinter.arena_bytes", b.getI64IntegerAttr(end));
    module->setAttr("sinter.arena_bytes", b.getI64IntegerAttr(end));
    module->setAttr("sinter.workspace_bytes",
                    b.getI64IntegerAttr(end - planned));
    return success();
  }

  void runOnOperation() override {
    module = getOperation();
    external = module->getAttrOfType<DictionaryAttr>("sinter.external_data");
    plans = module->getAttrOfType<DictionaryAttr>("sinter.pack_plans");
    indexHostUses();
    if (failed(placeWorkspaces()))
      return signalPassFailure();
    DataLayout dl(module);
    SmallVector<LLVM::GlobalOp> globals(module.getOps<LLVM::GlobalOp>());
    SmallVector<LLVM::GlobalOp> erase;
    for (LLVM::GlobalOp g : globals) {
      Attribute value = g.getValueOrNull();
      std::optional<StringRef> key = resourceKey(value);
      DictionaryAttr ext =
          key && external ? external.getAs<DictionaryAttr>(*key) : nullptr;
      DictionaryAttr plan =
          key && plans ? plans.getAs<DictionaryAttr>(*key) : nullptr;
      bool used = usedByHost(g);
      if (ext || plan) {
        // Never translated: its bytes are not the executable's to carry.
        erase.push_back(g);
        if (!used)
          continue;
        if (ext)
          bindSlot(g, externalWeight(value, ext));
        else if (failed(bindPack(g, plan)))
          return signalPassFailure();
        continue;
      }
      if (key &&
          !cast<DenseResourceElementsAttr>(value).getRawHandle().getBlob()) {
        g.emitError() << "weight '" << *key
                      << "' has no data and no load-time source (external "
                         "data or a weight-pack plan)";
        return signalPassFailure();
      }
      // On a GPU the kernels read device copies of embedded weights too.
      // (Other constants, such as message strings, stay on the host.)
      if (device && g.getConstant() &&
          isa_and_nonnull<ElementsAttr, FloatAttr, IntegerAttr>(value) &&
          used) {
        // A pack source seen earlier may already have its entry and name.
        auto it = indexOfValue.find(value);
        int64_t i = it != indexOfValue.end()
                        ? it->second
                        : addWeight(g.getSymName(), valueType(value),
                                    dl.getTypeSize(g.getGlobalType()));
        indexOfValue[value] = i;
        bindSlot(g, i);
        if (!weights[i].get("data"))
          exportData(g, i);
      }
    }
    for (LLVM::GlobalOp g : erase)
      g.erase();

    Builder b(&getContext());
    SmallVector<Attribute> table;
    for (NamedAttrList &w : weights)
      table.push_back(w.getDictionary(&getContext()));
    module->removeAttr("sinter.external_data");
    module->removeAttr("sinter.pack_plans");
    if (!table.empty())
      module->setAttr("sinter.weights", b.getArrayAttr(table));
    if (!packs.empty())
      module->setAttr("sinter.packs", b.getArrayAttr(packs));
  }
};

} // namespace
