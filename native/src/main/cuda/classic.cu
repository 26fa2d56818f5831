// The attention family from the literature (dev.attn4j.spi.ClassicKernels) and the Transformer block's
// remaining parts. The GEMMs around these kernels (q·W, the additive and local-p projections, x·wᵀ) are cuBLAS
// calls on the Java side; the masked score rows come from cuBLAS Q·Kᵀ or additive_scores_f32 followed by
// masked_softmax_rows_f32, so every kernel below reads score rows that are already scaled, softcapped and
// masked (−∞ outside the mask).
#include "common.cuh"

using namespace a4j;

typedef unsigned long long u64;

namespace a4j {

/** Block-wide sum of ints (blockDim.x a multiple of 32); every thread gets the result. */
__device__ __forceinline__ int block_sum_int(int v, int* scratch /* [33] */) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    if (warp == 0) {
        int w = lane < static_cast<int>(blockDim.x >> 5) ? scratch[lane] : 0;
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) w += __shfl_xor_sync(0xffffffffu, w, o);
        if (lane == 0) scratch[32] = w;
    }
    __syncthreads();
    return scratch[32];
}

/** Block-wide minimum of 64-bit keys; every thread gets the result. */
__device__ __forceinline__ u64 block_min_u64(u64 v, u64* scratch /* [33] */) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        const u64 other = __shfl_xor_sync(0xffffffffu, v, o);
        v = other < v ? other : v;
    }
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    if (warp == 0) {
        u64 w = lane < static_cast<int>(blockDim.x >> 5) ? scratch[lane] : ~0ULL;
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
            const u64 other = __shfl_xor_sync(0xffffffffu, w, o);
            w = other < w ? other : w;
        }
        if (lane == 0) scratch[32] = w;
    }
    __syncthreads();
    return scratch[32];
}

/**
 * The top-k sort key of score x at key j: ascending keys are descending scores, ties broken by the lower key
 * (the oracle's "first strictly greater score wins"). The high word is the complement of the order-preserving
 * unsigned image of x (−0 is folded onto +0 first, so that equal scores tie); the low word is j. Keys are unique,
 * so the k smallest keys are exactly the oracle's selection, in its order.
 */
__device__ __forceinline__ u64 topk_key(float x, int j) {
    if (x == 0.0f) x = 0.0f;
    const unsigned u = __float_as_uint(x);
    const unsigned ascending = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
    return (static_cast<u64>(~ascending) << 32) | static_cast<unsigned>(j);
}

/** The score a topk_key was made from. */
__device__ __forceinline__ float topk_score(u64 key) {
    const unsigned ascending = ~static_cast<unsigned>(key >> 32);
    return __uint_as_float((ascending & 0x80000000u) ? (ascending & 0x7fffffffu) : ~ascending);
}

/** A key greater than every real one: masked keys (−∞) and the padding up to a power of two. */
constexpr u64 TOPK_NONE = ~0ULL;

/**
 * dev.attn4j.api.Kernels#sampleUniform, bit for bit: the SplitMix64 finalizer of seed + (row + 1)·golden gamma,
 * top 53 bits as a double in [0, 1).
 */
__device__ __forceinline__ double sample_uniform(u64 seed, u64 row) {
    u64 z = seed + (row + 1) * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) * 0x1.0p-53;
}

}  // namespace a4j

/**
 * y[r, :] = x[r, :] / max(‖x[r, :]‖₂, eps) over contiguous rows of length d (cosine scores: q and k normalized
 * once, then the dot-product path). One warp per row; y may be x.
 */
extern "C" __global__ void l2_normalize_rows_f32(const float* x, float* y, i64 rows, int d, float eps) {
    const int lane = threadIdx.x & 31;
    const i64 warps = (static_cast<i64>(gridDim.x) * blockDim.x) >> 5;
    for (i64 r = (blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x) >> 5; r < rows; r += warps) {
        const float* xr = x + r * d;
        float ss = 0.0f;
        for (int t = lane; t < d; t += 32) ss = fmaf(xr[t], xr[t], ss);
        ss = warp_sum(ss);
        const float norm = sqrtf(ss);
        const float inv = 1.0f / (norm > eps ? norm : eps);
        for (int t = lane; t < d; t += 32) y[r * d + t] = xr[t] * inv;
    }
}

