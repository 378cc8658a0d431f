#pragma once
// Text for a terminal without a terminfo library: widths of UTF-8 text, and the plain ANSI
// escapes (understood by every terminal emulator, tmux and screen) that redraw a screen in place.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sqltrack {

// Columns a UTF-8 text takes: one per code point. Wide (CJK) and combining characters are
// not told apart: the tables hold ASCII, block characters and, rarely, names in other scripts.
std::size_t display_width(std::string_view text);

// The longest prefix of at most `columns` columns; never cuts a UTF-8 sequence.
std::string_view truncate_to_width(std::string_view text, std::size_t columns);

// Text from the database made safe to print: control characters (escapes that could move the
// cursor or retitle the window, tabs, newlines) become '?'.
std::string printable(std::string_view text);

struct TerminalSize {
  std::size_t columns = 80;
  std::size_t rows = 24;
};

// The size of the terminal on `fd` (TIOCGWINSZ); nullopt when fd is not a terminal or the
// terminal does not say.
std::optional<TerminalSize> terminal_size(int fd);

// Escapes for a full-screen view: the alternate screen (the shell's screen comes back on
// leaving) with the cursor hidden, and the way back.
inline constexpr std::string_view kEnterFullScreen = "\x1b[?1049h\x1b[?25l";
inline constexpr std::string_view kLeaveFullScreen = "\x1b[?1049l\x1b[?25h";

// The bytes that replace the screen's content by `lines` without clearing it first (so it
// never flickers): cursor home, each line cut to the width and followed by erase-to-end-of-
// line (when it is shorter than the row), then erase below. At most `rows` lines; when there are
// more, the last row says how many were left out. No newline after the last row, so the screen
// never scrolls.
std::string redraw_screen(const std::vector<std::string>& lines, TerminalSize size);

}  // namespace sqltrack
