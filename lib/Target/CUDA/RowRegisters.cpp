//===- RowRegisters.cpp - row groups kept in registers ---------------------===//
//
// The row template's path for rows that fit in registers (RowGroup.h):
// each of a block's threads owns a few 16-byte vectors of the row, loads
// each input once (read-only inputs all up front), hands what a member
// wrote to the later members in registers, and reduces with shuffles and
// one shared-memory step. A group feeding a GEMV runs inside it instead
// (GemvPrologue.h): every GEMV block recomputes the row into shared
// memory, block 0 stores the group's outputs that later kernels read. A
// group of several short rows that the GEMV reads flattened (the gated
// RMSNorm of 32 value heads before a GatedDeltaNet out_proj) runs there
// too, a power-of-two run of lanes per row, all rows in one pass.
//
//===----------------------------------------------------------------------===//

#include "GemvPrologue.h"
#include "RowGroup.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/Debug.h"
#include "llvm/Support/FormatVariadic.h"

#define DEBUG_TYPE "sinter-cuda-kernels"

using namespace mlir;

namespace sinter::cuda::rows {
namespace {

/// Chunks of `vec` elements one thread may keep of a row in registers; longer
/// rows take the strided loop (one pass over global memory per phase).
constexpr int64_t kMaxChunks = 8;
/// Values one thread may load at the kernel's start (registers).
constexpr int64_t kMaxPreloaded = 64;

/// The launch shape of a row kept in registers: each of `threads` threads
/// owns `chunks` vectors of `vec` contiguous elements of the row, vector q =
/// c * threads + t; `ragged` when the last chunk is partial.
struct RegisterPlan {
  int64_t vec = 1, threads = 32, chunks = 1;
  bool ragged = false;
  /// A GEMV prologue over several rows (the gated RMSNorm of 32 heads
  /// before out_proj): each row is run by `rowThreads` consecutive threads
  /// of the block (a power of two <= 32, so a row's reduction stays in one
  /// warp), `chunks` vectors each, all rows in one pass. 0: one row, all
  /// `threads` threads.
  int64_t rowThreads = 0;
  int64_t threadsPerRow() const { return rowThreads ? rowThreads : threads; }
};

/// The plan for `count` rows of `length` run together by `threads` threads
/// with vectors of `vec` (a GEMV prologue), or none with `why`.
std::optional<RegisterPlan> planManyRows(int64_t count, int64_t length,
                                         int64_t vec, int64_t threads,
                                         std::string &why) {
  if (length % vec) {
    why = "the row length is not a multiple of the GEMV's vector width";
    return std::nullopt;
  }
  int64_t vectors = length / vec;
  // Threads per row: the largest power of two <= 32 dividing the row's
  // vectors (no ragged chunk), halved until all rows fit one pass.
  int64_t per = 32;
  while (vectors % per)
    per /= 2;
  while (per > 1 && count * per > threads)
    per /= 2;
  RegisterPlan p{vec, threads, vectors / per, false, per};
  if (count * per > threads) {
    why = std::to_string(count) + " rows do not fit one pass of " +
          std::to_string(threads) + " threads";
    return std::nullopt;
  }
  if (p.chunks > kMaxChunks) {
    why = "rows of " + std::to_string(length) + " need " +
          std::to_string(p.chunks) + " vectors a thread";
    return std::nullopt;
  }
  return p;
}

/// The plan, or none when the row does not fit kMaxChunks per thread.
std::optional<RegisterPlan> planRegisterRows(MutableArrayRef<Member> members,
                                             const Rows &rows) {
  // 16 bytes of the widest element type that varies along the row.
  unsigned bits = 8;
  for (Member &m : members) {
    if (m.perRow)
      continue;
    unsigned last = m.op.getNumLoops() - 1;
    for (OpOperand &o : m.op->getOpOperands()) {
      if (!m.op.getMatchingIndexingMap(&o).isFunctionOfDim(last))
        continue;
      Type t = getElementTypeOrSelf(o.get().getType());
      bits = std::max(bits, t.isIntOrFloat() ? t.getIntOrFloatBitWidth() : 64);
    }
  }
  RegisterPlan p;
  p.vec = std::max<int64_t>(1, 128 / bits);
  while (rows.length % p.vec)
    p.vec /= 2;
  int64_t vectors = rows.length / p.vec;
  p.threads = std::min<int64_t>(256, llvm::alignTo(vectors, 32));
  p.chunks = llvm::divideCeil(vectors, p.threads);
  p.ragged = vectors % p.threads != 0;
  if (p.chunks > kMaxChunks)
    return std::nullopt;
  return p;
}

/// The row group as one block per row that keeps the row in registers:
/// every thread loads its vectors of each input once (the group's read-only
/// inputs all at the start, 16-byte loads where the layout allows), and a
/// value a member wrote is handed to the later members that read it at the
/// same element (same buffer, same indexing map) instead of re-read.
/// Reductions combine per-thread partials (f32) with shuffles and shared
/// memory; every thread gets the row's value, so the ops that broadcast it
/// read it from a register when the fill was absorbed.
struct RegisterRows {
  RewriterBase &rw;
  Location loc;
  const Rows &rows;
  const RegisterPlan &p;
  MutableArrayRef<Member> members;

