// interrupt.hpp — SIGINT, SIGTERM and SIGHUP end an otasim command with a
// message instead of silently: what was interrupted, that nothing of this run
// was written and that the previous results are kept, and the output
// directory's lock file is removed. While a result set is being written
// (DeferInterrupts) a signal waits until it is whole. Exit status 128 + the
// signal's number, as a shell reports a death by signal.
// A signal the process inherited as ignored (a background job of a
// non-interactive shell ignores SIGINT; nohup ignores SIGHUP) stays ignored.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace ota::cli {

namespace interrupt_detail {
inline char command[64] = "otasim";
inline char out_dir[1024] = "";
inline char lock_path[1100] = "";
inline volatile sig_atomic_t defer = 0;
inline volatile sig_atomic_t pending = 0;

inline void put(const char* s) {
  const std::size_t n = std::strlen(s);
  std::size_t done = 0;
  while (done < n) {
    const ssize_t w = ::write(STDERR_FILENO, s + done, n - done);
    if (w <= 0) return;
    done += static_cast<std::size_t>(w);
  }
}

// Async-signal-safe only: write, unlink, _exit.
inline void finish(int sig, bool written = false) {
  put("\n");
  put(command);
  put(sig == SIGINT ? ": interrupted (SIGINT)" : sig == SIGTERM ? ": interrupted (SIGTERM)" : ": interrupted (SIGHUP)");
  if (written) {
    put(" while writing its results; they were written whole first");
  } else if (out_dir[0] != '\0') {
    put("; nothing of this run was written, the previous results in '");
    put(out_dir);
    put("' are kept");
  }
  put("\n");
  if (lock_path[0] != '\0') ::unlink(lock_path);
  ::_exit(128 + sig);
}

inline void on_signal(int sig) {
  if (defer) {
    pending = sig;
    return;
  }
  finish(sig);
}

inline void copy(char* to, std::size_t size, const std::string& from) {
  if (from.size() >= size) {
    to[0] = '\0';
    return;
  }
  std::memcpy(to, from.c_str(), from.size() + 1);
}
}  // namespace interrupt_detail

// Installs the handlers; `command` names the command in the message.
inline void install_interrupt_handlers(const std::string& command) {
  interrupt_detail::copy(interrupt_detail::command, sizeof interrupt_detail::command, command);
  for (const int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
    struct sigaction sa {};
    sa.sa_handler = interrupt_detail::on_signal;
    sigemptyset(&sa.sa_mask);
    ::sigaction(sig, &sa, nullptr);
  }
}

// The output directory (named in the message) and its lock file (removed).
inline void interrupt_cleans(const std::string& out_dir, const std::string& lock_path) {
  interrupt_detail::lock_path[0] = '\0';
  interrupt_detail::copy(interrupt_detail::out_dir, sizeof interrupt_detail::out_dir, out_dir);
  interrupt_detail::copy(interrupt_detail::lock_path, sizeof interrupt_detail::lock_path, lock_path);
}

// While alive, a signal waits; at its end, a signal that came meanwhile ends
// the process (after the result set is whole, so the message differs).
class DeferInterrupts {
 public:
  DeferInterrupts() { interrupt_detail::defer = 1; }
  ~DeferInterrupts() {
    interrupt_detail::defer = 0;
    if (const int sig = interrupt_detail::pending; sig != 0) interrupt_detail::finish(sig, true);
  }
  DeferInterrupts(const DeferInterrupts&) = delete;
  DeferInterrupts& operator=(const DeferInterrupts&) = delete;
};

}  // namespace ota::cli
