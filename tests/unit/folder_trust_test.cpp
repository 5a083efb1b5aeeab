// The trainer's rule for its jobs folders (common/folder_trust.h), on made-up owner and DACL
// facts: Windows' own facts come from win32/folder_facts (folder_facts_test, under Wine and in
// the Windows workflow), Linux's from posix/folder_facts (posix_test).
#include "common/folder_trust.h"

#include <gtest/gtest.h>

namespace tandem {
namespace {

// What the installer leaves: Administrators own it; SYSTEM, Administrators and the trainer may
// write, Users only read.
FolderFacts installed() {
  FolderFacts f;
  f.folder = "C:/ProgramData/Tandem/jobs/inbox";
  f.owner = "BUILTIN\\Administrators (S-1-5-32-544)";
  f.owner_principal = Principal::administrators;
  f.grants = {
      {"NT AUTHORITY\\SYSTEM (S-1-5-18)", Principal::system, "FILE_ADD_FILE | WRITE_DAC"},
      {"BUILTIN\\Administrators (S-1-5-32-544)", Principal::administrators, "FILE_ADD_FILE"},
      {"BUILTIN\\Users (S-1-5-32-545)", Principal::other, ""},
      {"NT SERVICE\\TandemTrainer (S-1-5-80-1)", Principal::this_service, "FILE_ADD_FILE"},
  };
  return f;
}

TEST(FolderTrust, TheInstallersFolderIsTrusted) {
  EXPECT_TRUE(folder_trust_problems(installed()).empty());
}

TEST(FolderTrust, SystemOrTheTrainerItselfMayOwnIt) {
  for (Principal owner : {Principal::system, Principal::this_service}) {
    FolderFacts f = installed();
    f.owner_principal = owner;
    EXPECT_TRUE(folder_trust_problems(f).empty()) << static_cast<int>(owner);
  }
}

TEST(FolderTrust, AFolderAUserOwnsIsRefusedNamingTheFolderAndTheOwner) {
  FolderFacts f = installed();
  f.owner = "PC\\alice (S-1-5-21-1-2-3-1001)";
  f.owner_principal = Principal::other;
  const auto problems = folder_trust_problems(f);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0],
            "C:/ProgramData/Tandem/jobs/inbox: its owner is PC\\alice (S-1-5-21-1-2-3-1001), not "
            "Administrators, SYSTEM or the trainer's own account");
}

TEST(FolderTrust, AnEntryLettingOthersWriteIsRefusedNamingItsRights) {
  FolderFacts f = installed();
  // What a folder inheriting %ProgramData%'s DACL gets: Users may create files and folders.
  f.grants.push_back(
      {"BUILTIN\\Users (S-1-5-32-545)", Principal::other, "FILE_ADD_FILE | FILE_ADD_SUBDIRECTORY"});
  const auto problems = folder_trust_problems(f);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0],
            "C:/ProgramData/Tandem/jobs/inbox: it allows BUILTIN\\Users (S-1-5-32-545) "
            "FILE_ADD_FILE | FILE_ADD_SUBDIRECTORY; only Administrators, SYSTEM or the trainer's "
            "own account may change what is in it");
}

TEST(FolderTrust, CreatorOwnerIsNoOneElse) {
  FolderFacts f = installed();
  f.grants.push_back({"CREATOR OWNER (S-1-3-0)", Principal::creator_owner, "FILE_ADD_FILE"});
  EXPECT_TRUE(folder_trust_problems(f).empty());
}

TEST(FolderTrust, NoDaclAndEveryFaultAreAllNamed) {
  FolderFacts f = installed();
  f.owner_principal = Principal::other;
  f.has_permissions = false;
  f.grants = {{"others", Principal::other, "write (o+w)"}};
  const auto problems = folder_trust_problems(f);
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_NE(problems[1].find("it has no DACL"), std::string::npos) << problems[1];
  EXPECT_NE(problems[2].find("it allows others write (o+w)"), std::string::npos) << problems[2];
}

}  // namespace
}  // namespace tandem
