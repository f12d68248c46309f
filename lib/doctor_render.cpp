#include "lib/doctor_render.h"

#include <nlohmann/json.hpp>

#include "lib/terminal_style.h"

namespace wslgo {
namespace {

std::string_view colourOf(Verdict verdict) {
  switch (verdict) {
    case Verdict::Pass:
      return sgr::kGreen;
    case Verdict::Warn:
      return sgr::kYellow;
    case Verdict::Fail:
      return sgr::kRed;
    case Verdict::Skip:
      return sgr::kDim;
  }
  return "";
}

std::string lowerVerdict(Verdict verdict) {
  switch (verdict) {
    case Verdict::Pass:
      return "pass";
    case Verdict::Warn:
      return "warn";
    case Verdict::Fail:
      return "fail";
    case Verdict::Skip:
      return "skip";
  }
  return "fail";
}

struct Counts {
  size_t pass = 0;
  size_t warn = 0;
  size_t fail = 0;
  size_t skip = 0;
};

Counts count(const std::vector<DoctorCheck>& checks) {
  Counts counts;
  for (const DoctorCheck& check : checks) {
    if (check.verdict == Verdict::Pass) ++counts.pass;
    if (check.verdict == Verdict::Warn) ++counts.warn;
    if (check.verdict == Verdict::Fail) ++counts.fail;
    if (check.verdict == Verdict::Skip) ++counts.skip;
  }
  return counts;
}

}  // namespace

std::string renderDoctorText(const std::vector<DoctorCheck>& checks, bool colour) {
  std::string out;
  for (const DoctorCheck& check : checks) {
    const std::string verdict =
        sgr::paint(colour, colourOf(check.verdict), toString(check.verdict));
    out += verdict + "  " + check.name;
    if (!check.workspace.empty()) out += " (" + check.workspace + ")";
    out += ": " + check.message + "\n";
    if (!check.fix.empty()) out += "      fix: " + check.fix + "\n";
  }
  const Counts counts = count(checks);
  out += "\n" + std::to_string(counts.pass) + " passed, " + std::to_string(counts.warn) +
         " warning(s), " + std::to_string(counts.fail) + " failed";
  if (counts.skip > 0) out += ", " + std::to_string(counts.skip) + " not checked";
  out += "\n";
  return out;
}

std::string renderDoctorJson(const std::vector<DoctorCheck>& checks) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const DoctorCheck& check : checks) {
    list.push_back(
        {{"name", check.name},
         {"workspace", check.workspace.empty() ? nlohmann::ordered_json(nullptr)
                                               : nlohmann::ordered_json(check.workspace)},
         {"verdict", lowerVerdict(check.verdict)},
         {"message", check.message},
         {"fix", check.fix.empty() ? nlohmann::ordered_json(nullptr)
                                   : nlohmann::ordered_json(check.fix)}});
  }
  const Counts counts = count(checks);
  nlohmann::ordered_json out{{"checks", std::move(list)},
                             {"summary",
                              {{"pass", counts.pass},
                               {"warn", counts.warn},
                               {"fail", counts.fail},
                               {"skip", counts.skip}}}};
  return out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace wslgo