  RegisterRows(RewriterBase &rw, Location loc, const Rows &rows,
               const RegisterPlan &p, MutableArrayRef<Member> members)
      : rw(rw), loc(loc), rows(rows), p(p), members(members) {}

  // As a GEMV prologue (GemvPrologue.h): global stores only where
  // `storeGuard` holds (block 0); the values of `captureBuf` also go to
  // `staged` in every block, at vector `stageBase` + the row's vector.
  Value storeGuard, captureBuf, staged, stageBase;
  // Several rows a block (rowThreads): whether this thread's row exists
  // (threads past the last row compute a copy of it and store nothing).
  Value rowIn;
  // Outputs nothing after the group reads (arena bytes the memory plan may
  // give to the GEMV's output): not stored at all.
  llvm::DenseSet<Value> dead;
  // Set when every read of a group-written buffer is served from registers
  // (servedFromRegisters: a GEMV prologue). No member then reads from
  // memory what another thread wrote, so the only barrier between members
  // is the one before a reduction that reuses the scratch an earlier
  // reduction's threads may still be reading (every barrier in a 512-thread
  // prologue waits for its slowest warp before the weight stream starts).
  bool fromRegisters = false;
  bool scratchRead = false;

  using Access = std::pair<Value, AffineMap>;
  Value tid;
  SmallVector<Value> rowIvs;
  // Per chunk: the index of its first element (clamped into the row for
  // the ragged chunk, whose loads stay in bounds) and, for the ragged
  // chunk, whether this thread's vector is in the row.
  SmallVector<Value> chunkPos, chunkIn;
  // Values of accesses this thread holds: chunks * vec of them, or one
  // when the access does not vary along the row.
  DenseMap<Access, SmallVector<Value>> known;
  SmallVector<Extent> written;

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(rw, loc, v); }
  unsigned lastDim() const { return rows.shape.size(); }

  bool varies(AffineMap map) const { return map.isFunctionOfDim(lastDim()); }

  /// Whether `buf` through `map` may be read or written as vectors: the row
  /// index is the innermost, unit-stride dimension and every vector starts
  /// 16-byte aligned (buffers are; views at multiples of 16 bytes).
  bool vectorizable(Value buf, AffineMap map) const {
    if (p.vec == 1 || map.getNumResults() == 0)
      return false;
    auto d = dyn_cast<AffineDimExpr>(map.getResults().back());
    if (!d || d.getPosition() != lastDim())
      return false;
    auto type = cast<MemRefType>(buf.getType());
    // Whole bytes only (i1 vectors are bit-packed in registers).
    Type elt = type.getElementType();
    if (!elt.isIntOrFloat() || elt.getIntOrFloatBitWidth() % 8)
      return false;
    SmallVector<int64_t> strides;
    int64_t offset;
    if (failed(type.getStridesAndOffset(strides, offset)) ||
        ShapedType::isDynamic(offset) || strides.back() != 1 ||
        offset % p.vec)
      return false;
    for (int64_t s : ArrayRef(strides).drop_back())
      if (ShapedType::isDynamic(s) || s % p.vec)
        return false;
    return extentOf(buf).begin % 16 == 0;
  }

