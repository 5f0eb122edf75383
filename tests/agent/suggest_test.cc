#include "agent/suggest.h"

#include <gtest/gtest.h>

#include <array>
#include <string>

namespace tl::agent {
namespace {

constexpr std::array<std::string_view, 3> kKeys = {"maaEndpoint", "maaTenantName", "MaaSettings"};

TEST(EditDistance, Basics) {
  EXPECT_EQ(edit_distance("kitten", "sitting", 5), 3u);
  EXPECT_EQ(edit_distance("", "abc", 5), 3u);
  EXPECT_EQ(edit_distance("abc", "abc", 0), 0u);
  EXPECT_EQ(edit_distance("abc", "abd", 2), 1u);
}

TEST(EditDistance, StopsAboveTheLimit) {
  EXPECT_EQ(edit_distance("kitten", "sitting", 2), 3u);               // limit + 1
  EXPECT_EQ(edit_distance(std::string(10000, 'a'), "a", 2), 3u);      // length gap alone
  EXPECT_EQ(edit_distance(std::string(500, 'a'), std::string(500, 'b'), 2), 3u);
}

TEST(SuggestKey, CaseInsensitiveMatchWins) {
  EXPECT_EQ(suggest_key("MaaEndpoint", kKeys), "maaEndpoint");
  EXPECT_EQ(suggest_key("MAAENDPOINT", kKeys), "maaEndpoint");
  EXPECT_EQ(suggest_key("maasettings", kKeys), "MaaSettings");
}

TEST(SuggestKey, TyposWithinTwoEdits) {
  EXPECT_EQ(suggest_key("maaEndpont", kKeys), "maaEndpoint");     // one deletion
  EXPECT_EQ(suggest_key("MaaEndpiont", kKeys), "maaEndpoint");    // case + transposition (2 edits)
  EXPECT_EQ(suggest_key("maaTenantNme", kKeys), "maaTenantName");
}

TEST(SuggestKey, NothingCloseNoSuggestion) {
  EXPECT_FALSE(suggest_key("endpoint", kKeys).has_value());
  EXPECT_FALSE(suggest_key("", kKeys).has_value());
  EXPECT_FALSE(suggest_key(std::string(100000, 'm'), kKeys).has_value());
}

TEST(SuggestKey, TieGivesNoSuggestion) {
  constexpr std::array<std::string_view, 2> keys = {"abcd", "abce"};
  EXPECT_FALSE(suggest_key("abcf", keys).has_value());
}

}  // namespace
}  // namespace tl::agent
