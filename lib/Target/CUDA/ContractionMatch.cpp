//===- ContractionMatch.cpp - bufferized linears, as the kernels see them -===//
//
// See ContractionMatch.h. The match only reads the IR; the emit* helpers
// clone scalar ops of the matched bodies, so a kernel's arithmetic is the
// lowering's (activation formulas, conversions, rounding) by construction.
//
//===----------------------------------------------------------------------===//

#include "ContractionMatch.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;

namespace sinter::cuda {
namespace {

/// Static shape, identity layout.
bool isPlainBuffer(Value v) {
  auto t = dyn_cast<MemRefType>(v.getType());
  return t && t.hasStaticShape() && t.getLayout().isIdentity();
}

/// Static shape, static strides and offset, innermost stride 1: rows may be
/// apart (the gate and up halves of a fused projection are subviews).
bool isRowStridedBuffer(Value v) {
  auto t = dyn_cast<MemRefType>(v.getType());
  if (!t || !t.hasStaticShape())
    return false;
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(t.getStridesAndOffset(strides, offset)))
    return false;
  return !ShapedType::isDynamic(offset) && strides.back() == 1 &&
         llvm::none_of(strides, ShapedType::isDynamic);
}

/// The ops of `block` that `root` depends on (through operands defined in
/// the block), in block order. Fails if one of them is not a pure,
/// region-free op, or if the slice reaches a block argument not in
/// `allowedArgs`.
FailureOr<SmallVector<Operation *>> bodySlice(Block *block, Value root,
                                              ArrayRef<BlockArgument> allowed) {
  llvm::SetVector<Operation *> seen;
  SmallVector<Value> work{root};
  while (!work.empty()) {
    Value v = work.pop_back_val();
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      if (arg.getOwner() == block && !llvm::is_contained(allowed, arg))
        return failure();
      continue;
    }
    Operation *def = v.getDefiningOp();
    if (def->getBlock() != block || seen.contains(def))
      continue;
    if (!isMemoryEffectFree(def) || def->getNumRegions() != 0)
      return failure();
    seen.insert(def);
    llvm::append_range(work, def->getOperands());
  }
  SmallVector<Operation *> ordered;
  for (Operation &o : *block)
    if (seen.contains(&o))
      ordered.push_back(&o);
  return ordered;
}

/// Clones the slice of `root` with the block arguments `args` mapped to
/// `values`; returns root's clone.
Value cloneSlice(OpBuilder &b, Block *block, Value root,
                 ArrayRef<BlockArgument> args, ValueRange values) {
  IRMapping map;
  for (auto [a, v] : llvm::zip_equal(args, values))
    map.map(a, v);
  FailureOr<SmallVector<Operation *>> ops = bodySlice(block, root, args);
  assert(succeeded(ops) && "slice was checked by the match");
  for (Operation *o : *ops)
    b.clone(*o, map);
  return map.lookupOrDefault(root);
}

/// The previous / next op with memory effects in the same block (pure ops
/// such as constants and memref.view in between do not matter).
Operation *neighbourWithEffects(Operation *op, bool forward) {
  for (Operation *o = forward ? op->getNextNode() : op->getPrevNode(); o;
       o = forward ? o->getNextNode() : o->getPrevNode())
    if (!isMemoryEffectFree(o))
      return o;
  return nullptr;
}

bool allParallel(linalg::LinalgOp op) {
  return op.getNumLoops() == op.getNumParallelLoops();
}

/// An identity generic `ins(in) outs(out)` whose body is a function of `in`
/// alone: returns that body's yielded value, else null.
Value elementwiseBody(linalg::GenericOp g, Value in, Value out) {
  if (!g || g.getNumDpsInputs() != 1 || g.getNumDpsInits() != 1 ||
      g.getDpsInputOperand(0)->get() != in ||
      g.getDpsInitOperand(0)->get() != out || !allParallel(g) ||
      !llvm::all_of(g.getIndexingMapsArray(),
                    [](AffineMap m) { return m.isIdentity(); }))
    return Value();
  Block *body = g.getBody();
  Value y = body->getTerminator()->getOperand(0);
  if (failed(bodySlice(body, y, {body->getArgument(0)})))
    return Value();
  return y;
}