  SmallVector<Value> ivsAt(Value pos) {
    SmallVector<Value> ivs(rowIvs);
    ivs.push_back(pos);
    return ivs;
  }

  /// The alignment a vector access claims: its size, at most 16 bytes
  /// (what the buffers are known to have; a GEMV prologue's 8 x f32 is two
  /// 16-byte accesses).
  unsigned alignOf(Value buf) {
    return std::min<int64_t>(
        16, p.vec * (getElementTypeOrSelf(buf.getType())
                         .getIntOrFloatBitWidth() /
                     8));
  }

  /// Copies this thread's vectors of the captured output to `staged`.
  void stage(ArrayRef<Value> vals) {
    auto type = cast<VectorType>(
        cast<MemRefType>(staged.getType()).getElementType());
    for (int64_t c = 0; c < p.chunks; ++c) {
      OpBuilder::InsertionGuard guard(rw);
      Value cond = chunkIn[c];
      if (rowIn)
        cond = cond ? arith::AndIOp::create(rw, loc, cond, rowIn).getResult()
                    : rowIn;
      if (cond) {
        auto ifOp = scf::IfOp::create(rw, loc, cond, false);
        rw.setInsertionPointToStart(ifOp.thenBlock());
      }
      Value v = vector::FromElementsOp::create(rw, loc, type,
                                               vals.slice(c * p.vec, p.vec));
      Value at = arith::DivUIOp::create(rw, loc, chunkPos[c], idx(p.vec));
      if (stageBase)
        at = arith::AddIOp::create(rw, loc, stageBase, at);
      memref::StoreOp::create(rw, loc, v, staged, at);
    }
  }

  /// This thread's elements of `buf` through `map`.
  SmallVector<Value> load(Value buf, AffineMap map) {
    if (!varies(map))
      return {memref::LoadOp::create(rw, loc, buf,
                                     indicesOf(rw, loc, map, ivsAt(idx(0))))};
    SmallVector<Value> out;
    Type elt = getElementTypeOrSelf(buf.getType());
    bool vector = vectorizable(buf, map);
    for (int64_t c = 0; c < p.chunks; ++c) {
      if (vector) {
        Value v = vector::LoadOp::create(
            rw, loc, VectorType::get({p.vec}, elt), buf,
            indicesOf(rw, loc, map, ivsAt(chunkPos[c])),
            /*nontemporal=*/false, llvm::MaybeAlign(alignOf(buf)));
        for (int64_t e = 0; e < p.vec; ++e)
          out.push_back(vector::ExtractOp::create(rw, loc, v, e));
        continue;
      }
      for (int64_t e = 0; e < p.vec; ++e) {
        Value pos = arith::AddIOp::create(rw, loc, chunkPos[c], idx(e));
        out.push_back(memref::LoadOp::create(
            rw, loc, buf, indicesOf(rw, loc, map, ivsAt(pos))));
      }
    }
    return out;
  }

  SmallVector<Value> values(Value buf, AffineMap map) {
    auto it = known.find({buf, map});
    if (it != known.end())
      return it->second;
    return load(buf, map);
  }

  /// Forgets what this thread holds of buffers that may share bytes with
  /// `buf`, which is about to be written.
  void invalidate(Value buf) {
    Extent e = extentOf(buf);
    SmallVector<Access> stale;
    for (auto &[access, vals] : known)
      if (access.first == buf || mayOverlap(extentOf(access.first), e))
        stale.push_back(access);
    for (const Access &a : stale)
      known.erase(a);
  }

