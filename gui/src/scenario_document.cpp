#include "ota/gui/scenario_document.hpp"

#include <span>

#include <nlohmann/json.hpp>

#include "ota/models/scenario/json_pointer.hpp"

namespace ota::gui {

namespace {

// Ordered, so that the DOM lists keys as the text does (object_keys) and a
// key the form adds comes last, where the text puts it.
using Json = nlohmann::ordered_json;
using Tokens = std::vector<std::string>;

constexpr std::string_view kNotWellFormed = "the JSON text is not well-formed; fix it in the JSON view first";
constexpr std::size_t kMaxShownValue = 60;  // as the loader quotes a value in a message

bool is_documentation_key(std::string_view key) { return key.starts_with("_comment") || key == "$schema"; }

std::string dump(const Json& v) { return v.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string pointer_of(const Tokens& tokens, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    out += '/';
    for (char c : tokens[i]) out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
  }
  return out;
}

// The value at `pointer` in the DOM, walked as `otasim --param` walks it.
const Json* find(const Json& root, std::string_view pointer) {
  std::string why;
  const auto tokens = models::split_pointer(std::string(pointer), why);
  if (!tokens) return nullptr;
  const Json* node = &root;
  for (const std::string& token : *tokens) {
    if (node->is_object()) {
      const auto it = node->find(token);
      if (it == node->end()) return nullptr;
      node = &*it;
    } else if (node->is_array()) {
      const auto index = models::array_index(token, node->size());
      if (!index) return nullptr;
      node = &(*node)[*index];
    } else {
      return nullptr;
    }
  }
  return node;
}

// ---------------------------------------------------------------------------
// Where values sit in the text.
//
// nlohmann/json gives no byte offsets, so edits find their place with this
// scanner. It only ever reads text nlohmann has accepted as one well-formed
// value, so it checks nothing: it skips strings and brackets and notes spans.

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::size_t skip_space(std::string_view t, std::size_t p) {
  while (p < t.size() && is_space(t[p])) ++p;
  return p;
}

// Where the document's value starts (nlohmann skips a UTF-8 byte order mark).
std::size_t root_begin(std::string_view t) { return skip_space(t, t.starts_with("\xEF\xBB\xBF") ? 3 : 0); }

// After the string whose opening quote is at `p`.
std::size_t string_end(std::string_view t, std::size_t p) {
  for (++p; t[p] != '"'; ++p)
    if (t[p] == '\\') ++p;
  return p + 1;
}

// After the value starting at `p`.
std::size_t value_end(std::string_view t, std::size_t p) {
  if (t[p] == '"') return string_end(t, p);
  if (t[p] != '{' && t[p] != '[') {
    while (p < t.size() && !is_space(t[p]) && t[p] != ',' && t[p] != '}' && t[p] != ']') ++p;
    return p;
  }
  int depth = 0;
  do {
    if (t[p] == '"') {
      p = string_end(t, p);
      continue;
    }
    if (t[p] == '{' || t[p] == '[') ++depth;
    if (t[p] == '}' || t[p] == ']') --depth;
    ++p;
  } while (depth > 0);
  return p;
}

// A member of an object (key to value) or an element of an array.
struct Item {
  std::size_t begin = 0;        // the key's opening quote, or the element's first byte
  std::size_t key_end = 0;      // after the key's closing quote (members only)
  std::size_t value_begin = 0;
  std::size_t end = 0;          // after the value
};

// An object or an array as written: its brackets and its items in order.
struct Container {
  std::size_t open = 0;   // the '{' or '['
  std::size_t close = 0;  // the matching '}' or ']'
  std::vector<Item> items;
};

Container read_container(std::string_view t, std::size_t open) {
  Container c;
  c.open = open;
  const bool object = t[open] == '{';
  std::size_t p = skip_space(t, open + 1);
  while (t[p] != '}' && t[p] != ']') {
    Item item;
    item.begin = p;
    if (object) {
      item.key_end = string_end(t, p);
      p = skip_space(t, skip_space(t, item.key_end) + 1);  // past the ':'
    }
    item.value_begin = p;
    item.end = value_end(t, p);
    c.items.push_back(item);
    p = skip_space(t, item.end);
    if (t[p] == ',') p = skip_space(t, p + 1);
  }
  c.close = p;
  return c;
}

std::string member_key(std::string_view t, const Item& member) {
  return Json::parse(t.substr(member.begin, member.key_end - member.begin)).get<std::string>();
}

// The member named `key`; the last one if the key is repeated, as that is the
// value nlohmann keeps.
std::optional<std::size_t> find_member(std::string_view t, const Container& c, const std::string& key) {
  for (std::size_t i = c.items.size(); i-- > 0;)
    if (member_key(t, c.items[i]) == key) return i;
  return std::nullopt;
}

std::size_t line_start(std::string_view t, std::size_t p) {
  const std::size_t newline = p == 0 ? std::string_view::npos : t.rfind('\n', p - 1);
  return newline == std::string_view::npos ? 0 : newline + 1;
}

// The spaces and tabs that start the line holding `p`.
std::string indent_at(std::string_view t, std::size_t p) {
  std::size_t b = line_start(t, p);
  std::size_t e = b;
  while (e < t.size() && (t[e] == ' ' || t[e] == '\t')) ++e;
  return std::string(t.substr(b, e - b));
}

bool has_newline(std::string_view t, std::size_t b, std::size_t e) {
  return t.substr(b, e - b).find('\n') != std::string_view::npos;
}

// One level of indentation as the file writes it: what the document's first
// member is indented by, if it sits on its own line; two spaces otherwise.
std::string indent_unit(std::string_view t) {
  const std::size_t p = root_begin(t);
  if (t[p] != '{' && t[p] != '[') return "  ";
  const Container root = read_container(t, p);
  if (root.items.empty() || !has_newline(t, p, root.items[0].begin)) return "  ";
  const std::string base = indent_at(t, p);
  const std::string inner = indent_at(t, root.items[0].begin);
  if (inner.size() <= base.size() || !inner.starts_with(base)) return "  ";
  std::string unit = inner.substr(base.size());
  if (unit.find_first_not_of(unit[0]) != std::string::npos) return "  ";
  return unit;
}

// The file's line ending: "\r\n" if its first line ends so.
std::string newline_of(std::string_view t) {
  const std::size_t p = t.find('\n');
  return p != std::string_view::npos && p > 0 && t[p - 1] == '\r' ? "\r\n" : "\n";
}

// How a container sets out its items, so that a new one looks like its siblings.
struct Layout {
  bool multiline = true;  // one item per line (else all on the bracket's line)
  std::string indent;     // of an item's line, when multiline
  std::string separator;  // between two items: ", " or ",\n" + indent, as written
  std::string colon;      // between a key and its value
  std::string newline;    // the file's line ending
};

// `parent_multiline` says how the container's own parent is set out; it
// decides for an empty container, which shows no style of its own.
Layout layout_of(std::string_view t, const Container& c, bool parent_multiline, const std::string& unit) {
  Layout l;
  l.colon = ": ";
  l.newline = newline_of(t);
  const std::size_t n = c.items.size();
  if (n == 0) {
    l.multiline = parent_multiline || has_newline(t, c.open, c.close);
    l.indent = indent_at(t, c.open) + unit;
    l.separator = "," + l.newline + l.indent;
    return l;
  }
  const Item& last = c.items[n - 1];
  if (last.key_end != 0 && !has_newline(t, last.key_end, last.value_begin))
    l.colon = std::string(t.substr(last.key_end, last.value_begin - last.key_end));
  const std::size_t gap_begin = n >= 2 ? c.items[n - 2].end : c.open + 1;
  const std::string_view gap = t.substr(gap_begin, last.begin - gap_begin);
  l.multiline = gap.find('\n') != std::string_view::npos;
  l.indent = l.multiline ? std::string(gap.substr(gap.rfind('\n') + 1)) : indent_at(t, last.begin);
  if (n >= 2) l.separator = std::string(gap);
  else l.separator = l.multiline ? "," + l.newline + l.indent : ", ";
  return l;
}

// Whether a new object or array among `c`'s items goes over several lines: as
// the other objects and arrays there are written (the last one that is not
// empty), else as the items are set out. A stage added to a list of one-line
// stages is one line too.
bool structured_multiline(std::string_view t, const Container& c, const Layout& l) {
  for (std::size_t i = c.items.size(); i-- > 0;) {
    const Item& item = c.items[i];
    const char first = t[item.value_begin];
    if ((first == '{' || first == '[') && t[skip_space(t, item.value_begin + 1)] != (first == '{' ? '}' : ']'))
      return has_newline(t, item.value_begin, item.end);
  }
  return l.multiline;
}

// ---------------------------------------------------------------------------
// Writing values

// `v` on one line, spaced as people write it: {"a": 1, "b": [2, 3]}.
std::string inline_json(const Json& v) {
  if (!v.is_structured()) return dump(v);
  std::string out(1, v.is_object() ? '{' : '[');
  bool first = true;
  for (const auto& [key, item] : v.items()) {
    if (!first) out += ", ";
    first = false;
    if (v.is_object()) out += dump(Json(key)) + ": ";
    out += inline_json(item);
  }
  return out + (v.is_object() ? '}' : ']');
}

// How a new value is set out where it goes.
struct Style {
  bool multiline = true;
  std::string indent;  // of the line the value starts on
  std::string unit;
  std::string colon = ": ";
  std::string newline = "\n";
};

// A value the user wrote: parsed, and the spelling to keep for a scalar
// ("0.40" stays 0.40; a plain string is written as a JSON string).
struct Typed {
  Json value;
  std::string spelling;
};

Typed read_typed(std::string_view text) {
  Typed typed;
  typed.value = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (typed.value.is_discarded()) {
    typed.value = std::string(text);
    typed.spelling = dump(typed.value);
    return typed;
  }
  const std::size_t b = text.find_first_not_of(" \t\r\n");
  const std::size_t e = text.find_last_not_of(" \t\r\n");
  typed.spelling = std::string(text.substr(b, e + 1 - b));
  // nlohmann skips a byte order mark before the value; the file must not get one.
  if (typed.spelling.starts_with("\xEF\xBB\xBF")) typed.spelling = dump(typed.value);
  return typed;
}

std::string render(const Typed& typed, const Style& style) {
  if (!typed.value.is_structured()) return typed.spelling;
  if (!style.multiline) return inline_json(typed.value);
  const std::string text = typed.value.dump(static_cast<int>(style.unit.size()), style.unit[0], false,
                                            Json::error_handler_t::replace);
  std::string out;
  for (char c : text) out += c == '\n' ? style.newline + style.indent : std::string(1, c);
  return out;
}

// `typed` inside one object per key of `keys`, outermost first.
std::string render_nested(std::span<const std::string> keys, const Typed& typed, const Style& style) {
  if (keys.empty()) return render(typed, style);
  Style inner = style;
  inner.indent += style.unit;
  const std::string member = dump(Json(keys[0])) + style.colon + render_nested(keys.subspan(1), typed, inner);
  if (!style.multiline) return "{" + member + "}";
  return "{" + style.newline + inner.indent + member + style.newline + style.indent + "}";
}

// Inserts `item` (a member's text or an element's) as item `index` of `c`.
void insert_item(std::string& t, const Container& c, std::size_t index, const std::string& item, const Layout& l) {
  const std::size_t n = c.items.size();
  if (n == 0) {
    const std::string inside = l.multiline ? l.newline + l.indent + item + l.newline + indent_at(t, c.open) : item;
    t.replace(c.open + 1, c.close - c.open - 1, inside);
  } else if (index == n) {
    t.insert(c.items[n - 1].end, l.separator + item);
  } else {
    t.insert(c.items[index].begin, item + l.separator);
  }
}

// Removes item `index` of `c` with exactly one comma next to it, and its
// line when it had a line of its own.
void remove_item(std::string& t, const Container& c, std::size_t index) {
  const std::size_t n = c.items.size();
  const Item& item = c.items[index];
  if (n == 1) {
    t.erase(c.open + 1, c.close - c.open - 1);
    return;
  }
  if (index + 1 == n) {  // the last: the comma before it goes
    t.erase(c.items[index - 1].end, item.end - c.items[index - 1].end);
    return;
  }
  const std::size_t comma = skip_space(t, item.end);
  const std::size_t start = line_start(t, item.begin);
  bool own_line = t.find_first_not_of(" \t", start) == item.begin && !has_newline(t, item.end, comma);
  std::size_t after = comma + 1;
  while (after < t.size() && (t[after] == ' ' || t[after] == '\t')) ++after;
  if (after < t.size() && t[after] == '\r') ++after;
  own_line = own_line && after < t.size() && t[after] == '\n';
  if (own_line) t.erase(start, after + 1 - start);
  else t.erase(item.begin, c.items[index + 1].begin - item.begin);
}

// Where a pointer leads in the text.
struct Walk {
  std::size_t found = 0;              // tokens that lead somewhere
  std::size_t begin = 0, end = 0;     // the value the first `found` tokens lead to
  std::optional<Container> parent;    // the container holding it (none for the document)
  std::size_t index = 0;              // its item in `parent`
  std::string error;                  // a token that names no element of an array
};

Walk walk(std::string_view t, const Tokens& tokens) {
  Walk w;
  w.begin = root_begin(t);
  w.end = value_end(t, w.begin);
  for (const std::string& token : tokens) {
    if (t[w.begin] != '{' && t[w.begin] != '[') return w;
    Container c = read_container(t, w.begin);
    std::optional<std::size_t> index;
    if (t[w.begin] == '{') {
      index = find_member(t, c, token);
      if (!index) return w;
    } else {
      index = models::array_index(token, c.items.size());
      if (!index) {
        w.error = models::not_an_element(token, pointer_of(tokens, w.found), c.items.size());
        return w;
      }
    }
    w.begin = c.items[*index].value_begin;
    w.end = c.items[*index].end;
    w.parent = std::move(c);
    w.index = *index;
    ++w.found;
  }
  return w;
}

// Whether an object or array written where the walk arrived goes over several lines.
bool in_multiline(std::string_view t, const Walk& w, const std::string& unit) {
  return !w.parent || structured_multiline(t, *w.parent, layout_of(t, *w.parent, true, unit));
}

}  // namespace

struct ScenarioDocument::Dom {
  Json root;
};

ScenarioDocument::ScenarioDocument() = default;
ScenarioDocument::~ScenarioDocument() = default;

void ScenarioDocument::set_text(std::string text, std::string base_dir) {
  base_dir_ = base_dir.empty() ? std::string(".") : std::move(base_dir);
  set_text(std::move(text));
}

void ScenarioDocument::set_text(std::string text) {
  text_ = std::move(text);
  // Duplicate keys and the like are the loader's to report; the DOM only needs
  // to be usable for reading and setting fields.
  Json root = Json::parse(text_, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) {
    dom_.reset();
  } else {
    dom_ = std::make_unique<Dom>();
    dom_->root = std::move(root);
  }
}

bool ScenarioDocument::well_formed() const { return dom_ != nullptr; }

std::optional<std::string> ScenarioDocument::value_text(std::string_view pointer) const {
  if (!dom_) return std::nullopt;
  const Json* v = find(dom_->root, pointer);
  if (!v) return std::nullopt;
  if (v->is_string()) return v->get<std::string>();
  if (v->is_number()) {  // as the file spells it
    std::string why;
    const Walk w = walk(text_, *models::split_pointer(std::string(pointer), why));
    return text_.substr(w.begin, w.end - w.begin);
  }
  return dump(*v);
}

std::size_t ScenarioDocument::array_size(std::string_view pointer) const {
  if (!dom_) return 0;
  const Json* v = find(dom_->root, pointer);
  return v && v->is_array() ? v->size() : 0;
}

std::vector<std::string> ScenarioDocument::object_keys(std::string_view pointer) const {
  std::vector<std::string> keys;
  if (!dom_) return keys;
  const Json* v = find(dom_->root, pointer);
  if (!v || !v->is_object()) return keys;
  for (const auto& [key, value] : v->items())
    if (!is_documentation_key(key)) keys.push_back(key);
  return keys;
}

std::string ScenarioDocument::set_value(std::string_view pointer, std::string_view value) {
  if (!dom_) return std::string(kNotWellFormed);
  std::string why;
  const auto tokens = models::split_pointer(std::string(pointer), why);
  if (!tokens) return why;
  std::string t = text_;
  const Walk w = walk(t, *tokens);
  if (!w.error.empty()) return w.error;
  const std::string unit = indent_unit(t);

  if (value.empty()) {  // remove the key, so that the loader's default applies
    if (w.found < tokens->size()) return {};  // already absent
    if (t[w.parent->open] == '[')
      return "cannot remove " + std::string(pointer) + " from an array; remove the element instead";
    // A repeated key goes entirely, as erasing it from the DOM would do.
    const std::size_t open = w.parent->open;
    for (;;) {
      const Container c = read_container(t, open);
      const auto index = find_member(t, c, tokens->back());
      if (!index) break;
      remove_item(t, c, *index);
    }
    return commit(std::move(t));
  }

  const Typed typed = read_typed(value);
  Style style;
  style.unit = unit;
  style.newline = newline_of(t);
  if (w.found == tokens->size()) {  // replace the value
    style.indent = indent_at(t, w.begin);
    // A container keeps its way of being written; a scalar or an empty
    // container, which shows none, takes its siblings'.
    const bool container = t[w.begin] == '{' || t[w.begin] == '[';
    if (has_newline(t, w.begin, w.end)) style.multiline = true;
    else if (container && !read_container(t, w.begin).items.empty()) style.multiline = false;
    else style.multiline = in_multiline(t, w, unit);
    t.replace(w.begin, w.end - w.begin, render(typed, style));
    return commit(std::move(t));
  }

  const std::span<const std::string> rest(tokens->begin() + static_cast<std::ptrdiff_t>(w.found), tokens->end());
  if (t[w.begin] == '{') {  // add the missing member, holding any missing objects below it
    const Container c = read_container(t, w.begin);
    const Layout l = layout_of(t, c, in_multiline(t, w, unit), unit);
    style.multiline = structured_multiline(t, c, l);
    style.indent = l.indent;
    style.colon = l.colon;
    const std::string member = dump(Json(rest[0])) + l.colon + render_nested(rest.subspan(1), typed, style);
    insert_item(t, c, c.items.size(), member, l);
    return commit(std::move(t));
  }
  if (w.found > 0 && t.compare(w.begin, w.end - w.begin, "null") == 0) {  // null on the way: becomes an object
    style.indent = indent_at(t, w.begin);
    style.multiline = in_multiline(t, w, unit);
    t.replace(w.begin, w.end - w.begin, render_nested(rest, typed, style));
    return commit(std::move(t));
  }
  std::string shown = t.substr(w.begin, w.end - w.begin);
  if (shown.size() > kMaxShownValue) shown = shown.substr(0, kMaxShownValue - 3) + "...";
  return (w.found == 0 ? std::string("the document") : pointer_of(*tokens, w.found)) + " is " + shown +
         " (expected an object or array on the way to the field)";
}

std::string ScenarioDocument::insert_element(std::string_view array_pointer, std::size_t index,
                                             std::string_view element_json) {
  if (!dom_) return std::string(kNotWellFormed);
  std::string why;
  const auto tokens = models::split_pointer(std::string(array_pointer), why);
  if (!tokens) return why;
  std::string t = text_;
  const Walk w = walk(t, *tokens);
  if (!w.error.empty()) return w.error;
  if (w.found < tokens->size() || t[w.begin] != '[') return std::string(array_pointer) + " is not an array";
  if (Json::parse(element_json, nullptr, /*allow_exceptions=*/false).is_discarded())
    return "not JSON: " + std::string(element_json);
  const Typed element = read_typed(element_json);
  const Container c = read_container(t, w.begin);
  if (index > c.items.size()) return std::string(array_pointer) + ": no position " + std::to_string(index);
  const std::string unit = indent_unit(t);
  const Layout l = layout_of(t, c, in_multiline(t, w, unit), unit);
  Style style;
  style.multiline = structured_multiline(t, c, l);
  style.indent = l.indent;
  style.unit = unit;
  style.newline = l.newline;
  insert_item(t, c, index, render(element, style), l);
  return commit(std::move(t));
}

std::string ScenarioDocument::remove_element(std::string_view array_pointer, std::size_t index) {
  if (!dom_) return std::string(kNotWellFormed);
  std::string why;
  const auto tokens = models::split_pointer(std::string(array_pointer), why);
  if (!tokens) return why;
  std::string t = text_;
  const Walk w = walk(t, *tokens);
  if (!w.error.empty()) return w.error;
  if (w.found < tokens->size() || t[w.begin] != '[') return std::string(array_pointer) + " is not an array";
  const Container c = read_container(t, w.begin);
  if (index >= c.items.size()) return std::string(array_pointer) + ": no element " + std::to_string(index);
  remove_item(t, c, index);
  return commit(std::move(t));
}

std::string ScenarioDocument::commit(std::string text) {
  // Every edit above keeps the text well-formed; should one not, the document
  // stays as it was rather than lose the user's file.
  Json root = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return "internal error: the edit would leave the JSON text malformed; nothing changed";
  text_ = std::move(text);
  dom_->root = std::move(root);
  return {};
}

models::LoadResult ScenarioDocument::validate() const { return models::parse_scenario(text_, base_dir_); }

bool error_belongs_to(std::string_view error_path, std::string_view field_pointer) {
  if (field_pointer.empty()) return error_path.empty();
  if (!error_path.starts_with(field_pointer)) return false;
  return error_path.size() == field_pointer.size() || error_path[field_pointer.size()] == '/';
}

}  // namespace ota::gui
