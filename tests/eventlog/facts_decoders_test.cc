// The wire decoders behind the facts: UEFI_VARIABLE_DATA, EFI_SIGNATURE_LIST,
// device paths and UEFI_IMAGE_LOAD_EVENT. Expected texts come from the UEFI
// spec's text forms and were cross-checked against the bytes by hand / Python.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "eventlog/device_path.h"
#include "eventlog/efi_signature_list.h"
#include "eventlog/facts_internal.h"
#include "eventlog/uefi_variable.h"
#include "log_builder.h"

namespace tl::eventlog {
namespace {

using ::testing::HasSubstr;
using test::put_bytes;
using test::put_u32;

Bytes hex(std::string_view h) { return from_hex(h).value(); }

void put_u64(Bytes& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

Bytes utf16(std::string_view ascii) {
  Bytes out;
  for (char c : ascii) {
    out.push_back(static_cast<uint8_t>(c));
    out.push_back(0);
  }
  return out;
}

Bytes variable(const Guid& g, std::string_view name, ByteView data, uint64_t name_len_override = ~0ull,
               uint64_t data_len_override = ~0ull) {
  Bytes out(g.bytes.begin(), g.bytes.end());
  put_u64(out, name_len_override != ~0ull ? name_len_override : name.size());
  put_u64(out, data_len_override != ~0ull ? data_len_override : data.size());
  put_bytes(out, utf16(name));
  put_bytes(out, data);
  return out;
}

TEST(Guid, PrintsTheRegistryFormOfSpecConstants) {
  // UEFI spec 2.10 section 3.3 (EFI_GLOBAL_VARIABLE) and 32.6.1 (EFI_IMAGE_SECURITY_DATABASE_GUID).
  EXPECT_EQ(efi_global_variable_guid().to_string(), "8be4df61-93ca-11d2-aa0d-00e098032b8c");
  EXPECT_EQ(image_security_database_guid().to_string(), "d719b2cb-3d3a-4596-a3bc-dad00e67656f");
  // The wire bytes of EFI_GLOBAL_VARIABLE as tpm2_eventlog shows them in the Debian log.
  EXPECT_EQ(guid_from_bytes(hex("61dfe48bca93d211aa0d00e098032b8c")), efi_global_variable_guid());
}

TEST(Utf16, DecodesBmpSurrogatesAndStopsAtNul) {
  EXPECT_EQ(utf16le_to_utf8(utf16("SecureBoot")), "SecureBoot");
  EXPECT_EQ(utf16le_to_utf8(hex("e900")), "\xc3\xa9");                   // é
  EXPECT_EQ(utf16le_to_utf8(hex("3dd800de")), "\xf0\x9f\x98\x80");       // U+1F600 as a pair
  EXPECT_EQ(utf16le_to_utf8(hex("41000000420000")), "A");                // NUL ends the string
  EXPECT_EQ(utf16le_to_utf8(hex("00d84100")), "\xef\xbf\xbd" "A");       // lone high surrogate
  EXPECT_EQ(utf16le_to_utf8(hex("410042")), "A\xef\xbf\xbd");            // odd trailing byte
}

TEST(UefiVariable, DecodesNameAndData) {
  const Bytes v = variable(efi_global_variable_guid(), "SecureBoot", hex("01"));
  auto parsed = parse_uefi_variable(v, 0x100);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->vendor, efi_global_variable_guid());
  EXPECT_EQ(parsed->name, "SecureBoot");
  EXPECT_TRUE(parsed->name_is("SecureBoot"));
  EXPECT_FALSE(parsed->name_is("SecureBoo"));
  EXPECT_EQ(to_hex(parsed->data), "01");
  EXPECT_EQ(parsed->data_offset, 0x100u + 32 + 20);
  EXPECT_EQ(parsed->trailing, 0u);
}

TEST(UefiVariable, NameWithEmbeddedNulIsNotTheShorterName) {
  const Bytes v = variable(efi_global_variable_guid(), std::string_view("SecureBoot\0x", 12), hex("01"));
  auto parsed = parse_uefi_variable(v);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->name, "SecureBoot");  // display stops at NUL
  EXPECT_FALSE(parsed->name_is("SecureBoot"));  // but identity is the full name
}

TEST(UefiVariable, LengthsBeyondTheDataAreErrorsNamingFieldAndOffset) {
  Bytes v = variable(efi_global_variable_guid(), "PK", hex("00"), 1ull << 62);
  auto r = parse_uefi_variable(v, 0x40);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("UEFI_VARIABLE_DATA.UnicodeName at offset 0x60"));

  v = variable(efi_global_variable_guid(), "PK", hex("00"), ~0ull, 2);
  r = parse_uefi_variable(v, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("VariableDataLength 2 but only 1 bytes left"));

  r = parse_uefi_variable(hex("00112233"), 0);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("UEFI_VARIABLE_DATA.VariableName at offset 0x0"));
}

