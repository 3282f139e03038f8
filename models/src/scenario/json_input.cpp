// json_input.cpp — the scenario loader's JSON layer: text helpers, a checking DOM builder, overrides.
#include "json_input.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <exception>

namespace ota::models::scenario_detail {

// ---------------------------------------------------------------------------
// Text helpers

// Replaces each byte that is not part of well-formed UTF-8 with '?', so that
// messages can be shown or written into JSON reports as they are.
std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    if (c < 0x80) len = 1;
    else if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) len = 3;
    else if (c >= 0xF0 && c <= 0xF4) len = 4;
    bool ok = len != 0 && i + len <= s.size();
    for (std::size_t k = 1; ok && k < len; ++k)
      ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (ok && len >= 3) {  // overlong forms, surrogates and > U+10FFFF
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      if (c == 0xE0 && c1 < 0xA0) ok = false;
      if (c == 0xED && c1 >= 0xA0) ok = false;
      if (c == 0xF0 && c1 < 0x90) ok = false;
      if (c == 0xF4 && c1 >= 0x90) ok = false;
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out.push_back('?');
      ++i;
    }
  }
  return out;
}

// One reference token of a JSON Pointer (RFC 6901: '~' -> "~0", '/' -> "~1").
std::string pointer_token(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out.push_back(c);
  }
  return out;
}

std::string child(const std::string& path, std::string_view key) {
  return path + "/" + pointer_token(key);
}

std::string child(const std::string& path, std::size_t index) {
  return path + "/" + std::to_string(index);
}

// Shortest text that reads back as the same double ("0.3", "1e-06"), with
// whole numbers written out ("1000000000", not "1e+09").
std::string format_number(double x) {
  char buf[40];
  if (std::isfinite(x) && x == std::floor(x) && std::fabs(x) < 1e16) {
    std::snprintf(buf, sizeof buf, "%.0f", x);
    return buf;
  }
  const auto r = std::to_chars(buf, buf + sizeof buf, x);
  return r.ec == std::errc() ? std::string(buf, r.ptr) : std::string("?");
}

// A value as it would appear in the document, cut to kMaxShownValue characters.
std::string show(const Json& v) {
  std::string text;
  try {
    text = v.dump(-1, ' ', false, Json::error_handler_t::replace);
  } catch (const std::exception&) {
    text = "(unprintable value)";
  }
  if (text.size() > kMaxShownValue) {
    std::size_t cut = kMaxShownValue;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text.resize(cut);
    text += "...";
  }
  return text;
}

std::string json_quoted(std::string_view s) { return show(Json(std::string(s))); }

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out.empty() ? "none" : out;
}

