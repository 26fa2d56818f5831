package dev.attn4j.simd;

import static dev.attn4j.simd.Parity.REFERENCE;
import static dev.attn4j.simd.Parity.SEED;
import static dev.attn4j.simd.Parity.SIMD;
import static dev.attn4j.simd.Parity.assertClose;
import static dev.attn4j.simd.Parity.randn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.attn4j.api.Kernels;
import dev.attn4j.api.Tensor;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/**
 * The SGEMM across its blocking edges: M around the 12-row register tile and the 48-row work item, N
 * around the 2·L-column panel, K across the 256-deep kc blocks; transposed operands, broadcast C,
 * alpha/beta, and identical results for any thread count.
 */
class SimdGemmParityTest {
    /**
     * Sums of K products of N(0,1) values, accumulated in float32 (sequentially along K, as every SGEMM
     * does) against float64: the rounding bound grows like K·ε times the summands' scale, not with |y|,
     * which cancellation can make small (K = 600 measured 3.3e-5 at y ≈ 0.42). So the tolerance is 1e-5
     * up to K = 64, then grows with K/64.
     */
    static double tol(int k) {
        return 1e-5 * Math.max(1.0, k / 64.0);
    }

    @Test
    void blockingEdges() {
        Random rnd = new Random(SEED + 20);
        int[] ms = {1, 11, 12, 13, 47, 49, 97};
        int[] ns = {1, 2 * Vec.L - 1, 2 * Vec.L, 2 * Vec.L + 1, 100};
        int[] ks = {1, 17, 256, 257, 600};
        for (int m : ms) {
            for (int n : ns) {
                for (int k : ks) {
                    if ((long) m * n * k > 3_000_000) {
                        continue;
                    }
                    Tensor a = Tensor.of(randn(rnd, m * k, 1f), m, k);
                    Tensor b = Tensor.of(randn(rnd, k * n, 1f), k, n);
                    Tensor want = Tensor.zeros(m, n);
                    Tensor got = Tensor.zeros(m, n);
                    REFERENCE.gemm(1f, a, b, 0f, null, want);
                    SIMD.gemm(1f, a, b, 0f, null, got);
                    assertClose("gemm " + m + "x" + n + "x" + k, want, got, tol(k));
                }
            }
        }
    }

    /**
     * Both loop orders (GemmConfig.passes) through every edge: rows left over after the register tiles, a partial
     * last panel written through the edge tile, several k-blocks and panel groups, K = 0, y strided (the
     * scratch), alpha/beta/c/bias, and y that is c itself (in-place residual: the scratch, c read in the
     * epilogue). Each against the reference, and the two orders bit-identical.
     */
    @Test
    void bothLoopOrders() {
        Random rnd = new Random(SEED + 24);
        Parallel par = new Parallel(null, 1);
        int[][] shapes = {{1, 1, 1}, {13, 2 * Vec.L + 3, 70}, {61, 5 * Vec.L - 1, 300}, {50, 100, 0}, {97, 3, 257}};
        for (int[] s : shapes) {
            int m = s[0];
            int n = s[1];
            int k = s[2];
            Tensor a = Tensor.of(randn(rnd, m * k, 1f), m, k);
            Tensor b = Tensor.of(randn(rnd, k * n, 1f), k, n);
            Tensor c = Tensor.of(randn(rnd, m * n, 1f), m, n);
            Tensor bias = Tensor.of(randn(rnd, n, 1f), n);
            Tensor want = Tensor.zeros(m, n);
            REFERENCE.gemm(0.5f, a, b, 2f, c, want);
            float[] wb = want.toFloatArray();
            for (int j = 0; j < m * n; j++) {
                wb[j] += bias.toFloatArray()[j % n];
            }
            float[][] results = new float[2][];
            for (boolean passes : new boolean[] {false, true}) {
                // kc 64 and 2 panels per group: several k-blocks and groups even at these sizes
                GemmConfig cfg = new GemmConfig(64, 24, 4, 12, passes);
                String what = "gemm " + m + "x" + n + "x" + k + (passes ? " by passes" : " by items");
                Tensor got = Tensor.zeros(m, n);
                Sgemm.gemm(0.5f, a, b, 2f, c, bias, got, par, cfg);
                assertClose(what, wb, got.toFloatArray(), tol(k));
                Tensor strided = Tensor.zeros(n, m).permute(1, 0);
                Sgemm.gemm(0.5f, a, b, 2f, c, bias, strided, par, cfg);
                assertClose(what + " into a strided y", wb, strided.toFloatArray(), tol(k));
                Tensor inPlace = Tensor.of(c.toFloatArray(), m, n);
                Sgemm.gemm(0.5f, a, b, 2f, inPlace, bias, inPlace, par, cfg);
                assertClose(what + " in place over c", wb, inPlace.toFloatArray(), tol(k));
                results[passes ? 1 : 0] = got.toFloatArray();
            }
            assertArrayEquals(results[0], results[1], "loop orders differ at " + m + "x" + n + "x" + k);
        }
    }

