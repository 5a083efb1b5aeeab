// Runs only in the Windows build, under Wine on Linux: real Win32 calls, real registry.
#include <windows.h>

#include <gtest/gtest.h>

#include <string>

#include "common/win32/access.h"
#include "common/win32/error.h"
#include "common/win32/handle.h"
#include "common/win32/registry.h"
#include "common/win32/service_sid.h"
#include "common/win32/strings.h"

namespace tandem::win32 {
namespace {

const std::string kTestKey = "Software\\TandemTest\\" + std::to_string(GetCurrentProcessId());

TEST(Win32, RunsOnARealWin32Implementation) {
  // Under Wine, ntdll exports wine_get_version; on Windows it does not. Either way the call
  // below goes through the real loader, which a Linux process could never do.
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  ASSERT_NE(ntdll, nullptr);
  using version_fn = const char* (*)();
  auto wine = reinterpret_cast<version_fn>(
      reinterpret_cast<void*>(GetProcAddress(ntdll, "wine_get_version")));
  if (wine) std::printf("running under Wine %s\n", wine());
  OSVERSIONINFOW info{};
  info.dwOSVersionInfoSize = sizeof(info);
  EXPECT_TRUE(GetVersionExW(&info));
  EXPECT_GE(info.dwMajorVersion, 6u);
}

TEST(Win32Error, NamesTheCallAndTheSystemText) {
  FileHandle f(CreateFileW(L"C:\\definitely\\not\\here.txt", GENERIC_READ, 0, nullptr,
                           OPEN_EXISTING, 0, nullptr));
  ASSERT_FALSE(f);
  try {
    throw_last_error("CreateFileW(C:\\definitely\\not\\here.txt)");
  } catch (const Win32Error& e) {
    std::string what = e.what();
    EXPECT_EQ(e.code(), ERROR_PATH_NOT_FOUND) << what;
    EXPECT_EQ(what.rfind("CreateFileW(C:\\definitely\\not\\here.txt) failed: ", 0), 0u) << what;
    EXPECT_EQ(what.find("unknown error"), std::string::npos) << what;
    EXPECT_NE(what.find("(error 3)"), std::string::npos) << what;
  }
}

TEST(Strings, RoundTripUtf8) {
  const std::string text = "Tandem \xc3\xa9\xe2\x82\xac \xf0\x9f\x9a\x80";  // é € rocket
  EXPECT_EQ(narrow(widen(text)), text);
  EXPECT_EQ(widen("\xc3\xa9"), std::wstring(L"\u00e9"));
}

TEST(Handle, ClosesOnScopeExitAndMoves) {
  HANDLE raw = nullptr;
  {
    Handle event(CreateEventW(nullptr, TRUE, FALSE, nullptr));
    ASSERT_TRUE(event);
    raw = event.get();
    Handle moved = std::move(event);
    EXPECT_FALSE(event);
    EXPECT_EQ(moved.get(), raw);
    DWORD flags = 0;
    EXPECT_TRUE(GetHandleInformation(raw, &flags));
  }
  DWORD flags = 0;
  EXPECT_FALSE(GetHandleInformation(raw, &flags));
  EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_INVALID_HANDLE));
}

class RegistryTest : public ::testing::Test {
 protected:
  void TearDown() override { RegistryKey::delete_tree(HKEY_CURRENT_USER, kTestKey); }
};

TEST_F(RegistryTest, ValuesRoundTripAndMissingOnesAreEmpty) {
  auto key = RegistryKey::create(HKEY_CURRENT_USER, kTestKey);
  key.set_string("Url", "http://127.0.0.1:8031");
  key.set_dword("Port", 8031);
  auto again = RegistryKey::open(HKEY_CURRENT_USER, kTestKey);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->get_string("Url"), "http://127.0.0.1:8031");
  EXPECT_EQ(again->get_dword("Port"), 8031u);
  EXPECT_FALSE(again->get_string("Missing"));
  key.delete_value("Port");
  key.delete_value("Port");  // twice is fine
  EXPECT_FALSE(again->get_dword("Port"));
}

TEST_F(RegistryTest, WrongTypeIsAnErrorNamingTheValue) {
  auto key = RegistryKey::create(HKEY_CURRENT_USER, kTestKey);
  key.set_string("Port", "not a number");
  try {
    key.get_dword("Port");
    FAIL();
  } catch (const Win32Error& e) {
    EXPECT_NE(std::string(e.what()).find("RegGetValueW(" + kTestKey + "\\Port)"), std::string::npos)
        << e.what();
  }
}

TEST_F(RegistryTest, ChangeNotificationFiresOnWrite) {
  auto key = RegistryKey::create(HKEY_CURRENT_USER, kTestKey);
  Handle changed(CreateEventW(nullptr, TRUE, FALSE, nullptr));
  key.notify_change(changed.get());
  EXPECT_EQ(WaitForSingleObject(changed.get(), 0), static_cast<DWORD>(WAIT_TIMEOUT));
  RegistryKey::create(HKEY_CURRENT_USER, kTestKey).set_string("State", "ready");
  EXPECT_EQ(WaitForSingleObject(changed.get(), 5000), WAIT_OBJECT_0);
}

