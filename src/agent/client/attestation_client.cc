#include "agent/client/attestation_client.h"

#include <fstream>
#include <sstream>

#include "common/atomic_file.h"
#include "agent/kernel_modules.h"
#include "agent/kernel_release.h"
#include "agent/os_release.h"
#include "tee/hcl_report.h"
#include "token/base64url.h"
#include "verify/evidence.h"

namespace tl::agent {
namespace {

using nlohmann::json;

constexpr size_t kMaxEventLogBytes = 4 * 1024 * 1024;
// Azure sizes the HCL report index at a few KiB; the evidence decoder's limit.
constexpr size_t kMaxHclReportBytes = 16 * 1024;

Result<Bytes> read_binary(const std::filesystem::path& p, size_t max) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return Error{"cannot read " + p.string() + " (is securityfs mounted, and are we root?)", "eventlog-unreadable"};
  Bytes out;
  char buf[65536];
  while (in) {
    in.read(buf, sizeof buf);
    out.insert(out.end(), buf, buf + in.gcount());
    if (out.size() > max)
      return Error{p.string() + ": larger than " + std::to_string(max) + " bytes", "eventlog-unreadable"};
  }
  return out;
}

Result<Bytes> b64_field(const json& j, const char* name, const std::string& what) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return Error{what + ": answer lacks string '" + name + "'", "protocol"};
  auto b = token::base64url_decode(it->get<std::string>());
  if (!b) return Error{what + ": '" + std::string(name) + "': " + b.error().message, "protocol"};
  return b;
}

// The token's exp, read from its payload for scheduling only (the agent does
// not rely on the token; relying parties verify it).
int64_t token_exp(const std::string& jwt) {
  const auto a = jwt.find('.');
  const auto b = jwt.find('.', a == std::string::npos ? a : a + 1);
  if (a == std::string::npos || b == std::string::npos) return 0;
  auto payload = token::base64url_decode(std::string_view(jwt).substr(a + 1, b - a - 1));
  if (!payload) return 0;
  json j = json::parse(payload->begin(), payload->end(), nullptr, false);
  return j.is_object() && j.contains("exp") && j["exp"].is_number_integer() ? j["exp"].get<int64_t>() : 0;
}

}  // namespace

Error error_from_response(const http::Response& r, const std::string& what) {
  json j = json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("detail") && j["detail"].is_string()) {
    std::string reason = j.contains("reason") && j["reason"].is_string() ? j["reason"].get<std::string>() : "";
    return Error{what + ": HTTP " + std::to_string(r.status) + ": " + j["detail"].get<std::string>(), reason};
  }
  std::string body = r.body.substr(0, 200);
  return Error{what + ": HTTP " + std::to_string(r.status) + (body.empty() ? "" : ": " + body),
               r.status >= 500 ? "server-error" : "protocol"};
}

Result<std::unique_ptr<AttestationClient>> AttestationClient::create(AgentOptions o) {
  if (o.endpoint.empty()) return Error{"no attestation endpoint (settings maaEndpoint or --endpoint)", "settings"};
  if (o.vm_id.empty()) return Error{"no VM id", "vm-id-invalid"};
  while (!o.endpoint.empty() && o.endpoint.back() == '/') o.endpoint.pop_back();
  http::ClientOptions co;
  co.ca_file = o.ca_file;
  co.timeout_ms = o.timeout_ms;
  auto client = http::Client::create(o.endpoint, co);
  if (!client) return with_reason("network", client.take_error());
  auto t = tpm::Tpm::open(o.tcti, o.tpm);
  if (!t) return with_reason("tpm", t.take_error());
  return std::unique_ptr<AttestationClient>(
      new AttestationClient(std::move(o), std::make_unique<tpm::Tpm>(std::move(*t)), std::move(*client)));
}

Result<json> AttestationClient::post(const std::string& path, const json& body) {
  // os-release text is the guest's: replace invalid UTF-8 instead of throwing.
  auto r = http_->post_json(path, body.dump(-1, ' ', false, json::error_handler_t::replace));
  if (!r) return with_reason("network", with_context("POST " + options_.endpoint + path, r.take_error()));
  if (r->status != 200) return error_from_response(*r, "POST " + path);
  json j = json::parse(r->body, nullptr, false);
  if (!j.is_object()) return Error{"POST " + path + ": the answer is not a JSON object", "protocol"};
  return j;
}

