//===- Link.cpp - from an object file to a runnable executable ------------===//
//
// An executable is three parts: the model's object file (sinter_forward and
// its constants), a generated C entry file (the SinterModel descriptor, a
// trampoline that spreads the buffer array over sinter_forward's arguments,
// and main), and libsinter_runtime.a (the driver). A shared library
// (--emit=shared) is the same without main, linked -shared with a version
// script that exports only the C API of sinter_runtime.h. They are linked by the
// system's C++ compiler driver, with libstdc++ and libgcc linked statically:
// the result needs only libc and libm, and no LLVM or MLIR library.
//
//===----------------------------------------------------------------------===//

#include "sinter/Target/CPU/CPUTarget.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>

namespace sinter::cpu {

namespace {
// kRuntimeHeader: the text of include/sinter/Runtime/sinter_runtime.h.
#include "RuntimeHeader.inc"

/// A C string literal for `s`.
std::string cString(llvm::StringRef s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c < 0x20 || c >= 0x7f || c == '?') {
      // Octal escapes: always three digits, so a following digit is safe;
      // '?' escaped against trigraphs.
      char buf[5];
      std::snprintf(buf, sizeof(buf), "\\%03o", c);
      out += buf;
    } else {
      out += char(c);
    }
  }
  return out + "\"";
}

void emitTensorTable(llvm::raw_ostream &os, llvm::StringRef kind,
                     const std::vector<TensorDesc> &tensors) {
  for (auto [i, t] : llvm::enumerate(tensors)) {
    if (t.shape.empty())
      continue;
    os << "static const int64_t sinter_" << kind << i << "_shape[] = {";
    llvm::interleaveComma(t.shape, os);
    os << "};\n";
  }
  if (tensors.empty())
    return;
  os << "static const SinterTensorInfo sinter_" << kind << "[] = {\n";
  for (auto [i, t] : llvm::enumerate(tensors)) {
    os << "  {" << cString(t.name) << ", " << t.dtype << ", " << t.shape.size()
       << ", ";
    if (t.shape.empty())
      os << "0";
    else
      os << "sinter_" << kind << i << "_shape";
    os << "},\n";
  }
  os << "};\n";
}

/// The weight table (SinterWeight, SinterPack) and the slots and data
/// symbols of the object file it points at.
void emitWeightTable(llvm::raw_ostream &os, const ModelDesc &model) {
  for (auto [i, w] : llvm::enumerate(model.weights)) {
    if (!w.slot.empty())
      os << "extern void *" << w.slot << ";\n";
    if (!w.data.empty())
      os << "extern const char " << w.data << "[];\n";
    if (!w.shape.empty()) {
      os << "static const int64_t sinter_weight" << i << "_shape[] = {";
      llvm::interleaveComma(w.shape, os);
      os << "};\n";
    }
  }
  for (auto [i, p] : llvm::enumerate(model.packs)) {
    os << "static const SinterPackPiece sinter_pack" << i << "_pieces[] = {";
    llvm::interleaveComma(p.pieces, os, [&](const std::array<int64_t, 3> &q) {
      os << "{" << q[0] << ", " << q[1] << ", " << q[2] << "ll}";
    });
    os << "};\n";
  }
  if (!model.packs.empty()) {
    os << "static const SinterPack sinter_packs[] = {\n";
    for (auto [i, p] : llvm::enumerate(model.packs))
      os << "  {" << p.axis << ", " << p.pieces.size() << ", sinter_pack" << i
         << "_pieces},\n";
    os << "};\n";
  }
  if (model.weights.empty())
    return;
  os << "static const SinterWeight sinter_weights[] = {\n";
  for (auto [i, w] : llvm::enumerate(model.weights)) {
    os << "  {" << cString(w.name) << ", " << w.dtype << ", " << w.shape.size()
       << ", ";
    if (w.shape.empty())
      os << "0";
    else
      os << "sinter_weight" << i << "_shape";
    os << ", " << w.bytes << "ull, " << (w.data.empty() ? "0" : w.data) << ", "
       << (w.file.empty() ? "0" : cString(w.file)) << ", " << w.offset
       << "ull, " << w.fileBytes << "ull, " << w.pack << ", "
       << (w.slot.empty() ? "0" : "&" + w.slot) << "},\n";
  }
  os << "};\n";
}

} // namespace

