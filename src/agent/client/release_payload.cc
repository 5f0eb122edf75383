#include "agent/client/release_payload.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "http/origin.h"
#include "token/base64url.h"
#include "token/strict_json.h"

namespace tl::agent {

namespace {

using nlohmann::json;

Error reference_error(std::string_view text, const std::string& why) {
  return Error{"--key '" + std::string(text.substr(0, 300)) + "': " + why, kReasonKeyReference};
}

Error answer_error(const std::string& what) { return Error{"the release answer: " + what, kReasonReleaseAnswer}; }

bool is_lower_hex(std::string_view s) { return s.find_first_not_of("0123456789abcdef") == std::string_view::npos; }

bool valid_name(std::string_view s) {
  return !s.empty() && s.size() <= 127 &&
         s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") ==
             std::string_view::npos;
}

bool valid_version(std::string_view s) { return s.size() == 32 && is_lower_hex(s); }

// "NAME" or "NAME/VERSION".
Result<KeyReference> name_and_version(std::string_view text, std::string_view spec) {
  KeyReference ref;
  const size_t slash = spec.find('/');
  ref.name = std::string(spec.substr(0, slash));
  if (!valid_name(ref.name)) return reference_error(text, "the key name must be 1-127 of A-Z a-z 0-9 -");
  if (slash != std::string_view::npos) {
    ref.version = std::string(spec.substr(slash + 1));
    if (!valid_version(ref.version)) return reference_error(text, "the version must be 32 lower-case hex digits");
  }
  return ref;
}

bool same_origin(const http::Origin& a, const http::Origin& b) {
  auto lower = [](std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
  };
  return a.tls == b.tls && a.port == b.port && lower(a.host) == lower(b.host);
}

// obj[name] of the given kind; `path` names it in errors ("response.key.key.kid").
Result<const json*> member(const json& obj, const char* name, json::value_t kind, const std::string& path) {
  auto it = obj.find(name);
  if (it == obj.end()) return answer_error(path + " is missing");
  if (it->type() != kind) {
    return answer_error(path + " is " + token::json_kind(*it) + ", expected " + token::json_kind(json(kind)));
  }
  return &*it;
}

Status only_members(const json& obj, std::initializer_list<const char*> allowed, const std::string& where) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string& key = it.key();
    if (std::none_of(allowed.begin(), allowed.end(), [&key](const char* a) { return key == a; })) {
      return Error{"key_hsm: " + where + "unknown member \"" + key.substr(0, 64) + "\"", kReasonReleaseAnswer};
    }
  }
  return {};
}

Error hsm_error(const std::string& what) { return Error{"key_hsm: " + what, kReasonReleaseAnswer}; }

Result<std::string> hsm_string(const json& obj, const char* name, const std::string& path) {
  auto it = obj.find(name);
  if (it == obj.end()) return hsm_error(path + " is missing");
  if (!it->is_string()) return hsm_error(path + " is " + token::json_kind(*it) + ", expected string");
  return it->get<std::string>();
}

// "<issuer>/keys/NAME[/VERSION]" → the reference, or why it is not one.
Result<KeyReference> kid_reference(const std::string& kid, const std::string& issuer, const std::string& path) {
  const std::string prefix = issuer + "/keys/";
  if (!kid.starts_with(prefix)) {
    return answer_error(path + " '" + kid.substr(0, 300) + "' is not a key of " + issuer);
  }
  const std::string spec = kid.substr(prefix.size());
  KeyReference ref;
  const size_t slash = spec.find('/');
  ref.name = spec.substr(0, slash);
  if (slash != std::string::npos) ref.version = spec.substr(slash + 1);
  if (!valid_name(ref.name) || (slash != std::string::npos && !valid_version(ref.version))) {
    return answer_error(path + " '" + kid.substr(0, 300) + "' does not end in /keys/NAME[/VERSION]");
  }
  return ref;
}

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_length(size_t n) { return (n + 2) / 3 * 4; }

