#include "tpm/pcr_file.h"

#include <charconv>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/byte_reader.h"
#include "tpm/constants.h"
#include "tpm/internal.h"

namespace tl::tpm {

namespace {

// tpm2-tools writes C structs as they lie in memory: little-endian on the hosts it
// runs on, TPMS_PCR_SELECTION padded to 8 bytes, 16 of them whatever the count.
constexpr size_t kBinSelectionEntry = 8;
constexpr size_t kBinSelectionSize = 4 + kHashCount * kBinSelectionEntry;  // 132
constexpr size_t kBinDigestsPerList = 8;
constexpr size_t kBinDigestEntry = 2 + kMaxDigestSize;                            // 66
constexpr size_t kBinDigestListSize = 4 + kBinDigestsPerList * kBinDigestEntry;  // 532

Result<uint32_t> parse_index(std::string_view text) {
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return Error{"PCR index '" + std::string(text) + "' is not a decimal number"};
  }
  if (v >= kNumPcrs) {
    return Error{"PCR index " + std::to_string(v) + " is out of range (0-" +
                 std::to_string(kNumPcrs - 1) + ")"};
  }
  return v;
}

Result<crypto::HashAlg> parse_bank(std::string_view name) {
  auto b = crypto::hash_from_name(name);
  if (!b) return Error{"unknown PCR bank '" + std::string(name) + "'"};
  return *b;
}

// Adds one value, rejecting duplicates and values of the wrong size for the bank.
Status add_value(PcrValues& out, crypto::HashAlg bank, uint32_t pcr, Bytes value) {
  if (value.size() != crypto::digest_size(bank)) {
    return Error{std::string(crypto::hash_name(bank)) + " PCR " + std::to_string(pcr) + " value is " +
                 std::to_string(value.size()) + " bytes, expected " +
                 std::to_string(crypto::digest_size(bank))};
  }
  auto [it, inserted] = out[bank].emplace(pcr, std::move(value));
  if (!inserted) {
    return Error{std::string(crypto::hash_name(bank)) + " PCR " + std::to_string(pcr) +
                 " given twice"};
  }
  return {};
}

Result<PcrValues> nonempty(PcrValues v, std::string_view format) {
  if (v.empty()) return Error{std::string(format) + ": no PCR values found"};
  return v;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    out.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

Error line_error(size_t line, std::string_view format, const std::string& msg) {
  return Error{std::string(format) + " line " + std::to_string(line) + ": " + msg};
}

Result<PcrValues> parse_binary(ByteView data) {
  constexpr std::string_view kFmt = "tpm2-tools binary PCR file";
  ByteReader r(data);
  if (data.size() < kBinSelectionSize + 4) {
    return Error{std::string(kFmt) + ": " + std::to_string(data.size()) +
                 " bytes, shorter than the 136-byte header (TPML_PCR_SELECTION + count)"};
  }
  TL_TPM_TRY(count, r.u32_le("TPML_PCR_SELECTION.count"));
  if (count > kHashCount) {
    return r.error_at(0, "TPML_PCR_SELECTION.count",
                      std::to_string(count) + " exceeds " + std::to_string(kHashCount));
  }
  struct Bank {
    crypto::HashAlg alg;
    std::vector<uint32_t> pcrs;
  };
  std::vector<Bank> banks;
  size_t selected = 0;
  for (uint32_t i = 0; i < kHashCount; ++i) {
    const std::string field = "TPML_PCR_SELECTION.pcrSelections[" + std::to_string(i) + "]";
    const size_t at = r.offset();
    TL_TPM_TRY(hash_id, r.u16_le(field + ".hash"));
    TL_TPM_TRY(size_of_select, r.u8(field + ".sizeofSelect"));
    TL_TPM_TRY(bitmap, r.bytes(kMaxPcrSelectBytes, field + ".pcrSelect"));
    TL_TPM_CHECK(r.skip(1, field + ".padding"));
    if (i >= count) continue;  // unused slots: whatever was in memory
    auto alg = crypto::hash_from_tpm_alg_id(hash_id);
    if (!alg) return r.error_at(at, field + ".hash", "unknown hash algorithm " + alg_name(hash_id));
    for (const auto& b : banks) {
      if (b.alg == *alg) return r.error_at(at, field + ".hash", "bank listed twice");
    }
    if (size_of_select > kMaxPcrSelectBytes) {
      return r.error_at(at + 2, field + ".sizeofSelect",
                        std::to_string(size_of_select) + " exceeds " +
                            std::to_string(kMaxPcrSelectBytes));
    }
    Bank b{*alg, {}};
    for (uint32_t byte = 0; byte < size_of_select; ++byte) {
      for (uint32_t bit = 0; bit < 8; ++bit) {
        if ((bitmap[byte] >> bit) & 1u) {
          const uint32_t pcr = byte * 8 + bit;
          if (pcr >= kNumPcrs) {
            return r.error_at(at + 3, field + ".pcrSelect",
                              "selects PCR " + std::to_string(pcr) + ", beyond " +
                                  std::to_string(kNumPcrs - 1));
          }
          b.pcrs.push_back(pcr);
        }
      }
    }
    selected += b.pcrs.size();
    banks.push_back(std::move(b));
  }
  const size_t lists_at = r.offset();
  TL_TPM_TRY(lists, r.u32_le("digest list count"));
  const size_t expected_lists = (selected + kBinDigestsPerList - 1) / kBinDigestsPerList;
  if (lists != expected_lists) {
    return r.error_at(lists_at, "digest list count",
                      std::to_string(lists) + " lists but the selection has " +
                          std::to_string(selected) + " PCRs (needs " +
                          std::to_string(expected_lists) + ")");
  }
  if (r.remaining() != size_t{lists} * kBinDigestListSize) {
    return r.error(std::string(kFmt),
                   std::to_string(r.remaining()) + " bytes of digest lists, expected " +
                       std::to_string(size_t{lists} * kBinDigestListSize));
  }
  // Values come in selection order, 8 per TPML_DIGEST.
  std::vector<std::pair<crypto::HashAlg, uint32_t>> order;
  for (const auto& b : banks) {
    for (uint32_t p : b.pcrs) order.emplace_back(b.alg, p);
  }
  PcrValues out;
  size_t next = 0;
  for (uint32_t l = 0; l < lists; ++l) {
    const std::string field = "TPML_DIGEST[" + std::to_string(l) + "]";
    const size_t count_at = r.offset();
    TL_TPM_TRY(n, r.u32_le(field + ".count"));
    if (n > kBinDigestsPerList || next + n > order.size()) {
      return r.error_at(count_at, field + ".count",
                        std::to_string(n) + " does not fit the selection (" +
                            std::to_string(order.size() - next) + " PCR values left, at most 8 per list)");
    }
    for (uint32_t i = 0; i < kBinDigestsPerList; ++i) {
      const std::string dfield = field + ".digests[" + std::to_string(i) + "]";
      const size_t size_at = r.offset();
      TL_TPM_TRY(size, r.u16_le(dfield + ".size"));
      TL_TPM_TRY(buf, r.bytes(kMaxDigestSize, dfield + ".buffer"));
      if (i >= n) continue;
      const auto [bank, pcr] = order[next++];
      if (size != crypto::digest_size(bank)) {
        return r.error_at(size_at, dfield + ".size",
                          std::to_string(size) + " but " + std::string(crypto::hash_name(bank)) +
                              " PCR " + std::to_string(pcr) + " needs " +
                              std::to_string(crypto::digest_size(bank)));
      }
      if (auto st = add_value(out, bank, pcr, Bytes(buf.begin(), buf.begin() + size)); !st) {
        return r.error_at(size_at, dfield, st.error().message);
      }
    }
  }
  if (next != order.size()) {
    return Error{std::string(kFmt) + ": digest lists hold " + std::to_string(next) +
                 " values but the selection has " + std::to_string(order.size()) + " PCRs"};
  }
  return nonempty(std::move(out), kFmt);
}

// tpm2_pcrread (and tpm2_quote's "pcrs:" section):
//   sha256:
//     0 : 0x3D45…
Result<PcrValues> parse_yaml(std::string_view text) {
  constexpr std::string_view kFmt = "tpm2_pcrread YAML";
  PcrValues out;
  std::optional<crypto::HashAlg> bank;
  size_t n = 0;
  for (std::string_view raw : lines_of(text)) {
    ++n;
    std::string_view line = trim(raw);
    if (line.empty()) continue;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return line_error(n, kFmt, "expected 'bank:' or 'N : 0xHEX'");
    std::string_view key = trim(line.substr(0, colon));
    std::string_view rest = trim(line.substr(colon + 1));
    if (rest.empty()) {
      if (key == "pcrs") continue;  // tpm2_quote's wrapper
      auto b = parse_bank(key);
      if (!b) return line_error(n, kFmt, b.error().message);
      if (out.count(*b) != 0) return line_error(n, kFmt, "bank " + std::string(key) + " given twice");
      bank = *b;
      out[*bank];
      continue;
    }
    if (!bank) return line_error(n, kFmt, "PCR value before any 'bank:' line");
    auto idx = parse_index(key);
    if (!idx) return line_error(n, kFmt, idx.error().message);
    auto value = from_hex(rest);
    if (!value) return line_error(n, kFmt, "PCR " + std::to_string(*idx) + ": " + value.error().message);
    if (auto st = add_value(out, *bank, *idx, std::move(*value)); !st) {
      return line_error(n, kFmt, st.error().message);
    }
  }
  std::erase_if(out, [](const auto& kv) { return kv.second.empty(); });
  return nonempty(std::move(out), kFmt);
}

// Linux sysfs-style dump: "PCR sha256 0 3D45…" per line.
Result<PcrValues> parse_sysfs_lines(std::string_view text) {
  constexpr std::string_view kFmt = "PCR lines";
  PcrValues out;
  size_t n = 0;
  for (std::string_view raw : lines_of(text)) {
    ++n;
    std::string_view line = trim(raw);
    if (line.empty()) continue;
    std::vector<std::string_view> words;
    while (!line.empty()) {
      size_t sp = line.find_first_of(" \t");
      words.push_back(line.substr(0, sp));
      if (sp == std::string_view::npos) break;
      line = trim(line.substr(sp));
    }
    if (words.size() != 4 || words[0] != "PCR") {
      return line_error(n, kFmt, "expected 'PCR <bank> <index> <hex>'");
    }
    auto bank = parse_bank(words[1]);
    if (!bank) return line_error(n, kFmt, bank.error().message);
    auto idx = parse_index(words[2]);
    if (!idx) return line_error(n, kFmt, idx.error().message);
    auto value = from_hex(words[3]);
    if (!value) return line_error(n, kFmt, "PCR " + std::to_string(*idx) + ": " + value.error().message);
    if (auto st = add_value(out, *bank, *idx, std::move(*value)); !st) {
      return line_error(n, kFmt, st.error().message);
    }
  }
  return nonempty(std::move(out), kFmt);
}

// {"sha256": {"0": "hex", …}, …}
Result<PcrValues> parse_json(std::string_view text) {
  constexpr std::string_view kFmt = "PCR JSON";
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return Error{std::string(kFmt) + " at byte " + std::to_string(e.byte) + ": not valid JSON"};
  } catch (const nlohmann::json::exception& e) {
    // e.g. out_of_range for a number too large: found by tpm_structures_fuzzer.
    return Error{std::string(kFmt) + ": not usable JSON (" + e.what() + ")"};
  }
  if (!j.is_object()) return Error{std::string(kFmt) + ": top level must be an object of banks"};
  PcrValues out;
  for (const auto& [bank_name, pcrs] : j.items()) {
    auto bank = parse_bank(bank_name);
    if (!bank) return Error{std::string(kFmt) + ": " + bank.error().message};
    if (!pcrs.is_object()) {
      return Error{std::string(kFmt) + ": bank " + bank_name + " must map PCR index to hex"};
    }
    for (const auto& [index, value] : pcrs.items()) {
      const std::string where = std::string(kFmt) + " " + bank_name + "[\"" + index + "\"]";
      auto idx = parse_index(index);
      if (!idx) return Error{where + ": " + idx.error().message};
      if (!value.is_string()) return Error{where + ": value must be a hex string"};
      auto bytes = from_hex(value.get<std::string>());
      if (!bytes) return Error{where + ": " + bytes.error().message};
      if (auto st = add_value(out, *bank, *idx, std::move(*bytes)); !st) {
        return Error{where + ": " + st.error().message};
      }
    }
  }
  std::erase_if(out, [](const auto& kv) { return kv.second.empty(); });
  return nonempty(std::move(out), kFmt);
}

bool looks_binary(ByteView data) {
  for (uint8_t c : data) {
    if (c == 0 || (c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c >= 0x7f) return true;
  }
  return false;
}

}  // namespace

Result<PcrValues> parse_pcr_file(ByteView contents) {
  if (contents.empty()) return Error{"PCR file is empty"};
  if (looks_binary(contents)) return parse_binary(contents);
  std::string_view text(reinterpret_cast<const char*>(contents.data()), contents.size());
  std::string_view start = text;
  while (!start.empty() && (start.front() == ' ' || start.front() == '\t' ||
                            start.front() == '\n' || start.front() == '\r')) {
    start.remove_prefix(1);
  }
  if (start.empty()) return Error{"PCR file holds only whitespace"};
  if (start.front() == '{') return parse_json(text);
  if (start.starts_with("PCR ") || start.starts_with("PCR\t")) return parse_sysfs_lines(text);
  return parse_yaml(text);
}

}  // namespace tl::tpm