Status AttestationClient::enroll() {
  auto ek = tpm_->endorsement_key();
  if (!ek) return with_reason("tpm", ek.take_error());
  auto ak = tpm_->attestation_key();
  if (!ak) return with_reason("tpm", ak.take_error());
  json req = {{"vmId", options_.vm_id},
              {"ekPublic", token::base64url_encode(ek->public_area)},
              {"akPublic", token::base64url_encode(ak->public_area)}};
  if (ek->certificate) req["ekCertificate"] = token::base64url_encode(*ek->certificate);
  auto started = post("/enroll", req);
  if (!started) return started.take_error();
  auto blob = b64_field(*started, "credentialBlob", "enroll");
  if (!blob) return blob.take_error();
  auto secret = b64_field(*started, "encryptedSecret", "enroll");
  if (!secret) return secret.take_error();
  auto id = started->find("enrollmentId");
  if (id == started->end() || !id->is_string()) return Error{"enroll: answer lacks 'enrollmentId'", "protocol"};
  // It goes into a URL path: only what the service issues (32 hex digits).
  const std::string& eid = id->get_ref<const std::string&>();
  if (eid.size() != 32 || eid.find_first_not_of("0123456789abcdef") != std::string::npos)
    return Error{"enroll: 'enrollmentId' is not 32 lower-case hex digits", "protocol"};
  auto recovered = tpm_->activate_credential(*blob, *secret);
  if (!recovered) return with_reason("tpm", with_context("TPM2_ActivateCredential", recovered.take_error()));
  auto done = post("/enroll/" + id->get<std::string>() + "/activate",
                   json{{"secret", token::base64url_encode(recovered->view())}});
  if (!done) return done.take_error();
  return {};
}

Result<tpm::RuntimeKey> AttestationClient::runtime_key_for(ByteView nonce) {
  if (runtime_key_) {
    const crypto::HashAlg sha256[] = {crypto::HashAlg::sha256};
    auto now = tpm_->read_pcrs(sha256, options_.runtime_key_pcrs);
    if (now && now->count(crypto::HashAlg::sha256) &&
        now->at(crypto::HashAlg::sha256) == runtime_key_->policy_pcr_values) {
      auto again = tpm_->certify_runtime_key(runtime_key_->blob, nonce);
      if (again) return again;
    }
  }
  auto fresh = tpm_->create_runtime_key(nonce, options_.runtime_key_pcrs);
  if (!fresh) return fresh.take_error();
  runtime_key_ = *fresh;
  return fresh;
}

Result<std::optional<verify::TeeEvidence>> read_tee_evidence(tpm::Tpm& t) {
  auto nv = t.read_nv(tee::kHclReportNvIndex, kMaxHclReportBytes);
  if (!nv) return with_context("HCL report (NV index 0x01400001)", nv.take_error());
  if (!*nv) return std::optional<verify::TeeEvidence>();  // not a confidential VM: nothing to add
  // The type comes from the report's own header. Sent as read (the index may
  // be larger than the report; tlaunchd's parser allows the zero padding).
  auto parsed = tee::parse_hcl_report(**nv);
  if (!parsed)
    return with_context("HCL report (NV index 0x01400001) not sent", parsed.take_error());
  verify::TeeEvidence out;
  out.type = parsed->hardware == tee::HclHardware::snp ? "az-snp-vtpm" : "az-tdx-vtpm";
  out.hcl_report = std::move(**nv);
  return std::optional<verify::TeeEvidence>(std::move(out));
}

