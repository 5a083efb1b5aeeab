// The distill job's teacher: the LLM, asked how likely each allowed label is as the continuation
// of a prompt. An interface so the job's logic is tested without a server (trainer/http_teacher.h
// is the real one).
#pragma once

#include <stop_token>
#include <string>
#include <vector>

#include "common/error.h"

namespace tandem::trainer {

// A stop was requested while waiting on the server (between retries, or for it to be ready).
using Stopped = StopRequested;

// The server could not be reached within the configured bounds (resolve timeout, retries). The
// job is not at fault: it stays active and is tried again.
class ServerUnavailable : public Error {
 public:
  using Error::Error;
};

class Teacher {
 public:
  virtual ~Teacher() = default;
  // For each label, the summed log-probability of its tokens as the continuation of `prompt`
  // (-infinity allowed), as the server's `model` (empty: its default model) scores it. Retries and
  // re-resolves inside; throws ServerUnavailable with what was tried when the server stays
  // unreachable past the configured bounds, Error when the server refuses the request (the item is
  // at fault), Stopped when `stop` is requested.
  virtual std::vector<double> score_labels(const std::string& model, const std::string& prompt,
                                           const std::vector<std::string>& labels,
                                           std::stop_token stop) = 0;
};

}  // namespace tandem::trainer
