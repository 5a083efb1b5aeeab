#include "common/folder_trust.h"

#include "common/files.h"

namespace tandem {
namespace {

constexpr const char* kTrusted = "Administrators, SYSTEM or the trainer's own account";

bool trusted(Principal p) {
  return p == Principal::administrators || p == Principal::system || p == Principal::this_service;
}

}  // namespace

std::vector<std::string> folder_trust_problems(const FolderFacts& facts) {
  std::vector<std::string> problems;
  const std::string folder = path_utf8(facts.folder);
  // An owner may rewrite the permissions whatever they say: the installer's DACL holds only
  // while a trusted account owns the folder.
  if (!trusted(facts.owner_principal)) {
    problems.push_back(folder + ": its owner is " + facts.owner + ", not " + kTrusted);
  }
  if (!facts.has_permissions) {
    problems.push_back(folder + ": it has no DACL (a NULL DACL allows everyone everything)");
  }
  for (const FolderGrant& grant : facts.grants) {
    // CREATOR OWNER becomes whoever creates an entry, who needed one of these rights first.
    if (grant.write_rights.empty() || trusted(grant.principal) ||
        grant.principal == Principal::creator_owner) {
      continue;
    }
    problems.push_back(folder + ": it allows " + grant.who + " " + grant.write_rights + "; only " +
                       kTrusted + " may change what is in it");
  }
  return problems;
}

}  // namespace tandem
