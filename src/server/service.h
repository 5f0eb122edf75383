// The attestation service behind tlaunchd's API (docs/api/openapi.yaml):
// enrollment by credential activation, challenges, attestation → token, and
// the stateless appraisal. HTTP-agnostic: requests and answers are JSON, and
// failures are Errors whose reason maps to a problem type (server/problem.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "common/result.h"
#include "fleet/fleet.h"
#include "server/config.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/repository.h"
#include "server/token_issuer.h"
#include "verify/attestation.h"
#include "verify/challenge.h"
#include "verify/cvm.h"

namespace tl::server {

// EK CA bundles split into self-signed anchors and intermediates.
struct EkTrust {
  std::vector<Bytes> anchors;        // DER
  std::vector<Bytes> intermediates;  // DER
};
Result<EkTrust> load_ek_trust(const std::vector<std::string>& bundle_files);

class Service {
 public:
  static Result<std::unique_ptr<Service>> open(Config config, Logger& log, Metrics& metrics,
                                               verify::Clock clock = verify::system_clock());

  // POST /enroll → {"enrollmentId","credentialBlob","encryptedSecret","expiresAt"}
  Result<nlohmann::json> begin_enrollment(const nlohmann::json& request);
  // POST /enroll/{id}/activate → {"vmId","enrolledAt","ekCertificateValidated","akName"}
  Result<nlohmann::json> activate_enrollment(const std::string& enrollment_id, const nlohmann::json& request);
  // POST /challenge → {"nonce","expiresAt"}
  Result<nlohmann::json> challenge(const nlohmann::json& request);
  // POST /attest → {"token"}
  Result<nlohmann::json> attest(const nlohmann::json& request);
  // POST /appraise → {"result":"pass"|"fail", …} (a rejection is a result, not an error).
  // With "evidenceType" (az-snp-vtpm | az-tdx-vtpm): confidential VM evidence
  // (service_cvm.cc, docs/tlaunchd.md "Confidential VMs").
  Result<nlohmann::json> appraise(const nlohmann::json& request);
  // POST /attest/sevsnpvm, /attest/tdxvm → {"token"}: MAA-like, unauthenticated;
  // the token's claims are the TEE claims, the vTPM claims and the nonce.
  Result<nlohmann::json> attest_cvm(verify::CvmEvidenceType type, const nlohmann::json& request);

  nlohmann::json openid_configuration();
  nlohmann::json jwks() { return issuer_->jwks(); }
  Status healthy();

  // The port the server bound (when configured as 0): the default issuer
  // names it. Call before serving requests.
  void set_bound_port(uint16_t port);

  const Config& config() const { return config_; }
  TokenIssuer& issuer() { return *issuer_; }
  Repository& repository() { return *repo_; }
  fleet::Fleet& fleet() { return *fleet_; }
  int64_t now() const { return clock_(); }

 private:
  Service(Config c, Logger& log, Metrics& m, verify::Clock clock)
      : config_(std::move(c)), log_(log), metrics_(m), clock_(std::move(clock)) {}
  Result<verify::VerifiedAttestation> verify_for(const verify::Evidence& evidence, ByteView nonce,
                                                 const VmRecord& vm,
                                                 std::shared_ptr<const policy::Baseline> baseline = nullptr);
  // Single use of a challenge, recorded on the first attestation made for it,
  // accepted or rejected; errors: challenge-replayed, challenge-malformed, unavailable.
  Status use_challenge(ByteView nonce, int64_t now);
  // Tells the fleet monitor; its failures are logged, never fail the attestation.
  void record_in_fleet(const verify::VerifiedAttestation& att, const VmRecord& vm, int64_t now);
  void record_rejection_in_fleet(const std::string& vm_id, const Error& e, int64_t now);
  void maybe_prune(int64_t now);
  Result<nlohmann::json> appraise_cvm(const nlohmann::json& request);
  // Decodes and verifies {"evidenceType"?, "evidence", "nonce"}; `type` fixed
  // by the route, or read from evidenceType.
  Result<verify::VerifiedCvmAttestation> verify_cvm_request(const nlohmann::json& request,
                                                            std::optional<verify::CvmEvidenceType> type,
                                                            Bytes* nonce_out);
  // The "tee" member of an agent's /attest evidence: the HCL report's AK must
  // be the enrolled AK (hcl-ak-mismatch), then the whole CVM chain is verified
  // with the agent's own quote. Returns the TEE claims (x-ms-isolation-tee).
  Result<nlohmann::json> verify_agent_tee(const verify::Evidence& evidence, const VmRecord& vm);
  verify::CvmPolicy cvm_policy() const;

  Config config_;
  Logger& log_;
  Metrics& metrics_;
  verify::Clock clock_;
  std::unique_ptr<Repository> repo_;
  std::unique_ptr<fleet::Fleet> fleet_;
  std::unique_ptr<TokenIssuer> issuer_;
  std::unique_ptr<verify::Challenger> challenger_;
  EkTrust ek_trust_;
  verify::AppraisalPolicy policy_;
  // Confidential VMs: the SEV-SNP chain cache shared by every request, and the
  // TDX collateral read at start (config "cvm").
  std::unique_ptr<tee::SnpVerifier> snp_verifier_;
  std::optional<tee::TdxCollateral> tdx_collateral_;
  std::atomic<int64_t> last_prune_{0};
};

// Reads a challenge key set from the store, creating the first key if none.
Result<verify::ChallengeKeys> load_challenge_keys(Repository& repo, int64_t now);

}  // namespace tl::server
