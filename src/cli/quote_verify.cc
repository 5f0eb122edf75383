// tlaunch quote verify --ak FILE --message FILE --signature FILE --nonce HEX
//                      [--pcrs FILE] [--require SPEC] [--json]
// Prints the check-by-check report of tpm::check_quote: the same code path as
// tpm::verify_quote, so the CLI and the library cannot disagree on a verdict.
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/json_output.h"
#include "cli/options.h"
#include "common/hex.h"
#include "crypto/public_key.h"
#include "tpm/constants.h"
#include "tpm/pcr_file.h"
#include "tpm/public_area.h"
#include "tpm/quote.h"

namespace tl::cli {

namespace {

using nlohmann::ordered_json;

constexpr const char* kHelp =
    "usage: tlaunch quote verify --ak FILE --message FILE --signature FILE --nonce HEX\n"
    "                            [--pcrs FILE] [--require SPEC] [--json]\n"
    "\n"
    "Verify a TPM2_Quote: magic, type, nonce, signature under the AK, PCR selection\n"
    "and the PCR digest over the given PCR values.\n"
    "\n"
    "  --ak FILE         attestation key: PEM or DER SubjectPublicKeyInfo, or the TPM\n"
    "                    public area (TPM2B_PUBLIC as written by tpm2_create -u /\n"
    "                    tpm2_createak -u, or TPMT_PUBLIC); with a public area the AK's\n"
    "                    attributes (restricted, sign, fixedTPM) and scheme are checked too\n"
    "  --message FILE    TPMS_ATTEST (tpm2_quote -m)\n"
    "  --signature FILE  TPMT_SIGNATURE (tpm2_quote -s)\n"
    "  --nonce HEX       the nonce the quote must carry in extraData (tpm2_quote -q)\n"
    "  --pcrs FILE       PCR values: tpm2_quote -o / tpm2_pcrread -F serialized -o\n"
    "                    binary, tpm2_pcrread YAML, JSON {\"sha256\":{\"0\":hex}}, or\n"
    "                    lines \"PCR sha256 0 HEX\". Without it the PCR digest cannot be\n"
    "                    checked and the quote is NOT reported valid (exit 1).\n"
    "  --require SPEC    PCRs the quote must cover, e.g. sha256:0,1,7+sha1:0\n"
    "                    (default: every PCR in --pcrs)\n"
    "  --json            print one JSON object (shape in docs/cli.md)\n"
    "\n"
    "Exit status: 0 the quote is valid, 1 a check failed, 2 malformed input or usage error.\n";

int usage_error(const std::string& m) {
  std::cerr << "tlaunch quote verify: " << m << "\n(see --help)\n";
  return kExitBadInput;
}

int input_error(const std::string& m) {
  std::cerr << "tlaunch quote verify: " << m << '\n';
  return kExitBadInput;
}

struct Ak {
  std::string format;  // "pem", "der-spki", "tpm-public"
  std::optional<crypto::PublicKey> key;
  std::optional<tpm::PublicArea> area;
};

// Detects the AK encoding: PEM text, DER SPKI (a SEQUENCE, 0x30), else a TPM public area.
Result<Ak> load_ak(const std::vector<uint8_t>& data) {
  const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
  if (text.find("-----BEGIN") != std::string_view::npos) {
    auto k = crypto::PublicKey::from_pem(text);
    if (!k) return Error{"AK PEM: " + k.error().message};
    return Ak{"pem", std::move(*k), std::nullopt};
  }
  if (!data.empty() && data[0] == 0x30) {
    auto k = crypto::PublicKey::from_der_spki(data);
    if (!k) return Error{"AK DER SubjectPublicKeyInfo: " + k.error().message};
    return Ak{"der-spki", std::move(*k), std::nullopt};
  }
  auto area = tpm::parse_public_area(data);
  if (!area) {
    return Error{"AK is neither PEM, DER SubjectPublicKeyInfo nor a TPM public area: " +
                 area.error().message};
  }
  auto k = area->public_key();
  if (!k) return Error{"AK public area: " + k.error().message};
  return Ak{"tpm-public", std::move(*k), std::move(*area)};
}

// "sha256:0,1,7+sha1:0" (tpm2-tools PCR list syntax).
Result<std::vector<tpm::PcrRequirement>> parse_require(const std::string& spec) {
  std::vector<tpm::PcrRequirement> out;
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t plus = spec.find('+', pos);
    std::string part = spec.substr(pos, plus == std::string::npos ? std::string::npos : plus - pos);
    size_t colon = part.find(':');
    if (colon == std::string::npos) return Error{"--require: '" + part + "' is not BANK:PCR,PCR…"};
    auto bank = crypto::hash_from_name(part.substr(0, colon));
    if (!bank) return Error{"--require: unknown bank '" + part.substr(0, colon) + "'"};
    tpm::PcrRequirement req{*bank, {}};
    std::string list = part.substr(colon + 1);
    size_t p = 0;
    while (p <= list.size()) {
      size_t comma = list.find(',', p);
      std::string num = list.substr(p, comma == std::string::npos ? std::string::npos : comma - p);
      if (num.empty() || num.size() > 2 || num.find_first_not_of("0123456789") != std::string::npos ||
          std::stoul(num) >= tpm::kNumPcrs) {
        return Error{"--require: bad PCR index '" + num + "' in '" + part + "'"};
      }
      req.pcrs.push_back(static_cast<uint32_t>(std::stoul(num)));
      if (comma == std::string::npos) break;
      p = comma + 1;
    }
    out.push_back(std::move(req));
    if (plus == std::string::npos) break;
    pos = plus + 1;
  }
  return out;
}

ordered_json report_json(const tpm::QuoteReport& rep, const Ak& ak, bool pcrs_given) {
  ordered_json j;
  j["valid"] = rep.ok();
  if (!rep.ok()) j["error"] = rep.failure_message();
  ordered_json checks = ordered_json::array();
  for (const auto& c : rep.checks) {
    checks.push_back(ordered_json{{"name", c.name}, {"ok", c.passed}, {"detail", c.detail}});
  }
  j["checks"] = std::move(checks);
  j["pcr_values_given"] = pcrs_given;
  // Only verified PCRs are listed; a failed quote vouches for none.
  j["pcrs"] = rep.verified ? pcrs_json(rep.verified->pcrs()) : ordered_json::object();
  ordered_json akj;
  akj["format"] = ak.format;
  if (ak.area) {
    auto name = ak.area->name();
    if (name) akj["name"] = to_hex(*name);
    akj["attributes"] = ak.area->attributes.names();
  }
  j["ak"] = std::move(akj);
  if (rep.attest) {
    const tpm::Attest& a = *rep.attest;
    // From the parsed TPMS_ATTEST; signed data only when "valid" is true.
    j["attest"] = ordered_json{
        {"type", tpm::st_name(a.type)},
        {"qualified_signer", to_hex(a.qualified_signer)},
        {"extra_data", to_hex(a.extra_data)},
        {"selection", a.quote ? a.quote->pcr_select.to_string() : std::string()},
        {"pcr_digest", a.quote ? to_hex(a.quote->pcr_digest) : std::string()},
        {"clock", ordered_json{{"clock", a.clock_info.clock},
                               {"reset_count", a.clock_info.reset_count},
                               {"restart_count", a.clock_info.restart_count},
                               {"safe", a.clock_info.safe}}},
        {"firmware_version", a.firmware_version}};
  }
  if (rep.signature) {
    j["signature"] = ordered_json{{"alg", tpm::alg_name(rep.signature->sig_alg)},
                                  {"hash", std::string(crypto::hash_name(rep.signature->hash))}};
  }
  return j;
}

void print_text(const tpm::QuoteReport& rep, const Ak& ak, bool pcrs_given) {
  std::cout << "quote: " << (rep.ok() ? "VALID" : "NOT VALID") << '\n';
  std::cout << "AK: " << ak.format;
  if (ak.area) {
    auto name = ak.area->name();
    if (name) std::cout << ", name " << to_hex(*name);
  }
  std::cout << '\n';
  for (const auto& c : rep.checks) {
    std::printf("  [%s] %-17s %s\n", c.passed ? " ok " : "FAIL", c.name.c_str(), c.detail.c_str());
  }
  std::fflush(stdout);
  if (!pcrs_given) std::cout << "note: no --pcrs given, so the PCR digest was not checked\n";
  if (rep.attest) {
    const auto& ci = rep.attest->clock_info;
    std::cout << "clock: " << ci.clock << " ms, resetCount " << ci.reset_count << ", restartCount "
              << ci.restart_count << ", safe " << (ci.safe ? "yes" : "no") << ", firmware 0x"
              << std::hex << rep.attest->firmware_version << std::dec
              << (rep.ok() ? "" : " (unverified)") << '\n';
  }
  if (rep.verified) {
    std::cout << "quoted PCRs:\n";
    for (const auto& [bank, map] : rep.verified->pcrs()) {
      std::cout << "  " << crypto::hash_name(bank) << ":\n";
      for (const auto& [index, value] : map) {
        std::printf("    %2u : %s\n", index, to_hex(value).c_str());
      }
    }
    std::fflush(stdout);
  }
}

}  // namespace