std::optional<std::string> findCompiler(const LinkOptions &options,
                                        std::string &error) {
  llvm::SmallVector<std::string> candidates;
  if (!options.compiler.empty())
    candidates.push_back(options.compiler);
  else if (std::optional<std::string> env =
               llvm::sys::Process::GetEnv("SINTER_CXX"))
    candidates.push_back(*env);
  else
    candidates = {"clang++-22", "clang++", "c++", "g++"};
  for (const std::string &c : candidates) {
    if (llvm::sys::path::has_parent_path(c)) {
      if (llvm::sys::fs::can_execute(c))
        return c;
      continue;
    }
    if (llvm::ErrorOr<std::string> p = llvm::sys::findProgramByName(c))
      return *p;
  }
  error = "no C++ compiler to link the executable with (looked for " +
          llvm::join(candidates, ", ") +
          "; set SINTER_CXX or pass --linker=PATH)";
  return std::nullopt;
}

std::string findRuntimeLibrary(const char *argv0, void *mainAddr) {
  if (std::optional<std::string> env =
          llvm::sys::Process::GetEnv("SINTER_RUNTIME_LIB"))
    return *env;
  std::string exe = llvm::sys::fs::getMainExecutable(argv0, mainAddr);
  llvm::SmallString<256> path(llvm::sys::path::parent_path(exe));
  llvm::sys::path::append(path, "..", "lib", "libsinter_runtime.a");
  llvm::sys::path::remove_dots(path, /*remove_dot_dot=*/true);
  return std::string(path);
}

llvm::ArrayRef<const char *> cApiSymbols() {
  static const char *const symbols[] = {
      "sinter_model_descriptor", "sinter_api_version",  "sinter_open",
      "sinter_open_model",       "sinter_open_with_weights",
      "sinter_close",        "sinter_model_name",
      "sinter_model_target",     "sinter_session_model", "sinter_num_inputs",
      "sinter_num_outputs",      "sinter_input_info",   "sinter_output_info",
      "sinter_find_input",       "sinter_find_output",  "sinter_output_donor",  "sinter_tensor_bytes",
      "sinter_dtype_name",       "sinter_set_input",    "sinter_run",
      "sinter_read_output",      "sinter_last_error"};
  return symbols;
}

std::string generateEntrySource(const ModelDesc &model, bool shared) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "/* Generated by sinterc: the entry of the model " << model.name
     << " for the " << model.target << " target. */\n\n"
     << kRuntimeHeader << "\n";
  emitTensorTable(os, "inputs", model.inputs);
  emitTensorTable(os, "outputs", model.outputs);
  emitWeightTable(os, model);

  // State donation: the input whose buffer each output is (-1: its own).
  bool donated = llvm::any_of(model.outputs,
                              [](const TensorDesc &t) { return t.donor >= 0; });
  if (donated) {
    os << "static const int32_t sinter_output_donors[] = {";
    llvm::interleaveComma(model.outputs, os,
                          [&](const TensorDesc &t) { os << t.donor; });
    os << "};\n";
  }

  size_t arity = model.inputs.size() + model.outputs.size() + 1;
  os << "\nextern void sinter_forward(";
  for (size_t i = 0; i < arity; ++i)
    os << (i ? ", " : "") << "void *";
  os << ");\n\n"
     << "static int sinter_call(void *const *b) {\n"
     << "  sinter_forward(";
  for (size_t i = 0; i < arity; ++i)
    os << (i ? ", " : "") << "b[" << i << "]";
  os << ");\n  return 0;\n}\n\n";

  os << "static const SinterModel sinter_model = {\n"
     << "  SINTER_MODEL_ABI_VERSION, " << cString(model.name) << ", "
     << cString(model.target) << ",\n"
     << "  " << model.inputs.size() << ", " << model.outputs.size() << ",\n"
     << "  " << (model.inputs.empty() ? "0" : "sinter_inputs") << ", "
     << (model.outputs.empty() ? "0" : "sinter_outputs") << ",\n"
     << "  " << model.arenaBytes << "ull, sinter_call,\n"
     << "  " << (model.weightsDir.empty() ? "0" : cString(model.weightsDir))
     << ", " << model.weights.size() << ", "
     << (model.weights.empty() ? "0" : "sinter_weights") << ", "
     << model.packs.size() << ", "
     << (model.packs.empty() ? "0" : "sinter_packs") << ",\n"
     << "  " << (donated ? "sinter_output_donors" : "0") << ", "
     << model.launchFlags << "u};\n\n"
     << "const SinterModel *sinter_model_descriptor(void) {\n"
     << "  return &sinter_model;\n}\n";
  if (!shared)
    os << "\nint main(int argc, char **argv) {\n"
       << "  return sinter_driver_main(argc, argv, &sinter_model);\n}\n";
  return text;
}

