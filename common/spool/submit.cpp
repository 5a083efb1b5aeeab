#include "common/spool/submit.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <system_error>

#include "common/files.h"
#include "common/spool/job_spec.h"
#include "common/spool/layout.h"

namespace tandem::spool {
namespace fs = std::filesystem;
namespace {

constexpr int kMaxNames = 10000;

bool denied(const std::error_code& ec) {
  if (ec == std::errc::permission_denied) return true;
#ifdef _WIN32
  // ERROR_ACCESS_DENIED, when the library reports the Windows code without mapping it.
  if (ec.category() == std::system_category() && ec.value() == 5) return true;
#endif
  return false;
}

[[noreturn]] void fail(const std::error_code& ec, const std::string& what) {
  if (denied(ec)) throw AccessDenied(what + ": " + ec.message());
  throw Error(what + ": " + ec.message());
}

std::string random_tag() {
  std::random_device device;
  return std::to_string(device());
}

// `stem`, `stem-2`, `stem-3`, ...: the first whose <name>.json is free in `inbox`.
std::string free_inbox_name(const fs::path& inbox, std::string_view stem) {
  for (int n = 1; n <= kMaxNames; ++n) {
    std::string name = n == 1 ? std::string(stem) : std::string(stem) + "-" + std::to_string(n);
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(job_path(inbox, name, kJobExtension), ec))) return name;
  }
  throw Error("no free name for " + std::string(stem) + " in " + path_utf8(inbox));
}

}  // namespace

std::string absolute_job(const std::string& origin, std::string_view text,
                         const fs::path& base_dir) {
  return parse_job_spec(origin, text, base_dir, PathCheck::exists).with_absolute_paths(text);
}

std::optional<std::string> job_name_problem(std::string_view name) {
  if (name.empty()) return "a job name must not be empty";
  if (name.front() == '.') return "a job name must not start with '.' (the spool skips those)";
  if (name.back() == ' ' || name.back() == '.') return "a job name must not end in a space or '.'";
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 32 || std::strchr("<>:\"/\\|?*", c)) {
      return "a job name must not contain '" + std::string(1, c) + "'";
    }
  }
  return std::nullopt;
}

fs::path submit_job(const fs::path& root, std::string_view stem, std::string_view content) {
  const fs::path inbox = state_folder(root, JobState::queued);
  std::error_code ec;
  fs::create_directories(inbox, ec);
  if (ec) fail(ec, "cannot create " + path_utf8(inbox));

  const fs::path temp = inbox / ("." + std::string(stem) + "." + random_tag() + ".tmp");
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) {
      const int error = errno;
      const std::string what = "cannot write " + path_utf8(temp);
      if (error == EACCES || error == EPERM) {
        throw AccessDenied(what + ": " + std::strerror(error));
      }
      throw Error(what + ": " + std::strerror(error));
    }
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.flush();
    if (!out) {
      out.close();
      fs::remove(temp, ec);
      throw Error("cannot write " + path_utf8(temp));
    }
  }
  // A hard link fails when the name is taken, where a rename would replace it.
  for (int attempt = 0; attempt < kMaxNames; ++attempt) {
    const fs::path target = job_path(inbox, free_inbox_name(inbox, stem), kJobExtension);
    fs::create_hard_link(temp, target, ec);
    if (ec == std::errc::file_exists) continue;  // taken since we looked
    if (ec && !denied(ec) && !fs::exists(target)) {
      // No hard links on this volume: a rename, checked just before.
      ec.clear();
      fs::rename(temp, target, ec);
    }
    std::error_code ignored;
    fs::remove(temp, ignored);
    if (ec) fail(ec, "cannot place " + path_utf8(target));
    return target;
  }
  std::error_code ignored;
  fs::remove(temp, ignored);
  throw Error("no free name for " + std::string(stem) + " in " + path_utf8(inbox));
}

}  // namespace tandem::spool