Bytes signature_list(const Guid& type, uint32_t sig_size, const std::vector<Bytes>& sigs,
                     std::optional<uint32_t> list_size = std::nullopt, uint32_t header_size = 0) {
  Bytes out(type.bytes.begin(), type.bytes.end());
  size_t body = 0;
  for (const auto& s : sigs) body += s.size();
  put_u32(out, list_size.value_or(static_cast<uint32_t>(28 + header_size + body)));
  put_u32(out, header_size);
  put_u32(out, sig_size);
  out.insert(out.end(), header_size, 0xaa);
  for (const auto& s : sigs) put_bytes(out, s);
  return out;
}

TEST(SignatureList, DecodesSeveralListsAndSignatures) {
  const Guid owner = guid_from_fields(0x77fa9abd, 0x0359, 0x4d32, {0xbd, 0x60, 0x28, 0xf4, 0xe7, 0x8f, 0x78, 0x4b});
  Bytes h1(owner.bytes.begin(), owner.bytes.end()), h2 = h1;
  h1.insert(h1.end(), 32, 0x11);
  h2.insert(h2.end(), 32, 0x22);
  Bytes data = signature_list(efi_cert_sha256_guid(), 48, {h1, h2});
  const Guid odd = guid_from_fields(0x01020304, 0x0506, 0x0708, {1, 2, 3, 4, 5, 6, 7, 8});
  Bytes other(owner.bytes.begin(), owner.bytes.end());
  other.push_back(0x5a);
  put_bytes(data, signature_list(odd, 17, {other}, std::nullopt, 3));

  auto lists = parse_signature_lists(data, 0x1000);
  ASSERT_TRUE(lists.ok()) << lists.error().message;
  ASSERT_EQ(lists->size(), 2u);
  EXPECT_EQ(signature_type_name((*lists)[0].type), "sha256");
  ASSERT_EQ((*lists)[0].signatures.size(), 2u);
  EXPECT_EQ((*lists)[0].signatures[1].owner.to_string(), "77fa9abd-0359-4d32-bd60-28f4e78f784b");
  EXPECT_EQ(to_hex((*lists)[0].signatures[1].data), std::string(64, '2'));
  EXPECT_EQ((*lists)[0].signatures[0].offset, 0x1000u + 28);
  EXPECT_EQ(signature_type_name((*lists)[1].type), "01020304-0506-0708-0102-030405060708");
  EXPECT_EQ((*lists)[1].header.size(), 3u);
  EXPECT_EQ(to_hex((*lists)[1].signatures[0].data), "5a");
}

TEST(SignatureList, RejectsInconsistentSizes) {
  Bytes sig(16 + 32, 0);
  // SignatureSize below the owner GUID.
  auto r = parse_signature_lists(signature_list(efi_cert_sha256_guid(), 15, {sig}), 0);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("EFI_SIGNATURE_LIST 0.SignatureSize"));
  // Signatures not a multiple of SignatureSize.
  r = parse_signature_lists(signature_list(efi_cert_sha256_guid(), 40, {sig}), 0);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("not a multiple of SignatureSize 40"));
  // SignatureListSize past the end, and below the header.
  r = parse_signature_lists(signature_list(efi_cert_sha256_guid(), 48, {sig}, 0xffffffffu), 0x20);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("EFI_SIGNATURE_LIST 0.SignatureListSize at offset 0x20"));
  r = parse_signature_lists(signature_list(efi_cert_sha256_guid(), 48, {}, 27), 0);
  ASSERT_FALSE(r.ok());
  // SignatureHeaderSize larger than the list.
  r = parse_signature_lists(signature_list(efi_cert_sha256_guid(), 48, {}, 28, 0), 0);
  EXPECT_TRUE(r.ok());  // an empty list is legal
  Bytes bad = signature_list(efi_cert_sha256_guid(), 48, {sig});
  test::patch_u32(bad, 20, 1000);
  r = parse_signature_lists(bad, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("SignatureHeaderSize"));
  // A second list cut short.
  Bytes two = signature_list(efi_cert_sha256_guid(), 48, {sig});
  two.push_back(0x01);
  r = parse_signature_lists(two, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("EFI_SIGNATURE_LIST 1.SignatureType"));
}

std::string dp_text(std::string_view h) {
  auto r = device_path_to_text(hex(h));
  return r.ok() ? *r : "ERROR: " + r.error().message;
}

TEST(DevicePath, RendersTheDebianShimPath) {
  // DevicePath of event 23 of eventlog_sb_debian_chain.bin, as tpm2_eventlog prints it.
  EXPECT_EQ(dp_text("02010c00d041030a00000000010106000001040430005c004500460049005c0042004f004f0054005c0042004f004f0054005800360034002e0045004600490000007fff0400"),
            "PciRoot(0x0)/Pci(0x1,0x0)/\\EFI\\BOOT\\BOOTX64.EFI");
}

TEST(DevicePath, RendersSataAndGptPartition) {
  // event-arch-linux.bin event 22 (fields cross-checked with a Python decode).
  EXPECT_EQ(dp_text("02010c00d041030a0000000001010600001703120a000100ffff000004012a0001000000000800000000000000000800000000001346501ab519444ba83dd926d40daa1c0202040446005c004500460049005c00530059005300540045004d0044005c00530059005300540045004d0044002d0042004f004f0054005800360034002e0045004600490000007fff0400"),
            "PciRoot(0x0)/Pci(0x17,0x0)/Sata(0x1,0xffff,0x0)/"
            "HD(1,GPT,1a504613-19b5-4b44-a83d-d926d40daa1c,0x800,0x80000)/"
            "\\EFI\\SYSTEMD\\SYSTEMD-BOOTX64.EFI");
}