int quote_verify(const Args& args) {
  auto opts = parse_options(
      args, OptionSpec{{"--json", "--help", "-h"},
                       {"--ak", "--message", "--signature", "--pcrs", "--nonce", "--require"}});
  if (!opts) return usage_error(opts.error().message);
  if (opts->has("--help") || opts->has("-h")) {
    std::cout << kHelp;
    return kExitOk;
  }
  if (!opts->positionals.empty()) return usage_error("unexpected argument '" + opts->positionals[0] + "'");
  for (const char* required : {"--ak", "--message", "--signature", "--nonce"}) {
    if (!opts->value(required)) return usage_error(std::string("missing ") + required);
  }
  auto nonce = from_hex(*opts->value("--nonce"));
  if (!nonce) return usage_error("--nonce: " + nonce.error().message);
  if (nonce->empty()) return usage_error("--nonce is empty: a quote without a nonce proves no freshness");

  auto ak_bytes = read_file_bytes(*opts->value("--ak"));
  if (!ak_bytes) return input_error(ak_bytes.error().message);
  auto ak = load_ak(*ak_bytes);
  if (!ak) return input_error(ak.error().message);
  auto msg = read_file_bytes(*opts->value("--message"));
  if (!msg) return input_error(msg.error().message);
  auto sig = read_file_bytes(*opts->value("--signature"));
  if (!sig) return input_error(sig.error().message);

  tpm::PcrValues pcrs;
  const bool pcrs_given = opts->value("--pcrs").has_value();
  if (pcrs_given) {
    auto bytes = read_file_bytes(*opts->value("--pcrs"));
    if (!bytes) return input_error(bytes.error().message);
    auto parsed = tpm::parse_pcr_file(*bytes);
    if (!parsed) return input_error(*opts->value("--pcrs") + ": " + parsed.error().message);
    pcrs = std::move(*parsed);
  }
  std::vector<tpm::PcrRequirement> require;
  if (auto spec = opts->value("--require")) {
    auto r = parse_require(*spec);
    if (!r) return usage_error(r.error().message);
    require = std::move(*r);
  }

  const tpm::QuoteReport rep =
      ak->area ? tpm::check_quote(*ak->area, *msg, *sig, pcrs, *nonce, require)
               : tpm::check_quote(*ak->key, *msg, *sig, pcrs, *nonce, require);
  if (opts->has("--json")) {
    std::cout << report_json(rep, *ak, pcrs_given).dump(2) << '\n';
  } else {
    print_text(rep, *ak, pcrs_given);
  }
  if (rep.malformed) {
    if (!opts->has("--json")) std::cerr << "tlaunch quote verify: " << rep.failure_message() << '\n';
    return kExitBadInput;
  }
  if (!rep.ok()) {
    if (!opts->has("--json")) std::cerr << "tlaunch quote verify: " << rep.failure_message() << '\n';
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace tl::cli
