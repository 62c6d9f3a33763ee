//===- ExpertGemvShared.cpp - the shared expert folded into the MoE block -===//
//
// The shared expert's down projection (an [N, K] GEMV at one row) whose
// result is added to a routed MoE block's weighted sum runs in that
// block's expert-GEMV kernel (ExpertGemv.cpp): its match (matchSharedFold)
// and the builder's part for it (the weight chunks loaded with the
// experts', the activation staged in shared memory, the chunks' dot
// products summed by xor shuffles, the writer's store). Separate because
// it is an optional fold on top of the template, with its own refusals.
//
//===----------------------------------------------------------------------===//

#include "ExpertGemv.h"
#include "GemmBuffers.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;

namespace sinter::cuda::expert_gemv {

/// Shared expert: chunk `pass` of this thread: (row in the block, first
/// K element), and whether it exists (null when every thread's does).
std::tuple<Value, Value, Value> Builder::sharedChunk(int64_t pass) {
  int64_t total = p.sharedCols * p.sharedChunks;
  Value flat = arith::AddIOp::create(rw, loc, tid, idx(pass * p.threads));
  Value row = arith::DivUIOp::create(rw, loc, flat, idx(p.sharedChunks));
  Value k0 = arith::MulIOp::create(
      rw, loc, arith::RemUIOp::create(rw, loc, flat, idx(p.sharedChunks)),
      idx(p.sharedVec));
  Value valid;
  if ((pass + 1) * p.threads > total)
    valid = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, flat,
                                  idx(total));
  return {row, k0, valid};
}

/// The [0, ..., 0, i] index of a one-row buffer.
SmallVector<Value> Builder::rowIndex(Value buffer, Value i) {
  SmallVector<Value> at(cast<MemRefType>(buffer.getType()).getRank() - 1,
                        idx(0));
  at.push_back(i);
  return at;
}

/// Issued first, so that they are in flight with the experts' loads: the
/// rows rowBase + [0, sharedCols).
void Builder::issueSharedLoads(Value rowBase) {
  const ContractionMatch &s = *m.shared;
  auto vt = VectorType::get({p.sharedVec}, s.weightType);
  unsigned align = p.sharedVec * s.weightType.getIntOrFloatBitWidth() / 8;
  for (int64_t pass = 0; pass < p.sharedPasses; ++pass) {
    Value row, k0, valid;
    std::tie(row, k0, valid) = sharedChunk(pass);
    Value n = arith::AddIOp::create(rw, loc, rowBase, row);
    auto load = [&](OpBuilder &b, Location l) {
      return vector::LoadOp::create(b, l, vt, s.weight, ValueRange{n, k0},
                                    /*nontemporal=*/false,
                                    llvm::MaybeAlign(align))
          .getResult();
    };
    if (!valid) {
      sharedW.push_back(load(rw, loc));
      continue;
    }
    auto guarded = scf::IfOp::create(
        rw, loc, valid,
        [&](OpBuilder &b, Location l) {
          scf::YieldOp::create(b, l, ValueRange{load(b, l)});
        },
        [&](OpBuilder &b, Location l) {
          Value z = arith::ConstantOp::create(
              b, l, cast<TypedAttr>(b.getZeroAttr(vt)));
          scf::YieldOp::create(b, l, ValueRange{z});
        });
    sharedW.push_back(guarded.getResult(0));
  }
}

/// The activation (the body's act(gate) * up, cloned) into shared memory;
/// read after the next barrier.
void Builder::stageSharedX() {
  const ContractionMatch &s = *m.shared;
  auto loop = scf::ForOp::create(rw, loc, tid, idx(s.k), idx(p.threads));
  rw.setInsertionPointToStart(loop.getBody());
  Value i = loop.getInductionVar();
  SmallVector<Value> elts;
  for (Value a : s.activations)
    elts.push_back(memref::LoadOp::create(rw, loc, a, rowIndex(a, i)));
  memref::StoreOp::create(rw, loc, emitOperandElement(rw, s, elts), sharedX,
                          ValueRange{i});
  rw.setInsertionPointAfter(loop);
}

