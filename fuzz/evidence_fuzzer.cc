// Fuzzes decode_evidence_text (src/verify/evidence.h). The first byte picks where
// the rest goes: 0 = the whole request body; otherwise the bytes are spliced as
// raw JSON text into one member of an otherwise valid evidence document, so the
// fuzzer reaches every field's decoder without needing a seed corpus.
// Invariants: a rejection is "evidence-malformed" with a message; an accepted
// document re-encodes to one that decodes to the same Evidence.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "verify/evidence.h"

using tl::fuzz::check;

namespace {

// '@' marks the member the fuzzer's bytes replace.
constexpr std::string_view kTemplates[] = {
    R"({"version":@,"vmId":"vm-1","nonce":"AAEC","quote":{"attest":"_1RDRw","signature":"ABQACw"},"pcrs":{"sha256":{"0":"0000000000000000000000000000000000000000000000000000000000000000"}},"eventLog":"AAAAAA","os":{"type":"Linux","distro":"Debian GNU/Linux","versionMajor":12,"versionMinor":0}})",
    R"({"version":1,"vmId":@,"nonce":@,"quote":{"attest":"_1RDRw","signature":"ABQACw"},"pcrs":{"sha256":{"0":"0000000000000000000000000000000000000000000000000000000000000000"}},"eventLog":"AAAAAA","os":{"type":"Linux","distro":"Debian GNU/Linux","versionMajor":12,"versionMinor":0}})",
    R"({"version":1,"vmId":"vm-1","nonce":"AAEC","quote":@,"pcrs":{"sha256":{"0":"0000000000000000000000000000000000000000000000000000000000000000"}},"eventLog":"AAAAAA","os":{"type":"Linux","distro":"Debian GNU/Linux","versionMajor":12,"versionMinor":0}})",
    R"({"version":1,"vmId":"vm-1","nonce":"AAEC","quote":{"attest":"_1RDRw","signature":"ABQACw"},"pcrs":@,"eventLog":"AAAAAA","os":{"type":"Linux","distro":"Debian GNU/Linux","versionMajor":12,"versionMinor":0}})",
    R"({"version":1,"vmId":"vm-1","nonce":"AAEC","quote":{"attest":"_1RDRw","signature":"ABQACw"},"pcrs":{"sha256":{"0":"0000000000000000000000000000000000000000000000000000000000000000"},"sha1":{"7":@}},"eventLog":@,"os":{"type":"Linux","distro":"Debian GNU/Linux","versionMajor":12,"versionMinor":0}})",
    R"({"version":1,"vmId":"vm-1","nonce":"AAEC","quote":{"attest":"_1RDRw","signature":"ABQACw"},"pcrs":{"sha256":{"0":"0000000000000000000000000000000000000000000000000000000000000000"}},"eventLog":"AAAAAA","runtimeKey":@,"os":{"type":"Linux","distro":"Debian GNU/Linux","versionMajor":12,"versionMinor":0}})",
    R"({"version":1,"vmId":"vm-1","nonce":"AAEC","quote":{"attest":"_1RDRw","signature":"ABQACw"},"pcrs":{"sha256":{"0":"0000000000000000000000000000000000000000000000000000000000000000"}},"eventLog":"AAAAAA","runtimeKey":{"public":"AAEC","certifyInfo":"AAEC","signature":"AAEC","policyPcrs":@},"clientPayload":@,"akPublic":"AAEC","os":{"type":"Linux","distro":"Debian GNU/Linux","versionMajor":12,"versionMinor":0}})",
    R"({"version":1,"vmId":"vm-1","nonce":"AAEC","quote":{"attest":"_1RDRw","signature":"ABQACw"},"pcrs":{"sha256":{"0":"0000000000000000000000000000000000000000000000000000000000000000"}},"eventLog":"AAAAAA","os":@})",
    R"({"version":1,"vmId":"vm-1","nonce":"AAEC","quote":{"attest":"_1RDRw","signature":"ABQACw"},"pcrs":{"sha256":{"0":"0000000000000000000000000000000000000000000000000000000000000000"}},"eventLog":"AAAAAA","os":{"type":"Linux","distro":"Debian GNU/Linux","versionMajor":12,"versionMinor":0,"kernelRelease":@},"kernelModules":@})",
    R"({"version":1,"vmId":"vm-1","nonce":"AAEC","quote":{"attest":"_1RDRw","signature":"ABQACw"},"pcrs":{"sha256":{"0":"0000000000000000000000000000000000000000000000000000000000000000"}},"eventLog":"AAAAAA","os":{"type":"Linux","distro":"Debian GNU/Linux","versionMajor":12,"versionMinor":0},"kernelModules":{"taint":@,"unsigned":@,"rejected":["a"],"imaFailures":[]}})",
    // The confidential VM member "tee" (issue 6).
    R"({"version":1,"vmId":"vm-1","nonce":"AAEC","quote":{"attest":"_1RDRw","signature":"ABQACw"},"pcrs":{"sha256":{"0":"0000000000000000000000000000000000000000000000000000000000000000"}},"eventLog":"AAAAAA","os":{"type":"Linux","distro":"Debian GNU/Linux","versionMajor":12,"versionMinor":0},"tee":@})",
    R"({"version":1,"vmId":"vm-1","nonce":"AAEC","quote":{"attest":"_1RDRw","signature":"ABQACw"},"pcrs":{"sha256":{"0":"0000000000000000000000000000000000000000000000000000000000000000"}},"eventLog":"AAAAAA","os":{"type":"Linux","distro":"Debian GNU/Linux","versionMajor":12,"versionMinor":0},"tee":{"type":@,"hclReport":@,"vcek":"AAEC","tdQuote":@}})",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view payload(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string text;
  const size_t pick = data[0] % (std::size(kTemplates) + 1);
  if (pick == 0) {
    text = payload;
  } else {
    for (char c : kTemplates[pick - 1]) {
      if (c == '@') text += payload;
      else text += c;
    }
  }
  tl::verify::EvidenceLimits limits;
  limits.max_event_log_bytes = 4096;  // keep the oversize paths reachable
  limits.max_client_payload_bytes = 256;
  auto e = tl::verify::decode_evidence_text(text, limits);
  if (!e.ok()) {
    check(e.error().reason == "evidence-malformed");
    check(!e.error().message.empty());
    return 0;
  }
  auto again = tl::verify::decode_evidence(tl::verify::encode_evidence(*e), limits);
  check(again.ok());
  check(*again == *e);
  return 0;
}
