// Where SEV-SNP certificates come from: the extended report's certificate
// table, an offline store directory, and AMD's KDS (docs/tee-snp.md).
#include "tee/snp_certs.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <system_error>
#include <vector>
#include <functional>
#include <cctype>
#include <cstdlib>

#include "common/atomic_file.h"
#include "common/byte_reader.h"
#include "crypto/cert_chain.h"
#include "crypto/digest.h"
#include "http/http.h"

namespace tl::tee {
namespace {

constexpr const char* kReasonTable = "snp-cert-table-malformed";
constexpr const char* kReasonStore = "snp-certs-missing";
constexpr const char* kReasonRateLimited = "kds-rate-limited";
constexpr const char* kReasonKds = "kds-unavailable";
constexpr const char* kReasonKdsInvalid = "kds-response-invalid";

constexpr size_t kEntrySize = 24;

// GUIDs in the byte order they are written (RFC 4122 / uuid_parse), which is
// how AMD's tooling and the Linux/QEMU host side lay them out in the table.
using Guid = std::array<uint8_t, 16>;
constexpr Guid kGuidVcek = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                            0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
constexpr Guid kGuidVlek = {0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e,
                            0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1};
constexpr Guid kGuidAsk = {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
                           0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};
constexpr Guid kGuidArk = {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
                           0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae};

Error table_error(std::string m) { return Error{"SEV-SNP certificate table: " + std::move(m), kReasonTable}; }

Result<Bytes> read_whole(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return Error{"cannot read " + p.string(), kReasonStore};
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string s = ss.str();
  return Bytes(s.begin(), s.end());
}

// One certificate (DER or PEM) from a file, as DER.
Result<Bytes> load_cert(const std::filesystem::path& p) {
  auto b = read_whole(p);
  if (!b) return b.take_error();
  auto certs = crypto::parse_certificates(*b);
  if (!certs) return Error{p.string() + ": " + certs.error().message, kReasonStore};
  if (certs->size() != 1) {
    return Error{p.string() + ": " + std::to_string(certs->size()) + " certificates, expected 1", kReasonStore};
  }
  return std::move((*certs)[0]);
}

Result<Bytes> load_first(const std::vector<std::filesystem::path>& candidates) {
  std::string tried;
  for (const auto& p : candidates) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(p, ec)) return load_cert(p);
    tried += (tried.empty() ? "" : ", ") + p.string();
  }
  return Error{"SEV-SNP certificate store: missing " + tried, kReasonStore};
}

std::string lower_product(SnpProduct p) {
  std::string s(product_name(p));
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string tcb_hex(uint64_t raw) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(raw));
  return buf;
}

}  // namespace

Result<SnpCertChain> parse_snp_cert_table(ByteView table) {
  struct Entry {
    Guid guid;
    uint32_t offset, length;
    size_t index;
  };
  std::vector<Entry> entries;
  ByteReader r(table);
  bool terminated = false;
  while (!terminated) {
    if (r.remaining() < kEntrySize) {
      return table_error("no all-zero terminating entry within the " + std::to_string(table.size()) + " bytes");
    }
    const size_t at = r.offset();
    auto g = r.bytes(16, "GUID");
    auto off = r.u32_le("offset");
    auto len = r.u32_le("length");
    if (!g || !off || !len) return table_error("entry at offset " + hex_offset(at) + " is truncated");
    Entry e{};
    std::copy(g->begin(), g->end(), e.guid.begin());
    e.offset = *off;
    e.length = *len;
    e.index = entries.size();
    if (std::all_of(e.guid.begin(), e.guid.end(), [](uint8_t b) { return b == 0; })) {
      // The terminator: all 24 bytes zero.
      if (e.offset != 0 || e.length != 0) {
        return table_error("terminating entry " + std::to_string(e.index) + " at offset " + hex_offset(at) +
                           " has a non-zero offset or length");
      }
      terminated = true;
    } else {
      entries.push_back(e);
    }
  }
  const uint64_t header_end = r.offset();
  for (const auto& e : entries) {
    const uint64_t end = static_cast<uint64_t>(e.offset) + e.length;
    const std::string where = "entry " + std::to_string(e.index);
    if (e.length == 0) return table_error(where + " has length 0");
    if (e.offset < header_end) {
      return table_error(where + " offset " + hex_offset(e.offset) + " lies inside the entry list (ends at " +
                         hex_offset(header_end) + ")");
    }
    if (end > table.size()) {
      return table_error(where + " [" + hex_offset(e.offset) + ", " + hex_offset(end) + ") runs past the table end " +
                         hex_offset(table.size()));
    }
  }
  // Certificates must not share bytes.
  std::vector<Entry> sorted = entries;
  std::sort(sorted.begin(), sorted.end(), [](const Entry& a, const Entry& b) { return a.offset < b.offset; });
  for (size_t i = 1; i < sorted.size(); ++i) {
    if (static_cast<uint64_t>(sorted[i - 1].offset) + sorted[i - 1].length > sorted[i].offset) {
      return table_error("entries " + std::to_string(sorted[i - 1].index) + " and " + std::to_string(sorted[i].index) +
                         " overlap");
    }
  }
  SnpCertChain out;
  bool have_vcek = false, have_vlek = false, have_ask = false, have_ark = false;
  for (const auto& e : entries) {
    const Bytes body(table.begin() + e.offset, table.begin() + e.offset + e.length);
    auto take = [&](bool& seen, Bytes& slot, const char* name) -> Status {
      if (seen) return table_error("entry " + std::to_string(e.index) + ": a second " + name + " certificate");
      seen = true;
      slot = body;
      return {};
    };
    Status s;
    if (e.guid == kGuidVcek) s = take(have_vcek, out.vcek, "VCEK");
    else if (e.guid == kGuidVlek) {
      Bytes vlek;
      s = take(have_vlek, vlek, "VLEK");
      if (s && !have_vcek) out.vcek = std::move(vlek);
    } else if (e.guid == kGuidAsk) s = take(have_ask, out.ask, "ASK");
    else if (e.guid == kGuidArk) s = take(have_ark, out.ark, "ARK");
    // Unknown GUIDs (CRLs, vendor data) are skipped.
    if (!s) return s.take_error();
  }
  if (have_vcek && have_vlek) {
    return table_error("both a VCEK and a VLEK: which one signed the report is ambiguous");
  }
  return out;
}

