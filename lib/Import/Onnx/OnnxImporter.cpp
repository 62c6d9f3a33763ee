//===- OnnxImporter.cpp - ONNX models to the sinter graph dialect ---------===//
//
// Reads the model, checks the graph as a whole (every op has a handler, every
// edge has a producer, no cycles, every input has a static shape), then runs
// one handler per node in topological order. See ImporterInternals.h for the
// handler contract.
//
//===----------------------------------------------------------------------===//

#include "sinter/Import/OnnxImporter.h"
#include "ImporterInternals.h"
#include "OnnxText.h"
#include "Tensors.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <optional>

using namespace mlir;

namespace sinter {
namespace onnx_import {

//===----------------------------------------------------------------------===//
// Handler registry
//===----------------------------------------------------------------------===//

void HandlerRegistry::add(llvm::StringRef domain, llvm::StringRef opType,
                          int sinceVersion, HandlerFn fn) {
  handlers[(domain + "::" + opType).str()].push_back({sinceVersion, fn});
}

HandlerFn HandlerRegistry::lookup(llvm::StringRef domain,
                                  llvm::StringRef opType, int64_t opset,
                                  int *since) const {
  auto it = handlers.find((domain + "::" + opType).str());
  if (it == handlers.end())
    return nullptr;
  const Entry *best = nullptr;
  for (const Entry &e : it->second)
    if (e.since <= opset && (!best || e.since > best->since))
      best = &e;
  if (!best)
    return nullptr;
  if (since)
    *since = best->since;
  return best->fn;
}

std::vector<std::string> HandlerRegistry::list() const {
  std::vector<std::string> out;
  for (const auto &kv : handlers) {
    std::vector<int> versions;
    for (const Entry &e : kv.second)
      versions.push_back(e.since);
    llvm::sort(versions);
    std::string line = kv.first().str() + " since";
    for (int v : versions)
      line += " " + std::to_string(v);
    out.push_back(line);
  }
  llvm::sort(out);
  return out;
}

const HandlerRegistry &getHandlerRegistry() {
  static const HandlerRegistry registry = [] {
    HandlerRegistry r;
    registerElementwiseHandlers(r);
    registerTensorHandlers(r);
    registerNNHandlers(r);
    registerLLMHandlers(r);
    registerSequenceHandlers(r);
    return r;
  }();
  return registry;
}

namespace {

/// Nesting limit of ONNX text (brackets of every kind), the same as the one
/// protobuf applies to binary models: onnx::OnnxParser recurses once per
/// level (subgraph attributes, nested types) and has no limit of its own.
constexpr int kMaxTextNesting = 100;

/// The deepest bracket nesting of ONNX text, outside string literals and
/// comments. Over-counts at worst ('<' of a comparison is not ONNX syntax),
/// so that the parser never recurses deeper than this.
int textNesting(llvm::StringRef text) {
  int depth = 0, deepest = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i)
        if (text[i] == '\\')
          ++i;
    } else if (c == '#') {
      while (i < text.size() && text[i] != '\n')
        ++i;
    } else if (c == '{' || c == '(' || c == '[' || c == '<') {
      deepest = std::max(deepest, ++depth);
    } else if (c == '}' || c == ')' || c == ']' ||
               (c == '>' && (i == 0 || text[i - 1] != '='))) {
      depth = std::max(depth - 1, 0);
    }
  }
  return deepest;
}

constexpr int64_t kMinOpset = 7;
constexpr int64_t kMaxOpset = 28;

/// "" and "ai.onnx" are the same domain.
llvm::StringRef canonicalDomain(llvm::StringRef d) {
  return d == "ai.onnx" ? "" : d;
}

class ModelImporter {
public:
  /// `contents`, when given, is the model's bytes: `path` then only names
  /// it in diagnostics, selects the format and locates external data.
  ModelImporter(MLIRContext *ctx, llvm::StringRef path,
                const OnnxImportOptions &options,
                std::optional<llvm::StringRef> contents = std::nullopt)
      : ctx(ctx), path(path), options(options), contents(contents),
        fileLoc(FileLineColLoc::get(ctx, path, 0, 0)) {}