// Standard base64 with padding of `in` into out[at…]; returns the new position.
size_t put_base64(ByteView in, uint8_t* out, size_t at) {
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    out[at++] = static_cast<uint8_t>(kBase64[(v >> 18) & 63]);
    out[at++] = static_cast<uint8_t>(kBase64[(v >> 12) & 63]);
    out[at++] = static_cast<uint8_t>(kBase64[(v >> 6) & 63]);
    out[at++] = static_cast<uint8_t>(kBase64[v & 63]);
  }
  if (i < in.size()) {
    const bool two = i + 1 < in.size();
    const uint32_t v = (uint32_t{in[i]} << 16) | (two ? uint32_t{in[i + 1]} << 8 : 0);
    out[at++] = static_cast<uint8_t>(kBase64[(v >> 18) & 63]);
    out[at++] = static_cast<uint8_t>(kBase64[(v >> 12) & 63]);
    out[at++] = two ? static_cast<uint8_t>(kBase64[(v >> 6) & 63]) : uint8_t{'='};
    out[at++] = '=';
  }
  return at;
}

size_t put_text(std::string_view s, uint8_t* out, size_t at) {
  std::memcpy(out + at, s.data(), s.size());
  return at + s.size();
}

}  // namespace

std::string_view release_enc_name(ReleaseEnc enc) {
  switch (enc) {
    case ReleaseEnc::ckm_rsa_aes_key_wrap: return "CKM_RSA_AES_KEY_WRAP";
    case ReleaseEnc::rsa_aes_key_wrap_256: return "RSA_AES_KEY_WRAP_256";
    case ReleaseEnc::rsa_aes_key_wrap_384: return "RSA_AES_KEY_WRAP_384";
  }
  return "?";
}

std::optional<ReleaseEnc> release_enc_from_name(std::string_view name) {
  for (ReleaseEnc e : {ReleaseEnc::ckm_rsa_aes_key_wrap, ReleaseEnc::rsa_aes_key_wrap_256,
                       ReleaseEnc::rsa_aes_key_wrap_384}) {
    if (name == release_enc_name(e)) return e;
  }
  return std::nullopt;
}

crypto::HashAlg release_enc_oaep_hash(ReleaseEnc enc) {
  switch (enc) {
    case ReleaseEnc::ckm_rsa_aes_key_wrap: return crypto::HashAlg::sha1;
    case ReleaseEnc::rsa_aes_key_wrap_256: return crypto::HashAlg::sha256;
    case ReleaseEnc::rsa_aes_key_wrap_384: return crypto::HashAlg::sha384;
  }
  return crypto::HashAlg::sha256;
}

std::string KeyReference::path() const { return "/keys/" + name + (version.empty() ? "" : "/" + version); }

Result<KeyReference> parse_key_reference(std::string_view text, std::string_view endpoint) {
  if (text.empty()) return reference_error(text, "empty");
  if (text.size() > 2048) return reference_error(text, "longer than 2048 characters");
  const bool is_url = text.starts_with("http://") || text.starts_with("https://");
  if (!is_url) return name_and_version(text, text);
  if (text.find_first_of("?#@%\\ ") != std::string_view::npos) {
    return reference_error(text, "a key URL has no query, fragment, credentials, escapes or spaces");
  }
  const size_t authority = text.find("://") + 3;
  const size_t path_at = text.find('/', authority);
  if (path_at == std::string_view::npos) return reference_error(text, "names no key (expected <origin>/keys/NAME[/VERSION])");
  auto key_origin = http::parse_origin(text.substr(0, path_at));
  if (!key_origin) return reference_error(text, key_origin.error().message);
  std::string_view ep = endpoint;
  while (ep.ends_with("/")) ep.remove_suffix(1);
  auto ep_origin = http::parse_origin(ep);
  if (!ep_origin) return reference_error(text, "the attestation endpoint: " + ep_origin.error().message);
  if (!same_origin(*key_origin, *ep_origin)) {
    return reference_error(text, "refused: " + std::string(text.substr(0, path_at)) +
                                     " is not the attestation endpoint " + std::string(ep) +
                                     " (the release sends this VM's attestation token; it goes nowhere else)");
  }
  const std::string_view path = text.substr(path_at);
  if (!path.starts_with("/keys/")) return reference_error(text, "the path is not /keys/NAME[/VERSION]");
  return name_and_version(text, path.substr(6));
}