  /// Stores this thread's elements of an elementwise member's output (the
  /// ragged chunk's vector only when it is in the row).
  void store(Value buf, AffineMap map, ArrayRef<Value> vals) {
    if (dead.contains(buf))
      return;
    bool vector = vectorizable(buf, map);
    for (int64_t c = 0; c < p.chunks; ++c) {
      OpBuilder::InsertionGuard guard(rw);
      Value cond = chunkIn[c];
      if (storeGuard)
        cond = cond ? arith::AndIOp::create(rw, loc, cond, storeGuard)
                          .getResult()
                    : storeGuard;
      if (cond) {
        auto ifOp = scf::IfOp::create(rw, loc, cond, false);
        rw.setInsertionPointToStart(ifOp.thenBlock());
      }
      ArrayRef<Value> chunk = vals.slice(c * p.vec, p.vec);
      if (vector) {
        Type elt = getElementTypeOrSelf(buf.getType());
        Value v = vector::FromElementsOp::create(
            rw, loc, VectorType::get({p.vec}, elt), chunk);
        vector::StoreOp::create(rw, loc, v, buf,
                                indicesOf(rw, loc, map, ivsAt(chunkPos[c])),
                                /*nontemporal=*/false,
                                llvm::MaybeAlign(alignOf(buf)));
        continue;
      }
      for (int64_t e = 0; e < p.vec; ++e) {
        Value pos = arith::AddIOp::create(rw, loc, chunkPos[c], idx(e));
        memref::StoreOp::create(rw, loc, chunk[e], buf,
                                indicesOf(rw, loc, map, ivsAt(pos)));
      }
    }
  }

  /// The body of `m` at element e of chunk c, the reduction's combiner left
  /// out; `ins` holds each operand's values (empty: unused).
  SmallVector<Value> body(Member &m, ArrayRef<SmallVector<Value>> ins,
                          int64_t c, int64_t e) {
    Block *block = m.op.getBlock();
    IRMapping map;
    for (auto [i, arg] : llvm::enumerate(block->getArguments()))
      if (!ins[i].empty())
        map.map(arg, ins[i].size() == 1 ? ins[i][0] : ins[i][c * p.vec + e]);
    for (Operation &inner : block->without_terminator()) {
      if (&inner == m.combineOp)
        continue;
      if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
        Value v = index.getDim() < lastDim()
                      ? rowIvs[index.getDim()]
                      : arith::AddIOp::create(rw, loc, chunkPos[c], idx(e))
                            .getResult();
        map.map(index.getResult(), v);
        continue;
      }
      rw.clone(inner, map);
    }
    if (m.reduction)
      return {map.lookup(m.contribution)};
    SmallVector<Value> out;
    for (Value v : block->getTerminator()->getOperands())
      out.push_back(map.lookupOrDefault(v));
    return out;
  }

  /// Each operand's values (empty for block arguments the body does not
  /// use and for a reduction's accumulator).
  SmallVector<SmallVector<Value>> operands(Member &m) {
    SmallVector<SmallVector<Value>> ins;
    for (OpOperand &o : m.op->getOpOperands()) {
      BlockArgument arg = m.op.getMatchingBlockArgument(&o);
      if (arg.use_empty() || (m.reduction && m.op.isDpsInit(&o)))
        ins.emplace_back();
      else
        ins.push_back(values(o.get(), m.op.getMatchingIndexingMap(&o)));
    }
    return ins;
  }

  bool readOnly(Value buf) {
    Extent e = extentOf(buf);
    return llvm::none_of(written,
                         [&](const Extent &w) { return mayOverlap(e, w); });
  }

  void build() {
    int64_t warps = p.threads / 32;
    Value one = idx(1);
    auto scratchType = MemRefType::get(
        {warps}, rw.getF32Type(), MemRefLayoutAttrInterface{},
        gpu::AddressSpaceAttr::get(rw.getContext(),
                                   gpu::AddressSpace::Workgroup));
    auto launch = gpu::LaunchOp::create(
        rw, loc, idx(rows.count()), one, one, idx(p.threads), one, one,
        /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
        /*asyncDependencies=*/{}, TypeRange{scratchType});
    launch->setAttr("sinter.kernel",
                    rw.getStringAttr(llvm::formatv(
                        "rows count={0} length={1} threads={2} vec={3} "
                        "chunks={4} members={5}",
                        rows.count(), rows.length, p.threads, p.vec, p.chunks,
                        members.size())));
    Block &block = launch.getBody().front();
    rw.setInsertionPointToStart(&block);
    gpu::TerminatorOp::create(rw, loc);
    rw.setInsertionPointToStart(&block);
    emitInto(launch.getThreadIds().x, launch.getBlockIds().x,
             launch.getWorkgroupAttributions().front());
  }

