// make-tiny-model VOCAB.gguf OUT.gguf [--embd N] [--layers N] [--seed N]
// Builds the random-weight test model (see inference/tiny_model.h).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "inference/tiny_model.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: make-tiny-model VOCAB.gguf OUT.gguf [--embd N] [--layers N] "
                 "[--seed N]\n");
    return 2;
  }
  tandem::inference::TinyModelSpec spec;
  for (int i = 3; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    auto value = static_cast<std::uint32_t>(std::strtoul(argv[i + 1], nullptr, 10));
    if (flag == "--embd") {
      spec.n_embd = value;
      spec.n_ff = 2 * value;
    } else if (flag == "--layers") {
      spec.n_layer = value;
    } else if (flag == "--seed") {
      spec.seed = value;
    } else {
      std::fprintf(stderr, "make-tiny-model: unknown option %s\n", flag.c_str());
      return 2;
    }
  }
  try {
    auto start = std::chrono::steady_clock::now();
    tandem::inference::make_tiny_model(argv[1], argv[2], spec);
    auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
    std::printf("wrote %s in %.0f ms\n", argv[2], ms.count());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make-tiny-model: %s\n", e.what());
    return 1;
  }
}
