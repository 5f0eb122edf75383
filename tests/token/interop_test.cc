// Independent interop: tokens we sign verify with PyJWT and jwcrypto (Debian
// packages python3-jwt, python3-jwcrypto), and tokens jwcrypto signs verify
// with verify_jwt. SKIPPED, never passed, when python3 or a module is missing.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "token/base64url.h"
#include "token/jwt.h"
#include "test_keys.h"

namespace tl::token {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

struct CommandRun {
  int status = -1;
  std::string output;
};

CommandRun run(const std::string& command) {
  CommandRun r;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  r.status = ::pclose(p);
  return r;
}

// The Debian python3 (where apt puts python3-jwt / python3-jwcrypto) if it has
// `module`, else any python3 on PATH that has it; empty when none does.
std::string python_with(const std::string& module) {
  for (const char* py : {"/usr/bin/python3", "python3"}) {
    if (run(std::string(py) + " -c 'import " + module + "'").status == 0) return py;
  }
  return {};
}

#define TL_REQUIRE_PYTHON(var, module)                                                            \
  const std::string var = python_with(module);                                                    \
  if (var.empty())                                                                                \
  GTEST_SKIP() << "python3 with module '" << module << "' not found (apt-get install python3-jwt " \
                  "python3-jwcrypto); interop not checked"

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("tl-token-interop-" + std::to_string(::getpid()) + "-" +
             std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  fs::path write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name, std::ios::binary) << text;
    return path_ / name;
  }

 private:
  fs::path path_;
};

int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

json sample_claims() {
  return {{"iss", "https://tl.example"}, {"aud", "skr"}, {"iat", now_s()}, {"exp", now_s() + 600},
          {"x-ms-attestation-type", "azurevm"}, {"secureboot", true}};
}

// Flips the payload to other (unsigned) claims, keeping header and signature.
std::string tamper_payload(const std::string& token) {
  const size_t d1 = token.find('.');
  const size_t d2 = token.find('.', d1 + 1);
  json c = sample_claims();
  c["secureboot"] = false;
  return token.substr(0, d1 + 1) + base64url_encode(as_bytes(c.dump())) + token.substr(d2);
}

constexpr const char* kPyJwtVerify = R"PY(
import json, sys, jwt
jwks = json.load(open(sys.argv[1]))
for name in ("ES256", "RS256", "PS256"):
    tok = open(sys.argv[2] + "/" + name + ".jwt").read()
    hdr = jwt.get_unverified_header(tok)
    assert hdr["alg"] == name and hdr["typ"] == "JWT", hdr
    jwk = [k for k in jwks["keys"] if k["kid"] == hdr["kid"]][0]
    key = jwt.PyJWK(jwk).key
    claims = jwt.decode(tok, key, algorithms=[name], audience="skr", issuer="https://tl.example")
    assert claims["secureboot"] is True, claims
    bad = open(sys.argv[2] + "/" + name + ".tampered").read()
    try:
        jwt.decode(bad, key, algorithms=[name], audience="skr")
        print("TAMPERED ACCEPTED", name); sys.exit(3)
    except jwt.InvalidSignatureError:
        pass
    print("verified", name)
)PY";

constexpr const char* kJwcryptoVerify = R"PY(
import json, sys
from jwcrypto import jwk, jws
keys = jwk.JWKSet.from_json(open(sys.argv[1]).read())
for name in ("ES256", "RS256", "PS256"):
    tok = open(sys.argv[2] + "/" + name + ".jwt").read()
    s = jws.JWS(); s.deserialize(tok)
    kid = s.jose_header["kid"]
    key = keys.get_key(kid)
    assert key.thumbprint() == kid, (key.thumbprint(), kid)
    s.verify(key, alg=name)
    assert json.loads(s.payload)["secureboot"] is True
    bad = jws.JWS(); bad.deserialize(open(sys.argv[2] + "/" + name + ".tampered").read())
    try:
        bad.verify(key, alg=name)
        print("TAMPERED ACCEPTED", name); sys.exit(3)
    except jws.InvalidJWSSignature:
        pass
    print("verified", name)
)PY";