/// Each chunk's dot product, summed over its segment of lanes (xor
/// shuffles: the same fixed order in every run); the segment's first
/// lane stores it.
void Builder::sumSharedChunks() {
  const ContractionMatch &s = *m.shared;
  for (int64_t pass = 0; pass < p.sharedPasses; ++pass) {
    Value row, k0, valid;
    std::tie(row, k0, valid) = sharedChunk(pass);
    (void)row;
    Value sum = arith::ConstantOp::create(
        rw, loc, rw.getFloatAttr(s.accType, 0.0));
    for (int64_t e = 0; e < p.sharedVec; ++e) {
      Value x = memref::LoadOp::create(
          rw, loc, sharedX,
          ValueRange{arith::AddIOp::create(rw, loc, k0, idx(e))});
      Value w = emitWeightElement(
          rw, s, vector::ExtractOp::create(rw, loc, sharedW[pass], e));
      sum = arith::AddFOp::create(rw, loc, sum,
                                  arith::MulFOp::create(rw, loc, x, w));
    }
    for (int64_t off = p.sharedWidth / 2; off >= 1; off /= 2)
      sum = arith::AddFOp::create(
          rw, loc, sum,
          gpu::ShuffleOp::create(rw, loc, sum, off, /*width=*/32,
                                 gpu::ShuffleMode::XOR)
              .getShuffleResult());
    Value flat = arith::AddIOp::create(rw, loc, tid, idx(pass * p.threads));
    Value leader = arith::CmpIOp::create(
        rw, loc, arith::CmpIPredicate::eq,
        arith::RemUIOp::create(rw, loc, flat, idx(p.sharedWidth)), idx(0));
    if (valid)
      leader = arith::AndIOp::create(rw, loc, leader, valid);
    auto st = scf::IfOp::create(rw, loc, leader, /*withElse=*/false);
    rw.setInsertionPointToStart(st.thenBlock());
    memref::StoreOp::create(
        rw, loc, sum, sharedSums,
        ValueRange{arith::DivUIOp::create(rw, loc, flat,
                                          idx(p.sharedWidth))});
    rw.setInsertionPointAfter(st);
  }
}

/// In the writer (thread c < sharedCols) of row rowBase + c: the row's
/// segments in order, plus the initial value, through the epilogue when
/// fused, stored once.
void Builder::storeShared(Value rowBase) {
  const ContractionMatch &s = *m.shared;
  int64_t segments = p.sharedChunks / p.sharedWidth;
  Value first = arith::MulIOp::create(rw, loc, tid, idx(segments));
  Value v = memref::LoadOp::create(rw, loc, sharedSums, ValueRange{first});
  for (int64_t i = 1; i < segments; ++i)
    v = arith::AddFOp::create(
        rw, loc, v,
        memref::LoadOp::create(
            rw, loc, sharedSums,
            ValueRange{arith::AddIOp::create(rw, loc, first, idx(i))}));
  Value col = arith::AddIOp::create(rw, loc, rowBase, tid);
  Value bias;
  if (s.init == AccInit::Bias)
    bias = memref::LoadOp::create(rw, loc, s.bias, ValueRange{col});
  v = arith::AddFOp::create(rw, loc, emitInitElement(rw, loc, s, bias), v);
  Value out = s.epilogue ? s.output : s.acc;
  memref::StoreOp::create(rw, loc, emitOutputElement(rw, s, v), out,
                          rowIndex(out, col));
}

