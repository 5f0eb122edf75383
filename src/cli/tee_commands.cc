// Offline verifiers for confidential VM hardware evidence:
//   tlaunch snp verify --report FILE --vcek FILE [--chain FILE | --product P] [--at TIME]
//                      [--report-data HEX] [--json]
//   tlaunch tdx verify --quote FILE [--collateral DIR] [--at TIME] [--report-data HEX] [--json]
//   tlaunch hcl inspect FILE [--vcek FILE] [--at TIME] [--json]
// Each prints the check list of the library's check_* function (the same code
// path the verifier uses, so the CLI and tlaunchd cannot disagree) and exits 0
// only when every check passed (docs/cli.md "Confidential VM evidence").
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/options.h"
#include "common/hex.h"
#include "common/rfc3339.h"
#include "crypto/cert_chain.h"
#include "crypto/x509.h"
#include "tee/check.h"
#include "tee/hcl_report.h"
#include "tee/snp_certs.h"
#include "tee/snp_report.h"
#include "tee/snp_verify.h"
#include "tee/tdx_quote.h"
#include "tee/tdx_verify.h"

namespace tl::cli {
namespace {

using nlohmann::ordered_json;

constexpr const char* kSnpHelp =
    "usage: tlaunch snp verify --report FILE [--vcek FILE | --cert-store DIR | --kds [--kds-url URL]]\n"
    "                          [--chain FILE | --product milan|genoa|turin]\n"
    "                          [--at TIME] [--report-data HEX] [--json]\n"
    "\n"
    "Verify an AMD SEV-SNP ATTESTATION_REPORT: its ECDSA P-384 signature under the VCEK\n"
    "(or VLEK), the VCEK -> ASK -> ARK chain to AMD's root shipped with trustlaunch, the\n"
    "VCEK's TCB extensions against REPORTED_TCB and its hwid against CHIP_ID.\n"
    "\n"
    "  --report FILE       the report: 1184 raw bytes, or the same as hex text\n"
    "  --vcek FILE         the VCEK or VLEK certificate, DER or PEM\n"
    "  --cert-store DIR    instead: an offline store (DIR/<product>/vcek/<chip_id>-<tcb>.der,\n"
    "                      ark.pem, ask.pem; docs/tee-snp.md)\n"
    "  --kds               instead: fetch the VCEK for the report's chip and REPORTED_TCB from\n"
    "                      AMD's Key Distribution Service (cached in\n"
    "                      $XDG_CACHE_HOME/trustlaunch/kds or ~/.cache/trustlaunch/kds)\n"
    "  --kds-url URL       KDS base URL (default https://kdsintf.amd.com; implies --kds)\n"
    "                      One of --vcek, --cert-store, --kds is required.\n"
    "  --chain FILE        PEM with the ASK (or ASVK) and the ARK (AMD's cert_chain); the\n"
    "                      ARK must still be the shipped one. Default: the shipped ASK and ARK\n"
    "  --product P         milan, genoa or turin, for a version 2 report that does not name\n"
    "                      its CPU (default: from the report, else the VCEK's issuer)\n"
    "  --at TIME           certificate validity time, RFC 3339 (default: now)\n"
    "  --report-data HEX   REPORT_DATA must start with these bytes\n"
    "  --json              print one JSON object: every report field and every check\n"
    "\n"
    "Exit status: 0 valid, 1 a check failed, 2 malformed input or usage error.\n";

constexpr const char* kTdxHelp =
    "usage: tlaunch tdx verify --quote FILE [--collateral DIR] [--at TIME] [--report-data HEX] [--json]\n"
    "\n"
    "Verify an Intel TDX quote (v4 or v5): the PCK certificate chain to Intel's SGX Root\n"
    "CA shipped with trustlaunch, the QE report's signature and its binding to the\n"
    "attestation key, and the quote's signature. With --collateral, also the TCB Info and\n"
    "QE Identity (signature, validity, FMSPC) and the TCB status; Revoked fails.\n"
    "\n"
    "  --quote FILE        the quote, raw bytes\n"
    "  --collateral DIR    Intel PCS collateral files (tcb_info.json, …; docs/tee.md)\n"
    "  --at TIME           verification time, RFC 3339 (default: now)\n"
    "  --report-data HEX   REPORTDATA must start with these bytes\n"
    "  --json              print one JSON object: every quote field and every check\n"
    "\n"
    "Exit status: 0 valid, 1 a check failed, 2 malformed input or usage error.\n";

constexpr const char* kHclHelp =
    "usage: tlaunch hcl inspect FILE [--vcek FILE] [--chain FILE] [--at TIME] [--json]\n"
    "\n"
    "Show an Azure confidential VM's HCL report (the contents of vTPM NV index 0x01400001:\n"
    "tpm2_nvread 0x01400001 -o FILE): header, hardware report type, the runtime data's\n"
    "keys (HCLAkPub, HCLEkPub) and VM configuration, and check that the hardware report's\n"
    "REPORT_DATA carries the hash of the runtime data (hcl.binding). With --vcek (SEV-SNP),\n"
    "the SEV-SNP report inside is verified as by 'tlaunch snp verify'. A TDREPORT is MACed\n"
    "for the local CPU only: its TD quote is verified with 'tlaunch tdx verify'.\n"
    "\n"
    "  --vcek FILE         VCEK certificate (DER or PEM) for the SEV-SNP report inside\n"
    "  --chain FILE        ASK + ARK PEM (default: the shipped ones)\n"
    "  --at TIME           certificate validity time, RFC 3339 (default: now)\n"
    "  --json              print one JSON object\n"
    "\n"
    "Exit status: 0 the report parses and every check passed, 1 a check failed, 2 malformed\n"
    "input or usage error.\n";

int usage_error(const char* cmd, const std::string& m) {
  std::cerr << "tlaunch " << cmd << ": " << m << "\n(see --help)\n";
  return kExitBadInput;
}

int input_error(const char* cmd, const std::string& m) {
  std::cerr << "tlaunch " << cmd << ": " << m << '\n';
  return kExitBadInput;
}

std::string_view as_text(const std::vector<uint8_t>& b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

// Raw bytes of `size`, or the same as hex text (whitespace ignored).
Result<Bytes> raw_or_hex(const std::vector<uint8_t>& data, size_t size, const std::string& what) {
  if (data.size() == size) return Bytes(data.begin(), data.end());
  std::string hex;
  for (char c : as_text(data)) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    hex += c;
  }
  auto b = from_hex(hex);
  if (!b) return Error{what + ": neither " + std::to_string(size) + " raw bytes (got " + std::to_string(data.size()) +
                       ") nor hex text: " + b.error().message};
  return b;
}

// One DER certificate from DER or PEM.
Result<Bytes> one_certificate(const std::string& path, const std::vector<uint8_t>& data) {
  auto certs = crypto::parse_certificates(data);
  if (!certs) return Error{path + ": " + certs.error().message};
  if (certs->size() != 1)
    return Error{path + ": expected one certificate, found " + std::to_string(certs->size())};
  return std::move(certs->front());
}

// ASK (or ASVK) and ARK from a PEM chain: the self-signed one is the ARK.
Status load_chain(const std::string& path, tee::SnpCertChain& chain) {
  auto data = read_file_bytes(path);
  if (!data) return data.take_error();
  auto certs = crypto::parse_certificates(*data);
  if (!certs) return Error{path + ": " + certs.error().message};
  if (certs->size() != 2) return Error{path + ": expected the ASK and the ARK, found " + std::to_string(certs->size()) + " certificates"};
  for (auto& der : *certs) {
    auto s = crypto::summarize_der_certificate(der);
    if (!s) return Error{path + ": " + s.error().message};
    (s->subject == s->issuer ? chain.ark : chain.ask) = std::move(der);
  }
  if (chain.ark.empty() || chain.ask.empty()) return Error{path + ": expected one self-signed ARK and one ASK"};
  return {};
}

Result<std::optional<int64_t>> at_option(const ParsedOptions& o) {
  auto v = o.value("--at");
  if (!v) return std::optional<int64_t>();
  auto t = parse_rfc3339(*v);
  if (!t) return Error{"--at: " + t.error().message};
  return std::optional<int64_t>(*t);
}

Result<std::optional<Bytes>> report_data_option(const ParsedOptions& o) {
  auto v = o.value("--report-data");
  if (!v) return std::optional<Bytes>();
  auto b = from_hex(*v);
  if (!b) return Error{"--report-data: " + b.error().message};
  if (b->empty() || b->size() > 64) return Error{"--report-data: 1 to 64 bytes"};
  return std::optional<Bytes>(std::move(*b));
}

ordered_json checks_json(const std::vector<tee::Check>& checks) {
  ordered_json a = ordered_json::array();
  for (const auto& c : checks) {
    ordered_json j{{"name", c.name}, {"ok", c.passed}, {"detail", c.detail}};
    if (!c.passed) j["reason"] = c.reason;
    a.push_back(std::move(j));
  }
  return a;
}

void print_checks(const std::vector<tee::Check>& checks) {
  for (const auto& c : checks) {
    std::cout << "  " << (c.passed ? "\u2713" : "\u2717") << ' ' << c.name;
    if (!c.detail.empty()) std::cout << ": " << c.detail;
    if (!c.passed && !c.reason.empty()) std::cout << " (" << c.reason << ')';
    std::cout << '\n';
  }
}

bool all_passed(const std::vector<tee::Check>& checks) {
  for (const auto& c : checks)
    if (!c.passed) return false;
  return !checks.empty();
}

// 2 when the input did not parse, 1 when a later check failed, else 0; the
// first failure named on stderr (also with --json, so scripts see why).
int verdict(const char* cmd, const std::vector<tee::Check>& checks, bool ok) {
  if (ok) return kExitOk;
  if (checks.empty()) {
    std::cerr << "tlaunch " << cmd << ": no check ran\n";
    return kExitFailed;
  }
  const Error e = tee::first_failure(checks);
  std::cerr << "tlaunch " << cmd << ": " << e.message << " [" << e.reason << "]\n";
  return checks.front().name == "parse" && !checks.front().passed ? kExitBadInput : kExitFailed;
}

// Where fetched KDS certificates are kept between runs (empty: memory only).
std::filesystem::path kds_cache_dir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x != nullptr && *x != '\0')
    return std::filesystem::path(x) / "trustlaunch/kds";
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0')
    return std::filesystem::path(h) / ".cache/trustlaunch/kds";
  return {};
}

