#include "common/win32/child_process.h"

#include <windows.h>

#include <cstddef>
#include <cwchar>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/log.h"
#include "common/process/command_line.h"
#include "common/process/line_splitter.h"
#include "common/win32/error.h"
#include "common/win32/event.h"
#include "common/win32/handle.h"
#include "common/win32/job_object.h"
#include "common/win32/process.h"
#include "common/win32/stop_event.h"
#include "common/win32/strings.h"
#include "common/win32/thread.h"

namespace tandem::win32 {

namespace {

// --- environment ------------------------------------------------------------------------------

struct NameLess {  // environment names: case-insensitive, ordinal, as CreateProcessW sorts them
  bool operator()(const std::wstring& a, const std::wstring& b) const {
    return CompareStringOrdinal(a.data(), static_cast<int>(a.size()), b.data(),
                                static_cast<int>(b.size()), TRUE) == CSTR_LESS_THAN;
  }
};

class EnvironmentStrings {
 public:
  EnvironmentStrings() : block_(GetEnvironmentStringsW()) {
    if (block_ == nullptr) throw_last_error("GetEnvironmentStringsW()");
  }
  EnvironmentStrings(const EnvironmentStrings&) = delete;
  EnvironmentStrings& operator=(const EnvironmentStrings&) = delete;
  ~EnvironmentStrings() { FreeEnvironmentStringsW(block_); }
  const wchar_t* get() const { return block_; }

 private:
  wchar_t* block_;
};

// --- output -----------------------------------------------------------------------------------

// Shared by run() and its two reader threads. A reader stuck on a pipe that some process outside
// the job still holds is abandoned, owning its share, so nothing it touches dangles.
struct Output {
  std::mutex mutex;
  const LineCallback* on_line = nullptr;  // null once run() is done with the callback
  std::exception_ptr error;               // the first failure of the callback or of a read
  Event failed = Event(Event::Reset::manual, "output failed");  // set with `error`
};

// Records the first failure and wakes run(); called with output.mutex held, from a reader thread
// where nothing may escape.
void fail(Output& output, std::exception_ptr error) noexcept {
  if (output.error) return;
  output.error = std::move(error);
  output.failed.set_or_log();  // else the job's end still ends run()'s wait
}

struct Reader {
  std::shared_ptr<Output> output;
  Handle pipe;
  Stream stream;
};

// Holding the lock while calling keeps calls from the two readers from overlapping.
void deliver(Output& output, Stream stream, std::string_view line) {
  std::lock_guard lock(output.mutex);
  if (output.on_line == nullptr || output.error) return;
  try {
    (*output.on_line)(stream, line);
  } catch (...) {
    fail(output, std::current_exception());
  }
}

DWORD WINAPI read_output(void* parameter) {
  const std::unique_ptr<Reader> reader(static_cast<Reader*>(parameter));
  Output& output = *reader->output;
  try {
    LineSplitter lines([&](std::string_view line) { deliver(output, reader->stream, line); });
    char buffer[8192];
    for (;;) {
      DWORD n = 0;
      if (!ReadFile(reader->pipe.get(), buffer, sizeof(buffer), &n, nullptr)) {
        const DWORD error = GetLastError();
        if (error == ERROR_BROKEN_PIPE) break;  // every write end is closed: the output's end
        if (error == ERROR_OPERATION_ABORTED) return 0;  // run() gave up on this pipe
        throw_error("ReadFile(" + std::string(stream_name(reader->stream)) + " pipe)", error);
      }
      lines.feed(std::string_view(buffer, n));
    }
    lines.finish();
  } catch (...) {
    std::lock_guard lock(output.mutex);
    fail(output, std::current_exception());
  }
  return 0;
}

Thread start_reader(std::shared_ptr<Output> output, Handle pipe, Stream stream) {
  auto reader = std::make_unique<Reader>(Reader{std::move(output), std::move(pipe), stream});
  Thread thread =
      Thread::start(&read_output, reader.get(), std::string(stream_name(stream)) + " reader");
  reader.release();  // the thread owns it now
  return thread;
}

// Waits for both readers to reach the end of their pipes, bounded: a process outside the job
// (one the program gave a duplicate of its stdout) could keep a pipe open for ever.
void join_readers(const Thread (&readers)[2], const std::string& program,
                  std::chrono::milliseconds timeout) {
  const std::string call = "WaitForMultipleObjects(output readers)";
  const HANDLE threads[] = {readers[0].waitable(call), readers[1].waitable(call)};
  const DWORD waited =
      WaitForMultipleObjects(2, threads, TRUE, static_cast<DWORD>(timeout.count()));
  if (waited == WAIT_FAILED) throw_last_error(call);
  if (waited != WAIT_TIMEOUT) return;
  TLOG(warning) << "the output pipes of " << program << " are still open " << timeout.count()
                << " ms after its job ended; the rest of its output is dropped";
  for (const Thread& reader : readers) {
    try {
      reader.cancel_synchronous_io();
    } catch (const std::exception& e) {
      TLOG(warning) << e.what();  // the reader is abandoned either way, owning its share
    }
  }
}

// --- process ----------------------------------------------------------------------------------

struct OutputPipe {
  Handle read;
  Handle write;
};

OutputPipe output_pipe(Stream stream) {
  const std::string what(stream_name(stream));
  HANDLE read = nullptr;
  HANDLE write = nullptr;
  if (!CreatePipe(&read, &write, nullptr, 0)) throw_last_error("CreatePipe(" + what + ")");
  OutputPipe pipe{Handle(read), Handle(write)};
  // Inheritable for the handle list; the read end stays ours alone.
  if (!SetHandleInformation(write, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT)) {
    throw_last_error("SetHandleInformation(" + what + " write end, inherit)");
  }
  return pipe;
}

FileHandle open_nul() {
  SECURITY_ATTRIBUTES inherit{sizeof(inherit), nullptr, TRUE};
  FileHandle nul(CreateFileW(L"NUL", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, &inherit,
                             OPEN_EXISTING, 0, nullptr));
  if (!nul) throw_last_error("CreateFileW(NUL)");
  return nul;
}

// The handles a child may inherit, whatever else in this process is inheritable.
class InheritList {
 public:
  explicit InheritList(std::vector<HANDLE> handles) : handles_(std::move(handles)) {
    SIZE_T size = 0;
    InitializeProcThreadAttributeList(nullptr, 1, 0, &size);  // fails, telling the size
    buffer_.resize(size);
    list_ = reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(buffer_.data());
    if (size == 0 || !InitializeProcThreadAttributeList(list_, 1, 0, &size)) {
      throw_last_error("InitializeProcThreadAttributeList(1)");
    }
    if (!UpdateProcThreadAttribute(list_, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, handles_.data(),
                                   handles_.size() * sizeof(HANDLE), nullptr, nullptr)) {
      const DWORD error = GetLastError();
      DeleteProcThreadAttributeList(list_);
      throw_error("UpdateProcThreadAttribute(PROC_THREAD_ATTRIBUTE_HANDLE_LIST)", error);
    }
  }
  InheritList(const InheritList&) = delete;
  InheritList& operator=(const InheritList&) = delete;
  ~InheritList() { DeleteProcThreadAttributeList(list_); }
  LPPROC_THREAD_ATTRIBUTE_LIST get() const { return list_; }

