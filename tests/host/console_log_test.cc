// src/host/console_log.*: reading what a writer appends, and the size cap.
// The writer is a real child process appending like QEMU's chardev file with
// append=on (O_APPEND, its own descriptor kept open across the rotation).
#include "host/console_log.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "host/process.h"
#include "support/cli_runner.h"
#include "support/test_support.h"

namespace tl::host {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

TEST(ConsoleLog, MissingFileReadsAsNothingYet) {
  test::TempDir dir;
  ConsoleLog log(dir.path() / "console.log");
  EXPECT_EQ(log.read_new(), "");
  EXPECT_FALSE(log.rotate_if_full());
}

TEST(ConsoleLog, ReadsOnlyWhatWasAddedSinceTheLastCall) {
  test::TempDir dir;
  const fs::path p = dir.path() / "console.log";
  ASSERT_TRUE(run_checked({"sh", "-c", "printf 'one\\n' >> \"$0\"", p.string()}, 10s));
  ConsoleLog log(p);
  EXPECT_EQ(log.read_new(), "one\n");
  EXPECT_EQ(log.read_new(), "");
  ASSERT_TRUE(run_checked({"sh", "-c", "printf 'two\\n' >> \"$0\"", p.string()}, 10s));
  EXPECT_EQ(log.read_new(), "two\n");
}

TEST(ConsoleLog, AFullLogIsRotatedAndTheWriterGoesOnAtTheStart) {
  test::TempDir dir;
  const fs::path p = dir.path() / "console.log";
  const fs::path go = dir.path() / "go";
  // One O_APPEND descriptor for the writer's whole life, as QEMU holds one:
  // 3000 bytes, then (once told) a marker line.
  auto writer = spawn({"sh", "-c",
                       "exec 3>>\"$0\"; head -c 3000 /dev/zero | tr '\\0' x >&3; "
                       "while [ ! -e \"$1\" ]; do sleep 0.05; done; printf 'TLAUNCH-GUEST: ready\\n' >&3",
                       p.string(), go.string()});
  ASSERT_TRUE(writer) << writer.error().message;
  ConsoleLog log(p, 1024);
  std::string first;
  for (int i = 0; i < 200 && first.size() < 3000; ++i) {
    first += log.read_new();
    if (first.size() < 3000) std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(first, std::string(3000, 'x'));
  EXPECT_TRUE(log.rotate_if_full());
  EXPECT_EQ(fs::file_size(p), 0U);
  EXPECT_EQ(test::read_text(p.string() + ".1"), std::string(3000, 'x'));
  EXPECT_FALSE(log.rotate_if_full()) << "under the cap now";

  std::ofstream(go) << "go";
  ASSERT_EQ(writer->wait(10s), 0);
  // The writer's next append lands at the new start: no hole, nothing missed.
  EXPECT_EQ(log.read_new(), "TLAUNCH-GUEST: ready\n");
  EXPECT_EQ(test::read_text(p), "TLAUNCH-GUEST: ready\n");
}

TEST(ConsoleLog, OneGenerationIsKept) {
  test::TempDir dir;
  const fs::path p = dir.path() / "console.log";
  ConsoleLog log(p, 10);
  for (const char* text : {"first-generation\n", "second-generation\n"}) {
    ASSERT_TRUE(run_checked({"sh", "-c", "printf \"$1\" >> \"$0\"", p.string(), text}, 10s));
    EXPECT_EQ(log.read_new(), text);
    EXPECT_TRUE(log.rotate_if_full());
  }
  EXPECT_EQ(test::read_text(p.string() + ".1"), "second-generation\n");
  EXPECT_FALSE(fs::exists(p.string() + ".2"));
}

}  // namespace
}  // namespace tl::host