  OwningOpRef<ModuleOp> run();

private:
  LogicalResult load();
  LogicalResult readOpsets();
  LogicalResult checkSupported(const onnx::GraphProto &g);
  FailureOr<std::vector<const onnx::NodeProto *>>
  sortNodes(const onnx::GraphProto &g, const llvm::StringSet<> &defined);
  FailureOr<RankedTensorType> inputType(const onnx::ValueInfoProto &vi);
  LogicalResult importGraph(const onnx::GraphProto &g, ModuleOp module);
  LogicalResult freezeInputs(const onnx::GraphProto &g,
                             llvm::StringMap<const onnx::TensorProto *> &inits,
                             llvm::StringSet<> &defined);
  InFlightDiagnostic error() { return emitError(fileLoc); }
  /// The node's name, or "OpType#index" for the many unnamed nodes.
  static std::string nodeName(const onnx::NodeProto &n, size_t index) {
    return n.name().empty() ? n.op_type() + "#" + std::to_string(index)
                            : n.name();
  }
  Location nodeLoc(const onnx::NodeProto &n, size_t index) {
    return NameLoc::get(StringAttr::get(ctx, nodeName(n, index)), fileLoc);
  }
  int64_t opsetOf(llvm::StringRef domain) {
    auto it = opsets.find(canonicalDomain(domain));
    return it == opsets.end() ? -1 : it->second;
  }

  MLIRContext *ctx;
  std::string path;
  OnnxImportOptions options;
  std::optional<llvm::StringRef> contents;
  Location fileLoc;
  onnx::ModelProto model;
  llvm::StringMap<int64_t> opsets;
  llvm::StringMap<Value> values;
  /// Compile-time ONNX sequences (NodeContext::sequenceInput).
  llvm::StringMap<llvm::SmallVector<Value>> sequences;
  /// Tensors read for --freeze-input; they back initializer entries.
  std::vector<std::unique_ptr<onnx::TensorProto>> frozen;
};

LogicalResult ModelImporter::load() {
  std::unique_ptr<llvm::MemoryBuffer> owned;
  llvm::StringRef data;
  if (contents) {
    data = *contents;
  } else {
    auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                              /*RequiresNullTerminator=*/true);
    if (!buffer)
      return error() << "cannot read model file: "
                     << buffer.getError().message();
    owned = std::move(*buffer);
    data = owned->getBuffer();
  }
  if (llvm::StringRef(path).ends_with(".onnxtxt")) {
    // The parser reads a NUL-terminated string: stop at the first NUL.
    std::string text(data.data(), strnlen(data.data(), data.size()));
    if (int depth = textNesting(text); depth > kMaxTextNesting)
      return error() << "invalid ONNX text: brackets nest " << depth
                     << " levels deep, over Sinter's limit of "
                     << kMaxTextNesting << " (nested subgraphs or types)";
    std::string why;
    if (!parseOnnxText(text, model, why))
      return error() << "invalid ONNX text: " << why;
    return success();
  }
  if (data.size() > (size_t)INT32_MAX)
    return error() << "model protobuf is " << data.size()
                   << " bytes, over protobuf's 2 GiB limit; store the weights "
                      "as external data";
  if (!model.ParseFromArray(data.data(), (int)data.size()))
    return error() << "not a valid ONNX model: the protobuf is truncated, "
                      "corrupt or nested more than 100 messages deep ("
                   << data.size() << " bytes)";
  if (!model.has_graph())
    return error() << "not a valid ONNX model: it has no graph";
  return success();
}

LogicalResult ModelImporter::readOpsets() {
  for (const onnx::OperatorSetIdProto &o : model.opset_import())
    opsets[canonicalDomain(o.domain())] = o.version();
  if (!opsets.count(""))
    return error() << "the model imports no opset of the default ONNX domain";
  int64_t v = opsets[""];
  if (v < kMinOpset || v > kMaxOpset)
    return error() << "default-domain opset " << v
                   << " is outside the supported range " << kMinOpset << "-"
                   << kMaxOpset;
  return success();
}

