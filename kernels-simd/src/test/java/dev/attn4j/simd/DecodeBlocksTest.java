package dev.attn4j.simd;

import static dev.attn4j.simd.Parity.SEED;
import static dev.attn4j.simd.Parity.randn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The decode's row-grouped kernels give the same bits as the one-row kernels (a row's result must not
 * depend on how many query heads share its K/V head), and the scores are dot products within float32
 * rounding.
 */
class DecodeBlocksTest {

    @Test
    void groupedScoresEqualOneRowScores() {
        Random rnd = new Random(SEED + 11);
        for (int d : new int[] {1, 7, 15, 16, 17, 37, 64, 128, 131, 256}) {
            for (int n : new int[] {1, 2, 3, 8, 33}) {
                int kss = d + 3; // keys not packed: each key's row has a stride of its own
                float[] q = randn(rnd, 4 * d, 2f);
                float[] k = randn(rnd, n * kss + 5, 1f);
                float[] one = new float[4 * n];
                float[] four = new float[4 * n];
                float[] fourByTwo = new float[4 * n];
                float[] lanes = new float[Vec.L];
                for (int r = 0; r < 4; r++) {
                    DecodeBlocks.scores(q, r * d, k, 5, kss, d, one, r * n, n);
                }
                DecodeBlocks.scores4(q, 0, d, k, 5, kss, d, four, 0, n, n, lanes);
                DecodeBlocks.scores4x2(q, 0, d, k, 5, kss, d, fourByTwo, 0, n, n, lanes);
                float[] keysByFour = new float[4 * n];
                for (int r = 0; r < 4; r++) {
                    DecodeBlocks.scoresKeys4(q, r * d, k, 5, kss, d, keysByFour, r * n, n, lanes);
                }
                String what = "d=" + d + " n=" + n;
                assertArrayEquals(one, four, "scores4 against scores, " + what);
                assertArrayEquals(one, fourByTwo, "scores4x2 against scores, " + what);
                assertArrayEquals(one, keysByFour, "scoresKeys4 against scores, " + what);
                if (DecodeBlocks.halves(d, 1)) {
                    // key i beside key half + i, the odd last key alone: the same bits as in key order
                    int half = n / 2;
                    float[] byHalves = new float[4 * n];
                    float[] keysByHalves = new float[4 * n];
                    DecodeBlocks.scores4x2Halves(q, 0, d, k, 5, kss, d, byHalves, 0, n, half, half, lanes);
                    for (int r = 0; r < 4; r++) {
                        DecodeBlocks.scoresKeys4Halves(q, r * d, k, 5, kss, d, keysByHalves, r * n, half, half, lanes);
                        if (2 * half < n) {
                            DecodeBlocks.scores(q, r * d, k, 5 + 2 * half * kss, kss, d, byHalves, r * n + 2 * half, 1);
                            DecodeBlocks.scores(q, r * d, k, 5 + 2 * half * kss, kss, d, keysByHalves, r * n + 2 * half,
                                    1);
                        }
                    }
                    assertArrayEquals(one, byHalves, "scores4x2Halves against scores, " + what);
                    assertArrayEquals(one, keysByHalves, "scoresKeys4Halves against scores, " + what);
                }
                for (int r = 0; r < 4; r++) {
                    for (int j = 0; j < n; j++) {
                        double dot = 0;
                        double mag = 0;
                        for (int e = 0; e < d; e++) {
                            dot += (double) q[r * d + e] * k[5 + j * kss + e];
                            mag += Math.abs((double) q[r * d + e] * k[5 + j * kss + e]);
                        }
                        assertEquals(dot, one[r * n + j], 1e-6 * mag + 1e-30, "dot product, " + what);
                    }
                }
            }
        }
    }

