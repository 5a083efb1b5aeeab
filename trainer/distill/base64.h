// Base64 (RFC 4648, standard alphabet, with padding) for the weights in student model files.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tandem::distill {

std::string base64_encode(std::string_view bytes);
// std::nullopt for anything that is not canonical padded base64 (no whitespace allowed).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace tandem::distill
