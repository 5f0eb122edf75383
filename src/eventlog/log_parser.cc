// Parser for TCG PC Client event logs (PC Client Platform Firmware Profile,
// sections 9 and 10): legacy SHA-1 TCG_PCR_EVENT logs and crypto-agile logs
// (a TCG_PCR_EVENT "Spec ID Event03" header followed by TCG_PCR_EVENT2 records).
//
// Every length comes from the untrusted file, so every read goes through
// ByteReader and nothing is allocated from a declared size. Errors name the
// event index, the event's byte offset and the field.

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

#include "common/byte_reader.h"
#include "eventlog/parsed_log.h"
#include "eventlog/spec_limits.h"
#include "tpm/pcr.h"

namespace tl::eventlog {
namespace {

// Signatures are 16 bytes including the terminating NUL.
constexpr std::string_view kSpecIdPrefix{"Spec ID Event", 13};
constexpr std::string_view kSpecId03{"Spec ID Event03\0", 16};
constexpr std::string_view kStartupLocality{"StartupLocality\0", 16};

constexpr size_t kLegacyHeaderSize = 4 + 4 + 20 + 4;  // pcr, type, sha1, eventSize
constexpr size_t kSha1Size = 20;

constexpr std::string_view kDigestValueField[kMaxSpecIdAlgorithms] = {
    "digests[0].digest", "digests[1].digest", "digests[2].digest", "digests[3].digest",
    "digests[4].digest"};
constexpr std::string_view kDigestAlgField[kMaxSpecIdAlgorithms] = {
    "digests[0].hashAlg", "digests[1].hashAlg", "digests[2].hashAlg", "digests[3].hashAlg",
    "digests[4].hashAlg"};

bool starts_with(ByteView data, std::string_view prefix) {
  return data.size() >= prefix.size() &&
         std::memcmp(data.data(), prefix.data(), prefix.size()) == 0;
}

bool all_zero(ByteView data) {
  return std::all_of(data.begin(), data.end(), [](uint8_t b) { return b == 0; });
}

std::string hex16(uint16_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s = "0x0000";
  for (int i = 0; i < 4; ++i) s[5 - i] = kDigits[(v >> (4 * i)) & 0xf];
  return s;
}

}  // namespace

class LogParser {
 public:
  static Result<ParsedLog> parse(Bytes data) {
    ParsedLog log;
    log.data_ = std::move(data);
    LogParser p(log);
    if (auto s = p.run(); !s) return s.take_error();
    return log;
  }

 private:
  explicit LogParser(ParsedLog& log) : log_(log), in_(log.data_) {}

  Status run() {
    const ByteView all(log_.data_);
    if (all.empty()) return Error{"event log is empty (0 bytes)"};
    if (all.size() > kMaxLogBytes) {
      return Error{"event log is " + std::to_string(all.size()) + " bytes, over the " +
                   std::to_string(kMaxLogBytes) + "-byte limit"};
    }
    if (all_zero(all)) {
      return event_error(0, 0, "the log is " + std::to_string(all.size()) +
                                   " zero bytes and holds no events");
    }
    // Logs have roughly 100-300 bytes per event; reserving avoids regrowth.
    log_.events_.reserve(std::min<size_t>(all.size() / 64 + 8, 4096));

    if (auto s = parse_first_event(); !s) return s;
    while (!in_.empty()) {
      // Some firmware and capture paths hand over the log area with zero fill
      // after the last event. Linux stops at the first event with type 0 and
      // size 0; we accept only a tail that is entirely zero, so a zero run in
      // the middle of real events is still parsed (and rejected) as an event.
      const ByteView rest = all.subspan(in_.position());
      if (all_zero(rest)) {
        log_.padding_bytes_ = rest.size();
        break;
      }
      const uint32_t index = static_cast<uint32_t>(log_.events_.size());
      const Status s = log_.format_ == LogFormat::crypto_agile ? parse_event2(index)
                                                               : parse_legacy_event(index);
      if (!s) return s;
    }
    return {};
  }

