// ONNX building blocks: LayerNormalization, Gelu, rotary embedding.
#include "common.cuh"

using namespace a4j;

/**
 * Per group g of contiguous x [groups, n]: μ = mean, σ² = mean((x − μ)²), y = (x − μ)/√(σ² + ε)·scale + bias
 * (scale and bias contiguous [n], bias may be null); mean and inv_std (may be null) get one value per group.
 * One block per group; y may be x.
 */
extern "C" __global__ void layer_norm_f32(const float* x, float* y, const float* scale, const float* bias,
                                          float* mean, float* inv_std, i64 groups, int n, float eps) {
    __shared__ float scratch[33];
    for (i64 g = blockIdx.x; g < groups; g += gridDim.x) {
        const float* xr = x + g * n;
        float* yr = y + g * n;
        float s = 0.0f;
        for (int t = threadIdx.x; t < n; t += blockDim.x) s += xr[t];
        const float mu = block_reduce<false>(s, scratch) / n;
        float q = 0.0f;
        for (int t = threadIdx.x; t < n; t += blockDim.x) {
            const float d = xr[t] - mu;
            q += d * d;
        }
        const float var = block_reduce<false>(q, scratch) / n;
        const float inv = rsqrtf(var + eps);
        for (int t = threadIdx.x; t < n; t += blockDim.x) {
            float r = (xr[t] - mu) * inv * scale[t];
            if (bias != nullptr) r += bias[t];
            yr[t] = r;
        }
        if (threadIdx.x == 0) {
            if (mean != nullptr) mean[g] = mu;
            if (inv_std != nullptr) inv_std[g] = inv;
        }
    }
}

/** y = GELU(x) over n contiguous elements: approx 0 = x/2·(1 + erf(x/√2)), 1 = the tanh form. y may be x. */
extern "C" __global__ void gelu_f32(const float* x, float* y, i64 n, int approx) {
    for (i64 idx = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; idx < n;
         idx += static_cast<i64>(gridDim.x) * blockDim.x) {
        const float v = x[idx];
        y[idx] = approx == 0 ? 0.5f * v * (1.0f + erff(v * 0.70710678118654752f))
                             : 0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
    }
}

/**
 * Rotary embedding of contiguous x [B, H, S, D] into y (may be x). With pos (int32 [B·S]) cos and sin are
 * [maxPos, rot/2] caches indexed by pos[b·S + s], else [B, S, rot/2]. Pair t < rot/2 is (t, t + rot/2), or
 * (2t, 2t + 1) when interleaved; features past rot are copied. One thread per pair or copied feature.
 */
extern "C" __global__ void rotary_f32(const float* x, float* y, const float* cos_cache, const float* sin_cache,
                                      const int* pos, int B, int H, int S, int D, int rot, int interleaved) {
    const int half = rot / 2;
    const i64 count = static_cast<i64>(B) * H * S * D;
    for (i64 idx = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; idx < count;
         idx += static_cast<i64>(gridDim.x) * blockDim.x) {
        const int t = static_cast<int>(idx % D);
        const i64 row = idx / D;  // (b·H + h)·S + s
        const int s = static_cast<int>(row % S);
        const int b = static_cast<int>(row / (static_cast<i64>(S) * H));
        const float* xr = x + row * D;
        float* yr = y + row * D;
        if (t < half) {
            const i64 at = pos != nullptr ? static_cast<i64>(pos[static_cast<i64>(b) * S + s]) * half + t
                                          : (static_cast<i64>(b) * S + s) * half + t;
            const float c = cos_cache[at];
            const float sn = sin_cache[at];
            const int i1 = interleaved ? 2 * t : t;
            const int i2 = interleaved ? 2 * t + 1 : t + half;
            const float x1 = xr[i1];
            const float x2 = xr[i2];
            yr[i1] = c * x1 - sn * x2;
            yr[i2] = sn * x1 + c * x2;
        } else if (t >= rot) {
            yr[t] = xr[t];
        }
    }
}