  /// The group for row `row` at the insertion point, run by p.threads
  /// threads (`threadId`); `scratch` holds a float per warp.
  void emitInto(Value threadId, Value row, Value scratch) {
    for (Member &m : members)
      for (Value out : m.op.getDpsInits())
        written.push_back(extentOf(out));
    int64_t warps = p.threads / 32;
    tid = threadId;
    if (p.rowThreads) {
      // Row tid / rowThreads, clamped to the last row (its copy stores
      // nothing); its vectors are staged at row * length / vec.
      warps = 1;
      tid = arith::RemUIOp::create(rw, loc, threadId, idx(p.rowThreads));
      row = arith::DivUIOp::create(rw, loc, threadId, idx(p.rowThreads));
      if (rows.count() * p.rowThreads < p.threads) {
        rowIn = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, row,
                                      idx(rows.count()));
        row = arith::MinUIOp::create(rw, loc, row, idx(rows.count() - 1));
        storeGuard = storeGuard ? arith::AndIOp::create(rw, loc, storeGuard,
                                                        rowIn)
                                      .getResult()
                                : rowIn;
      }
      if (staged)
        stageBase = arith::MulIOp::create(rw, loc, row,
                                          idx(rows.length / p.vec));
    }
    unsigned np = rows.shape.size();
    rowIvs.resize(np);
    Value rest = row;
    for (int k = int(np) - 1; k >= 0; --k) {
      rowIvs[k] = k > 0 ? arith::RemUIOp::create(rw, loc, rest,
                                                 idx(rows.shape[k]))
                        : rest;
      if (k > 0)
        rest = arith::DivUIOp::create(rw, loc, rest, idx(rows.shape[k]));
    }
    int64_t vectors = rows.length / p.vec;
    for (int64_t c = 0; c < p.chunks; ++c) {
      Value q =
          arith::AddIOp::create(rw, loc, tid, idx(c * p.threadsPerRow()));
      Value in;
      if (p.ragged && c == p.chunks - 1) {
        in = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult, q,
                                   idx(vectors));
        q = arith::MinUIOp::create(rw, loc, q, idx(vectors - 1));
      }
      chunkPos.push_back(arith::MulIOp::create(rw, loc, q, idx(p.vec)));
      chunkIn.push_back(in);
    }
    // The inputs nothing in the group writes, loaded up front: their loads
    // are all in flight at once instead of one phase's after another's.
    int64_t preloaded = 0;
    for (Member &m : members) {
      if (m.perRow)
        continue;
      for (OpOperand &o : m.op->getOpOperands()) {
        AffineMap map = m.op.getMatchingIndexingMap(&o);
        Access a{o.get(), map};
        int64_t n = varies(map) ? p.chunks * p.vec : 1;
        if (m.op.getMatchingBlockArgument(&o).use_empty() || known.count(a) ||
            !readOnly(o.get()) || preloaded + n > kMaxPreloaded)
          continue;
        known[a] = load(o.get(), map);
        preloaded += n;
      }
    }

    Value writer = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::eq,
                                         tid, idx(0));
    if (storeGuard)
      writer = arith::AndIOp::create(rw, loc, writer, storeGuard);
    for (Member &m : members) {
      if (m.perRow) {
        // Run by the thread that stored the row's values, from memory.
        for (Value out : m.op.getDpsInits())
          invalidate(out);
        auto ifOp = scf::IfOp::create(rw, loc, writer, false);
        OpBuilder::InsertionGuard guard(rw);
        rw.setInsertionPointToStart(ifOp.thenBlock());
        SmallVector<Value> vals = emitBody(rw, loc, m, rowIvs);
        for (auto [out, v] : llvm::zip(m.op.getDpsInitsMutable(), vals))
          memref::StoreOp::create(
              rw, loc, v, out.get(),
              indicesOf(rw, loc, m.op.getMatchingIndexingMap(&out), rowIvs));
      } else if (!m.reduction) {
        SmallVector<SmallVector<Value>> ins = operands(m);
        unsigned nOut = m.op.getNumDpsInits();
        SmallVector<SmallVector<Value>> outs(nOut);
        for (int64_t c = 0; c < p.chunks; ++c)
          for (int64_t e = 0; e < p.vec; ++e)
            for (auto [o, v] : llvm::enumerate(body(m, ins, c, e)))
              outs[o].push_back(v);
        for (auto [o, init] : llvm::enumerate(m.op.getDpsInitsMutable())) {
          AffineMap map = m.op.getMatchingIndexingMap(&init);
          invalidate(init.get());
          store(init.get(), map, outs[o]);
          if (init.get() == captureBuf)
            stage(outs[o]);
          known[{init.get(), map}] = outs[o];
        }
      } else {
        SmallVector<SmallVector<Value>> ins = operands(m);
        Value partial = identity(rw, loc, m.kind);
        for (int64_t c = 0; c < p.chunks; ++c)
          for (int64_t e = 0; e < p.vec; ++e) {
            Value v = toF32(rw, loc, body(m, ins, c, e).front());
            if (chunkIn[c])
              v = arith::SelectOp::create(rw, loc, chunkIn[c], v,
                                          identity(rw, loc, m.kind));
            partial = combine(rw, loc, m.kind, partial, v);
          }
        if (p.rowThreads) {
          // Across the row's lanes only (an aligned run of the warp).
          for (int32_t off = p.rowThreads / 2; off >= 1; off /= 2) {
            auto shuffle = gpu::ShuffleOp::create(rw, loc, partial, off,
                                                  /*width=*/32,
                                                  gpu::ShuffleMode::XOR);
            partial = combine(rw, loc, m.kind, partial,
                              shuffle.getShuffleResult());
          }
        } else {
          partial = warpReduce(rw, loc, m.kind, partial);
        }
        if (warps > 1) {
          // Lane 0 of each warp publishes; every thread combines them in
          // the same order.
          Value warp = arith::DivUIOp::create(rw, loc, tid, idx(32));
          Value first = arith::CmpIOp::create(
              rw, loc, arith::CmpIPredicate::eq,
              arith::RemUIOp::create(rw, loc, tid, idx(32)), idx(0));
          if (fromRegisters && scratchRead)
            gpu::BarrierOp::create(rw, loc);
          scratchRead = true;
          auto publish = scf::IfOp::create(rw, loc, first, false);
          {
            OpBuilder::InsertionGuard guard(rw);
            rw.setInsertionPointToStart(publish.thenBlock());
            memref::StoreOp::create(rw, loc, partial, scratch, warp);
          }
          gpu::BarrierOp::create(rw, loc);
          Value all = memref::LoadOp::create(rw, loc, scratch, idx(0));
          for (int64_t w = 1; w < warps; ++w)
            all = combine(rw, loc, m.kind, all,
                          memref::LoadOp::create(rw, loc, scratch, idx(w)));
          partial = all;
        }
        Value out = m.op.getDpsInits()[0];
        AffineMap outMap = m.op.getMatchingIndexingMap(m.op.getDpsInitOperand(0));
        Type accType = cast<MemRefType>(out.getType()).getElementType();
        auto finish = [&](Value before) {
          Value r = combine(rw, loc, m.kind, toF32(rw, loc, before), partial);
          return accType.isF32() ? r
                                 : arith::TruncFOp::create(rw, loc, accType, r)
                                       .getResult();
        };
        invalidate(out);
        Value result;
        if (m.fill)
          result = finish(m.fill.value());
        if (!dead.contains(out)) {
          auto store = scf::IfOp::create(rw, loc, writer, false);
          OpBuilder::InsertionGuard guard(rw);
          rw.setInsertionPointToStart(store.thenBlock());
          Value v = result ? result
                           : finish(memref::LoadOp::create(rw, loc, out, rowIvs));
          memref::StoreOp::create(rw, loc, v, out, rowIvs);
        }
        // Every thread holds the row's value when no thread had to read the
        // output's old value.
        if (result)
          known[{out, outMap}] = {result};
      }
      // The next phase may read from memory what another thread wrote (and
      // reuses the scratch).
      if (!fromRegisters && &m != &members.back())
        gpu::BarrierOp::create(rw, loc);
    }
  }
};


