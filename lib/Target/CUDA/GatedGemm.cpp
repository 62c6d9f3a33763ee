//===- GatedGemm.cpp - gated linears over many rows on tensor cores -------===//
//
// A bufferized gated linear (ContractionMatch.h: X = act(gate) * up formed
// in the contraction's body, then X times W^T) over M > 8 rows: the prefill
// shared expert's down projection, where act(gate) * up is rounded to the
// model's 16-bit type before the multiply (the graph's cast). The GEMV takes
// M <= 8 with the prologue in its operand load; the tensor-core GEMM
// (Gemm.cpp) stages X with cp.async straight from global memory and has no
// prologue. Without this template the op went to the generic mapping, one
// thread per output element looping over K: 2.3 ms per layer for
// 512 x 2048 x 512 on an H100 (bench8 prefill, docs/cuda-target.md,
// "Gated GEMM").
//
// Since the body rounds X to the activation type, X can be materialized
// exactly: one elementwise launch writes X (the body's prologue cloned, so
// it computes what the loop nest would) into a workspace buffer, and the
// contraction becomes a plain linear over that buffer, which the
// tensor-core GEMM then takes (wgmma on sm_90a). The workspace is a
// module-level zero global of X's shape (the memory plan is fixed before
// the templates run; sinter-bind-weights gives it a device copy), shared by
// every gated GEMM of that shape: launches run in stream order, and each
// writes X right before its GEMM reads it.
//
//===----------------------------------------------------------------------===//

#include "ContractionMatch.h"
#include "GemmBuffers.h"
#include "Kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/Support/Debug.h"
#include "llvm/Support/FormatVariadic.h"



#define DEBUG_TYPE "sinter-cuda-kernels"

using namespace mlir;

namespace sinter::cuda {
namespace {

constexpr int64_t kThreads = 256;

/// The workspace holding X: a zero memref.global of `type` (identity
/// layout), one per shape and element type in the module. The pass runs per
/// function, possibly on several threads: the symbol table is only touched
/// under a lock.
Value operandWorkspace(RewriterBase &rw, Location loc, Operation *anchor,
                       MemRefType type) {
  std::string name = "sinter_gated_gemm_operand";
  for (int64_t d : type.getShape())
    name += "_" + std::to_string(d);
  std::string eltName;
  llvm::raw_string_ostream os(eltName);
  type.getElementType().print(os);
  name += "_" + eltName;
  return zeroWorkspace(rw, loc, anchor, type, name);
}

/// Checks what the rewrite relies on; on failure `why` says what is missing.
LogicalResult checkGatedGemm(ContractionMatch &m, std::string &why) {
  if (!m.gated()) {
    why = "not a gated linear (the tensor-core GEMM takes plain ones)";
    return failure();
  }
  if (m.m <= 8) {
    why = "M = " + std::to_string(m.m) +
          " <= 8 (the GEMV forms the prologue in its operand load)";
    return failure();
  }
  if (!m.accType.isF32()) {
    why = "accumulator is not f32";
    return failure();
  }
  if (!m.activationType.isF16() && !m.activationType.isBF16()) {
    why = "gate and up are not f16/bf16";
    return failure();
  }
  if (m.weightType != m.activationType) {
    why = "weight and activation element types differ";
    return failure();
  }
  // Materializing X in the activation type is exact only when the body
  // rounds it to that type itself.
  auto ext = m.bodyOperand.getDefiningOp<arith::ExtFOp>();
  auto trunc = ext ? ext.getIn().getDefiningOp<arith::TruncFOp>()
                   : arith::TruncFOp();
  if (!trunc || trunc.getType() != m.activationType) {
    why = "the prologue's result is not rounded to the activation type "
          "(materializing it would round it)";
    return failure();
  }
  Block *body = m.op.getBody();
  auto wext = m.bodyWeight.getDefiningOp<arith::ExtFOp>();
  if (!wext || wext.getIn() != body->getArgument(2)) {
    why = "the weight element is not extf(w)";
    return failure();
  }
  // The GEMM's own conditions, checked here so that it takes the rewritten
  // linear (see emitTensorCoreGemm).
  if (m.k % 8 != 0) {
    why = "K = " + std::to_string(m.k) + " is not a multiple of 8";
    return failure();
  }
  if (m.m * m.k >= (int64_t(1) << 31) || m.n * m.k >= (int64_t(1) << 31) ||
      m.m * m.n >= (int64_t(1) << 31)) {
    why = "an operand has 2^31 or more elements";
    return failure();
  }
  if (knownBaseAlignment(m.weight) < 16) {
    why = "the weight's base is not known to be 16-byte aligned";
    return failure();
  }
  return success();
}

/// One thread per element of X: X[i] = prologue(gate[i], up[i]), rounded to
/// the activation type (exact: the prologue ends in that rounding).
void emitPrologueLaunch(RewriterBase &rw, Location loc,
                        const ContractionMatch &m, Value workspace) {
  auto type = cast<MemRefType>(workspace.getType());
  int64_t total = type.getNumElements();
  auto idx = [&](int64_t v) {
    return arith::ConstantIndexOp::create(rw, loc, v).getResult();
  };
  Value one = idx(1);
  auto launch = gpu::LaunchOp::create(
      rw, loc, idx((total + kThreads - 1) / kThreads), one, one,
      idx(kThreads), one, one);
  launch->setAttr("sinter.kernel",
                  rw.getStringAttr(llvm::formatv(
                      "gated-gemm-operand m={0} k={1} threads={2}", m.m, m.k,
                      kThreads)));
  OpBuilder::InsertionGuard guard(rw);
  rw.setInsertionPointToStart(&launch.getBody().front());
  Value i = arith::AddIOp::create(
      rw, loc,
      arith::MulIOp::create(rw, loc, launch.getBlockIds().x, idx(kThreads)),
      launch.getThreadIds().x);
  Value inside = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, i,
                                       idx(total));
  auto ifOp = scf::IfOp::create(rw, loc, inside, /*withElse=*/false);
  rw.setInsertionPointToStart(ifOp.thenBlock());
  // Row-major indices of element i.
  ArrayRef<int64_t> shape = type.getShape();
  SmallVector<Value> ivs(shape.size());
  Value rest = i;
  for (int64_t d = shape.size() - 1; d >= 0; --d) {
    if (d == 0) {
      ivs[d] = rest;
      break;
    }
    ivs[d] = arith::RemUIOp::create(rw, loc, rest, idx(shape[d]));
    rest = arith::DivUIOp::create(rw, loc, rest, idx(shape[d]));
  }
  SmallVector<Value> elts;
  for (Value a : m.activations)
    elts.push_back(memref::LoadOp::create(rw, loc, a, ivs));
  Value x = emitOperandElement(rw, m, elts);
  Value rounded =
      arith::TruncFOp::create(rw, loc, m.activationType, x).getResult();
  memref::StoreOp::create(rw, loc, rounded, workspace, ivs);
  rw.setInsertionPointToEnd(&launch.getBody().front());
  gpu::TerminatorOp::create(rw, loc);
}

} // namespace

