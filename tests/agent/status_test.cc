#include "agent/status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/timestamp.h"
#include "support/test_support.h"

namespace tl::agent {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

const StatusTime kT0 = StatusTime{} + std::chrono::seconds(1'700'000'000);

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "tl_agent_status_XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) ? fs::path(tmpl) : fs::path();
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write_raw(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

AgentStatus full_status() {
  AgentStatus s;
  s.last_attempt = kT0;
  s.last_success = kT0 - 4h;
  s.last_error = LastError{kT0, "quote-nonce", "quote nonce does not match the challenge"};
  s.consecutive_failures = 3;
  s.next_attempt = kT0 + 20s;
  s.token_expiry = kT0 + 4h;
  return s;
}

std::string status_err(const std::string& text) {
  auto r = parse_status(text);
  if (r.ok()) return "accepted";
  EXPECT_EQ(r.error().reason, "status-malformed");
  return r.error().message;
}

std::string heartbeat_err(const std::string& text) {
  auto r = parse_heartbeat(text);
  if (r.ok()) return "accepted";
  EXPECT_EQ(r.error().reason, "status-malformed");
  return r.error().message;
}

// A well-formed status document with one key replaced (or removed when value is empty).
std::string status_with(const std::string& key, const std::string& value_json) {
  nlohmann::json j = nlohmann::json::parse(status_to_json(full_status()));
  if (value_json.empty()) {
    j.erase(key);
  } else {
    j[key] = nlohmann::json::parse(value_json);
  }
  return j.dump();
}

TEST(StatusJson, StatusShapeIsDocumented) {
  const nlohmann::json j = nlohmann::json::parse(status_to_json(full_status()));
  EXPECT_EQ(j.at("version"), 1);
  EXPECT_EQ(j.at("lastAttemptTime"), "2023-11-14T22:13:20Z");
  EXPECT_EQ(j.at("lastSuccessTime"), "2023-11-14T18:13:20Z");
  EXPECT_EQ(j.at("lastError").at("reason"), "quote-nonce");
  EXPECT_EQ(j.at("lastError").at("message"), "quote nonce does not match the challenge");
  EXPECT_EQ(j.at("lastError").at("time"), "2023-11-14T22:13:20Z");
  EXPECT_EQ(j.at("consecutiveFailures"), 3);
  EXPECT_EQ(j.at("nextAttemptTime"), "2023-11-14T22:13:40Z");
  EXPECT_EQ(j.at("tokenExpiry"), "2023-11-15T02:13:20Z");
  EXPECT_EQ(j.at("collectionWarnings"), nlohmann::json::array());
  EXPECT_EQ(j.size(), 8u);
}

TEST(StatusJson, CollectionWarningsRoundTripAndAreOptionalWhenRead) {
  AgentStatus s = full_status();
  s.collection_warnings = {"/proc/sys/kernel/tainted: byte 0 is not a decimal digit", "bad \xff byte"};
  auto back = parse_status(status_to_json(s));
  ASSERT_TRUE(back.ok()) << back.error().message;
  ASSERT_EQ(back->collection_warnings.size(), 2u);
  EXPECT_EQ(back->collection_warnings[0], s.collection_warnings[0]);
  EXPECT_THAT(back->collection_warnings[1], HasSubstr("bad "));  // invalid UTF-8 replaced, still valid JSON
  // Bounded when written: 16 entries of at most 512 bytes.
  s.collection_warnings.assign(40, std::string(2000, 'w'));
  back = parse_status(status_to_json(s));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->collection_warnings.size(), 16u);
  EXPECT_EQ(back->collection_warnings[0].size(), 512u);
  // A status file of an older agent has no such key and still reads.
  auto old = parse_status(status_with("collectionWarnings", ""));
  ASSERT_TRUE(old.ok()) << old.error().message;
  EXPECT_TRUE(old->collection_warnings.empty());
  // Wrong shapes are refused with the key.
  EXPECT_THAT(status_err(status_with("collectionWarnings", "\"x\"")), HasSubstr("collectionWarnings: expected an array"));
  EXPECT_THAT(status_err(status_with("collectionWarnings", "[1]")), HasSubstr("collectionWarnings[0]: expected a string"));
  EXPECT_THAT(status_err(status_with("collectionWarnings", "[\"" + std::string(513, 'w') + "\"]")),
              HasSubstr("collectionWarnings[0]: longer than 512 bytes"));
  EXPECT_THAT(status_err(status_with("collectionWarnings", nlohmann::json(std::vector<std::string>(17, "w")).dump())),
              HasSubstr("collectionWarnings: more than 16 entries"));
}

TEST(StatusJson, RoundTripsFullAndEmpty) {
  auto full = parse_status(status_to_json(full_status()));
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_EQ(full->last_attempt, kT0);
  EXPECT_EQ(full->last_success, kT0 - 4h);
  ASSERT_TRUE(full->last_error.has_value());
  EXPECT_EQ(full->last_error->reason, "quote-nonce");
  EXPECT_EQ(full->consecutive_failures, 3u);
  EXPECT_EQ(full->next_attempt, kT0 + 20s);
  EXPECT_EQ(full->token_expiry, kT0 + 4h);

  const std::string empty_json = status_to_json(AgentStatus{});
  EXPECT_THAT(empty_json, HasSubstr("\"lastError\": null"));
  auto empty = parse_status(empty_json);
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_FALSE(empty->last_attempt || empty->last_success || empty->last_error || empty->next_attempt ||
               empty->token_expiry);
  EXPECT_EQ(empty->consecutive_failures, 0u);
}

TEST(StatusJson, HostileErrorMessageStaysValidJson) {
  AgentStatus s = full_status();
  static constexpr char kHostile[] = "bad \xff\xfe bytes \"quoted\"\n\x01";
  s.last_error->message = std::string(kHostile, sizeof kHostile - 1) + std::string(10000, 'x');
  const std::string text = status_to_json(s);
  auto back = parse_status(text);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_LE(back->last_error->message.size(), 4096u);
  EXPECT_THAT(back->last_error->message, HasSubstr("\"quoted\""));
}

TEST(StatusJson, HeartbeatRoundTrip) {
  const Heartbeat h{kT0, 4242, AgentState::kBackingOff};
  const std::string text = heartbeat_to_json(h);
  const nlohmann::json j = nlohmann::json::parse(text);
  EXPECT_EQ(j.at("state"), "backing-off");
  EXPECT_EQ(j.at("pid"), 4242);
  EXPECT_EQ(j.at("timestamp"), "2023-11-14T22:13:20Z");
  auto back = parse_heartbeat(text);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->timestamp, kT0);
  EXPECT_EQ(back->pid, 4242);
  EXPECT_EQ(back->state, AgentState::kBackingOff);
  for (AgentState s : {AgentState::kStarting, AgentState::kAttesting, AgentState::kWaiting, AgentState::kBackingOff,
                       AgentState::kStopping}) {
    EXPECT_EQ(parse_state(state_name(s)), s);
  }
  EXPECT_FALSE(parse_state("Waiting").has_value());
}

TEST(StatusJson, MalformedStatusNamesWhatIsWrong) {
  EXPECT_THAT(status_err(""), HasSubstr("not valid JSON"));
  EXPECT_THAT(status_err(status_to_json(full_status()).substr(0, 60)), HasSubstr("not valid JSON"));
  EXPECT_THAT(status_err("[]"), HasSubstr("expected an object"));
  EXPECT_THAT(status_err(status_with("tokenExpiry", "")), HasSubstr("tokenExpiry: missing"));
  EXPECT_THAT(status_err(status_with("extra", "1")), HasSubstr("extra: unknown key"));
  EXPECT_THAT(status_err(status_with("version", "2")), HasSubstr("version: expected 1, got 2"));
  EXPECT_THAT(status_err(status_with("version", "\"1\"")), HasSubstr("version: expected 1"));
  EXPECT_THAT(status_err(status_with("lastSuccessTime", "12")),
              HasSubstr("lastSuccessTime: expected a timestamp string, got number"));
  EXPECT_THAT(status_err(status_with("lastSuccessTime", "\"yesterday\"")), HasSubstr("lastSuccessTime: timestamp"));
  EXPECT_THAT(status_err(status_with("consecutiveFailures", "-1")),
              HasSubstr("consecutiveFailures: expected a non-negative integer, got -1"));
  EXPECT_THAT(status_err(status_with("consecutiveFailures", "1.5")), HasSubstr("consecutiveFailures: expected"));
  EXPECT_THAT(status_err(status_with("consecutiveFailures", "\"3\"")), HasSubstr("got string"));
  EXPECT_THAT(status_err(status_with("consecutiveFailures", "4294967296")), HasSubstr("larger than 4294967295"));
  EXPECT_THAT(status_err(status_with("lastError", "[]")), HasSubstr("lastError: expected an object or null"));
  EXPECT_THAT(status_err(status_with("lastError", R"({"time":"2023-11-14T22:13:20Z","reason":"x"})")),
              HasSubstr("lastError.message: missing"));
  EXPECT_THAT(status_err(status_with("lastError", R"({"time":"2023-11-14T22:13:20Z","reason":1,"message":""})")),
              HasSubstr("lastError.reason: expected a string, got number"));
  EXPECT_THAT(status_err(status_with("lastError", R"({"time":"now","reason":"","message":""})")),
              HasSubstr("lastError.time: timestamp"));
  EXPECT_THAT(status_err(R"({"version":1,"version":1})"), HasSubstr("version: duplicate key"));
  EXPECT_THAT(status_err(std::string(70, '[')), HasSubstr("nested deeper"));
  EXPECT_THAT(status_err(R"({"version":1,"consecutiveFailures":1E13377})"), HasSubstr("number overflow"));
  EXPECT_THAT(heartbeat_err("3E13377"), HasSubstr("not valid JSON"));
}

TEST(StatusJson, MalformedHeartbeatNamesWhatIsWrong) {
  const std::string good = heartbeat_to_json(Heartbeat{kT0, 7, AgentState::kWaiting});
  auto with = [&](const std::string& key, const std::string& v) {
    nlohmann::json j = nlohmann::json::parse(good);
    j[key] = nlohmann::json::parse(v);
    return j.dump();
  };
  EXPECT_THAT(heartbeat_err(with("pid", "0")), HasSubstr("pid: 0 is not a process id"));
  EXPECT_THAT(heartbeat_err(with("pid", "-5")), HasSubstr("pid: expected a non-negative integer"));
  EXPECT_THAT(heartbeat_err(with("pid", "99999999999")), HasSubstr("pid: 99999999999 is larger"));
  EXPECT_THAT(heartbeat_err(with("state", "\"sleeping\"")), HasSubstr("state: unknown state \"sleeping\""));
  EXPECT_THAT(heartbeat_err(with("state", "null")), HasSubstr("state: expected a string, got null"));
  EXPECT_THAT(heartbeat_err(with("timestamp", "null")), HasSubstr("timestamp: expected a timestamp string, got null"));
  EXPECT_THAT(heartbeat_err(R"({"version":1,"timestamp":"2023-11-14T22:13:20Z","pid":1})"), HasSubstr("state: missing"));
}

TEST(StatusFiles, WrittenAtomicallyWithMode0644WhateverTheUmask) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const mode_t old = ::umask(077);
  const fs::path p = dir.path() / "status.json";
  const Status w = write_status(p, full_status());
  ::umask(old);
  ASSERT_TRUE(w.ok()) << w.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  // Only the target remains: the temporary file was renamed, not left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
  auto back = read_status(p);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->consecutive_failures, 3u);

  // Rewriting replaces the content (rename over an existing file).
  AgentStatus s2;
  s2.consecutive_failures = 9;
  ASSERT_TRUE(write_status(p, s2).ok());
  EXPECT_EQ(read_status(p)->consecutive_failures, 9u);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(StatusFiles, HeartbeatFile) {
  TempDir dir;
  const fs::path p = dir.path() / "heartbeat.json";
  ASSERT_TRUE(write_heartbeat(p, Heartbeat{kT0, ::getpid(), AgentState::kAttesting}).ok());
  auto back = read_heartbeat(p);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->pid, ::getpid());
  EXPECT_EQ(back->state, AgentState::kAttesting);
}

