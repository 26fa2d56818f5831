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
    float vals[32];
};
inline std::vector<Warp> warps;
}  // namespace simt

inline void __syncthreads() { simt::block_barrier->arrive_and_wait(); }

inline float simt_exchange(float v, int src) {
    simt::Warp& w = simt::warps[threadIdx.x / 32];
    w.vals[threadIdx.x % 32] = v;
    w.bar->arrive_and_wait();
    float r = w.vals[src & 31];
    w.bar->arrive_and_wait();
    return r;
}
inline float __shfl_sync(unsigned, float v, int src) { return simt_exchange(v, src); }
inline float __shfl_xor_sync(unsigned, float v, int mask) { return simt_exchange(v, (threadIdx.x % 32) ^ mask); }

inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
// expf, logf, tanhf, fmaf, fmaxf, erff: the C library's, from math.h
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
