// win32::read_folder_facts: the owner and DACL the trainer checks its jobs folders by
// (common/folder_trust.h). Wine keeps no owners or file DACLs: it answers every folder with its
// user as owner and a DACL of its own making, whatever SetSecurityInfo was given. What Wine can
// show is asserted everywhere; what only Windows enforces is its own test, which Wine skips and
// the Windows workflow (`ctest -L win`) runs.
#include "common/win32/folder_facts.h"

#include <gtest/gtest.h>

#include "common/files.h"
#include "common/win32/error.h"
#include "common/win32/security.h"
#include "common/win32/service_sid.h"
#include "tests/support/temp_dir.h"

namespace tandem::win32 {
namespace {

std::string all(const std::vector<std::string>& problems) {
  std::string text;
  for (const auto& p : problems) text += p + "\n";
  return text;
}

TEST(FolderFacts, AFolderThisProcessMadeIsItsOwnAndTrusted) {
  testing::TempDir dir;
  const FolderFacts facts = read_folder_facts(dir.path());
  EXPECT_EQ(facts.folder, dir.path());
  // Windows makes an elevated administrator's folders Administrators'; Wine its one user's.
  EXPECT_TRUE(facts.owner_principal == Principal::administrators ||
              facts.owner_principal == Principal::this_service)
      << facts.owner;
  EXPECT_NE(facts.owner.find("(S-1-"), std::string::npos) << facts.owner;
  EXPECT_TRUE(facts.has_permissions);
  EXPECT_FALSE(facts.grants.empty());
  EXPECT_TRUE(folder_trust_problems(facts).empty()) << all(folder_trust_problems(facts));
}

TEST(FolderFacts, AFolderThatIsMissingIsAnErrorNamingTheCallAndTheFolder) {
  testing::TempDir dir;
  try {
    read_folder_facts(dir.path() / "missing");
    FAIL() << "no error";
  } catch (const Win32Error& e) {
    EXPECT_NE(std::string(e.what()).find("GetNamedSecurityInfoW(" +
                                         path_utf8(dir.path() / "missing") + ")"),
              std::string::npos)
        << e.what();
  }
}

TEST(FolderFacts, UsersAllowedToWriteAreNamedWithTheirRights) {
  if (running_on_wine()) {
    GTEST_SKIP() << "Wine keeps no file DACLs: only the Windows workflow shows a DACL that lets "
                    "Users write refused";
  }
  testing::TempDir dir;
  // What %ProgramData% gives a folder a user makes there: Users may add files and folders.
  secure_folder(dir.path(), "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200af;;;BU)");
  const FolderFacts facts = read_folder_facts(dir.path());
  EXPECT_EQ(facts.owner_principal, Principal::administrators) << facts.owner;
  const auto problems = folder_trust_problems(facts);
  ASSERT_EQ(problems.size(), 1u) << all(problems);
  EXPECT_NE(problems[0].find("(S-1-5-32-545) FILE_ADD_FILE | FILE_ADD_SUBDIRECTORY"),
            std::string::npos)
      << problems[0];
}

}  // namespace
}  // namespace tandem::win32
