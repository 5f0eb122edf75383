// Step 7 of the pipeline: the claims body (docs/claims.md documents every claim).
// Everything except the OS fields, the kernel module report and the client
// payload comes from verified state: the VerifiedQuote, the VerifiedBootFacts
// and the enrolled identity.
#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>
#include <string>

#include "verify/pipeline_internal.h"

namespace tl::verify {

SecureBootReference default_secure_boot_reference() {
  // SHA-256 fingerprints of the DER certificates as real firmware measures them
  // (EFI_SIGNATURE_LIST entries of KEK/db in the event logs of the OVMF Debian
  // chain, GCE, Arch, RHEL 9 vectors).
  SecureBootReference r;
  r.default_kek_fingerprints = {
      // CN=Microsoft Corporation KEK CA 2011
      "a1117f516a32cefcba3f2d1ace10a87972fd6bbe8fe0d0b996e09e65d802a503",
      // CN=Microsoft Corporation KEK 2K CA 2023
      "3cd3f0309edae228767a976dd40d9f4affc4fbd5218f2e8cc3c9dd97e8ac6f9d",
  };
  r.default_db_fingerprints = {
      // CN=Microsoft Windows Production PCA 2011
      "e8e95f0733a55e8bad7be0a1413ee23c51fcea64b3c8fa6a786935fddcc71961",
      // CN=Microsoft Corporation UEFI CA 2011
      "48e99b991f57fc52f76149599bff0a58c47154229b9f8d603ac40d3500248507",
      // CN=Windows UEFI CA 2023
      "076f1fea90ac29155ebf77c17682f75f1fdd1be196da302dc8461e350a9ae330",
      // CN=Microsoft UEFI CA 2023
      "f6124e34125bee3fe6d79a574eaa7b91c0e7bd9d929c1a321178efd611dad901",
  };
  return r;
}

namespace detail {
namespace {

using eventlog::SignatureDatabase;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::set<std::string> lower_set(const std::vector<std::string>& v) {
  std::set<std::string> out;
  for (const auto& s : v) out.insert(lower(s));
  return out;
}

// Measured, decoded, non-empty, and every entry is an X.509 certificate whose
// fingerprint is in `reference` (a hash entry or an unknown certificate is an
// addition to what the defaults trust).
bool only_reference_certs(const SignatureDatabase& db, const std::set<std::string>& reference) {
  if (!db.event || !db.error.empty() || db.entries.empty()) return false;
  return std::all_of(db.entries.begin(), db.entries.end(), [&](const eventlog::SignatureEntry& e) {
    return e.type == "x509" && e.error.empty() && reference.contains(lower(e.sha256_fingerprint));
  });
}

bool dbx_validated(const eventlog::BootFacts& f, const SecureBootReference& ref) {
  const SignatureDatabase& dbx = f.secure_boot.dbx;
  if (!dbx.event || !dbx.error.empty()) return false;
  std::set<std::string> hashes, certs;
  for (const auto& e : dbx.entries) {
    if (e.type == "sha256") hashes.insert(lower(e.hex));
    if (e.type == "x509") certs.insert(lower(e.sha256_fingerprint));
  }
  // Nothing that booted may be revoked: a boot application whose Authenticode
  // hash is in dbx, or an authority certificate that dbx lists.
  for (const auto& app : f.boot_applications) {
    const auto it = app.digests.find(crypto::HashAlg::sha256);
    if (it != app.digests.end() && hashes.contains(lower(it->second))) return false;
  }
  for (const auto& a : f.secure_boot.authorities) {
    if (a.signature && !a.signature->sha256_fingerprint.empty() &&
        certs.contains(lower(a.signature->sha256_fingerprint))) {
      return false;
    }
  }
  if (ref.required_dbx_hashes.empty()) return !dbx.entries.empty();
  for (const auto& h : ref.required_dbx_hashes) {
    if (!hashes.contains(lower(h))) return false;
  }
  return true;
}

nlohmann::json pcrs_json(const tpm::PcrValues& values) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [bank, pcrs] : values) {
    nlohmann::json b = nlohmann::json::object();
    for (const auto& [index, value] : pcrs) b[std::to_string(index)] = to_hex(value);
    out[std::string(crypto::hash_name(bank))] = std::move(b);
  }
  return out;
}

nlohmann::json optional_string(const std::optional<std::string>& s) {
  return s ? nlohmann::json(*s) : nlohmann::json(nullptr);
}

// Self-reported claims appear only when the agent reported them: an absent
// claim says "old agent", which null or an empty report would hide.
void add_self_reported_kernel_claims(const ClaimInputs& in, nlohmann::json& claims) {
  if (!in.os.kernel_release.empty()) claims["x-tl-kernel-release"] = in.os.kernel_release;
  if (in.kernel_modules && in.kernel_modules->reported) {
    const KernelModuleReport& km = *in.kernel_modules;
    claims["x-tl-kernel-modules"] = {{"taint", km.taint},
                                     {"unsigned", km.unsigned_modules},
                                     {"rejected", km.rejected_modules},
                                     {"imaFailures", km.ima_failures}};
  }
}

}  // namespace