std::string_view hardware_name(tee::HclHardware h) { return h == tee::HclHardware::snp ? "SEV-SNP" : "TDX"; }

}  // namespace

int snp_verify(const Args& args) {
  const char* cmd = "snp verify";
  auto opts = parse_options(args, OptionSpec{{"--json", "--help", "-h", "--kds"},
                                             {"--report", "--vcek", "--chain", "--product", "--at", "--report-data",
                                              "--cert-store", "--kds-url"}});
  if (!opts) return usage_error(cmd, opts.error().message);
  if (opts->has("--help") || opts->has("-h")) {
    std::cout << kSnpHelp;
    return kExitOk;
  }
  if (!opts->positionals.empty()) return usage_error(cmd, "unexpected argument '" + opts->positionals[0] + "'");
  if (!opts->value("--report")) return usage_error(cmd, "missing --report");
  const bool kds = opts->has("--kds") || opts->value("--kds-url");
  const int sources = (opts->value("--vcek") ? 1 : 0) + (opts->value("--cert-store") ? 1 : 0) + (kds ? 1 : 0);
  if (sources == 0)
    return usage_error(cmd, "where is the VCEK? give --vcek FILE, --cert-store DIR or --kds (fetch from AMD's KDS)");
  if (sources > 1) return usage_error(cmd, "give only one of --vcek, --cert-store and --kds");
  if (opts->value("--chain") && !opts->value("--vcek"))
    return usage_error(cmd, "--chain goes with --vcek (the store and KDS supply the chain)");
  if (opts->value("--chain") && opts->value("--product"))
    return usage_error(cmd, "give --chain or --product, not both (the chain names its product)");
  tee::SnpVerifyOptions vo;
  if (auto p = opts->value("--product")) {
    vo.product = tee::product_from_name(*p);
    if (!vo.product) return usage_error(cmd, "--product: '" + *p + "' is not milan, genoa or turin");
  }
  auto at = at_option(*opts);
  if (!at) return usage_error(cmd, at.error().message);
  vo.at = *at;
  auto rd = report_data_option(*opts);
  if (!rd) return usage_error(cmd, rd.error().message);
  vo.expected_report_data = *rd;

  auto raw = read_file_bytes(*opts->value("--report"));
  if (!raw) return input_error(cmd, raw.error().message);
  auto report = raw_or_hex(*raw, tee::kSnpReportSize, *opts->value("--report"));
  if (!report) return input_error(cmd, report.error().message);
  tee::SnpCertChain chain;
  if (auto v = opts->value("--vcek")) {
    auto vcek_bytes = read_file_bytes(*v);
    if (!vcek_bytes) return input_error(cmd, vcek_bytes.error().message);
    auto vcek = one_certificate(*v, *vcek_bytes);
    if (!vcek) return input_error(cmd, vcek.error().message);
    chain.vcek = std::move(*vcek);
    if (auto c = opts->value("--chain"))
      if (auto st = load_chain(*c, chain); !st) return input_error(cmd, st.error().message);
  } else if (auto parsed = tee::parse_snp_report(*report, vo.product); parsed) {
    // The store and KDS are addressed by the report's chip id and TCB. (A report
    // that does not parse goes on without a VCEK: its "parse" check says why.)
    if (auto dir = opts->value("--cert-store")) {
      auto c = tee::load_snp_certs(*dir, *parsed);
      if (!c) return input_error(cmd, "--cert-store " + *dir + ": " + c.error().message);
      chain = std::move(*c);
    } else {
      tee::KdsOptions ko;
      if (auto url = opts->value("--kds-url")) ko.base_url = *url;
      ko.cache_dir = kds_cache_dir();
      tee::KdsClient client(ko);
      auto c = client.certificates(*parsed);
      if (!c) return input_error(cmd, "AMD KDS (" + ko.base_url + "): " + c.error().message);
      chain = std::move(*c);
    }
  }

  const tee::SnpReportCheck rep = tee::check_snp_report(*report, chain, vo);
  if (opts->has("--json")) {
    ordered_json j;
    j["valid"] = rep.ok();
    j["checks"] = checks_json(rep.checks);
    // Parsed fields are shown also for a report that failed: "valid" says whether to believe them.
    j["report"] = rep.parsed ? ordered_json(tee::snp_report_json(*rep.parsed)) : ordered_json(nullptr);
    std::cout << j.dump(2) << '\n';
  } else {
    std::cout << "SEV-SNP report: " << (rep.ok() ? "VALID" : "NOT VALID") << '\n';
    if (rep.parsed) {
      const tee::SnpReport& r = *rep.parsed;
      std::cout << "  version " << r.version << ", " << tee::product_name(r.product) << ", VMPL " << r.vmpl
                << ", policy 0x" << std::hex << r.policy.raw << std::dec
                << (r.policy.debug_allowed ? " (DEBUG ALLOWED)" : "") << '\n'
                << "  measurement " << to_hex(r.measurement) << '\n'
                << "  report_data " << to_hex(r.report_data) << '\n'
                << "  chip_id     " << to_hex(r.chip_id) << '\n';
    }
    print_checks(rep.checks);
  }
  std::cout.flush();
  return verdict(cmd, rep.checks, rep.ok());
}

