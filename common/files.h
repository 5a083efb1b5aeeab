// Small file helpers whose errors name the file and the reason.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace tandem {

// Whole file as bytes; std::nullopt when it does not exist; InputError when it cannot be read.
std::optional<std::string> read_file_if_exists(const std::filesystem::path& file);
std::string read_file(const std::filesystem::path& file);

// Writes a temporary sibling, flushes it to disk and renames it over `file`, so a reader (or a
// crash at any moment) sees either the old content or the new, never a mix.
void write_file_atomically(const std::filesystem::path& file, std::string_view content);

// Appends `content` and flushes it to disk before returning (a journal line survives a crash
// once this returns). Throws tandem::Error naming the file.
void append_file_durably(const std::filesystem::path& file, std::string_view content);

// A path as UTF-8 for messages and JSON, on every platform.
std::string path_utf8(const std::filesystem::path& file);

}  // namespace tandem