TEST(DevicePath, RendersOtherNodesAndUnknownOnesGenerically) {
  EXPECT_EQ(dp_text("02010c00d041080a03000000" "7fff0400"), "PcieRoot(0x3)");
  EXPECT_EQ(dp_text("02010c00d041010500000000"), "Acpi(PNP0501,0x0)");
  EXPECT_EQ(dp_text("03020800" "01000200"), "Scsi(0x1,0x2)");
  EXPECT_EQ(dp_text("03170800" "01000000"), "Path(3,23,01000000)");  // NVMe node too short
  EXPECT_EQ(dp_text("03171000" "01000000" "0025380000000001"), "NVMe(0x1,00-25-38-00-00-00-00-01)");
  EXPECT_EQ(dp_text("04012a00" "02000000" "0008000000000000" "0000100000000000"
                    "78563412000000000000000000000000" "0101"),
            "HD(2,MBR,0x12345678,0x800,0x100000)");
  EXPECT_EQ(dp_text("05010600abcd"), "Path(5,1,abcd)");
  EXPECT_EQ(dp_text("01010500ff"), "Path(1,1,ff)");  // PCI node of the wrong size
  EXPECT_EQ(dp_text("04061400" "c9bdb87cebf8344faaea3ee4af6516a1"), "FvFile(7cb8bdc9-f8eb-4f34-aaea-3ee4af6516a1)");
  EXPECT_EQ(dp_text("010106000001" "010106000002" "7f010400" "010106000003" "7fff0400"),
            "Pci(0x1,0x0)/Pci(0x2,0x0),Pci(0x3,0x0)");
  EXPECT_EQ(dp_text(""), "");
  // IPv4 of event-postcode.bin's PXE boot (all zero: DHCP), and a populated one.
  EXPECT_EQ(dp_text("030c1b00" + std::string(46, '0')), "IPv4(0.0.0.0,0x0,DHCP,0.0.0.0,0.0.0.0,0.0.0.0)");
  EXPECT_EQ(dp_text("030c1b00" "0a000002" "c0a80001" "4400" "4500" "1100" "01" "0a000001" "ffffff00"),
            "IPv4(192.168.0.1,UDP,Static,10.0.0.2,10.0.0.1,255.255.255.0)");
  EXPECT_EQ(dp_text("03181200" "687474703a2f2f782f612e656669"), "Uri(http://x/a.efi)");
}

TEST(DevicePath, MalformedNodesAreErrorsNotCrashes) {
  auto r = device_path_to_text(hex("01010000"), 0x50);  // length 0 would loop forever
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("device path node Length at offset 0x50: 0 is below"));
  r = device_path_to_text(hex("0101ff00aa"), 0);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("device path node data"));
  r = device_path_to_text(hex("0101"), 0);
  ASSERT_FALSE(r.ok());
  Bytes many;
  for (size_t i = 0; i < kMaxDevicePathNodes + 1; ++i) put_bytes(many, hex("05010400"));
  r = device_path_to_text(many, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("more than 512 nodes"));
}

TEST(ImageLoadEvent, DecodesAndBoundsTheDevicePathLength) {
  Bytes e;
  put_u64(e, 0x3ce49018);
  put_u64(e, 1048504);
  put_u64(e, 0);
  put_u64(e, 4);
  put_bytes(e, hex("7fff0400"));
  auto r = parse_image_load_event(e, 0x10);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->image_location, 0x3ce49018u);
  EXPECT_EQ(r->image_length, 1048504u);
  EXPECT_EQ(r->device_path.size(), 4u);
  EXPECT_EQ(r->device_path_offset, 0x10u + 32);
  test::patch_u32(e, 24, 5);
  r = parse_image_load_event(e, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("LengthOfDevicePath 5 but only 4 bytes left"));
}

TEST(KernelVersion, ComesFromVersionedKernelFileNamesOnly) {
  using detail::kernel_version_from_path;
  EXPECT_EQ(kernel_version_from_path("(hd0,gpt2)/vmlinuz-5.14.0-130.el9.x86_64"), "5.14.0-130.el9.x86_64");
  EXPECT_EQ(kernel_version_from_path("/boot/vmlinuz-6.1.0-56-amd64"), "6.1.0-56-amd64");
  EXPECT_EQ(kernel_version_from_path("\\EFI\\Linux\\vmlinux-6.5.0"), "6.5.0");
  EXPECT_EQ(kernel_version_from_path("/vmlinuz"), std::nullopt);
  EXPECT_EQ(kernel_version_from_path("/vmlinuz-linux-lts"), std::nullopt);
  EXPECT_EQ(kernel_version_from_path("/xcat/osimage/kernel"), std::nullopt);
}

}  // namespace
}  // namespace tl::eventlog