bool kernel_debug_enabled(const std::optional<std::string>& cmdline) {
  if (!cmdline) return false;
  std::istringstream words(*cmdline);
  std::string w;
  while (words >> w) {
    if (w == "kgdbwait") return true;
    for (const char* prefix : {"kgdboc=", "kgdbdbgp=", "ekgdboc="}) {
      if (w.rfind(prefix, 0) == 0) return true;
    }
  }
  return false;
}

nlohmann::json make_claims(const ClaimInputs& in) {
  const eventlog::BootFacts& f = in.facts.get();
  const auto kek_ref = lower_set(in.reference.default_kek_fingerprints);
  const auto db_ref = lower_set(in.reference.default_db_fingerprints);

  nlohmann::json attested_pcrs = nlohmann::json::array();
  if (const auto it = in.quote.pcrs().find(crypto::HashAlg::sha256); it != in.quote.pcrs().end()) {
    for (const auto& [index, value] : it->second) attested_pcrs.push_back(index);
  }

  nlohmann::json boot_apps = nlohmann::json::array();
  for (const auto& app : f.boot_applications) {
    const auto it = app.digests.find(crypto::HashAlg::sha256);
    boot_apps.push_back({{"pcr", app.event.pcr},
                         {"event", app.event.index},
                         {"sha256", it != app.digests.end() ? nlohmann::json(it->second) : nlohmann::json(nullptr)},
                         {"devicePath", app.device_path.empty() ? nlohmann::json(nullptr)
                                                                 : nlohmann::json(app.device_path)}});
  }

  nlohmann::json authorities = nlohmann::json::array();
  for (const auto& a : f.secure_boot.authorities) {
    if (!a.signature || a.signature->type != "x509") continue;
    authorities.push_back({{"variable", a.variable},
                           {"event", a.event.index},
                           {"subject", a.signature->subject},
                           {"sha256", a.signature->sha256_fingerprint}});
  }

  nlohmann::json keys = nlohmann::json::array();
  if (in.runtime_key) keys.push_back(in.runtime_key->jwk());

  const bool db_ok = only_reference_certs(f.secure_boot.db, db_ref);
  nlohmann::json claims = {
      {"x-ms-ver", "1.0"},
      {"x-ms-attestation-type", "azurevm"},
      {"secureboot", f.secure_boot.state == eventlog::SecureBootState::enabled},
      {"x-ms-azurevm-attestation-protocol-ver", "2.0"},
      {"x-ms-azurevm-attested-pcrs", attested_pcrs},
      {"x-ms-azurevm-bootdebug-enabled", f.secure_boot.debug_mode},
      {"x-ms-azurevm-kerneldebug-enabled", kernel_debug_enabled(f.linux_boot.kernel_cmdline)},
      {"x-ms-azurevm-dbvalidated", db_ok},
      {"x-ms-azurevm-dbxvalidated", dbx_validated(f, in.reference)},
      {"x-ms-azurevm-default-securebootkeysvalidated",
       db_ok && only_reference_certs(f.secure_boot.kek, kek_ref)},
      {"x-ms-azurevm-ostype", in.os.type},
      {"x-ms-azurevm-osdistro", in.os.distro},
      {"x-ms-azurevm-osversion-major", in.os.version_major},
      {"x-ms-azurevm-osversion-minor", in.os.version_minor},
      {"x-ms-azurevm-vmid", in.identity.vm_id},
      {"x-ms-runtime", {{"client-payload", in.client_payload}, {"keys", keys}}},
      {"x-tl-pcrs", pcrs_json(in.quote.pcrs())},
      {"x-tl-boot-apps", boot_apps},
      {"x-tl-kernel-cmdline", optional_string(f.linux_boot.kernel_cmdline)},
      {"x-tl-kernel-version", optional_string(f.linux_boot.kernel_version)},
      {"x-tl-ek-cert-validated", in.identity.ek_certificate_validated},
      {"x-tl-sbat-level", optional_string(f.secure_boot.sbat_level)},
      {"x-tl-secureboot-authorities", authorities},
  };
  add_self_reported_kernel_claims(in, claims);
  return claims;
}

}  // namespace detail
}  // namespace tl::verify
