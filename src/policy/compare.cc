// Comparison of a verified boot with a baseline: PCR values decide, events
// explain. Per deviating PCR, the baseline's events and the boot's are aligned
// (longest common subsequence), so one inserted event reads as "unexpected"
// instead of shifting every later event into a mismatch.
#include <algorithm>
#include <cstdint>
#include <limits>

#include "policy/baseline_internal.h"

namespace tl::policy {

namespace {

constexpr size_t kMaxDeviations = 32;
// Cells of the alignment table (after the common prefix and suffix are cut):
// past this a hostile boot with thousands of events is compared position by
// position instead, which is still exact about which events differ, only less
// clever about insertions.
constexpr size_t kMaxAlignCells = size_t{1} << 20;

enum class Op { same, removed, inserted };  // removed: baseline only; inserted: boot only

struct Step {
  Op op;
  size_t b = 0;  // index into the baseline's events (same, removed)
  size_t a = 0;  // index into the boot's events (same, inserted)
};

// Edit script from `base` to `boot` where eq(x, y) says two events are the same.
template <class Eq>
std::vector<Step> align(const std::vector<const Measurement*>& base, const std::vector<const Measurement*>& boot,
                        Eq eq) {
  std::vector<Step> steps;
  size_t lo = 0;
  while (lo < base.size() && lo < boot.size() && eq(*base[lo], *boot[lo])) {
    steps.push_back({Op::same, lo, lo});
    ++lo;
  }
  size_t bn = base.size(), an = boot.size();
  size_t tail = 0;
  while (bn - tail > lo && an - tail > lo && eq(*base[bn - tail - 1], *boot[an - tail - 1])) ++tail;
  const size_t n = bn - tail - lo, m = an - tail - lo;

  if (n > 0 && m > 0 && n * m <= kMaxAlignCells) {
    // len[i][j]: LCS length of base[lo+i..] and boot[lo+j..].
    std::vector<uint32_t> len((n + 1) * (m + 1), 0);
    auto at = [&](size_t i, size_t j) -> uint32_t& { return len[i * (m + 1) + j]; };
    for (size_t i = n; i-- > 0;)
      for (size_t j = m; j-- > 0;)
        at(i, j) = eq(*base[lo + i], *boot[lo + j]) ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
    size_t i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && eq(*base[lo + i], *boot[lo + j])) {
        steps.push_back({Op::same, lo + i, lo + j});
        ++i, ++j;
      } else if (j < m && (i == n || at(i, j + 1) >= at(i + 1, j))) {
        steps.push_back({Op::inserted, 0, lo + j});
        ++j;
      } else {
        steps.push_back({Op::removed, lo + i, 0});
        ++i;
      }
    }
  } else {
    for (size_t k = 0; k < std::max(n, m); ++k) {
      if (k < n) steps.push_back({Op::removed, lo + k, 0});
      if (k < m) steps.push_back({Op::inserted, 0, lo + k});
    }
  }
  for (size_t k = 0; k < tail; ++k) steps.push_back({Op::same, bn - tail + k, an - tail + k});
  return steps;
}

bool same_event(const Measurement& x, const Measurement& y) {
  return x.event_type == y.event_type && x.component == y.component && x.sha256 == y.sha256;
}
bool same_place(const Measurement& x, const Measurement& y) {
  return x.event_type == y.event_type && x.component == y.component;
}

class DeviationList {
 public:
  explicit DeviationList(std::vector<Deviation>& out) : out_(out) {}
  bool full() const { return out_.size() >= kMaxDeviations; }
  size_t size() const { return out_.size(); }
  void add(Deviation d) {
    if (!full()) out_.push_back(std::move(d));
  }

 private:
  std::vector<Deviation>& out_;
};

Deviation missing(const Measurement& b) {
  return Deviation{"missing", b.pcr, std::nullopt, b.event_type, b.component, b.sha256, ""};
}
Deviation unexpected(const Measurement& a) {
  return Deviation{"unexpected", a.pcr, a.event, a.event_type, a.component, "", a.sha256};
}

// A run of baseline-only and boot-only events between two agreeing ones: the
// events that stand at the same place (type and component) changed digest;
// the others are missing or unexpected.
void explain_gap(const std::vector<const Measurement*>& removed, const std::vector<const Measurement*>& inserted,
                 DeviationList& out) {
  for (const Step& s : align(removed, inserted, same_place)) {
    switch (s.op) {
      case Op::same: {
        const Measurement& b = *removed[s.b];
        const Measurement& a = *inserted[s.a];
        out.add(Deviation{"digest-mismatch", a.pcr, a.event, a.event_type, a.component, b.sha256, a.sha256});
        break;
      }
      case Op::removed: out.add(missing(*removed[s.b])); break;
      case Op::inserted: out.add(unexpected(*inserted[s.a])); break;
    }
  }
}

