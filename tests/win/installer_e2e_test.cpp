// Tandem.msi and `tandemctl install` in a Wine prefix, with the real msiexec, SCM, registry and
// pipes: install starts both services and a demo job finishes; uninstall removes services,
// binaries and publication keys and keeps user data; a reinstall and a major upgrade keep the
// admin's config; `tandemctl install` registers exactly what the MSI does.
#include <windows.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/files.h"
#include "common/http_client.h"
#include "common/paths.h"
#include "common/win32/error.h"
#include "common/win32/event_log_source.h"
#include "common/win32/registry.h"
#include "common/win32/registry_publication.h"
#include "common/win32/scm.h"
#include "common/win32/security.h"
#include "common/win32/service_sid.h"
#include "tests/support/loopback_socket.h"
#include "tests/support/service_e2e.h"
#include "tests/support/win_process.h"

#include "event_messages.h"  // generated from common/win32/event_messages.mc

namespace tandem {
namespace {

using namespace std::chrono_literals;
using testing::TrainerValues;
using testing::wait_trainer;
using testing::windows_path;
namespace fs = std::filesystem;

constexpr const char* kServices[] = {"TandemLlm", "TandemTrainer"};
const fs::path kInstallDir = "C:\\Program Files\\Tandem";

// A machine without a GPU driver, as Wine makes one (issue 18): Wine's own vulkan-1.dll disabled
// for tandem-llm.exe by its per-program DllOverrides, which the service reads as this user does.
// On Windows the key means nothing; the machine has a driver or not.
class NoVulkanDriverForTheServer {
 public:
  static constexpr const char* kKey = "Software\\Wine\\AppDefaults\\tandem-llm.exe\\DllOverrides";
  NoVulkanDriverForTheServer() {
    if (active()) win32::RegistryKey::create(HKEY_CURRENT_USER, kKey).set_string("vulkan-1", "");
  }
  ~NoVulkanDriverForTheServer() {
    if (active()) win32::RegistryKey::delete_tree(HKEY_CURRENT_USER, kKey);
  }
  static bool active() { return win32::running_on_wine(); }
};

// msiexec /qn prints nothing; its log goes to a file read on failure. Its helpers outlive it
// (Wine's custom-action server), so it runs detached from any pipe of ours.
struct MsiResult {
  DWORD exit_code = 0;
  std::string log;
};
MsiResult msiexec(const std::string& arguments) {
  const fs::path log = fs::temp_directory_path() / "tandem-msiexec.log";
  std::error_code ignored;
  fs::remove(log, ignored);
  MsiResult result;
  result.exit_code =
      testing::run_detached("msiexec " + arguments + " /l*v \"" + log.string() + "\"", 180s);
  if (result.exit_code != 0 && fs::exists(log, ignored)) {
    const std::string text = read_file(log);  // UTF-16 from Windows Installer: still greppable
    result.log = text.substr(text.size() > 8000 ? text.size() - 8000 : 0);
  }
  return result;
}

testing::ProcessResult tandemctl(const std::string& arguments) {
  return testing::run_process("\"" + (kInstallDir / "tandemctl.exe").string() + "\" " + arguments,
                              180s);
}

std::optional<win32::Service> find_service(const char* name) {
  static auto scm = win32::ScManager::open();
  return win32::Service::try_open(scm, name, SERVICE_QUERY_STATUS | SERVICE_QUERY_CONFIG);
}

// Issue 17, defect 2: the installer registers each service's Event Log source (a virtual account
// may not: the services only open theirs), with the service's .exe as the message file, whose
// table gives each record's text back.
void expect_event_sources(const fs::path& dir) {
  const std::pair<const char*, const char*> sources[] = {{"TandemLlm", "tandem-llm.exe"},
                                                         {"TandemTrainer", "tandem-trainer.exe"}};
  for (const auto& [name, exe] : sources) {
    auto key = win32::RegistryKey::open(HKEY_LOCAL_MACHINE,
                                        std::string(win32::kEventLogApplicationKey) + "\\" + name,
                                        KEY_QUERY_VALUE);
    ASSERT_TRUE(key) << name << " has no Event Log source";
    EXPECT_EQ(key->get_string("EventMessageFile"), (dir / exe).string()) << name;
    EXPECT_EQ(key->get_dword("TypesSupported"), 7u) << name;
    HMODULE module = LoadLibraryExW((dir / exe).c_str(), nullptr,
                                    LOAD_LIBRARY_AS_DATAFILE | LOAD_LIBRARY_AS_IMAGE_RESOURCE);
    ASSERT_NE(module, nullptr) << exe;
    DWORD_PTR inserts[] = {reinterpret_cast<DWORD_PTR>(L"disk full")};
    wchar_t text[64] = {};
    const DWORD n = FormatMessageW(FORMAT_MESSAGE_FROM_HMODULE | FORMAT_MESSAGE_ARGUMENT_ARRAY,
                                   module, TANDEM_MSG_WARNING, 0, text, 64,
                                   reinterpret_cast<va_list*>(inserts));  // ARGUMENT_ARRAY
    FreeLibrary(module);
    EXPECT_EQ(std::wstring(text, n).substr(0, 9), L"disk full") << exe << " has no message table";
  }
}

void expect_no_event_sources() {
  for (const char* name : kServices) {
    EXPECT_FALSE(win32::RegistryKey::open(
        HKEY_LOCAL_MACHINE, std::string(win32::kEventLogApplicationKey) + "\\" + name))
        << name << "'s Event Log source stayed";
  }
}

// The command the Run key starts the tray with at logon; empty when there is none.
std::string tray_at_logon() {
  auto run = win32::RegistryKey::open(HKEY_LOCAL_MACHINE,
                                      "SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run");
  return run ? run->get_string("TandemTray").value_or("") : "";
}

std::string folder_security(const fs::path& folder, SECURITY_INFORMATION parts) {
  win32::FileHandle handle(CreateFileW(folder.wstring().c_str(), READ_CONTROL,
                                       FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                                       nullptr, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS,
                                       nullptr));
  if (!handle) win32::throw_last_error("CreateFileW(" + folder.string() + ")");
  return win32::security_sddl(handle.get(), SE_FILE_OBJECT, parts, folder.string());
}
std::string folder_dacl(const fs::path& folder) {
  return folder_security(folder, DACL_SECURITY_INFORMATION);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

class InstallerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    remove_everything();
    // The admin's config, written before the install: the MSI must keep it. threads 1: the
    // tiny model is slower on two threads of a shared two-core machine.
    port_ = testing::find_free_ports(4);
    fs::create_directories(paths::config_dir());
    write_file_atomically(
        paths::llm_server_config(),
        nlohmann::json{{"port", port_}, {"port_range", 4}, {"threads", 1}}.dump(2));
  }

