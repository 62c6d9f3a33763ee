//===- KernelCount.cpp - kernels per forward, weight bytes packed at load -===//

#include "sinter/Pipelines/KernelCount.h"
#include "sinter/Dialect/Graph/IR/GraphOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/EquivalenceClasses.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;

namespace sinter {

bool isViewOp(Operation *op) {
  static const char *const views[] = {
      "tensor.expand_shape", "tensor.collapse_shape", "tensor.reshape",
      "tensor.cast",         "tensor.bitcast",        "tensor.extract_slice",
      "tensor.empty",        "sinter.split"};
  return llvm::is_contained(views, op->getName().getStringRef());
}

bool isElementwiseOp(Operation *op) {
  if (!isa<SinterDialect>(op->getDialect()) || op->getNumResults() != 1)
    return false;
  if (op->hasTrait<OpTrait::Broadcasting>())
    return true;
  llvm::StringRef name = op->getName().getStringRef();
  static const char *const extra[] = {"sinter.cast", "sinter.clip",
                                      "sinter.isnan", "sinter.isinf",
                                      "sinter.pad"};
  if (llvm::is_contained(extra, name))
    return true;
  // The unary math ops: one operand of the result's type. Ops of that
  // shape that are not elementwise are listed.
  static const char *const notElementwise[] = {
      "sinter.softmax", "sinter.log_softmax", "sinter.cumsum", "sinter.reverse",
      "sinter.trilu"};
  return op->getNumOperands() == 1 &&
         op->getOperand(0).getType() == op->getResult(0).getType() &&
         !llvm::is_contained(notElementwise, name);
}

static int64_t resultBytes(Operation *op) {
  int64_t bytes = 0;
  for (Type t : op->getResultTypes()) {
    auto shaped = dyn_cast<ShapedType>(t);
    if (!shaped || !shaped.hasStaticShape() ||
        !shaped.getElementType().isIntOrFloat())
      continue;
    bytes += (shaped.getNumElements() *
                  shaped.getElementType().getIntOrFloatBitWidth() +
              7) /
             8;
  }
  return bytes;
}

KernelCount countKernels(ModuleOp module) {
  KernelCount count;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func.isExternal())
      continue;
    // Values known before the first forward: constants, the pack plan,
    // views of them.
    llvm::DenseSet<Value> loadTime;
    llvm::EquivalenceClasses<Operation *> chains;
    // The op that computes a value, looking through views.
    auto producer = [&](Value v) -> Operation * {
      Operation *def = v.getDefiningOp();
      while (def && isViewOp(def) && def->getNumOperands() >= 1)
        def = def->getOperand(0).getDefiningOp();
      return def;
    };
    // Top-level ops only: an op with regions is one kernel.
    for (Operation &opRef : func.getBody().getOps()) {
      Operation *op = &opRef;
      if (isa<func::ReturnOp>(op))
        continue;
      bool onWeights = llvm::all_of(
          op->getOperands(), [&](Value v) { return loadTime.contains(v); });
      bool packPlan = op->getName().getStringRef() == "sinter.pack_weights";
      if (op->hasTrait<mlir::OpTrait::ConstantLike>() || packPlan ||
          (isViewOp(op) && onWeights && op->getNumOperands() != 0)) {
        for (Value v : op->getResults())
          loadTime.insert(v);
        if (packPlan) {
          ++count.packOps;
          count.packBytes += resultBytes(op);
        }
        continue;
      }
      if (isViewOp(op))
        continue;
      ++count.ops;
      if (!isElementwiseOp(op)) {
        ++count.kernels;
        continue;
      }
      chains.insert(op);
      for (Value v : op->getOperands())
        if (Operation *def = producer(v);
            def && def->getBlock() == op->getBlock() && isElementwiseOp(def) &&
            !loadTime.contains(v))
          chains.unionSets(op, def);
    }
    count.kernels += chains.getNumClasses();
  }
  return count;
}

int64_t countLoweredKernels(ModuleOp module) {
  int64_t kernels = 0;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func.isExternal())
      continue;
    // Every linalg op left after kernel formation is one loop nest (CPU)
    // or one launch of the generic CUDA mapping; a buffer copy too.
    // Views, constants and index arithmetic are free.
    func.walk([&](Operation *op) {
      if (isa<linalg::LinalgOp, memref::CopyOp>(op))
        ++kernels;
    });
  }
  return kernels;
}

