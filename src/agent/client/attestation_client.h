// The agent's side of the attestation protocol (docs/attestation-flow.md):
// enrollment (EK + AK, credential activation), then challenge → evidence →
// token. One AttestationClient owns one TPM connection and one HTTP client and
// is used from one thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/kernel_modules.h"
#include "agent/os_release.h"
#include "agent/tpm/agent_tpm.h"
#include "common/result.h"
#include "http/http.h"
#include "verify/evidence.h"

namespace tl::agent {

struct AgentOptions {
  std::string endpoint;                // tlaunchd base URL, e.g. "https://10.0.2.2:8443"
  std::optional<std::string> ca_file;  // HTTPS: trust only this CA bundle (PEM)
  std::string tcti = "device:/dev/tpmrm0";
  tpm::Options tpm;
  std::filesystem::path eventlog = "/sys/kernel/security/tpm0/binary_bios_measurements";
  // Missing: /usr/lib/os-release for the default path, else (or if that is
  // missing too) os-release(5)'s defaults, NAME "Linux" (a collection warning).
  std::filesystem::path os_release = kDefaultOsRelease;
  // Kernel log (/dev/kmsg), taint flags and IMA list for the kernel module
  // report; a missing one is not an error (docs/agent.md "Kernel modules").
  KernelModuleSources kernel_modules;
  std::string vm_id;
  std::filesystem::path state_dir = "/var/lib/tlaunch-agent";
  // PCRs quoted in the SHA-256 bank (PCR 10, IMA's, changes constantly and is
  // left out by default).
  std::vector<uint32_t> quote_pcrs{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14};
  bool include_sha1 = false;  // also quote the SHA-1 bank (the service must allow it)
  // PCRs the runtime key's policy binds: firmware, boot loader and Secure Boot state.
  std::vector<uint32_t> runtime_key_pcrs{0, 1, 2, 3, 4, 5, 6, 7};
  nlohmann::json client_payload = nlohmann::json::object();
  unsigned timeout_ms = 30'000;
  // On an Azure confidential VM the paravisor keeps its HCL report in vTPM NV
  // index 0x01400001: when that index is defined it is sent as evidence "tee"
  // (docs/agent.md "Confidential VMs"); absent, nothing is added.
  bool read_hcl_report = true;
};

struct AttestResult {
  std::string token;
  int64_t expires_at = 0;  // the token's exp (read from its payload, not verified here)
  bool enrolled_now = false;
};

class AttestationClient {
 public:
  static Result<std::unique_ptr<AttestationClient>> create(AgentOptions options);

  // POST /enroll, TPM2_ActivateCredential, POST /enroll/{id}/activate.
  Status enroll();
  // Challenge, evidence, POST /attest. Enrolls first when the service does
  // not know this VM (reason vm-not-enrolled) or the AK changed.
  Result<AttestResult> attest();
  // The evidence for `nonce` (exposed for tools and load tests).
  Result<nlohmann::json> collect_evidence(ByteView nonce);

  tpm::Tpm& tpm() { return *tpm_; }
  const AgentOptions& options() const { return options_; }
  // The runtime key the token of the last successful attest() names, in its
  // stored form (tpm::encode_runtime_key_blob; also saved as
  // <state_dir>/runtime-key.bin): what Secure Key Release unwraps with
  // (key_release.h). nullopt before a successful attest().
  const std::optional<Bytes>& attested_runtime_key() const { return attested_key_blob_; }
  // Sources of the last collect_evidence() that could not be read or parsed
  // (kernel log, taint, IMA list, uname; os-release, also when missing): for
  // the status file and the log; they never fail an attestation.
  const std::vector<std::string>& collection_warnings() const { return collection_warnings_; }

 private:
  AttestationClient(AgentOptions o, std::unique_ptr<tpm::Tpm> t, std::unique_ptr<http::Client> c)
      : options_(std::move(o)), tpm_(std::move(t)), http_(std::move(c)) {}
  Result<nlohmann::json> post(const std::string& path, const nlohmann::json& body);
  // The runtime key certified for `nonce`: the key made earlier in this process
  // when the PCRs its policy binds still hold the same values, else a new one.
  Result<tpm::RuntimeKey> runtime_key_for(ByteView nonce);
  std::optional<tpm::RuntimeKey> runtime_key_;  // as created (with its policy PCR values)
  std::optional<Bytes> pending_key_blob_;        // of the last evidence; saved once a token names it
  std::optional<Bytes> attested_key_blob_;       // the one the last token names
  std::vector<std::string> collection_warnings_;

  AgentOptions options_;
  std::unique_ptr<tpm::Tpm> tpm_;
  std::unique_ptr<http::Client> http_;
};

// The HCL report in NV index 0x01400001 as evidence "tee" (its type from the
// report's header), nullopt when the index is not defined or not written. An
// index that cannot be read or does not parse is an error (the caller reports
// it as a collection warning and attests without "tee").
Result<std::optional<verify::TeeEvidence>> read_tee_evidence(tpm::Tpm& tpm);

// An Error from a problem+json answer: detail as message, reason kept.
Error error_from_response(const http::Response& r, const std::string& what);

}  // namespace tl::agent