Result<SnpCertChain> load_snp_certs(const std::filesystem::path& dir, const SnpReport& report) {
  const std::filesystem::path base = dir / lower_product(report.product);
  const bool vlek = report.signing_key == SnpSigningKey::vlek;
  SnpCertChain out;
  auto ark = load_first({base / "ark.pem", base / "ark.der"});
  if (!ark) return ark.take_error();
  out.ark = std::move(*ark);
  auto ask = vlek ? load_first({base / "asvk.pem", base / "asvk.der"}) : load_first({base / "ask.pem", base / "ask.der"});
  if (!ask) return ask.take_error();
  out.ask = std::move(*ask);
  if (vlek) {
    auto leaf = load_first({base / "vlek.der", base / "vlek.pem"});
    if (!leaf) return leaf.take_error();
    out.vcek = std::move(*leaf);
  } else {
    const std::string stem = to_hex(report.chip_id) + "-" + tcb_hex(report.reported_tcb.raw);
    auto leaf = load_first({base / "vcek" / (stem + ".der"), base / "vcek" / (stem + ".pem")});
    if (!leaf) return leaf.take_error();
    out.vcek = std::move(*leaf);
  }
  return out;
}

// ---------------------------------------------------------------------------
// KDS

struct KdsClient::State {
  KdsOptions options;
  std::mutex mu;  // one request at a time: KDS rate-limits, and one http::Client is single-threaded
  std::map<std::string, Bytes> memory;  // request path -> body
  std::unique_ptr<http::Client> client;
  std::chrono::steady_clock::time_point blocked_until{};
  std::chrono::seconds backoff{0};

  std::filesystem::path cache_file(const std::string& path) const {
    auto h = crypto::digest(crypto::HashAlg::sha256, as_bytes(path));
    return options.cache_dir / ((h ? to_hex(*h) : std::string("x")) + ".kds");
  }

  std::optional<Bytes> cached(const std::string& path) {
    if (auto it = memory.find(path); it != memory.end()) return it->second;
    if (options.cache_dir.empty()) return std::nullopt;
    auto b = read_whole(cache_file(path));
    if (!b) return std::nullopt;
    memory[path] = *b;
    return *b;
  }

  void store(const std::string& path, const Bytes& body) {
    memory[path] = body;
    if (options.cache_dir.empty()) return;
    std::error_code ec;
    std::filesystem::create_directories(options.cache_dir, ec);
    const auto file = cache_file(path);
    // A failed write is not an error: the memory cache still has it.
    (void)write_file_atomic(file, std::string_view(reinterpret_cast<const char*>(body.data()), body.size()), 0644);
  }

