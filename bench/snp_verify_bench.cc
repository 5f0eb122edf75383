// SEV-SNP report verification throughput on the virtee Milan vector (report +
// VCEK; the shipped Milan ARK/ASK):
//   BM_VerifyCached    SnpVerifier with the chain remembered: ECDSA P-384 +
//                      TCB/hwID comparison + validity times per report
//   BM_VerifyUncached  verify_snp_report: also the three RSA-PSS certificate
//                      checks and certificate parsing every time
//   BM_Parse           parse_snp_report alone
// Vectors are read from $TL_SHARED_DIR/vectors (default: the configured shared dir).
#include <benchmark/benchmark.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "tee/snp_verify.h"

namespace {

using tl::Bytes;
using tl::tee::SnpCertChain;
using tl::tee::SnpVerifyOptions;

constexpr int64_t kAt = 1767225600;  // 2026-01-01: inside the VCEK's validity

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

Bytes g_report;
Bytes g_vcek;

SnpVerifyOptions options() {
  SnpVerifyOptions o;
  o.at = kAt;
  return o;
}

void BM_VerifyCached(benchmark::State& state) {
  tl::tee::SnpVerifier verifier;
  const SnpCertChain certs{{}, {}, g_vcek};
  const auto opts = options();
  if (!verifier.verify(g_report, certs, opts).ok()) state.SkipWithError("vector does not verify");
  for (auto _ : state) {
    auto v = verifier.verify(g_report, certs, opts);
    if (!v.ok()) state.SkipWithError(v.error().message.c_str());
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));  // reports/s
}

void BM_VerifyUncached(benchmark::State& state) {
  const SnpCertChain certs{{}, {}, g_vcek};
  const auto opts = options();
  for (auto _ : state) {
    auto v = tl::tee::verify_snp_report(g_report, certs, opts);
    if (!v.ok()) state.SkipWithError(v.error().message.c_str());
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void BM_Parse(benchmark::State& state) {
  for (auto _ : state) {
    auto r = tl::tee::parse_snp_report(g_report);
    if (!r.ok()) state.SkipWithError(r.error().message.c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

}  // namespace

int main(int argc, char** argv) {
  const char* env = std::getenv("TL_SHARED_DIR");
  const std::string shared = env != nullptr && *env != '\0' ? env : TL_SHARED_DIR_DEFAULT;
  const std::string dir = shared + "/vectors/cvm/virtee-milan-report/";
  std::string hex, vcek;
  if (!read_file(dir + "report_milan.hex", hex) || !read_file(dir + "vcek_milan.der", vcek)) {
    std::fprintf(stderr, "snp_verify_bench: %s not found, skipped (set TL_SHARED_DIR)\n", dir.c_str());
    return 77;  // "skipped" for ctest (SKIP_RETURN_CODE in bench/snp_verify.cmake)
  }
  std::string compact;
  for (char c : hex)
    if (std::isxdigit(static_cast<unsigned char>(c))) compact.push_back(c);
  auto report = tl::from_hex(compact);
  if (!report.ok()) {
    std::fprintf(stderr, "snp_verify_bench: bad report hex\n");
    return 1;
  }
  g_report = std::move(*report);
  g_vcek.assign(vcek.begin(), vcek.end());
  benchmark::RegisterBenchmark("BM_VerifyCached", BM_VerifyCached);
  benchmark::RegisterBenchmark("BM_VerifyUncached", BM_VerifyUncached);
  benchmark::RegisterBenchmark("BM_Parse", BM_Parse);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
