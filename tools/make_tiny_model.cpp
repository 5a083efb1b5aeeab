// make-tiny-model VOCAB.gguf OUT.gguf [--embd N] [--layers N] [--heads N] [--ff N] [--seed N]
//                 [--q8]
// Builds the random-weight test model (see inference/tiny_model.h); the benchmarks make one sized
// like a small real model with the same tool.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>

#include <llama.h>

#include "inference/tiny_model.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: make-tiny-model VOCAB.gguf OUT.gguf [--embd N] [--layers N] [--heads N] "
                 "[--ff N] [--seed N] [--q8]\n");
    return 2;
  }
  tandem::inference::TinyModelSpec spec;
  std::uint32_t ff = 0;  // default: twice the embedding
  bool q8 = false;       // Q8_0 weights, as small real models ship (default: f32)
  for (int i = 3; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--q8") {
      q8 = true;
      continue;
    }
    if (++i >= argc) {
      std::fprintf(stderr, "make-tiny-model: %s needs a value\n", flag.c_str());
      return 2;
    }
    auto value = static_cast<std::uint32_t>(std::strtoul(argv[i], nullptr, 10));
    if (flag == "--embd") {
      spec.n_embd = value;
    } else if (flag == "--layers") {
      spec.n_layer = value;
    } else if (flag == "--heads") {
      spec.n_head = value;
    } else if (flag == "--ff") {
      ff = value;
    } else if (flag == "--seed") {
      spec.seed = value;
    } else {
      std::fprintf(stderr, "make-tiny-model: unknown option %s\n", flag.c_str());
      return 2;
    }
  }
  if (ff != 0 || spec.n_embd != tandem::inference::TinyModelSpec{}.n_embd) {
    spec.n_ff = ff != 0 ? ff : 2 * spec.n_embd;
  }
  try {
    auto start = std::chrono::steady_clock::now();
    const std::filesystem::path out = argv[2];
    if (!q8) {
      tandem::inference::make_tiny_model(argv[1], out, spec);
    } else {
      const std::filesystem::path f32 = out.string() + ".f32";
      tandem::inference::make_tiny_model(argv[1], f32, spec);
      auto params = llama_model_quantize_default_params();
      params.ftype = LLAMA_FTYPE_MOSTLY_Q8_0;
      const auto failed = llama_model_quantize(f32.string().c_str(), argv[2], &params);
      std::filesystem::remove(f32);
      if (failed != 0) {
        std::fprintf(stderr, "make-tiny-model: llama_model_quantize to Q8_0 failed\n");
        return 1;
      }
    }
    auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
    std::printf("wrote %s in %.0f ms\n", argv[2], ms.count());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make-tiny-model: %s\n", e.what());
    return 1;
  }
}
