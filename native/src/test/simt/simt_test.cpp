// Runs attn4j's CUDA kernels (the real sources) on the host SIMT harness against float64 references:
// every flash-attention variant of kernels.def (storage type, head-dim bound, key tile, rows per warp) with
// masks of every kind, GQA and strided layouts; the fused masked softmax at every stage; layer norm; softmax over
// an axis; the layout kernels (strided conversion, head split/merge, mask folding); GELU and rotary; the
// literature family of classic.cu (classic_tests.h).
// Built and run by the -Pnvcc build: g++ -std=c++20 -pthread -Ifake -I../../main/cuda simt_test.cpp
#include "simt.h"

#include "layout.cu"
#include "softmax.cu"
#include "blocks.cu"
#include "flash.cu"
#include "classic.cu"

#include <cstdio>
#include <random>

static int failures = 0;

static void expect_close(const char* what, double want, double got, double tol) {
    bool ok = (std::isinf(want) && want == got) || std::fabs(want - got) <= tol * std::fmax(1.0, std::fabs(want));
    if (!ok && failures++ < 20) std::printf("FAIL %s: want %.7g got %.7g\n", what, want, got);
}

struct Problem {
    int B, H, KVH, Sq, Sk, D, Dv;
    float scale, softcap;
};

/** Per batch mask arrays as MaskLowering makes them (nullptr = absent) plus dense terms over [B,H,Sq,Sk]. */
struct HostMask {
    std::vector<long long> lo, hi;
    std::vector<int> lim;
    std::vector<unsigned char> bm;  // contiguous [Sq, Sk], broadcast over B and H
    std::vector<float> am;          // contiguous [Sk], broadcast over B, H and Sq
    int begin(int b, int i, int sk) const {
        if (lo.empty()) return 0;
        long long v = i + lo[b];
        return (int) std::max(0LL, std::min(v, (long long) sk));
    }
    int end(int b, int i, int sk) const {
        long long v = sk;
        if (!hi.empty()) v = std::min(v, i + hi[b]);
        if (!lim.empty()) v = std::min(v, (long long) lim[b]);
        return (int) std::max(0LL, v);
    }
    double dense(int i, int j, int sk) const {
        if (!bm.empty() && !bm[(size_t) i * sk + j]) return -INFINITY;
        return am.empty() ? 0.0 : am[j];
    }
};

template <class T>
static T store_as(float v);
template <> float store_as<float>(float v) { return v; }
template <> __half store_as<__half>(float v) { return __float2half_rn(v); }
template <> __nv_bfloat16 store_as<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

/** The parameter list of every flash variant of storage type T (kernels.def's A4J_FLASH_SIGNATURE). */
template <class T>
using FlashKernel = void (*)(const T*, const T*, const T*, T*, float*, int, int, int, int, int, int, int, float, float, i64,
                             i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, const i64*, const i64*, const int*,
                             const unsigned char*, i64, i64, i64, i64, const float*, i64, i64, i64, i64);

/** One flash variant of the manifest: the kernel, its name and its tile. */
template <class T>
struct FlashVariant {
    FlashKernel<T> kernel;
    const char* name;
    int dmax, bn, r;
};

/** Every flash variant of kernels.def, by storage type, in manifest order (the list nvcc compiles). */
struct FlashVariants {
    std::vector<FlashVariant<float>> f32;
    std::vector<FlashVariant<__half>> f16;
    std::vector<FlashVariant<__nv_bfloat16>> bf16;
    void add(FlashVariant<float> v) { f32.push_back(v); }
    void add(FlashVariant<__half> v) { f16.push_back(v); }
    void add(FlashVariant<__nv_bfloat16> v) { bf16.push_back(v); }
};

static FlashVariants flash_variants() {
    FlashVariants all;
#define A4J_KERNEL(name, signature)
#define A4J_FLASH(name, T, DMAX, BN, R, signature) all.add(FlashVariant<T>{name, #name, DMAX, BN, R});
#include "kernels.def"
#undef A4J_KERNEL
#undef A4J_FLASH
    return all;
}

