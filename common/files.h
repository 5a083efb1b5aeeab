// Small file helpers whose errors name the file and the reason.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace tandem {

// A file could not be written, replaced or moved (disk full, read-only folder, no permission):
// the disk's fault, not the content's, so a caller may keep what it has and try again later.
// The message names the file and the system's reason.
class WriteError : public Error {
 public:
  using Error::Error;
};

// Whole file as bytes; std::nullopt when it does not exist; InputError when it cannot be read.
std::optional<std::string> read_file_if_exists(const std::filesystem::path& file);
std::string read_file(const std::filesystem::path& file);

// Writes a temporary sibling, flushes it to disk and renames it over `file`, so a reader (or a
// crash at any moment) sees either the old content or the new, never a mix. WriteError on failure.
void write_file_atomically(const std::filesystem::path& file, std::string_view content);

// Appends `content` and flushes it to disk before returning (a journal line survives a crash
// once this returns). Throws WriteError naming the file.
void append_file_durably(const std::filesystem::path& file, std::string_view content);

// The one conversion between paths and the UTF-8 text Tandem keeps everywhere else (configs, job
// files, command lines, JSON, messages), the same on every platform. Never std::filesystem::path
// from a plain std::string: on Windows that reads it in the ANSI code page.
std::string path_utf8(const std::filesystem::path& file);
std::filesystem::path path_from_utf8(std::string_view utf8);

}  // namespace tandem
