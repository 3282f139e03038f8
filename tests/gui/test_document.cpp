// Tests of ScenarioDocument's edits: the form changes values in the file's
// text in place, so a saved file differs from the opened one only where the
// user edited (numbers keep the spelling typed, layout and comments stay), and
// the DOM read back from the text is the one an edit of the DOM would give.
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QLineEdit>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <random>
#include <string>
#include <vector>

#include "gui_test_registry.hpp"
#include "gui_test_util.hpp"
#include "ota/gui/main_window.hpp"
#include "ota/gui/scenario_document.hpp"
#include "ota/gui/scenario_form.hpp"
#include "ota/models/scenario/json_pointer.hpp"
#include "ota/models/scenario/scenario_loader.hpp"

using ota::gui::MainWindow;
using ota::gui::ScenarioDocument;

using namespace ota::gui::testing;

namespace {

// The document's DOM is ordered: key order is part of what must match.
using Json = nlohmann::ordered_json;


// Texts compared as QStrings, so that a failure prints both.
QString qs(const std::string& s) { return QString::fromStdString(s); }

std::string read_file(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return f.readAll().toStdString();
}

bool write_file(const QString& path, const std::string& text) {
  QFile f(path);
  return f.open(QIODevice::WriteOnly) &&
         f.write(text.data(), static_cast<qint64>(text.size())) == static_cast<qint64>(text.size());
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t b = 0;
  for (std::size_t e; (e = text.find('\n', b)) != std::string::npos; b = e + 1) lines.push_back(text.substr(b, e - b));
  lines.push_back(text.substr(b));
  return lines;
}

// The lines that differ between two texts, as (lines of `a`, lines of `b`)
// left once their common first and last lines are taken away.
std::pair<std::size_t, std::size_t> changed_lines(const std::string& a, const std::string& b) {
  const auto la = lines_of(a);
  const auto lb = lines_of(b);
  std::size_t head = 0;
  while (head < la.size() && head < lb.size() && la[head] == lb[head]) ++head;
  std::size_t tail = 0;
  while (tail < la.size() - head && tail < lb.size() - head && la[la.size() - 1 - tail] == lb[lb.size() - 1 - tail])
    ++tail;
  return {la.size() - head - tail, lb.size() - head - tail};
}


// Sets `text` and checks it took.
void load(ScenarioDocument& doc, const std::string& text) {
  doc.set_text(text);
  QVERIFY2(doc.well_formed(), text.c_str());
}

// One edit, then the whole text as expected.
void expect_edit(const std::string& before, const std::string& pointer, const std::string& value,
                 const std::string& after) {
  ScenarioDocument doc;
  load(doc, before);
  QCOMPARE(doc.set_value(pointer, value), std::string());
  QCOMPARE(qs(doc.text()), qs(after));
}

// What the loader says to `otasim --param POINTER=VALUE` on `text`.
std::string loader_says(const std::string& text, const std::string& pointer, const std::string& value) {
  const auto r = ota::models::parse_scenario_with_overrides(text, {{pointer, value}});
  for (const auto& e : r.errors)
    if (e.path == pointer && e.message.starts_with("cannot override: ")) return e.message.substr(17);
  return "(the loader took " + pointer + ")";
}

// What the DOM edit the planner did before this change gives: the value read
// as JSON if it parses, else a string; empty removes the key.
Json dom_edit(Json root, const std::string& pointer, const std::string& value) {
  const Json::json_pointer p(pointer);
  if (value.empty()) {
    root.at(p.parent_pointer()).erase(p.back());
    return root;
  }
  Json parsed = Json::parse(value, nullptr, false);
  if (parsed.is_discarded()) parsed = value;
  root[p] = std::move(parsed);
  return root;
}

struct Leaf {
  std::string pointer;
  bool in_object = false;
};

// Every number, string and boolean of `v`, with its pointer.
void collect_leaves(const Json& v, const Json::json_pointer& at, bool in_object, std::vector<Leaf>& out) {
  if (v.is_object()) {
    for (const auto& [key, item] : v.items()) collect_leaves(item, at / key, true, out);
  } else if (v.is_array()) {
    for (std::size_t i = 0; i < v.size(); ++i) collect_leaves(v[i], at / i, false, out);
  } else if (v.is_number() || v.is_string() || v.is_boolean()) {
    out.push_back({at.to_string(), in_object});
  }
}

std::vector<QString> scenario_files() {
  std::vector<QString> files;
  QDirIterator it(source_path("scenarios"), {QStringLiteral("*.json")}, QDir::Files, QDirIterator::Subdirectories);
  while (it.hasNext()) files.push_back(it.next());
  std::sort(files.begin(), files.end());
  return files;
}

std::string errors_of(const ota::models::LoadResult& r) {
  return r.errors.empty() ? std::string("ok") : ota::models::format_errors(r.errors);
}

}  // namespace

