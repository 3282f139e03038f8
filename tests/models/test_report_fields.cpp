// The report's field list (report_fields.hpp) against everything that handles
// report fields. Nothing here names a field: every field of the list gets a
// distinctive value, and must come out of report.json (in list order),
// series.csv, the metric list, the shard merge (by its merge rule) and
// otasim-mpi's serialization.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "fleet_fixture.hpp"
#include "ota/models/report/metrics.hpp"
#include "ota/models/report/report_fields.hpp"

#if OTA_HAVE_REPORT_SERIALIZATION
#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>

#include "mpi/report_serialization.hpp"
#endif

using namespace ota::models;

namespace {

template <class T>
struct IsVector : std::false_type {};
template <class T>
struct IsVector<std::vector<T>> : std::true_type {};

template <class F>
using Plain = std::remove_cvref_t<F>;

constexpr std::size_t kBins = 3;

// Field number `i` of shard `shard`: a value no other field or shard has
// (exact in a double, and sums of two of them too).
template <class F>
void set_distinct(F& f, std::size_t shard, std::size_t i) {
  const double base = 1e6 * static_cast<double>(shard) + 10.0 * static_cast<double>(i);
  if constexpr (std::is_same_v<F, std::uint64_t>) {
    f = static_cast<std::uint64_t>(base) + 7;
  } else if constexpr (std::is_same_v<F, double> || std::is_same_v<F, std::optional<double>>) {
    f = base + 0.25;
  } else if constexpr (std::is_same_v<F, std::vector<LinkTotals>>) {
    // Shard 1 has links a and b, shard 2 has b and c: one shared, one each.
    const char* names[2][2] = {{"link-a", "link-b"}, {"link-b", "link-c"}};
    f.clear();
    for (std::size_t k = 0; k < 2; ++k) {
      LinkTotals l;
      std::size_t j = 0;
      visit_link(l, [&](std::string_view, auto& x, const FieldInfo&) {
        using X = Plain<decltype(x)>;
        if constexpr (std::is_same_v<X, std::string>)
          x = names[shard % 2][k];
        else
          set_distinct(x, shard, 100 * (i + 1) + 10 * k + j);
        ++j;
      });
      f.push_back(l);
    }
  } else if constexpr (IsVector<F>::value) {
    f.resize(kBins);
    for (std::size_t b = 0; b < kBins; ++b) set_distinct(f[b], shard, 1000 * (i + 1) + b);
  } else {
    static_assert(sizeof(F) == 0, "a field type the test does not know");
  }
}

RunReport distinct_report(std::size_t shard) {
  RunReport r;
  r.scenario = "fields";
  std::size_t i = 0;
  visit_totals(r.totals, [&](std::string_view, auto& f, const FieldInfo&) { set_distinct(f, shard, i++); });
  visit_series(r.series, [&](std::string_view, auto& f, const FieldInfo&) { set_distinct(f, shard, i++); });
  return r;
}

using Json = nlohmann::ordered_json;

// What report.json holds for a field.
template <class F>
Json expected_json(const F& f) {
  if constexpr (std::is_same_v<F, std::optional<double>>) {
    return f ? Json(*f) : Json(nullptr);
  } else if constexpr (std::is_same_v<F, std::vector<LinkTotals>>) {
    Json a = Json::array();
    for (const LinkTotals& l : f) {
      Json e = Json::object();
      visit_link(l, [&](std::string_view name, const auto& x, const FieldInfo&) { e[std::string(name)] = x; });
      a.push_back(e);
    }
    return a;
  } else {
    return Json(f);
  }
}

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out(1);
  for (char c : line) {
    if (c == sep)
      out.emplace_back();
    else
      out.back() += c;
  }
  return out;
}

std::string cell(double v) {
  std::ostringstream os;
  os.precision(10);
  os << v;
  return os.str();
}

bool same_links(const std::vector<LinkTotals>& a, const std::vector<LinkTotals>& b) {
  return expected_json(a) == expected_json(b);
}

}  // namespace

