// The file KEK against real files: creation, permissions, sizes, and that only
// the same file unwraps what it wrapped.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "crypto/key_wrap.h"
#include "keys/kek/kek.h"
#include "support/cli_runner.h"
#include "support/test_support.h"

namespace tl::keys::kek {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

Bytes bytes_of(size_t n, uint8_t first) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(first + i);
  return b;
}

fs::path write_kek(const test::TempDir& dir, const std::string& name, const Bytes& content, mode_t mode) {
  fs::path p = dir.file(name, content);
  EXPECT_EQ(::chmod(p.c_str(), mode), 0);
  return p;
}

TEST(FileKek, CreatesA32ByteFileWithMode0600) {
  test::TempDir dir;
  const fs::path p = dir.path() / "kek";
  auto kek = open_file_kek(p, true);
  ASSERT_TRUE(kek) << kek.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  EXPECT_EQ((*kek)->kind(), "file");
  EXPECT_EQ((*kek)->description(), "file " + p.string());
  // The temporary name used while writing is gone: the directory holds the KEK only.
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1u);
}

TEST(FileKek, TwoCreatedFilesHoldDifferentKeys) {
  test::TempDir dir;
  ASSERT_TRUE(open_file_kek(dir.path() / "a", true));
  ASSERT_TRUE(open_file_kek(dir.path() / "b", true));
  EXPECT_NE(test::read_file(dir.path() / "a"), test::read_file(dir.path() / "b"));
}

TEST(FileKek, ReopenedFileUnwrapsWhatTheFirstWrapped) {
  test::TempDir dir;
  const fs::path p = dir.path() / "kek";
  auto first = open_file_kek(p, true);
  ASSERT_TRUE(first) << first.error().message;
  auto made = Sealer::create(**first);
  ASSERT_TRUE(made) << made.error().message;
  auto sealed = made->first.seal(as_bytes("private key bytes"), "key/a/1");
  ASSERT_TRUE(sealed);
  const Bytes before = test::read_file(p);

  auto second = open_file_kek(p, false);
  ASSERT_TRUE(second) << second.error().message;
  auto reopened = Sealer::open(**second, made->second);
  ASSERT_TRUE(reopened) << reopened.error().message;
  auto plain = reopened->unseal(*sealed, "key/a/1");
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_EQ(Bytes(plain->view().begin(), plain->view().end()), Bytes(as_bytes("private key bytes").begin(),
                                                                     as_bytes("private key bytes").end()));
  // create_if_missing on an existing file reads it; it never replaces it.
  ASSERT_TRUE(open_file_kek(p, true));
  EXPECT_EQ(test::read_file(p), before);
}

TEST(FileKek, TheFileIsTheRawAesKwpKey) {
  // An existing KEK file written by hand: its 32 bytes are the RFC 5649 key.
  test::TempDir dir;
  const Bytes raw = bytes_of(32, 0x40);
  const fs::path p = write_kek(dir, "kek", raw, 0600);
  auto kek = open_file_kek(p, true);
  ASSERT_TRUE(kek) << kek.error().message;
  crypto::SecretBytes dek(bytes_of(32, 0x90));
  auto wrapped = (*kek)->wrap(dek);
  ASSERT_TRUE(wrapped) << wrapped.error().message;
  auto unwrapped = crypto::aes_kwp_unwrap(crypto::SecretBytes(raw), *wrapped);
  ASSERT_TRUE(unwrapped) << unwrapped.error().message;
  EXPECT_TRUE(*unwrapped == dek);
  auto back = (*kek)->unwrap(*wrapped);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_TRUE(*back == dek);
}

TEST(FileKek, OwnerReadOnlyFileIsAccepted) {
  test::TempDir dir;
  const fs::path p = write_kek(dir, "kek", bytes_of(32, 1), 0400);
  auto kek = open_file_kek(p, false);
  EXPECT_TRUE(kek) << kek.error().message;
}

class FileKekModes : public ::testing::TestWithParam<mode_t> {};

TEST_P(FileKekModes, AccessForGroupOrOthersIsRefused) {
  test::TempDir dir;
  const fs::path p = write_kek(dir, "kek", bytes_of(32, 1), GetParam());
  auto kek = open_file_kek(p, true);
  ASSERT_FALSE(kek);
  EXPECT_THAT(kek.error().message, HasSubstr("chmod 600 " + p.string()));
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(GetParam()));
  EXPECT_THAT(kek.error().message, HasSubstr(mode));
  // Refusing never "repairs" the file behind the operator's back.
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Modes, FileKekModes, ::testing::Values(0644, 0640, 0604, 0660, 0610, 0601, 0666));