// Tiles of the additive score kernel: 32 queries × 32 keys per block of 256 threads (each thread 4 queries of
// one key), the hidden axis in chunks of 32 through shared memory.
#define A4J_ADD_T 32
#define A4J_ADD_ROWS 4

/**
 * Bahdanau's additive score without the [Sq, Sk, A] tensor: s[b, h, i, j] = Σ_a v[h, a]·tanh(pq[b, h, i, a] +
 * pk[b, h / pk_group, j, a]) into contiguous s [B, H, Sq, Sk], for contiguous projections pq [B, H, Sq, A] and
 * pk [B, H / pk_group, Sk, A] (pk_group > 1: the key projection is shared by the query heads of a group) and
 * v with head stride v_stride (0: shared). Raw scores: masked_softmax_rows_f32 scales, softcaps and masks next.
 * When lo/hi/lim are given (the structured part of the mask, as a4j::Mask takes it; only when the mask will be
 * applied) a 32×32 tile that lies wholly outside every row's visible interval is neither computed nor written —
 * the next kernel sets those scores to −∞ without reading them — so causal and windowed masks skip their
 * masked tiles. The block loops over tiles (b, h, query tile, key tile) with a grid stride.
 */
extern "C" __global__ void additive_scores_f32(const float* pq, const float* pk, const float* va, float* s, int B, int H,
                                               int Sq, int Sk, int A, int pk_group, int v_stride, const i64* lo,
                                               const i64* hi, const int* lim) {
    __shared__ float sq[A4J_ADD_T][A4J_ADD_T];
    __shared__ float sk[A4J_ADD_T][A4J_ADD_T + 1];  // + 1: lanes read a column, one bank each
    __shared__ float sv[A4J_ADD_T];
    const Mask mask{lo, hi, lim, nullptr, 0, 0, 0, 0, nullptr, 0, 0, 0, 0};
    const bool bounded = lo != nullptr || hi != nullptr || lim != nullptr;
    const int tx = threadIdx.x & 31;  // key in the tile
    const int ty = threadIdx.x >> 5;  // first query in the tile; it takes ty, ty + 8, ty + 16, ty + 24
    const int rows_step = blockDim.x >> 5;
    const i64 q_tiles = (Sq + A4J_ADD_T - 1) / A4J_ADD_T;
    const i64 k_tiles = (Sk + A4J_ADD_T - 1) / A4J_ADD_T;
    const i64 tiles = static_cast<i64>(B) * H * q_tiles * k_tiles;
    const int pk_heads = H / pk_group;
    for (i64 t = blockIdx.x; t < tiles; t += gridDim.x) {
        const int j0 = static_cast<int>(t % k_tiles) * A4J_ADD_T;
        const int i0 = static_cast<int>(t / k_tiles % q_tiles) * A4J_ADD_T;
        const i64 bh = t / (k_tiles * q_tiles);
        const int b = static_cast<int>(bh / H);
        const int h = static_cast<int>(bh % H);
        if (bounded) {
            // intervals only move right as i grows: the tile's widest reach is [begin(i0), end(last row))
            const int last = i0 + A4J_ADD_T - 1 < Sq - 1 ? i0 + A4J_ADD_T - 1 : Sq - 1;
            if (mask.key_end(b, last, Sk) <= j0 || mask.key_begin(b, i0, Sk) >= j0 + A4J_ADD_T) continue;
        }
        const float* pq_tile = pq + (bh * Sq + i0) * A;
        const float* pk_tile = pk + ((static_cast<i64>(b) * pk_heads + h / pk_group) * Sk + j0) * A;
        float acc[A4J_ADD_ROWS] = {0.0f, 0.0f, 0.0f, 0.0f};
        for (int a0 = 0; a0 < A; a0 += A4J_ADD_T) {
            __syncthreads();  // the previous chunk (or tile) is no longer read
            for (int e = threadIdx.x; e < A4J_ADD_T * A4J_ADD_T; e += blockDim.x) {
                const int r = e / A4J_ADD_T;
                const int c = e % A4J_ADD_T;
                const bool col = a0 + c < A;
                sq[r][c] = col && i0 + r < Sq ? pq_tile[static_cast<i64>(r) * A + a0 + c] : 0.0f;
                sk[r][c] = col && j0 + r < Sk ? pk_tile[static_cast<i64>(r) * A + a0 + c] : 0.0f;
            }
            if (threadIdx.x < A4J_ADD_T) {
                sv[threadIdx.x] = a0 + threadIdx.x < A ? va[static_cast<i64>(h) * v_stride + a0 + threadIdx.x] : 0.0f;
            }
            __syncthreads();
            const int n = A - a0 < A4J_ADD_T ? A - a0 : A4J_ADD_T;
            for (int c = 0; c < n; ++c) {
                const float vk = sv[c];
                const float kx = sk[tx][c];
#pragma unroll
                for (int r = 0; r < A4J_ADD_ROWS; ++r) acc[r] = fmaf(vk, tanhf(sq[ty + r * rows_step][c] + kx), acc[r]);
            }
        }
        const int j = j0 + tx;
#pragma unroll
        for (int r = 0; r < A4J_ADD_ROWS; ++r) {
            const int i = i0 + ty + r * rows_step;
            if (i < Sq && j < Sk) s[(bh * Sq + i) * Sk + j] = acc[r];
        }
    }
}