 private:
  std::vector<HANDLE> handles_;  // read by CreateProcessW: must live as long as the list
  std::vector<std::byte> buffer_;
  LPPROC_THREAD_ATTRIBUTE_LIST list_ = nullptr;
};

JobObject make_job(const std::string& program) {
  JobObject job = JobObject::create("job of " + program);
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
  // A trainer that dies takes the program along; a program that crashes ends with its exception
  // code instead of waiting on an error-report dialog nobody sees.
  limits.BasicLimitInformation.LimitFlags =
      JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION;
  job.set_limits(limits);
  return job;
}

// Ends every process left in the job and waits, bounded, for the program's own to be gone.
void end_job(const JobObject& job, const Process& process, std::chrono::milliseconds timeout) {
  job.terminate(static_cast<UINT>(JobObjectLauncher::kStoppedExitCode));
  if (!process.wait(static_cast<DWORD>(timeout.count()))) {
    throw Error(process.what() + " did not end within " + std::to_string(timeout.count()) +
                " ms of TerminateJobObject");
  }
}

// argv with a relative program path that names a folder taken from the working folder, as a
// person writing the job expects (CreateProcessW would take it from the trainer's).
std::vector<std::string> resolved_argv(const ProcessSpec& spec) {
  std::vector<std::string> argv = spec.argv;
  if (argv.empty() || argv[0].empty() || spec.working_dir.empty()) return argv;
  const std::filesystem::path program(widen(argv[0]));
  if (program.is_relative() && program.has_parent_path()) {
    argv[0] = narrow((std::filesystem::path(widen(spec.working_dir)) / program).native());
  }
  return argv;
}

}  // namespace

std::wstring environment_block(const std::map<std::string, std::string>& overrides) {
  std::map<std::wstring, std::wstring, NameLess> variables;
  {
    const EnvironmentStrings current;
    for (const wchar_t* entry = current.get(); *entry != L'\0'; entry += std::wcslen(entry) + 1) {
      const std::wstring_view text(entry);
      // Hidden per-drive folders look like "=C:=C:\jobs": the name ends at the next '='.
      const std::size_t equals = text.find(L'=', 1);
      if (equals == std::wstring_view::npos) continue;
      variables.emplace(text.substr(0, equals), text.substr(equals + 1));
    }
  }
  for (const auto& [name, value] : overrides) {
    if (name.empty() || name.find_first_of(std::string_view("=\0", 2)) != std::string::npos) {
      throw Error("environment variable name \"" + name +
                  "\" must be non-empty and hold no '=' or NUL");
    }
    if (value.find('\0') != std::string::npos) {
      throw Error("environment variable " + name + ": its value holds a NUL character");
    }
    std::wstring wide = widen(name);
    variables.erase(wide);  // the override's spelling of the name replaces the old one
    variables.emplace(std::move(wide), widen(value));
  }
  std::wstring block;
  for (const auto& [name, value] : variables) {
    block += name;
    block += L'=';
    block += value;
    block += L'\0';
  }
  if (variables.empty()) block += L'\0';
  block += L'\0';
  return block;
}

ProcessExit JobObjectLauncher::run(const ProcessSpec& spec, const LineCallback& on_line,
                                   std::stop_token stop) {
  if (stop.stop_requested()) return {.exit_code = kStoppedExitCode, .stopped = true};
  const std::vector<std::string> argv = resolved_argv(spec);
  const std::string command_line = windows_command_line(argv);  // checks argv
  const std::string& program = argv[0];
  std::wstring wide_command_line = widen(command_line);
  std::wstring environment = environment_block(spec.env);
  const std::wstring folder = widen(spec.working_dir);

  const JobObject job = make_job(program);
  OutputPipe out = output_pipe(Stream::out);
  OutputPipe err = output_pipe(Stream::err);
  FileHandle nul = open_nul();
  const InheritList inherit({nul.get(), out.write.get(), err.write.get()});
  STARTUPINFOEXW startup{};
  startup.StartupInfo.cb = sizeof(startup);
  startup.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
  startup.StartupInfo.hStdInput = nul.get();
  startup.StartupInfo.hStdOutput = out.write.get();
  startup.StartupInfo.hStdError = err.write.get();
  startup.lpAttributeList = inherit.get();
  PROCESS_INFORMATION started{};
  // Suspended until it is in the job, so nothing it starts can escape the job.
  constexpr DWORD kFlags = CREATE_SUSPENDED | CREATE_NO_WINDOW | CREATE_UNICODE_ENVIRONMENT |
                           EXTENDED_STARTUPINFO_PRESENT;
  if (!CreateProcessW(nullptr, wide_command_line.data(), nullptr, nullptr, TRUE, kFlags,
                      environment.data(), folder.empty() ? nullptr : folder.c_str(),
                      &startup.StartupInfo, &started)) {
    throw_last_error("CreateProcessW(" + command_line +
                     (spec.working_dir.empty() ? "" : " in " + spec.working_dir) + ")");
  }
  const Process process = Process::adopt(started.hProcess, program);
  Thread thread = Thread::adopt(started.hThread, program + "'s first thread");
  // The child holds the only write ends now, so the pipes end when its job has ended.
  out.write.reset();
  err.write.reset();
  nul.reset();
  try {
    job.assign(process);
  } catch (const std::exception&) {
    // Still suspended: it has run nothing yet.
    TerminateProcess(process.get(), static_cast<UINT>(kStoppedExitCode));
    throw;
  }
  // From here on, closing `job` (also on an exception) ends the program.
  thread.resume();
  thread = Thread();
  TLOG(debug) << "started " << command_line << " as process " << started.dwProcessId;

  auto output = std::make_shared<Output>();
  output->on_line = &on_line;
  struct Detach {  // whatever happens below, `on_line` is not called once run() returns
    Output& output;
    ~Detach() {
      std::lock_guard lock(output.mutex);
      output.on_line = nullptr;
    }
  } detach{*output};
  const Thread readers[2] = {start_reader(output, std::move(out.read), Stream::out),
                             start_reader(output, std::move(err.read), Stream::err)};

  const StopEvent stop_event(stop);
  // The process first: an exit that comes with a stop request is still the program's own.
  const std::string wait_call = "WaitForMultipleObjects(" + program + ")";
  process.rights().require(SYNCHRONIZE, wait_call);
  const HANDLE events[] = {process.get(), stop_event.get(), output->failed.waitable(wait_call)};
  const DWORD woke = WaitForMultipleObjects(3, events, FALSE, INFINITE);
  if (woke == WAIT_FAILED) throw_last_error(wait_call);
  const bool stopped = woke == WAIT_OBJECT_0 + 1;
  if (stopped) TLOG(info) << "ending " << program << " and everything it started, as asked";
  end_job(job, process, end_timeout_);
  const DWORD exit_code = process.exit_code();
  join_readers(readers, program, end_timeout_);
  std::exception_ptr error;
  {
    std::lock_guard lock(output->mutex);
    output->on_line = nullptr;
    error = output->error;
  }
  if (error) std::rethrow_exception(error);
  return {.exit_code = static_cast<int>(exit_code), .stopped = stopped};
}

}  // namespace tandem::win32
