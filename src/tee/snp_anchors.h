// AMD's SEV-SNP root keys shipped with trustlaunch as trust anchors (the ARK of
// each product, and its ASK / ASVK for offline use), DER. Provenance and
// fingerprints: docs/tee-snp.md.
#pragma once

#include "common/hex.h"
#include "tee/snp_report.h"

namespace tl::tee {

ByteView amd_ark(SnpProduct p);
ByteView amd_ask(SnpProduct p);
ByteView amd_asvk(SnpProduct p);  // empty when not shipped

}  // namespace tl::tee
