// The status window's lines, from the same snapshot as the icon. Portable, so tested natively.
#pragma once

#include <string>

#include "tray/tray_state.h"

namespace tandem::tray {

struct StatusText {
  std::string title;  // the window title: "Tandem status — <llm summary> · <trainer summary>"
  std::string llm;    // "LLM server (TandemLlm): running, pid 348"
  std::string endpoint;
  std::string model;
  std::string compute;  // "Compute: CPU variant haswell; devices: CPU (Intel Core i7)"
  std::string trainer;
  std::string job;  // the current job, with items done/total
  std::string counters;
  std::string last_error;
};

StatusText status_text(const Snapshot& s);

}  // namespace tandem::tray
