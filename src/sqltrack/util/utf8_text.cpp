#include "sqltrack/util/utf8_text.hpp"

#include <array>
#include <cstdio>

namespace sqltrack {

namespace {

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD

bool is_continuation(unsigned char byte) {
  return (byte & 0xC0) == 0x80;
}

// The length of the well-formed sequence at text[i], or 0 with `valid_prefix`
// set to the length of its maximal ill-formed subpart (at least 1).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i, std::size_t& valid_prefix) {
  const auto lead = static_cast<unsigned char>(text[i]);
  std::size_t length = 0;
  unsigned char second_min = 0x80;
  unsigned char second_max = 0xBF;
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_min = 0xA0;  // overlong
    if (lead == 0xED) second_max = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_min = 0x90;  // overlong
    if (lead == 0xF4) second_max = 0x8F;  // above U+10FFFF
  } else {
    valid_prefix = 1;
    return 0;
  }

  valid_prefix = 1;
  for (std::size_t k = 1; k < length; ++k) {
    if (i + k >= text.size()) return 0;
    const auto byte = static_cast<unsigned char>(text[i + k]);
    const bool ok = k == 1 ? (byte >= second_min && byte <= second_max) : is_continuation(byte);
    if (!ok) return 0;
    ++valid_prefix;
  }
  return length;
}

}  // namespace

std::size_t utf8_sequence_at(std::string_view text, std::size_t i) {
  std::size_t valid_prefix = 0;
  return utf8_sequence_length(text, i, valid_prefix);
}

std::string to_valid_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  std::size_t i = 0;
  while (i < bytes.size()) {
    std::size_t valid_prefix = 0;
    const std::size_t length = utf8_sequence_length(bytes, i, valid_prefix);
    if (length > 0) {
      out.append(bytes.substr(i, length));
      i += length;
    } else {
      out.append(kReplacementCharacter);
      i += valid_prefix;
    }
  }
  return out;
}

bool is_valid_utf8(std::string_view bytes) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    std::size_t valid_prefix = 0;
    const std::size_t length = utf8_sequence_length(bytes, i, valid_prefix);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

namespace {

void append_escaped(std::string& out, std::string_view bytes) {
  for (char c : bytes) {
    std::array<char, 5> hex{};
    std::snprintf(hex.data(), hex.size(), "\\x%02x", static_cast<unsigned char>(c));
    out.append(hex.data(), 4);
  }
}

// C0 controls and DEL; C1 controls are U+0080..U+009F, in UTF-8 C2 80..C2 9F.
bool is_control(std::string_view sequence) {
  const auto lead = static_cast<unsigned char>(sequence[0]);
  if (sequence.size() == 1) return lead < 0x20 || lead == 0x7F;
  return sequence.size() == 2 && lead == 0xC2 && static_cast<unsigned char>(sequence[1]) < 0xA0;
}

}  // namespace

std::string escape_for_terminal(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  std::size_t i = 0;
  while (i < bytes.size()) {
    std::size_t valid_prefix = 0;
    const std::size_t length = utf8_sequence_length(bytes, i, valid_prefix);
    const std::string_view sequence = bytes.substr(i, length > 0 ? length : valid_prefix);
    if (length == 0 || is_control(sequence)) {
      append_escaped(out, sequence);
    } else {
      out.append(sequence);
    }
    i += sequence.size();
  }
  return out;
}

}  // namespace sqltrack
