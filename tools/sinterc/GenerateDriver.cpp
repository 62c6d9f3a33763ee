//===- GenerateDriver.cpp - two graphs in one generation executable -------===//
//
// See GenerateDriver.h. The runtime side (matching the graphs' states,
// the generation loop) is lib/Runtime/Generate.cpp.
//
//===----------------------------------------------------------------------===//

#include "GenerateDriver.h"
#include "GenerateMatch.h"

#include "sinter/Dialect/Graph/IR/GraphOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/IR/Comdat.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>
#include <map>
#include <set>

namespace sinter::gen {

void prefixSymbols(Unit &unit, llvm::StringRef prefix) {
  llvm::Module &m = *unit.module;
  for (llvm::GlobalValue &gv : m.global_values()) {
    if (gv.isDeclaration() || gv.hasLocalLinkage() ||
        gv.getName().starts_with("llvm."))
      continue;
    // A comdat is matched by name across objects: left as it was, the
    // linker would keep one model's copy for both.
    if (auto *go = llvm::dyn_cast<llvm::GlobalObject>(&gv))
      if (llvm::Comdat *c = go->getComdat()) {
        llvm::Comdat *renamed =
            m.getOrInsertComdat((prefix + c->getName()).str());
        renamed->setSelectionKind(c->getSelectionKind());
        go->setComdat(renamed);
      }
    gv.setName(prefix + gv.getName());
  }
  for (cpu::WeightDesc &w : unit.model.weights) {
    if (!w.slot.empty())
      w.slot = (prefix + w.slot).str();
    if (!w.data.empty())
      w.data = (prefix + w.data).str();
  }
}

namespace {

/// What makes two weights load alike: the external data they come from (the
/// folder included), or the plan and sources of a pack; "" for embedded
/// weights, which are not compared (they are small: norms, biases).
std::string weightKey(const cpu::ModelDesc &m, size_t i) {
  const cpu::WeightDesc &w = m.weights[i];
  std::string type =
      std::to_string(w.dtype) + "[" +
      llvm::join(
          llvm::map_range(w.shape, [](int64_t d) { return std::to_string(d); }),
          "x") +
      "]" + std::to_string(w.bytes);
  if (!w.file.empty())
    return "file|" + m.weightsDir + "|" + w.file + "|" +
           std::to_string(w.offset) + "|" + std::to_string(w.fileBytes) + "|" +
           type;
  if (w.pack < 0 || size_t(w.pack) >= m.packs.size())
    return "";
  const cpu::PackDesc &p = m.packs[size_t(w.pack)];
  std::string key = "pack|" + std::to_string(p.axis) + "|" + type;
  for (const std::array<int64_t, 3> &piece : p.pieces) {
    if (piece[1] < 0 || size_t(piece[1]) >= m.weights.size() ||
        m.weights[size_t(piece[1])].pack >= 0)
      return "";
    std::string source = weightKey(m, size_t(piece[1]));
    if (source.empty())
      return "";
    key += "|(" + std::to_string(piece[0]) + "," + source + "," +
           std::to_string(piece[2]) + ")";
  }
  return key;
}

/// `text` as the inside of a C string literal.
std::string cString(const std::string &text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\')
      out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%03o", static_cast<unsigned char>(c));
      out += buf;
      continue;
    }
    out += c;
  }
  return out;
}

} // namespace

