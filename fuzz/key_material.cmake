# Key import and stored-key parsing (src/crypto/key_material.h): PEM, PKCS#8
# DER, private JWK and release bytes. No seeds file (shared/vectors holds no
# private keys): the first byte picks the parser, the rest is its input.
tl_add_fuzzer(NAME key_material_fuzzer SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/key_material_fuzzer.cc
  DEPS tl_crypto)
