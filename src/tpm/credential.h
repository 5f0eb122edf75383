// Credential protection (TPM 2.0 Part 1, 24; Part 3, TPM2_MakeCredential), done
// by the verifier without a TPM: a secret only the TPM holding the EK can recover,
// and only for an object with the given Name loaded next to it
// (TPM2_ActivateCredential). This is how an attestation service learns that an
// AK lives in the same TPM as a certified EK.
#pragma once

#include "common/hex.h"
#include "common/result.h"
#include "tpm/public_area.h"

namespace tl::tpm {

// TPM2_MakeCredential's two outputs, each marshalled with its u16 size prefix.
struct MadeCredential {
  Bytes credential_blob;  // TPM2B_ID_OBJECT: TPM2B_DIGEST integrityHMAC || encIdentity
  Bytes secret;           // TPM2B_ENCRYPTED_SECRET: RSA-OAEP ciphertext or a TPMS_ECC_POINT
};

// ek: a restricted decryption key (RSA, or ECC on P-256/P-384/P-521) whose
// symmetric definition is AES in CFB mode, as the EK templates define it.
// ak_name: the TPM Name of the object to be activated (nameAlg || digest).
// secret: 1 to digest-size-of-EK-nameAlg bytes (32 for the default templates).
// A fresh random seed protects every call, so two calls never give the same output.
Result<MadeCredential> make_credential(const PublicArea& ek, ByteView ak_name, ByteView secret);

// The file tpm2-tools writes with `tpm2_makecredential -o` and reads with
// `tpm2_activatecredential -i`: u32 magic 0xBADCC0DE, u32 version 1 (both
// big-endian), the TPM2B_ID_OBJECT, the TPM2B_ENCRYPTED_SECRET.
Bytes credential_file(const MadeCredential& made);
// Whole-buffer parser of that file (trailing bytes are an error); sizes are
// bounded by the TPM's maxima (TPM2B_ID_OBJECT <= 132, TPM2B_ENCRYPTED_SECRET <= 512).
Result<MadeCredential> parse_credential_file(ByteView file);

}  // namespace tl::tpm
