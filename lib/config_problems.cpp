#include "lib/config_problems.h"

#include <utility>

namespace wslgo {

void ConfigProblems::add(std::string file, std::string where, std::string message) {
  // A mistake in the default workspace shows through every override; say it once.
  for (const ConfigProblem& problem : problems_) {
    if (problem.file == file && problem.where == where && problem.message == message) return;
  }
  problems_.push_back({std::move(file), std::move(where), std::move(message)});
}

Error ConfigProblems::toError() const {
  if (problems_.empty()) return parseError({}, "no problems");
  auto rest = [](const ConfigProblem& problem) {
    return problem.where.empty() ? problem.message : problem.where + ": " + problem.message;
  };
  std::string message = rest(problems_.front());
  for (size_t i = 1; i < problems_.size(); ++i) {
    message += '\n';
    if (!problems_[i].file.empty()) message += problems_[i].file + ": ";
    message += rest(problems_[i]);
  }
  return parseError(problems_.front().file, std::move(message));
}

}  // namespace wslgo
