// "Did you mean …?" for settings keys: the Guest Attestation extension's
// settings are case-sensitive, so a wrongly cased or misspelled key must be
// refused, and the error should point at the key the operator meant.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

namespace tl::agent {

// Levenshtein distance between a and b, or `limit + 1` when it exceeds `limit`
// (long hostile inputs stay cheap: unequal lengths beyond the limit stop early).
size_t edit_distance(std::string_view a, std::string_view b, size_t limit);

// The known key `got` was most likely meant as: a case-insensitive match first,
// else the unique closest key within edit distance 2 (compared case-
// insensitively). nullopt when none fits or two candidates tie.
std::optional<std::string_view> suggest_key(std::string_view got, std::span<const std::string_view> known);

}  // namespace tl::agent
