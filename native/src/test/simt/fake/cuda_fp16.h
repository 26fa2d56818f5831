// Host stand-in for cuda_fp16.h (simt_test only): __half as IEEE binary16 bits, round-to-nearest-even.
#pragma once
#include <cstdint>
#include <cstring>
struct __half { uint16_t bits; };
inline float __half2float(__half h) {
    uint32_t sign = (h.bits & 0x8000u) << 16, exp = (h.bits >> 10) & 0x1f, man = h.bits & 0x3ffu, f;
    if (exp == 0) {
        if (man == 0) { f = sign; } else { float v = man / 16777216.0f; std::memcpy(&f, &v, 4); f |= sign; }
    } else if (exp == 31) { f = sign | 0x7f800000u | (man << 13); }
    else { f = sign | ((exp + 112) << 23) | (man << 13); }
    float out; std::memcpy(&out, &f, 4); return out;
}
inline __half __float2half_rn(float x) {
    uint32_t f; std::memcpy(&f, &x, 4);
    uint32_t sign = (f >> 16) & 0x8000u; int32_t exp = ((f >> 23) & 0xff) - 112; uint32_t man = f & 0x7fffffu;
    __half h;
    if (((f >> 23) & 0xff) == 0xff) { h.bits = sign | 0x7c00u | (man ? 0x200u : 0); return h; }
    if (exp >= 31) { h.bits = sign | 0x7c00u; return h; }
    if (exp <= 0) {
        if (exp < -10) { h.bits = sign; return h; }
        man |= 0x800000u; uint32_t shift = 14 - exp; uint32_t half = man >> shift; uint32_t rem = man & ((1u << shift) - 1);
        uint32_t mid = 1u << (shift - 1); if (rem > mid || (rem == mid && (half & 1))) half++;
        h.bits = sign | half; return h;
    }
    uint32_t half = sign | (exp << 10) | (man >> 13); uint32_t rem = man & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (half & 1))) half++;
    h.bits = half; return h;
}
