#!/usr/bin/env python3
"""Checks a tlaunchd token the way a relying party would, with standard tools:
OpenID discovery -> jwks_uri -> the key with the token's kid; the signature is
verified twice: by PyJWT (OpenSSL via python3-cryptography) and by the
`openssl dgst -verify` command. Prints the verified claims as JSON.

usage: check_token.py BASE_URL TOKEN_FILE [CA_FILE]
"""
import base64
import json
import os
import ssl
import subprocess
import sys
import tempfile
import urllib.request

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def fetch(url, ctx):
    with urllib.request.urlopen(url, context=ctx, timeout=10) as r:
        return json.loads(r.read())


def main():
    base, token_file = sys.argv[1], sys.argv[2]
    ctx = ssl.create_default_context(cafile=sys.argv[3]) if len(sys.argv) > 3 else None
    token = open(token_file).read().strip()
    conf = fetch(base + "/.well-known/openid-configuration", ctx)
    assert conf["issuer"] == base, (conf["issuer"], base)
    jwks = fetch(conf["jwks_uri"], ctx)
    header = jwt.get_unverified_header(token)
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    alg = header["alg"]
    pub = jwt.PyJWK(key, algorithm=alg).key
    claims = jwt.decode(token, pub, algorithms=[alg], issuer=conf["issuer"],
                        options={"require": ["exp", "iat", "nbf", "iss", "jti"]})

    # The same signature through the openssl command line.
    signing_input, sig_b64 = token.rsplit(".", 1)
    sig = b64u(sig_b64)
    if alg == "ES256":
        sig = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    with tempfile.TemporaryDirectory() as d:
        paths = {n: os.path.join(d, n) for n in ("pub.pem", "msg", "sig")}
        open(paths["pub.pem"], "wb").write(pub.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        open(paths["msg"], "wb").write(signing_input.encode())
        open(paths["sig"], "wb").write(sig)
        cmd = ["openssl", "dgst", "-sha256", "-verify", paths["pub.pem"], "-signature", paths["sig"]]
        if alg == "PS256":
            cmd += ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32"]
        out = subprocess.run(cmd + [paths["msg"]], capture_output=True, text=True)
        if out.returncode != 0 or "Verified OK" not in out.stdout:
            sys.exit("openssl dgst -verify refused the token: " + out.stdout + out.stderr)
    print(json.dumps({"header": header, "claims": claims}))


if __name__ == "__main__":
    main()