// Rows whose power-of-two key count fits 32 KiB of shared memory sort there; longer rows sort in a global
// scratch slice of P keys per block.
#define A4J_TOPK_SMEM 4096

/**
 * Hard top-k attention over masked score rows s [B, H, Sq, Sk] (contiguous, −∞ = masked), v contiguous
 * [B, KVH, Sk, Dv]: per row the k visible keys of highest score (ties: lower key first), weights
 * exp(s − s_max) renormalized over them, out [B, H, Sq, Dv] = Σ w·v and, when idx is not null,
 * idx [B·H·Sq·k] = the keys by decreasing score, −1 past the visible ones. One block per row (grid stride).
 * k = 1 (argmax attention) is one block-wide minimum of the keys; otherwise the row's P keys (P = Sk rounded up to
 * a power of two, padded with TOPK_NONE) are bitonic-sorted, in shared memory when P ≤ 4096, else in
 * scratch + blockIdx.x·P (the caller sizes scratch as gridDim.x·P keys).
 */
extern "C" __global__ void topk_rows_f32(const float* s, const float* v, float* out, int* idx, u64* scratch, int B,
                                         int H, int KVH, int Sq, int Sk, int Dv, int k, int P) {
    __shared__ u64 smem[A4J_TOPK_SMEM];
    __shared__ u64 min_scratch[33];
    __shared__ int int_scratch[33];
    __shared__ float f_scratch[33];
    // argmax needs keys[0] only
    u64* keys = k == 1 || P <= A4J_TOPK_SMEM ? smem : scratch + static_cast<i64>(blockIdx.x) * P;
    const i64 rows = static_cast<i64>(B) * H * Sq;
    const int g = H / KVH;
    for (i64 row = blockIdx.x; row < rows; row += gridDim.x) {
        const float* x = s + row * Sk;
        const int h = static_cast<int>(row / Sq % H);
        const int b = static_cast<int>(row / (static_cast<i64>(Sq) * H));
        const float* vb = v + (static_cast<i64>(b) * KVH + h / g) * Sk * Dv;
        int visible = 0;
        if (k == 1) {
            u64 best = TOPK_NONE;
            for (int j = threadIdx.x; j < Sk; j += blockDim.x) {
                if (x[j] != neg_inf()) {
                    ++visible;
                    const u64 key = topk_key(x[j], j);
                    best = key < best ? key : best;
                }
            }
            best = block_min_u64(best, min_scratch);
            if (threadIdx.x == 0) keys[0] = best;
        } else {
            for (int j = threadIdx.x; j < P; j += blockDim.x) {
                const bool vis = j < Sk && x[j] != neg_inf();
                visible += vis;
                keys[j] = vis ? topk_key(x[j], j) : TOPK_NONE;
            }
            __syncthreads();
            for (int size = 2; size <= P; size <<= 1) {
                for (int stride = size >> 1; stride > 0; stride >>= 1) {
                    for (int t = threadIdx.x; t < P / 2; t += blockDim.x) {
                        const int a = 2 * stride * (t / stride) + t % stride;
                        const int c = a + stride;
                        const bool ascending = (a & size) == 0;
                        const u64 ka = keys[a];
                        const u64 kc = keys[c];
                        if ((ka > kc) == ascending) {
                            keys[a] = kc;
                            keys[c] = ka;
                        }
                    }
                    __syncthreads();
                }
            }
        }
        visible = block_sum_int(visible, int_scratch);  // its barriers also publish keys[0] of the k = 1 path
        const int n = visible < k ? visible : k;
        const float top = n > 0 ? topk_score(keys[0]) : 0.0f;
        __syncthreads();  // keys[0] is read by every thread before its slot is rewritten below
        // each selected slot becomes (weight bits, key): exp(s − s_max), renormalized by the sum below
        float local = 0.0f;
        for (int t = threadIdx.x; t < n; t += blockDim.x) {
            const u64 key = keys[t];
            const float e = expf(topk_score(key) - top);
            local += e;
            keys[t] = (static_cast<u64>(__float_as_uint(e)) << 32) | (key & 0xffffffffu);
        }
        const float sum = block_reduce<false>(local, f_scratch);
        if (idx != nullptr) {
            for (int t = threadIdx.x; t < k; t += blockDim.x) {
                idx[row * k + t] = t < n ? static_cast<int>(keys[t] & 0xffffffffu) : -1;
            }
        }
        const float inv = n > 0 ? 1.0f / sum : 0.0f;
        for (int d = threadIdx.x; d < Dv; d += blockDim.x) {
            float acc = 0.0f;
            for (int t = 0; t < n; ++t) {
                const u64 slot = keys[t];
                acc = fmaf(__uint_as_float(static_cast<unsigned>(slot >> 32)),
                           vb[static_cast<i64>(slot & 0xffffffffu) * Dv + d], acc);
            }
            out[row * Dv + d] = acc * inv;
        }
        __syncthreads();  // the next row overwrites keys
    }
}