LogicalResult emitGatedGemm(RewriterBase &rw, linalg::LinalgOp op,
                            const KernelOptions &options, std::string &why) {
  FailureOr<ContractionMatch> match = matchContraction(op, why);
  if (failed(match))
    return failure();
  ContractionMatch &m = *match;
  if (failed(checkGatedGemm(m, why)))
    return failure();
  Location loc = m.op.getLoc();
  auto actType = cast<MemRefType>(m.activations[0].getType());
  auto wsType = MemRefType::get(actType.getShape(), m.activationType);
  // Before the accumulator's init: it writes `acc`, which therefore shares
  // no byte with gate and up (they are read after it), so X is the same
  // computed there; the init stays right before the linear for the GEMM's
  // match.
  rw.setInsertionPoint(m.initOp ? m.initOp : m.op.getOperation());
  Value ws = operandWorkspace(rw, loc, m.op, wsType);
  emitPrologueLaunch(rw, loc, m, ws);

  // The plain linear over X: acc + extf(x) * extf(w), with the original
  // maps of (gate, weight, acc).
  SmallVector<AffineMap> maps = m.op.getIndexingMapsArray();
  SmallVector<AffineMap> plainMaps{maps[0], maps[2], maps[3]};
  rw.setInsertionPoint(m.op);
  auto plain = linalg::GenericOp::create(
      rw, loc, TypeRange{}, ValueRange{ws, m.weight}, ValueRange{m.acc},
      plainMaps, m.op.getIteratorTypesArray(),
      [&](OpBuilder &b, Location l, ValueRange args) {
        Value x = arith::ExtFOp::create(b, l, m.accType, args[0]);
        Value w = arith::ExtFOp::create(b, l, m.accType, args[1]);
        Value p = arith::MulFOp::create(b, l, x, w);
        Value s = arith::AddFOp::create(b, l, args[2], p);
        linalg::YieldOp::create(b, l, s);
      });
  rw.eraseOp(m.op);
  std::string gemmWhy;
  if (failed(emitTensorCoreGemm(rw, plain, options, gemmWhy))) {
    // Still correct: the plain linear goes to the generic mapping (or a
    // later template); the checks above should have ruled this out.
    LLVM_DEBUG(llvm::dbgs() << "[gated-gemm] the GEMM refused the plain "
                               "linear at "
                            << loc << ": " << gemmWhy << "\n");
    if (options.remarks)
      plain.emitRemark() << "sinter-cuda-form-kernels: gated GEMM's linear "
                            "left to the generic mapping: "
                         << gemmWhy;
  }
  return success();
}

} // namespace sinter::cuda