ShareStats shareWeights(const Unit &prefill, Unit &decode) {
  std::map<std::string, std::string> prefillSlots; // key -> slot
  for (size_t i = 0; i < prefill.model.weights.size(); ++i)
    if (!prefill.model.weights[i].slot.empty())
      if (std::string key = weightKey(prefill.model, i); !key.empty())
        prefillSlots.emplace(key, prefill.model.weights[i].slot);

  cpu::ModelDesc &dec = decode.model;
  llvm::Module &m = *decode.module;
  std::vector<bool> shared(dec.weights.size(), false);
  ShareStats stats;
  auto countExternal = [&] {
    for (const cpu::WeightDesc &w : dec.weights)
      if (!w.file.empty()) {
        ++stats.decodeExternal;
        stats.decodeExternalBytes += w.bytes;
      }
  };
  for (size_t i = 0; i < dec.weights.size(); ++i) {
    cpu::WeightDesc &w = dec.weights[i];
    if (w.slot.empty())
      continue;
    std::string key = weightKey(dec, i);
    auto it = key.empty() ? prefillSlots.end() : prefillSlots.find(key);
    llvm::GlobalVariable *slot = m.getNamedGlobal(w.slot);
    if (it == prefillSlots.end() || !slot)
      continue;
    // decode's code reads prefill's slot, which prefill's load fills.
    auto *theirs = new llvm::GlobalVariable(
        m, slot->getValueType(), /*isConstant=*/false,
        llvm::GlobalValue::ExternalLinkage, nullptr, it->second);
    theirs->setAlignment(slot->getAlign());
    slot->replaceAllUsesWith(theirs);
    slot->eraseFromParent();
    w.slot.clear();
    shared[i] = true;
    ++stats.shared;
    stats.sharedBytes += w.bytes;
  }
  if (!stats.shared) {
    countExternal();
    return stats;
  }

  // What decode still loads: the weights not shared, and the sources of
  // its packs that are not shared (a shared source stays, without a slot,
  // for those packs to read).
  std::set<int64_t> sources;
  for (size_t i = 0; i < dec.weights.size(); ++i)
    if (!shared[i] && dec.weights[i].pack >= 0)
      for (const std::array<int64_t, 3> &piece :
           dec.packs[size_t(dec.weights[i].pack)].pieces)
        sources.insert(piece[1]);
  std::vector<int64_t> newIndex(dec.weights.size(), -1);
  std::vector<cpu::WeightDesc> weights;
  std::vector<cpu::PackDesc> packs;
  for (size_t i = 0; i < dec.weights.size(); ++i) {
    const cpu::WeightDesc &w = dec.weights[i];
    bool keep = sources.count(int64_t(i)) || (!shared[i] && !w.slot.empty());
    if (!keep)
      continue;
    newIndex[i] = int64_t(weights.size());
    weights.push_back(w);
  }
  for (cpu::WeightDesc &w : weights) {
    if (w.pack < 0)
      continue;
    cpu::PackDesc p = dec.packs[size_t(w.pack)];
    for (std::array<int64_t, 3> &piece : p.pieces)
      piece[1] = newIndex[size_t(piece[1])];
    w.pack = int64_t(packs.size());
    packs.push_back(std::move(p));
  }
  dec.weights = std::move(weights);
  dec.packs = std::move(packs);
  countExternal();
  return stats;
}

namespace {

/// A SinterModel over a ModelDesc's interface (what the pairing check
/// reads: names, dtypes, shapes, donors), pointing into `desc`.
struct ModelView {
  std::vector<SinterTensorInfo> inputs, outputs;
  std::vector<int32_t> donors;
  SinterModel model{};

  explicit ModelView(const cpu::ModelDesc &desc) {
    auto info = [](const cpu::TensorDesc &t) {
      return SinterTensorInfo{t.name.c_str(), t.dtype, int32_t(t.shape.size()),
                              t.shape.data()};
    };
    for (const cpu::TensorDesc &t : desc.inputs)
      inputs.push_back(info(t));
    bool donated = false;
    for (const cpu::TensorDesc &t : desc.outputs) {
      outputs.push_back(info(t));
      donors.push_back(t.donor);
      donated |= t.donor >= 0;
    }
    model.abi_version = SINTER_MODEL_ABI_VERSION;
    model.name = desc.name.c_str();
    model.target = desc.target.c_str();
    model.num_inputs = int32_t(inputs.size());
    model.num_outputs = int32_t(outputs.size());
    model.inputs = inputs.data();
    model.outputs = outputs.data();
    model.output_donors = donated ? donors.data() : nullptr;
  }
};

} // namespace

