//===- ColumnConsumer.cpp - a per-column launch merged into its GEMV ------===//
//
// At one token a GEMV's output column j is stored by one warp group of one
// block. A launch right after it that only reads column j at thread j (a
// thread per element, its work under `p < n` guards) needs nothing from the
// other blocks: it can run at the end of the GEMV's block that stored the
// column, behind a block barrier, instead of as a launch of its own (the
// GatedDeltaNet conv window after in_proj at decode: its thread per
// channel reads the channel's projection, its conv state and weights, and
// shifts the state in place; bench8 decode has six).
//
// The GEMV template records how it owns columns (`sinter.gemv_owner`:
// columns a warp, split-K, warps a block, N) and marks its column stores
// (`sinter.gemv_column`); both marks are dropped here. The consumer launch
// is checked thread by thread, by evaluating its index arithmetic at each
// linear thread p = block * threads + thread (no formula of our own):
//   - it is a 1-D launch without shared memory, barriers, shuffles or
//     calls: loads, stores, scf.if and pure ops only;
//   - a thread with a memory access has p < N (the merged code runs for
//     the GEMV's columns only);
//   - every load of a buffer the GEMV writes is the GEMV's column p;
//   - nothing it stores shares a byte with a buffer the GEMV reads or
//     writes (other blocks of the GEMV may still read it).
// Between the two launches only views and constants (moved above the
// GEMV). A refusal's reason is a remark with remarks=1 (and printed under
// -debug-only=sinter-cuda-kernels).
//
//===----------------------------------------------------------------------===//

#include "GatedDeltaBuffers.h"
#include "Kernels.h"
#include "LaunchBodies.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "sinter-cuda-kernels"

using namespace mlir;

namespace sinter::cuda {
using namespace gated_delta;
namespace {

constexpr int64_t kWarp = 32;
/// Threads the check evaluates one by one (decode widths: 12544 here).
constexpr int64_t kMaxThreads = 1 << 16;

/// The consumer's integer arithmetic at one linear thread p.
struct ThreadEval {
  gpu::LaunchOp launch;
  int64_t threads = 0, p = 0;
  DenseMap<Value, int64_t> memo;

  std::optional<int64_t> operator()(Value v) {
    if (auto it = memo.find(v); it != memo.end())
      return it->second;
    std::optional<int64_t> r = compute(v);
    if (r)
      memo[v] = *r;
    return r;
  }