    /**
     * Sixteen keys as four quads out through one vector store ({@link DecodeBlocks#scores16by4}) give the one-row
     * kernel's bits, at every d it serves (16 lanes, whole vectors), strided keys, and
     * write nothing outside their sixteen scores.
     */
    @Test
    void sixteenKeysByQuadsEqualOneRowScores() {
        Random rnd = new Random(SEED + 12);
        for (int d : new int[] {16, 32, 48, 64, 112, 256}) {
            if (!DecodeBlocks.sixteens(d)) {
                continue; // 16-lane vectors only
            }
            int kss = d + 5;
            float[] q = randn(rnd, d + 2, 2f); // q at 2: its offset is not the keys'
            float[] k = randn(rnd, 32 * kss + 3, 1f);
            float[] one = new float[32];
            DecodeBlocks.scores(q, 2, k, 3, kss, d, one, 0, 32);
            float[] got = new float[34];
            java.util.Arrays.fill(got, 9f);
            DecodeBlocks.scores16by4(q, 2, k, 3, kss, d, got, 1, 2);
            assertEquals(9f, got[0], "before, d=" + d);
            assertEquals(9f, got[33], "after, d=" + d);
            assertArrayEquals(one, java.util.Arrays.copyOfRange(got, 1, 33), "scores16by4 against scores, d=" + d);
        }
    }

    /**
     * The quarters kernel (four streams of K, the sums transposed out of the butterfly's lanes) gives each
     * row's scores the bits of the one-row kernel: whole blocks only, blocks and a rest in key order, several
     * blocks, strided and packed keys; the quads buffer is reused dirty, as a thread's scratch is.
     */
    @Test
    void quarterScoresEqualOneRowScores() {
        Random rnd = new Random(SEED + 13);
        float[] lanes = new float[Vec.L];
        boolean tested = false;
        for (int d : new int[] {16, 32, 48, 64, 96, 128, 256}) {
            if (!DecodeBlocks.quarters(d, 4, DecodeBlocks.QUARTER_BLOCK)) {
                continue; // 512 bits only, not at D = 4·L; the 128- and 256-bit runs of this suite take other kernels
            }
            tested = true;
            float[] quads = randn(rnd, 4 * 1100, 5f);
            for (int n : new int[] {64, 65, 100, 127, 128, 192, 1000, 1093}) {
                for (int kss : new int[] {d, d + 3}) {
                    float[] q = randn(rnd, 4 * d, 2f);
                    float[] k = randn(rnd, n * kss + 5, 1f);
                    float[] one = new float[4 * n];
                    for (int r = 0; r < 4; r++) {
                        DecodeBlocks.scores(q, r * d, k, 5, kss, d, one, r * n, n);
                    }
                    float[] byQuarters = new float[4 * n];
                    DecodeBlocks.scoresQuarters(q, 0, d, k, 5, kss, d, byQuarters, 0, n, n, quads, lanes);
                    assertArrayEquals(one, byQuarters, "scoresQuarters against scores, d=" + d + " n=" + n
                            + " kss=" + kss);
                }
            }
        }
        assertEquals(Vec.L == 16, tested, "the quarters serve exactly the 512-bit runs");
    }

    @Test
    void groupedAccumulateEqualsOneRowAccumulate() {
        Random rnd = new Random(SEED + 12);
        for (int dv : new int[] {1, 15, 21, 32, 64, 96, 128, 200, 256}) {
            int n = 19;
            int vss = dv + 1;
            float[] w = randn(rnd, 4 * n, 1f);
            float[] v = randn(rnd, n * vss + 2, 1f);
            float[] start = randn(rnd, 4 * dv, 1f);
            float[] one = start.clone();
            float[] four = start.clone();
            for (int r = 0; r < 4; r++) {
                DecodeBlocks.accumulate(w, r * n, v, 2, vss, n, one, r * dv, dv, -1);
            }
            DecodeBlocks.accumulate4(w, 0, n, v, 2, vss, n, four, 0, dv, dv, -1);
            assertArrayEquals(one, four, "accumulate4 against accumulate, dv=" + dv);
            for (int r = 0; r < 4; r++) {
                for (int e = 0; e < dv; e++) {
                    double sum = start[r * dv + e];
                    for (int j = 0; j < n; j++) {
                        sum += (double) w[r * n + j] * v[2 + j * vss + e];
                    }
                    assertEquals(sum, one[r * dv + e], 1e-5 * Math.max(1, Math.abs(sum)), "weighted sum, dv=" + dv);
                }
            }
        }
    }