    @Test
    void transposedOperandsBroadcastCAlphaBeta() {
        Random rnd = new Random(SEED + 21);
        int m = 53;
        int n = 70;
        int k = 300;
        Tensor at = Tensor.of(randn(rnd, m * k, 1f), k, m).permute(1, 0);
        Tensor bt = Tensor.of(randn(rnd, k * n, 1f), n, k).permute(1, 0);
        for (Tensor c : new Tensor[] {null, Tensor.of(randn(rnd, n, 1f), n), Tensor.of(randn(rnd, m, 1f), m, 1),
                Tensor.of(randn(rnd, m * n, 1f), m, n), Tensor.of(new float[] {2.5f}, 1)}) {
            Tensor want = Tensor.zeros(m, n);
            Tensor got = Tensor.zeros(m, n);
            REFERENCE.gemm(0.5f, at, bt, -1.5f, c, want);
            SIMD.gemm(0.5f, at, bt, -1.5f, c, got);
            assertClose("gemm transposed c=" + (c == null ? "none" : java.util.Arrays.toString(c.shape())), want, got, tol(k));
        }
        // y written through a strided view
        Tensor want = Tensor.zeros(m, n);
        REFERENCE.gemm(1f, at, bt, 0f, null, want);
        Tensor yt = Tensor.zeros(n, m).permute(1, 0);
        SIMD.gemm(1f, at, bt, 0f, null, yt);
        assertClose("gemm into a transposed y", want, yt, tol(k));
    }

    @Test
    void linearAndBatchedMatmul() {
        Random rnd = new Random(SEED + 22);
        Tensor x = Tensor.of(randn(rnd, 77 * 300, 1f), 77, 300);
        Tensor w = Tensor.of(randn(rnd, 129 * 300, 1f), 129, 300);
        Tensor bias = Tensor.of(randn(rnd, 129, 1f), 129);
        Tensor want = Tensor.zeros(77, 129);
        Tensor got = Tensor.zeros(77, 129);
        REFERENCE.linear(x, w, bias, want);
        SIMD.linear(x, w, bias, got);
        assertClose("linear", want, got, tol(300));
        Tensor a = Tensor.of(randn(rnd, 3 * 33 * 40, 1f), 3, 1, 33, 40);
        Tensor b = Tensor.of(randn(rnd, 2 * 40 * 17, 1f), 2, 40, 17);
        Tensor wantM = Tensor.zeros(3, 2, 33, 17);
        Tensor gotM = Tensor.zeros(3, 2, 33, 17);
        REFERENCE.matmul(a, b, wantM);
        SIMD.matmul(a, b, gotM);
        assertClose("batched matmul", wantM, gotM, tol(40));
    }

