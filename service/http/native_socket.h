// The few socket calls the HTTP server makes itself (cpp-httplib's own helpers are private to
// it), one set for Winsock and POSIX. One rule for signals: a call a signal interrupts (EINTR)
// is made again, a wait with the time that was left, so a signal neither ends nor lengthens it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace tandem::http {

#ifdef _WIN32
using NativeSocket = std::uintptr_t;  // SOCKET
#else
using NativeSocket = int;
#endif

namespace net {

// >0 ready, 0 timed out, <0 failed. Negative timeouts count as 0; kNoTimeout waits until a socket
// is ready. A hang-up or an error counts as ready: the next receive()/send_some() reports it.
inline constexpr std::chrono::milliseconds kNoTimeout = std::chrono::milliseconds::max();
int wait_readable(NativeSocket s, std::chrono::milliseconds timeout);
int wait_writable(NativeSocket s, std::chrono::milliseconds timeout);

struct Polled {
  NativeSocket socket;
  bool readable = false;  // set by wait_any_readable
};
// Waits until at least one of `sockets` is readable and marks each one that is; the result
// counts as wait_readable()'s does.
int wait_any_readable(std::span<Polled> sockets, std::chrono::milliseconds timeout);

// recv()/send() as one call each; send never raises SIGPIPE.
long receive(NativeSocket s, char* data, std::size_t size, bool peek = false);
long send_some(NativeSocket s, const char* data, std::size_t size);

void shutdown_send(NativeSocket s);
void shutdown_both(NativeSocket s);
void close(NativeSocket s);

// The failed call's error code: WSAGetLastError() on Windows, errno elsewhere.
int last_error();

// A UDP socket on 127.0.0.1 connected to itself: a byte sent to it makes it readable, which
// wakes a poll (a pipe would do on Linux, but WSAPoll only takes sockets). Throws tandem::Error
// naming the call that failed, for `purpose`.
NativeSocket loopback_wake_socket(const std::string& purpose);

// Connects to the listener on the loopback address of `family` (AF_INET or AF_INET6) at `port`
// and closes at once: the connection waits in the listener's backlog and wakes its accept loop.
// False if the connection could not be made.
bool poke_listener(int family, std::uint16_t port);

// Fills the numeric address and port of either end; empty/0 if the call fails.
void peer_address(NativeSocket s, std::string& address, int& port);
void local_address(NativeSocket s, std::string& address, int& port);

}  // namespace net

}  // namespace tandem::http
