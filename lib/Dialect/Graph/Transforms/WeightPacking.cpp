//===- WeightPacking.cpp - constant weights and how to lay them out -------===//
//
// See WeightPacking.h. Folding works on raw bytes: every float element type
// sinter.linear accepts is a whole number of bytes, and a weight of 8192 x
// 2048 elements should cost one copy, not a round trip through APFloat.
//
//===----------------------------------------------------------------------===//

#include "WeightPacking.h"

#include "mlir/IR/Matchers.h"

using namespace mlir;

namespace sinter {

FailureOr<WeightSource> traceWeight(Value v) {
  if (auto c = v.getDefiningOp<arith::ConstantOp>()) {
    auto data = dyn_cast<ElementsAttr>(c.getValue());
    if (!data ||
        !(isa<DenseElementsAttr>(data) || isa<DenseResourceElementsAttr>(data)))
      return failure();
    return WeightSource{v, data, false};
  }
  if (auto t = v.getDefiningOp<TransposeOp>()) {
    if (t.getPerm() != ArrayRef<int64_t>{1, 0})
      return failure();
    FailureOr<WeightSource> in = traceWeight(t.getInput());
    if (failed(in))
      return failure();
    in->transposed = !in->transposed;
    return in;
  }
  if (auto p = v.getDefiningOp<PackWeightsOp>()) {
    if (p.getSources().size() != 1)
      return failure();
    FailureOr<WeightSource> in = traceWeight(p.getSources().front());
    if (failed(in))
      return failure();
    in->transposed = in->transposed != p.getTranspose().front();
    return in;
  }
  return failure();
}

int64_t byteSize(Type type) {
  auto t = cast<ShapedType>(type);
  return (t.getNumElements() * t.getElementTypeBitWidth() + 7) / 8;
}

DenseElementsAttr foldPack(RankedTensorType type,
                           ArrayRef<WeightSource> sources, int64_t axis) {
  int64_t elt = type.getElementTypeBitWidth() / 8;
  ArrayRef<int64_t> res = type.getShape();
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= res[d];
  std::vector<char> out(type.getNumElements() * elt);

  // Each source as contiguous bytes in its packed (possibly transposed)
  // layout, and the size of one chunk: its slice for one outer index.
  SmallVector<std::vector<char>> owned;
  SmallVector<ArrayRef<char>> bytes;
  SmallVector<int64_t> chunk;
  for (const WeightSource &s : sources) {
    auto data = cast<DenseElementsAttr>(s.data);
    auto st = cast<RankedTensorType>(data.getType());
    ArrayRef<char> raw = data.getRawData();
    int64_t n = st.getNumElements();
    if (data.isSplat() || s.transposed) {
      std::vector<char> full(n * elt);
      if (data.isSplat()) {
        for (int64_t i = 0; i < n; ++i)
          std::memcpy(&full[i * elt], raw.data(), elt);
      } else {
        int64_t rows = st.getDimSize(0), cols = st.getDimSize(1);
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t c = 0; c < cols; ++c)
            std::memcpy(&full[(c * rows + r) * elt], &raw[(r * cols + c) * elt],
                        elt);
      }
      owned.push_back(std::move(full));
      raw = ArrayRef<char>(owned.back());
    }
    bytes.push_back(raw);
    chunk.push_back(n / outer * elt);
  }
  char *dst = out.data();
  for (int64_t o = 0; o < outer; ++o)
    for (auto [raw, c] : llvm::zip_equal(bytes, chunk)) {
      std::memcpy(dst, raw.data() + o * c, c);
      dst += c;
    }
  return DenseElementsAttr::getFromRawBuffer(type, out);
}

Value buildPack(RewriterBase &rewriter, Location loc, RankedTensorType type,
                ArrayRef<WeightSource> sources, int64_t axis) {
  if (llvm::all_of(sources, [](const WeightSource &s) { return s.isInline(); }))
    return arith::ConstantOp::create(rewriter, loc, type,
                                     foldPack(type, sources, axis));
  if (sources.size() == 1 && !sources.front().transposed)
    return sources.front().constant;
  Block *block = rewriter.getInsertionBlock();
  Block::iterator ip = rewriter.getInsertionPoint();
  SmallVector<Value> operands;
  SmallVector<int64_t> offsets;
  SmallVector<bool> transpose;
  int64_t offset = 0;
  for (const WeightSource &s : sources) {
    // Constants have no operands: moving one up is always sound.
    Operation *def = s.constant.getDefiningOp();
    if (def->getBlock() == block && ip != block->end() && &*ip != def &&
        ip->isBeforeInBlock(def))
      rewriter.moveOpBefore(def, block, ip);
    operands.push_back(s.constant);
    offsets.push_back(offset);
    transpose.push_back(s.transposed);
    auto st = cast<RankedTensorType>(s.constant.getType());
    offset += s.transposed ? st.getDimSize(1 - axis) : st.getDimSize(axis);
  }
  return PackWeightsOp::create(rewriter, loc, type, operands,
                               rewriter.getI64IntegerAttr(axis),
                               rewriter.getDenseI64ArrayAttr(offsets),
                               rewriter.getDenseBoolArrayAttr(transpose));
}

} // namespace sinter
