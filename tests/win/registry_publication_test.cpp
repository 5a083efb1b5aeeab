// The registry half of the discovery contract under Wine's real registry (HKLM, as the service).
#include "common/win32/registry_publication.h"

#include <gtest/gtest.h>

#include <string>

#include "common/error.h"
#include "common/win32/security.h"

namespace tandem::win32 {
namespace {

using discovery::Endpoint;
using discovery::State;

const std::string kKey =
    "SOFTWARE\\TandemTest\\Publication-" + std::to_string(GetCurrentProcessId());

Endpoint endpoint() {
  Endpoint e;
  e.port = 8031;
  e.url = "http://127.0.0.1:8031";
  e.pid = GetCurrentProcessId();
  e.instance_id = "{0F8FAD5B-D9CB-469F-A165-70867728950E}";
  e.pipe_name = "\\\\.\\pipe\\tandem-llm";
  e.model = "tandem-tiny";
  e.started_at = "2024-05-01T10:00:00Z";
  return e;
}

RegistryKey open_key() {
  auto key = RegistryKey::open(HKEY_LOCAL_MACHINE, kKey, KEY_READ);
  if (!key) throw Error("test key missing: " + kKey);
  return std::move(*key);
}

class RegistryPublicationTest : public ::testing::Test {
 protected:
  void SetUp() override { RegistryKey::delete_tree(HKEY_LOCAL_MACHINE, kKey); }
  void TearDown() override { RegistryKey::delete_tree(HKEY_LOCAL_MACHINE, kKey); }
};

TEST_F(RegistryPublicationTest, StartingWritesTheIdentityWithoutAnAddress) {
  RegistryPublication pub(kKey);
  pub.starting(endpoint());
  RegistryKey key = open_key();
  EXPECT_EQ(key.get_string("State"), "starting");
  EXPECT_EQ(key.get_dword("Pid"), GetCurrentProcessId());
  EXPECT_EQ(key.get_string("InstanceId"), "{0F8FAD5B-D9CB-469F-A165-70867728950E}");
  EXPECT_EQ(key.get_string("PipeName"), "\\\\.\\pipe\\tandem-llm");
  EXPECT_EQ(key.get_string("Model"), "tandem-tiny");
  EXPECT_EQ(key.get_string("StartedAt"), "2024-05-01T10:00:00Z");
  EXPECT_EQ(key.get_dword("ProtocolVersion"), 1u);
  EXPECT_FALSE(key.get_dword("Port"));
  EXPECT_FALSE(key.get_string("Url"));
}

TEST_F(RegistryPublicationTest, ReadyReadsBackCompleteWithStateReady) {
  RegistryPublication pub(kKey);
  pub.starting(endpoint());
  pub.ready(endpoint());
  auto e = read_publication(kKey);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->state, State::ready);
  EXPECT_EQ(e->port, 8031);
  EXPECT_EQ(e->url, "http://127.0.0.1:8031");
  EXPECT_EQ(e->pid, GetCurrentProcessId());
  EXPECT_EQ(e->instance_id, "{0F8FAD5B-D9CB-469F-A165-70867728950E}");
  EXPECT_EQ(e->model, "tandem-tiny");
  EXPECT_EQ(e->protocol_version, 1);
}

TEST_F(RegistryPublicationTest, AFailedReadyLeavesStateStarting) {
  // State is written last, so a ready() that fails never shows `ready`.
  RegistryPublication pub(kKey);
  pub.starting(endpoint());
  Endpoint no_port = endpoint();
  no_port.port = 0;
  EXPECT_THROW(pub.ready(no_port), Error);
  EXPECT_EQ(open_key().get_string("State"), "starting");
  EXPECT_FALSE(open_key().get_dword("Port"));
}

TEST_F(RegistryPublicationTest, WithdrawDeletesTheAddressAndEndsStopped) {
  RegistryPublication pub(kKey);
  pub.ready(endpoint());
  pub.withdraw();
  RegistryKey key = open_key();
  EXPECT_EQ(key.get_string("State"), "stopped");
  EXPECT_FALSE(key.get_dword("Port"));
  EXPECT_FALSE(key.get_string("Url"));
  EXPECT_EQ(key.get_string("InstanceId"), "{0F8FAD5B-D9CB-469F-A165-70867728950E}");
  auto e = read_publication(kKey);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->state, State::stopped);
  EXPECT_EQ(e->port, 0);
}

TEST_F(RegistryPublicationTest, ANewStartClearsAStaleAddress) {
  RegistryPublication(kKey).ready(endpoint());  // a run that crashed while ready
  RegistryPublication pub(kKey);
  Endpoint next = endpoint();
  next.instance_id = "{next}";
  pub.starting(next);
  auto e = read_publication(kKey);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->state, State::starting);
  EXPECT_EQ(e->instance_id, "{next}");
  EXPECT_FALSE(open_key().get_dword("Port"));
}

// The ACEs only: Windows reports the DACL as "D:P(...)"; Wine keeps the ACEs but drops the
// protected flag of registry keys, reporting "D:(...)".
std::string aces(const std::string& sddl) {
  for (std::string prefix : {"D:P", "D:"}) {
    if (sddl.rfind(prefix, 0) == 0) return sddl.substr(prefix.size());
  }
  return "not a DACL: " + sddl;
}

TEST_F(RegistryPublicationTest, TheKeyCarriesTheDaclEvenIfItExistedBefore) {
  const std::string expected = "(A;OICI;KA;;;SY)(A;OICI;KA;;;BA)(A;OICI;KR;;;BU)";
  RegistryKey existing = RegistryKey::create(HKEY_LOCAL_MACHINE, kKey);  // default DACL
  ASSERT_NE(aces(dacl_sddl(existing.get(), SE_REGISTRY_KEY, kKey)), expected)
      << "the default DACL already matches: this test would prove nothing";
  RegistryPublication pub(kKey);
  EXPECT_EQ(aces(dacl_sddl(pub.key().get(), SE_REGISTRY_KEY, kKey)), expected);
}

TEST_F(RegistryPublicationTest, NothingPublishedIsNullopt) {
  EXPECT_FALSE(read_publication(kKey));
  RegistryKey::create(HKEY_LOCAL_MACHINE, kKey);
  EXPECT_FALSE(read_publication(kKey)) << "a key without State is not a publication";
}

TEST_F(RegistryPublicationTest, AForeignStateIsAnErrorNamingKeyAndValue) {
  RegistryKey::create(HKEY_LOCAL_MACHINE, kKey).set_string("State", "running");
  try {
    read_publication(kKey);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("HKLM\\" + kKey + ": value 'State': ", 0), 0u)
        << e.what();
  }
}

}  // namespace
}  // namespace tandem::win32
