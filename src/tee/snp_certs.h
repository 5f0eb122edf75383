// Where SEV-SNP certificates come from: the evidence itself (the extended
// report's certificate table), an offline store directory, or AMD's Key
// Distribution Service through a cache that backs off when rate limited.
// AMD's roots shipped with trustlaunch: snp_anchors.h.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "common/hex.h"
#include "common/result.h"
#include "tee/snp_report.h"
#include "tee/snp_verify.h"

namespace tl::tee {

// The certificate table of SNP_GET_EXT_REPORT / the GHCB extended guest request:
// entries {GUID (16 bytes), offset (u32 LE), length (u32 LE)} ended by an all-zero
// entry; GUIDs for VCEK, VLEK, ASK, ASVK, ARK (docs/tee.md). Unknown GUIDs are
// skipped; an entry outside the table or overlapping its header is an error.
Result<SnpCertChain> parse_snp_cert_table(ByteView table);

// Offline store layout (docs/tee-snp.md; each file .pem or .der):
//   DIR/<product>/ark.pem, DIR/<product>/ask.pem, DIR/<product>/asvk.pem
//   DIR/<product>/vcek/<chip_id hex>-<REPORTED_TCB raw as 16 hex digits>.der  (or .pem)
//   DIR/<product>/vlek.der  (or .pem; for a VLEK-signed report, with asvk)
// <product> is lower case ("milan"). Missing files are errors naming the path
// (reason "snp-certs-missing").
Result<SnpCertChain> load_snp_certs(const std::filesystem::path& dir, const SnpReport& report);

struct KdsOptions {
  std::string base_url = "https://kdsintf.amd.com";
  std::filesystem::path cache_dir;  // empty: in memory only
  std::chrono::milliseconds timeout{10000};
  std::chrono::seconds max_backoff{3600};
};

// Fetches VCEKs (/vcek/v1/{product}/{hwid}?blSPL=..&teeSPL=..&snpSPL=..&ucodeSPL=..
// [&fmcSPL=..]) and the ASK+ARK chain (/vcek/v1/{product}/cert_chain). Answers
// are cached (memory and cache_dir). On HTTP 429 or 503 the client waits
// Retry-After (or doubles its back-off, up to max_backoff) and, until then,
// answers from the cache or fails with reason "kds-rate-limited" without
// contacting KDS. Other failures: "kds-unavailable" (transport, non-200, a
// VLEK report) and "kds-response-invalid" (not the expected certificates).
// Thread-safe; one request at a time.
class KdsClient {
 public:
  explicit KdsClient(KdsOptions options);
  ~KdsClient();
  KdsClient(const KdsClient&) = delete;
  KdsClient& operator=(const KdsClient&) = delete;

  Result<Bytes> vcek(const SnpReport& report);  // DER
  Result<SnpCertChain> chain(SnpProduct product);  // ark + ask, vcek empty
  Result<SnpCertChain> certificates(const SnpReport& report);  // all three

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace tl::tee