TEST_CASE("report fields: the visitor reaches the report's own fields, each under its own name", "[models][report]") {
  // A visitor that handed out copies would leave the report as it was.
  const RunReport r = distinct_report(1), plain;
  std::vector<std::string> names;
  visit_totals_zip(
      [&](std::string_view name, const FieldInfo&, const auto& x, const auto& y) {
        INFO("totals." << name);
        names.emplace_back(name);
        CHECK(expected_json(x) != expected_json(y));
      },
      r.totals, plain.totals);
  const std::size_t totals = names.size();
  visit_series_zip(
      [&](std::string_view name, const FieldInfo&, const auto& x, const auto& y) {
        INFO("series." << name);
        names.emplace_back(name);
        CHECK(x != y);
      },
      r.series, plain.series);
  std::sort(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(totals));
  std::sort(names.begin() + static_cast<std::ptrdiff_t>(totals), names.end());
  CHECK(std::adjacent_find(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(totals)) ==
        names.begin() + static_cast<std::ptrdiff_t>(totals));
  CHECK(std::adjacent_find(names.begin() + static_cast<std::ptrdiff_t>(totals), names.end()) == names.end());
}

TEST_CASE("report fields: every listed total and column is in report.json, in list order", "[models][report]") {
  const RunReport r = distinct_report(1);
  const Json j = Json::parse(report_json(r));
  std::vector<std::string> listed;
  visit_totals(r.totals, [&](std::string_view name, const auto& f, const FieldInfo&) {
    INFO("totals." << name);
    listed.emplace_back(name);
    REQUIRE(j["totals"].contains(std::string(name)));
    CHECK(j["totals"][std::string(name)] == expected_json(f));
  });
  std::vector<std::string> written;
  for (const auto& [key, value] : j["totals"].items()) written.push_back(key);
  CHECK(written == listed);  // nothing else, and in the list's order

  listed.clear();
  visit_series(r.series, [&](std::string_view name, const auto& f, const FieldInfo&) {
    INFO("series." << name);
    listed.emplace_back(name);
    REQUIRE(j["series"].contains(std::string(name)));
    CHECK(j["series"][std::string(name)] == Json(f));
  });
  written.clear();
  for (const auto& [key, value] : j["series"].items()) written.push_back(key);
  CHECK(written == listed);
}

TEST_CASE("report fields: every series column is in series.csv", "[models][report]") {
  const RunReport r = distinct_report(1);
  const std::vector<std::string> lines = split(series_csv(r.series), '\n');
  REQUIRE(lines.size() == kBins + 2);  // header, bins, and the empty string after the last newline
  const std::vector<std::string> header = split(lines[0], ',');
  std::size_t column = 0;
  visit_series(r.series, [&](std::string_view name, const auto& f, const FieldInfo&) {
    if constexpr (IsVector<Plain<decltype(f)>>::value) {
      INFO("column " << name);
      REQUIRE(column < header.size());
      CHECK(header[column] == std::string(name));
      for (std::size_t b = 0; b < kBins; ++b) {
        const std::vector<std::string> row = split(lines[1 + b], ',');
        REQUIRE(row.size() == header.size());
        CHECK(row[column] == cell(static_cast<double>(f[b])));
      }
      ++column;
    }
  });
  CHECK(column == header.size());
}

TEST_CASE("report fields: every total count and amount is a metric with the field's value", "[models][metrics]") {
  const RunReport r = distinct_report(1);
  std::vector<std::string> names;
  for (const MetricInfo& m : metrics()) names.push_back(m.name);
  std::size_t as_metrics = 0;
  visit_totals(r.totals, [&](std::string_view name, const auto& f, const FieldInfo& info) {
    using F = Plain<decltype(f)>;
    INFO("totals." << name);
    if (info.kind == FieldKind::Count || info.kind == FieldKind::Amount) CHECK(info.description != nullptr);
    if (!info.description) return;
    ++as_metrics;
    CHECK(std::count(names.begin(), names.end(), std::string(name)) == 1);
    const std::optional<double> value = metric_value(r, name);
    REQUIRE(value.has_value());
    if constexpr (std::is_same_v<F, std::optional<double>>)
      CHECK(*value == *f);
    else if constexpr (std::is_arithmetic_v<F>)
      CHECK(*value == static_cast<double>(f));
    else
      FAIL("a metric of a field that is not a number");
  });
  CHECK(as_metrics > 50);
}