/// Matches the init op writing `acc` right before the contraction.
LogicalResult matchInit(ContractionMatch &m, std::string &why) {
  Operation *prev = neighbourWithEffects(m.op, /*forward=*/false);
  if (auto fill = dyn_cast_or_null<linalg::FillOp>(prev)) {
    if (fill.getDpsInitOperand(0)->get() != m.acc) {
      why = "the op before the contraction does not initialize its "
            "accumulator (a linalg.fill of another buffer)";
      return failure();
    }
    auto c = fill.getInputs()[0].getDefiningOp<arith::ConstantOp>();
    auto f = c ? dyn_cast<FloatAttr>(c.getValue()) : FloatAttr();
    if (!f || !f.getValue().isZero()) {
      why = "the accumulator is filled with something other than 0.0";
      return failure();
    }
    m.init = AccInit::Zero;
    m.initOp = fill;
    return success();
  }
  auto g = dyn_cast_or_null<linalg::GenericOp>(prev);
  if (!g || g.getNumDpsInits() != 1 || g.getDpsInitOperand(0)->get() != m.acc) {
    why = "the accumulator is not initialized by a linalg.fill or a bias "
          "broadcast right before the contraction";
    return failure();
  }
  // The bias generic: bias[N] broadcast along the leading dims.
  unsigned r = cast<MemRefType>(m.acc.getType()).getRank();
  SmallVector<AffineMap> maps = g.getIndexingMapsArray();
  if (g.getNumDpsInputs() != 1 || !allParallel(g) || maps.size() != 2 ||
      !maps[1].isIdentity() || maps[0].getNumResults() != 1 ||
      maps[0].getResult(0) != getAffineDimExpr(r - 1, g.getContext()) ||
      !isPlainBuffer(g.getDpsInputOperand(0)->get())) {
    why = "the accumulator init generic is not a bias[N] broadcast";
    return failure();
  }
  Block *body = g.getBody();
  Value y = body->getTerminator()->getOperand(0);
  if (failed(bodySlice(body, y, {body->getArgument(0)}))) {
    why = "the bias broadcast's body uses more than the bias element";
    return failure();
  }
  m.init = AccInit::Bias;
  m.initOp = g;
  m.bias = g.getDpsInputOperand(0)->get();
  return success();
}

/// Matches the optional conversion of the accumulator after the contraction.
/// With AccInit::Buffer it is matched (the kernel converts nothing then) but
/// never fusable.
void matchEpilogue(ContractionMatch &m) {
  m.output = m.acc;
  m.outputType = m.accType;
  auto g = dyn_cast_or_null<linalg::GenericOp>(
      neighbourWithEffects(m.op, /*forward=*/true));
  if (!g || g.getNumDpsInits() != 1 || g.getNumDpsInputs() != 1)
    return;
  Value out = g.getDpsInitOperand(0)->get();
  if (!isPlainBuffer(out) ||
      cast<MemRefType>(out.getType()).getShape() !=
          cast<MemRefType>(m.acc.getType()).getShape() ||
      !elementwiseBody(g, m.acc, out))
    return;
  m.epilogue = g;
  m.output = out;
  m.outputType = cast<MemRefType>(out.getType()).getElementType();
  // The accumulator must be a temporary (not a function argument the caller
  // reads) used by nothing but these three ops.
  Operation *def = m.acc.getDefiningOp();
  m.epilogueFusable = m.init != AccInit::Buffer && def &&
                      isa<memref::ViewOp, memref::AllocOp>(def) &&
                      llvm::all_of(m.acc.getUsers(), [&](Operation *u) {
                        return u == m.initOp || u == m.op.getOperation() ||
                               u == g.getOperation();
                      });
}

} // namespace