TEST(FileKek, WrongSizesAreRefused) {
  test::TempDir dir;
  for (size_t n : {0, 1, 16, 31, 33, 64}) {
    const fs::path p = write_kek(dir, "kek" + std::to_string(n), bytes_of(n, 7), 0600);
    auto kek = open_file_kek(p, true);
    ASSERT_FALSE(kek) << n;
    EXPECT_THAT(kek.error().message, HasSubstr(p.string() + " is " + std::to_string(n) + " bytes")) << n;
    EXPECT_THAT(kek.error().message, HasSubstr("exactly 32")) << n;
    EXPECT_EQ(fs::file_size(p), n) << "the file was changed";
  }
}

TEST(FileKek, MissingFileWithoutCreateIsRefused) {
  test::TempDir dir;
  const fs::path p = dir.path() / "kek";
  auto kek = open_file_kek(p, false);
  ASSERT_FALSE(kek);
  EXPECT_THAT(kek.error().message, HasSubstr(p.string()));
  EXPECT_THAT(kek.error().message, HasSubstr("does not exist"));
  EXPECT_FALSE(fs::exists(p));
}

TEST(FileKek, MissingDirectoryIsAnError) {
  test::TempDir dir;
  auto kek = open_file_kek(dir.path() / "nope" / "kek", true);
  ASSERT_FALSE(kek);
  EXPECT_THAT(kek.error().message, HasSubstr((dir.path() / "nope").string()));
}

TEST(FileKek, SymlinkIsRefused) {
  test::TempDir dir;
  const fs::path real = write_kek(dir, "real", bytes_of(32, 3), 0600);
  const fs::path link = dir.path() / "kek";
  fs::create_symlink(real, link);
  auto kek = open_file_kek(link, true);
  ASSERT_FALSE(kek);
  EXPECT_THAT(kek.error().message, HasSubstr("symbolic link"));
}

TEST(FileKek, DirectoryAndFifoAreRefused) {
  test::TempDir dir;
  const fs::path d = dir.path() / "kekdir";
  fs::create_directory(d);
  ::chmod(d.c_str(), 0700);
  auto a = open_file_kek(d, true);
  ASSERT_FALSE(a);
  EXPECT_THAT(a.error().message, HasSubstr("not a regular file"));

  // A FIFO must not block the open (nobody writes to it).
  const fs::path f = dir.path() / "kekfifo";
  ASSERT_EQ(::mkfifo(f.c_str(), 0600), 0);
  auto b = open_file_kek(f, true);
  ASSERT_FALSE(b);
  EXPECT_THAT(b.error().message, HasSubstr("not a regular file"));
}

TEST(FileKek, AnotherFilesKekIsAMismatch) {
  test::TempDir dir;
  auto a = open_file_kek(dir.path() / "a", true);
  auto b = open_file_kek(dir.path() / "b", true);
  ASSERT_TRUE(a && b);
  auto made = Sealer::create(**a);
  ASSERT_TRUE(made) << made.error().message;
  auto other = Sealer::open(**b, made->second);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().reason, "kek-mismatch");
  EXPECT_THAT(other.error().message, HasSubstr("file " + (dir.path() / "b").string()));
}

TEST(FileKek, DamagedWrappedKeysAreAMismatch) {
  test::TempDir dir;
  auto kek = open_file_kek(dir.path() / "kek", true);
  ASSERT_TRUE(kek);
  auto wrapped = (*kek)->wrap(crypto::SecretBytes(bytes_of(32, 5)));
  ASSERT_TRUE(wrapped);
  ASSERT_EQ(wrapped->size(), 40u);  // RFC 5649: 8-byte integrity block + 32 bytes
  for (size_t i = 0; i < wrapped->size(); ++i) {
    Bytes bad = *wrapped;
    bad[i] ^= 0x01;
    auto r = (*kek)->unwrap(bad);
    ASSERT_FALSE(r) << "byte " << i;
    EXPECT_EQ(r.error().reason, "kek-mismatch");
  }
  for (size_t n : {0, 7, 8, 16, 39}) {
    auto r = (*kek)->unwrap(ByteView(wrapped->data(), n));
    ASSERT_FALSE(r) << n;
    EXPECT_EQ(r.error().reason, "kek-mismatch");
  }
}

TEST(FileKek, ErrorsNeverCarryTheKey) {
  test::TempDir dir;
  const Bytes raw = bytes_of(32, 0xa0);
  const fs::path p = write_kek(dir, "kek", raw, 0600);
  auto kek = open_file_kek(p, false);
  ASSERT_TRUE(kek);
  auto r = (*kek)->unwrap(bytes_of(40, 0));
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, Not(HasSubstr(to_hex(raw))));
  EXPECT_THAT(r.error().message, Not(HasSubstr(to_hex(ByteView(raw).first(8)))));
}

}  // namespace
}  // namespace tl::keys::kek
