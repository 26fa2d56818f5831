// Layout transforms: strided gather/scatter with type conversion, head split and merge, dense mask folding.
#include "common.cuh"

using namespace a4j;

/**
 * dst[idx] = src[idx] converted, for every index of a row-major shape n0..n5 (leading sizes 1 pad a
 * smaller rank), each side addressed by its own element strides; src and dst must not overlap unless equal
 * element by element.
 */
extern "C" __global__ void convert_strided(const void* src, int src_type, void* dst, int dst_type,
                                           int n0, int n1, int n2, int n3, int n4, int n5,
                                           i64 s0, i64 s1, i64 s2, i64 s3, i64 s4, i64 s5,
                                           i64 d0, i64 d1, i64 d2, i64 d3, i64 d4, i64 d5, i64 count) {
    for (i64 idx = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; idx < count;
         idx += static_cast<i64>(gridDim.x) * blockDim.x) {
        i64 rest = idx;
        const int i5 = static_cast<int>(rest % n5); rest /= n5;
        const int i4 = static_cast<int>(rest % n4); rest /= n4;
        const int i3 = static_cast<int>(rest % n3); rest /= n3;
        const int i2 = static_cast<int>(rest % n2); rest /= n2;
        const int i1 = static_cast<int>(rest % n1); rest /= n1;
        const int i0 = static_cast<int>(rest);
        (void) n0;
        const i64 from = i0 * s0 + i1 * s1 + i2 * s2 + i3 * s3 + i4 * s4 + i5 * s5;
        const i64 to = i0 * d0 + i1 * d1 + i2 * d2 + i3 * d3 + i4 * d4 + i5 * d5;
        store_any(dst, dst_type, to, load_any(src, src_type, from));
    }
}

/** dst[b, h, s, d] = src[(b·S + s)·rowStride + colOffset + h·D + d]: one head group of a packed projection. */
extern "C" __global__ void split_heads_f32(const float* src, float* dst, int B, int S, int H, int D,
                                           i64 row_stride, i64 col_offset) {
    const i64 count = static_cast<i64>(B) * H * S * D;
    for (i64 idx = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; idx < count;
         idx += static_cast<i64>(gridDim.x) * blockDim.x) {
        const int d = static_cast<int>(idx % D);
        const int s = static_cast<int>(idx / D % S);
        const int h = static_cast<int>(idx / (static_cast<i64>(D) * S) % H);
        const int b = static_cast<int>(idx / (static_cast<i64>(D) * S * H));
        dst[idx] = src[(static_cast<i64>(b) * S + s) * row_stride + col_offset + static_cast<i64>(h) * D + d];
    }
}

/** dst[(b·S + s)·H·D + h·D + d] = src[b, h, s, d]: heads back to rows for the output projection. */
extern "C" __global__ void merge_heads_f32(const float* src, float* dst, int B, int H, int S, int D) {
    const i64 count = static_cast<i64>(B) * H * S * D;
    for (i64 idx = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; idx < count;
         idx += static_cast<i64>(gridDim.x) * blockDim.x) {
        const int d = static_cast<int>(idx % D);
        const int s = static_cast<int>(idx / D % S);
        const int h = static_cast<int>(idx / (static_cast<i64>(D) * S) % H);
        const int b = static_cast<int>(idx / (static_cast<i64>(D) * S * H));
        dst[((static_cast<i64>(b) * S + s) * H + h) * D + d] = src[idx];
    }
}

/**
 * dst[b, h, i, j] (contiguous) += term, where a u8 term (type 3) adds −∞ where false and 0 where true and a
 * float term (type 0, 1, 2) adds its value; the term is addressed by its element strides s0..s3.
 */
extern "C" __global__ void mask_accumulate_f32(float* dst, const void* term, int type, int B, int H, int Sq, int Sk,
                                               i64 s0, i64 s1, i64 s2, i64 s3) {
    const i64 count = static_cast<i64>(B) * H * Sq * Sk;
    for (i64 idx = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; idx < count;
         idx += static_cast<i64>(gridDim.x) * blockDim.x) {
        const int j = static_cast<int>(idx % Sk);
        const int i = static_cast<int>(idx / Sk % Sq);
        const int h = static_cast<int>(idx / (static_cast<i64>(Sk) * Sq) % H);
        const int b = static_cast<int>(idx / (static_cast<i64>(Sk) * Sq * H));
        const float v = load_any(term, type, b * s0 + h * s1 + i * s2 + j * s3);
        dst[idx] += type == 3 ? (v != 0.0f ? 0.0f : neg_inf()) : v;
    }
}
