#pragma once
// Bytes that should be UTF-8 text (argv, environment, files given by users) made safe to store
// as JSON or to print in a message.

#include <cstddef>
#include <string>
#include <string_view>

namespace sqltrack {

// The text with every ill-formed UTF-8 sequence (stray continuation bytes,
// truncated or overlong sequences, surrogates, > U+10FFFF) replaced by U+FFFD,
// one per maximal ill-formed subpart as Unicode recommends. Valid text is
// returned unchanged. argv, environment and paths are bytes, not text: a
// Latin-1 file name must not make the run unrecordable.
std::string to_valid_utf8(std::string_view bytes);

// The length of the well-formed UTF-8 sequence that starts at text[i] (1 for ASCII), or 0 when
// none does (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence_at(std::string_view text, std::size_t i);

// Whether the bytes are well-formed UTF-8 (no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view bytes);

// The text with what a terminal would act on or show wrongly written as \xNN, byte by byte:
// control characters (C0, DEL, C1) and bytes that are not well-formed UTF-8. A backslash
// stays as it is. Well-formed printable text is returned unchanged.
std::string escape_for_terminal(std::string_view bytes);

}  // namespace sqltrack
