#include "common/keep_alive.h"

#include <charconv>
#include <cmath>

namespace tandem {
namespace {

constexpr std::int64_t kMaxSeconds = 365LL * 24 * 3600;  // a year: beyond it, say forever

std::optional<KeepAlive> from_seconds(double s) {
  if (!std::isfinite(s)) return std::nullopt;
  if (s < 0) return kKeepAliveForever;
  return KeepAlive(static_cast<std::int64_t>(std::min<double>(s, kMaxSeconds)));
}

}  // namespace

std::optional<KeepAlive> parse_keep_alive(const nlohmann::json& value, std::string& error) {
  error =
      "expected seconds (a number) or a duration like \"30s\", \"5m\", \"1h\" (negative: "
      "forever)";
  if (value.is_number()) return from_seconds(value.get<double>());
  if (!value.is_string()) return std::nullopt;
  const std::string text = value.get<std::string>();
  if (text.empty()) return std::nullopt;
  double number = 0;
  const char* end = text.data() + text.size();
  auto [rest, ec] = std::from_chars(text.data(), end, number);
  if (ec != std::errc()) return std::nullopt;
  const std::string unit(rest, end);
  double scale = 0;
  if (unit.empty() || unit == "s") {
    scale = 1;
  } else if (unit == "m") {
    scale = 60;
  } else if (unit == "h") {
    scale = 3600;
  } else {
    return std::nullopt;
  }
  return from_seconds(number * scale);
}

std::string keep_alive_text(KeepAlive k) {
  if (k < KeepAlive::zero()) return "forever";
  const auto s = k.count();
  if (s != 0 && s % 3600 == 0) return std::to_string(s / 3600) + "h";
  if (s != 0 && s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

}  // namespace tandem
