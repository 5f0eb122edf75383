#include "eventlog/efi_signature_list.h"

#include "common/byte_reader.h"

namespace tl::eventlog {

Guid efi_cert_x509_guid() {
  return guid_from_fields(0xa5c059a1, 0x94e4, 0x4aa7, {0x87, 0xb5, 0xab, 0x15, 0x5c, 0x2b, 0xf0, 0x72});
}
Guid efi_cert_sha256_guid() {
  return guid_from_fields(0xc1c41626, 0x504c, 0x4092, {0xac, 0xa9, 0x41, 0xf9, 0x36, 0x93, 0x43, 0x28});
}

std::string signature_type_name(const Guid& type) {
  struct Known {
    Guid guid;
    const char* name;
  };
  // UEFI spec 2.10, section 32.4.1, "EFI_SIGNATURE_DATA" type GUIDs.
  static const Known kKnown[] = {
      {efi_cert_x509_guid(), "x509"},
      {efi_cert_sha256_guid(), "sha256"},
      {guid_from_fields(0x826ca512, 0xcf10, 0x4ac9, {0xb1, 0x87, 0xbe, 0x01, 0x49, 0x66, 0x31, 0xbd}), "sha1"},
      {guid_from_fields(0x3c5766e8, 0x269c, 0x4e34, {0xaa, 0x14, 0xed, 0x77, 0x6e, 0x85, 0xb3, 0xb6}), "rsa2048"},
      {guid_from_fields(0x0b6e5233, 0xa65c, 0x44c9, {0x94, 0x07, 0xd9, 0xab, 0x83, 0xbf, 0xc8, 0xbd}), "sha224"},
      {guid_from_fields(0xff3e5307, 0x9fd0, 0x48c9, {0x85, 0xf1, 0x8a, 0xd5, 0x6c, 0x70, 0x1e, 0x01}), "sha384"},
      {guid_from_fields(0x093e0fae, 0xa6c4, 0x4f50, {0x9f, 0x1b, 0xd4, 0x1e, 0x2b, 0x89, 0xc1, 0x9a}), "sha512"},
      {guid_from_fields(0x3bd2a492, 0x96c0, 0x4079, {0xb4, 0x20, 0xfc, 0xf9, 0x8e, 0xf1, 0x03, 0xed}), "x509_sha256"},
      {guid_from_fields(0x7076876e, 0x80c2, 0x4ee6, {0xaa, 0xd2, 0x28, 0xb3, 0x49, 0xa6, 0x86, 0x5b}), "x509_sha384"},
      {guid_from_fields(0x446dbf63, 0x2502, 0x4cda, {0xbc, 0xfa, 0x24, 0x65, 0xd2, 0xb0, 0xfe, 0x9d}), "x509_sha512"},
  };
  for (const auto& k : kKnown)
    if (k.guid == type) return k.name;
  return type.to_string();
}

Result<std::vector<EfiSignatureList>> parse_signature_lists(ByteView data, size_t base_offset) {
  constexpr size_t kListHeaderSize = 16 + 4 + 4 + 4;
  constexpr size_t kOwnerSize = 16;
  std::vector<EfiSignatureList> lists;
  ByteReader r(data, base_offset);
  size_t total = 0;
  while (!r.empty()) {
    EfiSignatureList list;
    list.offset = r.offset();
    const std::string where = "EFI_SIGNATURE_LIST " + std::to_string(lists.size());
    auto type = r.bytes(16, where + ".SignatureType");
    if (!type) return type.take_error();
    auto list_size = r.u32_le(where + ".SignatureListSize");
    if (!list_size) return list_size.take_error();
    auto header_size = r.u32_le(where + ".SignatureHeaderSize");
    if (!header_size) return header_size.take_error();
    auto sig_size = r.u32_le(where + ".SignatureSize");
    if (!sig_size) return sig_size.take_error();
    list.type = guid_from_bytes(*type);
    const size_t body = size_t{*list_size} >= kListHeaderSize ? *list_size - kListHeaderSize : 0;
    if (*list_size < kListHeaderSize || body > r.remaining()) {
      return r.error_at(list.offset, where + ".SignatureListSize",
                        std::to_string(*list_size) + " does not fit: the list needs at least " +
                            std::to_string(kListHeaderSize) + " bytes and only " +
                            std::to_string(r.remaining() + kListHeaderSize) + " are left");
    }
    if (*header_size > body) {
      return r.error_at(list.offset, where + ".SignatureHeaderSize",
                        std::to_string(*header_size) + " exceeds the list body of " +
                            std::to_string(body) + " bytes");
    }
    if (*sig_size < kOwnerSize) {
      return r.error_at(list.offset, where + ".SignatureSize",
                        std::to_string(*sig_size) + " is smaller than the 16-byte SignatureOwner");
    }
    const size_t sig_bytes = body - *header_size;
    if (sig_bytes % *sig_size != 0) {
      return r.error_at(list.offset, where + ".SignatureSize",
                        std::to_string(sig_bytes) + " bytes of signatures are not a multiple of " +
                            "SignatureSize " + std::to_string(*sig_size));
    }
    auto header = r.bytes(*header_size, where + ".SignatureHeader");
    if (!header) return header.take_error();
    list.header = *header;
    const size_t count = sig_bytes / *sig_size;
    if (count > kMaxSignatures - total) {
      return r.error_at(list.offset, where, "more than " + std::to_string(kMaxSignatures) +
                                                " signatures in one database");
    }
    total += count;
    list.signatures.reserve(count);
    // The sizes were checked against the list body above, so these reads cannot
    // fail; the field names are still built only if one does (dbx holds hundreds).
    for (size_t i = 0; i < count; ++i) {
      EfiSignature sig;
      sig.offset = r.offset();
      auto owner = r.bytes(kOwnerSize, "SignatureOwner");
      auto value = owner ? r.bytes(*sig_size - kOwnerSize, "SignatureData") : owner;
      if (!value) {
        return with_context(where + ".Signatures[" + std::to_string(i) + "]", value.take_error());
      }
      sig.owner = guid_from_bytes(*owner);
      sig.data = *value;
      list.signatures.push_back(sig);
    }
    lists.push_back(std::move(list));
  }
  return lists;
}

}  // namespace tl::eventlog