    /**
     * {@link DotGemm}'s few rows (3 … {@link DotGemm#MAX_ROWS}) against a weight stored as rows: every row and
     * column count around its 4 × 4 tile and its item of 32 columns, K around the vector length with a tail,
     * W and y inside padded buffers (the padding must stay untouched), alpha through gemm, and the same bits
     * for one thread and three.
     */
    @Test
    void fewRowsAgainstWeightRows() {
        Random rnd = new Random(SEED + 24);
        int l = Vec.L;
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Kernels one = Kernels.of(new SimdBackend(Vec.BITS, new Parallel(null, 1)));
            Kernels three = Kernels.of(new SimdBackend(Vec.BITS, new Parallel(pool, 3)));
            for (int m = 3; m <= DotGemm.MAX_ROWS; m++) {
                for (int n : new int[] {1, 3, 4, 5, 33, 70}) {
                    for (int k : new int[] {l, l + 3, 100, 300}) {
                        Tensor x = Tensor.of(randn(rnd, m * k, 1f), m, k);
                        // W [n, k] inside a [n + 2, k + 5] buffer, at row 1, column 2
                        Tensor w = Tensor.of(randn(rnd, (n + 2) * (k + 5), 1f), n + 2, k + 5).narrow(0, 1, n).narrow(1, 2, k);
                        Tensor bias = Tensor.of(randn(rnd, n, 1f), n);
                        Tensor want = Tensor.zeros(m, n);
                        REFERENCE.linear(x, w, bias, want);
                        // y [m, n] inside a [m + 2, n + 3] buffer of sentinels
                        float[] buf = new float[(m + 2) * (n + 3)];
                        java.util.Arrays.fill(buf, 7f);
                        Tensor y = Tensor.of(buf, m + 2, n + 3).narrow(0, 1, m).narrow(1, 1, n);
                        String what = "linear " + m + "x" + n + "x" + k;
                        assertTrue(DotGemm.applies(x, w.permute(1, 0), y), what + " takes DotGemm");
                        one.linear(x, w, bias, y);
                        assertClose(what, want, y, tol(k));
                        for (int i = 0; i < m + 2; i++) {
                            for (int j = 0; j < n + 3; j++) {
                                boolean inside = i >= 1 && i <= m && j >= 1 && j <= n;
                                if (!inside && buf[i * (n + 3) + j] != 7f) {
                                    throw new AssertionError(what + " wrote outside y at [" + i + ", " + j + "]");
                                }
                            }
                        }
                        // W exactly [n, k] in its array: the tiles' repeated last row must stay inside it
                        Tensor exact = Tensor.zeros(m, n);
                        one.linear(x, Tensor.of(w.toFloatArray(), n, k), bias, exact);
                        assertArrayEquals(y.toFloatArray(), exact.toFloatArray(), what + ": W in its own array");
                        Tensor y3 = Tensor.zeros(m, n);
                        three.linear(x, w, bias, y3);
                        assertArrayEquals(y.toFloatArray(), y3.toFloatArray(), what + ": one thread and three");
                        Tensor wantHalf = Tensor.zeros(m, n);
                        Tensor gotHalf = Tensor.zeros(m, n);
                        REFERENCE.gemm(0.5f, x, w.permute(1, 0), 0f, null, wantHalf);
                        SIMD.gemm(0.5f, x, w.permute(1, 0), 0f, null, gotHalf);
                        assertClose("gemm alpha 0.5 " + m + "x" + n + "x" + k, wantHalf, gotHalf, tol(k));
                    }
                }
            }
        } finally {
            pool.shutdown();
        }
    }

    /**
     * Two rows against a row-major B wide and deep enough that the sums of B's row blocks no longer fit one
     * buffer of partial rows (40 blocks × 2 rows × 4000 columns): the columns go in chunks. Against the
     * reference, and the same bits on one thread and three.
     */
    @Test
    void wideRowMajorBInColumnChunks() {
        Random rnd = new Random(SEED + 26);
        int m = 2;
        int k = 96 * 40;
        int n = 4000;
        Tensor a = Tensor.of(randn(rnd, m * k, 1f), m, k);
        Tensor b = Tensor.of(randn(rnd, k * n, 1f), k, n);
        Tensor c = Tensor.of(randn(rnd, n, 1f), n);
        assertTrue(Sgemm.gemvRowsApplies(a, b, Tensor.zeros(m, n)), "runs as sums of B's rows");
        Tensor want = Tensor.zeros(m, n);
        REFERENCE.gemm(0.5f, a, b, 2f, c, want);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Tensor one = Tensor.zeros(m, n);
            Kernels.of(new SimdBackend(Vec.BITS, new Parallel(null, 1))).gemm(0.5f, a, b, 2f, c, one);
            assertClose("gemm 2 x 3840 x 4000", want, one, tol(k));
            Tensor three = Tensor.zeros(m, n);
            Kernels.of(new SimdBackend(Vec.BITS, new Parallel(pool, 3))).gemm(0.5f, a, b, 2f, c, three);
            assertArrayEquals(one.toFloatArray(), three.toFloatArray(), "one thread and three");
        } finally {
            pool.shutdown();
        }
    }

    /**
     * The unpacked paths of a few rows with a C term (linearResidual's residual, gemm's beta·C): against W's rows
     * (gemv for 1–2 rows, DotGemm for 3–8) and against a row-major B (gemvRows for 1–2 rows), C full, broadcast
     * along rows or columns, and y = C in place; each checked to take its path, against the oracle, and with the
     * same bits on one thread and three.
     */
    @Test
    void fewRowsWithCTerm() {
        Random rnd = new Random(SEED + 25);
        int l = Vec.L;
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Kernels one = Kernels.of(new SimdBackend(Vec.BITS, new Parallel(null, 1)));
            Kernels three = Kernels.of(new SimdBackend(Vec.BITS, new Parallel(pool, 3)));
            for (int m : new int[] {1, 2, 3, 5}) {
                for (int n : new int[] {1, 5, 4 * l - 1, 4 * l + 3, 300}) {
                    for (int k : new int[] {1, l, l + 3, 257}) {
                        String what = m + "x" + n + "x" + k;
                        Tensor x = Tensor.of(randn(rnd, m * k, 1f), m, k);
                        Tensor w = Tensor.of(randn(rnd, n * k, 1f), n, k);
                        Tensor bias = Tensor.of(randn(rnd, n, 1f), n);
                        Tensor residual = Tensor.of(randn(rnd, m * n, 1f), m, n);
                        if (k >= l) {
                            assertTrue(m <= Sgemm.GEMV_ROWS ? Sgemm.gemvApplies(x, w.permute(1, 0), residual)
                                    : DotGemm.applies(x, w.permute(1, 0), residual), what + " runs unpacked");
                        }
                        Tensor want = Tensor.zeros(m, n);
                        REFERENCE.linearResidual(x, w, bias, residual, want);
                        Tensor got = Tensor.zeros(m, n);
                        one.linearResidual(x, w, bias, residual, got);
                        assertClose("linearResidual " + what, want, got, tol(k));
                        Tensor got3 = Tensor.zeros(m, n);
                        three.linearResidual(x, w, bias, residual, got3);
                        assertArrayEquals(got.toFloatArray(), got3.toFloatArray(), what + ": one thread and three");
                        Tensor inPlace = Tensor.of(residual.toFloatArray(), m, n);
                        one.linearResidual(x, w, bias, inPlace, inPlace);
                        assertArrayEquals(got.toFloatArray(), inPlace.toFloatArray(), what + ": y = residual in place");
                        // gemm against a row-major B [k, n], C broadcast along rows, then along columns
                        Tensor b = Tensor.of(randn(rnd, k * n, 1f), k, n);
                        if (m <= Sgemm.GEMV_ROWS) {
                            assertTrue(Sgemm.gemvRowsApplies(x, b, got), what + " runs as sums of B's rows");
                        }
                        for (Tensor c : new Tensor[] {Tensor.of(randn(rnd, n, 1f), n), Tensor.of(randn(rnd, m, 1f), m, 1)}) {
                            Tensor wantG = Tensor.zeros(m, n);
                            REFERENCE.gemm(0.5f, x, b, 2f, c, wantG);
                            Tensor gotG = Tensor.zeros(m, n);
                            one.gemm(0.5f, x, b, 2f, c, gotG);
                            assertClose("gemm " + what, wantG, gotG, tol(k));
                            Tensor gotG3 = Tensor.zeros(m, n);
                            three.gemm(0.5f, x, b, 2f, c, gotG3);
                            assertArrayEquals(gotG.toFloatArray(), gotG3.toFloatArray(), "gemm " + what + ": one thread and three");
                        }
                    }
                }
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void identicalForAnyThreadCount() {
        Random rnd = new Random(SEED + 23);
        Tensor a = Tensor.of(randn(rnd, 150 * 270, 1f), 150, 270);
        Tensor b = Tensor.of(randn(rnd, 270 * 90, 1f), 270, 90);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Tensor one = Tensor.zeros(150, 90);
            Tensor three = Tensor.zeros(150, 90);
            Kernels.of(new SimdBackend(Vec.BITS, new Parallel(null, 1))).gemm(1f, a, b, 0f, null, one);
            Kernels.of(new SimdBackend(Vec.BITS, new Parallel(pool, 3))).gemm(1f, a, b, 0f, null, three);
            assertArrayEquals(one.toFloatArray(), three.toFloatArray());
        } finally {
            pool.shutdown();
        }
    }
}
