// report_output.hpp — --html and --pdf, shared by run, sweep and check: the
// options, their check before anything runs, and writing the report.
//
// The HTML report draws the planner's charts with the planner's own chart code
// (gui/src/html_report.cpp, Qt offscreen), so it exists when otasim is built
// with the GUI (OTA_BUILD_GUI, the default where Qt 6 is found); without it
// the flags are refused before anything runs.
#pragma once

#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

#include <boost/program_options.hpp>

#include "output_file.hpp"
#include "ota/models/report/report.hpp"
#if OTA_HAVE_HTML_REPORT
#include "ota/gui/html_report.hpp"
#endif

namespace ota::cli {

struct ReportOutputs {
  std::string html, pdf;
  bool any() const { return !html.empty() || !pdf.empty(); }
  // "; to read: REPORT.html, REPORT.pdf" for a summary line, or "".
  std::string describe() const {
    if (!any()) return {};
    return "; to read: " + html + (!html.empty() && !pdf.empty() ? ", " : "") + pdf;
  }
};

inline void add_report_options(boost::program_options::options_description& opts, ReportOutputs& out) {
  namespace po = boost::program_options;
  opts.add_options()("html", po::value(&out.html),
                     "also write a self-contained HTML report here (charts inline, no network)")(
      "pdf", po::value(&out.pdf), "also write the report as PDF here (printed by headless Chromium)");
}

// Exit status 2 with a message when the flags cannot be honoured; checked
// before anything runs, so a bad path costs a second, not the run.
inline std::optional<int> check_report_outputs(const std::string& command, const ReportOutputs& out) {
  if (!out.any()) return std::nullopt;
#if !OTA_HAVE_HTML_REPORT
  std::cerr << command << ": --html and --pdf draw the planner's charts with Qt; this otasim was built without "
            << "the GUI (configure with -DOTA_BUILD_GUI=ON and Qt 6 Charts installed)\n";
  return 2;
#else
  for (const auto& [flag, path] : {std::pair<std::string, std::string>{"--html", out.html}, {"--pdf", out.pdf}}) {
    if (path.empty()) continue;
    if (const std::string why = output_file_problem(flag, path); !why.empty()) {
      std::cerr << command << ": " << why << "\n";
      return 2;
    }
  }
  std::error_code ec1, ec2;
  if (!out.html.empty() && !out.pdf.empty() &&
      std::filesystem::weakly_canonical(out.html, ec1) == std::filesystem::weakly_canonical(out.pdf, ec2)) {
    std::cerr << command << ": --html and --pdf name the same file '" << out.html << "'\n";
    return 2;
  }
  if (!out.pdf.empty() && gui::find_chromium().empty()) {
    std::cerr << command << ": --pdf '" << out.pdf
              << "': no Chromium found to print it (install Debian's chromium package, or set OTASIM_CHROMIUM)\n";
    return 2;
  }
  return std::nullopt;
#endif
}

// The command line as typed (arguments with spaces or quotes quoted), for the
// report's record.
inline std::string command_line(const std::string& program, int argc, char** argv) {
  std::string s = program;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    const bool plain = !a.empty() && a.find_first_of(" \t\"'\\$`") == std::string::npos;
    if (!plain) {
      std::string q = "'";
      for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
      a = q + "'";
    }
    s += " " + a;
  }
  return s;
}

// Writes the HTML and/or the PDF of `html`. 0, or 1 with the message.
inline int write_report_outputs(const std::string& command, const ReportOutputs& out, const std::string& html) {
#if OTA_HAVE_HTML_REPORT
  if (!out.html.empty())
    if (const std::string err = models::write_file_atomically(out.html, html); !err.empty()) {
      std::cerr << command << ": " << err << "\n";
      return 1;
    }
  if (!out.pdf.empty())
    if (const std::string err = gui::print_pdf(html, out.pdf); !err.empty()) {
      std::cerr << command << ": " << err << "\n";
      return 1;
    }
  return 0;
#else
  (void)out;
  (void)html;
  std::cerr << command << ": built without the HTML report\n";
  return 1;
#endif
}

}  // namespace ota::cli
