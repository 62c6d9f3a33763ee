//===- CompilerBuiltins.cpp - helpers the generated code may call ---------===//
//
// LLVM's x86 backend computes bfloat16 arithmetic (maximum, minimum, ...) in
// float and rounds the result with a call to __truncsfbf2. That helper is in
// compiler-rt and in libgcc 13+, but not in the libgcc of Debian 12 that the
// executables link against, so the runtime provides it.
//
//===----------------------------------------------------------------------===//

#include <cstdint>
#include <cstring>

extern "C" __bf16 __truncsfbf2(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  uint16_t out;
  if ((bits & 0x7fffffffu) > 0x7f800000u) {
    // NaN: keep the sign, force a quiet NaN so truncation cannot make inf.
    out = static_cast<uint16_t>((bits >> 16) | 0x0040u);
  } else {
    // Round to nearest, ties to even.
    uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
    out = static_cast<uint16_t>((bits + rounding) >> 16);
  }
  __bf16 result;
  std::memcpy(&result, &out, sizeof result);
  return result;
}