// Writes our JWKS and one token (plus a tampered copy) per algorithm.
void write_ours(const TempDir& dir) {
  Jwks set;
  for (JwsAlg alg : {JwsAlg::es256, JwsAlg::rs256, JwsAlg::ps256}) {
    // Two different RSA keys: one kid per key in a JWKS.
    auto key = std::optional<SigningKey>(test::test_key(alg, alg == JwsAlg::ps256 ? 1 : 0));
    ASSERT_TRUE(set.add(key->public_jwk()).ok());
    auto t = sign_jwt(*key, sample_claims());
    ASSERT_TRUE(t.ok()) << t.error().message;
    const std::string name(crypto::jws_alg_name(alg));
    dir.write(name + ".jwt", *t);
    dir.write(name + ".tampered", tamper_payload(*t));
  }
  dir.write("jwks.json", set.to_json().dump());
}

TEST(Interop, PyJwtVerifiesOurTokens) {
  TL_REQUIRE_PYTHON(py, "jwt");
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(write_ours(dir));
  const fs::path script = dir.write("verify.py", kPyJwtVerify);
  const CommandRun r = run(py + " " + script.string() + " " + (dir.path() / "jwks.json").string() + " " + dir.path().string());
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("verified PS256"), std::string::npos) << r.output;
}

TEST(Interop, JwcryptoVerifiesOurTokensAndThumbprints) {
  TL_REQUIRE_PYTHON(py, "jwcrypto");
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(write_ours(dir));
  const fs::path script = dir.write("verify.py", kJwcryptoVerify);
  const CommandRun r = run(py + " " + script.string() + " " + (dir.path() / "jwks.json").string() + " " + dir.path().string());
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("verified PS256"), std::string::npos) << r.output;
}

constexpr const char* kJwcryptoSign = R"PY(
import json, sys, time
from jwcrypto import jwk, jwt
out = {"keys": [], "tokens": {}}
now = int(time.time())
for name, params in (("ES256", dict(kty="EC", crv="P-256")), ("RS256", dict(kty="RSA", size=2048)),
                     ("PS256", dict(kty="RSA", size=3072))):
    key = jwk.JWK.generate(**params)
    kid = key.thumbprint()
    pub = json.loads(key.export_public()); pub["kid"] = kid
    out["keys"].append(pub)
    t = jwt.JWT(header={"alg": name, "kid": kid, "typ": "JWT"},
                claims={"iss": "https://jwcrypto.example", "iat": now, "exp": now + 600, "secureboot": True})
    t.make_signed_token(key)
    out["tokens"][name] = t.serialize()
print(json.dumps(out))
)PY";

TEST(Interop, JwcryptoTokensVerifyWithOurs) {
  TL_REQUIRE_PYTHON(py, "jwcrypto");
  TempDir dir;
  const fs::path script = dir.write("sign.py", kJwcryptoSign);
  const CommandRun r = run(py + " " + script.string());
  ASSERT_EQ(r.status, 0) << r.output;
  const json out = json::parse(r.output, nullptr, false);
  ASSERT_TRUE(out.is_object()) << r.output;
  auto set = Jwks::from_json({{"keys", out["keys"]}});
  ASSERT_TRUE(set.ok()) << set.error().message;
  ASSERT_EQ(set->keys().size(), 3u);
  for (const auto& k : set->keys()) EXPECT_EQ(*jwk_thumbprint(k.key), k.kid) << "our thumbprint differs from jwcrypto's";
  VerifyOptions o;
  o.issuer = "https://jwcrypto.example";
  for (const char* name : {"ES256", "RS256", "PS256"}) {
    const std::string tok = out["tokens"][name].get<std::string>();
    auto v = verify_jwt(tok, *set, o);
    ASSERT_TRUE(v.ok()) << name << ": " << v.error().message;
    EXPECT_EQ(v->claims()["secureboot"], true);
    EXPECT_EQ(std::string(crypto::jws_alg_name(v->alg())), name);
    auto bad = verify_jwt(tamper_payload(tok), *set, o);
    ASSERT_FALSE(bad.ok()) << name;
    EXPECT_NE(bad.error().message.find("signature: "), std::string::npos) << bad.error().message;
  }
}

}  // namespace
}  // namespace tl::token
