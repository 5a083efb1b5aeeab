// Output constrained by a grammar: llama.cpp's GBNF sampler, and JSON Schema turned into GBNF by
// llama.cpp's common library (as llama-server does for response_format and tools).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <llama.h>

#include "inference/completion.h"
#include "inference/model.h"

namespace tandem::inference {

// The GBNF of JSON valid against `schema` (JSON text). InputError naming `field` when the schema
// is not JSON or uses what the converter cannot express.
std::string grammar_from_schema(const std::string& schema, const std::string& field);

// A grammar sampler ready for the first generated token: `prompt` (the request's tokens) must end
// with grammar.prefill, which the sampler is advanced past. InputError naming grammar.field when
// the grammar does not parse or its start does not match the prompt's end. Null for no grammar.
std::shared_ptr<llama_sampler> make_grammar_sampler(const Grammar& grammar, const Model& model,
                                                    const std::vector<llama_token>& prompt);

}  // namespace tandem::inference