class DocumentTest : public QObject {
  Q_OBJECT

 private slots:
  void save_changes_only_edited_values() {
    // A planner's file: decimals spelled 0.40 and 1.3e-4, inline objects, blank
    // lines and comment keys (the shipped default has them all; one more
    // comment in a stage so that an inline object holds one too).
    std::string original = read_file(source_path("scenarios/default.json"));
    const std::string stage = R"({ "percent": 5, "soak_h": 12 })";
    QVERIFY(original.find(stage) != std::string::npos);
    original.replace(original.find(stage), stage.size(), R"({ "percent": 5, "soak_h": 12, "_comment": "canary" })");
    for (const char* feature : {"\"share\": 0.40,", "\"power_loss_per_hour\": 1.3e-4", "\n\n  \"fleet\"",
                                "\"flash\": { \"sector_bytes\"", "\"_comment\""})
      QVERIFY2(original.find(feature) != std::string::npos, feature);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("planned.json"));
    QVERIFY(write_file(path, original));

    MainWindow w;
    w.show();
    QApplication::setActiveWindow(&w);
    QVERIFY(QTest::qWaitForWindowActive(&w));
    QCOMPARE(w.open_file(path), QString());
    // The form shows numbers as the file spells them.
    for (const auto& [pointer, shown] : {std::pair{"/fleet/classes/0/share", "0.40"},
                                         std::pair{"/fleet/classes/1/power_loss_per_hour", "1.3e-4"}}) {
      auto* edit = qobject_cast<QLineEdit*>(w.form()->field(pointer));
      QVERIFY2(edit, pointer);
      QCOMPARE(edit->text(), QString::fromUtf8(shown));
    }
    QVERIFY(w.scenario_valid());
    // Two fields, typed key by key: a price spelled with a trailing zero, and a
    // stage gate the file does not have yet (a new key in an inline object).
    // The lines changed, in file order: the price, then the stage.
    type_into(w, "/server/usd_per_gb", QStringLiteral("0.10"));
    type_into(w, "/rollout/stages/1/gate/max_failure_rate", QStringLiteral("1.0e-3"));
    QVERIFY(w.scenario_valid());
    QCOMPARE(w.save_file(path), QString());

