// Edits of a real crypto-agile event log, done on its bytes the way an
// attacker or a changed boot would: patch a digest, drop an event, insert one,
// change a variable's data and re-hash it.
#pragma once

#include <cstdint>
#include <string>

#include "common/hex.h"

namespace tl::test {

// Flips every byte of event `index`'s SHA-256 digest (nothing recomputed).
Bytes with_sha256_digest_flipped(const Bytes& log, uint32_t index);
// Removes event `index` (the bytes from its offset to the next event's).
Bytes without_event(const Bytes& log, uint32_t index);
// Inserts, before event `before`, an EV_IPL on `pcr` with `text` plus a NUL as
// data and every bank's digest = hash(digest_input), as GRUB measures strings.
Bytes with_ipl_event(const Bytes& log, uint32_t before, uint32_t pcr, const std::string& text,
                     const std::string& digest_input);
// Sets VariableData of the UEFI_VARIABLE_DATA in event `index` to `data`
// (same size) and recomputes every bank's digest over the whole event data.
Bytes with_variable_data(const Bytes& log, uint32_t index, const Bytes& data);

}  // namespace tl::test
