# JWS compact parsing + verification, JWK/JWKS parsing, base64url (no seeds:
# the first byte picks the parser, the rest is its input).
tl_add_fuzzer(NAME token_fuzzer SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/token_fuzzer.cc
  DEPS tl_token)
