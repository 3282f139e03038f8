// gui_test_registry.hpp — the planner's widget tests come in several Qt Test
// classes (one per file); each registers itself here with OTA_GUI_TEST and
// gui_test_main.cpp runs the class that has the test function asked for.
#pragma once

#include <QObject>

#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace ota::gui::testing {

using TestFactory = std::function<std::unique_ptr<QObject>()>;

inline std::vector<std::pair<const char*, TestFactory>>& test_classes() {
  static std::vector<std::pair<const char*, TestFactory>> classes;
  return classes;
}

struct RegisterTest {
  RegisterTest(const char* name, TestFactory factory) { test_classes().emplace_back(name, std::move(factory)); }
};

}  // namespace ota::gui::testing

#define OTA_GUI_TEST(Class) \
  static const ::ota::gui::testing::RegisterTest ota_gui_test_##Class(#Class, [] { return std::make_unique<Class>(); })