Result<json> AttestationClient::collect_evidence(ByteView nonce) {
  verify::Evidence e;
  e.vm_id = options_.vm_id;
  e.nonce.assign(nonce.begin(), nonce.end());
  std::vector<crypto::HashAlg> banks{crypto::HashAlg::sha256};
  if (options_.include_sha1) banks.push_back(crypto::HashAlg::sha1);
  auto ak = tpm_->attestation_key();
  if (!ak) return with_reason("tpm", ak.take_error());
  e.ak_public = ak->public_area;
  auto log = read_binary(options_.eventlog, kMaxEventLogBytes);
  if (!log) return log.take_error();
  e.event_log = std::move(*log);
  // The runtime key first, then the quote: both bind the same nonce, and the
  // quote shows the PCR values the key's policy was computed from.
  auto rk = runtime_key_for(nonce);
  if (!rk) return with_reason("tpm", with_context("runtime key", rk.take_error()));
  auto q = tpm_->quote(nonce, banks, options_.quote_pcrs);
  if (!q) return with_reason("tpm", with_context("TPM2_Quote", q.take_error()));
  e.quote_attest = std::move(q->attest);
  e.quote_signature = std::move(q->signature);
  e.pcrs = std::move(q->pcrs);
  verify::RuntimeKeyEvidence r;
  r.public_area = rk->public_area;
  r.certify_info = rk->certify_info;
  r.signature = rk->signature;
  r.policy_pcrs = rk->policy_pcrs;
  e.runtime_key = std::move(r);
  // Saved for Secure Key Release once a token names this key (attest()).
  pending_key_blob_ = tpm::encode_runtime_key_blob(rk->blob);
  e.client_payload = options_.client_payload;
  // Self-reported: what cannot be read is reported in the status file, and
  // the evidence goes out without it.
  collection_warnings_.clear();
  // os-release: without a readable file (a minimal initramfs guest has none)
  // the spec's defaults, NAME "Linux" and no version, never an empty distro
  // the service would refuse.
  const bool default_path = options_.os_release == std::filesystem::path(kDefaultOsRelease);
  OsFacts os = os_facts(options_.os_release, default_path ? std::filesystem::path(kFallbackOsRelease)
                                                          : std::filesystem::path());
  if (os.warning) collection_warnings_.push_back(std::move(*os.warning));
  e.os.type = "Linux";
  e.os.distro = os.release.name;
  if (os.release.version) {
    e.os.version_major = os.release.version->major;
    e.os.version_minor = os.release.version->minor;
  }
  if (auto release = kernel_release(); release) e.os.kernel_release = std::move(*release);
  else collection_warnings_.push_back(release.error().message);
  KernelModuleFindings km = collect_kernel_modules(options_.kernel_modules);
  e.kernel_modules.reported = true;
  e.kernel_modules.taint = km.taint;
  e.kernel_modules.unsigned_modules = std::move(km.unsigned_modules);
  e.kernel_modules.rejected_modules = std::move(km.rejected_modules);
  e.kernel_modules.ima_failures = std::move(km.ima_failures);
  for (auto& p : km.problems) collection_warnings_.push_back(std::move(p));
  if (options_.read_hcl_report) {
    auto tee = read_tee_evidence(*tpm_);
    if (!tee) collection_warnings_.push_back(tee.error().message);
    else if (*tee) e.tee = std::move(**tee);
  }
  return verify::encode_evidence(e);
}

Result<AttestResult> AttestationClient::attest() {
  AttestResult out;
  for (int round = 0; round < 2; ++round) {
    auto ch = post("/challenge", json{{"vmId", options_.vm_id}});
    if (!ch) return ch.take_error();
    auto nonce = b64_field(*ch, "nonce", "challenge");
    if (!nonce) return nonce.take_error();
    auto evidence = collect_evidence(*nonce);
    if (!evidence) return evidence.take_error();
    auto r = post("/attest", *evidence);
    if (r) {
      auto t = r->find("token");
      if (t == r->end() || !t->is_string()) return Error{"attest: answer lacks 'token'", "protocol"};
      out.token = t->get<std::string>();
      out.expires_at = token_exp(out.token);
      // The key in this token's x-ms-runtime: kept for key release, TPM-wrapped
      // (useless outside this TPM). Written only now, so a failed attempt never
      // replaces the key the last valid token names.
      if (pending_key_blob_) {
        std::error_code ec;
        std::filesystem::create_directories(options_.state_dir, ec);
        const Bytes& blob = *pending_key_blob_;
        if (auto st = write_file_atomic(options_.state_dir / "runtime-key.bin",
                                        std::string_view(reinterpret_cast<const char*>(blob.data()), blob.size()),
                                        0600);
            !st)
          return st.take_error();
      }
      attested_key_blob_ = pending_key_blob_;
      return out;
    }
    // Not enrolled, or enrolled with another AK (a TPM cleared, an AK recreated): enroll once and retry.
    const std::string& reason = r.error().reason;
    if (round == 0 && (reason == "vm-not-enrolled" || reason == "ak-mismatch")) {
      if (auto st = enroll(); !st) return st.take_error();
      out.enrolled_now = true;
      continue;
    }
    return r.take_error();
  }
  return Error{"attest: enrollment did not make the service accept this VM", "protocol"};
}

}  // namespace tl::agent
