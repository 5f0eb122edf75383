// src/host/process.*: starting programs by argv, exit codes, timeouts, and
// errors for programs that are missing or cannot run.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <algorithm>
#include <sstream>
#include <vector>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <chrono>
#include <csignal>
#include <fstream>
#include <string>
#include <thread>

#include "host/process.h"
#include "support/cli_runner.h"

namespace tl::host {
namespace {

using namespace std::chrono_literals;

TEST(Process, MissingProgramIsAnErrorNamingIt) {
  auto c = spawn({"tlaunch-no-such-program-xyz"});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().reason, "host-tool-missing");
  EXPECT_NE(c.error().message.find("tlaunch-no-such-program-xyz"), std::string::npos);
  auto r = run({"/nonexistent/dir/prog"}, 5s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "host-tool-missing");
  EXPECT_FALSE(spawn({}));
  EXPECT_FALSE(find_in_path("tlaunch-no-such-program-xyz"));
  EXPECT_TRUE(find_in_path("sh"));
}

TEST(Process, NotExecutableFileIsAnError) {
  test::TempDir dir;
  const auto f = dir.file("data", as_bytes("not a program"));
  auto c = spawn({f.string()});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().reason, "host-tool-missing");
}

TEST(Process, BadWorkingDirectoryIsAnError) {
  SpawnOptions o;
  o.cwd = "/nonexistent-dir-for-test";
  auto c = spawn({"true"}, o);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("/nonexistent-dir-for-test"), std::string::npos);
}

TEST(Process, ExitCodesAndOutput) {
  auto r = run({"sh", "-c", "echo out; echo err >&2; exit 7"}, 10s);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 7);
  EXPECT_NE(r->output.find("out"), std::string::npos);
  EXPECT_NE(r->output.find("err"), std::string::npos);
  auto ok = run_checked({"sh", "-c", "echo fine"}, 10s);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, "fine\n");
  auto bad = run_checked({"sh", "-c", "echo what went wrong; exit 3"}, 10s);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().reason, "host-tool-failed");
  EXPECT_NE(bad.error().message.find("exit 3"), std::string::npos);
  EXPECT_NE(bad.error().message.find("what went wrong"), std::string::npos);
}

TEST(Process, SignalIsReportedAs128PlusSignal) {
  auto r = run({"sh", "-c", "kill -9 $$"}, 10s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 128 + SIGKILL);
}

TEST(Process, RunTimeoutKillsTheChild) {
  const auto t0 = std::chrono::steady_clock::now();
  auto r = run({"sleep", "30"}, 300ms);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "host-tool-timeout");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
}

// Gone, or a zombie nobody has reaped yet: either way it runs no more.
bool process_gone(pid_t pid) {
  if (::kill(pid, 0) != 0) return errno == ESRCH;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const auto close_paren = line.rfind(')');
  return close_paren != std::string::npos && close_paren + 2 < line.size() && line[close_paren + 2] == 'Z';
}

TEST(Process, RunTimeoutAlsoKillsWhatTheChildStarted) {
  test::TempDir dir;
  const auto pid_file = dir.path() / "grandchild.pid";
  auto r = run({"sh", "-c", "sleep 30 & echo $! > " + pid_file.string() + "; wait"}, 1s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "host-tool-timeout");
  std::ifstream in(pid_file);
  pid_t grandchild = 0;
  ASSERT_TRUE(in >> grandchild) << "the shell did not record its background sleep";
  ASSERT_GT(grandchild, 1);
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = process_gone(grandchild);
    if (!gone) std::this_thread::sleep_for(50ms);
  }
  if (!gone) ::kill(grandchild, SIGKILL);
  EXPECT_TRUE(gone) << "the background sleep " << grandchild << " outlived the timeout";
}

TEST(Process, DescriptorsAbove1024DoNotLeakIntoTheChild) {
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &old), 0);
  ASSERT_GE(old.rlim_max, 2048U) << "the test needs a hard RLIMIT_NOFILE of at least 2048";
  rlimit raised = old;
  raised.rlim_cur = 2048;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &raised), 0);
  const int high = ::dup2(1, 1500);  // no O_CLOEXEC: only the spawn code can keep it out
  ASSERT_EQ(high, 1500) << std::strerror(errno);
  auto r = run({"sh", "-c", "ls /proc/$$/fd"}, 10s);
  ::close(high);
  ::setrlimit(RLIMIT_NOFILE, &old);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 0);
  std::vector<std::string> fds;
  std::istringstream lines(r->output);
  for (std::string l; std::getline(lines, l);) fds.push_back(l);
  EXPECT_NE(std::find(fds.begin(), fds.end(), "2"), fds.end()) << "not a descriptor listing: " << r->output;
  EXPECT_EQ(std::find(fds.begin(), fds.end(), "1500"), fds.end()) << "descriptor 1500 leaked: " << r->output;
}

TEST(Process, ChildWaitRunningAndSignal) {
  auto c = spawn({"sleep", "30"});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->running());
  EXPECT_FALSE(c->wait(50ms)) << "still running: wait times out";
  c->signal(SIGTERM);
  auto st = c->wait(5s);
  ASSERT_TRUE(st);
  EXPECT_EQ(*st, 128 + SIGTERM);
  EXPECT_FALSE(c->running());
  EXPECT_LT(c->pid(), 0);
}

TEST(Process, OutputFilesAndEnvironment) {
  test::TempDir dir;
  SpawnOptions o;
  o.stdout_file = dir.path() / "out.log";
  o.stderr_file = dir.path() / "err.log";
  o.extra_env = {"TL_PROCESS_TEST=hello"};
  o.cwd = dir.path();
  auto c = spawn({"sh", "-c", "echo $TL_PROCESS_TEST; pwd >&2"}, o);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->wait(10s), 0);
  std::ifstream out(dir.path() / "out.log"), err(dir.path() / "err.log");
  std::string a, b;
  std::getline(out, a);
  std::getline(err, b);
  EXPECT_EQ(a, "hello");
  EXPECT_EQ(b, dir.path().string());
}

}  // namespace
}  // namespace tl::host
