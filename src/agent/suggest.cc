#include "agent/suggest.h"

#include <algorithm>
#include <string>
#include <vector>

namespace tl::agent {
namespace {

constexpr size_t kMaxSuggestDistance = 2;
// Keys longer than this are not anybody's typo of a settings key.
constexpr size_t kMaxComparedLength = 128;

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowered(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

}  // namespace

size_t edit_distance(std::string_view a, std::string_view b, size_t limit) {
  const size_t diff = a.size() > b.size() ? a.size() - b.size() : b.size() - a.size();
  if (diff > limit) return limit + 1;
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    size_t row_min = cur[0];
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
      row_min = std::min(row_min, cur[j]);
    }
    if (row_min > limit) return limit + 1;  // every later row is at least this
    std::swap(prev, cur);
  }
  return std::min(prev[b.size()], limit + 1);
}

std::optional<std::string_view> suggest_key(std::string_view got, std::span<const std::string_view> known) {
  if (got.size() > kMaxComparedLength) return std::nullopt;
  const std::string g = lowered(got);
  for (std::string_view k : known) {
    if (lowered(k) == g) return k;
  }
  std::optional<std::string_view> best;
  size_t best_distance = kMaxSuggestDistance + 1;
  bool tie = false;
  for (std::string_view k : known) {
    const size_t d = edit_distance(g, lowered(k), kMaxSuggestDistance);
    if (d < best_distance) {
      best = k;
      best_distance = d;
      tie = false;
    } else if (d == best_distance && d <= kMaxSuggestDistance) {
      tie = true;
    }
  }
  if (best_distance > kMaxSuggestDistance || tie) return std::nullopt;
  return best;
}

}  // namespace tl::agent