// Issue 17: Wine grants a key whatever it asks for; Windows refuses a write through a key opened
// for reading. The wrapper refuses it here too, before the call, and nothing is written.
TEST_F(RegistryTest, ACallTheKeysRightsDoNotCoverIsRefusedBeforeItIsMade) {
  RegistryKey::create(HKEY_CURRENT_USER, kTestKey).set_string("State", "ready");
  auto reader = RegistryKey::open(HKEY_CURRENT_USER, kTestKey, KEY_READ);
  ASSERT_TRUE(reader);
  EXPECT_EQ(reader->get_string("State"), "ready");
  try {
    reader->set_string("State", "stopping");
    FAIL() << "wrote through a key opened with KEY_READ";
  } catch (const AccessRightMissing& e) {
    EXPECT_EQ(e.code(), static_cast<std::uint32_t>(ERROR_ACCESS_DENIED));
    EXPECT_TRUE(e.access_denied());
    EXPECT_EQ(std::string(e.what()), "RegSetValueExW(" + kTestKey +
                                         "\\State) needs KEY_SET_VALUE, which its handle was not "
                                         "opened with (it has KEY_QUERY_VALUE | "
                                         "KEY_ENUMERATE_SUB_KEYS | KEY_NOTIFY | READ_CONTROL); "
                                         "Windows refuses such a call with access denied");
  }
  EXPECT_THROW(reader->delete_value("State"), AccessRightMissing);
  EXPECT_EQ(reader->get_string("State"), "ready");

  auto notifier = RegistryKey::open(HKEY_CURRENT_USER, kTestKey, KEY_NOTIFY);
  ASSERT_TRUE(notifier);
  EXPECT_THROW(notifier->get_string("State"), AccessRightMissing);
  auto writer = RegistryKey::open(HKEY_CURRENT_USER, kTestKey, KEY_SET_VALUE);
  ASSERT_TRUE(writer);
  EXPECT_THROW(writer->notify_change(nullptr), AccessRightMissing);
}

TEST_F(RegistryTest, OpenMissingKeyIsNullopt) {
  EXPECT_FALSE(RegistryKey::open(HKEY_CURRENT_USER, kTestKey + "\\none"));
  RegistryKey::delete_tree(HKEY_CURRENT_USER, kTestKey + "\\none");  // no error
}

TEST(AccessRights, GenericRightsMapAsDocumentedAndMaximumAllowedPassesEveryCheck) {
  const AccessRights read(kServiceRights, GENERIC_READ);
  EXPECT_TRUE(read.has(SERVICE_QUERY_STATUS | SERVICE_QUERY_CONFIG));
  EXPECT_FALSE(read.has(SERVICE_START));
  EXPECT_TRUE(AccessRights(kServiceRights, GENERIC_EXECUTE).has(SERVICE_START | SERVICE_STOP));
  EXPECT_TRUE(AccessRights(kServiceRights, SERVICE_ALL_ACCESS).has(GENERIC_ALL));
  EXPECT_FALSE(AccessRights(kRegistryKeyRights, KEY_READ).has(GENERIC_WRITE));
  EXPECT_TRUE(AccessRights(kRegistryKeyRights, MAXIMUM_ALLOWED).has(KEY_ALL_ACCESS));
  EXPECT_EQ(read.describe(SERVICE_START | DELETE | 0x10000000),
            "SERVICE_START | DELETE | 0x10000000");
  try {
    AccessRights(kServiceRights, SERVICE_CHANGE_CONFIG | SERVICE_QUERY_CONFIG)
        .require(SERVICE_CHANGE_CONFIG | SERVICE_START, "ChangeServiceConfig2W(X)");
    FAIL() << "no SERVICE_START, yet the check passed";
  } catch (const AccessRightMissing& e) {
    EXPECT_EQ(std::string(e.what()),
              "ChangeServiceConfig2W(X) needs SERVICE_START, which its handle was not opened with "
              "(it has SERVICE_QUERY_CONFIG | SERVICE_CHANGE_CONFIG); Windows refuses such a call "
              "with access denied");
  }
}

}  // namespace
}  // namespace tandem::win32

TEST(ServiceSid, MatchesTheSidWindowsGivesTrustedInstaller) {
  // The one service SID every Windows machine shows in its file ACLs.
  EXPECT_EQ(tandem::win32::service_sid("TrustedInstaller"),
            "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464");
  EXPECT_EQ(tandem::win32::service_sid("trustedinstaller"),
            tandem::win32::service_sid("TrustedInstaller"));
  EXPECT_NE(tandem::win32::service_sid("TandemLlm"), tandem::win32::service_sid("TandemTrainer"));
}

TEST(ServiceSid, WineIsDetectedOnlyUnderWine) {
  // The build knows where its tests run: under Wine when cross-compiled (the MinGW preset's
  // CMAKE_CROSSCOMPILING_EMULATOR), on Windows itself in the MSVC workflow, where it is false.
  EXPECT_EQ(tandem::win32::running_on_wine(), TANDEM_TESTS_UNDER_WINE != 0);
}
