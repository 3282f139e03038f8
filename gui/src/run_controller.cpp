#include "ota/gui/run_controller.hpp"

#include <QMetaObject>

#include <algorithm>
#include <exception>
#include <new>

#include "ota/models/fleet/artifacts.hpp"
#include "ota/models/fleet/fleet_model.hpp"

namespace ota::gui {

RunController::RunController(QObject* parent) : QObject(parent) {}

RunController::~RunController() {
  cancel_ = true;
  join();
}

void RunController::join() {
  if (worker_.joinable()) worker_.join();
}

void RunController::cancel() {
  if (running_) cancel_ = true;
}

void RunController::post_progress(double fraction) {
  // Runs on the worker: post at most every 1/2 % or 100 ms, whichever is rarer,
  // so a fast run does not flood the event loop.
  const auto now = std::chrono::steady_clock::now();
  if (fraction < 1 && fraction - posted_fraction_ < 0.005 && now - posted_at_ < std::chrono::milliseconds(100)) return;
  if (fraction < 1 && now - posted_at_ < std::chrono::milliseconds(30)) return;
  posted_fraction_ = fraction;
  posted_at_ = now;
  QMetaObject::invokeMethod(
      this,
      [this, fraction] {
        if (!running_) return;  // a late post after the end
        last_progress_ = fraction;
        emit progress(fraction);
      },
      Qt::QueuedConnection);
}

void RunController::post_partial(const models::RunReport& report, const models::Scenario& scenario,
                                 const QString& label) {
  // Runs on the worker. Drop this one if the window has not drawn the last
  // yet, or if it came too soon after it: the run never waits for the UI.
  if (partial_pending_.load()) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - partial_at_ < std::chrono::milliseconds(partial_gap_ms_.load())) return;
  partial_at_ = now;
  partial_pending_ = true;
  auto result = std::make_shared<RunResult>();
  result->label = label;
  result->scenario = scenario;
  result->reports.push_back(report);
  result->seeds.push_back(report.run.seed);
  std::shared_ptr<const RunResult> shared = std::move(result);
  QMetaObject::invokeMethod(
      this,
      [this, shared] {
        if (running_) {
          const auto t0 = std::chrono::steady_clock::now();
          emit partial(shared);
          // Handling took d: ask for at least 3 d between posts, so drawing
          // takes at most a quarter of the GUI thread.
          const auto d = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
          partial_gap_ms_ = std::max(100, static_cast<int>(3 * d.count()));
        }
        partial_pending_ = false;
      },
      Qt::QueuedConnection);
}

bool RunController::start(const models::Scenario& scenario, std::size_t replications, const QString& label) {
  if (running_) return false;
  join();  // the previous worker has posted its end already; reap it
  running_ = true;
  cancel_ = false;
  last_progress_ = 0;
  posted_fraction_ = -1;
  posted_at_ = {};
  partial_pending_ = false;
  partial_gap_ms_ = 100;
  partial_at_ = {};
  if (replications < 1) replications = 1;
  emit started();
  emit progress(0);
  worker_ = std::thread([this, scenario, replications, label] {
    auto result = std::make_shared<RunResult>();
    result->label = label;
    result->scenario = scenario;
    RunEnd end = RunEnd::Completed;
    QString message;
    const auto t0 = std::chrono::steady_clock::now();
    try {
      const models::ReleaseArtifacts artifacts = models::prepare_artifacts(scenario);
      if (replications == 1) {
        models::RunOptions options;
        options.on_progress = [this](double f) { post_progress(f); };
        options.cancel = &cancel_;
        options.on_partial = [this, &scenario, &label](const models::RunReport& r) { post_partial(r, scenario, label); };
        result->reports.push_back(models::run_scenario(scenario, artifacts, options));
        result->seeds.push_back(result->reports.back().run.seed);
        if (cancel_ || result->reports.back().run.status == "cancelled") end = RunEnd::Cancelled;
      } else {
        models::BatchOptions options;
        options.on_progress = [this](double f) { post_progress(f); };
        options.cancel = &cancel_;
        options.keep_series = false;  // replication 0 keeps its series: the one the charts show
        // No partial reports: the table shows statistics over replications, which exist only at the end.
        auto reports = models::run_replications(scenario, artifacts, replications, std::nullopt, options);
        if (!reports || cancel_) {
          end = RunEnd::Cancelled;
        } else {
          result->reports = std::move(*reports);
          for (std::size_t r = 0; r < replications; ++r)
            result->seeds.push_back(models::replication_seed(scenario.seed, r));
        }
      }
    } catch (const models::ArtifactError& e) {
      end = RunEnd::Failed;
      message = QString::fromStdString(e.what());
    } catch (const std::bad_alloc&) {
      end = RunEnd::Failed;
      message = QStringLiteral("out of memory for %1 devices").arg(static_cast<qulonglong>(scenario.devices));
    } catch (const std::exception& e) {
      end = RunEnd::Failed;
      message = QStringLiteral("internal error: %1").arg(QString::fromStdString(e.what()));
    }
    result->wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::shared_ptr<const RunResult> done;
    if (end == RunEnd::Completed) done = std::move(result);
    QMetaObject::invokeMethod(
        this,
        [this, end, done, message] {
          running_ = false;
          if (end == RunEnd::Completed) {
            last_progress_ = 1;
            emit progress(1);
          }
          emit finished(end, done, message);
        },
        Qt::QueuedConnection);
  });
  return true;
}

}  // namespace ota::gui
