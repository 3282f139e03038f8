// Running the built binaries from tests: exit status and output together.
#pragma once

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
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

}  // namespace ota::models::testing
