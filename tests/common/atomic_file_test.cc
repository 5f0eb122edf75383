#include "common/atomic_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "support/cli_runner.h"
#include "support/test_support.h"

namespace tl {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0);
  return st.st_mode & 07777;
}

TEST(AtomicFile, ReplacesContentAndLeavesNoTemporaryFile) {
  test::TempDir dir;
  const fs::path f = dir.path() / "state.json";
  ASSERT_TRUE(write_file_atomic(f, "old", 0644).ok());
  ASSERT_TRUE(write_file_atomic(f, "new content", 0644).ok());
  EXPECT_EQ(test::read_text(f), "new content");
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1U);
}

TEST(AtomicFile, ModeIsExactlyTheOneAskedForWhateverTheUmask) {
  test::TempDir dir;
  const mode_t old = ::umask(0077);
  const Status a = write_file_atomic(dir.path() / "public", "x", 0644);
  ::umask(0);
  const Status b = write_file_atomic(dir.path() / "secret", "y", 0600);
  ::umask(old);
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(mode_of(dir.path() / "public"), 0644U);
  EXPECT_EQ(mode_of(dir.path() / "secret"), 0600U);
}

TEST(AtomicFile, ASymlinkedTargetIsReplacedNotWrittenThrough) {
  test::TempDir dir;
  const fs::path victim = dir.path() / "victim";
  ASSERT_TRUE(write_file_atomic(victim, "keep me", 0644).ok());
  fs::create_symlink(victim, dir.path() / "status.json");
  ASSERT_TRUE(write_file_atomic(dir.path() / "status.json", "new", 0644).ok());
  EXPECT_EQ(test::read_text(victim), "keep me");
  EXPECT_FALSE(fs::is_symlink(dir.path() / "status.json"));
  EXPECT_EQ(test::read_text(dir.path() / "status.json"), "new");
}

TEST(AtomicFile, MissingDirectoryFailsNamingTheStepAndLeavesNothing) {
  test::TempDir dir;
  const Status w = write_file_atomic(dir.path() / "nope" / "f", "x", 0644);
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.error().message, HasSubstr("nope"));
  EXPECT_THAT(w.error().message, HasSubstr("cannot create temporary file"));
  EXPECT_FALSE(fs::exists(dir.path() / "nope"));
}

}  // namespace
}  // namespace tl
