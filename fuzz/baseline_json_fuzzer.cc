// Fuzzes the baseline readers (src/policy/baseline.h). The first byte picks
// the input's path:
//   0x00       the whole input is an event log for variant_from_eventlog (real
//              logs start with PCR index 0, so the log seeds land here as is);
//   '{' … ' '  the whole input is JSON text for baseline_from_json;
//   otherwise  the rest is spliced as raw JSON text into one member of a
//              valid baseline (first byte picks which), so every member's
//              checks are reached without a JSON seed corpus.
// Invariants: a refusal carries a reason and a message; an accepted baseline
// serialises (valid UTF-8 everywhere) and reads back to the same JSON; a
// variant from a log has one value per requested PCR and only their events.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "eventlog/parsed_log.h"
#include "fuzz_support.h"
#include "policy/baseline.h"

using tl::fuzz::check;

namespace {

constexpr std::string_view kHex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

// '@' marks the member the fuzzer's bytes replace.
const std::vector<std::string>& templates() {
  static const std::vector<std::string> t = [] {
    const std::string h = std::string(kHex);
    const std::string m = R"({"pcr":4,"event":23,"eventType":"EV_EFI_BOOT_SERVICES_APPLICATION","component":"x","sha256":")" + h + R"("})";
    const std::string v = R"({"name":"v1","source":"eventlog","createdAt":"2026-11-22T20:00:00Z","pcrValues":{"4":")" + h +
                          R"(","7":")" + h + R"("},"measurements":[)" + m + "]}";
    auto doc = [&](const std::string& group, const std::string& version, const std::string& created,
                   const std::string& pcrs, const std::string& variants) {
      return R"({"group":)" + group + R"(,"version":)" + version + R"(,"createdAt":)" + created +
             R"(,"learning":false,"pcrs":)" + pcrs + R"(,"variants":)" + variants + "}";
    };
    const std::string g = "\"pool\"", ver = "1", c = "\"2026-11-22T20:00:00Z\"", p = "[4,7]", vs = "[" + v + "]";
    std::string v_name = v, v_values = v, v_meas = v, v_created = v;
    auto replace = [](std::string s, std::string_view from, std::string_view to) {
      s.replace(s.find(from), from.size(), to);
      return s;
    };
    v_name = replace(v, R"("v1")", "@");
    v_created = replace(v, R"("2026-11-22T20:00:00Z")", "@");
    v_values = replace(v, R"(")" + h + R"(","7")", R"(@,"7")");
    v_meas = replace(v, m, "@");
    return std::vector<std::string>{
        doc("@", ver, c, p, vs),      doc(g, "@", c, p, vs),
        doc(g, ver, "@", p, vs),      doc(g, ver, c, "@", vs),
        doc(g, ver, c, p, "@"),       doc(g, ver, c, p, "[" + v_name + "]"),
        doc(g, ver, c, p, "[" + v_created + "]"), doc(g, ver, c, p, "[" + v_values + "]"),
        doc(g, ver, c, p, "[" + v_meas + "]"),    doc(g, ver, c, p, "[" + v + ",@]"),
        doc(g, ver, c, p, "[" + replace(v_meas, "@", replace(m, "23", "@")) + "]"),
        doc(g, ver, c, p, "[" + replace(v_meas, "@", replace(m, R"("x")", "@")) + "]"),
    };
  }();
  return t;
}

void check_baseline_round_trip(const tl::policy::Baseline& b) {
  const nlohmann::json j = tl::policy::to_json(b);
  (void)j.dump();  // throws (a finding) on invalid UTF-8
  auto again = tl::policy::baseline_from_json(nlohmann::json::parse(j.dump()));
  check(again.ok());
  check(tl::policy::to_json(*again) == j);
}

void fuzz_json(std::string_view text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return;
  auto b = tl::policy::baseline_from_json(j);
  if (!b.ok()) {
    check(b.error().reason == "baseline-invalid");
    check(!b.error().message.empty());
    return;
  }
  check(!b->variants.empty());
  check_baseline_round_trip(*b);
}

void fuzz_eventlog(const uint8_t* data, size_t size) {
  const tl::ByteView log(data, size);
  // Ask for the PCRs the log extends, so accepted variants are common.
  std::vector<uint32_t> pcrs;
  if (auto parsed = tl::eventlog::ParsedLog::parse(tl::Bytes(log.begin(), log.end())); parsed.ok()) {
    bool seen[24] = {};
    for (const auto& e : parsed->events())
      if (e.type != tl::eventlog::EV_NO_ACTION && e.pcr < 24) seen[e.pcr] = true;
    for (uint32_t i = 0; i < 24; ++i)
      if (seen[i]) pcrs.push_back(i);
  }
  if (pcrs.empty()) pcrs = tl::policy::default_baseline_pcrs();
  auto v = tl::policy::variant_from_eventlog(log, "fuzz", pcrs, 0);
  if (!v.ok()) {
    check(v.error().reason == "eventlog-malformed" || v.error().reason == "baseline-invalid");
    check(!v.error().message.empty());
    return;
  }
  check(v->pcr_values.size() == pcrs.size());
  for (const auto& m : v->measurements) {
    check(m.sha256.size() == 64);
    check(std::find(pcrs.begin(), pcrs.end(), m.pcr) != pcrs.end());
  }
  check_baseline_round_trip(tl::policy::Baseline{"fuzz", 1, 0, pcrs, {*v}});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const char first = static_cast<char>(data[0]);
  if (data[0] == 0) {
    fuzz_eventlog(data, size);
    return 0;
  }
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  if (first == '{' || first == '[' || first == ' ' || first == '\n' || first == '"') {
    fuzz_json(all);
    return 0;
  }
  const std::string& t = templates()[data[0] % templates().size()];
  std::string text;
  for (char c : t) {
    if (c == '@') text += all.substr(1);
    else text += c;
  }
  fuzz_json(text);
  return 0;
}
