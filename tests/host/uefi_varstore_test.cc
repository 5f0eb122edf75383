// src/host/uefi_varstore: the parser and the Secure Boot check against
// Debian's real OVMF varstores, and hostile edits of them.
#include "host/uefi_varstore.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

namespace tl::host::uefi {
namespace {

Bytes read(const std::string& name) {
  std::ifstream in("/usr/share/OVMF/" + name, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

void put32(Bytes& b, size_t o, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[o + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * i));
}

TEST(UefiVarstore, BlankHasNoVariables) {
  auto s = parse_varstore(read("OVMF_VARS_4M.fd"));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->store_offset, 0x48u);
  EXPECT_EQ(s->store_end, 0x40000u);
  EXPECT_EQ(s->list_end, 0x64u);
  EXPECT_TRUE(s->variables.empty());
}

TEST(UefiVarstore, MicrosoftHasKeys) {
  auto s = parse_varstore(read("OVMF_VARS_4M.ms.fd"));
  ASSERT_TRUE(s) << s.error().message;
  const Variable* pk = find_live(*s, "PK", global_variable_guid());
  ASSERT_NE(pk, nullptr);
  EXPECT_EQ(pk->attributes, 0x27u);
  EXPECT_EQ(pk->offset, 0x545cu);
  EXPECT_EQ(pk->data.size(), 1005u);
  ASSERT_NE(find_live(*s, "KEK", global_variable_guid()), nullptr);
  ASSERT_NE(find_live(*s, "db", image_security_database_guid()), nullptr);
  ASSERT_NE(find_live(*s, "dbx", image_security_database_guid()), nullptr);
  const Variable* sbe = find_live(*s, "SecureBootEnable", secure_boot_enable_guid());
  ASSERT_NE(sbe, nullptr);
  EXPECT_EQ(sbe->attributes, 0x3u);
  EXPECT_EQ(sbe->data, Bytes{1});
  const Variable* cm = find_live(*s, "CustomMode", custom_mode_guid());
  ASSERT_NE(cm, nullptr);
  EXPECT_EQ(cm->data, Bytes{0});
  EXPECT_EQ(s->list_end, 0x5998u);
}

TEST(UefiVarstore, CheckAcceptsMicrosoftAndSnakeoil) {
  for (const char* f : {"OVMF_VARS_4M.ms.fd", "OVMF_VARS_4M.snakeoil.fd"}) {
    auto st = check_secure_boot_varstore(read(f));
    EXPECT_TRUE(st) << f << ": " << st.error().message;
  }
}

TEST(UefiVarstore, CheckRefusesBlank) {
  auto st = check_secure_boot_varstore(read("OVMF_VARS_4M.fd"));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().reason, "uefi-keys-invalid");
  EXPECT_NE(st.error().message.find("PK"), std::string::npos) << st.error().message;
}

TEST(UefiVarstore, CheckRefusesPkDeletedAndSecureBootEnableZero) {
  Bytes b = read("OVMF_VARS_4M.ms.fd");
  Bytes no_pk = b;
  no_pk[0x545c + 2] = 0x3C;  // deleted
  auto st = check_secure_boot_varstore(no_pk);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().reason, "uefi-keys-invalid");
  EXPECT_NE(st.error().message.find("PK"), std::string::npos) << st.error().message;
  Bytes sb0 = b;
  sb0[0x58e4 + 60 + 34] = 0;  // SecureBootEnable's one data byte
  st = check_secure_boot_varstore(sb0);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("SecureBootEnable"), std::string::npos) << st.error().message;
}

TEST(UefiVarstore, HostileInputNamesFieldAndOffset) {
  const Bytes ms = read("OVMF_VARS_4M.ms.fd");
  auto err = [](const Bytes& b) {
    auto s = parse_varstore(b);
    return s ? std::string("parsed") : s.error().message;
  };
  Bytes b = ms;
  b[40] = 'X';
  EXPECT_NE(err(b).find("offset 0x28: signature"), std::string::npos) << err(b);
  b = ms;
  b[0x48] ^= 1;
  EXPECT_NE(err(b).find("variable store header at offset 0x48: GUID"), std::string::npos) << err(b);
  b = ms;
  put32(b, 0x64 + 36, 0xFFFFFFFF);
  EXPECT_EQ(err(b), "variable at offset 0x64: NameSize 4294967295 runs past the variable store (ends 0x40000)");
  b = ms;
  put32(b, 0x64 + 40, 0xFFFFFFFF);
  EXPECT_EQ(err(b), "variable at offset 0x64: DataSize 4294967295 runs past the variable store (ends 0x40000)");
  b = ms;
  put32(b, 0x64 + 36, 21);
  EXPECT_NE(err(b).find("variable at offset 0x64: NameSize 21"), std::string::npos) << err(b);
  b = ms;
  b[0x64 + 60 + 20] = 'x';  // CustomMode's terminating NUL
  EXPECT_NE(err(b).find("variable at offset 0x64: name is not NUL-terminated"), std::string::npos) << err(b);
  for (size_t n = 0; n < 0x200; ++n) {
    Bytes t(ms.begin(), ms.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_NE(err(t), "parsed") << n;
    EXPECT_NE(err(t).find("offset 0x"), std::string::npos) << n << ": " << err(t);
  }
}

TEST(UefiVarstore, GuidText) {
  auto g = parse_guid("8be4df61-93ca-11d2-aa0d-00e098032b8c");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->text(), "8be4df61-93ca-11d2-aa0d-00e098032b8c");
  EXPECT_EQ(g->bytes[0], 0x61);
  EXPECT_FALSE(parse_guid("not-a-guid"));
}

}  // namespace
}  // namespace tl::host::uefi
