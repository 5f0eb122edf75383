// A TCG PC Client event log parsed from bytes: for display and inspection only.
// Nothing here is trusted; trust decisions take eventlog::VerifiedLog.
#pragma once

#include <cstdint>
#include <vector>

#include "common/hex.h"
#include "common/result.h"
#include "eventlog/event.h"

namespace tl::eventlog {

enum class LogFormat { sha1_legacy, crypto_agile };

struct SpecIdAlgorithm {
  uint16_t alg_id;       // TPM_ALG_ID as declared in the Spec ID Event03 header
  uint16_t digest_size;  // as declared
};

class ParsedLog {
 public:
  // Takes ownership of the bytes; events view into them. Rejects malformed logs
  // with an error naming the event index, byte offset and field.
  static Result<ParsedLog> parse(Bytes data);

  ParsedLog(ParsedLog&&) noexcept = default;
  ParsedLog& operator=(ParsedLog&&) noexcept = default;
  ParsedLog(const ParsedLog&) = delete;
  ParsedLog& operator=(const ParsedLog&) = delete;

  LogFormat format() const { return format_; }
  // Banks the log carries digests for (declared by the Spec ID header; SHA-1 for legacy logs).
  const std::vector<crypto::HashAlg>& banks() const { return banks_; }
  const std::vector<SpecIdAlgorithm>& spec_id_algorithms() const { return spec_algs_; }
  // Every event in the file, the first (header) event included, in file order.
  const std::vector<Event>& events() const { return events_; }
  // Locality from a StartupLocality EV_NO_ACTION event (sets PCR 0's initial value), else 0.
  uint8_t startup_locality() const { return startup_locality_; }
  bool has_startup_locality() const { return has_startup_locality_; }
  // An EV_EFI_HCRTM_EVENT on PCR 0: the H-CRTM sequence started PCR 0 at 0…04
  // (TPM 2.0 Part 1, _TPM_Hash_End), which takes precedence over StartupLocality.
  bool has_hcrtm() const { return hcrtm_; }
  // Zero bytes after the last event (accepted only as an all-zero tail; not events).
  size_t padding_bytes() const { return padding_bytes_; }
  ByteView bytes() const { return data_; }

 private:
  ParsedLog() = default;
  friend class LogParser;
  Bytes data_;
  LogFormat format_ = LogFormat::sha1_legacy;
  std::vector<crypto::HashAlg> banks_;
  std::vector<SpecIdAlgorithm> spec_algs_;
  std::vector<Event> events_;
  uint8_t startup_locality_ = 0;
  bool has_startup_locality_ = false;
  bool hcrtm_ = false;
  size_t padding_bytes_ = 0;
};

}  // namespace tl::eventlog
