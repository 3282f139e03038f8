// json_pointer.hpp — JSON Pointers (RFC 6901) as `otasim --param` reads them.
//
// One parser for every tool that addresses a scenario field: the loader's
// overrides and the planner's form both go through it, so they accept and
// refuse the same pointers with the same words. No JSON library needed.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace ota::models {

// The unescaped reference tokens of `pointer` ("/a~1b/0" -> {"a/b", "0"}).
// nullopt, with the reason in `why`, for the empty pointer (it would name the
// whole scenario), a pointer not starting with '/', or a '~' not followed by
// 0 or 1. Whether a token names an array element is array_index's question.
std::optional<std::vector<std::string>> split_pointer(const std::string& pointer, std::string& why);

// The element a token names in an array of `size` elements: decimal digits
// without a leading zero ("01" is no index), below `size`; nullopt otherwise.
std::optional<std::size_t> array_index(const std::string& token, std::size_t size);

// Why `token` names no element of the array at `array_pointer` ("" for the
// document itself), which has `size` elements. Overrides replace elements and
// never append, so an index equal to `size` is refused too.
std::string not_an_element(const std::string& token, const std::string& array_pointer, std::size_t size);

}  // namespace ota::models