Result<KeyHsm> parse_key_hsm(std::string_view key_hsm) {
  if (key_hsm.size() > kMaxKeyHsmChars) {
    return hsm_error(std::to_string(key_hsm.size()) + " characters, more than " + std::to_string(kMaxKeyHsmChars));
  }
  auto raw = token::base64url_decode(key_hsm);
  if (!raw) return hsm_error("not base64url: " + raw.error().message);
  auto doc = token::parse_json_object(std::string_view(reinterpret_cast<const char*>(raw->data()), raw->size()));
  if (!doc) return hsm_error(doc.error().message);
  if (auto s = only_members(*doc, {"schema_version", "header", "ciphertext", "generator"}, ""); !s) {
    return s.take_error();
  }
  auto version = hsm_string(*doc, "schema_version", "schema_version");
  if (!version) return version.take_error();
  if (*version != "1.0") return hsm_error("schema_version \"" + version->substr(0, 32) + "\" is not \"1.0\"");
  if (auto g = doc->find("generator"); g != doc->end() && !g->is_string()) {
    return hsm_error(std::string("generator is ") + token::json_kind(*g) + ", expected string");
  }
  auto header = doc->find("header");
  if (header == doc->end()) return hsm_error("header is missing");
  if (!header->is_object()) return hsm_error(std::string("header is ") + token::json_kind(*header) + ", expected object");
  if (auto s = only_members(*header, {"kid", "alg", "enc"}, "header: "); !s) return s.take_error();
  KeyHsm out;
  auto kid = hsm_string(*header, "kid", "header.kid");
  if (!kid) return kid.take_error();
  out.kid = std::move(*kid);
  auto alg = hsm_string(*header, "alg", "header.alg");
  if (!alg) return alg.take_error();
  if (*alg != "dir") return hsm_error("header.alg \"" + alg->substr(0, 32) + "\" is not \"dir\"");
  auto enc = hsm_string(*header, "enc", "header.enc");
  if (!enc) return enc.take_error();
  auto e = release_enc_from_name(*enc);
  if (!e) return hsm_error("header.enc \"" + enc->substr(0, 64) + "\" is not a known enc");
  out.enc = *e;
  auto ct = hsm_string(*doc, "ciphertext", "ciphertext");
  if (!ct) return ct.take_error();
  auto bytes = token::base64url_decode(*ct);
  if (!bytes) return hsm_error("ciphertext is not base64url: " + bytes.error().message);
  if (bytes->empty()) return hsm_error("ciphertext is empty");
  out.ciphertext = std::move(*bytes);
  return out;
}

Result<ReleasePayload> parse_release_payload(const json& claims, const ReleaseExpectation& expected) {
  if (!claims.is_object()) return answer_error("the payload is not a JSON object");
  auto iss = member(claims, "iss", json::value_t::string, "iss");
  if (!iss) return iss.take_error();
  if ((*iss)->get_ref<const std::string&>() != expected.issuer) {
    return answer_error("iss is not " + expected.issuer);
  }
  auto request = member(claims, "request", json::value_t::object, "request");
  if (!request) return request.take_error();
  const json& req = **request;
  auto enc = member(req, "enc", json::value_t::string, "request.enc");
  if (!enc) return enc.take_error();
  const std::string want_enc(release_enc_name(expected.enc));
  if ((*enc)->get_ref<const std::string&>() != want_enc) {
    return answer_error("request.enc \"" + (*enc)->get<std::string>().substr(0, 64) + "\" is not the " + want_enc +
                        " we asked for");
  }
  if (expected.nonce.empty()) {
    if (req.contains("nonce")) return answer_error("request.nonce is present though we sent none");
  } else {
    auto nonce = member(req, "nonce", json::value_t::string, "request.nonce");
    if (!nonce) return nonce.take_error();
    if ((*nonce)->get_ref<const std::string&>() != expected.nonce) {
      return answer_error("request.nonce is not the nonce we sent: the answer is for another request");
    }
  }
  auto req_kid = member(req, "kid", json::value_t::string, "request.kid");
  if (!req_kid) return req_kid.take_error();
  const std::string want_request_kid = expected.issuer + expected.key.path();
  if ((*req_kid)->get_ref<const std::string&>() != want_request_kid) {
    return answer_error("request.kid '" + (*req_kid)->get<std::string>().substr(0, 300) + "' is not " +
                        want_request_kid + ", the key we asked for");
  }

  auto response = member(claims, "response", json::value_t::object, "response");
  if (!response) return response.take_error();
  auto bundle = member(**response, "key", json::value_t::object, "response.key");
  if (!bundle) return bundle.take_error();
  auto key = member(**bundle, "key", json::value_t::object, "response.key.key");
  if (!key) return key.take_error();
  auto kid = member(**key, "kid", json::value_t::string, "response.key.key.kid");
  if (!kid) return kid.take_error();
  ReleasePayload out;
  out.kid = (*kid)->get<std::string>();
  auto ref = kid_reference(out.kid, expected.issuer, "response.key.key.kid");
  if (!ref) return ref.take_error();
  if (ref->name != expected.key.name || ref->version.empty() ||
      (!expected.key.version.empty() && ref->version != expected.key.version)) {
    return answer_error("response.key.key.kid '" + out.kid.substr(0, 300) + "' does not name a version of " +
                        expected.issuer + expected.key.path());
  }
  out.version = ref->version;
  auto kty = member(**key, "kty", json::value_t::string, "response.key.key.kty");
  if (!kty) return kty.take_error();
  out.kty = (*kty)->get<std::string>();
  if (out.kty != "RSA" && out.kty != "EC" && out.kty != "oct") {
    return answer_error("response.key.key.kty \"" + out.kty.substr(0, 32) + "\" is not RSA, EC or oct");
  }
  auto hsm_text = member(**key, "key_hsm", json::value_t::string, "response.key.key.key_hsm");
  if (!hsm_text) return hsm_text.take_error();
  auto hsm = parse_key_hsm((*hsm_text)->get_ref<const std::string&>());
  if (!hsm) return hsm.take_error();
  if (hsm->enc != expected.enc) {
    return answer_error("key_hsm header.enc " + std::string(release_enc_name(hsm->enc)) + " is not the " + want_enc +
                        " we asked for");
  }
  out.key_hsm = std::move(*hsm);
  out.public_key = **key;
  out.public_key.erase("key_hsm");
  return out;
}