  void TearDown() override {
    if (HasFailure()) testing::print_service_logs();
    remove_everything();
  }

  // Whatever an earlier run or suite left: both MSIs' products, services, keys, data.
  static void remove_everything() {
    for (const char* msi : {TANDEM_MSI, TANDEM_NEXT_MSI}) {
      msiexec("/x \"" + windows_path(msi) + "\" /qn REMOVEDATA=1");
    }
    testing::remove_tandem_services();
    win32::RegistryKey::delete_tree(HKEY_LOCAL_MACHINE, "SOFTWARE\\Tandem");
    std::error_code ignored;
    fs::remove_all(paths::data_dir(), ignored);
    fs::remove_all(kInstallDir, ignored);
  }

  static void install(const char* msi, double* took = nullptr) {
    const auto start = std::chrono::steady_clock::now();
    auto result = msiexec("/i \"" + windows_path(msi) + "\" /qn");
    if (took) *took = seconds_since(start);
    ASSERT_EQ(result.exit_code, 0u) << result.log;
  }

  static void expect_both_running() {
    for (const char* name : kServices) {
      auto service = find_service(name);
      ASSERT_TRUE(service) << name << " is not installed";
      EXPECT_EQ(service->wait_for_state(ServiceRunState::running, 60s).state,
                ServiceRunState::running)
          << name;
    }
  }

  std::filesystem::path demo_dataset(int count) {
    std::string text;
    for (int i = 0; i < count; ++i) {
      text += nlohmann::json{{"id", "d-" + std::to_string(i)},
                             {"text", (i % 2 ? "great fun " : "dull slow ") + std::to_string(i)}}
                  .dump() +
              "\n";
    }
    auto file = paths::data_dir() / "datasets" / "demo.jsonl";
    fs::create_directories(file.parent_path());
    write_file_atomically(file, text);
    return file;
  }