/**
 * Stochastic hard attention over masked score rows s [B, H, Sq, Sk] (contiguous, −∞ = masked), v contiguous
 * [B, KVH, Sk, Dv]: row r = (b·H + h)·Sq + i draws key j by the inverse CDF of w = exp(s − max) at
 * u = sample_uniform(seed, r) (the API's Kernels#sampleUniform): the first j with w_j > 0 and Σ_{j' ≤ j} w > u·Σw,
 * else the last j with w_j > 0 (rounding), −1 for a fully masked row. Weights and their sums are float64 like the
 * oracle's, so a draw lands in the oracle's CDF interval up to the float32 rounding of the scores.
 * out [B, H, Sq, Dv] = v[j] (zeros for −1); idx [B·H·Sq] = j when not null. One warp per row.
 */
extern "C" __global__ void sample_rows_f32(const float* s, const float* v, float* out, int* idx, int B, int H, int KVH,
                                           int Sq, int Sk, int Dv, i64 seed) {
    const int lane = threadIdx.x & 31;
    const i64 warps = (static_cast<i64>(gridDim.x) * blockDim.x) >> 5;
    const i64 rows = static_cast<i64>(B) * H * Sq;
    const int g = H / KVH;
    for (i64 row = (blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x) >> 5; row < rows; row += warps) {
        const float* x = s + row * Sk;
        float m = neg_inf();
        for (int j = lane; j < Sk; j += 32) m = fmaxf(m, x[j]);
        m = warp_max(m);
        int key = -1;
        if (m != neg_inf()) {
            double total = 0.0;
            for (int j = lane; j < Sk; j += 32) total += exp(static_cast<double>(x[j]) - m);
#pragma unroll
            for (int o = 16; o > 0; o >>= 1) total += __shfl_xor_sync(0xffffffffu, total, o);
            const double target = sample_uniform(static_cast<u64>(seed), static_cast<u64>(row)) * total;
            double carry = 0.0;
            int last = -1;
            for (int base = 0; base < Sk; base += 32) {
                const int j = base + lane;
                const double w = j < Sk ? exp(static_cast<double>(x[j]) - m) : 0.0;
                double c = w;  // inclusive prefix sum over the warp, in key order
#pragma unroll
                for (int o = 1; o < 32; o <<= 1) {
                    const double up = __shfl_up_sync(0xffffffffu, c, o);
                    if (lane >= o) c += up;
                }
                c += carry;
                const unsigned positive = __ballot_sync(0xffffffffu, w > 0.0);
                const unsigned hit = __ballot_sync(0xffffffffu, w > 0.0 && c > target);
                if (hit != 0u) {
                    key = base + __ffs(static_cast<int>(hit)) - 1;
                    break;
                }
                if (positive != 0u) last = base + 31 - __clz(static_cast<int>(positive));
                carry = __shfl_sync(0xffffffffu, c, 31);
            }
            if (key < 0) key = last;
        }
        const float* vr = v + ((static_cast<i64>(row / (static_cast<i64>(Sq) * H)) * KVH + row / Sq % H / g) * Sk) * Dv;
        for (int d = lane; d < Dv; d += 32) out[row * Dv + d] = key >= 0 ? vr[static_cast<i64>(key) * Dv + d] : 0.0f;
        if (idx != nullptr && lane == 0) idx[row] = key;
    }
}

