//===- RaisingUtils.cpp - helpers of the graph-phase raising passes -------===//

#include "RaisingUtils.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SetVector.h"

#include <cstdio>

using namespace mlir;

namespace sinter::raising {

std::optional<double> splatFloat(Value v) {
  DenseElementsAttr attr;
  if (!v || !matchPattern(v, m_Constant(&attr)) || !attr.isSplat())
    return std::nullopt;
  if (!isa<FloatType>(attr.getElementType()))
    return std::nullopt;
  return attr.getSplatValue<APFloat>().convertToDouble();
}

std::optional<int64_t> splatInt(Value v) {
  DenseElementsAttr attr;
  if (!v || !matchPattern(v, m_Constant(&attr)) || !attr.isSplat() ||
      !isa<IntegerType>(attr.getElementType()))
    return std::nullopt;
  return attr.getSplatValue<APInt>().getSExtValue();
}

Value reshapeTo(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> shape) {
  RankedTensorType t = tensorType(v);
  if (t.getShape() == shape)
    return v;
  Value flat = v;
  if (t.getRank() != 1) {
    ReassociationIndices all =
        llvm::to_vector(llvm::seq<int64_t>(0, t.getRank()));
    flat = tensor::CollapseShapeOp::create(b, loc, v,
                                           ArrayRef<ReassociationIndices>{all});
  }
  if (shape.size() == 1)
    return flat;
  ReassociationIndices all =
      llvm::to_vector(llvm::seq<int64_t>(0, (int64_t)shape.size()));
  return tensor::ExpandShapeOp::create(b, loc, t.clone(shape), flat,
                                       ArrayRef<ReassociationIndices>{all});
}

Value reshapeSource(Value v) {
  Operation *op = v.getDefiningOp();
  if (auto e = dyn_cast_or_null<tensor::ExpandShapeOp>(op))
    return e.getSrc();
  if (auto c = dyn_cast_or_null<tensor::CollapseShapeOp>(op))
    return c.getSrc();
  if (auto r = dyn_cast_or_null<tensor::ReshapeOp>(op))
    return r.getSource();
  return {};
}

void eraseDeadOps(RewriterBase &rewriter, ArrayRef<Operation *> ops) {
  llvm::SetVector<Operation *> live;
  for (Operation *op : ops)
    if (op)
      live.insert(op);
  bool changed = true;
  while (changed) {
    changed = false;
    SmallVector<Operation *> dead, constants;
    for (Operation *op : live)
      if (op->use_empty())
        dead.push_back(op);
    for (Operation *op : dead) {
      live.remove(op);
      // Constants only the chain read (epsilon, exponent) go with it.
      for (Value operand : op->getOperands())
        if (Operation *def = operand.getDefiningOp();
            def && matchPattern(def, m_Constant()) && !live.contains(def))
          constants.push_back(def);
      rewriter.eraseOp(op);
      changed = true;
    }
    live.insert(constants.begin(), constants.end());
  }
}

std::string str(ArrayRef<int64_t> dims) {
  std::string s = "[";
  llvm::interleave(
      dims, [&](int64_t d) { s += std::to_string(d); }, [&] { s += ", "; });
  return s + "]";
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

std::string producerName(Value v) {
  if (Operation *op = v.getDefiningOp())
    return "'" + op->getName().getStringRef().str() + "'";
  return "a block argument";
}

} // namespace sinter::raising