LogicalResult ModelImporter::checkSupported(const onnx::GraphProto &g) {
  // Report every unsupported node at once, not only the first.
  const HandlerRegistry &registry = getHandlerRegistry();
  bool ok = true;
  for (auto [i, n] : llvm::enumerate(g.node())) {
    llvm::StringRef domain = canonicalDomain(n.domain());
    int64_t opset = opsetOf(domain);
    if (opset < 0) {
      emitError(nodeLoc(n, i))
          << "node '" << nodeName(n, i) << "' (" << n.op_type() << ", domain '"
          << n.domain() << "'): the model imports no opset of domain '"
          << n.domain() << "'";
      ok = false;
      continue;
    }
    if (!registry.lookup(domain, n.op_type(), opset)) {
      emitError(nodeLoc(n, i))
          << "unsupported operator " << n.op_type() << " (domain '"
          << (domain.empty() ? "ai.onnx" : domain) << "', opset " << opset
          << ") at node '" << nodeName(n, i) << "'";
      ok = false;
    }
  }
  return success(ok);
}

FailureOr<std::vector<const onnx::NodeProto *>>
ModelImporter::sortNodes(const onnx::GraphProto &g,
                         const llvm::StringSet<> &defined) {
  // Kahn's algorithm over value names; ONNX requires a sorted graph, but
  // exporters and hand edits do not always deliver one.
  llvm::StringMap<int> producer;
  for (auto [i, n] : llvm::enumerate(g.node()))
    for (const std::string &o : n.output()) {
      if (o.empty())
        continue;
      if (defined.count(o) || !producer.try_emplace(o, (int)i).second) {
        emitError(nodeLoc(n, i)) << "node '" << nodeName(n, i) << "' ("
                                 << n.op_type() << ") defines '" << o
                                 << "', which is already defined";
        return failure();
      }
    }
  int size = g.node_size();
  std::vector<int> pending(size, 0);
  std::vector<std::vector<int>> users(size);
  bool ok = true;
  for (auto [i, n] : llvm::enumerate(g.node()))
    for (const std::string &in : n.input()) {
      if (in.empty() || defined.count(in))
        continue;
      auto it = producer.find(in);
      if (it == producer.end()) {
        emitError(nodeLoc(n, i))
            << "node '" << nodeName(n, i) << "' (" << n.op_type() << ") reads '"
            << in
            << "', which no node, initializer or graph input defines";
        ok = false;
        continue;
      }
      ++pending[i];
      users[it->second].push_back(i);
    }
  if (!ok)
    return failure();
  std::deque<int> ready;
  for (int i = 0; i < size; ++i)
    if (pending[i] == 0)
      ready.push_back(i);
  std::vector<const onnx::NodeProto *> order;
  while (!ready.empty()) {
    int i = ready.front();
    ready.pop_front();
    order.push_back(&g.node(i));
    for (int u : users[i])
      if (--pending[u] == 0)
        ready.push_back(u);
  }
  if ((int)order.size() != size) {
    // The nodes left are on a cycle or downstream of one; peel off those
    // that feed no other node left, so that only the cycles are named.
    std::vector<int> liveUsers(size, 0);
    for (int i = 0; i < size; ++i)
      if (pending[i] > 0)
        for (int u : users[i])
          liveUsers[i] += pending[u] > 0;
    std::deque<int> sinks;
    for (int i = 0; i < size; ++i)
      if (pending[i] > 0 && liveUsers[i] == 0)
        sinks.push_back(i);
    std::vector<bool> onCycle(size);
    for (int i = 0; i < size; ++i)
      onCycle[i] = pending[i] > 0;
    while (!sinks.empty()) {
      int i = sinks.front();
      sinks.pop_front();
      onCycle[i] = false;
      for (const std::string &in : g.node(i).input()) {
        auto it = in.empty() ? producer.end() : producer.find(in);
        if (it != producer.end() && onCycle[it->second] &&
            --liveUsers[it->second] == 0)
          sinks.push_back(it->second);
      }
    }
    InFlightDiagnostic d = error();
    d << "the graph has a cycle through nodes";
    int listed = 0;
    for (int i = 0; i < size && listed < 8; ++i)
      if (onCycle[i])
        d << (listed++ ? ", '" : " '") << nodeName(g.node(i), i) << "'";
    return failure();
  }
  return order;
}

