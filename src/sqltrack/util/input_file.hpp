#pragma once
// Files a user names as input (a config file, a queue file for `sqltrack enqueue`): read
// whole, but only a regular file or a pipe (`-c <(...)`), and only up to a limit, so that a
// directory, /dev/zero or a huge file gives a clear error instead of a default or an
// exhausted memory.

#include <sys/stat.h>

#include <cstddef>
#include <filesystem>
#include <string>

namespace sqltrack {

struct InputFile {
  std::string bytes;
  struct stat info {};  // of the file that was read (owner, mode)
};

// Reads `path`. `description` names it in messages ("config file './sqltrack.conf' (found in
// the working directory)"). Throws sqltrack::Error: "cannot read DESCRIPTION: REASON",
// "DESCRIPTION is a directory, not a file", "... is not a regular file (a character
// device)", "... is larger than 1 MiB".
InputFile read_input_file(const std::filesystem::path& path, const std::string& description,
                          std::size_t limit);

// "1 MiB", "64 KiB", "100 bytes": a limit as messages give it.
std::string describe_size(std::size_t bytes);

}  // namespace sqltrack
