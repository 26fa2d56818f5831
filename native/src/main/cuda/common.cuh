// Shared device helpers of attn4j's kernels: storage types, warp/block reductions, the mask.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

typedef long long i64;

namespace a4j {

__device__ __forceinline__ float neg_inf() { return __int_as_float(0xff800000); }

__device__ __forceinline__ float to_f32(float x) { return x; }
__device__ __forceinline__ float to_f32(__half x) { return __half2float(x); }
__device__ __forceinline__ float to_f32(__nv_bfloat16 x) { return __bfloat162float(x); }

template <class T> __device__ __forceinline__ T from_f32(float x);
template <> __device__ __forceinline__ float from_f32<float>(float x) { return x; }
template <> __device__ __forceinline__ __half from_f32<__half>(float x) { return __float2half_rn(x); }
template <> __device__ __forceinline__ __nv_bfloat16 from_f32<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }

/** Storage type codes shared with the Java side: 0 f32, 1 f16, 2 bf16, 3 u8 (bool). */
__device__ __forceinline__ float load_any(const void* base, int type, i64 at) {
    switch (type) {
        case 0: return static_cast<const float*>(base)[at];
        case 1: return __half2float(static_cast<const __half*>(base)[at]);
        case 2: return __bfloat162float(static_cast<const __nv_bfloat16*>(base)[at]);
        default: return static_cast<const unsigned char*>(base)[at] != 0 ? 1.0f : 0.0f;
    }
}

__device__ __forceinline__ void store_any(void* base, int type, i64 at, float v) {
    switch (type) {
        case 0: static_cast<float*>(base)[at] = v; break;
        case 1: static_cast<__half*>(base)[at] = __float2half_rn(v); break;
        case 2: static_cast<__nv_bfloat16*>(base)[at] = __float2bfloat16_rn(v); break;
        default: static_cast<unsigned char*>(base)[at] = v != 0.0f ? 1 : 0; break;
    }
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

/** Block-wide max or sum (blockDim.x a multiple of 32, at most 1024); every thread gets the result. */
template <bool MAX>
__device__ __forceinline__ float block_reduce(float v, float* scratch /* [33] */) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int warps = blockDim.x >> 5;
    v = MAX ? warp_max(v) : warp_sum(v);
    __syncthreads();  // scratch may still be read by a previous reduction
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    if (warp == 0) {
        float w = lane < warps ? scratch[lane] : (MAX ? neg_inf() : 0.0f);
        w = MAX ? warp_max(w) : warp_sum(w);
        if (lane == 0) scratch[32] = w;
    }
    __syncthreads();
    return scratch[32];
}

/**
 * The mask of one attention problem, as the Java side's MaskEvaluator describes it: per batch b, query i
 * sees keys [clamp(i + lo[b]), clamp(min(i + hi[b], lim[b]))) (each array may be null: unbounded), and
 * inside that range the dense terms decide: a u8 term (0 -> −∞) and an additive float term, each a
 * [B, H, Sq, Sk] view by element strides (0 on broadcast axes), each may be null.
 */
struct Mask {
    const i64* lo;
    const i64* hi;
    const int* lim;
    const unsigned char* bm;
    i64 bs0, bs1, bs2, bs3;
    const float* am;
    i64 as0, as1, as2, as3;

    __device__ __forceinline__ int key_begin(int b, int i, int sk) const {
        if (lo == nullptr) return 0;
        i64 v = static_cast<i64>(i) + lo[b];
        return static_cast<int>(v < 0 ? 0 : (v > sk ? sk : v));
    }

    __device__ __forceinline__ int key_end(int b, int i, int sk) const {
        i64 v = sk;
        if (hi != nullptr) {
            i64 h = static_cast<i64>(i) + hi[b];
            v = h < v ? h : v;
        }
        if (lim != nullptr) {
            i64 l = lim[b];
            v = l < v ? l : v;
        }
        return static_cast<int>(v < 0 ? 0 : v);
    }

    __device__ __forceinline__ bool has_dense() const { return bm != nullptr || am != nullptr; }

    __device__ __forceinline__ float dense(int b, int h, int i, int j) const {
        if (bm != nullptr && bm[b * bs0 + h * bs1 + i * bs2 + j * bs3] == 0) return neg_inf();
        return am != nullptr ? am[b * as0 + h * as1 + i * as2 + j * as3] : 0.0f;
    }
};

/** scale, then softcap·tanh(x/softcap) when softcap > 0 (ONNX order: scale → softcap → mask → softmax). */
__device__ __forceinline__ float scale_softcap(float dot, float scale, float softcap) {
    float s = dot * scale;
    return softcap > 0.0f ? softcap * tanhf(s / softcap) : s;
}

}  // namespace a4j