  std::uint16_t port_ = 0;
};

TEST_F(InstallerTest, MsiInstallStartsBothAndRunsAJobUninstallRemovesAllButUserData) {
  NoVulkanDriverForTheServer no_vulkan;
  double install_s = 0;
  install(TANDEM_MSI, &install_s);
  expect_both_running();
  for (const char* exe : {"tandem-llm.exe", "tandem-trainer.exe", "tandemctl.exe",
                          "tandem-tray.exe", "tandem-tiny.gguf"}) {
    EXPECT_TRUE(fs::exists(kInstallDir / exe)) << exe;
  }
  EXPECT_EQ(tray_at_logon(), "\"" + (kInstallDir / "tandem-tray.exe").string() + "\"");
  EXPECT_TRUE(fs::exists(paths::trainer_config())) << "the default trainer.json was not written";
  expect_event_sources(kInstallDir);
  EXPECT_NE(read_file(paths::llm_server_config()).find("\"threads\": 1"), std::string::npos)
      << "the install overwrote the admin's llm-server.json";

  // Each service may write its own publication key and folders; users may only read.
  const std::string llm_sid = win32::service_sid("TandemLlm");
  const std::string trainer_sid = win32::service_sid("TandemTrainer");
  auto key = win32::RegistryKey::open(HKEY_LOCAL_MACHINE, win32::kLlmServerKey, READ_CONTROL);
  ASSERT_TRUE(key);
  const std::string key_dacl = win32::dacl_sddl(key->get(), SE_REGISTRY_KEY, "LlmServer key");
  EXPECT_NE(key_dacl.find("(A;OICI;KA;;;" + llm_sid + ")"), std::string::npos) << key_dacl;
  EXPECT_NE(key_dacl.find(";KR;;;BU)"), std::string::npos) << key_dacl;
  EXPECT_EQ(key_dacl.find(trainer_sid), std::string::npos) << key_dacl;
  const std::string logs_dacl = folder_dacl(paths::logs_dir());
  if (win32::running_on_wine()) {
    // Wine accepts SetSecurityInfo on files but keeps no DACL: it reports a made-up one.
    EXPECT_EQ(logs_dacl.find(llm_sid), std::string::npos) << "Wine now keeps file DACLs";
  } else {
    // Issue 17, defect 3: every data folder, created or adopted, is Administrators' (Windows
    // workflow only: Wine keeps no file owners either).
    for (const auto& folder : {paths::data_dir(), paths::jobs_dir(), paths::logs_dir()}) {
      EXPECT_EQ(folder_security(folder, OWNER_SECURITY_INFORMATION), "O:BA") << folder.string();
    }
    EXPECT_NE(logs_dacl.find(llm_sid), std::string::npos) << logs_dacl;
    EXPECT_NE(logs_dacl.find(trainer_sid), std::string::npos) << logs_dacl;
    EXPECT_TRUE(logs_dacl.starts_with("D:P")) << logs_dacl;
  }

  // The live URL, verified, answers /health; status --json agrees with the registry.
  auto url = tandemctl("wait --timeout 120");
  ASSERT_EQ(url.exit_code, 0u) << url.errors;
  const std::string live = url.output.substr(0, url.output.find_first_of("\r\n"));
  EXPECT_EQ(live, "http://127.0.0.1:" + std::to_string(port_));
  EXPECT_EQ(HttpClient(live).get("/health").status, 200);
  auto status = tandemctl("status --json");
  ASSERT_EQ(status.exit_code, 0u) << status.output << status.errors;
  auto json = nlohmann::json::parse(status.output);
  auto published = win32::read_publication(win32::kLlmServerKey);
  ASSERT_TRUE(published);
  EXPECT_EQ(json["llm"]["port"], published->port);
  EXPECT_EQ(json["llm"]["pid"], published->pid);
  EXPECT_EQ(json["llm"]["instance"], published->instance_id);
  EXPECT_EQ(json["services"][0]["pid"], find_service("TandemLlm")->query().pid);
  EXPECT_EQ(json["verified"], true);
  // Without vulkan-1.dll the Vulkan module beside it does not load: the server runs on the CPU
  // and its log says why.
  EXPECT_TRUE(fs::exists(kInstallDir / "ggml-vulkan.dll")) << "the MSI installs the Vulkan module";
  ASSERT_FALSE(json["llm"]["devices"].empty()) << json.dump();
  if (NoVulkanDriverForTheServer::active()) {
    for (const auto& device : json["llm"]["devices"]) {
      EXPECT_EQ(device["type"], "cpu") << json.dump();
    }
    const std::string log = read_file(paths::logs_dir() / "tandem-llm.log");
    EXPECT_NE(log.find("GPU backend vulkan not loaded, models run on the CPU: LoadLibraryExW("),
              std::string::npos)
        << log.substr(0, 4000);
  }

  // A demo distill job dropped in the inbox finishes.
  const auto data = demo_dataset(12);
  write_file_atomically(paths::jobs_dir() / "inbox" / "demo.json",
                        nlohmann::json{{"kind", "distill"},
                                       {"dataset", windows_path(data.string())},
                                       {"labels", {"positive", "negative"}}}
                            .dump());
  auto done = wait_trainer([](const TrainerValues& v) { return v.jobs_done == 1; }, 180s,
                           "the demo job to finish");
  EXPECT_EQ(done.jobs_failed, 0u) << done.last_error;
  bool found = false;
  for (const auto& entry : fs::directory_iterator(paths::jobs_dir() / "done")) {
    if (entry.path().extension() != ".work") continue;
    found = true;
    const std::string labels = read_file(entry.path() / "labels.jsonl");
    EXPECT_EQ(std::count(labels.begin(), labels.end(), '\n'), 12) << labels;
    EXPECT_TRUE(fs::exists(entry.path() / "student.json"));
  }
  EXPECT_TRUE(found) << "no done/*.work folder";
  auto after = nlohmann::json::parse(tandemctl("status --json").output);
  EXPECT_EQ(after["trainer"]["jobs_done"], 1) << after.dump();
  EXPECT_EQ(after["trainer"]["state"], "idle") << after.dump();
  EXPECT_EQ(after["trainer"]["server_url"], live) << after.dump();

  const auto start = std::chrono::steady_clock::now();
  auto removed = msiexec("/x \"" + windows_path(TANDEM_MSI) + "\" /qn");
  const double uninstall_s = seconds_since(start);
  ASSERT_EQ(removed.exit_code, 0u) << removed.log;
  for (const char* name : kServices) EXPECT_FALSE(find_service(name)) << name << " is still there";
  EXPECT_FALSE(fs::exists(kInstallDir / "tandem-llm.exe"));
  EXPECT_FALSE(fs::exists(kInstallDir / "tandemctl.exe"));
  EXPECT_FALSE(fs::exists(kInstallDir / "tandem-tray.exe"));
  EXPECT_EQ(tray_at_logon(), "") << "the Run value stayed";
  EXPECT_FALSE(win32::RegistryKey::open(HKEY_LOCAL_MACHINE, "SOFTWARE\\Tandem"))
      << "publication keys left behind";
  expect_no_event_sources();
  EXPECT_TRUE(fs::exists(paths::llm_server_config()));
  EXPECT_TRUE(fs::exists(paths::jobs_dir() / "done"));
  EXPECT_TRUE(fs::exists(paths::logs_dir() / "tandem-llm.log"));
  std::printf("[ figures ] MSI %.1f MB, install %.2f s, uninstall %.2f s\n",
              static_cast<double>(fs::file_size(windows_path(TANDEM_MSI))) / 1e6, install_s,
              uninstall_s);
}

TEST_F(InstallerTest, ReinstallAndMajorUpgradeKeepTheAdminsConfig) {
  install(TANDEM_MSI);
  expect_both_running();
  msiexec("/x \"" + windows_path(TANDEM_MSI) + "\" /qn");
  install(TANDEM_MSI);  // a reinstall over kept data
  expect_both_running();
  EXPECT_NE(read_file(paths::llm_server_config()).find("\"threads\": 1"), std::string::npos);

  // The admin edits trainer.json; the next version must neither overwrite nor lose it.
  write_file_atomically(paths::trainer_config(), R"({"max_retries": 3, "log_level": "debug"})");
  install(TANDEM_NEXT_MSI);
  expect_both_running();
  EXPECT_EQ(read_file(paths::trainer_config()), R"({"max_retries": 3, "log_level": "debug"})");
  auto url = tandemctl("wait --timeout 120");
  EXPECT_EQ(url.exit_code, 0u) << url.errors;
  // One product: removing the new one leaves nothing of the old behind.
  auto removed = msiexec("/x \"" + windows_path(TANDEM_NEXT_MSI) + "\" /qn REMOVEDATA=1");
  ASSERT_EQ(removed.exit_code, 0u) << removed.log;
  for (const char* name : kServices) EXPECT_FALSE(find_service(name)) << name;
  EXPECT_FALSE(fs::exists(kInstallDir / "tandem-trainer.exe"));
  EXPECT_FALSE(fs::exists(paths::data_dir())) << "REMOVEDATA=1 kept the data";
}

TEST_F(InstallerTest, TandemctlInstallRegistersWhatTheMsiRegisters) {
  install(TANDEM_MSI);
  expect_both_running();
  std::map<std::string, win32::InstalledServiceConfig> from_msi;
  for (const char* name : kServices) from_msi[name] = find_service(name)->query_config();

  // The same binaries in the same folder, registered by tandemctl instead of msiexec.
  const fs::path copy = paths::data_dir() / "binaries";
  fs::create_directories(copy);
  // Every file the MSI put there: the executables, llama.cpp's DLLs, the test model.
  for (const auto& entry : fs::directory_iterator(kInstallDir)) {
    if (entry.is_regular_file()) fs::copy_file(entry.path(), copy / entry.path().filename());
  }
  msiexec("/x \"" + windows_path(TANDEM_MSI) + "\" /qn");
  fs::create_directories(kInstallDir);
  for (const auto& entry : fs::directory_iterator(copy)) {
    fs::copy_file(entry.path(), kInstallDir / entry.path().filename());
  }
  auto installed = tandemctl("install");
  ASSERT_EQ(installed.exit_code, 0u) << installed.output << installed.errors;
  expect_both_running();
  expect_event_sources(kInstallDir);
  for (const char* name : kServices) {
    auto mine = find_service(name)->query_config();
    const auto& msi = from_msi[name];
    EXPECT_EQ(mine.binary_path_name, msi.binary_path_name) << name;
    EXPECT_EQ(mine.display_name, msi.display_name) << name;
    EXPECT_EQ(mine.description, msi.description) << name;
    EXPECT_EQ(mine.account, msi.account) << name;
    EXPECT_EQ(mine.start_type, msi.start_type) << name;
    EXPECT_EQ(mine.dependencies, msi.dependencies) << name;
  }
  EXPECT_EQ(from_msi["TandemTrainer"].dependencies, std::vector<std::string>{"TandemLlm"});
  EXPECT_EQ(from_msi["TandemLlm"].display_name, "Tandem LLM Server");

  auto again = tandemctl("install");
  EXPECT_EQ(again.exit_code, 3u);
  EXPECT_NE(again.errors.find("TandemLlm is already installed"), std::string::npos) << again.errors;

  auto uninstalled = tandemctl("uninstall");
  ASSERT_EQ(uninstalled.exit_code, 0u) << uninstalled.errors;
  for (const char* name : kServices) EXPECT_FALSE(find_service(name)) << name;
  EXPECT_FALSE(win32::RegistryKey::open(HKEY_LOCAL_MACHINE, "SOFTWARE\\Tandem"));
  expect_no_event_sources();
  EXPECT_TRUE(fs::exists(paths::llm_server_config()));
}

TEST_F(InstallerTest, BadArgumentsChangeNothingAndSayWhichWord) {
  fs::create_directories(kInstallDir);
  fs::copy_file(windows_path(TANDEM_CTL_EXE), kInstallDir / "tandemctl.exe");
  struct Case {
    const char* arguments;
    const char* says;
  };
  for (const Case& c : {
           Case{"install --account admin", "unknown account 'admin'"},
           Case{"install --dir", "--dir needs a value"},
           Case{"install --dir C:\\nowhere", "no tandem-llm.exe in C:\\nowhere"},
           Case{"install --now", "unknown option '--now'"},
           Case{"uninstall everything", "unexpected argument 'everything'"},
           Case{"configure-services --purge", "--purge goes with --remove"},
           Case{"configure-services --remove --account virtual", "--account has no meaning"},
           Case{"status --jsn", "unknown option '--jsn'"},
           Case{"wait --timeout abc", "--timeout takes whole seconds"},
           Case{"url now", "unexpected argument 'now'"},
           Case{"instal", "unknown command 'instal'"},
       }) {
    auto result = tandemctl(c.arguments);
    EXPECT_EQ(result.exit_code, 2u) << c.arguments;
    EXPECT_NE(result.errors.find(c.says), std::string::npos)
        << c.arguments << ": " << result.errors;
    EXPECT_EQ(result.output, "") << c.arguments;
  }
  for (const char* name : kServices) EXPECT_FALSE(find_service(name)) << name;
  EXPECT_FALSE(fs::exists(paths::trainer_config()));
}

}  // namespace
}  // namespace tandem