bool linkExecutable(const ModelDesc &model, llvm::ArrayRef<char> object,
                    llvm::StringRef outputPath, const LinkOptions &options,
                    std::string &error) {
  if (!llvm::sys::fs::exists(options.runtimeLibrary)) {
    error = "the Sinter runtime library '" + options.runtimeLibrary +
            "' does not exist (build the sinter_runtime target, or point "
            "SINTER_RUNTIME_LIB or --runtime-lib at libsinter_runtime.a)";
    return false;
  }
  std::optional<std::string> compiler = findCompiler(options, error);
  if (!compiler)
    return false;

  llvm::SmallString<128> dir;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("sinterc", dir)) {
    error = "cannot create a temporary directory: " + ec.message();
    return false;
  }
  auto path = [&](llvm::StringRef file) {
    llvm::SmallString<128> p(dir);
    llvm::sys::path::append(p, file);
    return std::string(p);
  };
  std::string objPath = path("model.o"), entryPath = path("entry.c"),
              logPath = path("link.log"), mapPath = path("exports.map");
  auto cleanup = llvm::make_scope_exit([&] {
    if (options.keepTemps)
      llvm::errs() << "sinterc: kept the temporary files in " << dir << "\n";
    else
      llvm::sys::fs::remove_directories(dir);
  });

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
  if (!write(objPath, llvm::StringRef(object.data(), object.size())) ||
      !write(entryPath, generateEntrySource(model, options.shared)))
    return false;
  if (options.shared) {
    // Only the C API is exported; the runtime, libstdc++ and the model's
    // own symbols stay local.
    std::string map = "{\n  global:\n";
    for (const char *sym : cApiSymbols())
      map += std::string("    ") + sym + ";\n";
    map += "  local: *;\n};\n";
    if (!write(mapPath, map))
      return false;
  }
  std::string versionScript = "-Wl,--version-script=" + mapPath;
  // -u pulls the C API's objects out of the archive: nothing else in the
  // library refers to them.
  llvm::SmallVector<std::string> undefines;
  for (const char *sym : cApiSymbols())
    undefines.push_back(std::string("-Wl,-u,") + sym);

  std::string output = outputPath.str();
  llvm::SmallVector<llvm::StringRef> args = {*compiler,
                                             "-x",
                                             "c",
                                             "-O1",
                                             "-w",
                                             entryPath,
                                             "-x",
                                             "none",
                                             objPath,
                                             options.runtimeLibrary,
                                             "-o",
                                             output,
                                             "-static-libstdc++",
                                             "-static-libgcc",
                                             "-lm"};
  // The CUDA backend loads libcuda.so.1 with dlopen (no libcudart).
  if (model.target == "cuda")
    args.push_back("-ldl");
  if (options.shared) {
    args.push_back("-shared");
    args.push_back("-fPIC");
    args.push_back(versionScript);
    // The library's own calls bind to its own definitions, even when a
    // process loads several models (all export the same names).
    args.push_back("-Wl,-Bsymbolic");
    for (const std::string &u : undefines)
      args.push_back(u);
    args.push_back("-Wl,-z,defs");
  }
  std::string execError;
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, logPath, logPath};
  int rc = llvm::sys::ExecuteAndWait(*compiler, args, std::nullopt, redirects,
                                     0, 0, &execError);
  if (rc != 0) {
    std::string command = llvm::join(args, " ");
    std::string log;
    if (auto buf = llvm::MemoryBuffer::getFile(logPath))
      log = (*buf)->getBuffer().trim().str();
    error = std::string(options.shared ? "linking the shared library failed"
                                       : "linking the executable failed") +
            (execError.empty() ? "" : " (" + execError + ")") + ":\n  " +
            command + (log.empty() ? "" : "\n" + log) +
            (options.keepTemps ? ""
                               : "\n(rerun with --keep-temps to keep "
                                 "the files)");
    return false;
  }
  return true;
}

} // namespace sinter::cpu