Result<CiphertextParts> split_release_ciphertext(ByteView ciphertext, size_t modulus_bytes) {
  if (modulus_bytes == 0 || ciphertext.size() <= modulus_bytes) {
    return hsm_error("ciphertext of " + std::to_string(ciphertext.size()) + " bytes is not longer than the " +
                     std::to_string(modulus_bytes) + "-byte RSA-OAEP part");
  }
  const size_t rest = ciphertext.size() - modulus_bytes;
  if (rest < 16 || rest % 8 != 0) {
    return hsm_error("the key wrap part after the " + std::to_string(modulus_bytes) + "-byte RSA-OAEP part has " +
                     std::to_string(rest) + " bytes, not a multiple of 8 of at least 16 (RFC 5649)");
  }
  return CiphertextParts{ciphertext.subspan(0, modulus_bytes), ciphertext.subspan(modulus_bytes)};
}

std::optional<KeyFormat> key_format_from_name(std::string_view name) {
  if (name == "raw") return KeyFormat::raw;
  if (name == "pem") return KeyFormat::pem;
  if (name == "base64") return KeyFormat::base64;
  return std::nullopt;
}

Result<crypto::SecretBytes> format_released_key(const crypto::SecretBytes& material, std::string_view kty,
                                                KeyFormat format) {
  switch (format) {
    case KeyFormat::raw:
      return crypto::SecretBytes(material.view());
    case KeyFormat::base64: {
      crypto::SecretBytes out(base64_length(material.size()) + 1);
      size_t at = put_base64(material.view(), out.data(), 0);
      out.data()[at] = '\n';
      return out;
    }
    case KeyFormat::pem: {
      if (kty != "RSA" && kty != "EC") {
        return Error{"--format pem is for RSA and EC keys; this key is " + std::string(kty) +
                         " (use raw or base64)",
                     kReasonReleaseOutput};
      }
      // RFC 7468: PKCS#8 "PRIVATE KEY", base64 in lines of 64 characters.
      constexpr std::string_view kBegin = "-----BEGIN PRIVATE KEY-----\n";
      constexpr std::string_view kEnd = "-----END PRIVATE KEY-----\n";
      const size_t chunks = (material.size() + 47) / 48;  // 48 bytes = 64 characters a line
      crypto::SecretBytes out(kBegin.size() + base64_length(material.size()) + chunks + kEnd.size());
      size_t at = put_text(kBegin, out.data(), 0);
      for (size_t i = 0; i < material.size(); i += 48) {
        at = put_base64(material.view().subspan(i, std::min<size_t>(48, material.size() - i)), out.data(), at);
        out.data()[at++] = '\n';
      }
      at = put_text(kEnd, out.data(), at);
      out.truncate(at);
      return out;
    }
  }
  return Error{"unknown output format", kReasonReleaseOutput};
}

}  // namespace tl::agent
