#pragma once
// `status`: one command of both programs, `sqltrack-run status` and `sqltrack status`, with the
// same flags and the same output.

#include <string>
#include <string_view>
#include <vector>

namespace sqltrack::cli {

// The arguments after the word `status`, as in a usage line, and what it does.
inline constexpr std::string_view kStatusSynopsis =
    "[RUN_ID...] [-e NAME] [--status S] [--tag K=V] [--since D] [--sort COLUMN] [--watch]";
inline constexpr std::string_view kStatusSummary =
    "show where runs stand, newest first, as a table (or JSON lines)";

// `status` with `args`, the connection flags given before the word among them; PROGRAM names
// the program in its help and warnings.
int status_command(const std::vector<std::string>& args, std::string_view program);

}  // namespace sqltrack::cli
