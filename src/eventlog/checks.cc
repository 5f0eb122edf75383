#include "eventlog/checks.h"

#include <algorithm>
#include <array>
#include <iterator>
#include <map>
#include <string_view>

#include "eventlog/facts_internal.h"
#include "eventlog/secure_boot.h"
#include "eventlog/uefi_variable.h"

namespace tl::eventlog {

namespace {

using detail::problem;

bool is_separator_value(ByteView d) {
  static const uint8_t kZero[4] = {0, 0, 0, 0};
  static const uint8_t kOnes[4] = {0xff, 0xff, 0xff, 0xff};
  return d.size() == 4 && (std::equal(d.begin(), d.end(), kZero) || std::equal(d.begin(), d.end(), kOnes));
}

bool equal_bytes(ByteView a, ByteView b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

// What the digest of an event of this kind must be the hash of.
enum class Coverage { none, data, data_or_variable_data, grub_string };

constexpr std::string_view kGrubPrefixes[] = {"grub_cmd: ", "kernel_cmdline: ", "module_cmdline: "};

// PFP 1.05 section 10.4.1 / 10.4.4 (and GRUB's tpm.c for PCR 8 strings).
Coverage coverage(const Event& e) {
  switch (e.type) {
    case EV_EFI_VARIABLE_DRIVER_CONFIG:
    case EV_EFI_VARIABLE_AUTHORITY:
    case EV_SEPARATOR:
    case EV_EFI_ACTION:
    case EV_ACTION:
      return Coverage::data;
    case EV_EFI_VARIABLE_BOOT:
    case EV_EFI_VARIABLE_BOOT2:
      // PFP says the whole UEFI_VARIABLE_DATA; EDK2/OVMF hashes only VariableData.
      return Coverage::data_or_variable_data;
    case EV_IPL:
      if (e.pcr == 8) {
        const std::string_view s = detail::ascii_data(e);
        for (auto p : kGrubPrefixes)
          if (s.substr(0, p.size()) == p && !e.data.empty() && e.data.back() == 0)
            return Coverage::grub_string;
      }
      return Coverage::none;
    default:
      return Coverage::none;
  }
}

// The bytes GRUB hashes: the string after the prefix, without the NUL.
ByteView grub_hashed_bytes(const Event& e) {
  const std::string_view s = detail::ascii_data(e);
  for (auto p : kGrubPrefixes)
    if (s.substr(0, p.size()) == p) return e.data.subspan(p.size(), s.size() - p.size());
  return e.data;
}

// One bank whose digest is not the hash of what the event type says it covers.
struct DigestMismatch {
  crypto::HashAlg alg;
  ByteView digest;
  Bytes hash_of_data;
};

std::vector<DigestMismatch> digest_mismatches(const Event& e, Coverage c) {
  std::vector<DigestMismatch> out;
  if (c == Coverage::none) return out;
  std::optional<UefiVariable> var;
  if (c == Coverage::data_or_variable_data) {
    if (auto v = parse_uefi_variable(e.data)) var = *v;
  }
  const ByteView covered = c == Coverage::grub_string ? grub_hashed_bytes(e) : e.data;
  for (const EventDigest& d : e.digests) {
    auto h = crypto::digest(d.alg, covered);
    if (!h) continue;  // bank not available in this OpenSSL build: cannot judge
    if (equal_bytes(*h, d.value)) continue;
    if (var) {
      auto hv = crypto::digest(d.alg, var->data);
      if (hv && equal_bytes(*hv, d.value)) continue;
    }
    out.push_back({d.alg, d.value, std::move(*h)});
  }
  return out;
}

void check_digests(const Event& e, std::vector<Problem>& out) {
  const Coverage c = coverage(e);
  for (const DigestMismatch& m : digest_mismatches(e, c)) {
    std::string what = c == Coverage::grub_string ? "the GRUB string after its prefix"
                       : c == Coverage::data_or_variable_data
                           ? "the event data nor of its VariableData"
                           : "the event data";
    out.push_back(problem(e, event_type_name(e.type) + ": " + std::string(crypto::hash_name(m.alg)) +
                                 " digest " + to_hex(m.digest) + " is not the hash of " + what +
                                 " (" + to_hex(m.hash_of_data) + "): the data shown is not what was measured"));
  }
}

// The digests of the two separator values per bank, computed once: this check
// runs for every event in every bank.
struct SeparatorDigests {
  std::array<Bytes, std::size(crypto::kAllHashAlgs)> zero, ones;
  SeparatorDigests() {
    static const uint8_t kZero[4] = {0, 0, 0, 0};
    static const uint8_t kOnes[4] = {0xff, 0xff, 0xff, 0xff};
    for (crypto::HashAlg alg : crypto::kAllHashAlgs) {
      const auto i = static_cast<size_t>(alg);
      if (auto h = crypto::digest(alg, kZero)) zero[i] = std::move(*h);
      if (auto h = crypto::digest(alg, kOnes)) ones[i] = std::move(*h);
    }
  }
};

bool digest_is_separator(const Event& e) {
  static const SeparatorDigests kSeparators;
  for (const EventDigest& d : e.digests) {
    const auto i = static_cast<size_t>(d.alg);
    if (equal_bytes(kSeparators.zero[i], d.value) || equal_bytes(kSeparators.ones[i], d.value)) return true;
  }
  return false;
}

void check_type_content(const Event& e, std::vector<Problem>& out) {
  if (e.type == EV_SEPARATOR) {
    if (!is_separator_value(e.data))
      out.push_back(problem(e, "EV_SEPARATOR data must be 4 bytes 00000000 or ffffffff, got " +
                                   std::to_string(e.data.size()) + " bytes"));
    return;
  }
  if (e.type == EV_NO_ACTION) return;  // never extended
  if (is_separator_value(e.data) || digest_is_separator(e)) {
    out.push_back(problem(e, event_type_name(e.type) +
                                 " carries a separator value: a separator must be EV_SEPARATOR"));
  }
  const bool variable_type = e.type == EV_EFI_VARIABLE_DRIVER_CONFIG || e.type == EV_EFI_VARIABLE_BOOT ||
                             e.type == EV_EFI_VARIABLE_BOOT2 || e.type == EV_EFI_VARIABLE_AUTHORITY;
  if (variable_type) {
    // Bytes after VariableData belong to no field: what do they hide?
    auto var = parse_uefi_variable(e.data);
    if (var && var->trailing != 0)
      out.push_back(problem(e, event_type_name(e.type) + " has " + std::to_string(var->trailing) +
                                   " bytes after VariableData of " + var->name));
  } else {
    auto var = parse_uefi_variable(e.data);
    if (var && var->trailing == 0 && is_secure_boot_variable(*var))
      out.push_back(problem(e, event_type_name(e.type) + " carries the Secure Boot variable " +
                                   var->name + ": it must be EV_EFI_VARIABLE_DRIVER_CONFIG on PCR 7"));
  }
}

// PFP 1.05 section 3.3.4.8 (PCR 7) / 10.4.4: what firmware measures into PCR 7.
bool allowed_on_pcr7(uint32_t type) {
  switch (type) {
    case EV_EFI_VARIABLE_DRIVER_CONFIG:
    case EV_EFI_VARIABLE_AUTHORITY:
    case EV_SEPARATOR:
    case EV_EFI_ACTION:
    case EV_NO_ACTION:
    case EV_EFI_SPDM_DEVICE_POLICY:
    case EV_EFI_SPDM_DEVICE_AUTHORITY:
      return true;
    default:
      return false;
  }
}

}  // namespace

bool data_is_measured(const Event& e) { return digest_mismatches(e, coverage(e)).empty(); }

std::vector<Problem> check_events(std::span<const Event> events) {
  std::vector<Problem> out;
  std::map<uint32_t, uint32_t> separator_at;      // PCR -> first separator's event index
  std::map<std::string, uint32_t> sb_variable_at;  // Secure Boot variable -> first event index
  const Event* last_pcr7 = nullptr;
  for (const Event& e : events) {
    if (e.index == 0 && e.type == EV_NO_ACTION) continue;  // the header event
    check_digests(e, out);
    check_type_content(e, out);

    if (e.type == EV_SEPARATOR && e.pcr <= 7) {
      auto [it, first] = separator_at.emplace(e.pcr, e.index);
      if (!first)
        out.push_back(problem(e, "second EV_SEPARATOR on PCR " + std::to_string(e.pcr) +
                                     " (first at event " + std::to_string(it->second) + ")"));
    }

    if (e.type == EV_EFI_VARIABLE_DRIVER_CONFIG) {
      auto var = parse_uefi_variable(e.data);
      if (var && is_secure_boot_variable(*var)) {
        if (e.pcr != 7) {
          out.push_back(problem(e, "Secure Boot variable " + var->name + " measured on PCR " +
                                       std::to_string(e.pcr) + ", not PCR 7"));
        } else {
          const std::string key = var->vendor.to_string() + "/" + var->name;
          auto [it, first] = sb_variable_at.emplace(key, e.index);
          if (!first)
            out.push_back(problem(e, "Secure Boot variable " + var->name + " measured again (first at event " +
                                         std::to_string(it->second) + ")"));
          if (separator_at.count(7) != 0)
            out.push_back(problem(e, "Secure Boot variable " + var->name +
                                         " measured after the PCR 7 separator"));
        }
      }
    }

    if (e.pcr != 7) continue;
    last_pcr7 = &e;
    if (e.type == EV_EFI_ACTION && detail::ascii_data(e) == "UEFI Debug Mode")
      out.push_back(problem(e, "UEFI Debug Mode: the firmware runs with debug features enabled, "
                               "Secure Boot cannot be relied on"));
    if (!allowed_on_pcr7(e.type)) {
      out.push_back(problem(e, event_type_name(e.type) + " is not an event type firmware measures into PCR 7"));
    } else if (separator_at.count(7) != 0 && e.type != EV_SEPARATOR &&
               e.type != EV_EFI_VARIABLE_AUTHORITY && e.type != EV_NO_ACTION) {
      out.push_back(problem(e, event_type_name(e.type) +
                                   " on PCR 7 after the separator: only EV_EFI_VARIABLE_AUTHORITY may follow it"));
    }
  }
  if (last_pcr7 != nullptr && separator_at.count(7) == 0)
    out.push_back(problem(*last_pcr7, "PCR 7 has no EV_SEPARATOR: the Secure Boot configuration was never closed"));
  return out;
}

}  // namespace tl::eventlog
