// posix::read_folder_facts with the trainer's rule (common/folder_trust.h): a jobs folder this
// user owns is trusted while only its owner may write it.
#include "common/posix/folder_facts.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/files.h"
#include "tests/support/temp_dir.h"

namespace tandem {
namespace {

TEST(PosixFolderFacts, AFolderOnlyItsOwnerWritesIsTrusted) {
  testing::TempDir dir;
  ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
  const FolderFacts facts = posix::read_folder_facts(dir.path());
  EXPECT_EQ(facts.owner_principal, ::geteuid() == 0 ? Principal::system : Principal::this_service)
      << facts.owner;
  EXPECT_NE(facts.owner.find("(uid " + std::to_string(::geteuid()) + ")"), std::string::npos)
      << facts.owner;
  EXPECT_TRUE(facts.grants.empty());
  EXPECT_TRUE(folder_trust_problems(facts).empty());
}

TEST(PosixFolderFacts, GroupAndWorldWritableFoldersAreRefusedNamingWho) {
  testing::TempDir dir;
  ASSERT_EQ(::chmod(dir.path().c_str(), 0777), 0);
  const auto problems = folder_trust_problems(posix::read_folder_facts(dir.path()));
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_NE(problems[0].find(path_utf8(dir.path()) + ": it allows group "), std::string::npos)
      << problems[0];
  EXPECT_NE(problems[0].find("write (g+w)"), std::string::npos) << problems[0];
  EXPECT_NE(problems[1].find("it allows others write (o+w)"), std::string::npos) << problems[1];
}

TEST(PosixFolderFacts, AMissingFolderIsAnErrorNamingTheCall) {
  testing::TempDir dir;
  try {
    posix::read_folder_facts(dir.path() / "missing");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("stat(" + path_utf8(dir.path() / "missing") + ")"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace tandem