FailureOr<RankedTensorType>
ModelImporter::inputType(const onnx::ValueInfoProto &vi) {
  if (!vi.type().has_tensor_type())
    return error() << "graph input '" << vi.name()
                   << "' is not a tensor (sequences, maps and optionals are "
                      "not supported)",
           failure();
  const onnx::TypeProto_Tensor &tt = vi.type().tensor_type();
  FailureOr<Type> elt = convertElementType(ctx, tt.elem_type());
  if (failed(elt))
    return error() << "graph input '" << vi.name() << "' has element type "
                   << onnxTypeName(tt.elem_type())
                   << ", which Sinter does not support",
           failure();
  auto fixed = options.inputShapes.find(vi.name());
  if (fixed != options.inputShapes.end()) {
    if (tt.has_shape() && tt.shape().dim_size() != (int)fixed->second.size())
      return error() << "--input-shape gives " << vi.name() << " rank "
                     << fixed->second.size() << " but the model declares rank "
                     << tt.shape().dim_size(),
             failure();
    if (tt.has_shape())
      for (int i = 0; i < tt.shape().dim_size(); ++i) {
        const auto &d = tt.shape().dim(i);
        if (d.has_dim_value() && d.dim_value() != fixed->second[i])
          return error() << "--input-shape gives " << vi.name() << " dimension "
                         << i << " = " << fixed->second[i]
                         << " but the model fixes it to " << d.dim_value(),
                 failure();
      }
    if (checkedElementCount(fixed->second) < 0)
      return error() << "--input-shape gives " << vi.name() << " shape "
                     << shape::str(fixed->second)
                     << ", which has more than 2^40 elements",
             failure();
    return RankedTensorType::get(fixed->second, *elt);
  }
  if (!tt.has_shape())
    return error() << "graph input '" << vi.name()
                   << "' has no declared shape; fix it with --input-shape "
                   << vi.name() << "=D0xD1x...",
           failure();
  SmallVector<int64_t> dims;
  for (int i = 0; i < tt.shape().dim_size(); ++i) {
    const auto &d = tt.shape().dim(i);
    if (d.has_dim_value() && d.dim_value() >= 0) {
      dims.push_back(d.dim_value());
      continue;
    }
    if (d.has_dim_param()) {
      auto p = options.dimParams.find(d.dim_param());
      if (p != options.dimParams.end()) {
        dims.push_back(p->second);
        continue;
      }
    }
    InFlightDiagnostic diag = error();
    diag << "graph input '" << vi.name() << "' has unknown dimension " << i;
    if (d.has_dim_param())
      diag << " ('" << d.dim_param() << "'); fix it with --input-shape "
           << d.dim_param() << "=<size> or --input-shape " << vi.name()
           << "=D0xD1x...";
    else
      diag << "; fix it with --input-shape " << vi.name() << "=D0xD1x...";
    return failure();
  }
  if (checkedElementCount(dims) < 0)
    return error() << "graph input '" << vi.name() << "' has shape "
                   << shape::str(dims)
                   << ", which has more than 2^40 elements",
           failure();
  return RankedTensorType::get(dims, *elt);
}

