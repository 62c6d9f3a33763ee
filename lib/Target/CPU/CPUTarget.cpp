//===- CPUTarget.cpp - LLVM IR, optimization and objects for x86-64 -------===//
//
// The package phase up to the object file. The target is fixed to
// x86_64-unknown-linux-gnu, position independent (the executables are PIE),
// with the portable x86-64-v2 CPU unless --cpu says otherwise, so that an
// executable built here runs on any x86-64 Linux machine.
//
//===----------------------------------------------------------------------===//

#include "sinter/Target/CPU/CPUTarget.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

using namespace mlir;

namespace sinter::cpu {

void registerCpuTargetDialects(DialectRegistry &registry) {
  // Every upstream dialect and external model: the lowering patterns of the
  // graph ops may use any of them, and a missing bufferization or
  // deallocation interface shows up only as an obscure failure.
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
}

static int32_t dtypeOf(Type t) {
  if (t.isF32())
    return 1;
  if (t.isF16())
    return 10;
  if (t.isBF16())
    return 16;
  if (t.isF64())
    return 11;
  if (t.isSignlessInteger(64))
    return 7;
  if (t.isSignlessInteger(32))
    return 6;
  if (t.isSignlessInteger(16))
    return 5;
  if (t.isSignlessInteger(8))
    return 3;
  if (t.isSignlessInteger(1))
    return 9;
  return 0;
}

int64_t TensorDesc::bytes() const {
  int64_t n = dtype == 11 || dtype == 7 ? 8
              : dtype == 1 || dtype == 6 ? 4
              : dtype == 10 || dtype == 16 || dtype == 5 ? 2
                                                         : 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

FailureOr<ModelDesc> describeLoweredModel(ModuleOp module) {
  func::FuncOp entry;
  for (func::FuncOp f : module.getOps<func::FuncOp>())
    if (f->hasAttr("sinter.entry"))
      entry = f;
  if (!entry)
    return module.emitError() << "no function marked sinter.entry: the lower "
                                 "phase did not run",
           failure();
  auto numInputs = entry->getAttrOfType<IntegerAttr>("sinter.num_inputs");
  auto arena = entry->getAttrOfType<IntegerAttr>("sinter.arena_bytes");
  unsigned numArgs = entry.getNumArguments();
  if (!numInputs || !arena || numArgs < numInputs.getInt() + 1 ||
      entry.getNumResults() != 0)
    return entry.emitError()
               << "the forward function is not in the shape the lower phase "
                  "leaves it (inputs, outputs, arena; no results)",
           failure();
  ModelDesc desc;
  desc.arenaBytes = arena.getInt();
  if (auto n = entry->getAttrOfType<IntegerAttr>("sinter.unplanned_allocs"))
    desc.unplannedAllocs = n.getInt();
  if (auto n = entry->getAttrOfType<IntegerAttr>("sinter.copy_bytes"))
    desc.copyBytes = n.getInt();
  for (unsigned i = 0; i + 1 < numArgs; ++i) {
    auto type = dyn_cast<MemRefType>(entry.getArgumentTypes()[i]);
    TensorDesc t;
    auto name = entry.getArgAttrOfType<StringAttr>(i, "sinter.name");
    t.name = name ? name.str() : "#" + std::to_string(i);
    if (!type || !type.hasStaticShape() || !type.getLayout().isIdentity() ||
        !(t.dtype = dtypeOf(type.getElementType())))
      return entry.emitError()
                 << "argument #" << i << " ('" << t.name
                 << "') of the forward has type " << entry.getArgumentTypes()[i]
                 << ", which the runtime cannot pass",
             failure();
    t.shape.assign(type.getShape().begin(), type.getShape().end());
    // State donation (sinter-bind-donated-outputs): the runtime passes the
    // input's buffer for this output.
    if (auto from = entry.getArgAttrOfType<IntegerAttr>(i, "sinter.donated_from")) {
      if (from.getInt() < 0 || from.getInt() >= numInputs.getInt() ||
          int64_t(i) < numInputs.getInt())
        return entry.emitError() << "argument #" << i << " ('" << t.name
                                 << "') has a bad sinter.donated_from",
               failure();
      t.donor = int32_t(from.getInt());
    }
    (int64_t(i) < numInputs.getInt() ? desc.inputs : desc.outputs)
        .push_back(std::move(t));
  }
  return desc;
}

LogicalResult describeWeights(ModuleOp module, ModelDesc &model) {
  auto fail = [&](const llvm::Twine &why) {
    return module.emitError() << "malformed weight table: " << why, failure();
  };
  if (auto dir = module->getAttrOfType<StringAttr>("sinter.weights_dir"))
    model.weightsDir = dir.str();
  auto str = [](DictionaryAttr d, StringRef k) {
    auto s = d.getAs<StringAttr>(k);
    return s ? s.str() : std::string();
  };
  auto num = [](DictionaryAttr d, StringRef k, int64_t dflt) {
    auto i = d.getAs<IntegerAttr>(k);
    return i ? i.getInt() : dflt;
  };
  if (auto table = module->getAttrOfType<ArrayAttr>("sinter.weights")) {
    for (Attribute a : table) {
      auto d = dyn_cast<DictionaryAttr>(a);
      auto type = d ? d.getAs<TypeAttr>("type") : nullptr;
      auto shaped = type ? dyn_cast<ShapedType>(type.getValue()) : nullptr;
      if (!shaped)
        return fail("an entry without a tensor type");
      WeightDesc w;
      w.name = str(d, "name");
      w.dtype = dtypeOf(shaped.getElementType());
      if (!w.dtype)
        return fail("weight '" + w.name +
                    "' has an element type the runtime does not know");
      w.shape.assign(shaped.getShape().begin(), shaped.getShape().end());
      w.bytes = uint64_t(num(d, "bytes", 0));
      w.slot = str(d, "slot");
      w.data = str(d, "data");
      w.file = str(d, "file");
      w.offset = uint64_t(num(d, "offset", 0));
      w.fileBytes = uint64_t(num(d, "file_bytes", 0));
      w.pack = num(d, "pack", -1);
      if (int(!w.data.empty()) + int(!w.file.empty()) + int(w.pack >= 0) != 1)
        return fail("weight '" + w.name + "' needs exactly one source");
      model.weights.push_back(std::move(w));
    }
  }
  if (auto packs = module->getAttrOfType<ArrayAttr>("sinter.packs")) {
    for (Attribute a : packs) {
      auto d = dyn_cast<DictionaryAttr>(a);
      auto pieces = d ? d.getAs<ArrayAttr>("pieces") : nullptr;
      if (!pieces)
        return fail("a pack without pieces");
      PackDesc p;
      p.axis = num(d, "axis", 0);
      for (Attribute pa : pieces) {
        auto piece = dyn_cast<DenseI64ArrayAttr>(pa);
        if (!piece || piece.size() != 3 || piece[1] < 0 ||
            piece[1] >= int64_t(model.weights.size()))
          return fail("a pack piece is not [op, source, offset]");
        p.pieces.push_back({piece[0], piece[1], piece[2]});
      }
      model.packs.push_back(std::move(p));
    }
  }
  for (const WeightDesc &w : model.weights)
    if (w.pack >= int64_t(model.packs.size()))
      return fail("weight '" + w.name + "' names a pack that does not exist");
  for (StringRef k : {"sinter.weights", "sinter.packs", "sinter.weights_dir"})
    module->removeAttr(k);
  return success();
}

static std::unique_ptr<llvm::TargetMachine>
createTargetMachine(const CodegenOptions &options, std::string &error) {
  LLVMInitializeX86TargetInfo();
  LLVMInitializeX86Target();
  LLVMInitializeX86TargetMC();
  LLVMInitializeX86AsmPrinter();
  llvm::Triple triple("x86_64-unknown-linux-gnu");
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return nullptr;
  std::string cpu = options.cpu, features;
  if (cpu == "native") {
    cpu = llvm::sys::getHostCPUName().str();
    for (const auto &f : llvm::sys::getHostCPUFeatures())
      features += (features.empty() ? "" : ",") +
                  std::string(f.second ? "+" : "-") + f.first().str();
  }
  llvm::CodeGenOptLevel level =
      options.optLevel == 0   ? llvm::CodeGenOptLevel::None
      : options.optLevel == 1 ? llvm::CodeGenOptLevel::Less
      : options.optLevel == 2 ? llvm::CodeGenOptLevel::Default
                              : llvm::CodeGenOptLevel::Aggressive;
  std::unique_ptr<llvm::TargetMachine> tm(
      target->createTargetMachine(triple, cpu, features, llvm::TargetOptions(),
                                  llvm::Reloc::PIC_, std::nullopt, level));
  if (!tm) {
    error = "cannot create an LLVM target machine for " + triple.str();
    return nullptr;
  }
  if (!tm->getMCSubtargetInfo()->isCPUStringValid(cpu)) {
    error = "unknown x86-64 CPU '" + cpu +
            "' (try x86-64, x86-64-v2, x86-64-v3, x86-64-v4, native or an "
            "LLVM CPU name such as skylake)";
    return nullptr;
  }
  return tm;
}

std::unique_ptr<llvm::Module>
translateAndOptimize(ModuleOp module, llvm::LLVMContext &ctx,
                     const CodegenOptions &options, std::string &error) {
  std::unique_ptr<llvm::TargetMachine> tm = createTargetMachine(options, error);
  if (!tm)
    return nullptr;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, ctx, "sinter_model");
  if (!llvmModule) {
    error = "the translation of the LLVM dialect to LLVM IR failed";
    return nullptr;
  }
  llvmModule->setTargetTriple(tm->getTargetTriple());
  llvmModule->setDataLayout(tm->createDataLayout());
  if (options.optLevel == 0)
    return llvmModule;

  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = options.optLevel >= 2;
  tuning.SLPVectorization = options.optLevel >= 2;
  llvm::PassBuilder pb(tm.get(), tuning);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::OptimizationLevel level =
      options.optLevel == 1   ? llvm::OptimizationLevel::O1
      : options.optLevel == 2 ? llvm::OptimizationLevel::O2
                              : llvm::OptimizationLevel::O3;
  llvm::ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(level);
  mpm.run(*llvmModule, mam);
  return llvmModule;
}

bool emitObject(llvm::Module &module, const CodegenOptions &options,
                llvm::SmallVectorImpl<char> &out, std::string &error) {
  std::unique_ptr<llvm::TargetMachine> tm = createTargetMachine(options, error);
  if (!tm)
    return false;
  if (module.getTargetTriple() != tm->getTargetTriple()) {
    module.setTargetTriple(tm->getTargetTriple());
    module.setDataLayout(tm->createDataLayout());
  }
  llvm::raw_svector_ostream os(out);
  llvm::legacy::PassManager pm;
  if (tm->addPassesToEmitFile(pm, os, nullptr,
                              llvm::CodeGenFileType::ObjectFile)) {
    error = "the x86-64 target machine cannot emit object files";
    return false;
  }
  pm.run(module);
  return true;
}

} // namespace sinter::cpu
