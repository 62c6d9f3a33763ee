//===- Converter.cpp - unregistered stablehlo ops to sinter ---------------===//
//
// The entry point (importStableHloFile), the normalization of generic-form
// attributes, and the walk over @main: one handler per op name (the family
// files), `call` inlined by converting the callee's body with the call's
// operands bound to its arguments, `while` unrolled when its trip count is
// known at compile time (its condition folds to a constant with the integer
// folding of ConstantFolding.cpp). Names: inputs arg0.., outputs result0..
//
//===----------------------------------------------------------------------===//

#include "StableHloInternals.h"
#include "sinter/Dialect/Graph/IR/GraphOps.h"
#include "sinter/Import/StableHloImporter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/MemoryBuffer.h"

using namespace mlir;

namespace sinter {

bool looksLikeStableHlo(StringRef text) {
  // The first op of either dialect decides; comment lines (lit's CHECKs)
  // do not count.
  while (!text.empty()) {
    auto [line, rest] = text.split('\n');
    text = rest;
    if (line.ltrim().starts_with("//"))
      continue;
    size_t s = line.find("stablehlo."), own = line.find("sinter.");
    if (s != StringRef::npos && (own == StringRef::npos || s < own))
      return true;
    if (own != StringRef::npos)
      return false;
  }
  return false;
}

namespace stablehlo {

std::optional<SmallVector<int64_t>> ints(Operation *op, StringRef name) {
  Attribute a = op->getAttr(name);
  if (!a)
    return std::nullopt;
  if (auto arr = dyn_cast<DenseI64ArrayAttr>(a))
    return SmallVector<int64_t>(arr.asArrayRef());
  if (auto i = dyn_cast<IntegerAttr>(a))
    return SmallVector<int64_t>{i.getInt()};
  if (auto d = dyn_cast<DenseIntElementsAttr>(a)) {
    SmallVector<int64_t> out;
    for (const APInt &v : d.getValues<APInt>())
      out.push_back(v.getSExtValue());
    return out;
  }
  if (auto arr = dyn_cast<ArrayAttr>(a)) {
    SmallVector<int64_t> out;
    for (Attribute e : arr) {
      auto i = dyn_cast<IntegerAttr>(e);
      if (!i)
        return std::nullopt;
      out.push_back(i.getInt());
    }
    return out;
  }
  return std::nullopt;
}

LogicalResult parseConvDims(StringRef text, Builder &b, NamedAttrList &attrs,
                            std::string &why) {
  // [b, 0, f]x[0, i, o]->[b, 0, f]: the position of each letter / spatial
  // index in the input, kernel and output layouts.
  SmallVector<StringRef, 3> parts;
  auto [in, rest] = text.split('x');
  auto [kernel, out] = rest.split("->");
  parts = {in, kernel, out};
  const char *names[3][3] = {
      {"input_batch_dimension", "input_feature_dimension",
       "input_spatial_dimensions"},
      {"kernel_output_feature_dimension", "kernel_input_feature_dimension",
       "kernel_spatial_dimensions"},
      {"output_batch_dimension", "output_feature_dimension",
       "output_spatial_dimensions"}};
  const char letters[3][2] = {{'b', 'f'}, {'o', 'i'}, {'b', 'f'}};
  for (int k = 0; k < 3; ++k) {
    StringRef p = parts[k].trim().trim("[]");
    SmallVector<StringRef> items;
    p.split(items, ',');
    SmallVector<int64_t> spatial(items.size(), -1);
    int64_t first = -1, second = -1;
    unsigned numSpatial = 0;
    for (auto [i, item] : llvm::enumerate(items)) {
      StringRef t = item.trim();
      unsigned idx;
      if (t.size() == 1 && t[0] == letters[k][0])
        first = i;
      else if (t.size() == 1 && t[0] == letters[k][1])
        second = i;
      else if (!t.getAsInteger(10, idx) && idx < items.size()) {
        spatial[idx] = i;
        ++numSpatial;
      } else {
        why = "cannot read convolution dimension numbers '" + text.str() + "'";
        return failure();
      }
    }
    spatial.resize(numSpatial);
    attrs.set(names[k][0], b.getI64IntegerAttr(first));
    attrs.set(names[k][1], b.getI64IntegerAttr(second));
    attrs.set(names[k][2], b.getDenseI64ArrayAttr(spatial));
  }
  return success();
}

/// `#stablehlo.dot<k = [..], ...>`, `#stablehlo<comparison_direction LT>`,
/// `#stablehlo.conv<...>` (opaque attributes in an unregistered context)
/// into plain attributes on the op.
LogicalResult normalizeAttributes(ModuleOp module) {
  Builder b(module.getContext());
  WalkResult r = module.walk([&](Operation *op) {
    if (op->getName().getDialectNamespace() != "stablehlo")
      return WalkResult::advance();
    NamedAttrList attrs(op->getAttrDictionary());
    // The generic form's `<{...}>` are properties of the unregistered op.
    if (auto props =
            dyn_cast_or_null<DictionaryAttr>(op->getPropertiesAsAttribute()))
      for (NamedAttribute na : props)
        attrs.set(na.getName(), na.getValue());
    for (NamedAttribute na : llvm::to_vector(attrs.getAttrs())) {
      auto opaque = dyn_cast<OpaqueAttr>(na.getValue());
      if (!opaque || opaque.getDialectNamespace() != "stablehlo")
        continue;
      StringRef body = opaque.getAttrData();
      if (body.consume_front("conv<")) {
        std::string why;
        if (failed(parseConvDims(body.drop_back(), b, attrs, why))) {
          op->emitError(why);
          return WalkResult::interrupt();
        }
        continue;
      }
      if (body.starts_with("<") ||
          (!body.contains('<') && body.contains(' '))) {
        // <comparison_direction LT>
        if (body.consume_front("<"))
          body = body.drop_back();
        auto [kind, word] = body.split(' ');
        attrs.set(na.getName(), b.getStringAttr(word.trim()));
        continue;
      }
      size_t open = body.find('<');
      if (open == StringRef::npos)
        continue;
      body = body.substr(open + 1).drop_back();
      // k = [1, 2], k2 = 3
      while (!body.trim().empty()) {
        auto [key, rest] = body.split('=');
        rest = rest.ltrim();
        SmallVector<int64_t> vals;
        bool list = rest.consume_front("[");
        StringRef value =
            list ? rest.take_until([](char c) { return c == ']'; })
                 : rest.take_until([](char c) { return c == ','; });
        rest = rest.drop_front(value.size() + (list ? 1 : 0));
        SmallVector<StringRef> items;
        value.split(items, ',', -1, false);
        for (StringRef it : items) {
          int64_t v;
          if (!it.trim().getAsInteger(10, v))
            vals.push_back(v);
        }
        if (list)
          attrs.set(key.trim(), b.getDenseI64ArrayAttr(vals));
        else if (!vals.empty())
          attrs.set(key.trim(), b.getI64IntegerAttr(vals[0]));
        rest = rest.ltrim();
        rest.consume_front(",");
        body = rest;
      }
    }
    op->setAttrs(attrs.getDictionary(module.getContext()));
    return WalkResult::advance();
  });
  return failure(r.wasInterrupted());
}

Converter::Converter(ModuleOp source, OpBuilder &b)
    : b(b), loc(b.getUnknownLoc()), source(source) {
  registerElementwiseOps(table);
  registerTensorOps(table);
  registerContractionOps(table);
}

Value Converter::constant(Attribute value) {
  return arith::ConstantOp::create(b, loc, cast<TypedAttr>(value));
}

Value Converter::reshape(Value v, ArrayRef<int64_t> shape) {
  auto src = cast<RankedTensorType>(v.getType());
  if (src.getShape() == shape)
    return v;
  auto dst = RankedTensorType::get(shape, src.getElementType());
  if (dst.getRank() < src.getRank()) {
    if (auto re = getReassociationIndicesForCollapse(src.getShape(), shape))
      return tensor::CollapseShapeOp::create(b, loc, dst, v, *re);
  } else if (dst.getRank() > src.getRank()) {
    if (auto re = getReassociationIndicesForCollapse(shape, src.getShape()))
      return tensor::ExpandShapeOp::create(b, loc, dst, v, *re);
  }
  SmallVector<int64_t> dims(shape);
  Value shapeConst = constant(DenseElementsAttr::get(
      RankedTensorType::get({(int64_t)dims.size()}, b.getI64Type()),
      ArrayRef<int64_t>(dims)));
  return tensor::ReshapeOp::create(b, loc, dst, v, shapeConst);
}

bool Converter::isPermutation(ArrayRef<int64_t> perm, int64_t rank) {
  if ((int64_t)perm.size() != rank)
    return false;
  llvm::SmallVector<bool> seen(rank, false);
  for (int64_t p : perm) {
    if (p < 0 || p >= rank || seen[p])
      return false;
    seen[p] = true;
  }
  return true;
}

Value Converter::transpose(Value v, ArrayRef<int64_t> perm) {
  auto src = cast<RankedTensorType>(v.getType());
  if (!isPermutation(perm, src.getRank())) {
    // A handler passed dimension numbers it did not check: report instead
    // of indexing the shape with them.
    if (currentOp)
      currentOp->emitError() << "dimension numbers that do not permute the "
                             << src.getRank() << " dims of an operand";
    helperFailed = true;
    return v;
  }
  if (llvm::equal(perm, llvm::seq<int64_t>(0, perm.size())))
    return v;
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(src.getDimSize(p));
  return TransposeOp::create(b, loc, src.clone(shape), v,
                             b.getDenseI64ArrayAttr(perm));
}

Value Converter::castTo(Value v, Type elt) {
  auto src = mlir::cast<RankedTensorType>(v.getType());
  if (src.getElementType() == elt)
    return v;
  return CastOp::create(b, loc, src.clone(elt), v);
}

DenseElementsAttr Converter::constantOf(Value v) {
  if (auto c = v.getDefiningOp<arith::ConstantOp>())
    return dyn_cast<DenseElementsAttr>(c.getValue());
  return {};
}

std::optional<int64_t> Converter::constantInt(Value v) {
  DenseElementsAttr d = constantOf(v);
  if (!d || !d.isSplat() || !isa<IntegerType>(d.getElementType()))
    return std::nullopt;
  return d.getSplatValue<APInt>().getSExtValue();
}

LogicalResult Converter::convertBlock(Block &block, ArrayRef<Value> args,
                                      SmallVectorImpl<Value> &results) {
  // While regions may use values of the enclosing blocks: look them up in
  // the mappings of the blocks being converted, innermost first.
  IRMapping map;
  scopes.push_back(&map);
  auto popScope = llvm::make_scope_exit([&] { scopes.pop_back(); });
  for (auto [from, to] : llvm::zip(block.getArguments(), args))
    map.map(from, to);
  for (Operation &op : block) {
    SmallVector<Value> operands;
    for (Value v : op.getOperands()) {
      Value m;
      for (IRMapping *scope : llvm::reverse(scopes))
        if ((m = scope->lookupOrNull(v)))
          break;
      if (!m)
        return op.emitError("operand defined outside the converted scope");
      operands.push_back(m);
    }
    StringRef name = op.getName().getStringRef();
    if (name == "stablehlo.return" || name == "func.return") {
      results.assign(operands.begin(), operands.end());
      return success();
    }
    SmallVector<Value> outs;
    loc = op.getLoc();
    if (failed(convertOp(&op, operands, outs)))
      return failure();
    if (outs.size() != op.getNumResults())
      return op.emitError("internal error: wrong number of converted results");
    for (auto [from, to] : llvm::zip(op.getResults(), outs)) {
      if (from.getType() != to.getType())
        return op.emitError("internal error: converted to ")
               << to.getType() << ", expected " << from.getType();
      map.map(from, to);
    }
  }
  return success();
}

/// The handlers index their operands and read result 0's type: the generic
/// form lets a file give any op any number of either (fuzz_stablehlo found
/// a one-operand `add`), so the counts and types are checked first.
static LogicalResult checkArity(Operation *op, StringRef name,
                                size_t operands) {
  static const llvm::StringMap<std::pair<int, int>> kArity = [] {
    llvm::StringMap<std::pair<int, int>> m;
    for (StringRef n : {"constant", "iota"})
      m[n] = {0, 0};
    for (StringRef n :
         {"negate", "abs", "sign", "exponential", "log", "sqrt", "rsqrt",
          "logistic", "tanh", "sine", "cosine", "floor", "ceil", "not",
          "log_plus_one", "exponential_minus_one", "convert",
          "broadcast_in_dim", "reshape", "transpose", "slice"})
      m[n] = {1, 1};
    for (StringRef n : {"add", "subtract", "multiply", "divide", "power",
                        "maximum", "minimum", "and", "or", "xor", "compare",
                        "dot_general", "gather", "convolution"})
      m[n] = {2, 2};
    for (StringRef n : {"select", "clamp"})
      m[n] = {3, 3};
    m["scatter"] = {3, 3 * 64};
    m["dynamic_slice"] = {1, 1 + 64};
    m["dynamic_update_slice"] = {2, 2 + 64};
    m["concatenate"] = {1, 1 << 16};
    m["reduce"] = {2, 2 * 64};
    return m;
  }();
  auto it = kArity.find(name);
  if (it != kArity.end() && ((int64_t)operands < it->second.first ||
                             (int64_t)operands > it->second.second))
    return op->emitError() << "'stablehlo." << name << "' with " << operands
                           << " operands", failure();
  if (op->getNumResults() == 0 || (name != "reduce" && op->getNumResults() != 1))
    return op->emitError() << "'stablehlo." << name << "' with "
                           << op->getNumResults() << " results", failure();
  for (Type t : op->getResultTypes()) {
    auto rt = dyn_cast<RankedTensorType>(t);
    if (!rt || !rt.hasStaticShape())
      return op->emitError() << "'stablehlo." << name << "' has result type "
                             << t << " (a tensor of static shape is needed)",
             failure();
  }
  return success();
}

LogicalResult Converter::convertOp(Operation *op, ArrayRef<Value> operands,
                                   SmallVectorImpl<Value> &results) {
  StringRef name = op->getName().getStringRef();
  if (name == "stablehlo.call" || name == "func.call")
    return convertCall(op, operands, results);
  if (name == "stablehlo.while")
    return convertWhile(op, operands, results);
  StringRef shortName = name;
  bool known = shortName.consume_front("stablehlo.") && table.count(shortName);
  if (known && failed(checkArity(op, shortName, operands.size())))
    return failure();
  // Some integer ops (remainder, shifts...) exist only as constant folds.
  if (tryFoldIntegerOp(*this, op, operands, results))
    return success();
  if (!known)
    return op->emitError("unsupported op '") << name << "'";
  currentOp = op;
  helperFailed = false;
  LogicalResult r = table[shortName](*this, op, operands, results);
  currentOp = nullptr;
  if (helperFailed)
    return failure();
  return r;
}

LogicalResult Converter::convertCall(Operation *op, ArrayRef<Value> operands,
                                     SmallVectorImpl<Value> &results) {
  auto callee = op->getAttrOfType<FlatSymbolRefAttr>("callee");
  auto func = callee ? source.lookupSymbol<func::FuncOp>(callee.getValue())
                     : func::FuncOp();
  if (!func || func.isExternal())
    return op->emitError("call to an unknown function");
  if (++callDepth > 64)
    return op->emitError("calls nest deeper than 64 (recursion?)");
  LogicalResult r = convertBlock(func.getBody().front(), operands, results);
  --callDepth;
  return r;
}

/// Unrolls `while` when its trip count is known at compile time: the
/// condition is converted with the current loop state, and the integer
/// folding (ConstantFolding.cpp) must turn it into a constant. That covers
/// the loops JAX writes for lax.scan and fori_loop with static bounds
/// (a counter from a constant, stepped by a constant, compared with a
/// constant or with anything that folds to one), in any of its spellings.
LogicalResult Converter::convertWhile(Operation *op, ArrayRef<Value> operands,
                                      SmallVectorImpl<Value> &results) {
  if (op->getNumRegions() != 2 || op->getRegion(0).empty() ||
      op->getRegion(1).empty())
    return op->emitError("stablehlo.while without a cond and a body region");
  Block &cond = op->getRegion(0).front();
  Block &body = op->getRegion(1).front();
  SmallVector<Value> state(operands);
  for (int64_t trips = 0;; ++trips) {
    SmallVector<Value> c;
    if (failed(convertBlock(cond, state, c)))
      return failure();
    DenseElementsAttr d =
        c.size() == 1 ? constantOf(c[0]) : DenseElementsAttr();
    if (!d || !d.isSplat() || !d.getElementType().isInteger(1))
      return op->emitError("unsupported stablehlo.while: the trip count is "
                           "not known at compile time (the condition in "
                           "iteration ")
             << trips
             << " does not fold to a constant; only loops with static "
                "bounds, as lax.scan and fori_loop with constant bounds "
                "write them, are unrolled)";
    if (!d.getSplatValue<bool>())
      break;
    if (trips >= 4096)
      return op->emitError(
          "unsupported stablehlo.while: more than 4096 iterations to unroll");
    SmallVector<Value> out;
    if (failed(convertBlock(body, state, out)))
      return failure();
    state = out;
  }
  loc = op->getLoc();
  results.assign(state.begin(), state.end());
  return success();
}

} // namespace stablehlo

OwningOpRef<ModuleOp> importStableHloFile(MLIRContext *context,
                                          StringRef path) {
  std::string err;
  auto buffer = openInputFile(path, &err);
  if (!buffer) {
    emitError(FileLineColLoc::get(context, path, 0, 0)) << err;
    return nullptr;
  }
  StringRef text = buffer->getBuffer();
  bool generic = text.ltrim().starts_with("\"") ||
                 text.find("\"func.func\"") != StringRef::npos;
  llvm::SourceMgr sm;
  sm.AddNewSourceBuffer(std::move(buffer), SMLoc());
  bool allowed = context->allowsUnregisteredDialects();
  context->allowUnregisteredDialects(true);
  OwningOpRef<ModuleOp> source;
  if (generic) {
    ParserConfig config(context, /*verifyAfterParse=*/false);
    source = parseSourceFile<ModuleOp>(sm, config);
    // The registered ops of a generic-form file (builtin.module, func.func)
    // must be well formed before the converter trusts them: a func.func
    // without a function_type crashed it (fuzz_stablehlo). The stablehlo
    // ops are unregistered and pass unverified.
    if (source && failed(verify(*source)))
      source = nullptr;
  } else {
    source = stablehlo::readPretty(context, sm, path);
  }
  context->allowUnregisteredDialects(allowed);
  if (!source || failed(stablehlo::normalizeAttributes(*source)))
    return nullptr;
  auto main = source->lookupSymbol<func::FuncOp>("main");
  if (!main) {
    emitError(source->getLoc()) << "no function @main";
    return nullptr;
  }
  OpBuilder b(context);
  OwningOpRef<ModuleOp> module = ModuleOp::create(main.getLoc());
  b.setInsertionPointToEnd(module->getBody());
  auto func =
      func::FuncOp::create(b, main.getLoc(), "main", main.getFunctionType());
  Block *entry = func.addEntryBlock();
  for (unsigned i = 0; i < func.getNumArguments(); ++i) {
    func.setArgAttr(i, "sinter.name", b.getStringAttr("arg" + Twine(i)));
    auto t = dyn_cast<RankedTensorType>(func.getArgumentTypes()[i]);
    if (!t || !t.hasStaticShape()) {
      emitError(main.getLoc())
          << "argument " << i << " does not have a static shape";
      return nullptr;
    }
  }
  for (unsigned i = 0; i < func.getNumResults(); ++i)
    func.setResultAttr(i, "sinter.name", b.getStringAttr("result" + Twine(i)));
  b.setInsertionPointToEnd(entry);
  stablehlo::Converter conv(*source, b);
  SmallVector<Value> results;
  SmallVector<Value> args(entry->getArguments());
  if (failed(conv.convertBlock(main.getBody().front(), args, results)))
    return nullptr;
  b.setInsertionPointToEnd(entry);
  func::ReturnOp::create(b, main.getLoc(), results);
  if (failed(verify(*module)))
    return nullptr;
  return module;
}

} // namespace sinter