  std::optional<int64_t> compute(Value v) {
    auto ids = launch.getBlockIds(), tids = launch.getThreadIds();
    if (v == ids.x)
      return p / threads;
    if (v == tids.x)
      return p % threads;
    if (v == ids.y || v == ids.z || v == tids.y || v == tids.z)
      return 0;
    if (auto c = constIndex(v))
      return c;
    Operation *op = v.getDefiningOp();
    if (!op || op->getNumOperands() > 3)
      return std::nullopt;
    SmallVector<int64_t, 3> a;
    for (Value o : op->getOperands()) {
      std::optional<int64_t> x = (*this)(o);
      if (!x)
        return std::nullopt;
      a.push_back(*x);
    }
    auto u = [](int64_t x) { return uint64_t(x); };
    if (isa<arith::AddIOp>(op))
      return a[0] + a[1];
    if (isa<arith::SubIOp>(op))
      return a[0] - a[1];
    if (isa<arith::MulIOp>(op))
      return a[0] * a[1];
    if (isa<arith::DivUIOp>(op) && a[1])
      return int64_t(u(a[0]) / u(a[1]));
    if (isa<arith::RemUIOp>(op) && a[1])
      return int64_t(u(a[0]) % u(a[1]));
    if (isa<arith::MinUIOp>(op))
      return int64_t(std::min(u(a[0]), u(a[1])));
    if (isa<arith::MaxUIOp>(op))
      return int64_t(std::max(u(a[0]), u(a[1])));
    if (isa<arith::AndIOp>(op))
      return a[0] & a[1];
    if (isa<arith::OrIOp>(op))
      return a[0] | a[1];
    if (isa<arith::SelectOp>(op))
      return a[0] ? a[1] : a[2];
    if (isa<arith::IndexCastOp, arith::IndexCastUIOp>(op))
      return a[0];
    if (auto c = dyn_cast<arith::CmpIOp>(op)) {
      using P = arith::CmpIPredicate;
      switch (c.getPredicate()) {
      case P::eq: return a[0] == a[1];
      case P::ne: return a[0] != a[1];
      case P::ult: return u(a[0]) < u(a[1]);
      case P::ule: return u(a[0]) <= u(a[1]);
      case P::ugt: return u(a[0]) > u(a[1]);
      case P::uge: return u(a[0]) >= u(a[1]);
      case P::slt: return a[0] < a[1];
      case P::sle: return a[0] <= a[1];
      case P::sgt: return a[0] > a[1];
      case P::sge: return a[0] >= a[1];
      }
    }
    return std::nullopt;
  }
};

/// The byte address of `m[indices]` (a static view), evaluated at one
/// thread; nullopt when not computable.
std::optional<int64_t> byteAt(const Buf &b, ValueRange indices,
                              ThreadEval &eval) {
  int64_t e = b.offset;
  for (auto [i, s] : llvm::zip(indices, b.strides)) {
    std::optional<int64_t> x = eval(i);
    if (!x)
      return std::nullopt;
    e += *x * s;
  }
  return b.shift + e * b.elemBytes;
}

struct Merge {
  gpu::LaunchOp gemv, consumer;
  llvm::ArrayRef<int64_t> owner; // cols/warp, split-K, warps, N
  std::string &why;

  bool fail(const std::string &reason) {
    why = reason;
    return false;
  }

  /// The consumer's ops: loads, stores, conditionals, pure arithmetic.
  bool simpleBody() {
    if (consumer.getDynamicSharedMemorySize() ||
        !consumer.getAsyncDependencies().empty() ||
        consumer.getNumWorkgroupAttributions() ||
        consumer.getNumPrivateAttributions())
      return fail("the consumer launch has shared memory or dependencies");
    if (!consumer.getBody().hasOneBlock())
      return fail("the consumer launch has more than one block");
    WalkResult r = consumer.getBody().walk([&](Operation *op) {
      if (isa<memref::LoadOp, memref::StoreOp, scf::IfOp, scf::YieldOp,
              gpu::TerminatorOp>(op) ||
          (op->getNumRegions() == 0 && isMemoryEffectFree(op) &&
           (isa<arith::ArithDialect, math::MathDialect>(op->getDialect()) ||
            isa<gpu::BlockIdOp, gpu::ThreadIdOp>(op))))
        return WalkResult::advance();
      why = "the consumer launch has an op other than loads, stores, "
            "scf.if and arithmetic: " +
            op->getName().getStringRef().str();
      return WalkResult::interrupt();
    });
    return !r.wasInterrupted();
  }