/// The shared expert's down projection beside a routed MoE block: `target`
/// is a GEMV ([N, K] weight, one row, f32 accumulator, an optional
/// epilogue that only rounds it) whose result an elementwise op adds to
/// the weighted sum (the fused combine) of an expert GEMV between the two
/// (the add of the shared branch to the routed sum: the MoE block's
/// output). Both then run as one kernel: the expert's blocks also compute
/// the shared GEMV over their columns (one launch fewer a layer). On
/// success `m` is the expert's match with `shared` set and `p` its plan.
std::string matchSharedFold(linalg::GenericOp target, ExpertMatch &m,
                            Plan &p, const KernelOptions &options) {
  std::string why;
  FailureOr<ContractionMatch> cm = matchContraction(target, why);
  if (failed(cm))
    return "not a GEMV either: " + why;
  ContractionMatch &s = *cm;
  if (s.m != 1 || !s.accType.isF32())
    return "not a one-row GEMV with an f32 accumulator";
  if (s.epilogue && !s.epilogueFusable)
    return "its epilogue reads the accumulator before the fused kernel "
           "would write it";
  Value result = s.epilogue ? s.output : s.acc;
  Operation *after = s.epilogue ? s.epilogue.getOperation() : s.op;
  Operation *add = nextUser(after, result);
  auto addOp = dyn_cast_or_null<linalg::GenericOp>(add);
  if (!addOp || !isElementwise(addOp) ||
      !llvm::is_contained(addOp.getDpsInputs(), result))
    return "its result is not next read by an elementwise op";
  for (Operation *o = after->getNextNode(); o && o != add;
       o = o->getNextNode()) {
    auto g = dyn_cast<linalg::GenericOp>(o);
    ExpertMatch e;
    if (!g || !matchExpert(g, e).empty())
      continue;
    matchFusions(e);
    if (e.combine &&
        llvm::is_contained(addOp.getDpsInputs(), e.combine.getDpsInits()[0])) {
      m = e;
      break;
    }
  }
  if (!m.combine)
    return "no routed expert GEMV with a fused weighted sum whose result the "
           "elementwise op after it also reads";
  p = plan(m, options);
  if (!p.slotsPerExpert)
    return "the routed experts' weighted sum is not fused (too many experts "
           "for a block)";
  if (s.n != m.n || m.n % p.cols)
    return "the shared GEMV's N = " + std::to_string(s.n) +
           " is not the routed block's " + std::to_string(m.n);
  unsigned bits = s.weightType.getIntOrFloatBitWidth();
  p.sharedVec = 128 / bits;
  if (s.k % p.sharedVec || knownBaseAlignment(s.weight) < 16)
    return "the shared weight's rows are not 16-byte aligned chunks";
  p.sharedChunks = s.k / p.sharedVec;
  p.sharedWidth = p.sharedChunks % 32 == 0 ? 32
                  : llvm::isPowerOf2_64(p.sharedChunks) ? p.sharedChunks
                                                         : 0;
  if (!p.sharedWidth)
    return "K / " + std::to_string(p.sharedVec) +
           " chunks a row is neither a power of two below 32 nor a multiple "
           "of 32 (a row's lanes must be whole shuffle segments)";
  if (s.k * 4 > kMaxStagedX)
    return "the shared activation does not fit the block's copy";
  p.sharedPasses = llvm::divideCeil(p.sharedCols * p.sharedChunks, p.threads);
  // What the fused kernel reads and writes.
  SmallVector<Value> reads{m.idx, m.weight, s.weight};
  llvm::append_range(reads, s.activations);
  if (s.bias)
    reads.push_back(s.bias);
  if (m.prologue)
    llvm::append_range(reads, m.prologue.getDpsInputs());
  else
    reads.push_back(m.x);
  for (Value in : m.combine.getDpsInputs())
    if (in != m.acc)
      reads.push_back(in);
  Value routedOut = m.combine.getDpsInits()[0];
  SmallVector<Value> writes{routedOut, result};
  for (Value w : writes)
    for (Value r : reads)
      if (mayAliasViewSources(w, r))
        return "a buffer the fused kernel writes may share bytes with one it "
               "reads";
  if (mayAliasViewSources(routedOut, result))
    return "the routed and shared results may share bytes";
  // The shared GEMV moves down to the combine: nothing in between may
  // write its inputs or touch its result.
  llvm::SmallPtrSet<Operation *, 8> fused{m.op, m.fill, m.combine,
                                          m.combineFill};
  if (m.prologue)
    fused.insert(m.prologue);
  if (s.epilogue)
    fused.insert(s.epilogue);
  SmallVector<Value> sharedReads(s.activations.begin(), s.activations.end());
  sharedReads.push_back(s.weight);
  if (s.bias)
    sharedReads.push_back(s.bias);
  if (!quietBetween(s.op, m.combine, sharedReads, {result, s.acc}, fused))
    return "an op between the shared GEMV and the routed block writes its "
           "inputs or touches its result";
  m.shared = s;
  return "";
}

} // namespace sinter::cuda::expert_gemv
