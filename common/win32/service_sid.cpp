#include "common/win32/service_sid.h"

#include <windows.h>

#include <bcrypt.h>

#include <array>
#include <cstdint>
#include <cstdio>

#include "common/error.h"
#include "common/win32/handle.h"
#include "common/win32/strings.h"

namespace tandem::win32 {
namespace {

BCRYPT_ALG_HANDLE null_alg() {
  return nullptr;
}
void close_alg(BCRYPT_ALG_HANDLE h) {
  BCryptCloseAlgorithmProvider(h, 0);
}
BCRYPT_HASH_HANDLE null_hash() {
  return nullptr;
}
void close_hash(BCRYPT_HASH_HANDLE h) {
  BCryptDestroyHash(h);
}
using Algorithm = Owned<BCRYPT_ALG_HANDLE, null_alg, close_alg>;
using Hash = Owned<BCRYPT_HASH_HANDLE, null_hash, close_hash>;

void check(NTSTATUS status, const char* call) {
  if (status >= 0) return;
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08lX", static_cast<unsigned long>(status));
  throw Error(std::string(call) + " failed with NTSTATUS " + hex);
}

std::array<std::uint8_t, 20> sha1(const void* data, ULONG size) {
  BCRYPT_ALG_HANDLE alg = nullptr;
  check(BCryptOpenAlgorithmProvider(&alg, BCRYPT_SHA1_ALGORITHM, nullptr, 0),
        "BCryptOpenAlgorithmProvider(SHA1)");
  Algorithm algorithm(alg);
  BCRYPT_HASH_HANDLE h = nullptr;
  check(BCryptCreateHash(alg, &h, nullptr, 0, nullptr, 0, 0), "BCryptCreateHash(SHA1)");
  Hash hash(h);
  check(BCryptHashData(h, static_cast<PUCHAR>(const_cast<void*>(data)), size, 0),
        "BCryptHashData(SHA1)");
  std::array<std::uint8_t, 20> digest{};
  check(BCryptFinishHash(h, digest.data(), static_cast<ULONG>(digest.size()), 0),
        "BCryptFinishHash(SHA1)");
  return digest;
}

}  // namespace

std::string service_sid(std::string_view service_name) {
  std::wstring name = widen(std::string(service_name));
  // The SCM compares names case-insensitively; the SID is defined on the upper-case form.
  CharUpperBuffW(name.data(), static_cast<DWORD>(name.size()));
  auto digest = sha1(name.data(), static_cast<ULONG>(name.size() * sizeof(wchar_t)));
  std::string sid = "S-1-5-80";
  for (std::size_t i = 0; i < digest.size(); i += 4) {
    const std::uint32_t part = std::uint32_t{digest[i]} | std::uint32_t{digest[i + 1]} << 8 |
                               std::uint32_t{digest[i + 2]} << 16 |
                               std::uint32_t{digest[i + 3]} << 24;
    sid += "-" + std::to_string(part);
  }
  return sid;
}

bool running_on_wine() {
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  return ntdll && GetProcAddress(ntdll, "wine_get_version") != nullptr;
}

}  // namespace tandem::win32
