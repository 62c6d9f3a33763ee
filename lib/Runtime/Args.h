//===- Args.h - the executables' command-line words ------------*- C++ -*-===//
//
// Both mains of a compiled executable (Driver.cpp: one forward; Generate.cpp:
// the generation loop) read options the same way: `--name VALUE` and
// `--name=VALUE` alike, a missing value an error naming the option.
//
//===----------------------------------------------------------------------===//

#ifndef SINTER_LIB_RUNTIME_ARGS_H
#define SINTER_LIB_RUNTIME_ARGS_H

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

namespace sinter::rt {

class ArgReader {
public:
  ArgReader(int argc, char **argv) : argc(argc), argv(argv) {}

  /// Moves to the next word (argv[1] first); false after the last.
  bool next() {
    if (++i >= argc)
      return false;
    word = argv[i];
    value.clear();
    inlineValue = false;
    return true;
  }

  /// Whether the word is `name` or `name=VALUE` (then `value` holds VALUE).
  bool flag(const char *name) {
    size_t n = std::strlen(name);
    if (word == name)
      return true;
    if (word.size() > n && word.compare(0, n, name) == 0 && word[n] == '=') {
      value = word.substr(n + 1);
      inlineValue = true;
      return true;
    }
    return false;
  }

  /// The option's value: after '=', else the next word (consumed).
  bool takeValue(const char *name, std::string &err) {
    if (inlineValue)
      return true;
    if (i + 1 >= argc) {
      err = std::string(name) + " needs a value";
      return false;
    }
    value = argv[++i];
    return true;
  }

  /// The word before the current one, or "" at the first.
  const char *previous() const { return i > 1 ? argv[i - 1] : ""; }

  std::string word, value;
  /// The value came as `name=VALUE`.
  bool inlineValue = false;

  /// `--random-weights[=SEED]` (both mains take it): the seed, 0 when
  /// none is given. Only as `--random-weights=SEED`: a separate word would
  /// be ambiguous with the next option. Decimal or 0x hex only: strtoull
  /// alone would skip leading spaces and wrap ' -1' to 2^64 - 1, and read
  /// '010' as octal 8.
  bool takeSeed(uint64_t &seed, std::string &err) const {
    seed = 0;
    if (!inlineValue)
      return true;
    char *end = nullptr;
    errno = 0;
    bool hex = value.size() > 2 && value[0] == '0' &&
               (value[1] == 'x' || value[1] == 'X');
    const char *digits = value.c_str() + (hex ? 2 : 0);
    unsigned long long v = std::strtoull(digits, &end, hex ? 16 : 10);
    if (!std::isxdigit(static_cast<unsigned char>(*digits)) || *end != '\0' ||
        errno) {
      err = "--random-weights expects a seed (an unsigned integer), got '" +
            value + "'";
      return false;
    }
    seed = uint64_t(v);
    return true;
  }

  /// The hint for an unknown word that follows --random-weights: it was
  /// probably meant as its seed.
  std::string seedHint() const {
    return std::strcmp(previous(), "--random-weights") == 0
               ? "; a seed is given as --random-weights=SEED"
               : "";
  }

private:
  int argc;
  char **argv;
  int i = 0;
};

} // namespace sinter::rt

#endif // SINTER_LIB_RUNTIME_ARGS_H
