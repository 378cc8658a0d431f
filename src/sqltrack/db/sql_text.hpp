#pragma once
// Reading SQL scripts: where a statement's text begins.

#include <string_view>

namespace sqltrack::db {

// `text` after its leading blanks and SQL comments (`--` to the end of the line, `/* */`);
// with `semicolons`, the `;` of empty statements are skipped too.
std::string_view skip_sql_comments(std::string_view text, bool semicolons = false);

}  // namespace sqltrack::db
