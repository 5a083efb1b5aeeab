// The tiny random-weight model, made once per test process from the pinned llama.cpp vocab.
#pragma once

#include <filesystem>

#include "inference/tiny_model.h"
#include "tests/support/temp_dir.h"

namespace tandem::testing {

inline const std::filesystem::path& tiny_model_path() {
  static TempDir dir;
  static const std::filesystem::path path = [] {
    auto p = dir / "tandem-tiny.gguf";
    inference::make_tiny_model(TANDEM_TEST_VOCAB, p);
    return p;
  }();
  return path;
}

}  // namespace tandem::testing
