#include "agent/frequency.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tl::agent {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

std::string err(std::string_view text) {
  auto r = parse_frequency(text);
  if (r.ok()) return "accepted as " + std::to_string(r->count()) + " s";
  EXPECT_EQ(r.error().reason, "settings-bad-frequency");
  return r.error().message;
}

TEST(Frequency, EachUnit) {
  EXPECT_EQ(*parse_frequency("90S"), 90s);
  EXPECT_EQ(*parse_frequency("30M"), 30min);
  EXPECT_EQ(*parse_frequency("4H"), 4h);
  EXPECT_EQ(*parse_frequency("1D"), 24h);
  EXPECT_EQ(*parse_frequency("0004H"), 4h);
}

TEST(Frequency, Bounds) {
  EXPECT_EQ(*parse_frequency("30S"), kMinFrequency);
  EXPECT_EQ(*parse_frequency("7D"), kMaxFrequency);
  EXPECT_EQ(*parse_frequency("168H"), kMaxFrequency);
  EXPECT_THAT(err("29S"), HasSubstr("shorter than the minimum 30S"));
  EXPECT_THAT(err("8D"), HasSubstr("longer than the maximum 7D"));
  EXPECT_THAT(err("169H"), HasSubstr("longer than the maximum"));
  EXPECT_EQ(kDefaultFrequency, 8h);
}

TEST(Frequency, UnitIsCaseSensitive) {
  EXPECT_THAT(err("4h"), HasSubstr("unit must be upper case: write \"4H\""));
  EXPECT_THAT(err("30m"), HasSubstr("write \"30M\""));
}

TEST(Frequency, RefusesZeroNegativeAndGarbage) {
  EXPECT_THAT(err("0H"), HasSubstr("zero"));
  EXPECT_THAT(err("000S"), HasSubstr("zero"));
  EXPECT_THAT(err("-4H"), HasSubstr("negative"));
  EXPECT_THAT(err("+4H"), HasSubstr("does not start with a number"));
  EXPECT_THAT(err("4"), HasSubstr("missing unit"));
  EXPECT_THAT(err("H"), HasSubstr("does not start with a number"));
  EXPECT_THAT(err(""), HasSubstr("empty"));
  EXPECT_THAT(err("4HH"), HasSubstr("single unit letter"));
  EXPECT_THAT(err("4 H"), HasSubstr("single unit letter"));
  EXPECT_THAT(err(" 4H"), HasSubstr("does not start with a number"));
  EXPECT_THAT(err("1.5H"), HasSubstr("fractions"));
  EXPECT_THAT(err("4W"), HasSubstr("unknown unit"));
  EXPECT_THAT(err("4\xc3\x97"), HasSubstr("single unit letter"));
}

TEST(Frequency, RefusesOverflow) {
  EXPECT_THAT(err("9999999999D"), HasSubstr("too large"));
  EXPECT_THAT(err("99999999999999999999999999S"), HasSubstr("too large"));
  EXPECT_THAT(err("999999999D"), HasSubstr("longer than the maximum"));  // fits, out of bounds
  // A hostile long input is reported without echoing all of it.
  const std::string huge(100000, '9');
  const std::string m = err(huge + "S");
  EXPECT_THAT(m, HasSubstr("too large"));
  EXPECT_LT(m.size(), 200u);
}

TEST(Frequency, FormatRoundTrips) {
  EXPECT_EQ(format_frequency(4h), "4H");
  EXPECT_EQ(format_frequency(90s), "90S");
  EXPECT_EQ(format_frequency(30min), "30M");
  EXPECT_EQ(format_frequency(48h), "2D");
  for (const char* s : {"45S", "2M", "90M", "13H", "3D"}) EXPECT_EQ(format_frequency(*parse_frequency(s)), s);
}

}  // namespace
}  // namespace tl::agent
