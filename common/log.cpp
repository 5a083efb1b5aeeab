#include "common/log.h"

#include <atomic>
#include <iostream>

#include <boost/core/null_deleter.hpp>
#include <boost/log/attributes/clock.hpp>
#include <boost/log/core.hpp>
#include <boost/log/expressions.hpp>
#include <boost/log/sinks/sync_frontend.hpp>
#include <boost/log/sinks/text_file_backend.hpp>
#include <boost/log/sinks/text_ostream_backend.hpp>
#include <boost/log/sources/record_ostream.hpp>
#include <boost/log/sources/severity_logger.hpp>
#include <boost/log/support/date_time.hpp>
#include <boost/shared_ptr.hpp>
#include <boost/smart_ptr/make_shared_object.hpp>
#ifdef _WIN32
#include <boost/log/sinks/event_log_backend.hpp>
#endif

#include "common/error.h"
#include "common/files.h"

namespace tandem::log {

std::ostream& operator<<(std::ostream& out, Level level);

namespace {

namespace bl = boost::log;
namespace expr = boost::log::expressions;

BOOST_LOG_ATTRIBUTE_KEYWORD(severity, "Severity", Level)
BOOST_LOG_ATTRIBUTE_KEYWORD(timestamp, "TimeStamp", boost::posix_time::ptime)

std::atomic<Level> g_level{Level::info};

bl::sources::severity_logger_mt<Level>& logger() {
  static bl::sources::severity_logger_mt<Level> instance;
  return instance;
}

auto line_format() {
  return expr::stream << expr::format_date_time(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ") << " ["
                      << severity << "] " << expr::smessage;
}

void add_file_sink(const Options& o) {
  using backend_t = bl::sinks::text_file_backend;
  std::error_code ec;
  std::filesystem::create_directories(o.directory, ec);
  if (ec) throw Error("cannot create log folder " + path_utf8(o.directory) + ": " + ec.message());
  auto backend = boost::make_shared<backend_t>(
      bl::keywords::file_name = (o.directory / (o.file_stem + ".log")).string(),
      bl::keywords::target_file_name = o.file_stem + "_%Y%m%d_%H%M%S_%N.log",
      bl::keywords::open_mode = std::ios::out | std::ios::app,
      bl::keywords::rotation_size = o.rotation_bytes, bl::keywords::auto_flush = true,
      // <stem>.log stays the current file across restarts; only size rotates it.
      bl::keywords::enable_final_rotation = false);
  backend->set_file_collector(bl::sinks::file::make_collector(
      bl::keywords::target = o.directory.string(),
      bl::keywords::max_files = o.max_files > 0 ? o.max_files - 1 : 0));
  backend->scan_for_files();
  auto sink = boost::make_shared<bl::sinks::synchronous_sink<backend_t>>(backend);
  sink->set_formatter(line_format());
  bl::core::get()->add_sink(sink);
}

void add_console_sink() {
  using backend_t = bl::sinks::text_ostream_backend;
  auto backend = boost::make_shared<backend_t>();
  backend->add_stream(boost::shared_ptr<std::ostream>(&std::clog, boost::null_deleter()));
  backend->auto_flush(true);
  auto sink = boost::make_shared<bl::sinks::synchronous_sink<backend_t>>(backend);
  sink->set_formatter(line_format());
  bl::core::get()->add_sink(sink);
}

#ifdef _WIN32
void add_event_log_sink(const Options& o) {
  using backend_t = bl::sinks::simple_event_log_backend;
  // Never register: that writes HKLM, which a service's virtual account may not; the installer
  // registers the source with its message file (win32/event_log_source.h).
  auto backend =
      boost::make_shared<backend_t>(bl::keywords::log_source = o.event_source,
                                    bl::keywords::registration = bl::sinks::event_log::never);
  bl::sinks::event_log::custom_event_type_mapping<Level> mapping("Severity");
  mapping[Level::trace] = bl::sinks::event_log::info;
  mapping[Level::debug] = bl::sinks::event_log::info;
  mapping[Level::info] = bl::sinks::event_log::info;
  mapping[Level::warning] = bl::sinks::event_log::warning;
  mapping[Level::error] = bl::sinks::event_log::error;
  backend->set_event_type_mapper(mapping);
  auto sink = boost::make_shared<bl::sinks::synchronous_sink<backend_t>>(backend);
  sink->set_formatter(expr::stream << expr::smessage);
  // Only what an administrator must see goes to the Event Log.
  sink->set_filter(severity >= Level::warning);
  bl::core::get()->add_sink(sink);
}
#endif

}  // namespace

std::string_view level_name(Level level) {
  switch (level) {
    case Level::trace:
      return "trace";
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warning:
      return "warning";
    case Level::error:
      return "error";
  }
  return "info";
}

std::ostream& operator<<(std::ostream& out, Level level) {
  return out << level_name(level);
}

Level parse_level(std::string_view name) {
  for (Level l : {Level::trace, Level::debug, Level::info, Level::warning, Level::error}) {
    if (level_name(l) == name) return l;
  }
  return Level::info;
}

void init(const Options& options) {
  auto core = bl::core::get();
  core->remove_all_sinks();
  core->add_global_attribute("TimeStamp", bl::attributes::utc_clock());
  g_level = options.level;
  if (!options.directory.empty()) add_file_sink(options);
  if (options.console) add_console_sink();
#ifdef _WIN32
  if (!options.event_source.empty()) {
    try {
      add_event_log_sink(options);
    } catch (const std::exception& e) {
      write(Level::warning, std::string("Windows Event Log unavailable: ") + e.what());
    }
  }
#endif
}

void set_level(Level level) {
  g_level = level;
}

void shutdown() {
  auto core = bl::core::get();
  core->flush();
  core->remove_all_sinks();
}

bool enabled(Level level) {
  return level >= g_level.load();
}

void write(Level level, std::string_view message) {
  if (level < g_level.load()) return;
  auto& lg = logger();
  if (auto record = lg.open_record(bl::keywords::severity = level)) {
    bl::record_ostream stream(record);
    stream << message;
    stream.flush();
    lg.push_record(std::move(record));
  }
}

void init_or_fall_back(Options options) {
  try {
    init(options);
  } catch (const std::exception& e) {
    options.directory.clear();
    init(options);
    TLOG(warning) << e.what();
  }
}

}  // namespace tandem::log