std::string join(std::initializer_list<std::string_view> names) {
  std::string out;
  for (const auto n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

bool is_documentation_key(std::string_view key) {
  return key.rfind("_comment", 0) == 0 || key == "$schema";
}

// ---------------------------------------------------------------------------
// Parsing: a DOM builder for nlohmann's SAX parser

namespace {

// Builds the document like nlohmann's own DOM parser, and additionally refuses
// duplicate keys (recorded, parsing goes on) and nesting deeper than
// kMaxJsonDepth (parsing stops: the DOM's recursive operations stay bounded).
class DomBuilder {
 public:
  DomBuilder(Diagnostics& diag, std::string_view text) : diag_(diag), text_(text) {}

  bool null() { return add(Json(nullptr)); }
  bool boolean(bool v) { return add(Json(v)); }
  bool number_integer(Json::number_integer_t v) { return add(Json(v)); }
  bool number_unsigned(Json::number_unsigned_t v) { return add(Json(v)); }
  bool number_float(Json::number_float_t v, const Json::string_t& /*text*/) { return add(Json(v)); }
  bool string(Json::string_t& v) { return add(Json(std::move(v))); }
  bool binary(Json::binary_t& /*v*/) { return false; }  // JSON text has no binary values
  bool start_object(std::size_t /*elements*/) { return open(Json::object()); }
  bool start_array(std::size_t /*elements*/) { return open(Json::array()); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(Json::string_t& k) {
    if (stack_.empty()) return false;
    const Frame& f = stack_.back();
    if (f.node->contains(k))
      diag_.add(child(f.path, k), "duplicate key " + json_quoted(k) + " (expected each key at most once in an object)");
    key_ = std::move(k);
    return true;
  }

  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& e) {
    // nlohmann's message: "[json.exception.parse_error.101] parse error at line
    // 3, column 7: syntax error ..." or "[json.exception.out_of_range.406]
    // number overflow parsing '1e999'". Keep the explanation, and give the
    // position ourselves so that every kind of error has one.
    std::string what = e.what();
    if (const auto p = what.find("] "); p != std::string::npos) what.erase(0, p + 2);
    if (what.rfind("parse error", 0) == 0) {
      if (const auto p = what.find(": "); p != std::string::npos) what.erase(0, p + 2);
    }
    const std::size_t end = std::min(position, text_.size());
    std::size_t line = 1, line_start = 0;
    for (std::size_t i = 0; i < end; ++i) {
      if (text_[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    }
    diag_.add("", "malformed JSON at line " + std::to_string(line) + ", column " +
                      std::to_string(end - line_start) + ": " + what);
    return false;
  }

  Json take_root() { return std::move(root_); }

 private:
  struct Frame {
    Json* node;
    std::string path;
  };

  // Puts `v` where the parser is: the root, the next array element or the
  // value of the last key. Containers on the stack are never resized while a
  // child of theirs is open, so the pointers stay valid.
  Json* place(Json&& v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    Json& parent = *stack_.back().node;
    if (parent.is_array()) {
      parent.push_back(std::move(v));
      return &parent.back();
    }
    Json& slot = parent[key_];
    slot = std::move(v);
    return &slot;
  }

  bool add(Json&& v) {
    place(std::move(v));
    return true;
  }

  bool open(Json&& container) {
    std::string path;
    if (!stack_.empty()) {
      const Frame& parent = stack_.back();
      path = parent.node->is_array() ? child(parent.path, parent.node->size()) : child(parent.path, key_);
    }
    if (stack_.size() >= static_cast<std::size_t>(kMaxJsonDepth)) {
      diag_.add(path, "nesting deeper than " + std::to_string(kMaxJsonDepth) +
                          " levels (expected a scenario document, which is at most a few levels deep)");
      return false;
    }
    Json* node = place(std::move(container));
    stack_.push_back({node, std::move(path)});
    return true;
  }

  bool close() {
    if (stack_.empty()) return false;
    stack_.pop_back();
    return true;
  }

  Diagnostics& diag_;
  std::string_view text_;
  Json root_;
  std::vector<Frame> stack_;
  std::string key_;
};

}  // namespace

// Parses `text` into `out`. Returns false (with errors recorded) if it is not
// one well-formed JSON value.
bool parse_json(std::string_view text, Diagnostics& diag, Json& out) {
  const std::size_t before = diag.count();
  DomBuilder builder(diag, text);
  bool ok = false;
  try {
    ok = Json::sax_parse(text.data(), text.data() + text.size(), &builder);
  } catch (const std::exception& e) {  // only std::bad_alloc is possible here
    diag.add("", std::string("malformed JSON: ") + e.what());
    return false;
  }
  if (!ok && diag.count() == before) diag.add("", "malformed JSON");
  if (!ok) return false;
  out = builder.take_root();
  return diag.count() == before;
}

// ---------------------------------------------------------------------------
// Overrides

void apply_override(Json& root, const std::string& pointer, const std::string& value_text, Diagnostics& diag) {
  std::string why;
  const auto tokens = split_pointer(pointer, why);
  if (!tokens) {
    diag.add(pointer, "cannot override: " + why);
    return;
  }
  Json value;
  Diagnostics value_diag;
  if (!parse_json(value_text, value_diag, value)) value = Json(value_text);  // a plain string

  Json* node = &root;
  std::string at;  // pointer of *node
  for (std::size_t i = 0; i < tokens->size(); ++i) {
    const std::string& token = (*tokens)[i];
    const bool last = i + 1 == tokens->size();
    if (node->is_object()) {
      if (last) {
        (*node)[token] = std::move(value);
        return;
      }
      Json& next = (*node)[token];
      if (next.is_null()) next = Json::object();  // create a missing intermediate object
      node = &next;
    } else if (node->is_array()) {
      const auto index = array_index(token, node->size());
      if (!index) {
        diag.add(pointer, "cannot override: " + not_an_element(token, at, node->size()));
        return;
      }
      if (last) {
        (*node)[*index] = std::move(value);
        return;
      }
      node = &(*node)[*index];
    } else {
      diag.add(pointer, "cannot override: " + (at.empty() ? std::string("the document") : at) + " is " +
                            show(*node) + " (expected an object or array on the way to the field)");
      return;
    }
    at = child(at, token);
  }
}

}  // namespace ota::models::scenario_detail

// ---------------------------------------------------------------------------
// JSON Pointers (ota/models/scenario/json_pointer.hpp)

namespace ota::models {

std::optional<std::vector<std::string>> split_pointer(const std::string& pointer, std::string& why) {
  if (pointer.empty()) {
    why = "the empty pointer would replace the whole scenario (expected a path to one field, like /fleet/devices)";
    return std::nullopt;
  }
  if (pointer[0] != '/') {
    why = scenario_detail::json_quoted(pointer) +
          " is not a JSON Pointer (expected a path starting with '/', like /fleet/devices)";
    return std::nullopt;
  }
  std::vector<std::string> tokens;
  std::string token;
  for (std::size_t i = 1; i <= pointer.size(); ++i) {
    if (i == pointer.size() || pointer[i] == '/') {
      tokens.push_back(std::move(token));
      token.clear();
    } else if (pointer[i] == '~') {
      const char next = i + 1 < pointer.size() ? pointer[i + 1] : '\0';
      if (next != '0' && next != '1') {
        why = scenario_detail::json_quoted(pointer) +
              " has '~' not followed by 0 or 1 (expected ~0 for '~' and ~1 for '/')";
        return std::nullopt;
      }
      token.push_back(next == '0' ? '~' : '/');
      ++i;
    } else {
      token.push_back(pointer[i]);
    }
  }
  return tokens;
}

// An array index token: decimal digits without a leading zero, below `size`.
std::optional<std::size_t> array_index(const std::string& token, std::size_t size) {
  if (token.empty() || token.size() > 18 || (token.size() > 1 && token[0] == '0')) return std::nullopt;
  std::size_t index = 0;
  for (char c : token) {
    if (c < '0' || c > '9') return std::nullopt;
    index = index * 10 + static_cast<std::size_t>(c - '0');
  }
  if (index >= size) return std::nullopt;
  return index;
}

std::string not_an_element(const std::string& token, const std::string& array_pointer, std::size_t size) {
  return scenario_detail::json_quoted(token) + " is not an element of " +
         (array_pointer.empty() ? std::string("the document") : array_pointer) + ", which has " +
         std::to_string(size) + " elements (expected an index below " + std::to_string(size) +
         "; overrides replace elements and do not append)";
}

}  // namespace ota::models