template <class T>
static void run_flash(FlashKernel<T> kernel, int rows_per_block, const char* name, Problem p, const HostMask& m,
                      unsigned seed, double tol) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1, 1);
    // q in [B,S,H,D] memory (strided view), k and v contiguous [B,KVH,S,D]
    std::vector<T> q((size_t) p.B * p.Sq * p.H * p.D), k((size_t) p.B * p.KVH * p.Sk * p.D), v((size_t) p.B * p.KVH * p.Sk * p.Dv);
    for (auto& x : q) x = store_as<T>(u(rng));
    for (auto& x : k) x = store_as<T>(u(rng));
    for (auto& x : v) x = store_as<T>(u(rng));
    std::vector<T> o((size_t) p.B * p.H * p.Sq * p.Dv);
    std::vector<float> lse((size_t) p.B * p.H * p.Sq);
    i64 qsb = (i64) p.Sq * p.H * p.D, qsh = p.D, qss = (i64) p.H * p.D;
    i64 ksb = (i64) p.KVH * p.Sk * p.D, ksh = (i64) p.Sk * p.D, kss = p.D;
    i64 vsb = (i64) p.KVH * p.Sk * p.Dv, vsh = (i64) p.Sk * p.Dv, vss = p.Dv;
    i64 osb = (i64) p.H * p.Sq * p.Dv, osh = (i64) p.Sq * p.Dv, oss = p.Dv;
    dim3 grid{(unsigned) ((p.Sq + rows_per_block - 1) / rows_per_block), (unsigned) p.H, (unsigned) p.B};
    simt_launch(kernel, grid, 128u, q.data(), k.data(), v.data(), o.data(), lse.data(), p.B, p.H, p.KVH, p.Sq, p.Sk, p.D,
                p.Dv, p.scale, p.softcap, qsb, qsh, qss, ksb, ksh, kss, vsb, vsh, vss, osb, osh, oss,
                m.lo.empty() ? nullptr : m.lo.data(), m.hi.empty() ? nullptr : m.hi.data(),
                m.lim.empty() ? nullptr : m.lim.data(), m.bm.empty() ? nullptr : m.bm.data(), (i64) 0, (i64) 0,
                (i64) p.Sk, (i64) 1, m.am.empty() ? nullptr : m.am.data(), (i64) 0, (i64) 0, (i64) 0, (i64) 1);
    int g = p.H / p.KVH;
    for (int b = 0; b < p.B; ++b)
        for (int h = 0; h < p.H; ++h)
            for (int i = 0; i < p.Sq; ++i) {
                std::vector<double> s(p.Sk, -INFINITY);
                double mx = -INFINITY;
                for (int j = m.begin(b, i, p.Sk); j < m.end(b, i, p.Sk); ++j) {
                    double dot = 0;
                    for (int d = 0; d < p.D; ++d)
                        dot += (double) a4j::to_f32(q[b * qsb + h * qsh + i * qss + d]) * a4j::to_f32(k[b * ksb + (h / g) * ksh + j * kss + d]);
                    double x = p.scale * dot;
                    if (p.softcap > 0) x = p.softcap * std::tanh(x / p.softcap);
                    s[j] = x + m.dense(i, j, p.Sk);
                    mx = std::fmax(mx, s[j]);
                }
                double sum = 0;
                std::vector<double> acc(p.Dv, 0.0);
                if (mx != -INFINITY)
                    for (int j = 0; j < p.Sk; ++j) {
                        if (s[j] == -INFINITY) continue;
                        double w = std::exp(s[j] - mx);
                        sum += w;
                        for (int d = 0; d < p.Dv; ++d) acc[d] += w * a4j::to_f32(v[b * vsb + (h / g) * vsh + j * vss + d]);
                    }
                char what[160];
                for (int d = 0; d < p.Dv; ++d) {
                    std::snprintf(what, sizeof what, "%s b=%d h=%d i=%d d=%d", name, b, h, i, d);
                    expect_close(what, sum > 0 ? acc[d] / sum : 0.0, a4j::to_f32(o[b * osb + h * osh + i * oss + d]), tol);
                }
                std::snprintf(what, sizeof what, "%s lse b=%d h=%d i=%d", name, b, h, i);
                expect_close(what, sum > 0 ? mx + std::log(sum) : -INFINITY, lse[((size_t) b * p.H + h) * p.Sq + i], 1e-4);
            }
}

