// The update server and the idle-poll calendar on their own.
#include <catch2/catch.hpp>

#include <numeric>

#include "ota/models/delivery/idle_polls.hpp"
#include "ota/models/delivery/update_server.hpp"
#include "ota/sim/random.hpp"

using namespace ota::models;

TEST_CASE("server: concurrent-download limit, FIFO queue, queue limit", "[models][server]") {
  Server limits;
  limits.max_concurrent_downloads = 2;
  limits.queue_limit = 2;
  UpdateServer s(limits);
  CHECK(s.request_download(1, 1e6).slot == UpdateServer::Slot::Start);
  CHECK(s.request_download(2, 1e6).slot == UpdateServer::Slot::Start);
  CHECK(s.request_download(3, 1e6).slot == UpdateServer::Slot::Queued);
  CHECK(s.request_download(4, 1e6).slot == UpdateServer::Slot::Queued);
  CHECK(s.request_download(5, 1e6).slot == UpdateServer::Slot::Refused);
  auto next = s.finish_download(1);
  REQUIRE(next.size() == 1);
  CHECK(next[0].device == 3);  // first in, first out
  next = s.finish_download(2);
  REQUIRE(next.size() == 1);
  CHECK(next[0].device == 4);
  CHECK(s.queue_length() == 0);
  CHECK(s.active_downloads() == 2);

  Server unlimited_queue = limits;
  unlimited_queue.queue_limit = 0;  // 0 = no limit
  UpdateServer u(unlimited_queue);
  for (std::uint32_t d = 0; d < 100; ++d) CHECK(u.request_download(d, 1e6).slot != UpdateServer::Slot::Refused);
  CHECK(u.queue_length() == 98);
}

TEST_CASE("server: bandwidth never queues a download; only slots do", "[models][server]") {
  // The server's bandwidth is shared max-min fairly by the downloads holding a
  // slot (fair_share.hpp, tested there), so with no slot limit every request
  // starts at once, capped by its own link, however many are running.
  Server limits;
  limits.bandwidth_bps = 10e6;
  UpdateServer s(limits);
  ota::sim::RandomStream r(5, 0);
  for (std::uint32_t d = 0; d < 1000; ++d) {
    const double link = r.uniform(1e5, 4e6);
    const auto g = s.request_download(d, link);
    REQUIRE(g.slot == UpdateServer::Slot::Start);
    CHECK(g.rate_bps == link);
  }
  CHECK(s.active_downloads() == 1000);
  CHECK(s.queue_length() == 0);

  // With a slot limit, queued devices start in order with their own link rates.
  limits.max_concurrent_downloads = 1;
  UpdateServer one(limits);
  CHECK(one.request_download(1, 2e6, 0.0).slot == UpdateServer::Slot::Start);
  CHECK(one.request_download(2, 3e6, 0.5).slot == UpdateServer::Slot::Queued);
  const auto next = one.finish_download(1);
  REQUIRE(next.size() == 1);
  CHECK(next[0].device == 2);
  CHECK(next[0].rate_bps == 3e6);
  CHECK(next[0].since == 0.5);
}

TEST_CASE("server: request limit per one-second window", "[models][server]") {
  Server limits;
  limits.max_requests_per_s = 3;
  UpdateServer s(limits);
  CHECK(s.admit_request(10.1));
  CHECK(s.admit_request(10.2));
  CHECK(s.admit_request(10.3));
  CHECK_FALSE(s.admit_request(10.9));
  CHECK(s.admit_request(11.0));  // a new window
  // Idle polls accounted in aggregate take room: at 100 polls/s, half a second
  // into a window, a limit of 3 is almost surely full.
  UpdateServer busy(limits);
  CHECK(busy.admit_request(20.0, 100.0, 0.5));  // nothing yet at the window's start
  CHECK_FALSE(busy.admit_request(20.5, 100.0, 0.5));
  // ...and at a low rate almost surely not.
  UpdateServer quiet(limits);
  CHECK(quiet.admit_request(30.5, 0.01, 0.5));
}

TEST_CASE("idle-poll calendar: steady load, bursts that recur, and joiners", "[models][delivery]") {
  const double interval = 3600, jitter = 0.1;
  IdlePollCalendar cal(interval, jitter);
  cal.add_uniform(0, interval, 10000);
  CHECK(cal.total() == Approx(10000));
  double polls = 0;
  cal.advance(10 * interval, [&](double, double n) { polls += n; });
  CHECK(polls == Approx(10 * 10000).epsilon(0.01));  // one poll per device per interval
  CHECK(cal.total() == Approx(10000));
  CHECK(cal.rate_now() == Approx(10000 / interval).epsilon(0.05));

  // 1000 devices that finish together poll again together about an interval later.
  IdlePollCalendar burst(interval, jitter);
  burst.add_after_poll(0, 1000);
  std::vector<double> when;
  burst.advance(interval * 1.2, [&](double t, double n) {
    if (n > 1e-9) when.push_back(t);
  });
  REQUIRE(!when.empty());
  CHECK(when.front() >= interval * 0.9 - burst.bucket_s());
  CHECK(when.back() <= interval * 1.1 + burst.bucket_s());

  // Taking devices out draws their first polls from the calendar and shrinks it.
  ota::sim::RandomStream r(1, 0);
  const auto first = cal.take(500, [&] { return r.uniform(); });
  CHECK(first.size() == 500);
  CHECK(cal.total() == Approx(9500));
  for (double t : first) {
    CHECK(t >= 10 * interval - cal.bucket_s());
    CHECK(t <= 10 * interval + interval * 1.1 + cal.bucket_s());
  }
}
