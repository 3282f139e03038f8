// report_serialization.hpp — Boost.Serialization of RunReport, so that
// otasim-mpi can move reports between ranks. Binary archives carry doubles
// bit for bit. Totals and Series are written field by field from
// report_fields.hpp. `otasim-mpi self-test` checks that a report survives the
// round trip with report_json unchanged, and tests/models/test_report_fields.cpp
// that every listed field does.
#pragma once

#include <optional>
#include <string_view>

#include <boost/serialization/split_free.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>

#include "ota/models/report/report.hpp"
#include "ota/models/report/report_fields.hpp"

namespace boost::serialization {

// std::optional (Boost 1.74 serializes boost::optional only): a flag, then the value.
template <class A, class T>
void save(A& a, const std::optional<T>& o, unsigned) {
  const bool has = o.has_value();
  a << has;
  if (has) a << *o;
}
template <class A, class T>
void load(A& a, std::optional<T>& o, unsigned) {
  bool has = false;
  a >> has;
  if (!has) {
    o.reset();
    return;
  }
  T v{};
  a >> v;
  o = v;
}
template <class A, class T>
void serialize(A& a, std::optional<T>& o, unsigned version) {
  split_free(a, o, version);
}

// Totals, a by_link entry and Series: every field report_fields.hpp lists, in its order.
template <class A>
void serialize(A& a, ota::models::LinkTotals& l, unsigned) {
  ota::models::visit_link(l, [&a](std::string_view, auto& f, const ota::models::FieldInfo&) { a & f; });
}

template <class A>
void serialize(A& a, ota::models::Totals& t, unsigned) {
  ota::models::visit_totals(t, [&a](std::string_view, auto& f, const ota::models::FieldInfo&) { a & f; });
}

template <class A>
void serialize(A& a, ota::models::Series& s, unsigned) {
  ota::models::visit_series(s, [&a](std::string_view, auto& f, const ota::models::FieldInfo&) { a & f; });
}

template <class A>
void serialize(A& a, ota::models::RolloutEvent& e, unsigned) {
  a & e.t_s & e.stage & e.kind & e.reason & e.offered & e.reports & e.failures & e.rollbacks & e.crashes;
  a & e.exposure_days;
}

template <class A>
void serialize(A& a, ota::models::RolloutSummary& r, unsigned) {
  a & r.state & r.stages_opened & r.stopped_at_s & r.events;
}

template <class A>
void serialize(A& a, ota::models::RunInfo& r, unsigned) {
  a & r.seed & r.events & r.wall_s & r.bytes_per_device & r.peak_rss_bytes & r.status;
}

template <class A>
void serialize(A& a, ota::models::ReleaseInfo& r, unsigned) {
  a & r.image_bytes & r.patch_bytes & r.payload_bytes & r.delta_from_images;
}

template <class A>
void serialize(A& a, ota::models::RunReport& r, unsigned) {
  a & r.scenario & r.release & r.totals & r.rollout & r.series & r.run;
}

}  // namespace boost::serialization
