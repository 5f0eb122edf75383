#include "agent/vm_id.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace tl::agent {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string err(std::string_view text) {
  auto r = normalize_vm_id(text);
  if (r.ok()) return "accepted as " + *r;
  EXPECT_EQ(r.error().reason, "vm-id-invalid");
  return r.error().message;
}

class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    std::string tmpl = (fs::temp_directory_path() / "tl_vm_id_XXXXXX").string();
    const int fd = ::mkstemp(tmpl.data());
    if (fd >= 0) ::close(fd);
    path_ = tmpl;
    std::ofstream(path_, std::ios::binary) << content;
  }
  ~TempFile() {
    std::error_code ec;
    fs::remove(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(VmId, NormalizesToLowerCase) {
  EXPECT_EQ(*normalize_vm_id("4C4C4544-0042-3510-8052-B3C04F4A4B32"), "4c4c4544-0042-3510-8052-b3c04f4a4b32");
  EXPECT_EQ(*normalize_vm_id("ec2a5a0e-8e1f-4e58-9d9e-5a1b2c3d4e5f"), "ec2a5a0e-8e1f-4e58-9d9e-5a1b2c3d4e5f");
}

TEST(VmId, RefusesOtherShapes) {
  EXPECT_THAT(err(""), HasSubstr("0 characters"));
  EXPECT_THAT(err("4c4c4544004235108052b3c04f4a4b32"), HasSubstr("32 characters"));
  EXPECT_THAT(err("{4c4c4544-0042-3510-8052-b3c04f4a4b32}"), HasSubstr("38 characters"));
  EXPECT_THAT(err("4c4c4544-0042-3510-8052-b3c04f4a4b32\n"), HasSubstr("37 characters"));
  EXPECT_THAT(err("4c4c4544_0042-3510-8052-b3c04f4a4b32"), HasSubstr("'-' at position 9"));
  EXPECT_THAT(err("4c4c4544-0042-3510-8052b-3c04f4a4b32"), HasSubstr("'-' at position 24"));
  EXPECT_THAT(err("4c4c4544-0042-3510-8052-b3c04f4a4b3g"), HasSubstr("not a hex digit at position 36"));
  EXPECT_THAT(err("-c4c4544-0042-3510-8052-b3c04f4a4b32"), HasSubstr("not a hex digit at position 1"));
  EXPECT_THAT(err(std::string("4c4c4544-0042-3510-8052-b3c04f4a4b3\0", 36)), HasSubstr("position 36"));
  EXPECT_THAT(err(std::string(100000, 'a')), HasSubstr("100000 characters"));
}

TEST(VmId, RefusesFirmwarePlaceholders) {
  EXPECT_THAT(err("00000000-0000-0000-0000-000000000000"), HasSubstr("nil UUID"));
  EXPECT_THAT(err("FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"), HasSubstr("all ones"));
}

TEST(VmId, ReadsTheInjectedProductUuidFile) {
  TempFile f("4C4C4544-0042-3510-8052-B3C04F4A4B32\n");
  auto id = resolve_vm_id(std::nullopt, f.path());
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(*id, "4c4c4544-0042-3510-8052-b3c04f4a4b32");
}

TEST(VmId, BadFileContentNamesTheFile) {
  for (const char* content : {"", "\n", "not-a-uuid\n", "4C4C4544-0042-3510-8052-B3C04F4A4B32\n\n",
                              "4C4C4544-0042-3510-8052-B3C04F4A4B32 extra\n",
                              "00000000-0000-0000-0000-000000000000\n"}) {
    TempFile f(content);
    auto id = resolve_vm_id(std::nullopt, f.path());
    ASSERT_FALSE(id.ok()) << content;
    EXPECT_EQ(id.error().reason, "vm-id-invalid");
    EXPECT_THAT(id.error().message, HasSubstr(f.path().string()));
  }
  TempFile big(std::string(4096, 'a'));
  auto id = resolve_vm_id(std::nullopt, big.path());
  ASSERT_FALSE(id.ok());
  EXPECT_THAT(id.error().message, HasSubstr("64 characters"));  // read cap, refused rather than cut to 36
}

TEST(VmId, MissingFileSaysSo) {
  auto id = resolve_vm_id(std::nullopt, "/nonexistent/product_uuid");
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().reason, "vm-id-unreadable");
  EXPECT_THAT(id.error().message, HasSubstr("/nonexistent/product_uuid"));
  EXPECT_THAT(id.error().message, HasSubstr("pass --vm-id"));
}

TEST(VmId, OverrideWinsAndIsValidated) {
  TempFile f("4C4C4544-0042-3510-8052-B3C04F4A4B32\n");
  auto id = resolve_vm_id(std::string("AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE"), f.path());
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
  // The override is used even when the file is missing (containers, no SMBIOS).
  EXPECT_TRUE(resolve_vm_id(std::string("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"), "/nonexistent").ok());
  auto bad = resolve_vm_id(std::string("vm-42"), f.path());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().reason, "vm-id-invalid");
  EXPECT_THAT(bad.error().message, HasSubstr("--vm-id: VM id has 5 characters"));
}

}  // namespace
}  // namespace tl::agent