void compare_pcr(uint32_t pcr, const BaselineVariant& v, const VerifiedMeasurements& m, DeviationList& out) {
  const std::string& expected = v.pcr_values.at(pcr);
  const auto quoted = m.pcrs().find(pcr);
  if (quoted == m.pcrs().end()) {
    out.add(Deviation{"pcr-not-covered", pcr, std::nullopt, "", "", expected, ""});
    return;
  }
  if (quoted->second == expected) return;

  std::vector<const Measurement*> base, boot;
  for (const Measurement& x : v.measurements)
    if (x.pcr == pcr) base.push_back(&x);
  for (const Measurement& x : m.events())
    if (x.pcr == pcr) boot.push_back(&x);

  const size_t before = out.size();
  std::vector<const Measurement*> removed, inserted;
  auto flush = [&] {
    if (!removed.empty() || !inserted.empty()) explain_gap(removed, inserted, out);
    removed.clear();
    inserted.clear();
  };
  for (const Step& s : align(base, boot, same_event)) {
    if (out.full()) return;
    switch (s.op) {
      case Op::same: flush(); break;
      case Op::removed: removed.push_back(base[s.b]); break;
      case Op::inserted: inserted.push_back(boot[s.a]); break;
    }
  }
  flush();
  // Same events, other value: the baseline's measurements and PCR values
  // disagree (an edited baseline) or the event list is incomplete.
  if (out.size() == before) out.add(Deviation{"pcr-mismatch", pcr, std::nullopt, "", "", expected, quoted->second});
}

size_t mismatching_pcrs(const Baseline& b, const BaselineVariant& v, const VerifiedMeasurements& m) {
  size_t n = 0;
  for (uint32_t pcr : b.pcrs) {
    const auto q = m.pcrs().find(pcr);
    const auto e = v.pcr_values.find(pcr);
    if (q == m.pcrs().end() || e == v.pcr_values.end() || q->second != e->second) ++n;
  }
  return n;
}

}  // namespace

BaselineMatch compare(const VerifiedMeasurements& m, const Baseline& b) {
  BaselineMatch r;
  const BaselineVariant* closest = nullptr;
  size_t fewest = std::numeric_limits<size_t>::max();
  for (const BaselineVariant& v : b.variants) {
    const size_t n = mismatching_pcrs(b, v, m);
    if (n == 0 && !b.pcrs.empty()) {
      r.matched = true;
      r.variant = v.name;
      return r;
    }
    if (n < fewest) fewest = n, closest = &v;
  }
  if (closest == nullptr) return r;  // no variants: nothing can match (baseline_from_json refuses this)
  r.variant = closest->name;
  DeviationList out(r.deviations);
  for (uint32_t pcr : b.pcrs) {
    if (out.full()) break;
    if (!closest->pcr_values.contains(pcr)) {
      // A baseline that names a PCR its variant has no value for cannot vouch for it.
      const auto q = m.pcrs().find(pcr);
      out.add(Deviation{"pcr-mismatch", pcr, std::nullopt, "", "", "", q == m.pcrs().end() ? "" : q->second});
      continue;
    }
    compare_pcr(pcr, *closest, m, out);
  }
  return r;
}

std::string Deviation::message() const {
  std::string s = "PCR " + std::to_string(pcr);
  if (event) s += " event " + std::to_string(*event);
  if (!event_type.empty()) s += " " + event_type;
  if (!component.empty()) s += " " + component;
  s += ": ";
  if (kind == "digest-mismatch") return s + "expected sha256 " + expected + ", got " + actual;
  if (kind == "missing") return s + "missing (the baseline has it with sha256 " + expected + ")";
  if (kind == "unexpected") return s + "unexpected event (sha256 " + actual + ") not in the baseline";
  if (kind == "pcr-not-covered") return s + "not covered by the verified quote and log";
  if (kind == "pcr-mismatch")
    return s + "PCR value " + (actual.empty() ? std::string("(none)") : actual) + " is not the baseline's " +
           (expected.empty() ? std::string("(none)") : expected);
  return s + kind;
}

}  // namespace tl::policy