static HostMask masks(int kind, const Problem& p, unsigned seed) {
    HostMask m;
    std::mt19937 rng(seed);
    switch (kind) {
        case 0: break;                                                    // none
        case 1: m.hi.assign(p.B, (long long) p.Sk - p.Sq + 1); break;     // causal, bottom-right
        case 2: m.lo.assign(p.B, -3); m.hi.assign(p.B, 2); break;        // window left 3, right 1, top-left
        case 3: m.lim = {p.Sk / 2, 0}; m.lim.resize(p.B, p.Sk); m.hi.assign(p.B, 1); break;  // key lengths (one empty batch) + causal
        default:                                                          // dense bool and additive
            m.bm.resize((size_t) p.Sq * p.Sk);
            for (auto& x : m.bm) x = rng() % 5 != 0;
            for (int j = 0; j < p.Sk; ++j) m.bm[(size_t) 2 * p.Sk + j] = 0;  // a fully masked row
            m.am.resize(p.Sk);
            for (auto& x : m.am) x = (float) (rng() % 100) / 50.0f - 1.0f;
    }
    return m;
}

/**
 * Every flash variant of the manifest. Each tile shape at f32 over every mask kind, with Sq 19 and Sk 37 (multiples
 * of no block's 4·R rows nor any key tile), D well inside the bound (the zero-padded tail of the Q and K tiles) and
 * Dv at it (every lane's last value column), GQA 2:1; then fewer queries than a block's rows and fewer keys than a
 * tile, and MQA with D != Dv and softcap over several key tiles. Every f16 and bf16 variant on the first problem,
 * the mask kinds in turn.
 */
static void flash_tests() {
    const FlashVariants all = flash_variants();
    int runs = 0;
    for (const auto& v : all.f32) {
        const int d = v.dmax - v.dmax / 4 + 1;
        Problem p{2, 4, 2, 19, 37, d, v.dmax, 1 / std::sqrt((float) d), 0};
        for (int kind = 0; kind < 5; ++kind, ++runs)
            run_flash<float>(v.kernel, 4 * v.r, v.name, p, masks(kind, p, 100 + kind), 1 + kind, 1e-5);
        Problem tiny{1, 2, 2, 3, 5, d, d - 3, 0.3f, 0};
        run_flash<float>(v.kernel, 4 * v.r, v.name, tiny, masks(4, tiny, 6), 30, 1e-5);
        Problem small{1, 3, 1, 5, 70, 17, 29, 0.3f, 2.5f};
        run_flash<float>(v.kernel, 4 * v.r, v.name, small, masks(1, small, 7), 31, 1e-5);
        runs += 2;
    }
    int kind = 0;
    for (const auto& v : all.f16) {
        Problem p{2, 4, 2, 19, 37, v.dmax - v.dmax / 4 + 1, v.dmax, 0.125f, 0};
        run_flash<__half>(v.kernel, 4 * v.r, v.name, p, masks(kind % 5, p, 110 + kind), 11 + kind, 2e-3);
        ++kind, ++runs;
    }
    for (const auto& v : all.bf16) {
        Problem p{2, 4, 2, 19, 37, v.dmax - v.dmax / 4 + 1, v.dmax, 0.125f, 0};
        run_flash<__nv_bfloat16>(v.kernel, 4 * v.r, v.name, p, masks(kind % 5, p, 110 + kind), 11 + kind, 1e-2);
        ++kind, ++runs;
    }
    if (all.f32.size() < 12 || all.f16.size() != all.f32.size() || all.bf16.size() != all.f32.size()) {
        std::printf("FAIL kernels.def lists %zu f32, %zu f16 and %zu bf16 flash variants\n", all.f32.size(),
                    all.f16.size(), all.bf16.size());
        ++failures;
    }
    std::printf("simt_test: %zu flash variants (%zu tile shapes at f32 over 5 mask kinds), %d runs\n",
                all.f32.size() + all.f16.size() + all.bf16.size(), all.f32.size(), runs);
}

