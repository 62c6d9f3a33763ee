//===- Reader.cpp - pretty-form StableHLO text to unregistered ops --------===//
//
// A small recursive-descent reader for the pretty form JAX prints. Types
// and attributes are handed to MLIR's own parser (mlir::parseType /
// parseAttribute, which report how much they read); the reader itself only
// knows the op syntaxes: the operand lists, the `kw = value` items, the
// slice, reduce, convolution and while forms. Ops are built unregistered
// with the generic form's attribute names, so one converter serves both
// forms. Every error points at the file position where reading stopped.
//
//===----------------------------------------------------------------------===//

#include "StableHloInternals.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"

using namespace mlir;

namespace sinter::stablehlo {
namespace {

class Reader {
public:
  Reader(MLIRContext *ctx, llvm::SourceMgr &sm, StringRef fileName)
      : ctx(ctx), b(ctx), sm(sm), fileName(fileName) {
    const llvm::MemoryBuffer *buf = sm.getMemoryBuffer(sm.getMainFileID());
    text = buf->getBuffer();
  }

  OwningOpRef<ModuleOp> read();

private:
  // --- lexing -------------------------------------------------------------
  void skipWs() {
    while (pos < text.size()) {
      char c = text[pos];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++pos;
      } else if (text.substr(pos).starts_with("//")) {
        pos = text.find('\n', pos);
        if (pos == StringRef::npos)
          pos = text.size();
      } else {
        break;
      }
    }
  }
  bool peek(StringRef s) {
    skipWs();
    return text.substr(pos).starts_with(s);
  }
  bool accept(StringRef s) {
    if (!peek(s))
      return false;
    pos += s.size();
    return true;
  }
  static bool isIdChar(char c) {
    return llvm::isAlnum(c) || c == '_' || c == '.' || c == '$' || c == '-';
  }
  bool acceptKeyword(StringRef s) {
    if (!peek(s))
      return false;
    size_t end = pos + s.size();
    if (end < text.size() && isIdChar(text[end]) && text[end] != '-')
      return false;
    pos = end;
    return true;
  }
  LogicalResult expect(StringRef s) {
    if (accept(s))
      return success();
    return fail("expected '" + s + "'");
  }
  StringRef ident() {
    skipWs();
    size_t start = pos;
    while (pos < text.size() && (llvm::isAlnum(text[pos]) || text[pos] == '_' ||
                                 text[pos] == '.' || text[pos] == '$'))
      ++pos;
    return text.slice(start, pos);
  }
  /// `%name` or `%name#3`, returned without the `%`.
  StringRef ssaName() {
    skipWs();
    if (pos >= text.size() || text[pos] != '%')
      return {};
    size_t start = ++pos;
    while (pos < text.size() && (isIdChar(text[pos]) || text[pos] == '#'))
      ++pos;
    return text.slice(start, pos);
  }
  Location here() {
    // Scanners may step past the end (an escape as the last character);
    // SourceMgr must only see pointers into the buffer (fuzz_stablehlo).
    auto lc = sm.getLineAndColumn(
        SMLoc::getFromPointer(text.data() + std::min(pos, text.size())));
    return FileLineColLoc::get(ctx, fileName, lc.first, lc.second);
  }
  LogicalResult fail(const Twine &msg) {
    emitError(here()) << msg;
    return failure();
  }
  LogicalResult failAt(Location l, const Twine &msg) {
    emitError(l) << msg;
    return failure();
  }
  /// Skips a balanced (...), [...], {...} or <...> group starting at pos.
  LogicalResult skipBalanced() {
    skipWs();
    SmallVector<char> stack;
    do {
      if (pos >= text.size())
        return fail("unbalanced brackets");
      char c = text[pos];
      if (c == '"') {
        for (++pos; pos < text.size() && text[pos] != '"'; ++pos)
          if (text[pos] == '\\')
            ++pos;
      } else if (c == '-' && pos + 1 < text.size() && text[pos + 1] == '>') {
        ++pos;
      } else if (c == '(' || c == '[' || c == '{' || c == '<') {
        stack.push_back(c);
      } else if (c == ')' || c == ']' || c == '}' || c == '>') {
        if (stack.empty()) // a closer first (fuzz_stablehlo)
          return fail("unbalanced brackets");
        stack.pop_back();
      }
      ++pos;
    } while (!stack.empty());
    return success();
  }
  Type type() {
    skipWs();
    size_t n = 0;
    Type t = parseType(text.substr(pos), ctx, &n, /*isKnownNullTerminated=*/true);
    if (!t)
      return {};
    pos += n;
    return t;
  }
  Attribute attribute(Type t = {}) {
    skipWs();
    size_t n = 0;
    Attribute a = parseAttribute(text.substr(pos), ctx, t, &n, true);
    if (!a)
      return {};
    pos += n;
    return a;
  }
  void skipLoc() {
    if (peek("loc(")) {
      pos += 3;
      (void)skipBalanced();
    }
  }

