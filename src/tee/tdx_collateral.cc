// TDX collateral (Intel PCS answers saved as files): loading, authenticity
// (signature by the TCB signing chain to the shipped root, validity window),
// and Intel's TCB level / TDX module / QE identity evaluation. Format and the
// matching rules: docs/tee-tdx.md.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>

#include "common/rfc3339.h"
#include "crypto/public_key.h"
#include "tee/tdx_pki.h"
#include "tee/tdx_verify.h"

namespace tl::tee {
namespace {

using nlohmann::json;
constexpr const char* kInvalid = "tdx-collateral-invalid";

Error invalid(std::string message) { return Error{std::move(message), kInvalid}; }

Result<const json*> member(const json& obj, const std::string& key, json::value_t type, const std::string& where) {
  if (!obj.is_object()) return invalid(where + " is not an object");
  auto it = obj.find(key);
  if (it == obj.end()) return invalid(where + "." + key + " is missing");
  const bool ok = it->type() == type ||
                  (type == json::value_t::number_unsigned && it->type() == json::value_t::number_integer &&
                   it->get<int64_t>() >= 0);
  if (!ok) return invalid(where + "." + key + " has the wrong type");
  return &*it;
}

Result<std::string> get_string(const json& obj, const std::string& key, const std::string& where) {
  auto m = member(obj, key, json::value_t::string, where);
  if (!m) return m.take_error();
  return (*m)->get<std::string>();
}

Result<uint64_t> get_uint(const json& obj, const std::string& key, const std::string& where) {
  auto m = member(obj, key, json::value_t::number_unsigned, where);
  if (!m) return m.take_error();
  return (*m)->get<uint64_t>();
}

Result<Bytes> get_hex(const json& obj, const std::string& key, size_t size, const std::string& where) {
  auto s = get_string(obj, key, where);
  if (!s) return s.take_error();
  auto b = from_hex(*s);
  if (!b || b->size() != size)
    return invalid(where + "." + key + " is not " + std::to_string(size) + " bytes of hex");
  return b;
}

Result<const json*> get_array(const json& obj, const std::string& key, const std::string& where) {
  return member(obj, key, json::value_t::array, where);
}

Result<TdxTcbStatus> get_status(const json& obj, const std::string& where) {
  auto s = get_string(obj, "tcbStatus", where);
  if (!s) return s.take_error();
  auto st = tcb_status_from_name(*s);
  if (!st) return invalid(where + ".tcbStatus \"" + *s + "\" is not a status this verifier knows (fails closed)");
  return *st;
}

// Intel's convergence of a TCB level status with an OutOfDate / Revoked
// component (TDX module or QE) status.
TdxTcbStatus converge(TdxTcbStatus level, TdxTcbStatus component) {
  using S = TdxTcbStatus;
  if (component == S::revoked) return S::revoked;
  if (component == S::out_of_date) {
    if (level == S::up_to_date || level == S::sw_hardening_needed) return S::out_of_date;
    if (level == S::configuration_needed || level == S::configuration_and_sw_hardening_needed)
      return S::out_of_date_configuration_needed;
  }
  return level;
}

Result<std::vector<std::string>> advisories(const json& level) {
  std::vector<std::string> out;
  auto it = level.find("advisoryIDs");
  if (it == level.end()) return out;
  if (!it->is_array()) return invalid("advisoryIDs is not an array");
  for (const auto& a : *it) {
    if (!a.is_string()) return invalid("advisoryIDs holds a non-string");
    out.push_back(a.get<std::string>());
  }
  return out;
}

// 16 "svn" values of a TCB component array.
Result<std::array<uint8_t, 16>> components(const json& tcb, const std::string& key, const std::string& where) {
  auto arr = get_array(tcb, key, where);
  if (!arr) return arr.take_error();
  if ((*arr)->size() != 16) return invalid(where + "." + key + " has " + std::to_string((*arr)->size()) +
                                           " entries, expected 16");
  std::array<uint8_t, 16> out{};
  for (size_t i = 0; i < 16; ++i) {
    auto v = get_uint((**arr)[i], "svn", where + "." + key + "[" + std::to_string(i) + "]");
    if (!v) return v.take_error();
    if (*v > 255) return invalid(where + "." + key + "[" + std::to_string(i) + "].svn exceeds 255");
    out[i] = static_cast<uint8_t>(*v);
  }
  return out;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string le_hex(uint64_t v) {
  Bytes b(8);
  for (size_t i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
  return to_hex(b);
}

// The exact text of top-level member `key` of a JSON object: Intel signs the
// bytes of the "tcbInfo" / "enclaveIdentity" value as they appear.
Result<std::string_view> raw_member(std::string_view text, std::string_view key) {
  size_t i = 0;
  auto ws = [&] {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  };
  // End of the value starting at i (string, object, array or scalar).
  auto skip_value = [&]() -> bool {
    if (i >= text.size()) return false;
    if (text[i] == '"') {
      for (++i; i < text.size(); ++i) {
        if (text[i] == '\\') ++i;
        else if (text[i] == '"') { ++i; return true; }
      }
      return false;
    }
    if (text[i] == '{' || text[i] == '[') {
      int depth = 0;
      bool in_str = false;
      for (; i < text.size(); ++i) {
        const char c = text[i];
        if (in_str) {
          if (c == '\\') ++i;
          else if (c == '"') in_str = false;
        } else if (c == '"') {
          in_str = true;
        } else if (c == '{' || c == '[') {
          ++depth;
        } else if (c == '}' || c == ']') {
          if (--depth == 0) { ++i; return true; }
        }
      }
      return false;
    }
    while (i < text.size() && text[i] != ',' && text[i] != '}' && !std::isspace(static_cast<unsigned char>(text[i])))
      ++i;
    return true;
  };
  std::optional<std::string_view> found;
  ws();
  if (i >= text.size() || text[i] != '{') return invalid("collateral is not a JSON object");
  ++i;
  while (true) {
    ws();
    const size_t key_start = i;
    if (i >= text.size() || text[i] != '"' || !skip_value()) break;
    const std::string_view k = text.substr(key_start + 1, i - key_start - 2);
    ws();
    if (i >= text.size() || text[i] != ':') break;
    ++i;
    ws();
    const size_t v = i;
    if (!skip_value()) break;
    if (k == key) {
      // A second copy could differ from the signed one: refuse both.
      if (found) return invalid("collateral has the member \"" + std::string(key) + "\" twice");
      found = text.substr(v, i - v);
    }
    ws();
    if (i < text.size() && text[i] == ',') { ++i; continue; }
    if (i < text.size() && text[i] == '}' && found) return *found;
    break;
  }
  return invalid("collateral has no well-formed top-level \"" + std::string(key) + "\" member");
}

Result<Bytes> read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return invalid("cannot read " + p.string());
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

Result<TdxCollateral> load_tdx_collateral(const std::filesystem::path& dir) {
  TdxCollateral c;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(dir / "tcb_info.json", ec))
    return invalid(dir.string() + " has no tcb_info.json");
  auto tcb = read_file(dir / "tcb_info.json");
  if (!tcb) return tcb.take_error();
  c.tcb_info_json.assign(tcb->begin(), tcb->end());
  auto optional = [&](std::initializer_list<const char*> names, Bytes& out) -> Status {
    for (const char* n : names) {
      if (!std::filesystem::is_regular_file(dir / n, ec)) continue;
      auto b = read_file(dir / n);
      if (!b) return b.take_error();
      out = std::move(*b);
      return {};
    }
    return {};
  };
  // The QE Identity is required with collateral: without it a TCB status
  // would be reported without judging the Quoting Enclave's own TCB.
  if (!std::filesystem::is_regular_file(dir / "qe_identity.json", ec))
    return invalid(dir.string() + " has no qe_identity.json (the TD_QE identity from Intel's PCS is required "
                   "with the TCB Info)");
  Bytes qe;
  for (auto s : {optional({"tcb_info_issuer_chain.pem"}, c.tcb_info_issuer_chain),
                 optional({"qe_identity.json"}, qe),
                 optional({"qe_identity_issuer_chain.pem"}, c.qe_identity_issuer_chain),
                 optional({"pck_crl.der", "pck_crl.pem"}, c.pck_crl),
                 optional({"root_ca_crl.der", "root_ca_crl.pem"}, c.root_ca_crl)})
    if (!s) return s.take_error();
  c.qe_identity_json.assign(qe.begin(), qe.end());
  return c;
}

Result<TdxTcbStatus> evaluate_qe_identity(const json& id, const SgxReportBody& qe) {
  const std::string w = "enclaveIdentity";
  auto ident = get_string(id, "id", w);
  if (!ident) return ident.take_error();
  if (*ident != "TD_QE") return invalid(w + ".id is \"" + *ident + "\", a TDX quote needs the TD_QE identity");
  auto misc = get_hex(id, "miscselect", 4, w);
  auto misc_mask = get_hex(id, "miscselectMask", 4, w);
  auto attr = get_hex(id, "attributes", 16, w);
  auto attr_mask = get_hex(id, "attributesMask", 16, w);
  auto mrsigner = get_hex(id, "mrsigner", 32, w);
  auto prod = get_uint(id, "isvprodid", w);
  for (const Error* e : {misc ? nullptr : &misc.error(), misc_mask ? nullptr : &misc_mask.error(),
                         attr ? nullptr : &attr.error(), attr_mask ? nullptr : &attr_mask.error(),
                         mrsigner ? nullptr : &mrsigner.error(), prod ? nullptr : &prod.error()})
    if (e) return *e;
  // MISCSELECT is written as the big-endian hex of the 32-bit value.
  auto u32 = [](const Bytes& b) {
    return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
  };
  if ((qe.misc_select & u32(*misc_mask)) != u32(*misc))
    return invalid("QE MISCSELECT " + std::to_string(qe.misc_select) + " under mask " + to_hex(*misc_mask) +
                   " != QE Identity miscselect " + to_hex(*misc));
  for (size_t i = 0; i < 16; ++i)
    if ((qe.attributes[i] & (*attr_mask)[i]) != (*attr)[i])
      return invalid("QE ATTRIBUTES " + to_hex(qe.attributes) + " under mask " + to_hex(*attr_mask) +
                     " != QE Identity attributes " + to_hex(*attr));
  if (!std::equal(mrsigner->begin(), mrsigner->end(), qe.mr_signer.begin()))
    return invalid("QE MRSIGNER " + to_hex(qe.mr_signer) + " != QE Identity mrsigner " + to_hex(*mrsigner));
  if (*prod != qe.isv_prod_id)
    return invalid("QE ISVPRODID " + std::to_string(qe.isv_prod_id) + " != QE Identity isvprodid " +
                   std::to_string(*prod));
  auto levels = get_array(id, "tcbLevels", w);
  if (!levels) return levels.take_error();
  for (size_t i = 0; i < (*levels)->size(); ++i) {
    const json& l = (**levels)[i];
    const std::string lw = w + ".tcbLevels[" + std::to_string(i) + "]";
    auto tcb = member(l, "tcb", json::value_t::object, lw);
    if (!tcb) return tcb.take_error();
    auto svn = get_uint(**tcb, "isvsvn", lw + ".tcb");
    if (!svn) return svn.take_error();
    if (qe.isv_svn >= *svn) {
      auto st = get_status(l, lw);
      if (!st) return st.take_error();
      if (*st != TdxTcbStatus::up_to_date && *st != TdxTcbStatus::out_of_date && *st != TdxTcbStatus::revoked)
        return invalid(lw + ".tcbStatus is not a QE status (UpToDate, OutOfDate, Revoked)");
      return *st;
    }
  }
  return invalid("QE ISVSVN " + std::to_string(qe.isv_svn) + " is below every QE Identity TCB level");
}

Result<TdxTcbEvaluation> evaluate_tdx_tcb(const json& info, const TdQuoteBody& body, const TdxPckTcb& pck,
                                          std::optional<TdxTcbStatus> qe_status) {
  const std::string w = "tcbInfo";
  auto id = get_string(info, "id", w);
  if (!id) return id.take_error();
  auto version = get_uint(info, "version", w);
  if (!version) return version.take_error();
  if (*id != "TDX" || *version < 3)
    return invalid("tcbInfo is id \"" + *id + "\" version " + std::to_string(*version) +
                   ", a TDX quote needs id \"TDX\" version 3 or later");

  TdxTcbEvaluation ev;
  // TDX module identity: TEE_TCB_SVN[1] is the module's major version, [0] its SVN.
  const uint8_t module_version = body.tee_tcb_svn[1];
  const uint8_t module_svn = body.tee_tcb_svn[0];
  const json* module = nullptr;
  std::string mw;
  if (module_version == 0) {
    auto m = member(info, "tdxModule", json::value_t::object, w);
    if (!m) return m.take_error();
    module = *m;
    mw = w + ".tdxModule";
  } else {
    char buf[8];
    std::snprintf(buf, sizeof(buf), "TDX_%02X", module_version);
    ev.module_identity = buf;
    auto ids = get_array(info, "tdxModuleIdentities", w);
    if (!ids) return ids.take_error();
    for (size_t i = 0; i < (*ids)->size(); ++i) {
      const json& cand = (**ids)[i];
      auto cid = get_string(cand, "id", w + ".tdxModuleIdentities[" + std::to_string(i) + "]");
      if (!cid) return cid.take_error();
      if (upper(*cid) == ev.module_identity) {
        module = &cand;
        mw = w + ".tdxModuleIdentities[" + std::to_string(i) + "] (" + *cid + ")";
        break;
      }
    }
    if (!module)
      return invalid("TEE_TCB_SVN[1] = " + std::to_string(module_version) + " names TDX module identity " +
                     ev.module_identity + ", which the TCB Info does not list");
  }
  auto mrsigner = get_hex(*module, "mrsigner", 48, mw);
  if (!mrsigner) return mrsigner.take_error();
  if (!std::equal(mrsigner->begin(), mrsigner->end(), body.mr_signer_seam.begin()))
    return invalid("MRSIGNERSEAM " + to_hex(body.mr_signer_seam) + " != " + mw + ".mrsigner " + to_hex(*mrsigner));
  auto attr = get_hex(*module, "attributes", 8, mw);
  auto mask = get_hex(*module, "attributesMask", 8, mw);
  if (!attr) return attr.take_error();
  if (!mask) return mask.take_error();
  Bytes seam(8);
  for (size_t i = 0; i < 8; ++i) seam[i] = static_cast<uint8_t>(body.seam_attributes >> (8 * i));
  for (size_t i = 0; i < 8; ++i)
    if ((seam[i] & (*mask)[i]) != (*attr)[i])
      return invalid("SEAMATTRIBUTES " + le_hex(body.seam_attributes) + " under mask " + to_hex(*mask) + " != " +
                     mw + ".attributes " + to_hex(*attr));
  std::vector<std::string> module_advisories;
  if (module_version != 0) {
    auto levels = get_array(*module, "tcbLevels", mw);
    if (!levels) return levels.take_error();
    for (size_t i = 0; i < (*levels)->size() && !ev.module_status; ++i) {
      const json& l = (**levels)[i];
      const std::string lw = mw + ".tcbLevels[" + std::to_string(i) + "]";
      auto tcb = member(l, "tcb", json::value_t::object, lw);
      if (!tcb) return tcb.take_error();
      auto svn = get_uint(**tcb, "isvsvn", lw + ".tcb");
      if (!svn) return svn.take_error();
      if (module_svn >= *svn) {
        auto st = get_status(l, lw);
        if (!st) return st.take_error();
        auto adv = advisories(l);
        if (!adv) return adv.take_error();
        ev.module_status = *st;
        module_advisories = std::move(*adv);
      }
    }
    if (!ev.module_status)
      return invalid("TDX module SVN " + std::to_string(module_svn) + " is below every TCB level of " +
                     ev.module_identity + " (TCB not supported)");
  }

  // TCB levels, in the order given (Intel's PCS lists them newest first).
  auto levels = get_array(info, "tcbLevels", w);
  if (!levels) return levels.take_error();
  bool sgx_matched = false;
  const json* chosen = nullptr;
  for (size_t i = 0; i < (*levels)->size() && !chosen; ++i) {
    const json& l = (**levels)[i];
    const std::string lw = w + ".tcbLevels[" + std::to_string(i) + "]";
    auto tcb = member(l, "tcb", json::value_t::object, lw);
    if (!tcb) return tcb.take_error();
    auto sgx = components(**tcb, "sgxtcbcomponents", lw + ".tcb");
    if (!sgx) return sgx.take_error();
    auto pcesvn = get_uint(**tcb, "pcesvn", lw + ".tcb");
    if (!pcesvn) return pcesvn.take_error();
    auto tdx = components(**tcb, "tdxtcbcomponents", lw + ".tcb");
    if (!tdx) return tdx.take_error();
    bool sgx_ok = pck.pce_svn >= *pcesvn;
    for (size_t k = 0; k < 16; ++k) sgx_ok = sgx_ok && pck.sgx_components[k] >= (*sgx)[k];
    if (!sgx_ok) continue;
    sgx_matched = true;
    // With a module version in TEE_TCB_SVN[1], bytes 0..1 were judged by the
    // module identity above; the level compares from byte 2.
    bool tdx_ok = true;
    for (size_t k = module_version > 0 ? 2 : 0; k < 16; ++k) tdx_ok = tdx_ok && body.tee_tcb_svn[k] >= (*tdx)[k];
    if (tdx_ok) chosen = &l;
  }
  if (!sgx_matched)
    return invalid("the PCK TCB (PCESVN " + std::to_string(pck.pce_svn) + ", SGX components " +
                   to_hex(pck.sgx_components) + ") is below every TCB level (TCB not supported)");
  if (!chosen)
    return invalid("TEE_TCB_SVN " + to_hex(body.tee_tcb_svn) + " is below every TCB level the PCK TCB reaches (TCB "
                   "not supported)");
  auto st = get_status(*chosen, "matched tcbLevel");
  if (!st) return st.take_error();
  auto date = get_string(*chosen, "tcbDate", "matched tcbLevel");
  if (!date) return date.take_error();
  auto adv = advisories(*chosen);
  if (!adv) return adv.take_error();
  ev.platform_status = *st;
  ev.tcb_date = *date;
  ev.status = ev.module_status ? converge(*st, *ev.module_status) : *st;
  if (qe_status) ev.status = converge(ev.status, *qe_status);
  std::set<std::string> all(adv->begin(), adv->end());
  all.insert(module_advisories.begin(), module_advisories.end());
  ev.advisory_ids.assign(all.begin(), all.end());
  return ev;
}

namespace detail {
namespace {

void add(std::vector<Check>& checks, std::string name, bool passed, std::string detail, std::string reason) {
  checks.push_back(Check{std::move(name), passed, std::move(detail), passed ? std::string() : std::move(reason)});
}

// Signature of one signed collateral document ("tcbInfo" / "enclaveIdentity"
// plus "signature"): the issuer chain to the shipped root at `at` (the root CA
// CRL applies to the signing certificate), then ECDSA P-256 over the raw member.
Status verify_signed(std::string_view text, const json& doc, std::string_view key, ByteView issuer_chain,
                     ByteView root_ca_crl, int64_t at) {
  auto certs = split_pem_chain(issuer_chain, 2, "issuer chain");
  if (!certs) return with_reason(kInvalid, certs.take_error());
  if (auto leaf = check_tcb_signing_leaf(certs->front()); !leaf)
    return invalid("issuer chain: " + leaf.error().message);
  auto pub = verify_intel_chain(*certs, at, root_ca_crl, {});
  if (!pub) return invalid("issuer chain to the Intel SGX Root CA: " + pub.error().message);
  auto raw = raw_member(text, key);
  if (!raw) return raw.take_error();
  auto sig_hex = get_string(doc, "signature", "collateral");
  if (!sig_hex) return sig_hex.take_error();
  auto sig = from_hex(*sig_hex);
  if (!sig || sig->size() != 64) return invalid("collateral signature is not 64 bytes of hex (r || s)");
  auto s = pub->verify_ecdsa(crypto::HashAlg::sha256, as_bytes(*raw), ByteView(*sig).first(32),
                             ByteView(*sig).last(32));
  if (!s) return invalid(std::string(key) + " signature: " + s.error().message);
  return {};
}

Status check_window(const json& obj, const std::string& w, int64_t at) {
  auto issue = get_string(obj, "issueDate", w);
  auto next = get_string(obj, "nextUpdate", w);
  if (!issue) return issue.take_error();
  if (!next) return next.take_error();
  auto i = parse_rfc3339(*issue);
  auto n = parse_rfc3339(*next);
  if (!i || !n) return invalid(w + " issueDate / nextUpdate are not RFC 3339 UTC times");
  // Past nextUpdate is its own reason: the files need refreshing (Intel
  // publishes new collateral before then), the quote itself may be fine.
  if (at >= *n)
    return Error{w + " expired: its nextUpdate " + *next + " is not after the verification time " +
                     format_rfc3339(at) + "; refresh the collateral files",
                 "tdx-collateral-expired"};
  if (at < *i)
    return invalid(w + " is valid from " + *issue + " until " + *next + ", not at " + format_rfc3339(at));
  return {};
}

}  // namespace

void check_tdx_collateral(const TdxCollateral& c, const TdxQuote& quote, const TdxPckTcb& pck, int64_t at,
                          bool allow_unverified, std::vector<Check>& checks,
                          std::optional<TdxTcbEvaluation>& evaluation, bool& verified) {
  verified = true;
  // Everything below reads the exact text the signature covers.
  const json tcb_doc = json::parse(c.tcb_info_json, nullptr, false);
  auto tcb_raw = raw_member(c.tcb_info_json, "tcbInfo");
  const json tcb_value = tcb_raw ? json::parse(*tcb_raw, nullptr, false) : json();
  const json* tcb_info = nullptr;
  if (!tcb_doc.is_discarded() && tcb_value.is_object()) tcb_info = &tcb_value;
  if (!tcb_info) {
    add(checks, "collateral.tcb_info", false,
        "TCB Info is not JSON with one \"tcbInfo\" object" + (tcb_raw ? std::string() : ": " + tcb_raw.error().message),
        kInvalid);
    return;
  }
  // Authenticity first: without it nothing below may be trusted.
  if (c.tcb_info_issuer_chain.empty()) {
    verified = false;
    if (!allow_unverified) {
      add(checks, "collateral.tcb_info.signature", false,
          "no TCB Info issuer chain given: the TCB Info signature cannot be verified, so no TCB status is "
          "reported (allow_unverified_collateral evaluates it anyway, marked unverified)",
          "tdx-collateral-unverified");
      return;
    }
    add(checks, "collateral.tcb_info.signature", true,
        "NOT VERIFIED: no TCB Info issuer chain given (allow_unverified_collateral)", "");
  } else {
    auto s = verify_signed(c.tcb_info_json, tcb_doc, "tcbInfo", c.tcb_info_issuer_chain, c.root_ca_crl, at);
    add(checks, "collateral.tcb_info.signature", s.ok(),
        s.ok() ? "TCB Info signed by the TCB signing chain to the Intel SGX Root CA" : s.error().message, kInvalid);
    if (!s) return;
  }
  {
    auto s = check_window(*tcb_info, "tcbInfo", at);
    add(checks, "collateral.tcb_info.validity", s.ok(), s.ok() ? "TCB Info current at the verification time"
                                                               : s.error().message, s.ok() ? "" : s.error().reason);
  }
  {
    auto fmspc = get_hex(*tcb_info, "fmspc", 6, "tcbInfo");
    auto pce = get_hex(*tcb_info, "pceId", 2, "tcbInfo");
    const bool ok = fmspc && pce && *fmspc == pck.fmspc && *pce == pck.pce_id;
    add(checks, "collateral.tcb_info.fmspc", ok,
        ok ? "FMSPC " + to_hex(pck.fmspc) + " and PCE ID " + to_hex(pck.pce_id) + " match the PCK leaf"
           : "TCB Info FMSPC / PCE ID " + (fmspc ? to_hex(*fmspc) : std::string("?")) + " / " +
                 (pce ? to_hex(*pce) : std::string("?")) + " != PCK leaf " + to_hex(pck.fmspc) + " / " +
                 to_hex(pck.pce_id),
        kInvalid);
  }

  std::optional<TdxTcbStatus> qe_status;
  if (c.qe_identity_json.empty()) {
    // load_tdx_collateral requires the file; a caller-built TdxCollateral
    // without it fails closed rather than skip the QE's TCB.
    add(checks, "collateral.qe_identity", false,
        "no QE Identity given: the QE's TCB cannot be evaluated, so no TCB status is reported", kInvalid);
    return;
  }
  {
    const json qe_doc = json::parse(c.qe_identity_json, nullptr, false);
    auto qe_raw = raw_member(c.qe_identity_json, "enclaveIdentity");
    const json qe_value = qe_raw ? json::parse(*qe_raw, nullptr, false) : json();
    const json* ident = nullptr;
    if (!qe_doc.is_discarded() && qe_value.is_object()) ident = &qe_value;
    if (!ident) {
      add(checks, "collateral.qe_identity", false, "QE Identity is not JSON with an \"enclaveIdentity\" object",
          kInvalid);
      return;
    }
    if (c.qe_identity_issuer_chain.empty()) {
      verified = false;
      if (!allow_unverified) {
        add(checks, "collateral.qe_identity.signature", false,
            "no QE Identity issuer chain given: its signature cannot be verified", "tdx-collateral-unverified");
        return;
      }
      add(checks, "collateral.qe_identity.signature", true,
          "NOT VERIFIED: no QE Identity issuer chain given (allow_unverified_collateral)", "");
    } else {
      auto s = verify_signed(c.qe_identity_json, qe_doc, "enclaveIdentity", c.qe_identity_issuer_chain,
                             c.root_ca_crl, at);
      add(checks, "collateral.qe_identity.signature", s.ok(),
          s.ok() ? "QE Identity signed by the TCB signing chain to the Intel SGX Root CA" : s.error().message,
          kInvalid);
      if (!s) return;
    }
    auto win = check_window(*ident, "enclaveIdentity", at);
    add(checks, "collateral.qe_identity.validity", win.ok(),
        win.ok() ? "QE Identity current at the verification time" : win.error().message,
        win.ok() ? "" : win.error().reason);
    auto st = evaluate_qe_identity(*ident, quote.qe_report);
    add(checks, "collateral.qe_identity", st.ok(),
        st.ok() ? "QE matches the QE Identity; QE TCB " + std::string(tcb_status_name(*st)) : st.error().message,
        kInvalid);
    if (!st) return;
    qe_status = *st;
  }

  auto ev = evaluate_tdx_tcb(*tcb_info, quote.body, pck, qe_status);
  add(checks, "collateral.tcb_level", ev.ok(),
      ev.ok() ? "TDX module identity matches; TCB level of " + ev->tcb_date + " selected" : ev.error().message,
      kInvalid);
  if (ev) evaluation = std::move(ev.value());
}

}  // namespace detail
}  // namespace tl::tee
