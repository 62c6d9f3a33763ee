//===- GenerateDriver.h - two graphs in one executable -*- C++ -*-===//
//
// `sinterc prefill.onnx decode.onnx --generate-driver -o gen` compiles both
// graphs as usual up to LLVM IR, then links them into one executable whose
// main is the runtime's sinter_generate_main (lib/Runtime/Generate.cpp).
// Two models in one executable need distinct symbols: every global each
// model's code defines gets a prefix. Weights the two read alike (the same
// external data, or the same pack plan over it) are loaded once: decode's
// code reads prefill's slot, and decode's weight table no longer lists
// them. docs/cli.md, "Generation driver".
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_TOOLS_SINTERC_GENERATEDRIVER_H
#define SINTER_TOOLS_SINTERC_GENERATEDRIVER_H

#include "sinter/Target/CPU/CPUTarget.h"

#include "mlir/IR/BuiltinOps.h"

#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"

#include <memory>
#include <string>

namespace sinter::gen {

/// How many positions the KV caches of a graph hold: the generation loop
/// refuses a prompt and token count that would write past them.
struct CacheBound {
  int64_t positions = -1; // -1: no state is a position-indexed cache
  std::string input;      // the state input with the fewest positions
  std::string graph;      // "decode graph 'd.onnx'"
};

/// Finds the cache bound of the imported graph in `module` from its ops
/// and shapes, not from names: every state input (argument of `main`)
/// that a position-indexed write updates in place, `sinter.tensor_scatter`
/// (linear mode: its `axis`; circular caches wrap and bound nothing) or
/// `sinter.scatter_nd` (the one indexed axis the index grid does not
/// cover, [1, KV, T, 3] indices into [1, KV, L, D]: axis 2, L positions).
/// False, with the input and the op named in `error`, for a scatter_nd
/// whose sequence axis cannot be told. `graph` names the graph in messages.
bool findCacheBound(mlir::ModuleOp module, llvm::StringRef graph,
                    CacheBound &bound, std::string &error);

struct Unit;
/// The bound of the two graphs that holds for both (the smaller).
CacheBound smallerBound(const Unit &prefill, const Unit &decode);

/// One graph compiled to optimized LLVM IR, not yet an object file.
struct Unit {
  CacheBound cache;
  cpu::ModelDesc model;
  std::unique_ptr<llvm::LLVMContext> context;
  std::unique_ptr<llvm::Module> module;
};

/// Renames every non-local global `unit.module` defines to `prefix` + name
/// (llvm.* intrinsic globals excepted) and the slot and data names of its
/// weight table with them. The entry's `sinter_forward` becomes
/// `prefix` + "sinter_forward".
void prefixSymbols(Unit &unit, llvm::StringRef prefix);

struct ShareStats {
  int64_t shared = 0; // decode weights bound to prefill's slots
  uint64_t sharedBytes = 0;
  int64_t decodeExternal = 0; // external-data weights decode still loads
  uint64_t decodeExternalBytes = 0;
};

/// Binds `decode`'s weights that `prefill` loads alike (same external data
/// and folder; packs with the same plan over such weights) to prefill's
/// slots, and drops them from decode's table. Both units prefixed already.
ShareStats shareWeights(const Unit &prefill, Unit &decode);

/// Checks that the two graphs fit together as the executable's generation
/// loop needs (lib/Runtime/GenerateMatch.h, the same check and messages);
/// false with the message in `error`.
bool checkPairing(const Unit &prefill, const Unit &decode, std::string &error);

/// Compiles the two entry files and a main calling sinter_generate_main and
/// links them with the two objects and the runtime into `output`. The main
/// passes the smaller of the two graphs' cache bounds to the runtime.
bool linkGenerateDriver(const Unit &prefill, llvm::ArrayRef<char> prefillObj,
                        llvm::StringRef prefillPrefix, const Unit &decode,
                        llvm::ArrayRef<char> decodeObj,
                        llvm::StringRef decodePrefix, llvm::StringRef output,
                        const cpu::LinkOptions &options, std::string &error);

} // namespace sinter::gen

#endif // SINTER_TOOLS_SINTERC_GENERATEDRIVER_H