/**
 * Luong's local-p attention over masked score rows s [B, H, Sq, Sk] (contiguous, −∞ = masked; overwritten with the
 * window's weights), q contiguous [B, H, Sq, D], the position network wp [*, A, D] with head stride wp_stride and
 * vp [*, A] with head stride vp_stride (0: shared by every head), v contiguous [B, KVH, Sk, Dv]. Per row:
 * p_t = Sk·sigmoid(Σ_a vp[h, a]·tanh(Σ_d wp[h, a, d]·q[d])), the window [⌈p_t − D⌉, ⌊p_t + D⌋] ∩ [0, Sk), its
 * softmax times exp(−(j − p_t)²/(2σ²)), σ = D/2, not renormalized; out [B, H, Sq, Dv] = Σ w·v (zeros when the window
 * holds no visible key), centres [B·H·Sq] = p_t when not null. The position network runs here in float64 (one warp
 * per hidden unit, lanes over D), not as a float32 cuBLAS GEMM: p_t multiplies the error of z by Sk/4, so a float32 z
 * moves p_t by ~1e-4 on rows of 1000 keys and the Gaussian weights with it. One block per row (grid stride).
 */
extern "C" __global__ void localp_rows_f32(float* s, const float* q, const float* wp, const float* vp, const float* v,
                                           float* out, float* centres, int B, int H, int KVH, int Sq, int Sk, int D,
                                           int Dv, int A, int wp_stride, int vp_stride, int half_width) {
    __shared__ float scratch[33];
    __shared__ double partial[32];
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int warps = blockDim.x >> 5;
    const i64 rows = static_cast<i64>(B) * H * Sq;
    const int g = H / KVH;
    const double two_sigma2 = 2.0 * (half_width / 2.0) * (half_width / 2.0);
    for (i64 row = blockIdx.x; row < rows; row += gridDim.x) {
        const int h = static_cast<int>(row / Sq % H);
        const int b = static_cast<int>(row / (static_cast<i64>(Sq) * H));
        const float* qr = q + row * D;
        double zt = 0.0;  // this warp's share of Σ_a vp·tanh(z_a), on lane 0
        for (int a = warp; a < A; a += warps) {
            const float* wr = wp + static_cast<i64>(h) * wp_stride + static_cast<i64>(a) * D;
            double z = 0.0;
            for (int d = lane; d < D; d += 32) z += static_cast<double>(wr[d]) * qr[d];
#pragma unroll
            for (int o = 16; o > 0; o >>= 1) z += __shfl_xor_sync(0xffffffffu, z, o);
            zt += vp[static_cast<i64>(h) * vp_stride + a] * tanh(z);
        }
        __syncthreads();  // partial is still read by the previous row
        if (lane == 0) partial[warp] = zt;
        __syncthreads();
        zt = 0.0;
        for (int w = 0; w < warps; ++w) zt += partial[w];
        const double pt = Sk / (1.0 + exp(-zt));
        if (centres != nullptr && threadIdx.x == 0) centres[row] = static_cast<float>(pt);
        const double first = ceil(pt - half_width);
        const double last = floor(pt + half_width);
        const int lo = first < 0.0 ? 0 : static_cast<int>(first);
        const int hi = last > Sk - 1 ? Sk - 1 : static_cast<int>(last);
        float* x = s + row * Sk;
        float m = neg_inf();
        for (int j = lo + static_cast<int>(threadIdx.x); j <= hi; j += blockDim.x) m = fmaxf(m, x[j]);
        m = block_reduce<true>(m, scratch);
        float* o = out + row * Dv;
        if (m == neg_inf()) {
            for (int d = threadIdx.x; d < Dv; d += blockDim.x) o[d] = 0.0f;
            continue;
        }
        float part = 0.0f;
        for (int j = lo + static_cast<int>(threadIdx.x); j <= hi; j += blockDim.x) part += expf(x[j] - m);
        const float inv = 1.0f / block_reduce<false>(part, scratch);
        // each thread rewrites the keys it read above: the window's weights, in place of its scores
        for (int j = lo + static_cast<int>(threadIdx.x); j <= hi; j += blockDim.x) {
            const double dj = j - pt;
            x[j] = expf(x[j] - m) * inv * static_cast<float>(exp(-dj * dj / two_sigma2));
        }
        __syncthreads();
        const float* vb = v + (static_cast<i64>(b) * KVH + h / g) * Sk * Dv;
        for (int d = threadIdx.x; d < Dv; d += blockDim.x) {
            float acc = 0.0f;
            for (int j = lo; j <= hi; ++j) acc = fmaf(x[j], vb[static_cast<i64>(j) * Dv + d], acc);
            o[d] = acc;
        }
    }
}

