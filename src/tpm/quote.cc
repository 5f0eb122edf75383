#include "tpm/quote.h"

#include <algorithm>
#include <set>
#include <utility>

#include "tpm/constants.h"
#include "tpm/internal.h"

namespace tl::tpm {

namespace detail {
// The one place a VerifiedQuote is made (it is a friend of VerifiedQuote).
struct VerifiedQuoteBuilder {
  static VerifiedQuote build(const Attest& a, PcrValues pcrs) {
    VerifiedQuote q;
    q.pcrs_ = std::move(pcrs);
    q.nonce_ = a.extra_data;
    q.clock_ = a.clock_info.clock;
    q.reset_count_ = a.clock_info.reset_count;
    q.restart_count_ = a.clock_info.restart_count;
    q.safe_ = a.clock_info.safe;
    q.firmware_version_ = a.firmware_version;
    q.qualified_signer_ = a.qualified_signer;
    return q;
  }
};
}  // namespace detail

namespace {

std::string pcr_label(crypto::HashAlg bank, uint32_t pcr) {
  return std::string(crypto::hash_name(bank)) + " PCR " + std::to_string(pcr);
}

std::string short_hex(ByteView b) {
  std::string h = to_hex(b);
  return h.empty() ? "(empty)" : h;
}

class Checker {
 public:
  void add(std::string name, bool passed, std::string detail) {
    report_.checks.push_back(QuoteCheck{std::move(name), passed, std::move(detail)});
  }
  QuoteReport& report() { return report_; }