int tdx_verify(const Args& args) {
  const char* cmd = "tdx verify";
  auto opts = parse_options(args, OptionSpec{{"--json", "--help", "-h"}, {"--quote", "--collateral", "--at", "--report-data"}});
  if (!opts) return usage_error(cmd, opts.error().message);
  if (opts->has("--help") || opts->has("-h")) {
    std::cout << kTdxHelp;
    return kExitOk;
  }
  if (!opts->positionals.empty()) return usage_error(cmd, "unexpected argument '" + opts->positionals[0] + "'");
  if (!opts->value("--quote")) return usage_error(cmd, "missing --quote");
  tee::TdxVerifyOptions vo;
  auto at = at_option(*opts);
  if (!at) return usage_error(cmd, at.error().message);
  vo.at = *at;
  auto rd = report_data_option(*opts);
  if (!rd) return usage_error(cmd, rd.error().message);
  vo.expected_report_data = *rd;
  std::optional<tee::TdxCollateral> collateral;
  if (auto dir = opts->value("--collateral")) {
    auto c = tee::load_tdx_collateral(*dir);
    if (!c) return input_error(cmd, "--collateral " + *dir + ": " + c.error().message);
    collateral = std::move(*c);
    vo.collateral = &*collateral;
  }
  auto quote = read_file_bytes(*opts->value("--quote"));
  if (!quote) return input_error(cmd, quote.error().message);

  const tee::TdxQuoteCheck rep = tee::check_tdx_quote(*quote, vo);
  if (opts->has("--json")) {
    ordered_json j;
    j["valid"] = rep.ok();
    j["checks"] = checks_json(rep.checks);
    j["tcb_status"] = rep.tcb_status ? ordered_json(std::string(tee::tcb_status_name(*rep.tcb_status)))
                                     : ordered_json(nullptr);
    j["quote"] = rep.parsed ? ordered_json(tee::tdx_quote_json(*rep.parsed)) : ordered_json(nullptr);
    std::cout << j.dump(2) << '\n';
  } else {
    std::cout << "TDX quote: " << (rep.ok() ? "VALID" : "NOT VALID") << '\n';
    if (rep.parsed) {
      const tee::TdxQuote& q = *rep.parsed;
      std::cout << "  version " << q.header.version << ", TD body " << (q.body_type == tee::TdBodyType::td15 ? "1.5" : "1.0")
                << (q.body.debug() ? ", DEBUG" : "") << '\n'
                << "  MRTD        " << to_hex(q.body.mr_td) << '\n'
                << "  report_data " << to_hex(q.body.report_data) << '\n';
    }
    if (rep.tcb_status) std::cout << "  TCB status  " << tee::tcb_status_name(*rep.tcb_status) << '\n';
    else std::cout << "  TCB status  unknown (no --collateral)\n";
    print_checks(rep.checks);
  }
  std::cout.flush();
  return verdict(cmd, rep.checks, rep.ok());
}

