#include "sqltrack/db/sql_text.hpp"

#include <cctype>

namespace sqltrack::db {

std::string_view skip_sql_comments(std::string_view text, bool semicolons) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (std::isspace(static_cast<unsigned char>(text[i])) || (semicolons && text[i] == ';')) {
      ++i;
    } else if (text.compare(i, 2, "--") == 0) {
      auto end = text.find('\n', i);
      i = end == std::string_view::npos ? text.size() : end + 1;
    } else if (text.compare(i, 2, "/*") == 0) {
      auto end = text.find("*/", i + 2);
      i = end == std::string_view::npos ? text.size() : end + 2;
    } else {
      break;
    }
  }
  return text.substr(i);
}

}  // namespace sqltrack::db