  Error event_error(uint32_t index, size_t offset, std::string_view message) const {
    return Error{"event " + std::to_string(index) + " at offset " + hex_offset(offset) + ": " +
                 std::string(message)};
  }
  Error wrap(uint32_t index, size_t offset, Error e) const {
    return with_context("event " + std::to_string(index) + " at offset " + hex_offset(offset),
                        std::move(e));
  }

  // TCG_PCR_EVENT (legacy SHA-1 format), also the shape of the crypto-agile header.
  Result<Event> read_legacy(uint32_t index) {
    Event ev;
    ev.index = index;
    ev.offset = in_.offset();
    auto pcr = in_.u32_le("pcrIndex");
    if (!pcr) return wrap(index, ev.offset, pcr.take_error());
    auto type = in_.u32_le("eventType");
    if (!type) return wrap(index, ev.offset, type.take_error());
    auto digest = in_.bytes(kSha1Size, "digest (sha1)");
    if (!digest) return wrap(index, ev.offset, digest.take_error());
    auto size = in_.u32_le("eventSize");
    if (!size) return wrap(index, ev.offset, size.take_error());
    auto data = in_.bytes(*size, "event data");
    if (!data) {
      return event_error(index, ev.offset,
                         "eventSize " + std::to_string(*size) + " runs past the end of the log (" +
                             std::to_string(in_.remaining()) + " bytes left at offset " +
                             hex_offset(in_.offset()) + ")");
    }
    ev.pcr = *pcr;
    ev.type = *type;
    ev.digests.push_back({crypto::HashAlg::sha1, *digest});
    ev.data = *data;
    return ev;
  }

  Status parse_first_event() {
    auto first = read_legacy(0);
    if (!first) return first.take_error();
    Event& ev = *first;
    if (ev.type == EV_NO_ACTION && starts_with(ev.data, kSpecId03)) {
      if (ev.pcr != 0) {
        return event_error(0, ev.offset, "Spec ID Event03 header has pcrIndex " +
                                             std::to_string(ev.pcr) + " (must be 0)");
      }
      if (!all_zero(ev.digests[0].value)) {
        return event_error(0, ev.offset, "Spec ID Event03 header has a non-zero digest");
      }
      if (auto s = parse_spec_id(ev); !s) return s;
      log_.format_ = LogFormat::crypto_agile;
      // The header's SHA-1 field is a placeholder, not a measurement of any bank.
      ev.digests.clear();
    } else {
      // No Event03 header (or an Event00/Event02 TPM 1.2 header): legacy SHA-1 log.
      log_.format_ = LogFormat::sha1_legacy;
      log_.banks_ = {crypto::HashAlg::sha1};
      if (auto s = check_event(ev); !s) return s;
    }
    log_.events_.push_back(std::move(ev));
    return {};
  }