static void softmax_rows_tests() {
    Problem p{2, 2, 2, 7, 300, 1, 1, 0.7f, 3.0f};
    HostMask m = masks(4, p, 5);
    m.hi.assign(p.B, 150);
    for (int stage = 0; stage < 4; ++stage) {
        std::mt19937 rng(stage);
        std::uniform_real_distribution<float> u(-4, 4);
        std::vector<float> s((size_t) p.B * p.H * p.Sq * p.Sk);
        for (auto& x : s) x = u(rng);
        std::vector<float> in = s, lse((size_t) p.B * p.H * p.Sq);
        simt_launch(masked_softmax_rows_f32, dim3{5, 1, 1}, 256u, s.data(), lse.data(), p.B, p.H, p.Sq, p.Sk, p.scale,
                    p.softcap, stage, (const i64*) nullptr, m.hi.data(), (const int*) nullptr, m.bm.data(), (i64) 0,
                    (i64) 0, (i64) p.Sk, (i64) 1, m.am.data(), (i64) 0, (i64) 0, (i64) 0, (i64) 1);
        for (int row = 0; row < p.B * p.H * p.Sq; ++row) {
            int i = row % p.Sq, b = row / (p.Sq * p.H);
            std::vector<double> x(p.Sk);
            double mx = -INFINITY;
            for (int j = 0; j < p.Sk; ++j) {
                double v = (double) in[(size_t) row * p.Sk + j] * p.scale;
                if (stage >= 1) v = p.softcap * std::tanh(v / p.softcap);
                if (stage >= 2) v = (j < m.begin(b, i, p.Sk) || j >= m.end(b, i, p.Sk)) ? -INFINITY : v + m.dense(i, j, p.Sk);
                x[j] = v;
                mx = std::fmax(mx, v);
            }
            if (stage == 3) {
                double sum = 0;
                for (int j = 0; j < p.Sk; ++j) sum += mx == -INFINITY ? 0 : std::exp(x[j] - mx);
                for (int j = 0; j < p.Sk; ++j) x[j] = mx == -INFINITY ? 0 : std::exp(x[j] - mx) / sum;
                expect_close("softmax rows lse", mx == -INFINITY ? -INFINITY : mx + std::log(sum), lse[row], 1e-5);
            }
            char what[96];
            for (int j = 0; j < p.Sk; ++j) {
                std::snprintf(what, sizeof what, "softmax rows stage %d row %d j %d", stage, row, j);
                expect_close(what, x[j], s[(size_t) row * p.Sk + j], 1e-5);
            }
        }
    }
}

static void block_tests() {
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> u(-2, 2);
    const int groups = 5, n = 301;
    std::vector<float> x((size_t) groups * n), y(x.size()), scale(n), bias(n), mean(groups), inv(groups);
    for (auto& e : x) e = u(rng) + 3;
    for (auto& e : scale) e = u(rng);
    for (auto& e : bias) e = u(rng);
    simt_launch(layer_norm_f32, dim3{3, 1, 1}, 256u, x.data(), y.data(), scale.data(), bias.data(), mean.data(),
                inv.data(), (i64) groups, n, 1e-5f);
    for (int g = 0; g < groups; ++g) {
        double mu = 0, var = 0;
        for (int t = 0; t < n; ++t) mu += x[(size_t) g * n + t];
        mu /= n;
        for (int t = 0; t < n; ++t) var += (x[(size_t) g * n + t] - mu) * (x[(size_t) g * n + t] - mu);
        double r = 1 / std::sqrt(var / n + 1e-5);
        expect_close("layer norm mean", mu, mean[g], 1e-5);
        expect_close("layer norm inv", r, inv[g], 1e-4);
        for (int t = 0; t < n; ++t)
            expect_close("layer norm y", (x[(size_t) g * n + t] - mu) * r * scale[t] + bias[t], y[(size_t) g * n + t], 1e-4);
    }
    const int outer = 3, len = 45, inner = 4;
    std::vector<float> a((size_t) outer * len * inner), sm(a.size());
    for (auto& e : a) e = u(rng) * 5;
    for (int t = 0; t < len; ++t) a[(size_t) (1 * len + t) * inner + 2] = -INFINITY;  // an all −∞ slice
    simt_launch(softmax_axis_f32, dim3{1, 1, 1}, 128u, a.data(), sm.data(), (i64) outer, len, (i64) inner);
    for (int o = 0; o < outer; ++o)
        for (int in = 0; in < inner; ++in) {
            double mx = -INFINITY, sum = 0;
            for (int t = 0; t < len; ++t) mx = std::fmax(mx, a[((size_t) o * len + t) * inner + in]);
            for (int t = 0; t < len; ++t) sum += mx == -INFINITY ? 0 : std::exp(a[((size_t) o * len + t) * inner + in] - mx);
            for (int t = 0; t < len; ++t)
                expect_close("softmax axis", mx == -INFINITY ? 0 : std::exp(a[((size_t) o * len + t) * inner + in] - mx) / sum,
                             sm[((size_t) o * len + t) * inner + in], 1e-5);
        }
}

