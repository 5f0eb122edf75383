// ek_certificate_from_nv: the DER framing of an EK certificate NV index, with
// padding after the certificate dropped and everything else refused.
#include <gtest/gtest.h>

#include <string>

#include "agent/tpm/agent_tpm.h"

namespace tl::agent::tpm {
namespace {

// A SEQUENCE with `content` bytes of body (long form when needed).
Bytes sequence(size_t content) {
  Bytes b = {0x30};
  if (content < 0x80) {
    b.push_back(static_cast<uint8_t>(content));
  } else if (content < 0x100) {
    b.insert(b.end(), {0x81, static_cast<uint8_t>(content)});
  } else {
    b.insert(b.end(), {0x82, static_cast<uint8_t>(content >> 8), static_cast<uint8_t>(content)});
  }
  for (size_t i = 0; i < content; ++i) b.push_back(static_cast<uint8_t>(i * 7 + 1));
  return b;
}

void expect_refused(const Bytes& nv, const std::string& text) {
  auto r = ek_certificate_from_nv(nv);
  ASSERT_FALSE(r.ok()) << "accepted; expected: " << text;
  EXPECT_EQ(r.error().reason, "tpm-invalid-argument");
  EXPECT_NE(r.error().message.find(text), std::string::npos) << r.error().message;
}

TEST(EkCertificateNv, ExactCertificatesOfEachLengthForm) {
  for (size_t n : {0u, 5u, 127u, 128u, 255u, 256u, 1400u}) {
    const Bytes der = sequence(n);
    auto r = ek_certificate_from_nv(der);
    ASSERT_TRUE(r.ok()) << n << ": " << r.error().message;
    EXPECT_EQ(*r, der);
  }
}

TEST(EkCertificateNv, PaddingIsDropped) {
  const Bytes der = sequence(300);
  for (uint8_t pad : {0x00, 0xff}) {
    Bytes nv = der;
    nv.insert(nv.end(), 200, pad);
    auto r = ek_certificate_from_nv(nv);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(*r, der);
  }
}

TEST(EkCertificateNv, HostileContentsAreRefused) {
  const Bytes der = sequence(300);
  expect_refused({}, "tag");
  expect_refused({0x31, 0x00}, "not a DER SEQUENCE");
  expect_refused({0x30}, "length");
  expect_refused({0x30, 0x80, 0x00, 0x00}, "unsupported length form");  // BER indefinite
  expect_refused({0x30, 0x84, 0, 0, 1, 0}, "unsupported length form");
  expect_refused({0x30, 0x81, 0x05, 1, 2, 3, 4, 5}, "not minimally encoded");
  expect_refused({0x30, 0x82, 0x00, 0x85}, "not minimally encoded");
  expect_refused(Bytes(der.begin(), der.end() - 1), "SEQUENCE of 300 bytes but only 299 follow");
  Bytes junk = der;
  junk.insert(junk.end(), {0x00, 0x00, 0x30, 0x00});  // a second structure is not padding
  expect_refused(junk, "trailing data");
  for (size_t n = 0; n < der.size(); ++n) {
    EXPECT_FALSE(ek_certificate_from_nv(ByteView(der).first(n)).ok()) << n;
  }
}

}  // namespace
}  // namespace tl::agent::tpm