  // --- values -------------------------------------------------------------
  Value lookup(StringRef name, Location l) {
    auto it = values.find(name);
    if (it != values.end())
      return it->second;
    // %0#1: result 1 of the op defining %0.
    auto [base, idx] = name.split('#');
    unsigned i = 0;
    if (!idx.empty() && !idx.getAsInteger(10, i)) {
      auto jt = values.find(base);
      if (jt != values.end() && jt->second.getDefiningOp() &&
          i < jt->second.getDefiningOp()->getNumResults())
        return jt->second.getDefiningOp()->getResult(i);
    }
    emitError(l) << "use of undefined value '%" << name << "'";
    return {};
  }
  LogicalResult operand(SmallVectorImpl<Value> &out) {
    Location l = here();
    StringRef n = ssaName();
    if (n.empty())
      return fail("expected an SSA value");
    Value v = lookup(n, l);
    if (!v)
      return failure();
    out.push_back(v);
    return success();
  }

  // --- grammar ------------------------------------------------------------
  LogicalResult function(ModuleOp module);
  LogicalResult block(Block *block, StringRef terminatorName);
  LogicalResult op(Block *block);
  LogicalResult genericOp(OperationState &state);
  LogicalResult typesAfterColon(OperationState &state, unsigned numOperands);
  LogicalResult keywordItem(StringRef opName, StringRef kw,
                            NamedAttrList &attrs);
  LogicalResult intList(SmallVectorImpl<int64_t> &out, bool nested = false);
  LogicalResult regionBlock(Region &region, ArrayRef<Type> argTypes,
                            ArrayRef<StringRef> argNames);

