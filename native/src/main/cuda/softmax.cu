// Fused scale -> softcap -> mask -> softmax over score rows, and softmax over any axis.
#include "common.cuh"

using namespace a4j;

/**
 * In place over contiguous scores [B, H, Sq, Sk], one block per row (b, h, i):
 *   x = scale·x; stage >= 1: x = softcap·tanh(x/softcap) (softcap > 0); stage >= 2: x += mask (−∞ outside the
 *   visible range or where a u8 term is false); stage 3: x = softmax(x), a fully masked row becoming zeros.
 * With stage 3 and lse not null, lse[row] = max + ln Σ exp(x − max) (−∞ for a fully masked row).
 */
extern "C" __global__ void masked_softmax_rows_f32(float* scores, float* lse, int B, int H, int Sq, int Sk,
                                                   float scale, float softcap, int stage,
                                                   const i64* lo, const i64* hi, const int* lim,
                                                   const unsigned char* bm, i64 bs0, i64 bs1, i64 bs2, i64 bs3,
                                                   const float* am, i64 as0, i64 as1, i64 as2, i64 as3) {
    __shared__ float scratch[33];
    const Mask mask{lo, hi, lim, bm, bs0, bs1, bs2, bs3, am, as0, as1, as2, as3};
    const i64 rows = static_cast<i64>(B) * H * Sq;
    for (i64 row = blockIdx.x; row < rows; row += gridDim.x) {
        const int i = static_cast<int>(row % Sq);
        const int h = static_cast<int>(row / Sq % H);
        const int b = static_cast<int>(row / (static_cast<i64>(Sq) * H));
        float* x = scores + row * Sk;
        const int kb = mask.key_begin(b, i, Sk);
        const int ke = mask.key_end(b, i, Sk);
        float local_max = neg_inf();
        for (int j = threadIdx.x; j < Sk; j += blockDim.x) {
            float v = x[j] * scale;
            if (stage >= 1 && softcap > 0.0f) v = softcap * tanhf(v / softcap);
            if (stage >= 2) {
                if (j < kb || j >= ke) {
                    v = neg_inf();
                } else if (mask.has_dense()) {
                    v += mask.dense(b, h, i, j);
                }
            }
            x[j] = v;
            local_max = fmaxf(local_max, v);
        }
        if (stage < 3) continue;
        const float max = block_reduce<true>(local_max, scratch);
        if (max == neg_inf()) {
            for (int j = threadIdx.x; j < Sk; j += blockDim.x) x[j] = 0.0f;
            if (lse != nullptr && threadIdx.x == 0) lse[row] = neg_inf();
            continue;
        }
        float local_sum = 0.0f;
        for (int j = threadIdx.x; j < Sk; j += blockDim.x) {
            const float e = expf(x[j] - max);
            x[j] = e;
            local_sum += e;
        }
        const float sum = block_reduce<false>(local_sum, scratch);
        const float inv = 1.0f / sum;
        for (int j = threadIdx.x; j < Sk; j += blockDim.x) x[j] *= inv;
        if (lse != nullptr && threadIdx.x == 0) lse[row] = max + logf(sum);
    }
}

/**
 * y = softmax of contiguous x viewed as [outer, n, inner] along the middle axis (y may be x); one warp per
 * (outer, inner) slice; an all −∞ slice gives zeros.
 */
extern "C" __global__ void softmax_axis_f32(const float* x, float* y, i64 outer, int n, i64 inner) {
    const int lane = threadIdx.x & 31;
    const i64 warps = (static_cast<i64>(gridDim.x) * blockDim.x) >> 5;
    const i64 slices = outer * inner;
    for (i64 slice = (blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x) >> 5; slice < slices; slice += warps) {
        const i64 o = slice / inner;
        const i64 in = slice % inner;
        const i64 base = o * n * inner + in;
        float m = neg_inf();
        for (int t = lane; t < n; t += 32) m = fmaxf(m, x[base + t * inner]);
        m = warp_max(m);
        if (m == neg_inf()) {
            for (int t = lane; t < n; t += 32) y[base + t * inner] = 0.0f;
            continue;
        }
        float s = 0.0f;
        for (int t = lane; t < n; t += 32) s += expf(x[base + t * inner] - m);
        s = warp_sum(s);
        const float inv = 1.0f / s;
        for (int t = lane; t < n; t += 32) y[base + t * inner] = expf(x[base + t * inner] - m) * inv;
    }
}
