// run_controller.hpp — runs a scenario on a worker thread so the window never
// blocks, with progress, partial reports (one replication) and cancel.
//
// One run at a time. Signals are always emitted on the thread that owns the
// controller (the GUI thread): the worker posts them through the event loop.
#pragma once

#include <QObject>
#include <QString>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "ota/models/batch/batch.hpp"
#include "ota/models/report/report.hpp"
#include "ota/models/scenario/scenario.hpp"

namespace ota::gui {

// A finished run: one report per replication (replication 0 first, the only
// one with time series when there are several).
struct RunResult {
  QString label;                 // what the planner calls the run (scenario name)
  models::Scenario scenario;
  std::vector<models::RunReport> reports;
  std::vector<std::uint64_t> seeds;
  double wall_s = 0;
  const models::RunReport& first() const { return reports.front(); }
  std::size_t replications() const { return reports.size(); }
};

enum class RunEnd : std::uint8_t {
  Completed,  // result holds the reports
  Cancelled,  // stopped by cancel(); no result
  Failed,     // set-up or run error; message says which
};

class RunController : public QObject {
  Q_OBJECT

 public:
  explicit RunController(QObject* parent = nullptr);
  ~RunController() override;  // cancels and joins a run still going

  // Starts a run of `scenario` (already validated) with `replications`
  // replications from the scenario's seed. Returns false if a run is going.
  bool start(const models::Scenario& scenario, std::size_t replications, const QString& label);
  // Asks the running replication(s) to stop; finished(Cancelled) follows.
  void cancel();
  bool running() const { return running_; }
  double last_progress() const { return last_progress_; }

 signals:
  void started();
  void progress(double fraction);  // of the horizon (of all replications), in [0, 1]
  // The report so far of a single-replication run (RunOptions::on_partial),
  // for live charts: totals now, series up to the last closed bin (later bins
  // zero). Throttled: a partial is dropped while the previous one is still
  // being handled, and posts are at least 100 ms apart (longer if handling
  // them is slow). Runs of several replications post none.
  void partial(std::shared_ptr<const ota::gui::RunResult> partial);
  void finished(ota::gui::RunEnd end, std::shared_ptr<const ota::gui::RunResult> result, QString message);

 private:
  void join();
  void post_progress(double fraction);
  void post_partial(const models::RunReport& report, const models::Scenario& scenario, const QString& label);

  std::thread worker_;
  std::atomic<bool> cancel_{false};
  bool running_ = false;
  double last_progress_ = 0;
  // Worker-side throttling of progress posts (touched by the worker only).
  double posted_fraction_ = -1;
  std::chrono::steady_clock::time_point posted_at_{};
  // Partial reports: set by the worker when it posts one, cleared by the GUI
  // thread once handled; the gap the GUI asks for between posts, ms.
  std::atomic<bool> partial_pending_{false};
  std::atomic<int> partial_gap_ms_{100};
  std::chrono::steady_clock::time_point partial_at_{};  // worker only
};

}  // namespace ota::gui
