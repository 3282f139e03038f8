// otasim schema — the scenario format, written from the loader's own field table.
#include <cstdio>
#include <iostream>
#include <string>

#include "ota/models/scenario/field_table.hpp"

int otasim_schema(int argc, char** argv) {
  const char* usage =
      "usage: otasim schema [--markdown]\n\n"
      "Writes the scenario format to standard output, from the table the loader reads every field through:\n"
      "  (no option)  JSON Schema draft 2020-12 (scenarios/scenario.schema.json)\n"
      "  --markdown   one table row per field (scenarios/FIELDS.md)\n";
  bool markdown = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << usage;
      return 0;
    }
    if (a == "--markdown") {
      markdown = true;
      continue;
    }
    std::cerr << "otasim schema: unknown option '" << a << "'\n" << usage;
    return 2;
  }
  std::cout << (markdown ? ota::models::fields::fields_markdown() : ota::models::fields::schema_json());
  std::cout.flush();
  return std::cout ? 0 : 1;
}