    /**
     * Whatever line alignment accumulate4 is told V's rows have (it reads whole lines from before the row to
     * past its end when it knows), each column gets the same FMAs in the same order: the one-row bits. Row
     * strides that keep the rows in step (multiples of the vector length) and not, rows at the array's first
     * and last floats (where the aligned reads would leave it), heads of 128 and others.
     */
    @Test
    void alignedAccumulateEqualsOneRowAccumulate() {
        Random rnd = new Random(SEED + 13);
        for (int dv : new int[] {64, 127, 128, 129}) {
            for (int vss : new int[] {dv, 128, 144, 160, dv + 3}) {
                if (vss < dv) {
                    continue;
                }
                for (int n : new int[] {1, 2, 7, 64}) {
                    for (int vAt : new int[] {0, 3, 4, 16, 29}) {
                        for (int tailSlack : new int[] {0, 5, 40}) {
                            float[] w = randn(rnd, 4 * n, 1f);
                            float[] v = randn(rnd, vAt + (n - 1) * vss + dv + tailSlack, 1f);
                            float[] start = randn(rnd, 4 * dv, 1f);
                            // every column: the keys in order, one fused multiply-add each
                            float[] one = start.clone();
                            for (int r = 0; r < 4; r++) {
                                for (int e = 0; e < dv; e++) {
                                    for (int j = 0; j < n; j++) {
                                        one[r * dv + e] = Math.fma(w[r * n + j], v[vAt + j * vss + e], one[r * dv + e]);
                                    }
                                }
                            }
                            for (int lineAt = -1; lineAt < Vec.L; lineAt++) {
                                String what = "dv=" + dv + " vss=" + vss + " n=" + n + " vAt=" + vAt + " slack="
                                        + tailSlack + " lineAt=" + lineAt;
                                float[] four = start.clone();
                                DecodeBlocks.accumulate4(w, 0, n, v, vAt, vss, n, four, 0, dv, dv, lineAt);
                                assertArrayEquals(one, four, "accumulate4, " + what);
                                float[] rows = start.clone();
                                for (int r = 0; r < 4; r++) {
                                    DecodeBlocks.accumulate(w, r * n, v, vAt, vss, n, rows, r * dv, dv, lineAt);
                                }
                                assertArrayEquals(one, rows, "accumulate, " + what);
                            }
                        }
                    }
                }
            }
        }
    }

    /** Outside their rows the aligned reads see neighbouring floats: NaN or infinite ones must not leak in. */
    @Test
    void alignedAccumulateIgnoresNonFiniteNeighbours() {
        Random rnd = new Random(SEED + 14);
        int dv = 128;
        int vss = 160;
        int n = 9;
        int vAt = 20;
        float[] w = randn(rnd, 4 * n, 1f);
        float[] v = randn(rnd, vAt + (n - 1) * vss + dv + 32, 1f);
        for (int j = -1; j < n; j++) {
            for (int e = dv; e < vss; e++) { // the gap after each row, and the floats before the first
                int at = vAt + j * vss + e;
                if (at >= 0 && at < v.length) {
                    v[at] = (e & 1) == 0 ? Float.NaN : Float.POSITIVE_INFINITY;
                }
            }
        }
        float[] one = new float[4 * dv];
        for (int r = 0; r < 4; r++) {
            DecodeBlocks.accumulate(w, r * n, v, vAt, vss, n, one, r * dv, dv, -1);
        }
        for (int lineAt = 0; lineAt < Vec.L; lineAt++) {
            float[] four = new float[4 * dv];
            DecodeBlocks.accumulate4(w, 0, n, v, vAt, vss, n, four, 0, dv, dv, lineAt);
            assertArrayEquals(one, four, "lineAt=" + lineAt);
            float[] rows = new float[4 * dv];
            for (int r = 0; r < 4; r++) {
                DecodeBlocks.accumulate(w, r * n, v, vAt, vss, n, rows, r * dv, dv, lineAt);
            }
            assertArrayEquals(one, rows, "one row, lineAt=" + lineAt);
            for (float x : four) {
                assertEquals(true, Float.isFinite(x), "a non-finite neighbour leaked in, lineAt=" + lineAt);
            }
        }
    }
}
