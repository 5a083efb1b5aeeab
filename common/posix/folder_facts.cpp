#include "common/posix/folder_facts.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "common/files.h"
#include "common/posix/fd.h"

namespace tandem::posix {
namespace {

std::string user_name(uid_t uid) {
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(4096);
  const bool named = getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found;
  return (named ? std::string(entry.pw_name) + " " : std::string()) + "(uid " +
         std::to_string(uid) + ")";
}

std::string group_name(gid_t gid) {
  group entry{};
  group* found = nullptr;
  std::vector<char> buffer(4096);
  const bool named = getgrgid_r(gid, &entry, buffer.data(), buffer.size(), &found) == 0 && found;
  return "group " + (named ? std::string(entry.gr_name) + " " : std::string()) + "(gid " +
         std::to_string(gid) + ")";
}

}  // namespace

FolderFacts read_folder_facts(const std::filesystem::path& folder) {
  struct stat info {};
  if (::stat(folder.c_str(), &info) != 0) throw_errno("stat(" + path_utf8(folder) + ")");
  FolderFacts facts;
  facts.folder = folder;
  facts.owner = user_name(info.st_uid);
  if (info.st_uid == 0) {
    facts.owner_principal = Principal::system;
  } else if (info.st_uid == ::geteuid()) {
    facts.owner_principal = Principal::this_service;
  }
  if ((info.st_mode & S_IWGRP) != 0) {
    facts.grants.push_back({group_name(info.st_gid), Principal::other, "write (g+w)"});
  }
  if ((info.st_mode & S_IWOTH) != 0) {
    facts.grants.push_back({"others", Principal::other, "write (o+w)"});
  }
  return facts;
}

}  // namespace tandem::posix