TEST_CASE("report fields: every total and column survives the merge of two shards by its rule", "[models][report]") {
  const RunReport a = distinct_report(1), b = distinct_report(2);
  RunReport m = merge_shard_reports({a, b});
  visit_totals_zip(
      [&](std::string_view name, const FieldInfo& info, const auto& fa, const auto& fb, const auto& fm) {
        using F = Plain<decltype(fa)>;
        INFO("totals." << name);
        switch (info.merge) {
          case Merge::Sum:
          case Merge::UpperBound:
            if constexpr (std::is_arithmetic_v<F>)
              CHECK(fm == fa + fb);
            else
              FAIL("a sum of a field that is not a number");
            break;
          case Merge::Shard0:
            CHECK(expected_json(fm) == expected_json(fa));
            break;
          case Merge::WeightedMean:
            if constexpr (std::is_same_v<F, std::optional<double>>) {
              REQUIRE(info.weight != nullptr);
              const double wa = static_cast<double>(a.totals.*info.weight), wb = static_cast<double>(b.totals.*info.weight);
              REQUIRE(fm.has_value());
              CHECK(*fm == Approx((*fa * wa + *fb * wb) / (wa + wb)));
              CHECK(*fm != *fa);
            } else {
              FAIL("a weighted mean that is not an optional number");
            }
            break;
          case Merge::ByLink:
            if constexpr (std::is_same_v<F, std::vector<LinkTotals>>) {
              // a's links in order, their shared ones added to, then b's new ones.
              std::vector<LinkTotals> want = fa;
              for (const LinkTotals& l : fb) {
                bool found = false;
                for (LinkTotals& w : want)
                  if (w.link == l.link) {
                    found = true;
                    visit_link_zip(
                        [](std::string_view, const FieldInfo& li, auto& x, const auto& y) {
                          if constexpr (std::is_arithmetic_v<Plain<decltype(x)>>) {
                            CHECK(li.merge == Merge::Sum);
                            x += y;
                          }
                        },
                        w, l);
                  }
                if (!found) want.push_back(l);
              }
              CHECK(want.size() == 3);
              CHECK(same_links(fm, want));
            } else {
              FAIL("a merge by link of a field that is not by_link");
            }
            break;
        }
      },
      a.totals, b.totals, m.totals);
  visit_series_zip(
      [&](std::string_view name, const FieldInfo& info, const auto& fa, const auto& fb, const auto& fm) {
        using F = Plain<decltype(fa)>;
        INFO("series." << name);
        if (info.merge == Merge::Shard0) {
          CHECK(fm == fa);
        } else if (info.merge == Merge::Sum || info.merge == Merge::UpperBound) {
          if constexpr (IsVector<F>::value) {
            REQUIRE(fm.size() == kBins);
            for (std::size_t i = 0; i < kBins; ++i) CHECK(fm[i] == fa[i] + fb[i]);
          } else {
            FAIL("a sum of a series field that is not a column");
          }
        } else {
          FAIL("a series merge rule the test does not know");
        }
      },
      a.series, b.series, m.series);
}

#if OTA_HAVE_REPORT_SERIALIZATION
namespace {

RunReport round_trip(const RunReport& r) {
  std::stringstream buffer;
  {
    boost::archive::binary_oarchive out(buffer);
    out << r;
  }
  RunReport back;
  {
    boost::archive::binary_iarchive in(buffer);
    in >> back;
  }
  return back;
}

void check_same_fields(const RunReport& r, const RunReport& back) {
  visit_totals_zip(
      [](std::string_view name, const FieldInfo&, const auto& x, const auto& y) {
        INFO("totals." << name);
        CHECK(expected_json(x) == expected_json(y));
      },
      r.totals, back.totals);
  visit_series_zip(
      [](std::string_view name, const FieldInfo&, const auto& x, const auto& y) {
        INFO("series." << name);
        CHECK(x == y);
      },
      r.series, back.series);
  CHECK(report_json(back) == report_json(r));
}

}  // namespace

TEST_CASE("report fields: every total and column survives otasim-mpi's serialization", "[models][report][mpi]") {
  SECTION("distinct values everywhere") { check_same_fields(distinct_report(1), round_trip(distinct_report(1))); }
  SECTION("a run's report: empty links, null marks and means") {
    const RunReport r = testing::run(testing::load("default.json", {{"/fleet/devices", "2000"}}));
    check_same_fields(r, round_trip(r));
  }
}
#endif
