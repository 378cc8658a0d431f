#include "sqltrack/util/terminal_text.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

namespace sqltrack {
namespace {

bool is_continuation_byte(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

}  // namespace

std::size_t display_width(std::string_view text) {
  std::size_t width = 0;
  for (char c : text) {
    if (!is_continuation_byte(c)) ++width;
  }
  return width;
}

std::string_view truncate_to_width(std::string_view text, std::size_t columns) {
  std::size_t width = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (is_continuation_byte(text[i])) continue;
    if (width == columns) return text.substr(0, i);
    ++width;
  }
  return text;
}

std::string printable(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F) c = '?';
  }
  return out;
}

std::optional<TerminalSize> terminal_size(int fd) {
  winsize size{};
  if (ioctl(fd, TIOCGWINSZ, &size) != 0 || size.ws_col == 0 || size.ws_row == 0) {
    return std::nullopt;
  }
  return TerminalSize{size.ws_col, size.ws_row};
}

std::string redraw_screen(const std::vector<std::string>& lines, TerminalSize size) {
  std::string out = "\x1b[H";
  std::size_t shown = std::min(lines.size(), size.rows);
  for (std::size_t i = 0; i < shown; ++i) {
    std::string left_out;
    if (i + 1 == shown && shown < lines.size()) {
      left_out = "... " + std::to_string(lines.size() - i) + " more lines";
    }
    const std::string& line = left_out.empty() ? lines[i] : left_out;
    std::string_view cut = truncate_to_width(line, size.columns);
    out += cut;
    // A full row needs no erase: at the last column, some terminals would erase that column.
    if (display_width(cut) < size.columns) out += "\x1b[K";
    if (i + 1 < shown) out += "\r\n";
  }
  out += "\x1b[J";
  return out;
}

}  // namespace sqltrack
