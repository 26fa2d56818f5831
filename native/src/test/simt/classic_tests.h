// The kernels of classic.cu (the attention family from the literature) on the host SIMT harness against float64
// references, on sizes that hurt: one key, one query, odd lengths, head dims up to 256, fully masked rows, ties,
// rows past the shared-memory sort, grids smaller than the work (grid-stride loops). Included by simt_test.cpp.
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>

namespace classic_tests {

typedef unsigned long long u64;

static std::vector<float> uniform(std::mt19937& rng, size_t n, float lo, float hi) {
    std::uniform_real_distribution<float> u(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = u(rng);
    return v;
}

static void l2_normalize() {
    std::mt19937 rng(41);
    for (int d : {1, 7, 59, 256}) {
        const int rows = 13;
        std::vector<float> x = uniform(rng, (size_t) rows * d, -3, 3), y(x.size(), NAN);
        for (int t = 0; t < d; ++t) x[(size_t) 4 * d + t] = 0.0f;      // a zero row stays zero
        for (int t = 0; t < d; ++t) x[(size_t) 7 * d + t] = 1e-12f;    // a row shorter than eps is divided by eps
        // two blocks of 4 warps for 13 rows: the grid-stride loop takes the rest
        simt_launch(l2_normalize_rows_f32, dim3{2, 1, 1}, 128u, (const float*) x.data(), y.data(), (i64) rows, d, 1e-8f);
        for (int r = 0; r < rows; ++r) {
            double ss = 0;
            for (int t = 0; t < d; ++t) ss += (double) x[(size_t) r * d + t] * x[(size_t) r * d + t];
            double norm = std::max(std::sqrt(ss), 1e-8);
            char what[80];
            for (int t = 0; t < d; ++t) {
                std::snprintf(what, sizeof what, "l2 normalize d=%d row %d t %d", d, r, t);
                expect_close(what, x[(size_t) r * d + t] / norm, y[(size_t) r * d + t], 1e-6);
            }
        }
        // in place
        std::vector<float> z = x;
        simt_launch(l2_normalize_rows_f32, dim3{4, 1, 1}, 64u, (const float*) z.data(), z.data(), (i64) rows, d, 1e-8f);
        for (size_t i = 0; i < z.size(); ++i) expect_close("l2 normalize in place", y[i], z[i], 0);
    }
}

struct AddCase {
    int B, H, Sq, Sk, A, pk_group, v_stride;  // v_stride 0 (shared v) or A
    int mask;                                 // 0 none, 1 causal top-left, 2 window [i-5, i+2] with key lengths
    unsigned grid;
};

static void additive_scores() {
    const AddCase cases[] = {
        {2, 4, 33, 37, 11, 2, 11, 0, 7},   // odd sizes, key projection shared by the pairs of query heads, grid < tiles
        {1, 2, 1, 1, 1, 1, 0, 0, 1},       // one query, one key, A = 1, shared v
        {1, 3, 5, 70, 40, 1, 40, 0, 64},   // A over two chunks of 32, more blocks than tiles
        {2, 2, 65, 65, 65, 2, 0, 1, 5},    // causal: the tiles above the diagonal are skipped
        {2, 1, 70, 100, 7, 1, 7, 2, 9},    // a window: tiles on both sides skipped, key lengths cut batch 1
        {1, 1, 1, 1021, 3, 1, 3, 1, 4},    // a long row, causal top-left: only key 0 is visible
    };
    std::mt19937 rng(43);
    for (const AddCase& c : cases) {
        const int pk_heads = c.H / c.pk_group;
        std::vector<float> pq = uniform(rng, (size_t) c.B * c.H * c.Sq * c.A, -2, 2);
        std::vector<float> pk = uniform(rng, (size_t) c.B * pk_heads * c.Sk * c.A, -2, 2);
        std::vector<float> va = uniform(rng, (size_t) c.H * c.A, -1, 1);
        std::vector<long long> lo, hi;
        std::vector<int> lim;
        if (c.mask == 1) hi.assign(c.B, 1);
        if (c.mask == 2) {
            lo.assign(c.B, -5);
            hi.assign(c.B, 3);
            lim = {c.Sk, 40};
            lim.resize(c.B, c.Sk);
        }
        HostMask m;
        m.lo = lo;
        m.hi = hi;
        m.lim = lim;
        std::vector<float> s((size_t) c.B * c.H * c.Sq * c.Sk, NAN);  // NaN: what a skipped tile keeps
        simt_launch(additive_scores_f32, dim3{c.grid, 1, 1}, 256u, (const float*) pq.data(), (const float*) pk.data(),
                    (const float*) va.data(), s.data(), c.B, c.H, c.Sq, c.Sk, c.A, c.pk_group, c.v_stride,
                    lo.empty() ? nullptr : (const i64*) lo.data(), hi.empty() ? nullptr : (const i64*) hi.data(),
                    lim.empty() ? nullptr : (const int*) lim.data());
        int skipped = 0;
        for (int b = 0; b < c.B; ++b)
            for (int h = 0; h < c.H; ++h)
                for (int i = 0; i < c.Sq; ++i)
                    for (int j = 0; j < c.Sk; ++j) {
                        float got = s[(((size_t) b * c.H + h) * c.Sq + i) * c.Sk + j];
                        bool visible = j >= m.begin(b, i, c.Sk) && j < m.end(b, i, c.Sk);
                        if (!visible) {
                            skipped += std::isnan(got);
                            continue;  // masked_softmax_rows_f32 writes −∞ there without reading
                        }
                        double want = 0;
                        for (int a = 0; a < c.A; ++a)
                            want += (double) va[(size_t) h * c.v_stride + a]
                                    * std::tanh((double) pq[(((size_t) b * c.H + h) * c.Sq + i) * c.A + a]
                                                + pk[(((size_t) b * pk_heads + h / c.pk_group) * c.Sk + j) * c.A + a]);
                        char what[120];
                        std::snprintf(what, sizeof what, "additive B=%d H=%d Sq=%d Sk=%d A=%d at %d,%d,%d,%d", c.B, c.H,
                                      c.Sq, c.Sk, c.A, b, h, i, j);
                        expect_close(what, want, got, 2e-6 * std::max(1, c.A / 8));
                    }
        if (c.mask != 0 && skipped == 0 && failures++ < 20) std::printf("FAIL additive mask %d: no tile was skipped\n", c.mask);
    }
}

/** The oracle's selection: visible keys by decreasing score, ties to the lower key. */
static std::vector<int> ranked(const float* x, int sk) {
    std::vector<int> keys;
    for (int j = 0; j < sk; ++j)
        if (x[j] != -INFINITY) keys.push_back(j);
    std::stable_sort(keys.begin(), keys.end(), [&](int a, int b) { return (double) x[a] > (double) x[b]; });
    return keys;
}

static void topk() {
    struct Case { int B, H, KVH, Sq, Sk, Dv, k; unsigned grid; };
    const Case cases[] = {
        {1, 1, 1, 1, 1, 1, 1, 1},          // one key
        {2, 4, 2, 5, 37, 24, 1, 3},        // argmax, GQA, grid < rows
        {2, 4, 2, 5, 37, 24, 2, 40},       // more blocks than rows
        {1, 2, 1, 3, 37, 24, 5, 2},
        {1, 2, 1, 3, 37, 256, 37, 6},      // every key, Dv 256
        {1, 2, 2, 3, 1021, 64, 17, 4},     // a long row in shared memory (P = 1024)
        {1, 1, 1, 3, 4096, 8, 300, 2},     // P = 4096: the largest shared-memory sort
        {1, 1, 1, 3, 5000, 8, 2500, 2},    // P = 8192: sorted in the global scratch, one slice per block
        {1, 1, 1, 3, 5000, 3, 1, 2},       // argmax past the shared-memory size needs no scratch
    };
    std::mt19937 rng(47);
    for (const Case& c : cases) {
        const int rows = c.B * c.H * c.Sq;
        std::vector<float> s = uniform(rng, (size_t) rows * c.Sk, -4, 4);
        for (size_t t = 0; t < s.size(); ++t) {
            if (rng() % 7 == 0) s[t] = -INFINITY;                          // masked keys
            else if (rng() % 11 == 0) s[t] = std::round(s[t]);             // ties
            else if (rng() % 13 == 0) s[t] = rng() % 2 ? 0.0f : -0.0f;     // −0 and +0 tie too
        }
        if (rows > 1)
            for (int j = 0; j < c.Sk; ++j) s[(size_t) 1 * c.Sk + j] = -INFINITY;  // a fully masked row
        std::vector<float> v = uniform(rng, (size_t) c.B * c.KVH * c.Sk * c.Dv, -1, 1);
        std::vector<float> out((size_t) rows * c.Dv, NAN);
        std::vector<int> idx((size_t) rows * c.k, -7);
        int P = 1;
        while (P < c.Sk) P <<= 1;
        std::vector<u64> scratch(P > 4096 && c.k > 1 ? (size_t) c.grid * P : 0);
        simt_launch(topk_rows_f32, dim3{c.grid, 1, 1}, 256u, (const float*) s.data(), (const float*) v.data(), out.data(),
                    idx.data(), scratch.empty() ? (u64*) nullptr : scratch.data(), c.B, c.H, c.KVH, c.Sq, c.Sk, c.Dv, c.k, P);
        for (int r = 0; r < rows; ++r) {
            const float* x = &s[(size_t) r * c.Sk];
            std::vector<int> keys = ranked(x, c.Sk);
            const int n = std::min<int>(c.k, keys.size());
            char what[120];
            for (int t = 0; t < c.k; ++t) {
                std::snprintf(what, sizeof what, "topk Sk=%d k=%d row %d slot %d", c.Sk, c.k, r, t);
                expect_close(what, t < n ? keys[t] : -1, idx[(size_t) r * c.k + t], 0);
            }
            const int b = r / (c.H * c.Sq), h = r / c.Sq % c.H, g = c.H / c.KVH;
            double sum = 0;
            for (int t = 0; t < n; ++t) sum += std::exp((double) x[keys[t]] - x[keys[0]]);
            for (int d = 0; d < c.Dv; ++d) {
                double acc = 0;
                for (int t = 0; t < n; ++t)
                    acc += std::exp((double) x[keys[t]] - x[keys[0]]) / sum
                           * v[(((size_t) b * c.KVH + h / g) * c.Sk + keys[t]) * c.Dv + d];
                std::snprintf(what, sizeof what, "topk out Sk=%d k=%d row %d d %d", c.Sk, c.k, r, d);
                expect_close(what, acc, out[(size_t) r * c.Dv + d], 2e-6);
            }
        }
    }
}

/** Kernels#sampleUniform(seed, row) from the Java API (Double.toHexString), so the device's draw is the API's. */
static void sample_uniform_is_the_apis() {
    struct Case { long long seed, row; double want; };
    const Case cases[] = {
        {0LL, 0LL, 0x1.c4415072f63b9p-1},
        {42LL, 7LL, 0x1.99ec6bdd3d3c5p-1},
        {-1LL, 123456789LL, 0x1.99c517d6a1947p-1},
        {0x1234567890ABCDEFLL, 1LL << 40, 0x1.b4aefe3b79714p-3},
    };
    for (const Case& c : cases) expect_close("sampleUniform", c.want, a4j::sample_uniform((u64) c.seed, (u64) c.row), 0);
}

static void sample() {
    sample_uniform_is_the_apis();
    struct Case { int B, H, KVH, Sq, Sk, Dv; long long seed; unsigned grid; };
    const Case cases[] = {
        {1, 1, 1, 1, 1, 1, 5, 1},
        {2, 4, 2, 5, 31, 24, 7, 1},      // one block of 8 warps for 40 rows
        {2, 4, 2, 5, 33, 24, -3, 4},
        {1, 2, 1, 7, 1021, 256, 1LL << 50, 3},
    };
    std::mt19937 rng(53);
    for (const Case& c : cases) {
        const int rows = c.B * c.H * c.Sq;
        std::vector<float> s = uniform(rng, (size_t) rows * c.Sk, -3, 3);
        for (auto& x : s)
            if (rng() % 5 == 0) x = -INFINITY;
        if (rows > 2) {
            for (int j = 0; j < c.Sk; ++j) s[(size_t) 2 * c.Sk + j] = -INFINITY;  // a fully masked row
            for (int j = 0; j < c.Sk; ++j) s[(size_t) 1 * c.Sk + j] = j == c.Sk - 1 ? 1.0f : -INFINITY;  // only the last key
        }
        std::vector<float> v = uniform(rng, (size_t) c.B * c.KVH * c.Sk * c.Dv, -1, 1);
        std::vector<float> out((size_t) rows * c.Dv, NAN);
        std::vector<int> idx(rows, -7);
        simt_launch(sample_rows_f32, dim3{c.grid, 1, 1}, 256u, (const float*) s.data(), (const float*) v.data(), out.data(),
                    idx.data(), c.B, c.H, c.KVH, c.Sq, c.Sk, c.Dv, (i64) c.seed);
        for (int r = 0; r < rows; ++r) {
            const float* x = &s[(size_t) r * c.Sk];
            double m = -INFINITY;
            for (int j = 0; j < c.Sk; ++j) m = std::fmax(m, x[j]);
            int want = -1;
            if (m != -INFINITY) {
                // the oracle's inverse CDF (ReferenceClassic.inverseCdf) in float64
                std::vector<double> w(c.Sk);
                double total = 0;
                int last = -1;
                for (int j = 0; j < c.Sk; ++j) {
                    w[j] = std::exp((double) x[j] - m);
                    total += w[j];
                    if (w[j] > 0) last = j;
                }
                double target = a4j::sample_uniform((u64) c.seed, (u64) r) * total, cum = 0;
                want = last;
                for (int j = 0; j < c.Sk; ++j) {
                    cum += w[j];
                    if (w[j] > 0 && cum > target) {
                        want = j;
                        break;
                    }
                }
            }
            char what[100];
            std::snprintf(what, sizeof what, "sample Sk=%d row %d key", c.Sk, r);
            expect_close(what, want, idx[r], 0);
            const int b = r / (c.H * c.Sq), h = r / c.Sq % c.H, g = c.H / c.KVH;
            for (int d = 0; d < c.Dv; ++d) {
                std::snprintf(what, sizeof what, "sample Sk=%d row %d d %d", c.Sk, r, d);
                expect_close(what, want < 0 ? 0.0 : v[(((size_t) b * c.KVH + h / g) * c.Sk + want) * c.Dv + d],
                             out[(size_t) r * c.Dv + d], 0);
            }
        }
    }
}

static void localp() {
    struct Case { int B, H, KVH, Sq, Sk, D, Dv, A, per_head, halfWidth; unsigned grid, block; };
    const Case cases[] = {
        {1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 32},
        {2, 4, 2, 5, 37, 24, 24, 5, 1, 4, 3, 128},      // per-head wp and vp, GQA
        {2, 4, 2, 5, 37, 24, 24, 5, 0, 40, 50, 64},     // a window wider than the row
        {1, 2, 1, 9, 1021, 256, 256, 300, 0, 16, 4, 256},
        {1, 2, 2, 4, 64, 59, 8, 3, 1, 1, 2, 128},       // D = 1: three keys at most
    };
    std::mt19937 rng(59);
    for (const Case& c : cases) {
        const int rows = c.B * c.H * c.Sq;
        std::vector<float> s = uniform(rng, (size_t) rows * c.Sk, -3, 3);
        for (auto& x : s)
            if (rng() % 6 == 0) x = -INFINITY;
        if (rows > 1)
            for (int j = 0; j < c.Sk; ++j) s[(size_t) c.Sk + j] = -INFINITY;  // a fully masked row
        const float ws = 1.0f / std::sqrt((float) c.D);
        std::vector<float> q = uniform(rng, (size_t) rows * c.D, -1, 1);
        std::vector<float> wp = uniform(rng, (size_t) (c.per_head ? c.H : 1) * c.A * c.D, -ws, ws);
        std::vector<float> vp = uniform(rng, (size_t) (c.per_head ? c.H : 1) * c.A, -2, 2);
        std::vector<float> v = uniform(rng, (size_t) c.B * c.KVH * c.Sk * c.Dv, -1, 1);
        std::vector<float> in = s, out((size_t) rows * c.Dv, NAN), centres(rows, NAN);
        const int wp_stride = c.per_head ? c.A * c.D : 0, vp_stride = c.per_head ? c.A : 0;
        simt_launch(localp_rows_f32, dim3{c.grid, 1, 1}, c.block, s.data(), (const float*) q.data(), (const float*) wp.data(),
                    (const float*) vp.data(), (const float*) v.data(), out.data(), centres.data(), c.B, c.H, c.KVH, c.Sq, c.Sk,
                    c.D, c.Dv, c.A, wp_stride, vp_stride, c.halfWidth);
        for (int r = 0; r < rows; ++r) {
            const int b = r / (c.H * c.Sq), h = r / c.Sq % c.H, g = c.H / c.KVH;
            double zt = 0;
            for (int a = 0; a < c.A; ++a) {
                double z = 0;
                for (int d = 0; d < c.D; ++d) z += (double) wp[(size_t) h * wp_stride + (size_t) a * c.D + d] * q[(size_t) r * c.D + d];
                zt += vp[(size_t) h * vp_stride + a] * std::tanh(z);
            }
            const double pt = c.Sk / (1 + std::exp(-zt));
            char what[100];
            std::snprintf(what, sizeof what, "local-p Sk=%d row %d centre", c.Sk, r);
            expect_close(what, pt, centres[r], 1e-6);
            const float* x = &in[(size_t) r * c.Sk];
            double m = -INFINITY;
            for (int j = 0; j < c.Sk; ++j)
                if (j >= pt - c.halfWidth && j <= pt + c.halfWidth) m = std::fmax(m, x[j]);
            double sum = 0;
            for (int j = 0; j < c.Sk; ++j)
                if (j >= pt - c.halfWidth && j <= pt + c.halfWidth && m != -INFINITY) sum += std::exp(x[j] - m);
            const double sigma = c.halfWidth / 2.0;
            for (int d = 0; d < c.Dv; ++d) {
                double acc = 0;
                for (int j = 0; j < c.Sk; ++j)
                    if (j >= pt - c.halfWidth && j <= pt + c.halfWidth && m != -INFINITY && x[j] != -INFINITY)
                        acc += std::exp(x[j] - m) / sum * std::exp(-(j - pt) * (j - pt) / (2 * sigma * sigma))
                               * v[(((size_t) b * c.KVH + h / g) * c.Sk + j) * c.Dv + d];
                std::snprintf(what, sizeof what, "local-p Sk=%d D=%d row %d d %d", c.Sk, c.halfWidth, r, d);
                expect_close(what, acc, out[(size_t) r * c.Dv + d], 2e-6);
            }
        }
    }
}

static void block_parts() {
    std::mt19937 rng(61);
    // sinusoidal positions, in place, at offsets where float32 angles would be off
    for (int e : {1, 7, 64, 129})
        for (int offset : {0, 1000, 100000}) {
            const int B = 2, S = 33;
            std::vector<float> x = uniform(rng, (size_t) B * S * e, -1, 1), y = x;
            simt_launch(add_sinusoidal_f32, dim3{3, 1, 1}, 256u, (const float*) y.data(), y.data(), B, S, e, offset);
            for (int b = 0; b < B; ++b)
                for (int s = 0; s < S; ++s)
                    for (int t = 0; t < e; ++t) {
                        double omega = std::exp(-std::log(10000.0) * (t - (t & 1)) / e);
                        double pos = (double) offset + s;
                        double pe = (t & 1) == 0 ? std::sin(pos * omega) : std::cos(pos * omega);
                        expect_close("add sinusoidal", x[((size_t) b * S + s) * e + t] + pe, y[((size_t) b * S + s) * e + t], 3e-7);
                    }
        }
    // residual add with b broadcast along leading axes, in place into a
    for (long long period : {1LL, 17LL, 7LL * 17}) {
        const long long n = 7 * 17;
        std::vector<float> a = uniform(rng, n, -1, 1), b = uniform(rng, period, -1, 1), y = a;
        simt_launch(add_f32, dim3{1, 1, 1}, 32u, (const float*) y.data(), (const float*) b.data(), y.data(), (i64) n, (i64) period);
        for (long long i = 0; i < n; ++i) expect_close("add", (double) a[i] + b[i % period], y[i], 1e-7);
    }
    // the linearResidual epilogue: bias and a transposed residual, each optional
    for (int N : {1, 17, 129})
        for (int with_bias = 0; with_bias < 2; ++with_bias)
            for (int with_residual = 0; with_residual < 2; ++with_residual) {
                const int M = 7;
                std::vector<float> y = uniform(rng, (size_t) M * N, -1, 1), y0 = y, bias = uniform(rng, N, -1, 1);
                std::vector<float> rt = uniform(rng, (size_t) N * M, -1, 1);  // residual[m, n] = rt[n·M + m]
                simt_launch(bias_residual_f32, dim3{2, 1, 1}, 64u, y.data(), with_bias ? (const float*) bias.data() : nullptr,
                            with_residual ? (const float*) rt.data() : nullptr, M, N, (i64) 1, (i64) M);
                for (int m = 0; m < M; ++m)
                    for (int n = 0; n < N; ++n)
                        expect_close("bias residual",
                                     (double) y0[(size_t) m * N + n] + (with_bias ? bias[n] : 0.0)
                                             + (with_residual ? rt[(size_t) n * M + m] : 0.0),
                                     y[(size_t) m * N + n], 2e-7);
            }
}

static void all() {
    l2_normalize();
    additive_scores();
    topk();
    sample();
    localp();
    block_parts();
}

}  // namespace classic_tests
