#pragma once
// The process environment as a value, so that configuration and capture can be
// tested with a given environment instead of the real one.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sqltrack {

using Environment = std::map<std::string, std::string, std::less<>>;

// A copy of this process's environment (environ).
Environment current_environment();

// The value of name, or nullopt when unset.
std::optional<std::string> lookup(const Environment& env, std::string_view name);

// "KEY=value" strings, as execve wants them.
std::vector<std::string> to_entries(const Environment& env);

}  // namespace sqltrack