 private:
  QuoteReport report_;
};

void check_ak_attributes(Checker& c, const PublicArea& area) {
  const ObjectAttributes& a = area.attributes;
  std::vector<std::string> missing;
  // restricted+sign: the TPM refuses to sign outside data that starts with
  // TPM_GENERATED_VALUE only with restricted keys; an unrestricted key signs anything.
  if (!a.restricted) missing.emplace_back("restricted");
  if (!a.sign) missing.emplace_back("sign");
  // fixedTPM: the private key never leaves a TPM.
  if (!a.fixed_tpm) missing.emplace_back("fixedTPM");
  if (missing.empty()) {
    c.add("ak.attributes", true, "AK is restricted, sign, fixedTPM");
    return;
  }
  std::string list;
  for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
  c.add("ak.attributes", false,
        "AK public area lacks " + list + " (objectAttributes " + internal::hex32(a.raw) +
            "): it cannot vouch for a quote");
}

void check_scheme(Checker& c, const crypto::PublicKey& key, const PublicArea* area,
                  const Signature& sig) {
  const std::string sig_desc = alg_name(sig.sig_alg) + "/" + std::string(crypto::hash_name(sig.hash));
  if (sig.hash == crypto::HashAlg::sha1) {
    c.add("signature.scheme", false,
          "signature hash sha1 is not accepted (collisions make SHA-1 signatures forgeable)");
    return;
  }
  const bool rsa_sig = sig.sig_alg == alg::kRsassa || sig.sig_alg == alg::kRsapss;
  if (rsa_sig != (key.type() == crypto::KeyType::rsa)) {
    c.add("signature.scheme", false,
          "signature algorithm " + alg_name(sig.sig_alg) + " does not fit the AK's key type (" +
              (key.type() == crypto::KeyType::rsa ? "RSA" : "EC") + ")");
    return;
  }
  if (area != nullptr) {
    if (const Scheme* fixed = area->signing_scheme()) {
      const std::string fixed_desc =
          alg_name(fixed->scheme) + "/" +
          (fixed->hash ? std::string(crypto::hash_name(*fixed->hash)) : std::string("?"));
      if (fixed->scheme != sig.sig_alg || fixed->hash != sig.hash) {
        c.add("signature.scheme", false,
              "signature uses " + sig_desc + " but the AK is restricted to " + fixed_desc);
        return;
      }
    }
  }
  c.add("signature.scheme", true, sig_desc);
}

// Resolves an empty `required` to every supplied PCR (see quote.h).
std::vector<std::pair<crypto::HashAlg, uint32_t>> effective_required(
    const PcrValues& supplied, const std::vector<PcrRequirement>& required) {
  std::vector<std::pair<crypto::HashAlg, uint32_t>> out;
  if (required.empty()) {
    for (const auto& [bank, pcrs] : supplied) {
      for (const auto& [index, value] : pcrs) out.emplace_back(bank, index);
    }
    return out;
  }
  for (const auto& req : required) {
    for (uint32_t pcr : req.pcrs) out.emplace_back(req.bank, pcr);
  }
  return out;
}

QuoteReport run_checks(const crypto::PublicKey* key, const PublicArea* area, ByteView attest_bytes,
                       ByteView sig_bytes, const PcrValues& supplied, ByteView nonce,
                       const std::vector<PcrRequirement>& required) {
  Checker c;
  QuoteReport& rep = c.report();

  auto attest = parse_attest(attest_bytes);
  if (attest) {
    rep.attest = *attest;
    c.add("attest.parse", true, "TPMS_ATTEST, " + std::to_string(attest_bytes.size()) + " bytes");
  } else {
    c.add("attest.parse", false, attest.error().message);
  }
  auto sig = parse_signature(sig_bytes);
  if (sig) {
    rep.signature = *sig;
    c.add("signature.parse", true,
          "TPMT_SIGNATURE " + alg_name(sig->sig_alg) + "/" + std::string(crypto::hash_name(sig->hash)));
  } else {
    c.add("signature.parse", false, sig.error().message);
  }
  if (!attest || !sig) {
    rep.malformed = true;
    return std::move(rep);
  }
  const Attest& a = *attest;

  c.add("magic", a.magic == kGeneratedValue,
        a.magic == kGeneratedValue
            ? "TPM_GENERATED_VALUE"
            : "TPMS_ATTEST.magic is " + internal::hex32(a.magic) +
                  ", expected TPM_GENERATED_VALUE 0xff544347 (not made by a TPM)");
  c.add("type", a.type == st::kAttestQuote,
        a.type == st::kAttestQuote
            ? "TPM_ST_ATTEST_QUOTE"
            : "TPMS_ATTEST.type is " + st_name(a.type) + " (" + internal::hex16(a.type) +
                  "), expected TPM_ST_ATTEST_QUOTE (0x8018)");

  if (nonce.empty()) {
    c.add("nonce", false, "no expected nonce given: freshness cannot be checked");
  } else if (!std::equal(nonce.begin(), nonce.end(), a.extra_data.begin(), a.extra_data.end())) {
    c.add("nonce", false,
          "TPMS_ATTEST.extraData " + short_hex(a.extra_data) + " does not equal the expected nonce " +
              short_hex(nonce));
  } else {
    c.add("nonce", true, "extraData equals the expected nonce");
  }

  std::optional<crypto::PublicKey> area_key;
  if (area != nullptr) {
    check_ak_attributes(c, *area);
    if (key == nullptr) {
      auto k = area->public_key();
      if (!k) {
        c.add("signature", false, "AK public area: " + k.error().message);
        return std::move(rep);
      }
      area_key = std::move(*k);
      key = &*area_key;
    }
  }

  check_scheme(c, *key, area, *sig);
  if (auto st = verify_signature(*key, attest_bytes, *sig); st) {
    c.add("signature", true, "verifies under the AK");
  } else {
    c.add("signature", false, st.error().message);
  }

  if (!a.quote) {
    // Not a quote: the type check already failed; nothing PCR-related to check.
    return std::move(rep);
  }
  const PcrSelection& sel = a.quote->pcr_select;

  // pcr_selection: non-empty and covering every required PCR.
  if (sel.pcr_count() == 0) {
    c.add("pcr_selection", false, "the quote selects no PCRs: it vouches for nothing");
  } else {
    std::string uncovered;
    for (const auto& [bank, pcr] : effective_required(supplied, required)) {
      if (!sel.contains(bank, pcr)) uncovered += (uncovered.empty() ? "" : ", ") + pcr_label(bank, pcr);
    }
    if (uncovered.empty()) {
      c.add("pcr_selection", true, "selection " + sel.to_string() + " covers every required PCR");
    } else {
      c.add("pcr_selection", false,
            "required " + uncovered + " not in the quote's selection " + sel.to_string());
    }
  }

  // pcr_values: one supplied value of the right size per selected PCR.
  PcrValues quoted;
  std::string problem;
  for (const auto& b : sel.banks) {
    auto bank_it = supplied.find(b.bank);
    for (uint32_t pcr : b.pcrs) {
      const Bytes* v = nullptr;
      if (bank_it != supplied.end()) {
        auto it = bank_it->second.find(pcr);
        if (it != bank_it->second.end()) v = &it->second;
      }
      if (v == nullptr) {
        if (problem.empty()) problem = "no supplied value for " + pcr_label(b.bank, pcr) + ", which the quote selects";
        continue;
      }
      if (v->size() != crypto::digest_size(b.bank)) {
        if (problem.empty()) {
          problem = "supplied value for " + pcr_label(b.bank, pcr) + " is " +
                    std::to_string(v->size()) + " bytes, the bank's digests are " +
                    std::to_string(crypto::digest_size(b.bank));
        }
        continue;
      }
      quoted[b.bank][pcr] = *v;
    }
  }
  c.add("pcr_values", problem.empty(),
        problem.empty() ? std::to_string(sel.pcr_count()) + " selected PCR values supplied" : problem);

  // pcr_digest: only meaningful with every value present.
  if (!problem.empty()) {
    c.add("pcr_digest", false, "not checked: " + problem);
  } else if (a.quote->pcr_digest.size() != crypto::digest_size(sig->hash)) {
    c.add("pcr_digest", false,
          "TPMS_QUOTE_INFO.pcrDigest is " + std::to_string(a.quote->pcr_digest.size()) +
              " bytes, the signature hash " + std::string(crypto::hash_name(sig->hash)) + " gives " +
              std::to_string(crypto::digest_size(sig->hash)));
  } else {
    Bytes concat;
    for (const auto& b : sel.banks) {
      for (uint32_t pcr : b.pcrs) {
        const Bytes& v = quoted[b.bank][pcr];
        concat.insert(concat.end(), v.begin(), v.end());
      }
    }
    auto d = crypto::digest(sig->hash, concat);
    if (!d) {
      c.add("pcr_digest", false, d.error().message);
    } else if (*d != a.quote->pcr_digest) {
      c.add("pcr_digest", false,
            "pcrDigest " + to_hex(a.quote->pcr_digest) + " does not match the " +
                std::string(crypto::hash_name(sig->hash)) + " of the supplied PCR values (" +
                to_hex(*d) + "): a supplied PCR value differs from the quoted one");
    } else {
      c.add("pcr_digest", true, "pcrDigest matches the supplied PCR values");
    }
  }

  const bool all = std::all_of(rep.checks.begin(), rep.checks.end(),
                               [](const QuoteCheck& q) { return q.passed; });
  if (all) rep.verified = detail::VerifiedQuoteBuilder::build(a, std::move(quoted));
  return std::move(rep);
}

Result<VerifiedQuote> to_result(QuoteReport rep) {
  if (!rep.verified) {
    // reason "quote-<check>" with dots as dashes, e.g. "quote-pcr-selection".
    const QuoteCheck* f = rep.first_failure();
    std::string reason = "quote-" + (f ? f->name : std::string("malformed"));
    std::replace(reason.begin(), reason.end(), '.', '-');
    std::replace(reason.begin(), reason.end(), '_', '-');
    return Error{rep.failure_message(), std::move(reason)};
  }
  return std::move(*rep.verified);
}

}  // namespace

const QuoteCheck* QuoteReport::first_failure() const {
  for (const auto& c : checks) {
    if (!c.passed) return &c;
  }
  return nullptr;
}

std::string QuoteReport::failure_message() const {
  const QuoteCheck* f = first_failure();
  if (f == nullptr) return verified ? "" : "quote not verified";
  return "quote check '" + f->name + "' failed: " + f->detail;
}

QuoteReport check_quote(const crypto::PublicKey& ak, ByteView attest, ByteView signature,
                        const PcrValues& supplied_pcrs, ByteView expected_nonce,
                        const std::vector<PcrRequirement>& required) {
  return run_checks(&ak, nullptr, attest, signature, supplied_pcrs, expected_nonce, required);
}

QuoteReport check_quote(const PublicArea& ak, ByteView attest, ByteView signature,
                        const PcrValues& supplied_pcrs, ByteView expected_nonce,
                        const std::vector<PcrRequirement>& required) {
  return run_checks(nullptr, &ak, attest, signature, supplied_pcrs, expected_nonce, required);
}

Result<VerifiedQuote> verify_quote(const crypto::PublicKey& ak, ByteView attest,
                                   ByteView signature, const PcrValues& supplied_pcrs,
                                   ByteView expected_nonce,
                                   const std::vector<PcrRequirement>& required) {
  return to_result(check_quote(ak, attest, signature, supplied_pcrs, expected_nonce, required));
}

Result<VerifiedQuote> verify_quote(const PublicArea& ak, ByteView attest, ByteView signature,
                                   const PcrValues& supplied_pcrs, ByteView expected_nonce,
                                   const std::vector<PcrRequirement>& required) {
  return to_result(check_quote(ak, attest, signature, supplied_pcrs, expected_nonce, required));
}

}  // namespace tl::tpm
