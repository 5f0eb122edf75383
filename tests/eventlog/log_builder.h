// Synthesizes TCG event logs byte by byte for edge-case and hostile tests.
// Defaults produce a well-formed log; every field can be overridden to build
// exactly the malformed input a test needs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/hex.h"
#include "crypto/digest.h"

namespace tl::test {

// One {algorithmId, digestSize} entry of a Spec ID Event03 header, raw.
struct SpecIdAlg {
  uint16_t alg_id;
  uint16_t digest_size;
};

struct SpecIdOptions {
  std::vector<SpecIdAlg> algorithms;
  std::optional<uint32_t> number_of_algorithms;  // default: algorithms.size()
  std::string signature = std::string("Spec ID Event03\0", 16);
  uint32_t pcr = 0;
  Bytes sha1_field = Bytes(20, 0);
  Bytes vendor_info;
  std::optional<uint32_t> event_size;  // default: the real size of the struct
};

// A raw digest entry of TPML_DIGEST_VALUES.
struct RawDigest {
  uint16_t alg_id;
  Bytes value;
};

struct Event2Options {
  uint32_t pcr = 0;
  uint32_t type = 0;
  std::vector<RawDigest> digests;
  std::optional<uint32_t> digest_count;  // default: digests.size()
  Bytes data;
  std::optional<uint32_t> event_size;  // default: data.size()
};

class LogBuilder {
 public:
  // A crypto-agile log whose Spec ID header declares `banks` (in that order).
  static LogBuilder crypto_agile(std::vector<crypto::HashAlg> banks);
  // A crypto-agile log with a hand-made header (for malformed headers).
  static LogBuilder crypto_agile(const SpecIdOptions& header);
  // A legacy SHA-1 log; events are appended with legacy_event().
  static LogBuilder legacy();

  // Appends a measured event whose digests (one per declared bank, or SHA-1
  // for legacy logs) are the hashes of `data`, as firmware computes them.
  LogBuilder& event(uint32_t pcr, uint32_t type, ByteView data);
  LogBuilder& event(uint32_t pcr, uint32_t type, std::string_view data) {
    return event(pcr, type, as_bytes(data));
  }
  // Appends an event whose digest in every bank is `fill` repeated.
  LogBuilder& event_with_fill(uint32_t pcr, uint32_t type, uint8_t fill, ByteView data = {});
  // Appends a raw TCG_PCR_EVENT2.
  LogBuilder& event2(const Event2Options& e);
  // Appends a raw legacy TCG_PCR_EVENT.
  LogBuilder& legacy_event(uint32_t pcr, uint32_t type, ByteView sha1, ByteView data,
                           std::optional<uint32_t> event_size = std::nullopt);
  // Appends an EV_NO_ACTION StartupLocality event on PCR 0.
  LogBuilder& startup_locality(uint8_t locality);
  // Appends bytes as they are (padding, garbage).
  LogBuilder& raw(ByteView bytes);

  // Offset the next appended event will start at.
  size_t offset() const { return out_.size(); }
  const Bytes& bytes() const { return out_; }
  Bytes build() const { return out_; }

  // The TCG_PCR_EVENT bytes of a Spec ID Event03 header.
  static Bytes spec_id_event(const SpecIdOptions& header);
  static SpecIdOptions default_header(const std::vector<crypto::HashAlg>& banks);

 private:
  bool agile_ = false;
  std::vector<crypto::HashAlg> banks_;
  Bytes out_;
};

// Little-endian appenders, shared with tests that patch bytes.
void put_u8(Bytes& out, uint8_t v);
void put_u16(Bytes& out, uint16_t v);
void put_u32(Bytes& out, uint32_t v);
void put_bytes(Bytes& out, ByteView v);
void patch_u32(Bytes& out, size_t offset, uint32_t v);

}  // namespace tl::test