    const std::string saved = read_file(path);
    const auto before = lines_of(original);
    const auto after = lines_of(saved);
    QCOMPARE(after.size(), before.size());
    std::vector<std::string> changed;
    for (std::size_t i = 0; i < before.size(); ++i)
      if (before[i] != after[i]) changed.push_back(after[i]);
    QCOMPARE(changed.size(), std::size_t{2});
    QCOMPARE(qs(changed[0]), qs(R"(    "usd_per_gb": 0.10)"));
    QCOMPARE(qs(changed[1]), qs(R"(      { "percent": 5, "soak_h": 12, "_comment": "canary", )"
                                     R"("gate": {"max_failure_rate": 1.0e-3} },)"));
    // The saved file loads, and reads back as typed.
    const auto r = ota::models::load_scenario_file(path.toStdString());
    QVERIFY2(r.errors.empty(), errors_of(r).c_str());
    ScenarioDocument reopened;
    reopened.set_text(saved);
    QCOMPARE(reopened.value_text("/server/usd_per_gb"), std::optional<std::string>("0.10"));
    QCOMPARE(reopened.value_text("/rollout/stages/1/gate/max_failure_rate"), std::optional<std::string>("1.0e-3"));
  }

  void new_key_in_inline_object() {
    expect_edit("{\n  \"a\": { \"x\": 1 },\n  \"b\": 2\n}\n", "/a/y", "0.50",
                "{\n  \"a\": { \"x\": 1, \"y\": 0.50 },\n  \"b\": 2\n}\n");
    expect_edit("{\"a\": {\"x\": 1}}", "/a/y", "[1, {\"k\": 2}]", "{\"a\": {\"x\": 1, \"y\": [1, {\"k\": 2}]}}");
  }

  void new_key_in_indented_object() {
    const std::string text = "{\n  \"a\": {\n    \"x\": 1,\n    \"y\": [1, 2]\n  }\n}\n";
    expect_edit(text, "/a/z", "true", "{\n  \"a\": {\n    \"x\": 1,\n    \"y\": [1, 2],\n    \"z\": true\n  }\n}\n");
    // An object value is written as the other objects and arrays beside it
    // are: on one line beside [1, 2], indented from the member's line beside
    // numbers only.
    expect_edit(text, "/a/w", "{\"k\": [1]}",
                "{\n  \"a\": {\n    \"x\": 1,\n    \"y\": [1, 2],\n    \"w\": {\"k\": [1]}\n  }\n}\n");
    expect_edit("{\n  \"a\": {\n    \"x\": 1\n  }\n}\n", "/a/w", "{\"k\": [1]}",
                "{\n  \"a\": {\n    \"x\": 1,\n    \"w\": {\n      \"k\": [\n        1\n      ]\n    }\n  }\n}\n");
    // Four-space files get four-space members; the document's last key too.
    expect_edit("{\n    \"a\": 1\n}", "/b", "2", "{\n    \"a\": 1,\n    \"b\": 2\n}");
    // CRLF files keep their line ending.
    expect_edit("{\r\n  \"a\": 1\r\n}\r\n", "/b/c", "2",
                "{\r\n  \"a\": 1,\r\n  \"b\": {\r\n    \"c\": 2\r\n  }\r\n}\r\n");
  }

  void new_key_in_empty_object() {
    expect_edit("{\n  \"a\": {},\n  \"b\": 1\n}\n", "/a/x", "5", "{\n  \"a\": {\n    \"x\": 5\n  },\n  \"b\": 1\n}\n");
    expect_edit("{\"a\": {}, \"b\": 1}", "/a/x", "5", "{\"a\": {\"x\": 5}, \"b\": 1}");
    expect_edit("{}", "/x", "\"s\"", "{\n  \"x\": \"s\"\n}");
  }

  void missing_parents_are_created() {
    expect_edit("{\n  \"rollout\": {\n    \"start_h\": 0\n  }\n}\n", "/rollout/gate/max_failure_rate", "0.050",
                "{\n  \"rollout\": {\n    \"start_h\": 0,\n    \"gate\": {\n      \"max_failure_rate\": 0.050\n"
                "    }\n  }\n}\n");
    expect_edit("{\n  \"s\": [{ \"percent\": 5 }]\n}", "/s/0/gate/on_breach", "pause",
                "{\n  \"s\": [{ \"percent\": 5, \"gate\": {\"on_breach\": \"pause\"} }]\n}");
    expect_edit("{\n  \"a\": 1\n}", "/links/a~1b/usd_per_mb", "1e-2",
                "{\n  \"a\": 1,\n  \"links\": {\n    \"a/b\": {\n      \"usd_per_mb\": 1e-2\n    }\n  }\n}");
    // A null on the way becomes an object, as for --param.
    expect_edit("{\n  \"a\": null\n}", "/a/x", "1", "{\n  \"a\": {\n    \"x\": 1\n  }\n}");
  }

  void remove_members() {
    const std::string text = "{\n  \"a\": 1,\n  \"b\": 2,\n\n  \"c\": { \"d\": 3 }\n}\n";
    expect_edit(text, "/a", "", "{\n  \"b\": 2,\n\n  \"c\": { \"d\": 3 }\n}\n");
    expect_edit(text, "/b", "", "{\n  \"a\": 1,\n\n  \"c\": { \"d\": 3 }\n}\n");
    expect_edit(text, "/c", "", "{\n  \"a\": 1,\n  \"b\": 2\n}\n");
    expect_edit(text, "/c/d", "", "{\n  \"a\": 1,\n  \"b\": 2,\n\n  \"c\": {}\n}\n");
    const std::string flat = R"({"a": 1, "b": 2, "c": 3})";
    expect_edit(flat, "/a", "", R"({"b": 2, "c": 3})");
    expect_edit(flat, "/b", "", R"({"a": 1, "c": 3})");
    expect_edit(flat, "/c", "", R"({"a": 1, "b": 2})");
    // A member sharing its line with the brace: only the member and its comma go.
    expect_edit("{ \"a\": 1,\n  \"b\": 2 }", "/a", "", "{ \"b\": 2 }");
    // A multi-line member on its own lines goes with all of them.
    expect_edit("{\n  \"a\": {\n    \"x\": 1\n  },\n  \"b\": 2\n}", "/a", "", "{\n  \"b\": 2\n}");
    // A repeated key goes entirely, as from the DOM.
    expect_edit(R"({"a": 1, "b": 2, "a": 3})", "/a", "", R"({"b": 2})");
    // Absent: nothing to do. An array element: refused.
    expect_edit(text, "/zz", "", text);
    expect_edit(text, "/zz/y", "", text);
    ScenarioDocument doc;
    load(doc, "{\"s\": [1, 2]}");
    QCOMPARE(doc.set_value("/s/0", ""), std::string("cannot remove /s/0 from an array; remove the element instead"));
    QCOMPARE(qs(doc.text()), qs(std::string("{\"s\": [1, 2]}")));
  }

  void replace_values() {
    const std::string text = "{\n  \"a\": 1,\n  \"o\": { \"x\": 1 },\n  \"m\": {\n    \"y\": 2\n  }\n}";
    expect_edit(text, "/a", "1.3e-4", "{\n  \"a\": 1.3e-4,\n  \"o\": { \"x\": 1 },\n  \"m\": {\n    \"y\": 2\n  }\n}");
    ScenarioDocument doc;
    load(doc, R"({"a": 0.40, "b": 1.3e-4, "c": -0, "d": true, "e": "0.40", "f": [0.40]})");
    QCOMPARE(doc.value_text("/a"), std::optional<std::string>("0.40"));
    QCOMPARE(doc.value_text("/b"), std::optional<std::string>("1.3e-4"));
    QCOMPARE(doc.value_text("/c"), std::optional<std::string>("-0"));
    QCOMPARE(doc.value_text("/d"), std::optional<std::string>("true"));
    QCOMPARE(doc.value_text("/e"), std::optional<std::string>("0.40"));
    QCOMPARE(doc.value_text("/f"), std::optional<std::string>("[0.4]"));
    QCOMPARE(doc.value_text("/f/0"), std::optional<std::string>("0.40"));
    expect_edit(text, "/a", "  42\t", "{\n  \"a\": 42,\n  \"o\": { \"x\": 1 },\n  \"m\": {\n    \"y\": 2\n  }\n}");
    // Not JSON, so strings: "+1", ".5", "01".
    expect_edit(text, "/a", "+1", "{\n  \"a\": \"+1\",\n  \"o\": { \"x\": 1 },\n  \"m\": {\n    \"y\": 2\n  }\n}");
    expect_edit(text, "/a", ".5", "{\n  \"a\": \".5\",\n  \"o\": { \"x\": 1 },\n  \"m\": {\n    \"y\": 2\n  }\n}");
    expect_edit(text, "/a", "01", "{\n  \"a\": \"01\",\n  \"o\": { \"x\": 1 },\n  \"m\": {\n    \"y\": 2\n  }\n}");
    // Objects keep their way of being written.
    expect_edit(text, "/o", "{\"x\": 2, \"z\": [3]}",
                "{\n  \"a\": 1,\n  \"o\": {\"x\": 2, \"z\": [3]},\n  \"m\": {\n    \"y\": 2\n  }\n}");
    expect_edit(text, "/m", "{\"y\": 3}", "{\n  \"a\": 1,\n  \"o\": { \"x\": 1 },\n  \"m\": {\n    \"y\": 3\n  }\n}");
    expect_edit(text, "/a", "[1]",
                "{\n  \"a\": [\n    1\n  ],\n  \"o\": { \"x\": 1 },\n  \"m\": {\n    \"y\": 2\n  }\n}");
  }

  void array_elements() {
    const std::string text = "{\n  \"s\": [\n    { \"p\": 1 },\n    { \"p\": 2 }\n  ],\n  \"n\": [1, 2]\n}\n";
    ScenarioDocument doc;
    load(doc, text);
    QCOMPARE(doc.insert_element("/s", 0, "{\"p\": 0}"), std::string());
    QCOMPARE(qs(doc.text()), qs("{\n  \"s\": [\n    {\"p\": 0},\n    { \"p\": 1 },\n    { \"p\": 2 }\n  ],\n"
                                "  \"n\": [1, 2]\n}\n"));
    QCOMPARE(doc.insert_element("/s", 2, "{\"p\": 1.50}"), std::string());
    QCOMPARE(doc.insert_element("/s", 4, "{\"p\": 3}"), std::string());
    QCOMPARE(qs(doc.text()), qs(std::string("{\n  \"s\": [\n    {\"p\": 0},\n    { \"p\": 1 },\n    {\"p\": 1.5},\n"
                                     "    { \"p\": 2 },\n    {\"p\": 3}\n  ],\n  \"n\": [1, 2]\n}\n")));
    QCOMPARE(doc.remove_element("/s", 4), std::string());
    QCOMPARE(doc.remove_element("/s", 2), std::string());
    QCOMPARE(doc.remove_element("/s", 0), std::string());
    QCOMPARE(qs(doc.text()), qs(text));
    // Inline arrays stay inline; scalars keep their spelling.
    QCOMPARE(doc.insert_element("/n", 0, "0.0"), std::string());
    QCOMPARE(doc.insert_element("/n", 2, "1.50"), std::string());
    QCOMPARE(doc.insert_element("/n", 4, "3e0"), std::string());
    QCOMPARE(qs(doc.text()), qs(std::string("{\n  \"s\": [\n    { \"p\": 1 },\n    { \"p\": 2 }\n  ],\n"
                                     "  \"n\": [0.0, 1, 1.50, 2, 3e0]\n}\n")));
    for (std::size_t i : {4u, 2u, 0u}) QCOMPARE(doc.remove_element("/n", i), std::string());
    QCOMPARE(qs(doc.text()), qs(text));
    QCOMPARE(doc.remove_element("/n", 1), std::string());
    QCOMPARE(doc.remove_element("/n", 0), std::string());
    QCOMPARE(qs(doc.text()), qs("{\n  \"s\": [\n    { \"p\": 1 },\n    { \"p\": 2 }\n  ],\n  \"n\": []\n}\n"));
    // An empty array in an indented object gets its element on a line of its own.
    QCOMPARE(doc.insert_element("/n", 0, "7"), std::string());
    QCOMPARE(qs(doc.text()), qs("{\n  \"s\": [\n    { \"p\": 1 },\n    { \"p\": 2 }\n  ],\n"
                                "  \"n\": [\n    7\n  ]\n}\n"));
    // Errors leave the text as it was.
    const std::string kept = doc.text();
    QCOMPARE(doc.insert_element("/n", 5, "1"), std::string("/n: no position 5"));
    QCOMPARE(doc.remove_element("/n", 1), std::string("/n: no element 1"));
    QCOMPARE(doc.insert_element("/n", 0, "{nope"), std::string("not JSON: {nope"));
    QCOMPARE(doc.insert_element("/s/0", 0, "1"), std::string("/s/0 is not an array"));
    QCOMPARE(doc.remove_element("/x", 0), std::string("/x is not an array"));
    QCOMPARE(qs(doc.text()), qs(kept));
  }

  void string_values_are_escaped() {
    const std::string typed = "he said \"hi\" \\ na\u00efve \u2713\ttab";
    ScenarioDocument doc;
    load(doc, "{\n  \"name\": \"x\"\n}");
    QCOMPARE(doc.set_value("/name", typed), std::string());
    QCOMPARE(qs(doc.text()), qs(std::string("{\n  \"name\": \"he said \\\"hi\\\" \\\\ na\u00efve \u2713\\ttab\"\n}")));
    QCOMPARE(doc.value_text("/name"), std::optional<std::string>(typed));
    // A JSON string typed with its quotes keeps its escapes as typed.
    QCOMPARE(doc.set_value("/name", "\"caf\\u00e9\""), std::string());
    QCOMPARE(qs(doc.text()), qs(std::string("{\n  \"name\": \"caf\\u00e9\"\n}")));
    QCOMPARE(doc.value_text("/name"), std::optional<std::string>("caf\u00e9"));
    // Keys are escaped too.
    QCOMPARE(doc.set_value("/q\"k", "1"), std::string());
    QCOMPARE(qs(doc.text()), qs(std::string("{\n  \"name\": \"caf\\u00e9\",\n  \"q\\\"k\": 1\n}")));
  }

  void pointers_as_the_loader_reads_them() {
    const std::string text = read_file(source_path("scenarios/default.json"));
    ScenarioDocument doc;
    load(doc, text);
    QCOMPARE(doc.array_size("/fleet/classes"), std::size_t{3});
    // Each refused with the loader's words for `otasim --param`.
    for (const char* pointer : {"/fleet/classes/01/share", "/fleet/classes/3/share", "/fleet/classes/-/share",
                                "/fleet/classes/x", "fleet/devices", "/fleet/a~2b", ""}) {
      const std::string says = loader_says(text, pointer, "0.5");
      QVERIFY2(!says.starts_with("(the loader took"), pointer);
      QCOMPARE(doc.set_value(pointer, "0.5"), says);
      QCOMPARE(qs(doc.text()), qs(text));
      QVERIFY(!doc.value_text(pointer));
    }
    QCOMPARE(doc.set_value("/fleet/classes/01/share", "0.5"),
             ota::models::not_an_element("01", "/fleet/classes", 3));
    QCOMPARE(doc.remove_element("/fleet/classes/01", 0), ota::models::not_an_element("01", "/fleet/classes", 3));
    // A value other than an object on the way: refused, as by the loader.
    const std::string in_the_way = "/seed is 1 (expected an object or array on the way to the field)";
    QCOMPARE(doc.set_value("/seed/x", "1"), in_the_way);
    QCOMPARE(loader_says(text, "/seed/x", "1"), in_the_way);
    QCOMPARE(qs(doc.text()), qs(text));
    // And what the loader takes, the document takes: "~1" is '/'.
    QCOMPARE(doc.set_value("/links/a~1b/usd_per_mb", "0.01"), std::string());
    QCOMPARE(doc.value_text("/links/a~1b/usd_per_mb"), std::optional<std::string>("0.01"));
  }

  void malformed_text_is_not_edited() {
    ScenarioDocument doc;
    const std::string text = "{\n  \"a\": 1,\n";
    doc.set_text(text);
    QVERIFY(!doc.well_formed());
    const std::string why = "the JSON text is not well-formed; fix it in the JSON view first";
    QCOMPARE(doc.set_value("/a", "2"), why);
    QCOMPARE(doc.set_value("/a", ""), why);
    QCOMPARE(doc.insert_element("/a", 0, "2"), why);
    QCOMPARE(doc.remove_element("/a", 0), why);
    QCOMPARE(qs(doc.text()), qs(text));
    QVERIFY(!doc.value_text("/a"));
  }

  void random_edits_match_dom() {
    // Typed values: numbers in several spellings, things that are not JSON
    // and so are strings, strings needing escapes, JSON strings, booleans; ""
    // removes.
    const std::vector<std::string> values = {
        "0.40", "1.3e-4", "-7", "12", "1E3", "0", "true", "false", "+1", ".5", "01", "fast lane",
        "he said \"hi\"", "back\\slash", "na\u00efve \u2713", "\"quoted\"", "  42  ", "tab\there", "", ""};
    const std::vector<QString> files = scenario_files();
    QVERIFY(files.size() >= 20);
    std::mt19937 rng(20240607);
    std::size_t edits = 0;
    for (const QString& file : files) {
      const std::string original = read_file(file);
      QVERIFY2(!original.empty(), qPrintable(file));
      ScenarioDocument doc;
      doc.set_text(original, QFileInfo(file).absolutePath().toStdString());
      QVERIFY2(doc.well_formed(), qPrintable(file));
      const std::string verdict = errors_of(doc.validate());
      for (int step = 0; step < 60; ++step) {
        const std::string before = doc.text();
        const Json dom = Json::parse(before);
        std::vector<Leaf> leaves;
        collect_leaves(dom, Json::json_pointer(), false, leaves);
        if (leaves.empty()) break;
        const Leaf& leaf = leaves[rng() % leaves.size()];
        const std::string& value = values[rng() % values.size()];
        const std::string where = file.toStdString() + " step " + std::to_string(step) + ": set " + leaf.pointer +
                                  " to '" + value + "'";
        const std::string err = doc.set_value(leaf.pointer, value);
        if (value.empty() && !leaf.in_object) {  // an array element: refused, nothing changed
          QVERIFY2(!err.empty(), where.c_str());
          QVERIFY2(doc.text() == before, where.c_str());
          continue;
        }
        QVERIFY2(err.empty(), (where + ": " + err).c_str());
        QVERIFY2(Json::parse(doc.text()) == dom_edit(dom, leaf.pointer, value), (where + "\n" + doc.text()).c_str());
        // Only the value's line changed (a removal may take a line and the comma before).
        const auto [old_lines, new_lines] = changed_lines(before, doc.text());
        QVERIFY2(value.empty() ? old_lines <= 3 && new_lines <= 1 && new_lines <= old_lines && old_lines > 0
                               : old_lines <= 1 && new_lines == old_lines,
                 (where + ": " + std::to_string(old_lines) + " lines became " + std::to_string(new_lines)).c_str());
        ++edits;
      }

      // Values set and then set back to what they were: the verdict is as before.
      doc.set_text(original);
      const Json dom = Json::parse(original);
      std::vector<Leaf> leaves;
      collect_leaves(dom, Json::json_pointer(), false, leaves);
      for (int step = 0; step < 20 && !leaves.empty(); ++step) {
        const Leaf& leaf = leaves[rng() % leaves.size()];
        const std::string where = file.toStdString() + ": " + leaf.pointer;
        QVERIFY2(doc.set_value(leaf.pointer, values[rng() % (values.size() - 2)]).empty(), where.c_str());
        QVERIFY2(doc.set_value(leaf.pointer, dom.at(Json::json_pointer(leaf.pointer)).dump()).empty(), where.c_str());
      }
      QVERIFY2(Json::parse(doc.text()) == dom, qPrintable(file));
      QCOMPARE(errors_of(doc.validate()), verdict);
    }
    QVERIFY(edits > 1000);
  }
};

OTA_GUI_TEST(DocumentTest);

#include "test_document.moc"
