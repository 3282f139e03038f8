// progress_bar.hpp — progress with an honest ETA on stderr, for the otasim
// commands that run for a while (`--progress auto|bar|lines|none`):
//  - bar:   one line redrawn in place (a terminal);
//  - lines: a plain line every 10 s (logs, CI), and when asked for by name
//           also one at the start and one at the end;
//  - auto:  bar on a terminal, else lines every 10 s without the start and
//           end lines (so short runs in pipes and scripts print nothing);
//  - none:  nothing.
// The time left is shown only once it can be estimated: after 1 % of the work
// and a second of it; before that it says so instead of "0 s".
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>

#include <boost/program_options.hpp>

#include "ota/models/report/text.hpp"

namespace ota::cli {

enum class ProgressMode { Auto, Bar, Lines, None };

// The mode --progress chose, for the whole process (default auto).
inline ProgressMode& progress_mode() {
  static ProgressMode mode = ProgressMode::Auto;
  return mode;
}

inline std::optional<ProgressMode> parse_progress_mode(const std::string& text) {
  if (text == "auto") return ProgressMode::Auto;
  if (text == "bar") return ProgressMode::Bar;
  if (text == "lines") return ProgressMode::Lines;
  if (text == "none") return ProgressMode::None;
  return std::nullopt;
}

// Adds --progress to a command's options; after parsing, apply_progress_option
// sets the mode or returns the error message naming the flag.
inline void add_progress_option(boost::program_options::options_description& opts, std::string& value) {
  opts.add_options()("progress", boost::program_options::value(&value)->default_value("auto"),
                     "progress on stderr: auto (a bar on a terminal, else a line every 10 s), bar, lines, none");
}
inline std::string apply_progress_option(const std::string& value) {
  const auto mode = parse_progress_mode(value);
  if (!mode) return "the argument ('" + value + "') for option '--progress' is invalid: use auto, bar, lines or none";
  progress_mode() = *mode;
  return {};
}

// Call with the fraction done, in [0, 1]; not thread-safe (run_batch serialises
// its progress calls).
class ProgressBar {
 public:
  using Clock = std::function<double()>;  // seconds, monotonic

  explicit ProgressBar(std::string label = "otasim", ProgressMode mode = progress_mode(), std::FILE* out = stderr,
                       Clock clock = {})
      : label_(std::move(label)), out_(out), clock_(clock ? std::move(clock) : steady_seconds) {
    explicit_lines_ = mode == ProgressMode::Lines;
    if (mode == ProgressMode::Auto) mode = isatty(STDERR_FILENO) == 1 ? ProgressMode::Bar : ProgressMode::Lines;
    mode_ = mode;
    start_ = clock_();
    next_line_ = start_ + kLineEvery;
    if (explicit_lines_) {
      std::fprintf(out_, "%s: started\n", label_.c_str());
      std::fflush(out_);
    }
  }

  void operator()(double f) {
    if (mode_ == ProgressMode::None || finished_) return;
    const double now = clock_();
    const double elapsed = now - start_;
    const bool done = f >= 1.0;
    if (mode_ == ProgressMode::Bar) {
      const int width = 40;
      const int filled = static_cast<int>(f * width);
      const std::string tail = done ? "done in " + seconds(elapsed) : left(f, elapsed);
      std::fprintf(out_, "\r[%.*s%*s] %5.1f%%  %-28s", filled, "########################################",
                   width - filled, "", f * 100, tail.c_str());
      if (done) std::fprintf(out_, "\n");
    } else {
      if (now >= next_line_ || (done && explicit_lines_)) {
        if (done)
          std::fprintf(out_, "%s: 100%% done in %s\n", label_.c_str(), seconds(elapsed).c_str());
        else
          std::fprintf(out_, "%s: %.1f%% after %s, %s\n", label_.c_str(), f * 100, seconds(elapsed).c_str(),
                       left(f, elapsed).c_str());
        while (next_line_ <= now) next_line_ += kLineEvery;
      }
    }
    finished_ = done;
    std::fflush(out_);
  }

 private:
  static constexpr double kLineEvery = 10.0;

  static double steady_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  static std::string seconds(double s) { return models::human_duration(s); }
  // The time left, once 1 % of the work and a second of it give a rate.
  static std::string left(double f, double elapsed) {
    if (f < 0.01 || elapsed < 1.0) return "time left not known yet";
    return "about " + seconds(elapsed * (1 - f) / f) + " left";
  }

  std::string label_;
  std::FILE* out_;
  Clock clock_;
  ProgressMode mode_ = ProgressMode::None;
  bool explicit_lines_ = false;
  bool finished_ = false;
  double start_ = 0;
  double next_line_ = 0;
};

}  // namespace ota::cli