  MLIRContext *ctx;
  Builder b;
  llvm::SourceMgr &sm;
  StringRef fileName;
  StringRef text;
  size_t pos = 0;
  llvm::StringMap<Value> values;
};

OwningOpRef<ModuleOp> Reader::read() {
  OwningOpRef<ModuleOp> module = ModuleOp::create(here());
  // `#loc = loc(...)` alias lines may come first or last.
  auto skipAliases = [&] {
    while (peek("#")) {
      pos = text.find('\n', pos);
      if (pos == StringRef::npos)
        pos = text.size();
    }
  };
  skipAliases();
  bool wrapped = acceptKeyword("module");
  if (wrapped) {
    if (peek("@")) {
      ++pos;
      ident();
    }
    if (acceptKeyword("attributes") && failed(skipBalanced()))
      return nullptr;
    if (failed(expect("{")))
      return nullptr;
  }
  while (true) {
    skipWs();
    if (wrapped && accept("}"))
      break;
    if (!wrapped && (pos >= text.size() || peek("#")))
      break;
    if (acceptKeyword("func.func")) {
      if (failed(function(*module)))
        return nullptr;
      continue;
    }
    (void)fail("expected 'func.func'");
    return nullptr;
  }
  skipLoc();
  skipAliases();
  skipWs();
  if (pos < text.size()) {
    (void)fail("unexpected text after the module");
    return nullptr;
  }
  return module;
}

LogicalResult Reader::function(ModuleOp module) {
  Location l = here();
  (void)(acceptKeyword("public") || acceptKeyword("private"));
  if (failed(expect("@")))
    return failure();
  StringRef name = ident();
  values.clear();
  if (failed(expect("(")))
    return failure();
  SmallVector<Type> argTypes, resultTypes;
  SmallVector<StringRef> argNames;
  if (!accept(")")) {
    do {
      StringRef n = ssaName();
      if (n.empty() || failed(expect(":")))
        return fail("expected '%name: type'");
      Type t = type();
      if (!t)
        return failure();
      argNames.push_back(n);
      argTypes.push_back(t);
      if (peek("{") && failed(skipBalanced()))
        return failure();
      skipLoc();
    } while (accept(","));
    if (failed(expect(")")))
      return failure();
  }
  if (accept("->")) {
    if (accept("(")) {
      if (!accept(")")) {
        do {
          Type t = type();
          if (!t)
            return failure();
          resultTypes.push_back(t);
          if (peek("{") && failed(skipBalanced()))
            return failure();
        } while (accept(","));
        if (failed(expect(")")))
          return failure();
      }
    } else {
      Type t = type();
      if (!t)
        return failure();
      resultTypes.push_back(t);
    }
  }
  if (acceptKeyword("attributes") && failed(skipBalanced()))
    return failure();
  OpBuilder ob(ctx);
  ob.setInsertionPointToEnd(module.getBody());
  auto func = func::FuncOp::create(ob, l, name,
                                   ob.getFunctionType(argTypes, resultTypes));
  if (name != "main")
    func.setPrivate();
  if (failed(regionBlock(func.getBody(), argTypes, argNames)))
    return failure();
  skipLoc();
  return success();
}

LogicalResult Reader::regionBlock(Region &region, ArrayRef<Type> argTypes,
                                  ArrayRef<StringRef> argNames) {
  if (failed(expect("{")))
    return failure();
  Block *blk = new Block();
  region.push_back(blk);
  // Generic-style regions name their block: ^bb0(%a: t, %b: t):
  if (accept("^")) {
    ident();
    if (failed(expect("(")))
      return failure();
    if (!accept(")")) {
      do {
        Location l = here();
        StringRef n = ssaName();
        if (n.empty() || failed(expect(":")))
          return fail("expected '%name: type'");
        Type t = type();
        if (!t)
          return failure();
        skipLoc();
        values[n] = blk->addArgument(t, l);
      } while (accept(","));
      if (failed(expect(")")))
        return failure();
    }
    if (failed(expect(":")))
      return failure();
  } else {
    for (auto [t, n] : llvm::zip(argTypes, argNames))
      values[n] = blk->addArgument(t, here());
  }
  while (!accept("}"))
    if (failed(op(blk)))
      return failure();
  return success();
}

LogicalResult Reader::intList(SmallVectorImpl<int64_t> &out, bool nested) {
  if (failed(expect("[")))
    return failure();
  if (accept("]"))
    return success();
  do {
    skipWs();
    if (peek("[")) {
      if (failed(intList(out, true)))
        return failure();
      continue;
    }
    size_t start = pos;
    if (pos < text.size() && text[pos] == '-')
      ++pos;
    while (pos < text.size() && llvm::isDigit(text[pos]))
      ++pos;
    int64_t v;
    if (text.slice(start, pos).getAsInteger(10, v))
      return fail("expected an integer");
    out.push_back(v);
  } while (accept(","));
  return expect("]");
}

/// `kw = value` items of the pretty form, stored under generic names.
LogicalResult Reader::keywordItem(StringRef opName, StringRef kw,
                                  NamedAttrList &attrs) {
  auto array = [&](StringRef name) -> LogicalResult {
    SmallVector<int64_t> v;
    if (failed(intList(v)))
      return failure();
    attrs.set(name, b.getDenseI64ArrayAttr(v));
    return success();
  };
  auto pair = [&](StringRef lhs, StringRef rhs) -> LogicalResult {
    if (failed(array(lhs)) || failed(expect("x")))
      return failure();
    return array(rhs);
  };
  auto integer = [&](StringRef name) -> LogicalResult {
    skipWs();
    size_t start = pos;
    while (pos < text.size() && llvm::isDigit(text[pos]))
      ++pos;
    int64_t v;
    if (text.slice(start, pos).getAsInteger(10, v))
      return fail("expected an integer");
    attrs.set(name, b.getI64IntegerAttr(v));
    return success();
  };
  if (kw == "dims" && opName == "broadcast_in_dim")
    return array("broadcast_dimensions");
  if (kw == "dims" && opName == "transpose")
    return array("permutation");
  if (kw == "dims" && opName == "reverse")
    return array("dimensions");
  if (kw == "dimensions")
    return array("dimensions");
  if (kw == "sizes")
    return array("slice_sizes");
  if (kw == "dim" && opName == "iota")
    return integer("iota_dimension");
  if (kw == "dim")
    return integer("dimension");
  if (kw == "batching_dims")
    return pair("lhs_batching_dimensions", "rhs_batching_dimensions");
  if (kw == "contracting_dims")
    return pair("lhs_contracting_dimensions", "rhs_contracting_dimensions");
  if (kw == "precision" || kw == "algorithm")
    return skipBalanced();
  if (kw == "dim_numbers") {
    size_t start = pos;
    // [b, 0, f]x[0, i, o]->[b, 0, f]
    if (failed(skipBalanced()) || failed(expect("x")) ||
        failed(skipBalanced()) || failed(expect("->")) ||
        failed(skipBalanced()))
      return failure();
    std::string why;
    if (failed(parseConvDims(text.slice(start, pos), b, attrs, why)))
      return fail(why);
    return success();
  }
  if (kw == "window") {
    if (failed(expect("{")))
      return failure();
    if (!accept("}")) {
      do {
        StringRef k = ident();
        if (failed(expect("=")))
          return failure();
        StringRef name = llvm::StringSwitch<StringRef>(k)
                             .Case("stride", "window_strides")
                             .Case("pad", "padding")
                             .Case("lhs_dilate", "lhs_dilation")
                             .Case("rhs_dilate", "rhs_dilation")
                             .Default("");
        if (k == "reverse") {
          size_t start = pos;
          if (failed(skipBalanced()))
            return failure();
          if (text.slice(start, pos).contains("true"))
            return fail("convolution window reversal is not supported");
          continue;
        }
        if (name.empty())
          return fail("unsupported convolution window field '" + k + "'");
        if (failed(array(name)))
          return failure();
      } while (accept(","));
      if (failed(expect("}")))
        return failure();
    }
    return success();
  }
  return fail("unsupported attribute '" + kw + "' of stablehlo." + opName);
}

/// `: T`, `: (T, T) -> T` or `: T0, T1` (select) after an op.
LogicalResult Reader::typesAfterColon(OperationState &state,
                                      unsigned numOperands) {
  if (failed(expect(":")))
    return failure();
  skipWs();
  Type first = type();
  if (!first)
    return failure();
  if (auto fn = dyn_cast<FunctionType>(first)) {
    if (fn.getNumInputs() != numOperands)
      return fail("the type lists " + Twine(fn.getNumInputs()) +
                  " operands, the op has " + Twine(numOperands));
    state.addTypes(fn.getResults());
    return success();
  }
  SmallVector<Type> types{first};
  while (accept(",")) {
    Type t = type();
    if (!t)
      return failure();
    types.push_back(t);
  }
  // One type: every operand and the result; select: pred type, then the rest.
  state.addTypes(types.back());
  return success();
}

LogicalResult Reader::genericOp(OperationState &state) {
  SmallVector<Value> operands;
  if (failed(expect("(")))
    return failure();
  if (!accept(")")) {
    do {
      if (failed(operand(operands)))
        return failure();
    } while (accept(","));
    if (failed(expect(")")))
      return failure();
  }
  state.addOperands(operands);
  if (accept("<")) {
    auto dict = dyn_cast_or_null<DictionaryAttr>(attribute());
    if (!dict || failed(expect(">")))
      return fail("expected the op's properties");
    state.addAttributes(dict.getValue());
  }
  if (accept("(")) {
    do {
      Region *r = state.addRegion();
      if (failed(regionBlock(*r, {}, {})))
        return failure();
    } while (accept(","));
    if (failed(expect(")")))
      return failure();
  }
  if (peek("{")) {
    auto dict = dyn_cast_or_null<DictionaryAttr>(attribute());
    if (!dict)
      return failure();
    state.addAttributes(dict.getValue());
  }
  if (failed(expect(":")))
    return failure();
  auto fn = dyn_cast_or_null<FunctionType>(type());
  if (!fn)
    return fail("expected a function type");
  state.addTypes(fn.getResults());
  return success();
}

LogicalResult Reader::op(Block *blk) {
  Location l = here();
  // Results: %a, %b:2 = ...
  SmallVector<std::pair<StringRef, unsigned>> results;
  if (peek("%")) {
    do {
      StringRef n = ssaName();
      unsigned count = 1;
      if (accept(":")) {
        size_t start = pos;
        while (pos < text.size() && llvm::isDigit(text[pos]))
          ++pos;
        (void)text.slice(start, pos).getAsInteger(10, count);
      }
      results.push_back({n, count});
    } while (accept(","));
    if (failed(expect("=")))
      return failure();
  }
  l = here();
  OperationState state(l, "stablehlo.unknown");
  SmallVector<Value> operands;
  bool generic = peek("\"");
  StringRef fullName;
  if (generic) {
    ++pos;
    size_t end = text.find('"', pos);
    fullName = text.slice(pos, end);
    pos = end + 1;
    state.name = OperationName(fullName, ctx);
    if (failed(genericOp(state)))
      return failure();
  } else {
    fullName = ident();
    StringRef name = fullName;
    if (name == "call" || name == "func.call") {
      if (failed(expect("@")))
        return failure();
      state.name = OperationName("stablehlo.call", ctx);
      state.addAttribute("callee", FlatSymbolRefAttr::get(ctx, ident()));
      if (failed(expect("(")))
        return failure();
      if (!accept(")")) {
        do {
          if (failed(operand(operands)))
            return failure();
        } while (accept(","));
        if (failed(expect(")")))
          return failure();
      }
      state.addOperands(operands);
      if (failed(expect(":")))
        return failure();
      auto fn = dyn_cast_or_null<FunctionType>(type());
      if (!fn)
        return fail("expected a function type");
      state.addTypes(fn.getResults());
    } else if (name == "return" || name == "func.return" ||
               name == "stablehlo.return") {
      state.name = OperationName("stablehlo.return", ctx);
      if (peek("%")) {
        do {
          if (failed(operand(operands)))
            return failure();
        } while (accept(","));
        if (failed(expect(":")))
          return failure();
        do {
          if (!type())
            return failure();
        } while (accept(","));
      }
      state.addOperands(operands);
    } else if (!name.consume_front("stablehlo.")) {
      return failAt(l, "unsupported op '" + fullName + "'");
    } else if (name == "custom_call") {
      skipWs();
      StringRef target = peek("@") ? (++pos, ident()) : StringRef("?");
      return failAt(l, "unsupported op stablehlo.custom_call @" + target +
                           ": custom calls have no sinter equivalent");
    } else {
      state.name = OperationName(fullName, ctx);
      NamedAttrList attrs;
      if (name == "constant") {
        // dense<...> : type, parsed as two pieces: the value with the type.
        skipWs();
        size_t start = pos;
        ident();
        if (failed(skipBalanced()))
          return failure();
        StringRef literal = text.slice(start, pos);
        if (failed(expect(":")))
          return failure();
        Type t = type();
        if (!t)
          return failure();
        Attribute value = parseAttribute(literal, ctx, t);
        auto typed = dyn_cast_or_null<TypedAttr>(value);
        if (!typed)
          return failAt(l, "expected a typed constant value");
        attrs.set("value", value);
        state.addTypes(typed.getType());
      } else if (name == "reduce" || name == "while" ||
                 name == "convolution") {
        // reduce(%x init: %c), (%y init: %d) ...; while(%it = %v, ...);
        // convolution(%a, %b)
        SmallVector<Value> inits;
        SmallVector<StringRef> iterNames;
        do {
          if (failed(expect("(")))
            return failure();
          do {
            if (name == "while") {
              iterNames.push_back(ssaName());
              if (failed(expect("=")))
                return failure();
            }
            if (failed(operand(operands)))
              return failure();
            if (name == "reduce" &&
                (failed(expect("init")) || failed(expect(":")) ||
                 failed(operand(inits))))
              return failure();
          } while (accept(","));
          if (failed(expect(")")))
            return failure();
        } while (name == "reduce" && accept(","));
        operands.append(inits);
        if (name == "while") {
          SmallVector<Type> types;
          if (failed(expect(":")))
            return failure();
          do {
            Type t = type();
            if (!t)
              return failure();
            types.push_back(t);
          } while (accept(","));
          state.addTypes(types);
          state.addOperands(operands);
          if (!acceptKeyword("cond"))
            return fail("expected 'cond'");
          if (failed(regionBlock(*state.addRegion(), types, iterNames)))
            return failure();
          if (!acceptKeyword("do"))
            return fail("expected 'do'");
          if (failed(regionBlock(*state.addRegion(), types, iterNames)))
            return failure();
        } else if (name == "reduce" && acceptKeyword("applies")) {
          StringRef body = ident();
          if (!body.consume_front("stablehlo."))
            return fail("expected a stablehlo op after 'applies'");
          attrs.set("sinter.applies", b.getStringAttr(body));
        }
      } else if (name != "iota") {
        // Operands and bare words (compare's direction and type).
        while (true) {
          skipWs();
          if (peek("%")) {
            if (failed(operand(operands)))
              return failure();
          } else if (peek("[") && name == "slice") {
            // [start:limit(:stride)?, ...]
            SmallVector<int64_t> starts, limits, strides;
            ++pos;
            if (!accept("]")) {
              do {
                int64_t v[3] = {0, 0, 1};
                for (int k = 0; k < 3; ++k) {
                  skipWs();
                  size_t start = pos;
                  while (pos < text.size() && llvm::isDigit(text[pos]))
                    ++pos;
                  if (text.slice(start, pos).getAsInteger(10, v[k]))
                    return fail("expected an integer in the slice");
                  if (k == 2 || !accept(":"))
                    break;
                }
                starts.push_back(v[0]);
                limits.push_back(v[1]);
                strides.push_back(v[2]);
              } while (accept(","));
              if (failed(expect("]")))
                return failure();
            }
            attrs.set("start_indices", b.getDenseI64ArrayAttr(starts));
            attrs.set("limit_indices", b.getDenseI64ArrayAttr(limits));
            attrs.set("strides", b.getDenseI64ArrayAttr(strides));
          } else if (name == "compare" && llvm::isAlpha(text[pos])) {
            StringRef word = ident();
            attrs.set(attrs.get("comparison_direction") ? "compare_type"
                                                        : "comparison_direction",
                      b.getStringAttr(word));
          } else {
            break;
          }
          if (name == "slice" && peek("["))
            continue;
          if (!accept(","))
            break;
          skipWs();
          if (peek("%") || peek("[") ||
              (name == "compare" && pos < text.size() &&
               llvm::isAlpha(text[pos])))
            continue;
          break;
        }
      }
      // kw = value items (the first may follow the op name directly).
      while (true) {
        skipWs();
        size_t save = pos;
        StringRef kw = ident();
        if (kw == "across")
          continue;
        if (kw.empty() || kw == "reducer" || !accept("=")) {
          pos = save;
          break;
        }
        if (failed(keywordItem(name, kw, attrs)))
          return failure();
        (void)accept(",");
      }
      if (peek("{")) {
        auto dict = dyn_cast_or_null<DictionaryAttr>(attribute());
        if (!dict)
          return failure();
        for (NamedAttribute a : dict)
          attrs.set(a.getName(), a.getValue());
      }
      if (name != "constant" && name != "while") {
        state.addOperands(operands);
        if (failed(typesAfterColon(state, operands.size())))
          return failure();
      }
      if (name == "reduce" && !attrs.get("sinter.applies")) {
        // reducer(%a: t, %c: t) (%b: t, %d: t) { body }
        if (!acceptKeyword("reducer"))
          return fail("expected 'applies' or 'reducer'");
        SmallVector<Type> types;
        SmallVector<StringRef> names;
        // One group (acc_i, x_i) per operand; the block takes all the
        // accumulators, then all the elements.
        SmallVector<std::pair<StringRef, Type>> lhs, rhs;
        while (peek("(")) {
          ++pos;
          for (int side = 0; side < 2; ++side) {
            if (side && failed(expect(",")))
              return failure();
            StringRef n = ssaName();
            if (failed(expect(":")))
              return failure();
            Type t = type();
            if (!t)
              return failure();
            (side ? rhs : lhs).push_back({n, t});
          }
          if (failed(expect(")")))
            return failure();
        }
        for (auto &p : llvm::concat<std::pair<StringRef, Type>>(lhs, rhs)) {
          names.push_back(p.first);
          types.push_back(p.second);
        }
        if (failed(regionBlock(*state.addRegion(), types, names)))
          return failure();
      }
      state.addAttributes(attrs);
    }
  }
  skipLoc();
  Operation *created = Operation::create(state);
  blk->push_back(created);
  unsigned next = 0;
  for (auto [n, count] : results) {
    if (next >= created->getNumResults())
      return failAt(l, "more result names than results");
    values[n] = created->getResult(next);
    for (unsigned k = 0; k < count && next + k < created->getNumResults(); ++k)
      values[(n + "#" + Twine(k)).str()] = created->getResult(next + k);
    next += count;
  }
  return success();
}

} // namespace

OwningOpRef<ModuleOp> readPretty(MLIRContext *ctx, llvm::SourceMgr &sm,
                                 StringRef fileName) {
  return Reader(ctx, sm, fileName).read();
}

} // namespace sinter::stablehlo
