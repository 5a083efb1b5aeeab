#include "inference/grammar.h"

#include <exception>

#include "common/error.h"
// llama.cpp's common library (its headers expose no JSON library of their own).
#include "json-schema-to-grammar.h"
#include "json.h"

namespace tandem::inference {
namespace {

// The prompt's last tokens that spell exactly `text`, as the model read them (tokenizing `text`
// alone can differ: an SPM tokenizer adds a space before text that starts the input).
std::vector<llama_token> tail_spelling(const Model& model, const std::vector<llama_token>& prompt,
                                       const std::string& text) {
  std::string spelled;
  std::size_t from = prompt.size();
  while (from > 0 && spelled.size() < text.size()) {
    --from;
    spelled.insert(0, model.token_bytes(prompt[from], /*special=*/true));
  }
  if (spelled != text) return {};
  return {prompt.begin() + static_cast<std::ptrdiff_t>(from), prompt.end()};
}

}  // namespace

std::string grammar_from_schema(const std::string& schema, const std::string& field) {
  try {
    return json_schema_to_grammar(common_json::parse(schema));
  } catch (const std::exception& e) {
    throw InputError(field, std::string("cannot be turned into a grammar: ") + e.what());
  }
}

std::shared_ptr<llama_sampler> make_grammar_sampler(const Grammar& grammar, const Model& model,
                                                    const std::vector<llama_token>& prompt) {
  const llama_vocab* vocab = model.vocab();
  if (grammar.gbnf.empty()) return nullptr;
  llama_sampler* raw = nullptr;
  if (grammar.lazy) {
    std::vector<const char*> patterns;
    for (const auto& p : grammar.trigger_patterns) patterns.push_back(p.c_str());
    raw = llama_sampler_init_grammar_lazy_patterns(vocab, grammar.gbnf.c_str(), "root",
                                                   patterns.data(), patterns.size(), nullptr, 0);
  } else {
    raw = llama_sampler_init_grammar(vocab, grammar.gbnf.c_str(), "root");
  }
  if (!raw) {
    throw InputError(grammar.field,
                     "is not a valid GBNF grammar with a 'root' rule (llama.cpp "
                     "could not parse it; its log says where)");
  }
  std::shared_ptr<llama_sampler> sampler(raw, llama_sampler_free);
  if (grammar.prefill.empty() || grammar.lazy) return sampler;
  const std::vector<llama_token> tokens = tail_spelling(model, prompt, grammar.prefill);
  if (tokens.empty()) {
    throw Error("the chat prompt does not end with the grammar's start '" + grammar.prefill + "'");
  }
  try {
    for (const llama_token t : tokens) llama_sampler_accept(sampler.get(), t);
  } catch (const std::exception& e) {
    throw InputError(grammar.field, std::string("its grammar does not accept the start of the "
                                                "assistant's turn: ") +
                                        e.what());
  }
  return sampler;
}

}  // namespace tandem::inference