/// "layers.N" from an ONNX node name such as "/layers.3/mlp/MatMul" or
/// "model.layers_12.attn"; empty when the name holds none.
static std::string layerOf(llvm::StringRef name) {
  for (llvm::StringRef word : {"layers", "layer", "blocks", "h"}) {
    size_t at = 0;
    while ((at = name.find(word, at)) != llvm::StringRef::npos) {
      llvm::StringRef rest = name.drop_front(at + word.size());
      bool wordStart = at == 0 || !llvm::isAlnum(name[at - 1]);
      at += word.size();
      if (!wordStart || rest.size() < 2 || (rest[0] != '.' && rest[0] != '_'))
        continue;
      llvm::StringRef digits = rest.drop_front().take_while(llvm::isDigit);
      if (!digits.empty())
        return ("layers." + digits).str();
    }
  }
  return {};
}

/// The layer of the first name in `loc` that has one.
static std::string layerOf(Location loc) {
  std::string found;
  loc->walk([&](Location l) {
    if (auto named = dyn_cast<NameLoc>(l))
      found = layerOf(named.getName().getValue());
    return found.empty() ? WalkResult::advance() : WalkResult::interrupt();
  });
  return found;
}

llvm::SmallVector<std::pair<std::string, int64_t>>
countLaunchesByLayer(ModuleOp module) {
  llvm::StringMap<int64_t> counts;
  // Launches run in program order, layer after layer, but a location can
  // name another layer: CSE leaves an op of layer 5 with the location of its
  // twin in layer 0 (a fill of zeros), and an op that only reads inputs (the
  // attention mask) is hoisted to the start with the first attention layer's
  // name. So the longest non-decreasing run of named layers is trusted, and
  // every other launch counts in the layer of the trusted launches around
  // it: a named one in the layer running there, an unnamed one only when
  // both sides agree (else under "other": embedding, final norm, lm_head).
  auto countFunction = [&](ArrayRef<Operation *> launches) {
    SmallVector<int64_t> layer;
    for (Operation *op : launches) {
      std::string name = layerOf(op->getLoc());
      int64_t n = -1;
      if (!name.empty())
        llvm::StringRef(name).drop_front(7).getAsInteger(10, n);
      layer.push_back(n);
    }
    // Longest non-decreasing subsequence of the named launches
    // (patience sorting, O(n log n)): tails[k] = index ending a run of k+1.
    SmallVector<size_t> tails, parent(layer.size(), SIZE_MAX);
    for (size_t i = 0; i < layer.size(); ++i) {
      if (layer[i] < 0)
        continue;
      auto pos = llvm::upper_bound(tails, layer[i], [&](int64_t v, size_t t) {
        return v < layer[t];
      });
      if (pos != tails.begin())
        parent[i] = *(pos - 1);
      if (pos == tails.end())
        tails.push_back(i);
      else
        *pos = i;
    }
    SmallVector<bool> trusted(layer.size(), false);
    for (size_t i = tails.empty() ? SIZE_MAX : tails.back(); i != SIZE_MAX;
         i = parent[i])
      trusted[i] = true;
    // The trusted layer before and after each launch.
    SmallVector<int64_t> before(layer.size(), -1), after(layer.size(), -1);
    int64_t last = -1, next = -1;
    for (size_t i = 0; i < layer.size(); ++i) {
      if (trusted[i])
        last = layer[i];
      before[i] = last;
    }
    for (size_t i = layer.size(); i-- > 0;) {
      if (trusted[i])
        next = layer[i];
      after[i] = next;
    }
    for (size_t i = 0; i < layer.size(); ++i) {
      // A named launch outside the trusted run belongs to some layer: the
      // one running there. An unnamed one only when both sides agree.
      int64_t l = trusted[i]          ? layer[i]
                  : layer[i] >= 0     ? (before[i] >= 0 ? before[i] : after[i])
                  : before[i] == after[i] ? before[i]
                                          : -1;
      ++counts[l < 0 ? std::string("other") : "layers." + std::to_string(l)];
    }
  };
  // By name: the graph pipelines do not link the GPU dialect.
  module.walk([&](Operation *fn) {
    if (!isa<FunctionOpInterface>(fn))
      return;
    SmallVector<Operation *> launches;
    fn->walk([&](Operation *op) {
      if (op->getName().getStringRef() == "gpu.launch_func")
        launches.push_back(op);
    });
    countFunction(launches);
  });
  llvm::SmallVector<std::pair<std::string, int64_t>> out;
  for (auto &e : counts)
    out.emplace_back(e.getKey().str(), e.getValue());
  // layers.0, layers.1, ..., layers.10 in numeric order, "other" last.
  auto rank = [](const std::string &k) -> int64_t {
    if (k == "other")
      return INT64_MAX;
    int64_t n = 0;
    llvm::StringRef(k).drop_front(7).getAsInteger(10, n);
    return n;
  };
  llvm::sort(out, [&](const auto &a, const auto &b) {
    return rank(a.first) < rank(b.first);
  });
  return out;
}

} // namespace sinter