LogicalResult ModelImporter::importGraph(const onnx::GraphProto &g,
                                         ModuleOp module) {
  if (failed(checkSupported(g)))
    return failure();

  OpBuilder b(ctx);
  b.setInsertionPointToEnd(module.getBody());
  llvm::StringRef modelDir = llvm::sys::path::parent_path(path);

  // Initializers are constants; a graph input of the same name (IR < 4) is
  // its declaration, not a runtime input.
  llvm::StringSet<> defined;
  llvm::StringMap<const onnx::TensorProto *> inits;
  for (const onnx::TensorProto &t : g.initializer()) {
    if (!inits.try_emplace(t.name(), &t).second)
      return error() << "initializer '" << t.name() << "' is defined twice";
    defined.insert(t.name());
  }
  // `--input-shape NAME=N` for a NAME that is no input fixes a dim_param.
  llvm::StringSet<> inputNames;
  for (const onnx::ValueInfoProto &vi : g.input())
    inputNames.insert(vi.name());
  for (const auto &kv : llvm::StringMap<SmallVector<int64_t>>(options.inputShapes)) {
    if (inputNames.count(kv.first()))
      continue;
    if (kv.second.size() != 1)
      return error() << "--input-shape names '" << kv.first()
                     << "', which is not an input of the model";
    options.dimParams[kv.first()] = kv.second[0];
    options.inputShapes.erase(kv.first());
  }
  if (failed(freezeInputs(g, inits, defined)))
    return failure();
  SmallVector<const onnx::ValueInfoProto *> runtimeInputs;
  SmallVector<Type> argTypes;
  bool inputsOk = true;
  for (const onnx::ValueInfoProto &vi : g.input()) {
    if (inits.count(vi.name()))
      continue;
    if (!defined.insert(vi.name()).second)
      return error() << "graph input '" << vi.name() << "' is declared twice";
    FailureOr<RankedTensorType> t = inputType(vi);
    if (failed(t)) {
      inputsOk = false;
      continue;
    }
    runtimeInputs.push_back(&vi);
    argTypes.push_back(*t);
  }
  if (!inputsOk)
    return failure();

  FailureOr<std::vector<const onnx::NodeProto *>> order = sortNodes(g, defined);
  if (failed(order))
    return failure();

  auto func = func::FuncOp::create(b, fileLoc, "main",
                                   b.getFunctionType(argTypes, {}));
  Block *entry = func.addEntryBlock();
  for (auto [i, vi] : llvm::enumerate(runtimeInputs)) {
    values[vi->name()] = entry->getArgument(i);
    func.setArgAttr(i, "sinter.name", b.getStringAttr(vi->name()));
  }
  b.setInsertionPointToStart(entry);

  // External-data initializers are listed by resource key, so that the
  // package phase can make the executable read them at load time instead
  // of embedding them (sinter-bind-weights).
  NamedAttrList externalData;
  for (const auto &kv : inits) {
    std::string why;
    ExternalDataRef ext;
    FailureOr<ElementsAttr> attr =
        convertTensor(ctx, *kv.second, modelDir, why, &ext);
    if (failed(attr))
      return error() << "initializer " << why, failure();
    values[kv.first()] =
        arith::ConstantOp::create(b, fileLoc, cast<TypedAttr>(*attr));
    if (auto r = dyn_cast<DenseResourceElementsAttr>(*attr))
      externalData.set(
          r.getRawHandle().getKey(),
          b.getDictionaryAttr(
              {b.getNamedAttr("name", b.getStringAttr(kv.first())),
               b.getNamedAttr("file", b.getStringAttr(ext.location)),
               b.getNamedAttr("offset", b.getI64IntegerAttr(ext.offset)),
               b.getNamedAttr("bytes", b.getI64IntegerAttr(ext.bytes)),
               b.getNamedAttr("file_bytes",
                              b.getI64IntegerAttr(ext.fileBytes))}));
  }
  if (!externalData.empty()) {
    llvm::SmallString<256> dir;
    if (llvm::sys::fs::real_path(modelDir.empty() ? "." : modelDir, dir))
      dir = modelDir.empty() ? "." : modelDir;
    module->setAttr("sinter.external_data", externalData.getDictionary(ctx));
    module->setAttr("sinter.weights_dir", b.getStringAttr(dir));
  }

  const HandlerRegistry &registry = getHandlerRegistry();
  for (auto [index, n] : llvm::enumerate(*order)) {
    llvm::StringRef domain = canonicalDomain(n->domain());
    int64_t opset = opsetOf(domain);
    NodeContext nctx(*n, domain, opset, b, nodeLoc(*n, index), values,
                     &sequences);
    HandlerFn fn = registry.lookup(domain, n->op_type(), opset);
    FailureOr<bool> folded = tryConstantFold(nctx);
    if (failed(folded))
      return failure();
    if (!*folded)
      for (unsigned i = 0; i < nctx.numInputs(); ++i)
        if (nctx.hasInput(i) && isCompileTimeUint8(nctx.input(i)))
          return nctx.error()
                     << "input '" << n->input(i)
                     << "' is UINT8: Sinter has no uint8 tensors at run "
                        "time and evaluates uint8 only at import (casts, "
                        "comparisons and reshapes of constants)",
                 failure();
    if (!*folded && failed(fn(nctx)))
      return failure();
    for (int o = 0; o < n->output_size(); ++o)
      if (nctx.wantsOutput(o) && !values.count(n->output(o)) &&
          !sequences.count(n->output(o)))
        return nctx.error() << "output #" << o << " ('" << n->output(o)
                            << "') is not supported by Sinter's handler",
               failure();
    // Each handler bounds what it computes from its operands; this keeps
    // every value of the graph under the same limit as the inputs.
    for (const std::string &o : n->output()) {
      Value v = o.empty() ? Value() : values.lookup(o);
      auto t = v ? dyn_cast<RankedTensorType>(v.getType()) : nullptr;
      if (t && checkedElementCount(t.getShape()) < 0)
        return nctx.error() << "output '" << o << "' has shape "
                            << shape::str(t.getShape())
                            << ", which has more than 2^40 elements",
               failure();
    }
  }

  SmallVector<Value> results;
  for (const onnx::ValueInfoProto &vi : g.output()) {
    Value v = values.lookup(vi.name());
    if (!v && sequences.count(vi.name()))
      return error() << "graph output '" << vi.name()
                     << "' is a sequence; Sinter's outputs are tensors",
             failure();
    if (!v)
      return error() << "graph output '" << vi.name()
                     << "' is not produced by any node, initializer or input",
             failure();
    auto t = cast<RankedTensorType>(v.getType());
    if (vi.type().has_tensor_type()) {
      const auto &tt = vi.type().tensor_type();
      FailureOr<Type> elt = convertElementType(ctx, tt.elem_type());
      if (tt.elem_type() != 0 && (failed(elt) || *elt != t.getElementType()))
        return error() << "graph output '" << vi.name() << "' is declared "
                       << onnxTypeName(tt.elem_type()) << " but computes "
                       << t.getElementType(),
               failure();
      if (tt.has_shape()) {
        bool match = tt.shape().dim_size() == t.getRank();
        for (int i = 0; match && i < tt.shape().dim_size(); ++i)
          if (tt.shape().dim(i).has_dim_value() &&
              tt.shape().dim(i).dim_value() != t.getDimSize(i))
            match = false;
        if (!match) {
          std::string declared;
          for (const auto &d : tt.shape().dim())
            declared += (declared.empty() ? "" : ",") +
                        (d.has_dim_value() ? std::to_string(d.dim_value())
                         : d.has_dim_param() ? d.dim_param()
                                             : std::string("?"));
          return error() << "graph output '" << vi.name()
                         << "' is declared with shape [" << declared
                         << "], which contradicts the computed shape "
                         << shape::str(t.getShape()),
                 failure();
        }
      }
    }
    results.push_back(v);
  }
  func::ReturnOp::create(b, fileLoc, results);
  func.setFunctionType(b.getFunctionType(argTypes, ValueRange(results).getTypes()));
  for (auto [i, vi] : llvm::enumerate(g.output()))
    func.setResultAttr(i, "sinter.name", b.getStringAttr(vi.name()));
  return success();
}