bool findCacheBound(mlir::ModuleOp module, llvm::StringRef graph,
                    CacheBound &bound, std::string &error) {
  bound = CacheBound();
  for (auto f : module.getOps<mlir::func::FuncOp>()) {
    if (f.isExternal())
      continue;
    for (mlir::BlockArgument arg : f.getArguments()) {
      auto nameAttr = f.getArgAttrOfType<mlir::StringAttr>(
          arg.getArgNumber(), "sinter.name");
      std::string name = nameAttr ? nameAttr.str()
                                  : "#" + std::to_string(arg.getArgNumber());
      auto data = llvm::dyn_cast<mlir::RankedTensorType>(arg.getType());
      if (!data)
        continue;
      for (mlir::Operation *user : arg.getUsers()) {
        int64_t positions = -1;
        if (auto ts = llvm::dyn_cast<sinter::TensorScatterOp>(user)) {
          if (ts.getCache() != arg || ts.getMode() == sinter::CacheMode::circular)
            continue;
          int64_t axis = ts.getAxis() < 0 ? ts.getAxis() + data.getRank()
                                          : ts.getAxis();
          positions = data.getDimSize(axis);
        } else if (auto sc = llvm::dyn_cast<sinter::ScatterNDOp>(user)) {
          if (sc.getData() != arg)
            continue;
          // The index grid's leading dimensions line up with the indexed
          // axes in a cache write ([1, KV, T, 3] into [1, KV, L, D]); the
          // sequence axis is the one the grid does not cover.
          auto idx = llvm::cast<mlir::RankedTensorType>(sc.getIndices().getType());
          int64_t r = idx.getShape().back();
          llvm::SmallVector<int64_t> axes;
          if (idx.getRank() - 1 == r)
            for (int64_t k = 0; k < r; ++k)
              if (data.getDimSize(k) > idx.getDimSize(k))
                axes.push_back(k);
          if (axes.size() != 1) {
            std::string where;
            llvm::raw_string_ostream os(where);
            os << sc.getLoc();
            error = graph.str() + ": cannot tell how many positions state "
                    "input '" + name + "' holds: the sinter.scatter_nd that "
                    "writes it (" + where + ", indices " +
                    std::to_string(idx.getRank()) + "-d with " +
                    std::to_string(r) +
                    "-element tuples) does not index exactly one axis "
                    "wider than its index grid; --generate-driver needs "
                    "the KV cache's length to bound the positions";
            return false;
          }
          positions = data.getDimSize(axes.front());
        } else {
          continue;
        }
        if (bound.positions < 0 || positions < bound.positions) {
          bound.positions = positions;
          bound.input = name;
          bound.graph = graph.str();
        }
      }
    }
  }
  return true;
}

CacheBound smallerBound(const Unit &prefill, const Unit &decode) {
  // Both graphs write the caches (same shapes): the smaller bound holds;
  // decode's on a tie.
  return prefill.cache.positions >= 0 &&
                 (decode.cache.positions < 0 ||
                  prefill.cache.positions < decode.cache.positions)
             ? prefill.cache
             : decode.cache;
}

bool checkPairing(const Unit &prefill, const Unit &decode, std::string &error) {
  ModelView pre(prefill.model), dec(decode.model);
  rt::gen::Plan plan;
  return rt::gen::makePlan(&pre.model, &dec.model, plan, error);
}

