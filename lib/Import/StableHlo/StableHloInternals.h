//===- StableHloInternals.h - shared pieces of the StableHLO importer ----===//
//
// Import is two steps. The reader (Reader.cpp) turns the text, pretty or
// generic, into a module of *unregistered* `stablehlo.*` operations whose
// attributes use the generic form's names (the pretty form's `dims = [..]`
// becomes `broadcast_dimensions`, `#stablehlo.dot<...>` is spread into
// `lhs_contracting_dimensions` and friends). The converter (Converter.cpp
// and the op-family files) then walks `@main`, inlining calls and unrolling
// loops, and builds sinter ops with computed types. Keeping one normalized
// form means every op is converted by one function whichever way it was
// printed.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_LIB_IMPORT_STABLEHLO_STABLEHLOINTERNALS_H
#define SINTER_LIB_IMPORT_STABLEHLO_STABLEHLOINTERNALS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/SourceMgr.h"
#include <functional>

namespace sinter::stablehlo {

/// Reads pretty-form StableHLO (as `as_text()` prints it) into a module of
/// unregistered ops. Emits an error at the offending position and returns
/// null on failure.
mlir::OwningOpRef<mlir::ModuleOp> readPretty(mlir::MLIRContext *ctx,
                                             llvm::SourceMgr &sm,
                                             llvm::StringRef fileName);

/// Rewrites the generic-form attributes of every unregistered op in `module`
/// into the normalized names (see the file comment).
mlir::LogicalResult normalizeAttributes(mlir::ModuleOp module);

/// Parses the body of `#stablehlo.conv<[b, 0, f]x[o, i, 0]->[b, 0, f]>`
/// (or the pretty `dim_numbers = ...`) into attributes on `attrs`.
mlir::LogicalResult parseConvDims(llvm::StringRef text, mlir::Builder &b,
                                  mlir::NamedAttrList &attrs, std::string &why);

/// Integer list of an attribute in any of the forms the two printers use
/// (array<i64>, dense<...>, an integer, an array of integers).
std::optional<llvm::SmallVector<int64_t>> ints(mlir::Operation *op,
                                                llvm::StringRef name);

class Converter;

/// Folds a stablehlo op on integer / i1 constants (all operands constant, a
/// small result) into one constant; false when it does not apply.
bool tryFoldIntegerOp(Converter &c, mlir::Operation *op,
                      llvm::ArrayRef<mlir::Value> operands,
                      llvm::SmallVectorImpl<mlir::Value> &results);

using OpHandler = std::function<mlir::LogicalResult(
    Converter &, mlir::Operation *, llvm::ArrayRef<mlir::Value>,
    llvm::SmallVectorImpl<mlir::Value> &)>;

/// Handlers by op name without the `stablehlo.` prefix.
void registerElementwiseOps(llvm::StringMap<OpHandler> &table);
void registerTensorOps(llvm::StringMap<OpHandler> &table);
void registerContractionOps(llvm::StringMap<OpHandler> &table);

/// Walks @main of the unregistered module and builds the sinter one.
class Converter {
public:
  Converter(mlir::ModuleOp source, mlir::OpBuilder &b);
  /// Converts `block` with `args` bound to its arguments; `results` gets
  /// the operands of its terminator.
  mlir::LogicalResult convertBlock(mlir::Block &block,
                                   llvm::ArrayRef<mlir::Value> args,
                                   llvm::SmallVectorImpl<mlir::Value> &results);

  mlir::OpBuilder &b;
  mlir::Location loc;
  mlir::ModuleOp source;

  // Helpers for handlers.
  mlir::InFlightDiagnostic error(mlir::Operation *op) {
    return op->emitError();
  }
  mlir::Value reshape(mlir::Value v, llvm::ArrayRef<int64_t> shape);
  /// sinter.transpose; `perm` must be a permutation of v's dims (check
  /// with isPermutation first: an invalid one is reported at the current
  /// op, fails its conversion, and returns `v`).
  mlir::Value transpose(mlir::Value v, llvm::ArrayRef<int64_t> perm);
  static bool isPermutation(llvm::ArrayRef<int64_t> perm, int64_t rank);
  mlir::Value constant(mlir::Attribute value);
  mlir::Value castTo(mlir::Value v, mlir::Type elt);
  /// The constant an operand was built from, if any.
  static mlir::DenseElementsAttr constantOf(mlir::Value v);
  /// The scalar integer value of a constant operand, if it is one.
  static std::optional<int64_t> constantInt(mlir::Value v);

private:
  mlir::LogicalResult convertOp(mlir::Operation *op,
                                llvm::ArrayRef<mlir::Value> operands,
                                llvm::SmallVectorImpl<mlir::Value> &results);
  mlir::LogicalResult convertCall(mlir::Operation *op,
                                  llvm::ArrayRef<mlir::Value> operands,
                                  llvm::SmallVectorImpl<mlir::Value> &results);
  mlir::LogicalResult convertWhile(mlir::Operation *op,
                                   llvm::ArrayRef<mlir::Value> operands,
                                   llvm::SmallVectorImpl<mlir::Value> &results);
  llvm::StringMap<OpHandler> table;
  llvm::SmallVector<mlir::IRMapping *> scopes;
  int callDepth = 0;
  /// Set by a helper that found an invalid argument after reporting it.
  bool helperFailed = false;
  mlir::Operation *currentOp = nullptr;
};

} // namespace sinter::stablehlo

#endif // SINTER_LIB_IMPORT_STABLEHLO_STABLEHLOINTERNALS_H