FailureOr<ContractionMatch> matchContraction(linalg::LinalgOp linalgOp,
                                             std::string &why,
                                             bool allowBufferInit,
                                             bool *candidate) {
  ContractionMatch m;
  m.op = dyn_cast<linalg::GenericOp>(linalgOp.getOperation());
  if (!m.op) {
    why = "not a linalg.generic";
    return failure();
  }
  if (!m.op.hasPureBufferSemantics()) {
    why = "not bufferized";
    return failure();
  }
  unsigned numLoops = m.op.getNumLoops();
  if (m.op.getNumReductionLoops() != 1 || numLoops < 3 ||
      m.op.getIteratorTypesArray().back() != utils::IteratorType::reduction) {
    why = "not one innermost reduction under >= 2 parallel loops";
    return failure();
  }
  unsigned numIns = m.op.getNumDpsInputs();
  if (m.op.getNumDpsInits() != 1 || (numIns != 2 && numIns != 3)) {
    why = "not (activation, weight) or (gate, up, weight) into one buffer";
    return failure();
  }
  // Loops (lead..., n, k): activations (lead..., k), weight (n, k),
  // accumulator (lead..., n).
  MLIRContext *ctx = m.op.getContext();
  unsigned r = numLoops - 1;
  SmallVector<unsigned> leadK, nk{r - 1, r}, leadN;
  for (unsigned i = 0; i + 1 < r; ++i)
    leadK.push_back(i);
  leadN = leadK;
  leadN.push_back(r - 1);
  leadK.push_back(r);
  auto dims = [&](ArrayRef<unsigned> d) {
    return AffineMap::getMultiDimMapWithTargets(numLoops, d, ctx);
  };
  SmallVector<AffineMap> maps = m.op.getIndexingMapsArray();
  for (unsigned i = 0; i + 1 < numIns; ++i)
    if (maps[i] != dims(leadK)) {
      why = "activation operand is not indexed (lead..., k)";
      return failure();
    }
  if (maps[numIns - 1] != dims(nk)) {
    why = "weight is not indexed (n, k): not an [N, K] linear weight";
    return failure();
  }
  if (maps[numIns] != dims(leadN)) {
    why = "accumulator is not indexed (lead..., n)";
    return failure();
  }
  if (candidate)
    *candidate = true;
  for (unsigned i = 0; i + 1 < numIns; ++i)
    m.activations.push_back(m.op.getDpsInputOperand(i)->get());
  m.weight = m.op.getDpsInputOperand(numIns - 1)->get();
  m.acc = m.op.getDpsInitOperand(0)->get();
  if (!isPlainBuffer(m.weight) || !isPlainBuffer(m.acc)) {
    why = "the weight or the accumulator is not a static identity-layout "
          "(row-major) memref";
    return failure();
  }
  for (Value v : m.activations)
    if (!isRowStridedBuffer(v)) {
      why = "an activation is not a static memref with unit innermost stride";
      return failure();
    }
  auto eltOf = [](Value v) {
    return cast<MemRefType>(v.getType()).getElementType();
  };
  m.activationType = eltOf(m.activations[0]);
  m.weightType = eltOf(m.weight);
  m.accType = eltOf(m.acc);
  if (m.gated() && eltOf(m.activations[1]) != m.activationType) {
    why = "gate and up have different element types";
    return failure();
  }
  if (!isa<FloatType>(m.accType) || !isa<FloatType>(m.activationType) ||
      !isa<FloatType>(m.weightType)) {
    why = "not a floating-point contraction";
    return failure();
  }
  ArrayRef<int64_t> wShape = cast<MemRefType>(m.weight.getType()).getShape();
  m.n = wShape[0];
  m.k = wShape[1];
  m.m = 1;
  for (int64_t d : cast<MemRefType>(m.acc.getType()).getShape().drop_back())
    m.m *= d;

  // The body: yield(acc + X * W) (either operand order of both ops), X a
  // function of the activation elements only, W of the weight element.
  Block *body = m.op.getBody();
  BlockArgument accArg = body->getArgument(numIns);
  BlockArgument wArg = body->getArgument(numIns - 1);
  SmallVector<BlockArgument> actArgs(
      body->getArguments().take_front(numIns - 1));
  auto add =
      body->getTerminator()->getOperand(0).getDefiningOp<arith::AddFOp>();
  Value prod;
  if (add && add.getLhs() == accArg)
    prod = add.getRhs();
  else if (add && add.getRhs() == accArg)
    prod = add.getLhs();
  auto mul = prod ? prod.getDefiningOp<arith::MulFOp>() : arith::MulFOp();
  if (!mul || mul->getBlock() != body) {
    why = "body is not acc + x * w";
    return failure();
  }
  for (auto [x, w] : {std::pair(mul.getLhs(), mul.getRhs()),
                      std::pair(mul.getRhs(), mul.getLhs())}) {
    if (succeeded(bodySlice(body, x, actArgs)) &&
        succeeded(bodySlice(body, w, {wArg}))) {
      m.bodyOperand = x;
      m.bodyWeight = w;
      break;
    }
  }
  if (!m.bodyOperand) {
    why = "body's product does not split into f(activations) * g(weight)";
    return failure();
  }

  if (failed(matchInit(m, why))) {
    if (!allowBufferInit)
      return failure();
    // The contraction adds onto whatever the buffer holds when it runs.
    m.init = AccInit::Buffer;
    m.initOp = nullptr;
    m.bias = Value();
  }
  matchEpilogue(m);
  m.rowStrided = !llvm::all_of(m.activations, isPlainBuffer);
  return m;
}

