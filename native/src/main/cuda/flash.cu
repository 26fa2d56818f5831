// Fused attention forward (FlashAttention's algorithm): out = softmax(mask(softcap(scale·q·kᵀ)))·v without
// materialising the scores. A block owns 4·R query rows of one (batch, head); it walks the key tiles that the
// structured mask leaves visible to any of its rows (causal and window tiles outside are never loaded), keeps
// K and V tiles in shared memory as float32, and each warp keeps, for each of its R rows, the running max m,
// the running sum l and the output accumulator in registers, rescaling them once per tile.
//
// Within a warp, lane j scores key j of the tile (q from shared memory is a broadcast, K rows are padded by
// one float so that the 32 lanes hit 32 banks), then the probabilities are broadcast lane by lane with a
// shuffle while every lane accumulates its own 32-strided slice of the value dimension.
#include "common.cuh"

using namespace a4j;

namespace a4j {

constexpr int FLASH_WARPS = 4;

template <class T, int DMAX, int BN, int R>
__device__ __forceinline__ void flash_fwd(const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
                                          T* __restrict__ o, float* __restrict__ lse,
                                          int B, int H, int KVH, int Sq, int Sk, int D, int Dv,
                                          float scale, float softcap,
                                          i64 qsb, i64 qsh, i64 qss, i64 ksb, i64 ksh, i64 kss,
                                          i64 vsb, i64 vsh, i64 vss, i64 osb, i64 osh, i64 oss,
                                          const Mask& mask) {
    static_assert(DMAX % 32 == 0, "DMAX must be a multiple of the warp size");
    static_assert(BN <= 32, "one key per lane");
    constexpr int BM = FLASH_WARPS * R;
    constexpr int C = DMAX / 32;  // value columns per lane
    __shared__ float qs[BM][DMAX];
    __shared__ float ks[BN][DMAX + 1];
    __shared__ float vs[BN][DMAX];

    const int tid = threadIdx.x;
    const int lane = tid & 31;
    const int warp = tid >> 5;
    const int b = blockIdx.z;
    const int h = blockIdx.y;
    const int kvh = h / (H / KVH);
    const int i0 = blockIdx.x * BM;
    const int i_last = min(Sq, i0 + BM) - 1;
    (void) B;

    const T* qb = q + b * qsb + h * qsh;
    const T* kb = k + b * ksb + kvh * ksh;
    const T* vb = v + b * vsb + kvh * vsh;

    for (int idx = tid; idx < BM * DMAX; idx += FLASH_WARPS * 32) {
        const int r = idx / DMAX;
        const int d = idx % DMAX;
        const int i = i0 + r;
        qs[r][d] = (i < Sq && d < D) ? to_f32(qb[i * qss + d]) : 0.0f;
    }

    float m[R];
    float l[R];
    float acc[R][C];
    int row_begin[R];
    int row_end[R];
#pragma unroll
    for (int r = 0; r < R; ++r) {
        m[r] = neg_inf();
        l[r] = 0.0f;
        const int i = min(i0 + warp * R + r, Sq - 1);
        row_begin[r] = mask.key_begin(b, i, Sk);
        row_end[r] = mask.key_end(b, i, Sk);
#pragma unroll
        for (int c = 0; c < C; ++c) acc[r][c] = 0.0f;
    }

    // the keys any row of this block may see: the visible range is monotone in the query index
    const int k_begin = mask.key_begin(b, i0, Sk);
    const int k_end = mask.key_end(b, i_last, Sk);

    for (int kt = k_begin; kt < k_end; kt += BN) {
        __syncthreads();  // the previous tile is no longer read (and qs is written before the first)
        for (int idx = tid; idx < BN * DMAX; idx += FLASH_WARPS * 32) {
            const int jj = idx / DMAX;
            const int d = idx % DMAX;
            const int j = kt + jj;
            const bool in = j < k_end;
            ks[jj][d] = (in && d < D) ? to_f32(kb[j * kss + d]) : 0.0f;
            vs[jj][d] = (in && d < Dv) ? to_f32(vb[j * vss + d]) : 0.0f;
        }
        __syncthreads();
#pragma unroll
        for (int r = 0; r < R; ++r) {
            const int row = warp * R + r;
            const int i = i0 + row;
            if (i >= Sq) continue;  // warp-uniform
            const int j = kt + lane;
            float s = neg_inf();
            if (lane < BN && j >= row_begin[r] && j < row_end[r]) {
                float dot = 0.0f;
                for (int d = 0; d < D; ++d) dot = fmaf(qs[row][d], ks[lane][d], dot);
                s = scale_softcap(dot, scale, softcap);
                if (mask.has_dense()) s += mask.dense(b, h, i, j);
            }
            const float m_new = fmaxf(m[r], warp_max(s));
            if (m_new == neg_inf()) continue;  // nothing visible yet: acc, l stay 0 (warp-uniform)
            const float p = s == neg_inf() ? 0.0f : expf(s - m_new);
            const float alpha = m[r] == neg_inf() ? 0.0f : expf(m[r] - m_new);
            l[r] = l[r] * alpha + warp_sum(p);
            m[r] = m_new;
#pragma unroll
            for (int c = 0; c < C; ++c) acc[r][c] *= alpha;
#pragma unroll 4
            for (int jj = 0; jj < BN; ++jj) {
                const float pj = __shfl_sync(0xffffffffu, p, jj);
                if (pj != 0.0f) {  // warp-uniform: pj is a broadcast
#pragma unroll
                    for (int c = 0; c < C; ++c) acc[r][c] = fmaf(pj, vs[jj][lane + 32 * c], acc[r][c]);
                }
            }
        }
    }

#pragma unroll
    for (int r = 0; r < R; ++r) {
        const int i = i0 + warp * R + r;
        if (i >= Sq) continue;
        const float inv = l[r] > 0.0f ? 1.0f / l[r] : 0.0f;
        T* orow = o + b * osb + h * osh + i * oss;
#pragma unroll
        for (int c = 0; c < C; ++c) {
            const int d = lane + 32 * c;
            if (d < Dv) orow[d] = from_f32<T>(acc[r][c] * inv);
        }
        if (lse != nullptr && lane == 0) {
            lse[(static_cast<i64>(b) * H + h) * Sq + i] = l[r] > 0.0f ? m[r] + logf(l[r]) : neg_inf();
        }
    }
}

}  // namespace a4j