  // GET path: cache, else KDS unless backing off. `validate` checks the body.
  Result<Bytes> get(const std::string& path, const std::function<Status(const Bytes&)>& validate) {
    std::lock_guard lock(mu);
    if (auto c = cached(path)) return *c;
    const auto now = std::chrono::steady_clock::now();
    if (now < blocked_until) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(blocked_until - now).count();
      return Error{"AMD KDS asked us to wait; not contacting it for another " + std::to_string(left) + " ms (" + path + ")",
                   kReasonRateLimited};
    }
    if (!client) {
      http::ClientOptions co;
      co.timeout_ms = static_cast<unsigned>(options.timeout.count());
      co.max_response_bytes = 1 << 20;
      auto c = http::Client::create(options.base_url, co);
      if (!c) return Error{"AMD KDS " + options.base_url + ": " + c.error().message, kReasonKds};
      client = std::move(*c);
    }
    auto resp = client->get(path);
    if (!resp) {
      client.reset();  // reconnect next time
      return Error{"AMD KDS GET " + path + ": " + resp.error().message, kReasonKds};
    }
    if (resp->status == 429 || resp->status == 503) {
      std::chrono::seconds wait{0};
      if (const std::string* ra = resp->headers.count("Retry-After") ? &resp->headers.at("Retry-After") : nullptr) {
        // Delta-seconds; an HTTP-date (or garbage) falls back to our own back-off.
        char* end = nullptr;
        const long v = std::strtol(ra->c_str(), &end, 10);
        if (end != ra->c_str() && *end == '\0' && v >= 0) wait = std::chrono::seconds(v);
      }
      if (wait.count() == 0) {
        backoff = backoff.count() == 0 ? std::chrono::seconds(1) : backoff * 2;
        wait = backoff;
      }
      wait = std::min(wait, options.max_backoff);
      blocked_until = std::chrono::steady_clock::now() + wait;
      return Error{"AMD KDS answered " + std::to_string(resp->status) + " for " + path + "; waiting " +
                       std::to_string(wait.count()) + " s before asking again",
                   kReasonRateLimited};
    }
    if (resp->status != 200) {
      return Error{"AMD KDS GET " + path + ": HTTP " + std::to_string(resp->status), kReasonKds};
    }
    backoff = std::chrono::seconds(0);
    Bytes body(resp->body.begin(), resp->body.end());
    if (auto s = validate(body); !s) return Error{"AMD KDS GET " + path + ": " + s.error().message, kReasonKdsInvalid};
    store(path, body);
    return body;
  }
};

KdsClient::KdsClient(KdsOptions options) : state_(std::make_unique<State>()) {
  while (!options.base_url.empty() && options.base_url.back() == '/') options.base_url.pop_back();
  state_->options = std::move(options);
}

KdsClient::~KdsClient() = default;

Result<Bytes> KdsClient::vcek(const SnpReport& report) {
  if (report.signing_key == SnpSigningKey::vlek) {
    return Error{"the report is signed with a VLEK, which AMD KDS does not serve by chip", kReasonKds};
  }
  const SnpTcb& t = report.reported_tcb;
  // Turin VCEKs are issued for the first 8 bytes of CHIP_ID.
  const size_t hwid_len = report.product == SnpProduct::turin ? 8 : 64;
  std::string path = "/vcek/v1/" + std::string(product_name(report.product)) + "/" +
                     to_hex(ByteView(report.chip_id.data(), hwid_len)) + "?blSPL=" + std::to_string(t.bootloader) +
                     "&teeSPL=" + std::to_string(t.tee) + "&snpSPL=" + std::to_string(t.snp) +
                     "&ucodeSPL=" + std::to_string(t.microcode);
  if (report.product == SnpProduct::turin) path += "&fmcSPL=" + std::to_string(t.fmc.value_or(0));
  auto body = state_->get(path, [](const Bytes& b) -> Status {
    auto certs = crypto::parse_certificates(b);
    if (!certs) return certs.take_error();
    if (certs->size() != 1) return Error{"expected one certificate, got " + std::to_string(certs->size())};
    return {};
  });
  if (!body) return body.take_error();
  auto certs = crypto::parse_certificates(*body);  // validated above; DER either way
  if (!certs || certs->size() != 1) return Error{"AMD KDS VCEK: not one certificate", kReasonKdsInvalid};
  return std::move((*certs)[0]);
}

Result<SnpCertChain> KdsClient::chain(SnpProduct product) {
  const std::string path = "/vcek/v1/" + std::string(product_name(product)) + "/cert_chain";
  auto body = state_->get(path, [](const Bytes& b) -> Status {
    auto certs = crypto::parse_certificates(b);
    if (!certs) return certs.take_error();
    if (certs->size() != 2) return Error{"expected ASK and ARK, got " + std::to_string(certs->size()) + " certificates"};
    return {};
  });
  if (!body) return body.take_error();
  auto certs = crypto::parse_certificates(*body);
  if (!certs || certs->size() != 2) return Error{"AMD KDS cert_chain: not two certificates", kReasonKdsInvalid};
  // KDS answers ASK first, then ARK.
  return SnpCertChain{std::move((*certs)[1]), std::move((*certs)[0]), {}};
}

Result<SnpCertChain> KdsClient::certificates(const SnpReport& report) {
  auto leaf = vcek(report);
  if (!leaf) return leaf.take_error();
  auto c = chain(report.product);
  if (!c) return c.take_error();
  c->vcek = std::move(*leaf);
  return std::move(*c);
}

}  // namespace tl::tee