TEST(StatusFiles, WriteIntoMissingDirectoryFailsNamingIt) {
  TempDir dir;
  const Status w = write_status(dir.path() / "nope" / "status.json", AgentStatus{});
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().reason, "status-write-failed");
  EXPECT_THAT(w.error().message, HasSubstr("nope"));
  EXPECT_THAT(w.error().message, HasSubstr("cannot create temporary file"));
}

TEST(StatusFiles, ReadersTolerateMissingAndRefuseMalformed) {
  TempDir dir;
  auto missing = read_status(dir.path() / "status.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().reason, "status-missing");
  EXPECT_THAT(missing.error().message, HasSubstr("no status file yet"));
  auto missing_hb = read_heartbeat(dir.path() / "heartbeat.json");
  ASSERT_FALSE(missing_hb.ok());
  EXPECT_EQ(missing_hb.error().reason, "status-missing");

  write_raw(dir.path() / "status.json", "{\"version\":1");
  auto bad = read_status(dir.path() / "status.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().reason, "status-malformed");
  EXPECT_THAT(bad.error().message, HasSubstr((dir.path() / "status.json").string()));

  write_raw(dir.path() / "status.json", std::string(70 * 1024, ' '));
  auto big = read_status(dir.path() / "status.json");
  ASSERT_FALSE(big.ok());
  EXPECT_THAT(big.error().message, HasSubstr("larger than"));
}

TEST(StatusReport, MissingFilesAreReportedNotFatal) {
  TempDir dir;
  auto r = status_report(dir.path() / "status.json", dir.path() / "heartbeat.json", kT0);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_THAT(*r, HasSubstr("heartbeat:            none"));
  EXPECT_THAT(*r, HasSubstr("status:               none"));
  EXPECT_THAT(*r, HasSubstr("no status file yet"));
}

TEST(StatusReport, ShowsBothFiles) {
  TempDir dir;
  ASSERT_TRUE(write_status(dir.path() / "status.json", full_status()).ok());
  ASSERT_TRUE(write_heartbeat(dir.path() / "heartbeat.json", Heartbeat{kT0 - 5s, 99, AgentState::kWaiting}).ok());
  auto r = status_report(dir.path() / "status.json", dir.path() / "heartbeat.json", kT0);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_THAT(*r, HasSubstr("2023-11-14T22:13:15Z (5 s ago), pid 99, waiting"));
  EXPECT_THAT(*r, HasSubstr("consecutive failures: 3"));
  EXPECT_THAT(*r, HasSubstr("[quote-nonce] quote nonce does not match the challenge"));
  EXPECT_THAT(*r, HasSubstr("next attempt:         2023-11-14T22:13:40Z (in 20 s)"));
  EXPECT_THAT(*r, HasSubstr("last success:         2023-11-14T18:13:20Z (14400 s ago)"));
  EXPECT_THAT(*r, ::testing::Not(HasSubstr("collection warning")));
  AgentStatus s = full_status();
  s.collection_warnings = {"/dev/kmsg: read failed: Invalid argument"};
  ASSERT_TRUE(write_status(dir.path() / "status.json", s).ok());
  r = status_report(dir.path() / "status.json", dir.path() / "heartbeat.json", kT0);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_THAT(*r, HasSubstr("collection warning:   /dev/kmsg: read failed: Invalid argument"));
}

TEST(StatusReport, MalformedFileIsAnError) {
  TempDir dir;
  ASSERT_TRUE(write_heartbeat(dir.path() / "heartbeat.json", Heartbeat{kT0, 1, AgentState::kWaiting}).ok());
  write_raw(dir.path() / "status.json", R"({"version":1})");
  auto r = status_report(dir.path() / "status.json", dir.path() / "heartbeat.json", kT0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "status-malformed");
  EXPECT_THAT(r.error().message, HasSubstr("missing"));
}

TEST(StatusReport, ControlCharactersInTheErrorAreNotPrinted) {
  TempDir dir;
  AgentStatus s = full_status();
  s.last_error->message = "evil \x1b[2Jclear";
  ASSERT_TRUE(write_status(dir.path() / "status.json", s).ok());
  auto r = status_report(dir.path() / "status.json", dir.path() / "heartbeat.json", kT0);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->find('\x1b'), std::string::npos);
  EXPECT_THAT(*r, HasSubstr("evil ?[2Jclear"));
}

}  // namespace
}  // namespace tl::agent
