// Base64 (RFC 4648, with padding), as OpenAI's API encodes embeddings.
#pragma once

#include <string>
#include <string_view>

namespace tandem {

std::string base64_encode(std::string_view bytes);

}  // namespace tandem
