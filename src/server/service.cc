#include "server/service.h"

#include <fstream>
#include <sstream>

#include "crypto/cert_chain.h"
#include "crypto/constant_time.h"
#include "crypto/digest.h"
#include "crypto/secret_bytes.h"
#include "crypto/x509.h"
#include "server/problem.h"
#include "token/base64url.h"
#include "tpm/credential.h"
#include "tpm/ek_certificate.h"
#include "tpm/public_area.h"
#include "verify/evidence.h"

namespace tl::server {
namespace {

using nlohmann::json;

Error malformed(const std::string& m) { return Error{m, "request-malformed"}; }

// Strict request members: the JSON body must be an object with only `known` keys.
Status only_keys(const json& j, std::initializer_list<const char*> known) {
  if (!j.is_object()) return malformed("request body must be a JSON object");
  for (const auto& [k, _] : j.items()) {
    bool ok = false;
    for (const char* n : known) ok |= (k == n);
    if (!ok) return malformed("unknown member '" + k + "'");
  }
  return {};
}

Result<std::string> string_member(const json& j, const char* name, size_t max_len = 256) {
  auto it = j.find(name);
  if (it == j.end()) return malformed("missing member '" + std::string(name) + "'");
  if (!it->is_string()) return malformed("'" + std::string(name) + "' must be a string");
  std::string s = it->get<std::string>();
  if (s.empty() || s.size() > max_len)
    return malformed("'" + std::string(name) + "' must be 1.." + std::to_string(max_len) + " characters");
  return s;
}

Result<Bytes> b64_member(const json& j, const char* name) {
  auto s = string_member(j, name, 64 * 1024);
  if (!s) return s.take_error();
  auto b = token::base64url_decode(*s);
  if (!b) return malformed("'" + std::string(name) + "': " + b.error().message);
  return b;
}

// VM ids are names operators type and logs print: keep them to a safe alphabet.
Status check_vm_id(const std::string& id) {
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.' || c == ':';
    if (!ok) return malformed("'vmId' may contain only letters, digits and - _ . :");
  }
  return {};
}

Result<std::string> read_file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read " + path};
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

ByteView as_bytes(std::string_view s) { return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

}  // namespace

Result<EkTrust> load_ek_trust(const std::vector<std::string>& files) {
  EkTrust t;
  for (const auto& f : files) {
    auto text = read_file_text(f);
    if (!text) return Error{"EK CA bundle " + f + ": cannot read"};
    auto certs = crypto::parse_certificates(as_bytes(*text));
    if (!certs) return with_context("EK CA bundle " + f, certs.take_error());
    if (certs->empty()) return Error{"EK CA bundle " + f + ": no certificate"};
    for (auto& der : *certs) {
      auto s = crypto::summarize_der_certificate(der);
      if (!s) return with_context("EK CA bundle " + f, s.take_error());
      (s->subject == s->issuer ? t.anchors : t.intermediates).push_back(std::move(der));
    }
  }
  return t;
}

Result<verify::ChallengeKeys> load_challenge_keys(Repository& repo, int64_t now) {
  auto keys = repo.challenge_keys();
  if (!keys) return keys.take_error();
  if (keys->empty()) {
    auto k = verify::ChallengeKey::generate(1);
    if (!k) return k.take_error();
    StoredChallengeKey s;
    s.key_id = 1;
    const auto storage = k->to_storage();
    s.material.assign(storage.view().begin(), storage.view().end());
    s.created_at = now;
    if (auto st = repo.add_challenge_key(s); !st) {
      // Another replica may have created it at the same moment: read again.
      keys = repo.challenge_keys();
      if (!keys || keys->empty()) return st.take_error();
    } else {
      keys = repo.challenge_keys();
      if (!keys) return keys.take_error();
    }
  }
  std::vector<verify::ChallengeKey> active;
  for (const auto& k : *keys) {
    if (k.retired_at) continue;
    auto ck = verify::ChallengeKey::from_storage(k.material);
    if (!ck) return with_context("challenge key " + std::to_string(k.key_id), ck.take_error());
    active.push_back(std::move(*ck));
  }
  if (active.empty()) return Error{"no active challenge key in the database"};
  verify::ChallengeKeys out{std::move(active.back()), std::nullopt};
  if (active.size() >= 2) out.previous = std::move(active[active.size() - 2]);
  return out;
}

Result<std::unique_ptr<Service>> Service::open(Config config, Logger& log, Metrics& metrics, verify::Clock clock) {
  if (auto st = validate(config); !st) return st.take_error();
  std::unique_ptr<Service> s(new Service(std::move(config), log, metrics, std::move(clock)));
  const Config& c = s->config_;
  const unsigned connections = std::max(2u, c.threads == 0 ? 4u : c.threads + 1);
  auto repo = Repository::open(c.database, connections);
  if (!repo) return repo.take_error();
  s->repo_ = std::move(*repo);
  fleet::Options fo;
  fo.refresh_window_seconds = c.refresh_window_seconds;
  fo.connections = connections;
  auto fl = fleet::Fleet::open(c.database, fo);
  if (!fl) return with_context("fleet monitor", fl.take_error());
  s->fleet_ = std::move(*fl);
  const int64_t now = s->clock_();
  auto issuer = TokenIssuer::open(*s->repo_, c.signing_alg, c.effective_issuer(), c.token_lifetime_seconds, s->clock_);
  if (!issuer) return issuer.take_error();
  s->issuer_ = std::move(*issuer);
  auto keys = load_challenge_keys(*s->repo_, now);
  if (!keys) return keys.take_error();
  verify::ChallengerOptions co;
  co.max_lifetime_seconds = c.challenge_lifetime_seconds;
  auto ch = verify::Challenger::create(std::move(*keys), s->clock_, co);
  if (!ch) return ch.take_error();
  s->challenger_ = std::make_unique<verify::Challenger>(std::move(*ch));
  auto trust = load_ek_trust(c.ek_ca_bundles);
  if (!trust) return trust.take_error();
  s->ek_trust_ = std::move(*trust);
  if (s->ek_trust_.anchors.empty() && !c.allow_ek_without_certificate)
    log.warn("no EK CA configured: every enrollment will be refused (configure enrollment.ekCaBundles / --ek-ca)");
  s->policy_.required_pcrs = c.required_pcrs;
  s->policy_.require_runtime_key = c.require_runtime_key;
  s->policy_.required_banks = {crypto::HashAlg::sha256};
  s->policy_.allowed_banks = {crypto::HashAlg::sha256};
  if (c.allow_sha1) s->policy_.allowed_banks.push_back(crypto::HashAlg::sha1);
  s->policy_.secure_boot = verify::default_secure_boot_reference();
  s->snp_verifier_ = std::make_unique<tee::SnpVerifier>();
  if (c.tdx_collateral_dir) {
    auto col = tee::load_tdx_collateral(*c.tdx_collateral_dir);
    if (!col) return with_context("cvm.tdxCollateralDir " + *c.tdx_collateral_dir, col.take_error());
    s->tdx_collateral_ = std::move(*col);
  }
  return s;
}

void Service::set_bound_port(uint16_t port) {
  config_.port = port;
  issuer_->set_issuer(config_.effective_issuer());
}

Status Service::healthy() {
  auto r = repo_->find_vm("healthz-probe");
  if (!r) return r.take_error();
  return {};
}

json Service::openid_configuration() {
  const std::string iss = issuer_->issuer();
  return json{{"issuer", iss},
              {"jwks_uri", iss + "/certs"},
              {"response_types_supported", {"token", "none"}},
              {"id_token_signing_alg_values_supported", issuer_->algorithms()},
              {"claims_supported", {"iss", "iat", "nbf", "exp", "jti", "nonce", "x-ms-ver", "x-ms-attestation-type",
                                    "secureboot", "x-ms-azurevm-vmid", "x-ms-runtime", "x-ms-compliance-status",
                                    "x-ms-isolation-tee"}}};
}

void Service::maybe_prune(int64_t now) {
  int64_t last = last_prune_.load();
  if (now - last < 60 || !last_prune_.compare_exchange_strong(last, now)) return;
  if (auto st = repo_->prune(now); !st) log_.warn("pruning expired challenges failed", {{"error", st.error().message}});
}

Result<json> Service::begin_enrollment(const json& req) {
  if (auto st = only_keys(req, {"vmId", "ekPublic", "ekCertificate", "akPublic"}); !st) return st.take_error();
  auto vm_id = string_member(req, "vmId");
  if (!vm_id) return vm_id.take_error();
  if (auto st = check_vm_id(*vm_id); !st) return st.take_error();
  auto ek_bytes = b64_member(req, "ekPublic");
  if (!ek_bytes) return ek_bytes.take_error();
  auto ak_bytes = b64_member(req, "akPublic");
  if (!ak_bytes) return ak_bytes.take_error();
  std::optional<Bytes> cert;
  if (req.contains("ekCertificate")) {
    auto c = b64_member(req, "ekCertificate");
    if (!c) return c.take_error();
    cert = std::move(*c);
  }
  auto ek = tpm::parse_public_area(*ek_bytes);
  if (!ek) return Error{"ekPublic: " + ek.error().message, "ek-public-invalid"};
  if (!ek->attributes.restricted || !ek->attributes.decrypt || ek->attributes.sign)
    return Error{"ekPublic: not a restricted decryption key (an EK is restricted|decrypt, not sign)", "ek-public-invalid"};
  auto ak = tpm::parse_public_area(*ak_bytes);
  if (!ak) return Error{"akPublic: " + ak.error().message, "ak-public-invalid"};
  if (!ak->attributes.restricted || !ak->attributes.sign || ak->attributes.decrypt)
    return Error{"akPublic: attributes " + [&] {
                   std::string n;
                   for (const auto& a : ak->attributes.names()) n += (n.empty() ? "" : "|") + a;
                   return n;
                 }() + ": an AK must be restricted|sign and not decrypt", "ak-not-restricted-signing"};
  if (!ak->attributes.fixed_tpm || !ak->attributes.fixed_parent || !ak->attributes.sensitive_data_origin)
    return Error{std::string("akPublic: missing ") + (!ak->attributes.fixed_tpm ? "fixedTPM " : "") +
                     (!ak->attributes.fixed_parent ? "fixedParent " : "") +
                     (!ak->attributes.sensitive_data_origin ? "sensitiveDataOrigin" : "") +
                     " (the AK must be created inside this TPM and never leave it)",
                 "ak-attributes"};
  bool cert_valid = false;
  if (cert && ek_trust_.anchors.empty() && config_.allow_ek_without_certificate) {
    // No CA to check it against, and uncertified EKs are allowed: enrolled as
    // uncertified (x-tl-ek-cert-validated false), not refused for carrying one.
  } else if (cert) {
    std::vector<ByteView> inter(ek_trust_.intermediates.begin(), ek_trust_.intermediates.end());
    std::vector<ByteView> anchors(ek_trust_.anchors.begin(), ek_trust_.anchors.end());
    if (anchors.empty())
      return Error{"ekCertificate: no EK CA is configured, so no EK certificate can be trusted", "ek-certificate-untrusted"};
    if (auto st = tpm::verify_ek_certificate(*ek, *cert, inter, anchors, clock_()); !st)
      return Error{"ekCertificate: " + st.error().message, "ek-certificate-untrusted"};
    cert_valid = true;
  } else if (!config_.allow_ek_without_certificate) {
    return Error{"no ekCertificate: this service only enrolls TPMs whose EK certificate chains to a configured CA",
                 "ek-certificate-missing"};
  }
  // Fail early on a takeover; activation checks again inside its transaction.
  auto existing = repo_->find_vm(*vm_id);
  if (!existing) return with_reason("unavailable", existing.take_error());
  if (*existing && (*existing)->ek_public != ek->marshaled && !(*existing)->allow_reenroll)
    return Error{"VM '" + *vm_id + "' is enrolled with another EK; an operator must allow re-enrollment first",
                 "ek-takeover-refused"};
  auto ek_name = ek->name();
  if (!ek_name) return with_reason("ek-public-invalid", ek_name.take_error());
  auto owner = repo_->vm_of_ek(*ek_name);
  if (!owner) return with_reason("unavailable", owner.take_error());
  if (*owner && **owner != *vm_id)
    return Error{"this TPM's EK is already enrolled as another VM; one TPM attests for one VM", "ek-already-enrolled"};
  maybe_prune(clock_());
  auto ak_name = ak->name();
  if (!ak_name) return with_reason("ak-public-invalid", ak_name.take_error());
  auto secret = crypto::random_secret(32);
  if (!secret) return with_reason("internal-error", secret.take_error());
  auto made = tpm::make_credential(*ek, *ak_name, secret->view());
  if (!made) return Error{"ekPublic: cannot make a credential for this EK: " + made.error().message, "ek-public-invalid"};
  auto id = crypto::random_secret(16);
  if (!id) return with_reason("internal-error", id.take_error());
  auto h = crypto::digest(crypto::HashAlg::sha256, secret->view());
  if (!h) return with_reason("internal-error", h.take_error());
  PendingEnrollment p;
  p.enrollment_id = to_hex(id->view());
  p.vm_id = *vm_id;
  p.ek_public = ek->marshaled;
  p.ek_certificate = cert;
  p.ek_cert_validated = cert_valid;
  p.ak_public = ak->marshaled;
  p.secret_sha256 = std::move(*h);
  p.expires_at = clock_() + config_.enrollment_lifetime_seconds;
  if (auto st = repo_->put_pending(p); !st) return with_reason("unavailable", st.take_error());
  return json{{"enrollmentId", p.enrollment_id},
              {"credentialBlob", token::base64url_encode(made->credential_blob)},
              {"encryptedSecret", token::base64url_encode(made->secret)},
              {"expiresAt", p.expires_at}};
}

Result<json> Service::activate_enrollment(const std::string& enrollment_id, const json& req) {
  if (auto st = only_keys(req, {"secret"}); !st) return st.take_error();
  auto secret = b64_member(req, "secret");
  if (!secret) return secret.take_error();
  auto pending = repo_->take_pending(enrollment_id);
  if (!pending) return with_reason("unavailable", pending.take_error());
  if (!*pending) return Error{"no pending enrollment '" + enrollment_id + "' (unknown, or already activated)",
                              "enrollment-not-found"};
  const PendingEnrollment& p = **pending;
  const int64_t now = clock_();
  if (now >= p.expires_at)
    return Error{"enrollment '" + enrollment_id + "' expired " + std::to_string(now - p.expires_at) +
                     " s ago; start again with POST /enroll",
                 "enrollment-expired"};
  auto h = crypto::digest(crypto::HashAlg::sha256, *secret);
  if (!h) return with_reason("internal-error", h.take_error());
  if (!crypto::constant_time_equal(*h, p.secret_sha256))
    return Error{"the secret does not match: the AK is not in the TPM of this EK (or the blob was not activated)",
                 "activation-failed"};
  auto ek = tpm::parse_public_area(p.ek_public);
  auto ak = tpm::parse_public_area(p.ak_public);
  if (!ek || !ak) return Error{"stored enrollment does not parse", "internal-error"};
  auto ek_name = ek->name();
  auto ak_name = ak->name();
  if (!ek_name || !ak_name) return Error{"stored enrollment: cannot compute names", "internal-error"};
  auto vm = repo_->complete_enrollment(p, *ek_name, *ak_name, now);
  if (!vm) return with_reason("unavailable", vm.take_error());
  log_.info("vm enrolled", {{"vm_id", vm->vm_id}, {"ek_name", to_hex(*ek_name)}, {"ak_name", to_hex(*ak_name)},
                            {"ek_certificate_validated", vm->ek_cert_validated}});
  return json{{"vmId", vm->vm_id},
              {"enrolledAt", vm->enrolled_at},
              {"ekCertificateValidated", vm->ek_cert_validated},
              {"akName", to_hex(*ak_name)}};
}

Result<json> Service::challenge(const json& req) {
  if (auto st = only_keys(req, {"vmId"}); !st) return st.take_error();
  auto vm_id = string_member(req, "vmId");
  if (!vm_id) return vm_id.take_error();
  if (auto st = check_vm_id(*vm_id); !st) return st.take_error();
  auto c = challenger_->issue("attest:" + *vm_id, config_.challenge_lifetime_seconds);
  if (!c) return with_reason("internal-error", c.take_error());
  return json{{"nonce", token::base64url_encode(c->bytes)}, {"expiresAt", c->expires_at}};
}

Result<verify::VerifiedAttestation> Service::verify_for(const verify::Evidence& evidence, ByteView nonce,
                                                        const VmRecord& vm,
                                                        std::shared_ptr<const policy::Baseline> baseline) {
  verify::EnrolledIdentity id;
  id.vm_id = vm.vm_id;
  id.ak_public = vm.ak_public;
  id.ek_certificate_validated = vm.ek_cert_validated;
  if (!baseline) return verify::verify_attestation(evidence, id, nonce, policy_);
  verify::AppraisalPolicy p = policy_;
  p.baseline = std::move(baseline);
  return verify::verify_attestation(evidence, id, nonce, p);
}

Status Service::use_challenge(ByteView nonce, int64_t now) {
  auto cid = verify::challenge_id(nonce);
  if (!cid) return with_reason("challenge-malformed", cid.take_error());
  auto first = repo_->consume_challenge(cid->hex, now + config_.challenge_lifetime_seconds + 120);
  if (!first) return with_reason("unavailable", first.take_error());
  if (!*first) return Error{"nonce " + cid->hex + " was already used for an attestation", "challenge-replayed"};
  return {};
}

void Service::record_in_fleet(const verify::VerifiedAttestation& att, const VmRecord& vm, int64_t now) {
  auto r = fleet_->record_verified(att, to_hex(vm.ek_name), vm.ek_cert_validated, now);
  if (!r) log_.error("fleet: recording an attestation failed", {{"vmId", vm.vm_id}, {"error", r.error().message}});
}

void Service::record_rejection_in_fleet(const std::string& vm_id, const Error& e, int64_t now) {
  auto r = fleet_->record_rejected(vm_id, e, now);
  if (!r) log_.error("fleet: recording a rejection failed", {{"vmId", vm_id}, {"error", r.error().message}});
}

Result<json> Service::attest(const json& req) {
  auto evidence = verify::decode_evidence(req);
  if (!evidence) return with_reason("evidence-malformed", evidence.take_error());
  if (auto st = check_vm_id(evidence->vm_id); !st) return st.take_error();
  // The challenge first: it is cheap and stops replays before any crypto on the evidence.
  if (auto st = challenger_->check(evidence->nonce, "attest:" + evidence->vm_id); !st)
    return with_reason("challenge-invalid", st.take_error());
  auto vm = repo_->find_vm(evidence->vm_id);
  if (!vm) return with_reason("unavailable", vm.take_error());
  if (!*vm) return Error{"VM '" + evidence->vm_id + "' is not enrolled (POST /enroll first)", "vm-not-enrolled"};
  // The group's baseline (if the VM is registered and has one) is judged in
  // the pipeline; a store failure here only costs the comparison.
  auto baseline = fleet_->baseline_for_vm(evidence->vm_id);
  if (!baseline) log_.error("fleet: reading the baseline failed", {{"vmId", evidence->vm_id}, {"error", baseline.error().message}});
  auto verified = verify_for(*evidence, evidence->nonce, **vm, baseline ? *baseline : nullptr);
  // A confidential VM's hardware evidence, only once its TPM evidence checked
  // out. It only ADDS claims: when it does not verify (an HCL AK that is not
  // the enrolled one, no VCEK or TD quote sent, …) the vTPM attestation stands
  // on its own, the token carries no x-ms-isolation-tee, and
  // x-tl-isolation-tee-error says why. Failing the attestation instead would
  // turn every CVM whose agent cannot reach its VCEK Unhealthy.
  std::optional<json> isolation_tee;
  std::optional<Error> tee_failure;
  if (verified && evidence->tee) {
    auto t = verify_agent_tee(*evidence, **vm);
    if (t) {
      isolation_tee = std::move(*t);
    } else {
      tee_failure = t.take_error();
      log_.warn("attest: confidential VM evidence not verified; token without x-ms-isolation-tee",
                {{"vmId", evidence->vm_id}, {"reason", tee_failure->reason}, {"error", tee_failure->message}});
    }
  }
  if (!verified) {
    const Error failure = verified.error();
    // A rejection changes the fleet's view of the VM only once per challenge:
    // the nonce is used up first, so a captured evidence body replayed with a
    // mangled log or key cannot make a healthy VM Unhealthy (docs/fleet.md).
    const int64_t now = clock_();
    if (auto used = use_challenge(evidence->nonce, now); used)
      record_rejection_in_fleet(evidence->vm_id, failure, now);
    else if (used.error().reason == "unavailable")
      log_.error("fleet: cannot record the challenge of a rejected attestation", {{"error", used.error().message}});
    return failure;
  }
  const int64_t now = clock_();
  maybe_prune(now);
  if (auto st = use_challenge(evidence->nonce, now); !st) return st.take_error();
  record_in_fleet(*verified, **vm, now);
  json claims = verified->claims();
  claims["nonce"] = token::base64url_encode(evidence->nonce);
  if (isolation_tee) claims["x-ms-isolation-tee"] = std::move(*isolation_tee);
  if (tee_failure)
    claims["x-tl-isolation-tee-error"] = json{{"reason", tee_failure->reason}, {"detail", tee_failure->message}};
  auto token = issuer_->issue(std::move(claims));
  if (!token) return with_reason("internal-error", token.take_error());
  return json{{"token", *token}};
}

Result<json> Service::appraise(const json& req) {
  if (req.is_object() && req.contains("evidenceType")) return appraise_cvm(req);
  if (auto st = only_keys(req, {"evidence", "nonce"}); !st) return st.take_error();
  auto nonce = b64_member(req, "nonce");
  if (!nonce) return nonce.take_error();
  if (!req.contains("evidence")) return malformed("missing member 'evidence'");
  auto evidence = verify::decode_evidence(req.at("evidence"));
  if (!evidence) return Error{"evidence." + evidence.error().message, "evidence-malformed"};
  auto vm = repo_->find_vm(evidence->vm_id);
  if (!vm) return with_reason("unavailable", vm.take_error());
  VmRecord identity;
  std::string ak_trust;
  if (*vm) {
    identity = **vm;
    ak_trust = "enrolled";  // the AK was proven at enrollment to share a TPM with a (certified) EK
  } else {
    if (!evidence->ak_public)
      return malformed("VM '" + evidence->vm_id + "' is not enrolled: the evidence must carry akPublic");
    identity.vm_id = evidence->vm_id;
    identity.ak_public = *evidence->ak_public;
    ak_trust = "evidence";  // only that the quote is signed by the AK it names
  }
  auto verified = verify_for(*evidence, *nonce, identity);
  if (!verified) {
    metrics_.count_attestation("appraisal-fail", verified.error().reason);
    return json{{"result", "fail"},
                {"reason", verified.error().reason},
                {"type", std::string(kProblemTypePrefix) + verified.error().reason},
                {"detail", verified.error().message},
                {"akTrust", ak_trust}};
  }
  json claims = verified->claims();
  if (evidence->tee) {
    auto tee = verify_agent_tee(*evidence, identity);
    if (!tee) {
      metrics_.count_attestation("appraisal-fail", tee.error().reason);
      return json{{"result", "fail"},
                  {"reason", tee.error().reason},
                  {"type", std::string(kProblemTypePrefix) + tee.error().reason},
                  {"detail", tee.error().message},
                  {"akTrust", ak_trust}};
    }
    claims["x-ms-isolation-tee"] = std::move(*tee);
  }
  metrics_.count_attestation("appraisal-pass", "");
  return json{{"result", "pass"}, {"akTrust", ak_trust}, {"claims", std::move(claims)}};
}

}  // namespace tl::server
