// One error type for everything Tandem reports to a person: the message says what failed and
// where (file, line, field; Win32 call and its text), so it can be logged and shown as is.
#pragma once

#include <stdexcept>
#include <string>

namespace tandem {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A call to the operating system or its service manager failed (a Win32 API, systemctl): not
// a verdict on what was asked about, so a caller waiting for something passes it on.
// `access_denied` when it was refused for lack of rights (tandemctl's exit code 4).
class SystemError : public Error {
 public:
  SystemError(const std::string& what, bool access_denied)
      : Error(what), access_denied_(access_denied) {}
  bool access_denied() const { return access_denied_; }

 private:
  bool access_denied_;
};

// A stop was requested (service stop, Ctrl+C) while waiting; not a failure of what was waited on.
class StopRequested : public Error {
 public:
  StopRequested() : Error("stopped on request") {}
};

// Input a person wrote (config, job, dataset, request) is wrong; `where` names the place.
class InputError : public Error {
 public:
  InputError(std::string where, const std::string& what)
      : Error(where + ": " + what), where_(std::move(where)) {}
  const std::string& where() const { return where_; }

 private:
  std::string where_;
};

}  // namespace tandem