  /// Every thread's accesses, checked against what the GEMV does.
  bool threadsAgree(const Buf &column, ArrayRef<Buf> gemvReads,
                    ArrayRef<Buf> gemvWrites) {
    std::optional<std::pair<int64_t, int64_t>> shape =
        static1DShape(consumer);
    if (!shape)
      return fail("the consumer launch is not a static 1-D grid of 1-D "
                  "blocks");
    auto [gx, bx] = *shape;
    int64_t total = gx * bx;
    if (total > kMaxThreads)
      return fail("the consumer launch has more than " +
                  std::to_string(kMaxThreads) + " threads to check");
    // Static per access: what it touches as a view.
    DenseMap<Operation *, Buf> bufs;
    bool ok = true;
    consumer.getBody().walk([&](Operation *op) {
      Value m;
      if (auto l = dyn_cast<memref::LoadOp>(op))
        m = l.getMemref();
      else if (auto s = dyn_cast<memref::StoreOp>(op))
        m = s.getMemref();
      else
        return;
      std::optional<Buf> b = bufOf(m);
      if (!b) {
        ok = fail("a buffer of the consumer is not a static view");
        return;
      }
      if (isa<memref::StoreOp>(op))
        for (const Buf &g : llvm::concat<const Buf>(gemvReads, gemvWrites))
          if (overlapDistinctArgs(*b, g)) {
            ok = fail("the consumer stores into a buffer the GEMV reads or "
                      "writes");
            return;
          }
      bufs[op] = *b;
    });
    if (!ok)
      return false;
    int64_t n = owner[3];
    int64_t colBytes = column.strides.back() * column.elemBytes;
    for (int64_t p = 0; p < total && ok; ++p) {
      ThreadEval eval;
      eval.launch = consumer;
      eval.threads = bx;
      eval.p = p;
      // The accesses thread p performs: the taken branches only.
      std::function<void(Block &)> run = [&](Block &block) {
        for (Operation &op : block) {
          if (!ok)
            return;
          if (auto i = dyn_cast<scf::IfOp>(op)) {
            std::optional<int64_t> c = eval(i.getCondition());
            if (!c) {
              ok = fail("a condition of the consumer is not index "
                        "arithmetic of the thread");
              return;
            }
            if (*c)
              run(i.getThenRegion().front());
            else if (!i.getElseRegion().empty())
              run(i.getElseRegion().front());
            continue;
          }
          auto load = dyn_cast<memref::LoadOp>(op);
          if (!load && !isa<memref::StoreOp>(op))
            continue;
          if (p >= n) {
            ok = fail("consumer thread " + std::to_string(p) +
                      " accesses memory but the GEMV has " +
                      std::to_string(n) + " columns");
            return;
          }
          if (!load)
            continue;
          const Buf &b = bufs[&op];
          if (!llvm::any_of(gemvWrites,
                            [&](const Buf &g) { return overlapDistinctArgs(b, g); }))
            continue;
          std::optional<int64_t> at = byteAt(b, load.getIndices(), eval);
          if (!b.sameBase(column) || b.elemBytes != column.elemBytes || !at ||
              *at != column.begin() + p * colBytes) {
            ok = fail("consumer thread " + std::to_string(p) +
                      " reads what the GEMV writes other than its column");
            return;
          }
        }
      };
      run(consumer.getBody().front());
    }
    return ok;
  }

  /// The GEMV's column output: the buffer of its marked stores, indexed
  /// by the column alone.
  std::optional<Buf> columnBuffer() {
    Value out;
    bool ok = true;
    gemv.walk([&](memref::StoreOp s) {
      if (!s->hasAttr(kGemvColumnAttr))
        return;
      if (out && out != s.getMemref())
        ok = false;
      out = s.getMemref();
      for (Value i : s.getIndices().drop_back())
        ok &= constIndex(i) == 0;
    });
    if (!out || !ok) {
      fail("the GEMV's column stores are not one buffer indexed by column");
      return std::nullopt;
    }
    std::optional<Buf> b = bufOf(out);
    if (!b)
      fail("the GEMV's output is not a static view");
    return b;
  }

  bool check() {
    if (!simpleBody())
      return false;
    std::optional<Buf> column = columnBuffer();
    if (!column)
      return false;
    std::optional<LaunchAccesses> e = launchAccesses(gemv);
    if (!e)
      return fail("the GEMV's accesses are not known or not static views");
    return threadsAgree(*column, e->reads, e->writes);
  }

  int64_t consumerThreads() {
    auto [grid, threads] = *static1DShape(consumer);
    return grid * threads;
  }

