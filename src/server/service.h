// The attestation service behind tlaunchd's API (docs/api/openapi.yaml):
// enrollment by credential activation, challenges, attestation → token, and
// the stateless appraisal. HTTP-agnostic: requests and answers are JSON, and
// failures are Errors whose reason maps to a problem type (server/problem.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
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
  // POST /appraise → {"result":"pass"|"fail", …} (a rejection is a result, not an error)
  Result<nlohmann::json> appraise(const nlohmann::json& request);

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
  std::atomic<int64_t> last_prune_{0};
};

// Reads a challenge key set from the store, creating the first key if none.
Result<verify::ChallengeKeys> load_challenge_keys(Repository& repo, int64_t now);

}  // namespace tl::server
