// The Linux launcher of command jobs: output lines as they come, the environment, exit codes,
// a program that cannot start, and a stop that ends the program and what it started.
#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>

#include "common/error.h"
#include "common/posix/process_launcher.h"

namespace tandem {
namespace {

using namespace std::chrono_literals;

struct Lines {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> out, err;
  LineCallback sink() {
    return [this](Stream s, std::string_view line) {
      {
        std::lock_guard lock(mutex);
        (s == Stream::out ? out : err).emplace_back(line);
      }
      changed.notify_all();
    };
  }
};

TEST(SpawnLauncher, DeliversLinesEnvironmentAndExitCode) {
  posix::SpawnLauncher launcher;
  Lines lines;
  ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c", "echo url=$TANDEM_LLM_URL; echo oops >&2; exit 7"};
  spec.env = {{"TANDEM_LLM_URL", "http://127.0.0.1:8031"}};
  const auto exit = launcher.run(spec, lines.sink(), {});
  EXPECT_EQ(exit.exit_code, 7);
  EXPECT_FALSE(exit.stopped);
  EXPECT_EQ(lines.out, std::vector<std::string>{"url=http://127.0.0.1:8031"});
  EXPECT_EQ(lines.err, std::vector<std::string>{"oops"});
}

TEST(SpawnLauncher, AProgramThatCannotStartIsAnErrorNamingIt) {
  posix::SpawnLauncher launcher;
  Lines lines;
  ProcessSpec spec;
  spec.argv = {"tandem-no-such-program"};
  try {
    launcher.run(spec, lines.sink(), {});
    FAIL() << "a missing program started";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot start 'tandem-no-such-program'"),
              std::string::npos)
        << e.what();
  }
}

TEST(SpawnLauncher, AStopEndsTheProgramAndItsChildren) {
  posix::SpawnLauncher launcher(5s);
  Lines lines;
  ProcessSpec spec;
  // The child it starts holds stdout open: the run must still end.
  spec.argv = {"/bin/sh", "-c", "sleep 300 & echo started; wait"};
  std::stop_source stop;
  auto run = std::async(std::launch::async,
                        [&] { return launcher.run(spec, lines.sink(), stop.get_token()); });
  {
    std::unique_lock lock(lines.mutex);
    ASSERT_TRUE(lines.changed.wait_for(lock, 30s, [&] { return !lines.out.empty(); }))
        << "the program never said started";
  }
  stop.request_stop();
  ASSERT_EQ(run.wait_for(10s), std::future_status::ready);
  const auto exit = run.get();
  EXPECT_TRUE(exit.stopped);
  EXPECT_EQ(exit.exit_code, 128 + 15);
}

}  // namespace
}  // namespace tandem
