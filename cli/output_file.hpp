// output_file.hpp — a single output file (sweep --out, check --junit) checked
// before anything runs, so that a run that cannot write its result finds out
// in a second, not after hours, and exits 2 with nothing written.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace ota::cli {

// "" when `path` can be written (atomically, through a temporary file beside
// it), else why not, naming the flag and the path.
inline std::string output_file_problem(const std::string& flag, const std::string& path) {
  namespace fs = std::filesystem;
  const std::string what = flag + " '" + path + "'";
  if (path.empty()) return flag + ": the file name is empty";
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (fs::is_directory(st)) return what + ": is a directory (expected a file name)";
  if (fs::exists(st) && !fs::is_regular_file(st)) return what + ": exists and is not a regular file";
  const fs::path parent = fs::path(path).parent_path().empty() ? fs::path(".") : fs::path(path).parent_path();
  if (!fs::is_directory(parent, ec)) return what + ": the directory '" + parent.string() + "' does not exist";
  if (::access(parent.c_str(), W_OK | X_OK) != 0)
    return what + ": the directory '" + parent.string() + "' is not writable";
  return {};
}

}  // namespace ota::cli
