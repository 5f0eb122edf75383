// Helpers the src/policy files share. Not part of the public API.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "eventlog/event.h"
#include "policy/baseline.h"

namespace tl::policy::detail {

// What an event measured, for people (see Measurement::component).
std::string component_name(const eventlog::Event& e);

// Measurements (SHA-256) of the events on `pcrs`, in log order; EV_NO_ACTION
// and events without a SHA-256 digest are skipped.
std::vector<Measurement> measurements_of(std::span<const eventlog::Event> events, const std::vector<uint32_t>& pcrs);

// A baseline PCR list: non-empty, ascending, no repeats, each 0..23.
Status check_pcr_list(const std::vector<uint32_t>& pcrs);
// A variant name: 1..64 of [A-Za-z0-9._-].
Status check_variant_name(std::string_view name);

bool contains_pcr(const std::vector<uint32_t>& pcrs, uint32_t pcr);

}  // namespace tl::policy::detail
