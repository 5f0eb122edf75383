// Replaying an event log: the PCR values the log's measurements produce.
#pragma once

#include "common/result.h"
#include "eventlog/parsed_log.h"
#include "tpm/pcr.h"

namespace tl::eventlog {

// Replays every bank the log carries (SHA-1 only for legacy logs).
// The result holds exactly the PCRs the log extends, plus PCR 0 when the log
// has a StartupLocality event. Every PCR starts at zeros, except PCR 0, whose
// last byte is 4 after an H-CRTM event, else the StartupLocality locality.
// EV_NO_ACTION events never extend. Fails only if a hash is unavailable.
Result<tpm::PcrValues> replay(const ParsedLog& log);

// The value a PCR has before its first extend, as replay() assumes it.
Bytes initial_pcr_value(const ParsedLog& log, crypto::HashAlg bank, uint32_t pcr);

}  // namespace tl::eventlog
