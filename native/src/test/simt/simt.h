// A host SIMT harness for attn4j's kernels (simt_test only): compiles the real .cu sources with g++, runs every
// block's threads as std::threads, __syncthreads as a block barrier and warp shuffles as an exchange between
// the 32 lanes of a warp. It checks the kernels' logic (indexing, masking, online softmax, reductions,
// synchronisation) on machines without a GPU; it says nothing about speed or the memory model.
#pragma once
#include <barrier>
#include <cmath>
#include <math.h>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(x)
#define __restrict__
#define __shared__ static

struct dim3 { unsigned x = 1, y = 1, z = 1; };
inline dim3 gridDim, blockIdx, blockDim;
inline thread_local dim3 threadIdx;

namespace simt {
inline std::unique_ptr<std::barrier<>> block_barrier;
struct Warp {
    std::unique_ptr<std::barrier<>> bar;
    unsigned long long vals[32];  // one 4- or 8-byte value per lane
};
inline std::vector<Warp> warps;
}  // namespace simt

inline void __syncthreads() { simt::block_barrier->arrive_and_wait(); }

/** Every lane of the warp publishes v, then reads lane src's value (all 32 lanes must call it, as on a GPU). */
template <class T>
inline T simt_exchange(T v, int src) {
    static_assert(sizeof(T) <= 8, "shuffles move 4 or 8 bytes");
    simt::Warp& w = simt::warps[threadIdx.x / 32];
    std::memcpy(&w.vals[threadIdx.x % 32], &v, sizeof(T));
    w.bar->arrive_and_wait();
    T r;
    std::memcpy(&r, &w.vals[src & 31], sizeof(T));
    w.bar->arrive_and_wait();
    return r;
}
template <class T> inline T __shfl_sync(unsigned, T v, int src) { return simt_exchange(v, src); }
template <class T> inline T __shfl_xor_sync(unsigned, T v, int mask) { return simt_exchange(v, (threadIdx.x % 32) ^ mask); }
/** Lanes below delta keep their own value, as on a GPU. */
template <class T> inline T __shfl_up_sync(unsigned, T v, unsigned delta) {
    const unsigned lane = threadIdx.x % 32;
    return simt_exchange(v, static_cast<int>(lane >= delta ? lane - delta : lane));
}
inline unsigned __ballot_sync(unsigned, int predicate) {
    simt::Warp& w = simt::warps[threadIdx.x / 32];
    w.vals[threadIdx.x % 32] = predicate != 0;
    w.bar->arrive_and_wait();
    unsigned bits = 0;
    for (int lane = 0; lane < 32; ++lane) bits |= static_cast<unsigned>(w.vals[lane] != 0) << lane;
    w.bar->arrive_and_wait();
    return bits;
}
inline int __ffs(int x) { return x == 0 ? 0 : __builtin_ctz(static_cast<unsigned>(x)) + 1; }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x)); }

inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline float __uint_as_float(unsigned i) { float f; std::memcpy(&f, &i, 4); return f; }
inline unsigned __float_as_uint(float f) { unsigned i; std::memcpy(&i, &f, 4); return i; }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
// expf, logf, tanhf, fmaf, fmaxf, erff, sqrtf and the float64 exp, log, sin, cos, ceil, floor: the C library's
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }

/** Runs kernel(args...) over the grid, one block at a time, blockDim.x threads per block. */
template <class... P, class... A>
void simt_launch(void (*kernel)(P...), dim3 grid, unsigned block, A... args) {
    gridDim = grid;
    blockDim = dim3{block, 1, 1};
    simt::block_barrier = std::make_unique<std::barrier<>>(block);
    simt::warps.clear();
    simt::warps.resize(block / 32);
    for (auto& w : simt::warps) w.bar = std::make_unique<std::barrier<>>(32);
    for (unsigned z = 0; z < grid.z; ++z)
        for (unsigned y = 0; y < grid.y; ++y)
            for (unsigned x = 0; x < grid.x; ++x) {
                blockIdx = dim3{x, y, z};
                std::vector<std::thread> threads;
                for (unsigned t = 0; t < block; ++t)
                    threads.emplace_back([=] { threadIdx = dim3{t, 0, 0}; kernel(args...); });
                for (auto& th : threads) th.join();
            }
}
