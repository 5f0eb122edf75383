// Subcommands of `tlaunch`. Each takes the arguments after its name and returns
// the process exit code (0 success, 1 verification failed, 2 bad input/usage).
#pragma once

#include <string>
#include <vector>

namespace tl::cli {

using Args = std::vector<std::string>;

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // input well-formed but a check failed
inline constexpr int kExitBadInput = 2;

int eventlog_inspect(const Args& args);  // src/cli/eventlog_inspect.cc
int quote_verify(const Args& args);      // src/cli/quote_verify.cc

}  // namespace tl::cli
