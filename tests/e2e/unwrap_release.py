#!/usr/bin/env python3
"""Unwraps a key vault release answer the way an independent client would, with
python3-cryptography and PyJWT only: the JWS is verified with the key its kid
names in the service's JWKS (/certs), key_hsm is decoded, the first modulus-
length bytes of the ciphertext are RSA-OAEP-decrypted with the runtime key's
private key (hash per "enc"), and the rest is AES key unwrapped with padding
(RFC 5649). Prints {"material": hex, "payload": the verified payload}.

usage: unwrap_release.py BASE_URL JWS_FILE RUNTIME_KEY_PEM
"""
import base64
import json
import sys
import urllib.request

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap_with_padding


def b64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def main():
    base, jws_file, key_file = sys.argv[1:4]
    jws = open(jws_file).read().strip()
    with urllib.request.urlopen(base + "/certs", timeout=10) as r:
        jwks = json.loads(r.read())
    header = jwt.get_unverified_header(jws)
    jwk = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    key = jwt.PyJWK(jwk).key
    payload = jwt.decode(jws, key, algorithms=[header["alg"]], options={"verify_exp": False, "verify_aud": False})
    key_hsm = json.loads(b64u(payload["response"]["key"]["key"]["key_hsm"]))
    enc = key_hsm["header"]["enc"]
    assert enc == payload["request"]["enc"], (enc, payload["request"]["enc"])
    h = {"RSA_AES_KEY_WRAP_256": hashes.SHA256, "RSA_AES_KEY_WRAP_384": hashes.SHA384,
         "CKM_RSA_AES_KEY_WRAP": hashes.SHA1}[enc]
    priv = serialization.load_pem_private_key(open(key_file, "rb").read(), password=None)
    ct = b64u(key_hsm["ciphertext"])
    n = priv.key_size // 8
    aes = priv.decrypt(ct[:n], padding.OAEP(mgf=padding.MGF1(algorithm=h()), algorithm=h(), label=None))
    material = aes_key_unwrap_with_padding(aes, ct[n:])
    print(json.dumps({"material": material.hex(), "payload": payload}))


if __name__ == "__main__":
    main()