// One extern "C" entry point per manifest variant, launched with 128 threads and a grid of
// (ceil(Sq / (4·R)), H, B). q, k, v, out have a contiguous last axis; lse is contiguous [B, H, Sq] or null.
#define A4J_KERNEL(name, signature)
#define A4J_FLASH(name, T, DMAX, BN, R, signature)                                                              \
    extern "C" __global__ void __launch_bounds__(a4j::FLASH_WARPS * 32) name(                                    \
        const T* q, const T* k, const T* v, T* o, float* lse, int B, int H, int KVH, int Sq, int Sk, int D,      \
        int Dv, float scale, float softcap, i64 qsb, i64 qsh, i64 qss, i64 ksb, i64 ksh, i64 kss, i64 vsb,       \
        i64 vsh, i64 vss, i64 osb, i64 osh, i64 oss, const i64* lo, const i64* hi, const int* lim,               \
        const unsigned char* bm, i64 bs0, i64 bs1, i64 bs2, i64 bs3, const float* am, i64 as0, i64 as1,          \
        i64 as2, i64 as3) {                                                                                      \
        const a4j::Mask mask{lo, hi, lim, bm, bs0, bs1, bs2, bs3, am, as0, as1, as2, as3};                      \
        a4j::flash_fwd<T, DMAX, BN, R>(q, k, v, o, lse, B, H, KVH, Sq, Sk, D, Dv, scale, softcap, qsb, qsh, qss, \
                                       ksb, ksh, kss, vsb, vsh, vss, osb, osh, oss, mask);                       \
    }
#include "kernels.def"
#undef A4J_KERNEL
#undef A4J_FLASH