LogicalResult
ModelImporter::freezeInputs(const onnx::GraphProto &g,
                            llvm::StringMap<const onnx::TensorProto *> &inits,
                            llvm::StringSet<> &defined) {
  for (const auto &kv : options.frozenInputs) {
    const onnx::ValueInfoProto *vi = nullptr;
    for (const onnx::ValueInfoProto &in : g.input())
      if (in.name() == kv.first() && !inits.count(in.name()))
        vi = &in;
    if (!vi)
      return error() << "--freeze-input names '" << kv.first()
                     << "', which is not an input of the model";
    auto buffer = llvm::MemoryBuffer::getFile(kv.second, /*IsText=*/false);
    auto tensor = std::make_unique<onnx::TensorProto>();
    if (!buffer)
      return error() << "--freeze-input " << kv.first() << ": cannot read '"
                     << kv.second << "': " << buffer.getError().message();
    if (!tensor->ParseFromArray((*buffer)->getBufferStart(),
                                (int)(*buffer)->getBufferSize()))
      return error() << "--freeze-input " << kv.first() << ": '" << kv.second
                     << "' is not an ONNX TensorProto (.pb)";
    tensor->set_name(vi->name());
    // The value must fit the declared type: element type exactly, and every
    // dimension the model fixes.
    const auto &tt = vi->type().tensor_type();
    bool fits = tensor->data_type() == tt.elem_type();
    if (tt.has_shape()) {
      fits &= tt.shape().dim_size() == tensor->dims_size();
      for (int i = 0; fits && i < tt.shape().dim_size(); ++i)
        if (tt.shape().dim(i).has_dim_value() &&
            tt.shape().dim(i).dim_value() != tensor->dims(i))
          fits = false;
    }
    if (!fits)
      return error() << "--freeze-input " << kv.first() << ": the tensor in '"
                     << kv.second << "' does not match the input's declared "
                     << "type (" << onnxTypeName(tt.elem_type()) << ")";
    inits[vi->name()] = tensor.get();
    defined.insert(vi->name());
    frozen.push_back(std::move(tensor));
  }
  return success();
}

