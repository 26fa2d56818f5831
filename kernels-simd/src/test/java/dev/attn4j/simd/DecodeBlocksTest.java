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
                String what = "d=" + d + " n=" + n;
                assertArrayEquals(one, four, "scores4 against scores, " + what);
                assertArrayEquals(one, fourByTwo, "scores4x2 against scores, " + what);
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
                DecodeBlocks.accumulate(w, r * n, v, 2, vss, n, one, r * dv, dv);
            }
            DecodeBlocks.accumulate4(w, 0, n, v, 2, vss, n, four, 0, dv, dv);
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
}
