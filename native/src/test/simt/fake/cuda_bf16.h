// Host stand-in for cuda_bf16.h (simt_test only): bfloat16 as the upper half of a binary32.
#pragma once
#include <cstdint>
#include <cstring>
struct __nv_bfloat16 { uint16_t bits; };
inline float __bfloat162float(__nv_bfloat16 h) { uint32_t f = uint32_t(h.bits) << 16; float o; std::memcpy(&o, &f, 4); return o; }
inline __nv_bfloat16 __float2bfloat16_rn(float x) {
    uint32_t f; std::memcpy(&f, &x, 4); __nv_bfloat16 h; h.bits = uint16_t((f + 0x7fffu + ((f >> 16) & 1)) >> 16); return h;
}
