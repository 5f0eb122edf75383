// Fuzzes the tpm2-tools credential file parser and make_credential with arbitrary
// EK public areas. Each input is used both ways (no selector byte, so the real
// EK public area seed reaches make_credential unchanged).
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "common/hex.h"
#include "fuzz_support.h"
#include "tpm/credential.h"
#include "tpm/public_area.h"

namespace {

using tl::ByteView;
using tl::fuzz::check;

size_t u16_at(const tl::Bytes& b) { return (size_t{b[0]} << 8) | b[1]; }

void check_file(ByteView in) {
  auto f = tl::tpm::parse_credential_file(in);
  if (!f) return;
  // Invariants: both parts are TPM2Bs whose size prefix covers the rest, and
  // writing the parsed file gives back the input exactly.
  check(f->credential_blob.size() >= 2 && u16_at(f->credential_blob) == f->credential_blob.size() - 2);
  check(f->secret.size() >= 2 && u16_at(f->secret) == f->secret.size() - 2);
  const tl::Bytes again = tl::tpm::credential_file(*f);
  check(again.size() == in.size() && std::equal(again.begin(), again.end(), in.begin()));
}

void check_make(ByteView in) {
  auto ek = tl::tpm::parse_public_area(in);
  if (!ek) return;
  static const uint8_t kName[34] = {0x00, 0x0b, 1, 2, 3};
  static const uint8_t kSecret[20] = {9, 8, 7};
  auto made = tl::tpm::make_credential(*ek, kName, kSecret);
  if (!made) return;
  const size_t d = tl::crypto::digest_size(ek->name_alg);
  // TPM2B_ID_OBJECT = u16 || (u16 || HMAC) || encIdentity (u16 size + secret, encrypted).
  check(made->credential_blob.size() == 2 + 2 + d + 2 + sizeof kSecret);
  check(u16_at(made->credential_blob) == made->credential_blob.size() - 2);
  check(made->secret.size() >= 2 && u16_at(made->secret) == made->secret.size() - 2);
  auto file = tl::tpm::parse_credential_file(tl::tpm::credential_file(*made));
  check(file.ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView in(data, size);
  check_file(in);
  check_make(in);
  return 0;
}