/**
 * y[b, s, e] = x[b, s, e] + PE(offset + s, e) over contiguous [B, S, E] (y may be x), PE(pos, 2i) =
 * sin(pos·10000^(−2i/E)), PE(pos, 2i + 1) = cos(pos·10000^(−2i/E)). The angle and its sine are float64: in float32
 * pos·ω alone is off by ~1e-4 once pos reaches 1000. One thread per (s, e), looping over the batch.
 */
extern "C" __global__ void add_sinusoidal_f32(const float* x, float* y, int B, int S, int E, int offset) {
    const i64 count = static_cast<i64>(S) * E;
    const double log_base = log(10000.0);
    for (i64 idx = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; idx < count;
         idx += static_cast<i64>(gridDim.x) * blockDim.x) {
        const int e = static_cast<int>(idx % E);
        const i64 pos = static_cast<i64>(offset) + idx / E;
        const double omega = exp(-log_base * (e - (e & 1)) / E);
        const double angle = static_cast<double>(pos) * omega;
        const float pe = static_cast<float>((e & 1) == 0 ? sin(angle) : cos(angle));
        for (int b = 0; b < B; ++b) y[b * count + idx] = x[b * count + idx] + pe;
    }
}

/** y[i] = a[i] + b[i mod period] over n contiguous elements (b broadcast along leading axes); y may be a or b. */
extern "C" __global__ void add_f32(const float* a, const float* b, float* y, i64 n, i64 period) {
    for (i64 idx = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; idx < n;
         idx += static_cast<i64>(gridDim.x) * blockDim.x) {
        y[idx] = a[idx] + b[idx % period];
    }
}

/**
 * The epilogue of linearResidual after cuBLAS's y = x·wᵀ: y[m, n] += bias[n] + residual[m·rs0 + n·rs1] over
 * contiguous y [M, N]; bias and residual may each be null (residual is null when cuBLAS already added it as C).
 */
extern "C" __global__ void bias_residual_f32(float* y, const float* bias, const float* residual, int M, int N, i64 rs0,
                                             i64 rs1) {
    const i64 count = static_cast<i64>(M) * N;
    for (i64 idx = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; idx < count;
         idx += static_cast<i64>(gridDim.x) * blockDim.x) {
        const int n = static_cast<int>(idx % N);
        const i64 m = idx / N;
        float r = y[idx];
        if (bias != nullptr) r += bias[n];
        if (residual != nullptr) r += residual[m * rs0 + n * rs1];
        y[idx] = r;
    }
}
