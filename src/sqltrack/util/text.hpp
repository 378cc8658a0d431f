#pragma once
// Small text helpers every folder needs, in one copy: trimming, one-line messages and the
// wrapper's warning line.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sqltrack {

// `text` without leading and trailing blanks (space, tab, CR, LF).
std::string_view trim(std::string_view text);

// `text` as one line of stderr or one comment line: CR, LF and tab become spaces, trailing
// blanks go; past `limit` bytes it is cut and ends in "...".
std::string one_line(std::string_view text, std::size_t limit = std::string_view::npos);

// A count and its noun, the noun plural unless the count is 1: "1 run", "0 runs", "2 runs".
// `plural` for a noun whose plural is not the noun with an "s".
std::string counted(std::uint64_t count, std::string_view noun, std::string_view plural = {});

// Appends `c` as its backslash escape (\\ \n \r \t), as C, JSON, the metric line protocol
// and PostgreSQL's COPY text all write it, and returns true; false for any other byte.
bool append_backslash_escape(std::string& out, char c);

// "sqltrack-run: warning: MESSAGE" on stderr as one line, in one write() so that the wrapper's
// lines and the job's do not interleave mid-line.
void warn(std::string_view message);

}  // namespace sqltrack
