// progress_bar.hpp — a progress bar with ETA on stderr, for the otasim commands
// that run for a while. Quiet unless stderr is a terminal, so logs and pipes
// stay clean.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace ota::cli {

// Call with the fraction done, in [0, 1]; not thread-safe (run_batch serialises
// its progress calls).
class ProgressBar {
 public:
  ProgressBar() : enabled_(isatty(STDERR_FILENO) == 1), start_(std::chrono::steady_clock::now()) {}

  void operator()(double f) {
    if (!enabled_ || finished_) return;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double eta = f > 0.001 ? elapsed * (1 - f) / f : 0;
    const int width = 40;
    const int filled = static_cast<int>(f * width);
    std::fprintf(stderr, "\r[%.*s%*s] %5.1f%%  ETA %5.1fs", filled, "########################################",
                 width - filled, "", f * 100, eta);
    if (f >= 1.0) {
      std::fprintf(stderr, "\n");
      finished_ = true;
    }
    std::fflush(stderr);
  }

 private:
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace ota::cli
