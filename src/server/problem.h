// Errors as RFC 7807 problem details (application/problem+json). Each reason
// slug has one problem type "urn:trustlaunch:problem:<reason>", one HTTP status
// and one title; docs/errors.md lists them all.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "http/http.h"

namespace tl::server {

inline constexpr std::string_view kProblemTypePrefix = "urn:trustlaunch:problem:";

// HTTP status for a reason slug (403 for any verification rejection not listed).
int problem_status(std::string_view reason);
std::string problem_title(std::string_view reason);

// {"type","title","status","detail","reason"}; `detail` is the error message.
http::Response problem(std::string_view reason, std::string_view detail);
// From an Error; an error without a reason becomes `fallback_reason`.
http::Response problem(const Error& e, std::string_view fallback_reason);

}  // namespace tl::server
