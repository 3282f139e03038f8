// Running the built binaries from tests: exit status and output together.
#pragma once

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace ota::models::testing {

struct Outcome {
  int status = -1;
  std::string out;  // stdout and stderr, interleaved
};

inline Outcome sh(const std::string& cmd) {
  Outcome o;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) o.out.append(buf, n);
  const int rc = pclose(p);
  o.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return o;
}

inline std::string otasim() { return std::string(OTA_BIN_DIR) + "/otasim"; }

// A file's bytes ("" if it cannot be read).
inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// `name` under the temporary directory, emptied: removed, then created when
// `create`. Names must be unique across test files (ctest runs them at once).
inline std::filesystem::path fresh_path(const std::string& name, bool create) {
  const std::filesystem::path d = std::filesystem::temp_directory_path() / name;
  std::filesystem::remove_all(d);
  if (create) std::filesystem::create_directories(d);
  return d;
}

}  // namespace ota::models::testing
