#include "inference/model.h"

#include <algorithm>
#include <exception>
#include <limits>

#include "common/error.h"
#include "common/files.h"
#include "common/llama/llama_backend.h"
#include "inference/gpu_devices.h"
#include "inference/prompt_text.h"
#include "inference/tiny_model.h"
#include "inference/utf8.h"

namespace tandem::inference {
namespace {

std::string meta_string(const llama_model* model, const char* key) {
  std::string value(256, '\0');
  int32_t n = llama_model_meta_val_str(model, key, value.data(), value.size());
  if (n < 0) return {};
  if (static_cast<std::size_t>(n) >= value.size()) {
    value.resize(static_cast<std::size_t>(n) + 1);
    n = llama_model_meta_val_str(model, key, value.data(), value.size());
  }
  value.resize(static_cast<std::size_t>(std::max(n, 0)));
  return value;
}

}  // namespace

Model::Model(const std::filesystem::path& path, const std::function<void(float)>& progress,
             const OffloadPlan& offload) {
  llama::ensure_llama_backend();
  const std::string file = path_utf8(path);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw Error("model file not found: " + file);
  }
  struct Progress {
    const std::function<void(float)>* report;
    std::exception_ptr error;
  } state{&progress, nullptr};
  llama_model_params mp = llama_model_default_params();
  mp.progress_callback_user_data = &state;
  // Always ours, even without a reporter: llama.cpp's default prints dots to stderr.
  mp.progress_callback = [](float p, void* data) {
    auto* s = static_cast<Progress*>(data);
    if (!*s->report) return true;
    try {
      (*s->report)(p);
      return true;
    } catch (...) {
      s->error = std::current_exception();
      return false;  // cancels the load
    }
  };
  // Always an explicit list, so llama.cpp uses the devices the plan counted, split as it says.
  std::vector<ggml_backend_dev_t> devices;
  std::vector<float> split(llama_max_devices(), 0.0f);
  for (std::size_t i = 0; i < offload.devices.size() && i < split.size(); ++i) {
    ggml_backend_dev_t dev = find_gpu_device(offload.devices[i].name);
    if (!dev) throw Error("GPU " + offload.devices[i].name + " is gone");
    devices.push_back(dev);
    split[i] = offload.split[i];
  }
  devices.push_back(nullptr);
  mp.devices = devices.data();
  mp.n_gpu_layers = offload.n_gpu_layers;
  mp.split_mode = LLAMA_SPLIT_MODE_LAYER;
  mp.tensor_split = split.data();
  model_.reset(llama_model_load_from_file(file.c_str(), mp));
  if (state.error) std::rethrow_exception(state.error);
  if (!model_) {
    throw Error("cannot load model " + file +
                ": not a GGUF model llama.cpp can read (see the log for its reason)");
  }
  vocab_ = llama_model_get_vocab(model_.get());
  n_vocab_ = llama_vocab_n_tokens(vocab_);
  general_name_ = meta_string(model_.get(), "general.name");
  id_ = general_name_.empty() ? path_utf8(path.stem()) : general_name_;
  chat_.emplace(model_.get());
}

bool Model::is_test_model() const {
  return general_name_ == kTinyModelName;
}

std::string Model::meta(const std::string& key) const {
  return meta_string(model_.get(), key.c_str());
}

std::vector<llama_token> Model::tokenize(const std::string& text, bool add_special,
                                         bool parse_special) const {
  std::vector<llama_token> tokens(text.size() + 2);
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int32_t n =
        llama_tokenize(vocab_, text.data(), static_cast<int32_t>(text.size()), tokens.data(),
                       static_cast<int32_t>(tokens.size()), add_special, parse_special);
    if (n >= 0) {
      tokens.resize(static_cast<std::size_t>(n));
      return tokens;
    }
    if (n == std::numeric_limits<int32_t>::min()) break;  // overflow of int32_t
    tokens.resize(static_cast<std::size_t>(-n));
  }
  throw InputError("prompt", "cannot be tokenized (" + std::to_string(text.size()) + " bytes)");
}

std::string Model::token_bytes(llama_token token, bool special) const {
  std::string out(32, '\0');
  int32_t n =
      llama_token_to_piece(vocab_, token, out.data(), static_cast<int32_t>(out.size()), 0, special);
  if (n < 0) {
    out.resize(static_cast<std::size_t>(-n));
    n = llama_token_to_piece(vocab_, token, out.data(), static_cast<int32_t>(out.size()), 0,
                             special);
  }
  out.resize(static_cast<std::size_t>(std::max(n, 0)));
  return out;
}

std::vector<Piece> Model::prompt_pieces(const std::string& prompt,
                                        const std::vector<llama_token>& tokens) const {
  // Special tokens spelled out, as the prompt holds them (a chat template's markers); those the
  // tokenizer added itself are not in the prompt.
  std::vector<std::string> rendered;
  rendered.reserve(tokens.size());
  for (const llama_token token : tokens) rendered.push_back(token_bytes(token, true));
  if (llama_vocab_get_add_bos(vocab_) && tokens.front() == llama_vocab_bos(vocab_)) {
    rendered.front().clear();
  }
  if (llama_vocab_get_add_eos(vocab_) && tokens.back() == llama_vocab_eos(vocab_)) {
    rendered.back().clear();
  }
  std::vector<Piece> pieces;
  pieces.reserve(tokens.size());
  for (auto& text : prompt_token_texts(prompt, rendered)) {
    pieces.push_back({std::move(text), std::numeric_limits<float>::quiet_NaN(), {}, 1});
  }
  return pieces;
}

std::vector<TokenLogprob> Model::alternatives(const TokenLogprobs& lp) const {
  std::vector<TokenLogprob> top;
  top.reserve(lp.top.size());
  for (const auto& [alt, logprob] : lp.top) {
    top.push_back({to_valid_utf8(token_bytes(alt)), logprob});
  }
  return top;
}

}  // namespace tandem::inference
