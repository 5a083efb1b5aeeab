// systemd's notify protocol as tandem-llm and tandem-trainer speak it, checked against a fake
// NOTIFY_SOCKET listener: the datagrams' exact lines, abstract and path sockets, and failures.
#include <gtest/gtest.h>

#include <cstdlib>

#include "common/error.h"
#include "common/posix/systemd_notify.h"
#include "tests/posix/notify_listener.h"
#include "tests/support/temp_dir.h"

namespace tandem {
namespace {

using namespace std::chrono_literals;
using testing::NotifyListener;

// Sets NOTIFY_SOCKET for one test, restoring the absence afterwards.
struct NotifyEnv {
  explicit NotifyEnv(const std::string& value) { ::setenv("NOTIFY_SOCKET", value.c_str(), 1); }
  ~NotifyEnv() { ::unsetenv("NOTIFY_SOCKET"); }
};

TEST(SystemdNotify, StatusMapsStartingRunningStoppingOntoTheProtocol) {
  NotifyListener listener;
  NotifyEnv env(listener.address());
  posix::SystemdStatus status("TestService");
  status.starting(1500ms);
  status.running();
  status.stopping(3s);
  ASSERT_TRUE(listener.wait_for_line("STOPPING=1", 5s));
  ASSERT_EQ(listener.messages().size(), 3u);
  EXPECT_EQ(listener.messages()[0], "STATUS=starting\nEXTEND_TIMEOUT_USEC=1500000");
  EXPECT_EQ(listener.messages()[1], "READY=1\nSTATUS=running");
  EXPECT_EQ(listener.messages()[2], "STOPPING=1\nSTATUS=stopping\nEXTEND_TIMEOUT_USEC=3000000");
}

TEST(SystemdNotify, ReadyIsSentToASocketPathToo) {
  testing::TempDir dir;
  NotifyListener listener((dir / "notify").string());
  NotifyEnv env(listener.address());
  EXPECT_TRUE(posix::sd_notify("READY=1"));
  EXPECT_TRUE(listener.wait_for_line("READY=1", 5s));
}

TEST(SystemdNotify, WithoutNotifySocketNothingIsSent) {
  ::unsetenv("NOTIFY_SOCKET");
  EXPECT_FALSE(posix::sd_notify("READY=1"));
  posix::SystemdStatus status("TestService");
  status.running();  // must neither throw nor block
}

TEST(SystemdNotify, NobodyListeningIsReportedNotFatal) {
  NotifyEnv env("@tandem-notify-nobody-listens-here");
  EXPECT_FALSE(posix::sd_notify("READY=1"));
  try {
    posix::notify_socket("@tandem-notify-nobody-listens-here", "READY=1");
    FAIL() << "sending to nobody did not throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sendto(@tandem-notify-nobody-listens-here)"),
              std::string::npos)
        << e.what();
  }
}

TEST(SystemdNotify, AnAddressTooLongIsAnErrorNamingIt) {
  const std::string path = "/tmp/" + std::string(200, 'x');
  try {
    posix::notify_socket(path, "READY=1");
    FAIL() << "a 205-byte socket path was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the limit is 107"), std::string::npos) << e.what();
  }
}

TEST(SystemdNotify, ListenerFindsALineInsideAMessage) {
  EXPECT_TRUE(NotifyListener::has_line("STATUS=x\nREADY=1", "READY=1"));
  EXPECT_FALSE(NotifyListener::has_line("READY=10", "READY=1"));
  EXPECT_FALSE(NotifyListener::has_line("", "READY=1"));
}

}  // namespace
}  // namespace tandem