static void layout_tests() {
    // convert_strided: a permuted f32 [2,3,4] view into contiguous bf16, then back into a strided f32 view
    std::vector<float> src(24), back(48, -1.0f);
    for (int i = 0; i < 24; ++i) src[i] = i * 0.25f - 3;
    std::vector<__nv_bfloat16> mid(24);
    // view (a, b, c) -> src[c * 6 + b * 2 + a] with shape [2, 3, 4]
    simt_launch(convert_strided, dim3{1, 1, 1}, 64u, (const void*) src.data(), 0, (void*) mid.data(), 2, 1, 1, 1, 2, 3, 4,
                (i64) 0, (i64) 0, (i64) 0, (i64) 1, (i64) 2, (i64) 6, (i64) 0, (i64) 0, (i64) 0, (i64) 12, (i64) 4, (i64) 1, (i64) 24);
    for (int a = 0; a < 2; ++a)
        for (int b = 0; b < 3; ++b)
            for (int c = 0; c < 4; ++c)
                expect_close("convert to bf16", __bfloat162float(__float2bfloat16_rn(src[c * 6 + b * 2 + a])),
                             __bfloat162float(mid[a * 12 + b * 4 + c]), 0);
    simt_launch(convert_strided, dim3{2, 1, 1}, 32u, (const void*) mid.data(), 2, (void*) back.data(), 0, 1, 1, 1, 1, 1, 24,
                (i64) 0, (i64) 0, (i64) 0, (i64) 0, (i64) 0, (i64) 1, (i64) 0, (i64) 0, (i64) 0, (i64) 0, (i64) 0, (i64) 2, (i64) 24);
    for (int i = 0; i < 24; ++i) {
        expect_close("convert back strided", __bfloat162float(mid[i]), back[2 * i], 0);
        expect_close("convert leaves gaps", -1.0, back[2 * i + 1], 0);
    }
    // split_heads then merge_heads: [B*S, rows] -> [B, H, S, D] -> [B, S, H*D]
    const int B = 2, S = 3, H = 2, D = 5, rows = 17, col = 4;
    std::vector<float> r((size_t) B * S * rows), heads((size_t) B * H * S * D), merged((size_t) B * S * H * D);
    for (size_t i = 0; i < r.size(); ++i) r[i] = (float) i;
    simt_launch(split_heads_f32, dim3{1, 1, 1}, 64u, (const float*) r.data(), heads.data(), B, S, H, D, (i64) rows, (i64) col);
    simt_launch(merge_heads_f32, dim3{1, 1, 1}, 64u, (const float*) heads.data(), merged.data(), B, H, S, D);
    for (int b = 0; b < B; ++b)
        for (int h = 0; h < H; ++h)
            for (int s = 0; s < S; ++s)
                for (int d = 0; d < D; ++d) {
                    float want = r[(size_t) (b * S + s) * rows + col + h * D + d];
                    expect_close("split heads", want, heads[(((size_t) b * H + h) * S + s) * D + d], 0);
                    expect_close("merge heads", want, merged[((size_t) (b * S + s) * H + h) * D + d], 0);
                }
    // mask_accumulate: a u8 term broadcast over heads and an f32 term broadcast over queries
    const int MB = 1, MH = 2, MQ = 3, MK = 4;
    std::vector<float> bias((size_t) MB * MH * MQ * MK, 0.0f), add(MK);
    std::vector<unsigned char> keep(MQ * MK);
    for (int i = 0; i < MQ * MK; ++i) keep[i] = i % 3 != 0;
    for (int j = 0; j < MK; ++j) add[j] = j * 0.5f;
    simt_launch(mask_accumulate_f32, dim3{1, 1, 1}, 32u, bias.data(), (const void*) keep.data(), 3, MB, MH, MQ, MK,
                (i64) 0, (i64) 0, (i64) MK, (i64) 1);
    simt_launch(mask_accumulate_f32, dim3{1, 1, 1}, 32u, bias.data(), (const void*) add.data(), 0, MB, MH, MQ, MK,
                (i64) 0, (i64) 0, (i64) 0, (i64) 1);
    for (int h = 0; h < MH; ++h)
        for (int i = 0; i < MQ; ++i)
            for (int j = 0; j < MK; ++j)
                expect_close("mask accumulate", keep[i * MK + j] ? j * 0.5 : -INFINITY, bias[((size_t) h * MQ + i) * MK + j], 0);
}