  // TCG_EfiSpecIDEventStruct inside the header event's data.
  Status parse_spec_id(const Event& ev) {
    const size_t data_offset = ev.offset + kLegacyHeaderSize;
    ByteReader r(ev.data, data_offset);
    auto field_error = [&](Error e) {
      return wrap(0, ev.offset, with_context("Spec ID header", std::move(e)));
    };
    if (auto s = r.skip(16, "signature"); !s) return field_error(s.take_error());
    if (auto s = r.u32_le("platformClass"); !s) return field_error(s.take_error());
    if (auto s = r.u8("specVersionMinor"); !s) return field_error(s.take_error());
    if (auto s = r.u8("specVersionMajor"); !s) return field_error(s.take_error());
    if (auto s = r.u8("specErrata"); !s) return field_error(s.take_error());
    if (auto s = r.u8("uintnSize"); !s) return field_error(s.take_error());
    const size_t count_offset = r.offset();
    auto count = r.u32_le("numberOfAlgorithms");
    if (!count) return field_error(count.take_error());
    if (*count == 0 || *count > kMaxSpecIdAlgorithms) {
      return field_error(r.error_at(count_offset, "numberOfAlgorithms",
                                    "value " + std::to_string(*count) + " is outside 1.." +
                                        std::to_string(kMaxSpecIdAlgorithms)));
    }
    for (uint32_t i = 0; i < *count; ++i) {
      const size_t alg_offset = r.offset();
      const std::string field = "digestSizes[" + std::to_string(i) + "]";
      auto id = r.u16_le(field + ".algorithmId");
      if (!id) return field_error(id.take_error());
      auto size = r.u16_le(field + ".digestSize");
      if (!size) return field_error(size.take_error());
      // An algorithm we cannot name is an algorithm whose digest size we
      // cannot check and whose bank we cannot replay: refuse the log rather
      // than skip a bank the firmware says it measured.
      const auto alg = crypto::hash_from_tpm_alg_id(*id);
      if (!alg) {
        return field_error(r.error_at(alg_offset, field + ".algorithmId",
                                      "unknown hash algorithm " + hex16(*id)));
      }
      if (*size != crypto::digest_size(*alg)) {
        return field_error(r.error_at(
            alg_offset, field + ".digestSize",
            std::string(crypto::hash_name(*alg)) + " (" + hex16(*id) + ") declared with size " +
                std::to_string(*size) + " but its digests are " +
                std::to_string(crypto::digest_size(*alg)) + " bytes"));
      }
      if (std::find(log_.banks_.begin(), log_.banks_.end(), *alg) != log_.banks_.end()) {
        return field_error(r.error_at(alg_offset, field + ".algorithmId",
                                      std::string(crypto::hash_name(*alg)) +
                                          " is declared twice"));
      }
      log_.banks_.push_back(*alg);
      log_.spec_algs_.push_back({*id, *size});
    }
    auto vendor_size = r.u8("vendorInfoSize");
    if (!vendor_size) return field_error(vendor_size.take_error());
    if (auto s = r.skip(*vendor_size, "vendorInfo"); !s) return field_error(s.take_error());
    if (!r.empty()) {
      return field_error(r.error("eventSize", "Spec ID header ends " + std::to_string(r.remaining()) +
                                                  " bytes before the event data does"));
    }
    return {};
  }

  Status parse_legacy_event(uint32_t index) {
    auto ev = read_legacy(index);
    if (!ev) return ev.take_error();
    if (auto s = check_event(*ev); !s) return s;
    log_.events_.push_back(std::move(*ev));
    return {};
  }

