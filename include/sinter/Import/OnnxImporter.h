//===- OnnxImporter.h - ONNX models to the sinter graph dialect --*- C++ -*-===//
//
// Reads a binary ONNX model (.onnx, protobuf) or ONNX text (.onnxtxt) and
// builds a module with one `func.func @main` of sinter/arith/tensor ops.
// Every problem is reported through the MLIR diagnostic engine with the file,
// node name, op type, domain and opset; the importer never aborts on bad
// input.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_IMPORT_ONNXIMPORTER_H
#define SINTER_IMPORT_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"

namespace sinter {

struct OnnxImportOptions {
  /// Shapes that replace the declared (possibly symbolic) shapes of graph
  /// inputs, by input name.
  llvm::StringMap<llvm::SmallVector<int64_t>> inputShapes;
  /// Values of symbolic dimensions by name (`--input-shape seq=64`), applied
  /// to every input that uses that dim_param.
  llvm::StringMap<int64_t> dimParams;
  /// Graph inputs replaced by constants read from ONNX TensorProto (.pb)
  /// files, by input name (`--freeze-input NAME=FILE.pb`): specializes a
  /// model whose shapes depend on an input's value (Reshape's shape, Slice's
  /// starts, ...) to one value of it.
  llvm::StringMap<std::string> frozenInputs;
};

/// Imports the model at `path` (.onnx, or ONNX text when the file name ends
/// in .onnxtxt). Returns null after emitting diagnostics on failure.
mlir::OwningOpRef<mlir::ModuleOp>
importOnnxFile(mlir::MLIRContext *context, llvm::StringRef path,
               const OnnxImportOptions &options);

/// Imports a model held in memory. `path` names it in diagnostics, selects
/// the format (ONNX text when it ends in .onnxtxt) and is the folder external
/// data is read from (the fuzzers use this entry point).
mlir::OwningOpRef<mlir::ModuleOp>
importOnnxBuffer(mlir::MLIRContext *context, llvm::StringRef contents,
                 llvm::StringRef path, const OnnxImportOptions &options);

/// Parses `--input-shape` values: `name=1x64x2048` fixes an input's shape,
/// `name=64` a symbolic dimension of that name.
mlir::LogicalResult parseInputShapeOption(llvm::StringRef spec,
                                          OnnxImportOptions &options,
                                          std::string &why);

/// The (domain, op type) pairs the importer has handlers for, with the
/// since-versions of each handler; used by `sinterc --list-onnx-ops`.
std::vector<std::string> listSupportedOnnxOps();

} // namespace sinter

#endif // SINTER_IMPORT_ONNXIMPORTER_H
