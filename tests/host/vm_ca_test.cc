// The host's vTPM CA and a VM's vTPM, with the real swtpm_setup / swtpm:
// the EK certificate chains to the CA (openssl verify), the state is
// encrypted (the EK certificate is not in it in clear; without the key it is),
// and a started swtpm answers on its control socket.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>
#include <sys/stat.h>

#include "host/process.h"
#include "host/vm_config.h"
#include "host/vtpm.h"
#include "support/cli_runner.h"
#include "support/test_support.h"

namespace tl::host {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

TEST(VtpmCa, EkCertificateChainsToTheHostCaAndStateIsEncrypted) {
  test::TempDir dir;
  const VtpmCa ca{dir.path() / "ca"};
  ASSERT_TRUE(ca.ensure()) << "first use creates the CA";
  ASSERT_TRUE(ca.exists());
  EXPECT_EQ(test::read_text_or_empty(ca.localca_conf()).find("/var/lib/swtpm-localca"), std::string::npos) << "never the system CA";
  struct stat st {};
  ASSERT_EQ(stat(ca.dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0u) << "the CA's keys are not readable by others";

  const fs::path key = dir.path() / "tpm.key";
  ASSERT_TRUE(write_tpm_key(key));
  ASSERT_EQ(stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(test::read_text_or_empty(key).size(), 64u) << "256-bit key, hex";

  const fs::path state = dir.path() / "tpm";
  const fs::path certs = dir.path() / "ek";
  auto s = provision_vtpm(ca, state, key, dir.path() / "setup.log", certs);
  ASSERT_TRUE(s) << s.error().message;
  const fs::path ek = certs / "ek-rsa2048.crt";
  ASSERT_TRUE(fs::exists(ek));
  const std::string der = test::read_text_or_empty(ek);
  ASSERT_GT(der.size(), 500u);

  // The chain: EK certificate -> issuer -> root.
  auto pem = run_checked({"openssl", "x509", "-inform", "der", "-in", ek.string(), "-out", (dir.path() / "ek.pem").string()}, 20s);
  ASSERT_TRUE(pem) << pem.error().message;
  auto verify = run({"openssl", "verify", "-CAfile", ca.root_cert().string(), "-untrusted",
                     ca.issuer_cert().string(), (dir.path() / "ek.pem").string()},
                    20s);
  ASSERT_TRUE(verify);
  EXPECT_EQ(verify->status, 0) << verify->output;
  EXPECT_NE(verify->output.find(": OK"), std::string::npos) << verify->output;
  // And not to some other CA: a second, unrelated CA does not verify it.
  const VtpmCa other{dir.path() / "other-ca"};
  ASSERT_TRUE(other.ensure());
  auto wrong = run({"openssl", "verify", "-CAfile", other.root_cert().string(), "-untrusted", other.issuer_cert().string(),
                    (dir.path() / "ek.pem").string()},
                   20s);
  ASSERT_TRUE(wrong);
  EXPECT_NE(wrong->status, 0);

  // Encrypted: the certificate (which is in the TPM's NV) is not in the state file in clear.
  const std::string blob = test::read_text_or_empty(state / "tpm2-00.permall");
  ASSERT_FALSE(blob.empty());
  EXPECT_EQ(blob.find(der.substr(0, 200)), std::string::npos) << "EK certificate found in clear in the state";
  // Control: the same search finds it in a state made without a key, so the check can fail.
  const fs::path plain = dir.path() / "plain";
  fs::create_directories(plain);
  fs::create_directories(dir.path() / "plain-ek");
  auto r = run({"swtpm_setup", "--tpm2", "--tpmstate", plain.string(), "--create-ek-cert", "--config",
                ca.setup_conf().string(), "--write-ek-cert-files", (dir.path() / "plain-ek").string(), "--logfile",
                (dir.path() / "plain.log").string()},
               60s);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 0) << test::read_text_or_empty(dir.path() / "plain.log");
  const std::string plain_der = test::read_text_or_empty(dir.path() / "plain-ek" / "ek-rsa2048.crt");
  ASSERT_FALSE(plain_der.empty());
  EXPECT_NE(test::read_text_or_empty(plain / "tpm2-00.permall").find(plain_der.substr(0, 200)), std::string::npos);

  // The encrypted state runs under swtpm with its key, and answers.
  const fs::path sock = dir.path() / "s.sock";
  SpawnOptions so;
  so.stderr_file = dir.path() / "swtpm.err";
  auto child = spawn(swtpm_argv(state, key, sock, dir.path() / "swtpm.log"), so);
  ASSERT_TRUE(child) << child.error().message;
  bool answered = false;
  for (int i = 0; i < 100 && !answered; ++i) {
    std::this_thread::sleep_for(50ms);
    answered = static_cast<bool>(probe_swtpm(sock, 1000ms));
  }
  EXPECT_TRUE(answered) << test::read_text_or_empty(dir.path() / "swtpm.log");
  child->signal(SIGTERM);
  EXPECT_TRUE(child->wait(5s));
  // Nothing listens any more: the probe says so.
  auto gone = probe_swtpm(sock, 500ms);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().reason, "vtpm-not-running");
}

TEST(VtpmCa, SocketPathTooLongIsAClearError) {
  auto s = check_socket_path("/" + std::string(120, 'a') + "/swtpm.sock");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().reason, "host-path-too-long");
}

}  // namespace
}  // namespace tl::host