static void elementwise_tests() {
    std::vector<float> x(1000), y(1000);
    for (int i = 0; i < 1000; ++i) x[i] = (i - 500) * 0.013f;
    for (int approx = 0; approx < 2; ++approx) {
        simt_launch(gelu_f32, dim3{2, 1, 1}, 256u, (const float*) x.data(), y.data(), (i64) 1000, approx);
        for (int i = 0; i < 1000; ++i) {
            double v = x[i];
            double want = approx == 0 ? 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)))
                                      : 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
            expect_close("gelu", want, y[i], 1e-5);
        }
    }
    // rotary with positions, rotaryDim 6 of D 8, both pairings, in place
    const int B = 2, H = 2, S = 3, D = 8, rot = 6, half = 3, maxPos = 5;
    std::vector<float> cs(maxPos * half), sn(maxPos * half);
    for (int i = 0; i < maxPos * half; ++i) { cs[i] = std::cos(0.3 * i); sn[i] = std::sin(0.3 * i); }
    std::vector<int> pos = {4, 0, 2, 1, 3, 4};
    for (int interleaved = 0; interleaved < 2; ++interleaved) {
        std::vector<float> a((size_t) B * H * S * D);
        for (size_t i = 0; i < a.size(); ++i) a[i] = (float) std::sin(0.7 * i);
        std::vector<float> in = a;
        simt_launch(rotary_f32, dim3{1, 1, 1}, 64u, (const float*) a.data(), a.data(), (const float*) cs.data(),
                    (const float*) sn.data(), (const int*) pos.data(), B, H, S, D, rot, interleaved);
        for (int b = 0; b < B; ++b)
            for (int h = 0; h < H; ++h)
                for (int s = 0; s < S; ++s) {
                    const float* xr = &in[(((size_t) b * H + h) * S + s) * D];
                    const float* yr = &a[(((size_t) b * H + h) * S + s) * D];
                    for (int t = 0; t < half; ++t) {
                        int i1 = interleaved ? 2 * t : t, i2 = interleaved ? 2 * t + 1 : t + half;
                        double c = cs[pos[b * S + s] * half + t], n = sn[pos[b * S + s] * half + t];
                        expect_close("rotary x1", c * xr[i1] - n * xr[i2], yr[i1], 1e-6);
                        expect_close("rotary x2", n * xr[i1] + c * xr[i2], yr[i2], 1e-6);
                    }
                    for (int t = rot; t < D; ++t) expect_close("rotary pass-through", xr[t], yr[t], 0);
                }
    }
}

#include "classic_tests.h"

int main() {
    flash_tests();
    softmax_rows_tests();
    block_tests();
    layout_tests();
    elementwise_tests();
    classic_tests::all();
    if (failures) {
        std::printf("simt_test: %d failures\n", failures);
        return 1;
    }
    std::printf("simt_test: every kernel of kernels.def (every flash variant: f32/f16/bf16, d32-d256, each key tile "
                "and rows per warp, every mask kind, GQA/MQA, softcap; masked softmax rows at 4 stages; layer norm; "
                "softmax axis; convert_strided; split/merge heads; mask accumulate; gelu; rotary; l2 normalize, "
                "additive scores, top-k, sampling, local-p, sinusoidal positions, add, bias + residual epilogue) "
                "matches float64\n");
    return 0;
}
