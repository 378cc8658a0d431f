#include "sqltrack/util/terminal_text.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sqltrack {
namespace {

TEST(TerminalText, DisplayWidthCountsCodePointsNotBytes) {
  EXPECT_EQ(display_width("RUNNING"), 7u);
  EXPECT_EQ(display_width("▁▂▃"), 3u);
  EXPECT_EQ(display_width("café"), 4u);
  EXPECT_EQ(display_width(""), 0u);
}

TEST(TerminalText, TruncationNeverCutsAUtf8Sequence) {
  EXPECT_EQ(truncate_to_width("abcdef", 4), "abcd");
  EXPECT_EQ(truncate_to_width("ab▁▂▃", 3), "ab▁");
  EXPECT_EQ(truncate_to_width("▁▂▃", 0), "");
  EXPECT_EQ(truncate_to_width("short", 80), "short");
}

TEST(TerminalText, ControlCharactersFromTheDatabaseBecomeQuestionMarks) {
  EXPECT_EQ(printable("exp\x1b[2J\tname\n\x7f"), "exp?[2J?name??");
  EXPECT_EQ(printable("naïve ▁"), "naïve ▁") << "UTF-8 is left alone";
}

TEST(TerminalText, RedrawGoesHomeErasesEachLineAndBelowWithoutScrolling) {
  std::string frame = redraw_screen({"title", "", "RUN  STATUS"}, {40, 10});
  EXPECT_EQ(frame, "\x1b[Htitle\x1b[K\r\n\x1b[K\r\nRUN  STATUS\x1b[K\x1b[J");
  EXPECT_EQ(frame.find("\x1b[2J"), std::string::npos) << "never clears the whole screen";
}

TEST(TerminalText, RedrawCutsLinesToTheWidth) {
  std::string frame = redraw_screen({"0123456789", "▁▂▃▄▅▆▇█"}, {6, 10});
  EXPECT_EQ(frame, "\x1b[H012345\r\n▁▂▃▄▅▆\x1b[J") << "a full row gets no erase-to-end-of-line";
}

TEST(TerminalText, RedrawSaysHowManyLinesDidNotFit) {
  std::vector<std::string> lines;
  for (int i = 0; i < 10; ++i) lines.push_back("line " + std::to_string(i));
  std::string frame = redraw_screen(lines, {40, 4});
  EXPECT_EQ(frame,
            "\x1b[Hline 0\x1b[K\r\nline 1\x1b[K\r\nline 2\x1b[K\r\n... 7 more lines\x1b[K\x1b[J");
}

}  // namespace
}  // namespace sqltrack