OwningOpRef<ModuleOp> ModelImporter::run() {
  if (failed(load()) || failed(readOpsets()))
    return nullptr;
  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  (*module)->setAttr("sinter.source", StringAttr::get(ctx, path));
  if (failed(importGraph(model.graph(), *module)))
    return nullptr;
  if (failed(verify(*module))) {
    emitError(fileLoc) << "internal error: the imported graph does not verify "
                          "(please report this with the model)";
    return nullptr;
  }
  return module;
}

} // namespace
} // namespace onnx_import

OwningOpRef<ModuleOp> importOnnxFile(MLIRContext *context, llvm::StringRef path,
                                     const OnnxImportOptions &options) {
  context->loadDialect<SinterDialect, func::FuncDialect, arith::ArithDialect,
                       tensor::TensorDialect>();
  onnx_import::ModelImporter importer(context, path, options);
  return importer.run();
}

OwningOpRef<ModuleOp> importOnnxBuffer(MLIRContext *context,
                                       llvm::StringRef contents,
                                       llvm::StringRef path,
                                       const OnnxImportOptions &options) {
  context->loadDialect<SinterDialect, func::FuncDialect, arith::ArithDialect,
                       tensor::TensorDialect>();
  onnx_import::ModelImporter importer(context, path, options, contents);
  return importer.run();
}

LogicalResult parseInputShapeOption(llvm::StringRef spec,
                                    OnnxImportOptions &options,
                                    std::string &why) {
  auto [name, dimsText] = spec.rsplit('=');
  if (name.empty() || dimsText.empty() || !spec.contains('=')) {
    why = "--input-shape expects NAME=D0xD1x... or DIMPARAM=N, got '" +
          spec.str() + "'";
    return failure();
  }
  SmallVector<int64_t> dims;
  SmallVector<llvm::StringRef> parts;
  dimsText.split(parts, 'x');
  for (llvm::StringRef p : parts) {
    int64_t d;
    if (p.getAsInteger(10, d) || d < 0) {
      why = "--input-shape '" + spec.str() + "': '" + p.str() +
            "' is not a non-negative integer";
      return failure();
    }
    dims.push_back(d);
  }
  // `name=N` may also fix a symbolic dimension; the importer decides which
  // once it knows the model's input names.
  options.inputShapes[name] = dims;
  return success();
}

std::vector<std::string> listSupportedOnnxOps() {
  return onnx_import::getHandlerRegistry().list();
}

} // namespace sinter
