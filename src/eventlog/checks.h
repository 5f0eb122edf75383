// Hardening checks over an event log: events whose digest does not cover what
// the data shows, events whose type and content disagree, and PCR 7 ordering
// rules of the TCG PC Client Platform Firmware Profile (PFP) 1.05/1.06.
// Replay alone cannot catch these: a retyped or relabelled event still replays.
// Every message is listed in docs/eventlog-facts.md.
#pragma once

#include <span>
#include <vector>

#include "eventlog/event.h"
#include "eventlog/facts.h"

namespace tl::eventlog {

// Problems found, in log order. The header event (index 0) is skipped.
std::vector<Problem> check_events(std::span<const Event> events);

// False when the event's type says its digests are the hash of its data (UEFI
// variables, separators, EFI actions, GRUB strings …) and one of them is not:
// the data shown is then not what was measured and must not yield facts.
// True for types whose digest covers something outside the log (images, files).
bool data_is_measured(const Event& e);

}  // namespace tl::eventlog