  /// The consumer's body at the end of the GEMV's block, run by lane c of
  /// each group's first warp for the group's column c.
  void apply(RewriterBase &rw) {
    Location loc = consumer.getLoc();
    // The views and constants between the two launches go above the GEMV.
    hoistBetween(rw, gemv, consumer);
    int64_t cpw = owner[0], splitK = owner[1], warps = owner[2];
    Block &body = gemv.getBody().front();
    rw.setInsertionPoint(body.getTerminator());
    auto idx = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(rw, loc, v);
    };
    // The column stores of every warp are done and visible to the block.
    gpu::BarrierOp::create(rw, loc);
    Value tid = gemv.getThreadIds().x, bid = gemv.getBlockIds().x;
    Value warp = arith::DivUIOp::create(rw, loc, tid, idx(kWarp));
    Value lane = arith::RemUIOp::create(rw, loc, tid, idx(kWarp));
    // Gemv.cpp's ownership: column bid * colsPerBlock + group * cpw + c.
    Value group = arith::DivUIOp::create(rw, loc, warp, idx(splitK));
    Value slice = arith::RemUIOp::create(rw, loc, warp, idx(splitK));
    Value col = arith::AddIOp::create(
        rw, loc,
        arith::AddIOp::create(
            rw, loc,
            arith::MulIOp::create(rw, loc, bid,
                                  idx(warps / splitK * cpw)),
            arith::MulIOp::create(rw, loc, group, idx(cpw))),
        lane);
    auto ult = [&](Value a, Value b) {
      return arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, a, b);
    };
    Value owns = arith::AndIOp::create(
        rw, loc,
        arith::AndIOp::create(
            rw, loc,
            arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq, slice,
                                  idx(0)),
            ult(lane, idx(cpw))),
        // Columns the GEMV stores that are threads of the consumer grid
        // (a column past the consumer's last thread has no consumer work).
        ult(col, idx(std::min(owner[3], consumerThreads()))));
    auto ifOwner = scf::IfOp::create(rw, loc, owns, /*withElse=*/false);
    rw.setInsertionPointToStart(ifOwner.thenBlock());
    int64_t threads = static1DShape(consumer)->second;
    cloneLaunchBody(rw, consumer,
                    arith::DivUIOp::create(rw, loc, col, idx(threads)),
                    arith::RemUIOp::create(rw, loc, col, idx(threads)));
    auto name = [](Operation *op) {
      auto k = op->getAttrOfType<StringAttr>("sinter.kernel");
      return k ? k.getValue().split(' ').first.str() : std::string("launch");
    };
    auto k = gemv->getAttrOfType<StringAttr>("sinter.kernel");
    rw.modifyOpInPlace(gemv, [&] {
      gemv->setAttr("sinter.kernel",
                    rw.getStringAttr((k ? k.getValue().str() : "gemv") +
                                     " column_consumer=" + name(consumer)));
    });
    rw.eraseOp(consumer);
  }
};

} // namespace

void mergeColumnConsumers(func::FuncOp fn, bool remarks) {
  SmallVector<gpu::LaunchOp> gemvs;
  fn.walk([&](gpu::LaunchOp l) {
    if (l->hasAttr(kGemvOwnerAttr))
      gemvs.push_back(l);
  });
  IRRewriter rw(fn.getContext());
  for (gpu::LaunchOp gemv : gemvs) {
    auto owner = gemv->getAttrOfType<DenseI64ArrayAttr>(kGemvOwnerAttr);
    gpu::LaunchOp consumer = nextLaunch(gemv);
    if (!consumer || owner.size() != 4)
      continue;
    std::string why;
    Merge m{gemv, consumer, owner.asArrayRef(), why};
    if (m.check()) {
      m.apply(rw);
      continue;
    }
    LLVM_DEBUG(llvm::dbgs() << "[column-consumer] launch at "
                            << consumer.getLoc()
                            << " not merged into its GEMV: " << why << "\n");
    if (remarks)
      consumer.emitRemark() << "sinter-cuda-form-kernels: launch not merged "
                               "into the GEMV before it: "
                            << why;
  }
  // The marks are this step's only.
  fn.walk([&](Operation *op) {
    op->removeAttr(kGemvOwnerAttr);
    op->removeAttr(kGemvColumnAttr);
  });
}

} // namespace sinter::cuda
