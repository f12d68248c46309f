// ConfigProblems: the mistakes found in the configuration files, each tied to a file and place.
#pragma once

#include <string>
#include <vector>

#include "lib/result.h"

namespace wslgo {

struct ConfigProblem {
  std::string file;   // as shown to a person: "~/.config/wslgo-guard/config.json"
  std::string where;  // a JSON pointer ("/guard/sample_interval") or "line 3, column 7"
  std::string message;
};

// Collects every problem instead of stopping at the first, so one edit-and-reload cycle can fix
// them all.
class ConfigProblems {
 public:
  void add(std::string file, std::string where, std::string message);
  bool empty() const { return problems_.empty(); }
  const std::vector<ConfigProblem>& all() const { return problems_; }

  // One line per problem, "FILE: WHERE: MESSAGE". The Error's path is the first problem's file
  // and its message the rest of the first line followed by the other lines, so describe()
  // yields exactly those lines.
  Error toError() const;

 private:
  std::vector<ConfigProblem> problems_;
};

}  // namespace wslgo
