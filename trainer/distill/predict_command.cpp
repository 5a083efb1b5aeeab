#include "trainer/distill/predict_command.h"

#include <cstdio>
#include <exception>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "trainer/distill/student.h"

namespace tandem::distill {

int predict_command(const std::vector<std::string>& words,
                    const std::function<int(const std::string&)>& usage) {
  std::vector<std::string> args;
  bool as_json = false;
  for (const auto& word : words) {
    if (word == "--json") {
      as_json = true;
    } else {
      args.push_back(word);
    }
  }
  if (args.size() != 2) return usage("predict needs MODEL and TEXT");
  try {
    const Student student = Student::load(path_from_utf8(args[0]));
    const Prediction p = student.predict(args[1]);
    const bool defer = !student.answers(p);
    if (as_json) {
      nlohmann::json probabilities = nlohmann::json::object();
      for (std::size_t k = 0; k < student.labels().size(); ++k) {
        probabilities[student.labels()[k]] = p.probabilities[k];
      }
      std::printf(
          "%s\n",
          nlohmann::json{{"label", p.label}, {"defer", defer}, {"probabilities", probabilities}}
              .dump()
              .c_str());
    } else {
      std::printf("%s\n", defer ? "defer" : p.label.c_str());
    }
    return defer ? kDeferExitCode : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tandem-trainer predict: %s\n", e.what());
    return 3;
  }
}

}  // namespace tandem::distill
