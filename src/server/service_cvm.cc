// Confidential VM evidence in tlaunchd (docs/tlaunchd.md "Confidential VMs"):
// POST /appraise with an evidenceType, the MAA-like POST /attest/sevsnpvm and
// /attest/tdxvm, and the "tee" member of an agent's /attest evidence. The
// verification itself is verify::verify_cvm_evidence; this file decodes the
// request, supplies the service's verifier state and shapes the claims.
#include <algorithm>

#include "crypto/private_key.h"
#include "server/problem.h"
#include "server/service.h"
#include "tee/hcl_report.h"
#include "token/base64url.h"
#include "tpm/public_area.h"

namespace tl::server {
namespace {

using nlohmann::json;
using verify::CvmEvidenceType;

constexpr size_t kMaxNonceBytes = 64;  // the TPM's qualifying data is at most a TPMT_HA

Error malformed(const std::string& m) { return Error{m, "request-malformed"}; }

ByteView strip_leading_zeros(ByteView b) {
  size_t i = 0;
  while (i + 1 < b.size() && b[i] == 0) ++i;
  return b.subspan(i);
}

bool same_integer(ByteView a, ByteView b) {
  a = strip_leading_zeros(a);
  b = strip_leading_zeros(b);
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

// The claims of a confidential VM token or appraisal: the TEE claims at the
// top level (MAA's SevSnpVm / TdxVm token shape), the vTPM claims, the same
// TEE claims as x-ms-isolation-tee (the shape of MAA's Guest Attestation
// tokens, so a release policy written against either shape can be met), and
// the nonce the vTPM quote was made for.
json cvm_claims(const verify::VerifiedCvmAttestation& v, ByteView nonce) {
  json c = v.tee_claims().is_object() ? v.tee_claims() : json::object();
  for (const auto& [k, val] : v.vtpm_claims().items()) c[k] = val;
  // Key release wraps to "the first RSA key allowing encryption in
  // x-ms-runtime.keys": that must be the vTPM's EK (HCLEkPub), whose private
  // half never leaves that TPM. The HCL runtime data lists it; if the claims
  // were built without it, it is added from the verified report.
  json& rt = c["x-ms-runtime"];
  if (!rt.is_object()) rt = json::object();
  json& keys = rt["keys"];
  if (!keys.is_array()) keys = json::array();
  if (const tee::HclRuntimeKey* ek = v.hcl().ek()) {
    const bool listed = std::any_of(keys.begin(), keys.end(), [&](const json& k) {
      return k.is_object() && k.value("kid", "") == ek->kid;
    });
    if (!listed)
      keys.push_back(json{{"kid", ek->kid},
                          {"kty", "RSA"},
                          {"key_ops", {"encrypt"}},
                          {"e", token::base64url_encode(ek->e)},
                          {"n", token::base64url_encode(ek->n)}});
  }
  c["x-ms-isolation-tee"] = v.tee_claims();
  c["x-ms-ver"] = "1.0";
  c["nonce"] = token::base64url_encode(nonce);
  return c;
}

json fail_result(const Error& e) {
  return json{{"result", "fail"},
              {"reason", e.reason},
              {"type", std::string(kProblemTypePrefix) + e.reason},
              {"detail", e.message},
              {"akTrust", "hcl-report"}};
}

}  // namespace

verify::CvmPolicy Service::cvm_policy() const {
  verify::CvmPolicy p;
  p.snp_verifier = snp_verifier_.get();
  p.tdx_collateral = tdx_collateral_ ? &*tdx_collateral_ : nullptr;
  // validate() checked these are 48-byte hex values.
  auto decode = [](const std::vector<std::string>& in, std::vector<Bytes>& out) {
    for (const auto& v : in)
      if (auto b = from_hex(v)) out.push_back(std::move(*b));
  };
  decode(config_.snp_launch_measurements, p.snp_launch_measurements);
  decode(config_.snp_id_key_digests, p.snp_id_key_digests);
  decode(config_.tdx_mrtds, p.tdx_mrtds);
  p.tdx_compliant_tcb.clear();
  // validate() accepted only these spellings.
  for (auto s : {tee::TdxTcbStatus::up_to_date, tee::TdxTcbStatus::sw_hardening_needed,
                 tee::TdxTcbStatus::configuration_needed, tee::TdxTcbStatus::configuration_and_sw_hardening_needed,
                 tee::TdxTcbStatus::out_of_date, tee::TdxTcbStatus::out_of_date_configuration_needed})
    if (std::find(config_.tdx_compliant_tcb.begin(), config_.tdx_compliant_tcb.end(),
                  std::string(tee::tcb_status_name(s))) != config_.tdx_compliant_tcb.end())
      p.tdx_compliant_tcb.push_back(s);
  return p;
}

Result<verify::VerifiedCvmAttestation> Service::verify_cvm_request(const json& req,
                                                                   std::optional<CvmEvidenceType> type,
                                                                   Bytes* nonce_out) {
  if (!req.is_object()) return malformed("request body must be a JSON object");
  for (const auto& [k, _] : req.items())
    if (k != "evidenceType" && k != "evidence" && k != "nonce") return malformed("unknown member '" + k + "'");
  if (auto it = req.find("evidenceType"); it != req.end()) {
    if (!it->is_string()) return malformed("'evidenceType' must be a string");
    auto named = verify::cvm_evidence_type_from_name(it->get<std::string>());
    if (!named)
      return malformed("'evidenceType' must be \"az-snp-vtpm\" or \"az-tdx-vtpm\" (or absent for tlaunch evidence)");
    if (type && *named != *type)
      return malformed("'evidenceType' " + it->get<std::string>() + " does not match this endpoint (" +
                       std::string(verify::cvm_evidence_type_name(*type)) + ")");
    type = named;
  }
  if (!type) return malformed("missing member 'evidenceType'");
  auto n = req.find("nonce");
  if (n == req.end()) return malformed("missing member 'nonce'");
  if (!n->is_string()) return malformed("'nonce' must be a base64url string");
  auto nonce = token::base64url_decode(n->get<std::string>());
  if (!nonce) return malformed("'nonce': " + nonce.error().message);
  if (nonce->empty() || nonce->size() > kMaxNonceBytes)
    return malformed("'nonce' must be 1.." + std::to_string(kMaxNonceBytes) + " bytes");
  auto ev = req.find("evidence");
  if (ev == req.end()) return malformed("missing member 'evidence'");
  auto decoded = verify::decode_cvm_evidence(*ev, *type);
  if (!decoded) return Error{"evidence." + decoded.error().message, "evidence-malformed"};
  auto verified = verify::verify_cvm_evidence(*decoded, *nonce, cvm_policy());
  if (!verified) return verified.take_error();
  if (nonce_out) *nonce_out = std::move(*nonce);
  return verified;
}

Result<json> Service::appraise_cvm(const json& req) {
  Bytes nonce;
  auto verified = verify_cvm_request(req, std::nullopt, &nonce);
  if (!verified) {
    // Requests that are not well formed are errors; a rejection is a result.
    const std::string& r = verified.error().reason;
    if (r == "request-malformed" || r == "evidence-malformed") return verified.take_error();
    metrics_.count_attestation("appraisal-fail", r);
    return fail_result(verified.error());
  }
  metrics_.count_attestation("appraisal-pass", "");
  return json{{"result", "pass"},
              {"akTrust", "hcl-report"},
              {"evidenceType", std::string(verify::cvm_evidence_type_name(verified->type()))},
              {"claims", cvm_claims(*verified, nonce)}};
}

Result<json> Service::attest_cvm(CvmEvidenceType type, const json& req) {
  Bytes nonce;
  auto verified = verify_cvm_request(req, type, &nonce);
  if (!verified) return verified.take_error();
  json claims = cvm_claims(*verified, nonce);
  log_.info("confidential VM attested",
            {{"type", std::string(verify::cvm_evidence_type_name(type))},
             {"vmId", claims.value("x-ms-azurevm-vmid", "")},
             {"compliance", verified->tee_claims().value("x-ms-compliance-status", "")}});
  auto token = issuer_->issue(std::move(claims));
  if (!token) return with_reason("internal-error", token.take_error());
  return json{{"token", *token}};
}

Result<json> Service::verify_agent_tee(const verify::Evidence& evidence, const VmRecord& vm) {
  const verify::TeeEvidence& t = *evidence.tee;
  auto type = verify::cvm_evidence_type_from_name(t.type);
  if (!type) return Error{"tee.type: '" + t.type + "' is not az-snp-vtpm or az-tdx-vtpm", "evidence-malformed"};
  auto hcl = tee::parse_hcl_report(t.hcl_report);
  if (!hcl) return with_context("tee.hclReport", hcl.take_error());
  // The HCL report vouches for one vTPM AK; it says something about this VM
  // only when that is the AK enrolled (by credential activation) for it.
  const tee::HclRuntimeKey* ak = hcl->ak();
  if (!ak) return Error{"tee.hclReport: the runtime data names no HCLAkPub", "hcl-ak-missing"};
  auto area = tpm::parse_public_area(vm.ak_public);
  if (!area) return Error{"the enrolled AK does not parse: " + area.error().message, "internal-error"};
  auto key = area->public_key();
  if (!key) return Error{"the enrolled AK: " + key.error().message, "internal-error"};
  auto params = crypto::rsa_public_params(*key);
  if (!params || !same_integer(params->n, ak->n) || !same_integer(params->e, ak->e))
    return Error{"tee.hclReport: its HCLAkPub (" + std::to_string(strip_leading_zeros(ak->n).size() * 8) +
                     "-bit RSA) is not the AK enrolled for VM '" + vm.vm_id + "'",
                 "hcl-ak-mismatch"};
  verify::CvmEvidence cvm;
  cvm.type = *type;
  cvm.hcl_report = t.hcl_report;
  cvm.quote_attest = evidence.quote_attest;
  cvm.quote_signature = evidence.quote_signature;
  if (auto it = evidence.pcrs.find(crypto::HashAlg::sha256); it != evidence.pcrs.end())
    cvm.pcrs[crypto::HashAlg::sha256] = it->second;
  if (t.vcek) cvm.vcek = *t.vcek;
  if (t.td_quote) cvm.td_quote = *t.td_quote;
  auto verified = verify::verify_cvm_evidence(cvm, evidence.nonce, cvm_policy());
  if (!verified) return with_context("tee", verified.take_error());
  return verified->tee_claims();
}

}  // namespace tl::server