Value emitOperandElement(OpBuilder &b, const ContractionMatch &m,
                         ValueRange activationElts) {
  Block *body = linalg::GenericOp(m.op).getBody();
  unsigned n = m.activations.size();
  SmallVector<BlockArgument> args(body->getArguments().take_front(n));
  return cloneSlice(b, body, m.bodyOperand, args, activationElts);
}

Value emitWeightElement(OpBuilder &b, const ContractionMatch &m,
                        Value weightElt) {
  Block *body = linalg::GenericOp(m.op).getBody();
  BlockArgument w = body->getArgument(m.activations.size());
  return cloneSlice(b, body, m.bodyWeight, {w}, weightElt);
}

Value emitInitElement(OpBuilder &b, Location loc, const ContractionMatch &m,
                      Value biasElt) {
  assert(m.init != AccInit::Buffer && "the kernel loads the accumulator");
  if (m.init == AccInit::Zero)
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(m.accType, 0.0));
  auto g = cast<linalg::GenericOp>(m.initOp);
  Block *body = g.getBody();
  return cloneSlice(b, body, body->getTerminator()->getOperand(0),
                    {body->getArgument(0)}, biasElt);
}

Value emitOutputElement(OpBuilder &b, const ContractionMatch &m, Value accElt) {
  if (!m.epilogue)
    return accElt;
  Block *body = linalg::GenericOp(m.epilogue).getBody();
  return cloneSlice(b, body, body->getTerminator()->getOperand(0),
                    {body->getArgument(0)}, accElt);
}

void eraseContraction(RewriterBase &rw, const ContractionMatch &m,
                      bool fusedEpilogue) {
  assert((!fusedEpilogue || m.epilogueFusable) && "epilogue is not fusable");
  if (fusedEpilogue)
    rw.eraseOp(m.epilogue);
  rw.eraseOp(m.op);
  if (m.initOp)
    rw.eraseOp(m.initOp);
}

} // namespace sinter::cuda