  // TCG_PCR_EVENT2: pcr, type, TPML_DIGEST_VALUES, eventSize, event.
  Status parse_event2(uint32_t index) {
    Event ev;
    ev.index = index;
    ev.offset = in_.offset();
    auto pcr = in_.u32_le("pcrIndex");
    if (!pcr) return wrap(index, ev.offset, pcr.take_error());
    auto type = in_.u32_le("eventType");
    if (!type) return wrap(index, ev.offset, type.take_error());
    const size_t count_offset = in_.offset();
    auto count = in_.u32_le("digests.count");
    if (!count) return wrap(index, ev.offset, count.take_error());
    const size_t nbanks = log_.banks_.size();
    if (*count != nbanks) {
      return event_error(index, ev.offset,
                         "digest count " + std::to_string(*count) + " (at offset " +
                             hex_offset(count_offset) + ") but header declares " +
                             std::to_string(nbanks) + " algorithm" + (nbanks == 1 ? "" : "s"));
    }
    ev.pcr = *pcr;
    ev.type = *type;
    ev.digests.reserve(nbanks);
    for (uint32_t i = 0; i < *count; ++i) {
      const size_t alg_offset = in_.offset();
      // count == banks <= kMaxSpecIdAlgorithms, so the names are static: no
      // string is built per digest on the success path.
      auto id = in_.u16_le(kDigestAlgField[i]);
      if (!id) return wrap(index, ev.offset, id.take_error());
      const auto pos = std::find_if(log_.spec_algs_.begin(), log_.spec_algs_.end(),
                                    [&](const SpecIdAlgorithm& a) { return a.alg_id == *id; });
      if (pos == log_.spec_algs_.end()) {
        return wrap(index, ev.offset,
                    in_.error_at(alg_offset, kDigestAlgField[i],
                                 "algorithm " + hex16(*id) + " is not declared in the Spec ID header"));
      }
      const crypto::HashAlg alg = log_.banks_[static_cast<size_t>(pos - log_.spec_algs_.begin())];
      for (const EventDigest& d : ev.digests) {
        if (d.alg == alg) {
          return wrap(index, ev.offset,
                      in_.error_at(alg_offset, kDigestAlgField[i],
                                   std::string(crypto::hash_name(alg)) + " digest appears twice"));
        }
      }
      auto value = in_.bytes(pos->digest_size, kDigestValueField[i]);
      if (!value) return wrap(index, ev.offset, value.take_error());
      ev.digests.push_back({alg, *value});
    }
    const size_t size_offset = in_.offset();
    auto size = in_.u32_le("eventSize");
    if (!size) return wrap(index, ev.offset, size.take_error());
    auto data = in_.bytes(*size, "event data");
    if (!data) {
      return event_error(index, ev.offset,
                         "eventSize " + std::to_string(*size) + " (at offset " +
                             hex_offset(size_offset) + ") runs past the end of the log (" +
                             std::to_string(in_.remaining()) + " bytes left)");
    }
    ev.data = *data;
    if (auto s = check_event(ev); !s) return s;
    log_.events_.push_back(std::move(ev));
    return {};
  }

  // Rules shared by both formats, for every event after the header.
  Status check_event(const Event& ev) {
    if (ev.pcr >= tpm::kNumPcrs) {
      return event_error(ev.index, ev.offset,
                         "pcrIndex " + std::to_string(ev.pcr) + " is out of range 0.." +
                             std::to_string(tpm::kNumPcrs - 1));
    }
    if (ev.type == EV_EFI_HCRTM_EVENT && ev.pcr == 0) log_.hcrtm_ = true;
    if (ev.type != EV_NO_ACTION) return {};
    if (starts_with(ev.data, kSpecIdPrefix)) {
      if (log_.format_ == LogFormat::crypto_agile) {
        return event_error(ev.index, ev.offset,
                           "second Spec ID event (only the first event may be the header)");
      }
      // A TPM 1.2 Event00/Event02 header as the first event of a legacy log is fine.
      if (ev.index != 0) {
        return event_error(ev.index, ev.offset,
                           "Spec ID event after the first event");
      }
    }
    if (starts_with(ev.data, kStartupLocality)) {
      if (ev.data.size() != kStartupLocality.size() + 1) {
        return event_error(ev.index, ev.offset,
                           "StartupLocality event has eventSize " + std::to_string(ev.data.size()) +
                               " (must be 17)");
      }
      if (ev.pcr != 0) {
        return event_error(ev.index, ev.offset,
                           "StartupLocality event on PCR " + std::to_string(ev.pcr) +
                               " (must be PCR 0)");
      }
      if (log_.has_startup_locality_) {
        return event_error(ev.index, ev.offset, "second StartupLocality event");
      }
      const uint8_t locality = ev.data.back();
      if (locality > 4) {
        return event_error(ev.index, ev.offset,
                           "StartupLocality " + std::to_string(locality) + " is not a locality (0..4)");
      }
      log_.has_startup_locality_ = true;
      log_.startup_locality_ = locality;
    }
    return {};
  }

  ParsedLog& log_;
  ByteReader in_;
};

Result<ParsedLog> ParsedLog::parse(Bytes data) { return LogParser::parse(std::move(data)); }

}  // namespace tl::eventlog