/// Whether the group, run by every block of a GEMV, never reads from memory
/// what it writes (only block 0 stores): each such read must be a value the
/// thread holds (RegisterRows' rules), else `why`.
bool servedFromRegisters(MutableArrayRef<Member> members, std::string &why) {
  SmallVector<Extent> written;
  for (Member &m : members)
    for (Value out : m.op.getDpsInits())
      written.push_back(extentOf(out));
  llvm::DenseSet<std::pair<Value, AffineMap>> held;
  for (Member &m : members) {
    if (m.perRow) {
      why = "a per-row member (run by one thread)";
      return false;
    }
    for (OpOperand &o : m.op->getOpOperands()) {
      if (m.op.getMatchingBlockArgument(&o).use_empty() ||
          (m.reduction && m.op.isDpsInit(&o)) ||
          held.contains({o.get(), m.op.getMatchingIndexingMap(&o)}))
        continue;
      Extent e = extentOf(o.get());
      if (llvm::any_of(written,
                       [&](const Extent &w) { return mayOverlap(e, w); })) {
        why = "a member reads from memory what the group writes";
        return false;
      }
    }
    for (OpOperand &init : m.op.getDpsInitsMutable()) {
      Extent e = extentOf(init.get());
      SmallVector<std::pair<Value, AffineMap>> stale;
      for (auto &a : held)
        if (mayOverlap(extentOf(a.first), e))
          stale.push_back(a);
      for (auto &a : stale)
        held.erase(a);
      if (!m.reduction || m.fill)
        held.insert({init.get(), m.op.getMatchingIndexingMap(&init)});
    }
  }
  return true;
}

