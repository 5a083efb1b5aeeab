// Process-wide llama.cpp set-up, shared by the server (inference/) and the trainer's finetune
// jobs: backend initialised once, its log routed into ours.
#pragma once

#include <thread>

namespace tandem::llama {

void ensure_llama_backend();

// Threads for decoding: what was asked (0 means all cores), never above the core count —
// on 2 cores, 4 busy-waiting threads ran over 2,000x slower (TOOLCHAIN.md).
int effective_threads(int requested, unsigned cores = std::thread::hardware_concurrency());

}  // namespace tandem::llama