bool linkGenerateDriver(const Unit &prefill, llvm::ArrayRef<char> prefillObj,
                        llvm::StringRef prefillPrefix, const Unit &decode,
                        llvm::ArrayRef<char> decodeObj,
                        llvm::StringRef decodePrefix, llvm::StringRef output,
                        const cpu::LinkOptions &options, std::string &error) {
  CacheBound bound = smallerBound(prefill, decode);
  if (!llvm::sys::fs::exists(options.runtimeLibrary)) {
    error = "the Sinter runtime library '" + options.runtimeLibrary +
            "' does not exist (build the sinter_runtime target, or point "
            "SINTER_RUNTIME_LIB or --runtime-lib at libsinter_runtime.a)";
    return false;
  }
  std::optional<std::string> compiler = cpu::findCompiler(options, error);
  if (!compiler)
    return false;
  llvm::SmallString<128> dir;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("sinterc-gen", dir)) {
    error = "cannot create a temporary directory: " + ec.message();
    return false;
  }
  auto cleanup = llvm::make_scope_exit([&] {
    if (options.keepTemps)
      llvm::errs() << "sinterc: kept the temporary files in " << dir << "\n";
    else
      llvm::sys::fs::remove_directories(dir);
  });
  auto path = [&](llvm::StringRef file) {
    llvm::SmallString<128> p(dir);
    llvm::sys::path::append(p, file);
    return std::string(p);
  };
  auto write = [&](const std::string &p, llvm::StringRef data) {
    std::error_code ec;
    llvm::raw_fd_ostream os(p, ec);
    if (!ec) {
      os << data;
      os.close();
      ec = os.error();
    }
    if (ec)
      error = "cannot write '" + p + "': " + ec.message();
    return !ec;
  };
  std::string logPath = path("link.log");
  auto exec = [&](llvm::ArrayRef<llvm::StringRef> args,
                  const std::string &what) {
    std::string execError;
    std::optional<llvm::StringRef> redirects[] = {std::nullopt, logPath,
                                                  logPath};
    int rc = llvm::sys::ExecuteAndWait(*compiler, args, std::nullopt, redirects,
                                       0, 0, &execError);
    if (rc == 0)
      return true;
    std::string log;
    if (auto buf = llvm::MemoryBuffer::getFile(logPath))
      log = (*buf)->getBuffer().trim().str();
    error = what + " failed" +
            (execError.empty() ? "" : " (" + execError + ")") + ":\n  " +
            llvm::join(args, " ") + (log.empty() ? "" : "\n" + log) +
            (options.keepTemps ? ""
                               : "\n(rerun with --keep-temps to keep the "
                                 "files)");
    return false;
  };

  // Each entry file names its model's symbols without a prefix
  // (sinter_forward, sinter_model_descriptor): the preprocessor renames
  // them, file by file.
  llvm::SmallVector<std::string> objects;
  for (auto [unit, obj, prefix, role] :
       {std::make_tuple(&prefill, prefillObj, prefillPrefix, "prefill"),
        std::make_tuple(&decode, decodeObj, decodePrefix, "decode")}) {
    std::string entry = path(std::string(role) + "_entry.c");
    std::string entryObj = path(std::string(role) + "_entry.o");
    std::string model = path(std::string(role) + ".o");
    if (!write(model, llvm::StringRef(obj.data(), obj.size())) ||
        !write(entry, cpu::generateEntrySource(unit->model, /*shared=*/true)))
      return false;
    std::string forward =
        ("-Dsinter_forward=" + prefix + "sinter_forward").str();
    std::string desc =
        ("-Dsinter_model_descriptor=" + prefix + "sinter_model_descriptor")
            .str();
    if (!exec({*compiler, "-x", "c", "-O1", "-w", "-c", forward, desc, entry,
               "-o", entryObj},
              "compiling the " + std::string(role) + " entry"))
      return false;
    objects.push_back(entryObj);
    objects.push_back(model);
  }
  std::string mainPath = path("main.c");
  std::string mainText;
  llvm::raw_string_ostream os(mainText);
  os << "/* Generated by sinterc --generate-driver: the prefill graph "
     << prefill.model.name << " and the decode graph " << decode.model.name
     << ". */\n"
     << "typedef struct SinterModel SinterModel;\n"
     << "const SinterModel *" << prefillPrefix
     << "sinter_model_descriptor(void);\n"
     << "const SinterModel *" << decodePrefix
     << "sinter_model_descriptor(void);\n"
     << "int sinter_generate_main(int, char **, const SinterModel *,\n"
     << "                         const SinterModel *, long long,\n"
     << "                         const char *);\n"
     // The runtime's C API refers to it (sinter_open): the decode graph.
     << "const SinterModel *sinter_model_descriptor(void) {\n"
     << "  return " << decodePrefix << "sinter_model_descriptor();\n}\n"
     << "int main(int argc, char **argv) {\n"
     << "  return sinter_generate_main(argc, argv, " << prefillPrefix
     << "sinter_model_descriptor(), " << decodePrefix
     << "sinter_model_descriptor(),\n      " << bound.positions << "LL, \""
     << cString(bound.positions < 0
                    ? std::string()
                    : "input '" + bound.input + "' of the " + bound.graph)
     << "\");\n}\n";
  if (!write(mainPath, mainText))
    return false;
  std::string out = output.str();
  llvm::SmallVector<llvm::StringRef> args = {*compiler, "-x",     "c",  "-O1",
                                             "-w",      mainPath, "-x", "none"};
  for (const std::string &o : objects)
    args.push_back(o);
  args.append({options.runtimeLibrary, "-o", out, "-static-libstdc++",
               "-static-libgcc", "-lm"});
  if (decode.model.target == "cuda")
    args.push_back("-ldl");
  return exec(args, "linking the generation driver");
}

} // namespace sinter::gen
