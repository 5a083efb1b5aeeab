#include "common/win32/status_publication.h"

#include <type_traits>

namespace tandem::win32 {

StatusPublication::StatusPublication(const std::string& key_path, std::string_view pipe_name,
                                     PipeServer::Handler handler, std::string_view service_name)
    : pipe_(pipe_name, PipeServer::sddl_for_service(service_name), std::move(handler)),
      key_(create_locked_down(HKEY_LOCAL_MACHINE, key_path, publication_key_sddl(service_name))) {}

StatusPublication::~StatusPublication() {
  pipe_.stop();
}

void StatusPublication::write(const StatusValues& values) {
  for (const auto& [name, value] : values) {
    std::visit(
        [&](const auto& v) {
          if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::string>) {
            key_.set_string(name, v);
          } else {
            key_.set_dword(name, v);
          }
        },
        value);
  }
}

}  // namespace tandem::win32
