/* GCC 12's AMX intrinsics pass the stride as `long`, which is 32 bits on Windows: MinGW then emits
   `tileloadd (%rax,%esi,1)`, which the assembler refuses (ggml-cpu's sapphirerapids variant).
   Force-included into llama.cpp's C++ for MinGW; only files built with AMX see the change. */
#pragma once
#if defined(__AMX_TILE__) && defined(__MINGW64__)
#include <immintrin.h>
#undef _tile_loadd_internal
#undef _tile_stream_loadd_internal
#undef _tile_stored_internal
#define _tile_loadd_internal(dst, base, stride)                                 \
  __asm__ volatile("{tileloadd\t(%0,%1,1), %%tmm" #dst "|tileloadd\t%%tmm" #dst \
                   ", [%0+%1*1]}" ::"r"((const void*)(base)),                   \
                   "r"((long long)(stride)))
#define _tile_stream_loadd_internal(dst, base, stride)                              \
  __asm__ volatile("{tileloaddt1\t(%0,%1,1), %%tmm" #dst "|tileloaddt1\t%%tmm" #dst \
                   ", [%0+%1*1]}" ::"r"((const void*)(base)),                       \
                   "r"((long long)(stride)))
#define _tile_stored_internal(src, base, stride)                                             \
  __asm__ volatile("{tilestored\t%%tmm" #src ", (%0,%1,1)|tilestored\t[%0+%1*1], %%tmm" #src \
                   "}" ::"r"((void*)(base)),                                                 \
                   "r"((long long)(stride))                                                  \
                   : "memory")
#endif
