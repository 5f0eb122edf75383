// Event-log benchmarks: parse, replay, parse+replay and parse+replay+facts of real vector logs.
//
//   eventlog_bench [google-benchmark flags]      in-process throughput
//   eventlog_bench --replay FILE                 one whole-process parse+replay
//                                                (prints the PCRs), for timing
//                                                against `tpm2_eventlog FILE`
//
// Logs are read from $TL_SHARED_DIR/vectors (default: the configured shared dir).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "eventlog/facts.h"
#include "eventlog/parsed_log.h"
#include "eventlog/replay.h"

namespace {

using tl::Bytes;
using tl::eventlog::ParsedLog;

bool read_file(const std::string& path, Bytes& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

void count(benchmark::State& state, size_t bytes) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));  // logs/s
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

// The whole verifier-side cost for one log received as bytes: copy in, parse, replay.
void BM_ParseReplay(benchmark::State& state, const Bytes& log) {
  for (auto _ : state) {
    auto parsed = ParsedLog::parse(Bytes(log));
    if (!parsed.ok()) state.SkipWithError(parsed.error().message.c_str());
    auto pcrs = tl::eventlog::replay(*parsed);
    benchmark::DoNotOptimize(pcrs);
  }
  count(state, log.size());
}

// What `eventlog inspect` computes, minus printing: parse, replay, every fact and check.
void BM_ParseReplayFacts(benchmark::State& state, const Bytes& log) {
  for (auto _ : state) {
    auto parsed = ParsedLog::parse(Bytes(log));
    if (!parsed.ok()) state.SkipWithError(parsed.error().message.c_str());
    auto pcrs = tl::eventlog::replay(*parsed);
    auto facts = tl::eventlog::inspect_facts(*parsed);
    benchmark::DoNotOptimize(pcrs);
    benchmark::DoNotOptimize(facts);
  }
  count(state, log.size());
}

void BM_Parse(benchmark::State& state, const Bytes& log) {
  for (auto _ : state) {
    auto parsed = ParsedLog::parse(Bytes(log));
    benchmark::DoNotOptimize(parsed);
  }
  count(state, log.size());
}

void BM_Replay(benchmark::State& state, const Bytes& log) {
  auto parsed = ParsedLog::parse(Bytes(log));
  if (!parsed.ok()) {
    state.SkipWithError(parsed.error().message.c_str());
    return;
  }
  for (auto _ : state) {
    auto pcrs = tl::eventlog::replay(*parsed);
    benchmark::DoNotOptimize(pcrs);
  }
  count(state, log.size());
}

int replay_once(const char* path) {
  Bytes data;
  if (!read_file(path, data)) {
    std::fprintf(stderr, "cannot read %s\n", path);
    return 2;
  }
  auto log = ParsedLog::parse(std::move(data));
  if (!log.ok()) {
    std::fprintf(stderr, "%s\n", log.error().message.c_str());
    return 1;
  }
  auto pcrs = tl::eventlog::replay(*log);
  if (!pcrs.ok()) {
    std::fprintf(stderr, "%s\n", pcrs.error().message.c_str());
    return 1;
  }
  std::printf("events: %zu\n", log->events().size());
  for (const auto& [bank, values] : *pcrs) {
    std::printf("%s:\n", std::string(tl::crypto::hash_name(bank)).c_str());
    for (const auto& [pcr, value] : values) std::printf("  %u: %s\n", pcr, tl::to_hex(value).c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--replay") == 0) return replay_once(argv[2]);

  const char* env = std::getenv("TL_SHARED_DIR");
  const std::string shared = env != nullptr && *env != '\0' ? env : TL_SHARED_DIR_DEFAULT;
  // Owned here so the registered lambdas can refer to them for the whole run.
  static std::vector<std::pair<std::string, Bytes>> logs;
  for (const char* rel : {"ovmf-secureboot/eventlog_sb_debian_chain.bin",
                          "ovmf-secureboot/eventlog_unprovisioned_swtpm_4banks.bin",
                          "eventlogs/event-gce-ubuntu-2104-log.bin", "eventlogs/keylime-sb-enabled.bin",
                          "eventlogs/keylime-sb-disabled.bin", "eventlogs/event-uefi-sha1-log.bin"}) {
    Bytes b;
    if (!read_file(shared + "/vectors/" + rel, b)) {
      std::fprintf(stderr, "eventlog_bench: %s/vectors/%s not found, skipped\n", shared.c_str(), rel);
      continue;
    }
    std::string name = rel;
    name = name.substr(name.find('/') + 1);
    logs.emplace_back(name, std::move(b));
  }
  if (logs.empty()) {
    std::fprintf(stderr, "eventlog_bench: no vector logs found (set TL_SHARED_DIR)\n");
    return 77;  // "skipped" for ctest (SKIP_RETURN_CODE in bench/eventlog.cmake)
  }
  for (const auto& [name, bytes] : logs) {
    const std::string suffix = name + "/" + std::to_string(bytes.size()) + "B";
    benchmark::RegisterBenchmark(("ParseReplay/" + suffix).c_str(), BM_ParseReplay, bytes);
    benchmark::RegisterBenchmark(("ParseReplayFacts/" + suffix).c_str(), BM_ParseReplayFacts, bytes);
    benchmark::RegisterBenchmark(("Parse/" + suffix).c_str(), BM_Parse, bytes);
    benchmark::RegisterBenchmark(("Replay/" + suffix).c_str(), BM_Replay, bytes);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
