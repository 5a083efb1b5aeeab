// Whether the other end of a connected socket has closed it, without blocking: how an HTTP
// client tells a kept-alive connection the server ended from one still usable.
#pragma once

#include <cstdint>

namespace tandem {

// True when `socket` (a native socket handle or descriptor) reads as closed or reset now; false
// while it is open with nothing to read.
bool peer_closed(std::uintptr_t socket);

}  // namespace tandem
