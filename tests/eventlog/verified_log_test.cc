// verify_log(): placeholder until tpm::verify_quote lands (see report).
#include <gtest/gtest.h>

#include <type_traits>

#include "eventlog/verified_log.h"

namespace tl::eventlog {
namespace {

// The trust boundary is enforced by the compiler: only verify_log makes one.
static_assert(!std::is_default_constructible_v<VerifiedLog>);
static_assert(!std::is_constructible_v<VerifiedLog, ParsedLog>);
static_assert(!std::is_constructible_v<VerifiedLog, ParsedLog&&>);
static_assert(!std::is_copy_constructible_v<VerifiedLog>);
static_assert(!std::is_convertible_v<ParsedLog, VerifiedLog>);

}  // namespace
}  // namespace tl::eventlog