int hcl_inspect(const Args& args) {
  const char* cmd = "hcl inspect";
  auto opts = parse_options(args, OptionSpec{{"--json", "--help", "-h"}, {"--vcek", "--chain", "--at"}});
  if (!opts) return usage_error(cmd, opts.error().message);
  if (opts->has("--help") || opts->has("-h")) {
    std::cout << kHclHelp;
    return kExitOk;
  }
  if (opts->positionals.size() != 1) return usage_error(cmd, "expected one FILE (the HCL report)");
  const std::string path = opts->positionals[0];
  if (opts->value("--chain") && !opts->value("--vcek")) return usage_error(cmd, "--chain needs --vcek");
  auto at = at_option(*opts);
  if (!at) return usage_error(cmd, at.error().message);
  auto data = read_file_bytes(path);
  if (!data) return input_error(cmd, data.error().message);

  std::vector<tee::Check> checks;
  auto hcl = tee::parse_hcl_report(*data);
  if (!hcl) {
    checks.push_back(tee::Check{"parse", false, hcl.error().message, hcl.error().reason});
  } else {
    checks.push_back(tee::Check{"parse", true, std::to_string(data->size()) + " bytes", ""});
    auto rd = tee::hcl_hardware_report_data(*hcl);
    if (!rd) checks.push_back(tee::Check{"hcl.binding", false, rd.error().message, rd.error().reason});
    else checks.push_back(tee::check_hcl_binding(*hcl, *rd));
  }
  std::optional<tee::SnpReportCheck> snp;
  if (auto v = opts->value("--vcek")) {
    if (hcl && hcl->hardware != tee::HclHardware::snp)
      return usage_error(cmd, "--vcek is for an SEV-SNP HCL report; this one holds a TDREPORT");
    tee::SnpCertChain chain;
    auto bytes = read_file_bytes(*v);
    if (!bytes) return input_error(cmd, bytes.error().message);
    auto vcek = one_certificate(*v, *bytes);
    if (!vcek) return input_error(cmd, vcek.error().message);
    chain.vcek = std::move(*vcek);
    if (auto c = opts->value("--chain"))
      if (auto st = load_chain(*c, chain); !st) return input_error(cmd, st.error().message);
    if (hcl) {
      tee::SnpVerifyOptions vo;
      vo.at = *at;
      snp = tee::check_snp_report(hcl->hardware_report, chain, vo);
      // Named apart from the HCL checks: "snp.signature", "snp.chain.vcek", …
      for (const auto& c : snp->checks) {
        tee::Check n = c;
        n.name = "snp." + c.name;
        checks.push_back(std::move(n));
      }
    }
  }
  const bool ok = all_passed(checks);
  if (opts->has("--json")) {
    ordered_json j;
    j["valid"] = ok;
    j["checks"] = checks_json(checks);
    j["hcl"] = hcl ? ordered_json(tee::hcl_report_json(*hcl)) : ordered_json(nullptr);
    if (snp) j["snp_report"] = snp->parsed ? ordered_json(tee::snp_report_json(*snp->parsed)) : ordered_json(nullptr);
    std::cout << j.dump(2) << '\n';
  } else {
    std::cout << "HCL report: " << (ok ? "VALID" : "NOT VALID") << '\n';
    if (hcl) {
      std::cout << "  header version " << hcl->version << ", report size " << hcl->report_size << ", request type "
                << hcl->request_type << ", status " << hcl->status << '\n'
                << "  hardware report: " << hardware_name(hcl->hardware) << " (" << hcl->hardware_report.size()
                << " bytes)\n"
                << "  runtime data: version " << hcl->runtime_data_version << ", hash type " << hcl->hash_type << ", "
                << hcl->runtime_data.size() << " bytes\n";
      for (const auto& k : hcl->keys) {
        std::string ops;
        for (const auto& o : k.key_ops) ops += (ops.empty() ? "" : ",") + o;
        std::cout << "  key " << k.kid << ": RSA-" << k.n.size() * 8 << " [" << ops << "]\n";
      }
      if (hcl->runtime_json.is_object() && hcl->runtime_json.contains("vm-configuration"))
        std::cout << "  vm-configuration: " << hcl->runtime_json["vm-configuration"].dump() << '\n';
    }
    print_checks(checks);
  }
  std::cout.flush();
  return verdict(cmd, checks, ok);
}

}  // namespace tl::cli
