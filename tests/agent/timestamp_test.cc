#include "agent/timestamp.h"

#include <gtest/gtest.h>

namespace tl::agent {
namespace {

using namespace std::chrono;

TEST(Timestamp, FormatsUtcWholeSeconds) {
  EXPECT_EQ(format_timestamp(system_clock::time_point{}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_timestamp(system_clock::time_point{seconds{1'700'000'000} + milliseconds{999}}),
            "2023-11-14T22:13:20Z");
  EXPECT_EQ(format_timestamp(sys_days{year{2024} / February / 29} + hours{23} + minutes{59} + seconds{59}),
            "2024-02-29T23:59:59Z");
}

TEST(Timestamp, RoundTrips) {
  for (int64_t t : {int64_t{0}, int64_t{951782400}, int64_t{1'700'000'000}, int64_t{4102444799}}) {
    const system_clock::time_point tp{seconds{t}};
    auto back = parse_timestamp(format_timestamp(tp));
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(*back, tp);
  }
}

TEST(Timestamp, RefusesOtherForms) {
  for (const char* bad : {"", "2023-11-14", "2023-11-14T22:13:20", "2023-11-14T22:13:20z", "2023-11-14 22:13:20Z",
                          "2023-11-14T22:13:20.5Z", "2023-11-14T22:13:20+00:00", "2023-13-01T00:00:00Z",
                          "2023-02-29T00:00:00Z", "2023-11-31T00:00:00Z", "2023-11-14T24:00:00Z",
                          "2023-11-14T23:60:00Z", "2023-11-14T23:59:60Z", "1969-12-31T23:59:59Z",
                          "+023-11-14T22:13:20Z", "2023-1a-14T22:13:20Z"}) {
    EXPECT_FALSE(parse_timestamp(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace tl::agent