/// The GEMV input that is `out` (the group's last output, rows x length
/// in row-major order) reshaped to one row: a collapse of contiguous
/// buffers (the gated RMSNorm's [1, 1, 32, 128] heads read by out_proj as
/// [1, 1, 4096]); null when `next` reads no such view.
Value flatActivation(linalg::LinalgOp next, Value out) {
  auto contiguous = [](Value v) {
    auto t = dyn_cast<MemRefType>(v.getType());
    return t && t.hasStaticShape() && t.getLayout().isIdentity();
  };
  if (!contiguous(out))
    return {};
  for (Value in : next.getDpsInputs()) {
    auto c = in.getDefiningOp<memref::CollapseShapeOp>();
    if (c && c.getSrc() == out && contiguous(in))
      return in;
  }
  return {};
}

/// Runs a row group as the prologue of the GEMV right after it that reads
/// its last output (GemvPrologue.h): the norm kernel and its launch
/// disappear. Only views, pure ops and the fill of the GEMV's accumulator
/// may lie between them (the group's ops move to the GEMV). One row, or
/// several rows whose output the GEMV reads flattened into its one row
/// (each block then runs all rows, a few lanes per row).
LogicalResult fuseIntoGemv(RewriterBase &rw, MutableArrayRef<Member> members,
                           const Rows &rows, const KernelOptions &options,
                           std::string &why) {
  Member &last = members.back();
  if (last.reduction || last.perRow || last.op.getNumDpsInits() != 1) {
    why = "the group does not end in an elementwise op";
    return failure();
  }
  bool manyRows = rows.count() != 1;
  if (manyRows &&
      !last.op.getMatchingIndexingMap(last.op.getDpsInitOperand(0))
           .isIdentity()) {
    why = "several rows whose output is not written in loop order";
    return failure();
  }
  if (!servedFromRegisters(members, why))
    return failure();
  linalg::LinalgOp next;
  linalg::FillOp fill;
  for (Operation *cur = last.op->getNextNode(); cur;
       cur = cur->getNextNode()) {
    if (isViewOrPure(cur))
      continue;
    if (auto f = dyn_cast<linalg::FillOp>(cur); f && !fill) {
      fill = f;
      continue;
    }
    next = dyn_cast<linalg::LinalgOp>(cur);
    break;
  }
  if (!next || (fill && (next.getNumDpsInits() != 1 ||
                         fill.getOutputs()[0] != next.getDpsInits()[0]))) {
    why = "no linear right after the group";
    return failure();
  }
  GemvPrologue pro;
  pro.activation = last.op.getDpsInits()[0];
  Value flat;
  if (manyRows) {
    flat = flatActivation(next, pro.activation);
    if (!flat) {
      why = std::to_string(rows.count()) +
            " rows not read by the linear as one contiguous row";
      return failure();
    }
  }
  Value groupOut = pro.activation;
  if (flat)
    pro.activation = flat;
  // Outputs only the group reads: arena views with no user outside it.
  llvm::SmallPtrSet<Operation *, 8> groupOps;
  for (Member &m : members) {
    groupOps.insert(m.op);
    if (m.fill)
      groupOps.insert(m.fill);
  }
  llvm::DenseSet<Value> dead;
  SmallVector<Extent> written;
  for (Member &m : members)
    for (Value out : m.op.getDpsInits()) {
      written.push_back(extentOf(out));
      // The flattened activation is read only through the staged copy
      // once the GEMV is fused.
      auto internal = [&](Operation *u) {
        return groupOps.contains(u) ||
               (flat && u == flat.getDefiningOp() &&
                llvm::all_of(flat.getUsers(), [&](Operation *r) {
                  return r == next.getOperation();
                }));
      };
      if (out.getDefiningOp<memref::ViewOp>() &&
          llvm::all_of(out.getUsers(), internal))
        dead.insert(out);
      else
        pro.writes.push_back(out);
    }
  // What every block reads from memory: the inputs the group does not
  // write (servedFromRegisters: the others come from registers).
  for (Member &m : members)
    for (OpOperand *in : m.op.getDpsInputOperands()) {
      Extent e = extentOf(in->get());
      if (llvm::none_of(written,
                        [&](const Extent &w) { return mayOverlap(e, w); }))
        pro.reads.push_back(in->get());
    }
  std::optional<RegisterPlan> plan;
  pro.fits = [&](int64_t vec, int64_t threads, std::string &reason) {
    if (manyRows) {
      plan = planManyRows(rows.count(), rows.length, vec, threads, reason);
      return plan.has_value();
    }
    int64_t vectors = rows.length / vec;
    int64_t chunks = llvm::divideCeil(vectors, threads);
    if (rows.length % vec || chunks > kMaxChunks) {
      reason = "the row does not split into the GEMV's vectors and threads";
      return false;
    }
    plan = RegisterPlan{vec, threads, chunks, vectors % threads != 0};
    return true;
  };
  Location loc = last.op.getLoc();
  pro.emit = [&](RewriterBase &b, Value tid, Value bid, Value scratch,
                 Value staged) {
    RegisterRows rr(b, loc, rows, *plan, members);
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    rr.storeGuard =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, bid, zero);
    rr.captureBuf = groupOut;
    rr.staged = staged;
    rr.dead = dead;
    rr.fromRegisters = true;
    rr.emitInto(tid, zero, scratch);
  };
  return emitGemvWithPrologue(rw, next, options, pro, why);
}


} // namespace

LogicalResult emitRegisterRows(RewriterBase &rw, MutableArrayRef<Member> members,
                               const Rows &rows, const KernelOptions &options,
                               Location loc) {
  std::optional<RegisterPlan> plan = planRegisterRows(members, rows);
  if (!plan)
    return failure();
  // Best: no kernel of its own, in the GEMV that reads its output.
  std::string why;
  if (succeeded(fuseIntoGemv(rw, members, rows, options, why)))
    return success();
  LLVM_DEBUG(llvm::dbgs() << "[row-reduction] not a GEMV prologue: " << why
                          << "\n");
  rw.setInsertionPointAfter(members.back().op);
  RegisterRows(rw, loc, rows, *plan, members).build();
  return success();
}

} // namespace sinter::cuda::rows
