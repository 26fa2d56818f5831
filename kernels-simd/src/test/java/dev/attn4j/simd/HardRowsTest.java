package dev.attn4j.simd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The per-row steps of the simd top-k and sampled attention against plain scalar truths: the one-pass top-k
 * selection against a full sort (ties, masked keys, NaN, ±∞ and both zeros, rows whose lanes are mostly masked,
 * k above the visible keys, lengths around the vector width), and the float32 inverse-CDF draw against the
 * float64 one, including draws placed exactly on and next to the edges of the cumulative weights, where the
 * float32 path must hand over to the float64 one.
 */
class HardRowsTest {
    private static final int[] LENGTHS = {1, 3, 7, 15, 16, 17, 31, 33, 63, 65, 127, 129, 1021};

    @Test
    void topKIsTheSortedOrderWithTiesToTheLowerKey() {
        SplittableRandom rnd = new SplittableRandom(31);
        for (int n : LENGTHS) {
            for (int trial = 0; trial < 40; trial++) {
                float[] row = new float[n + 5];
                int off = rnd.nextInt(5);
                int levels = 1 + rnd.nextInt(6); // few distinct scores: many ties
                for (int j = 0; j < n; j++) {
                    row[off + j] = rnd.nextInt(4) == 0 ? Float.NEGATIVE_INFINITY
                            : trial % 2 == 0 ? rnd.nextInt(levels) - 2f : (float) rnd.nextGaussian();
                    if (trial % 5 == 3) { // NaN never enters; +∞ and both zeros do
                        float[] odd = {Float.NaN, Float.POSITIVE_INFINITY, -0f, 0f};
                        row[off + j] = rnd.nextInt(6) == 0 ? odd[rnd.nextInt(4)] : row[off + j];
                    }
                    if (trial % 5 == 4 && rnd.nextInt(10) > 0) { // sparse: lanes whose keys are all masked
                        row[off + j] = Float.NEGATIVE_INFINITY;
                    }
                }
                if (trial == 0) {
                    Arrays.fill(row, off, off + n, Float.NEGATIVE_INFINITY); // fully masked
                }
                for (int k : new int[] {1, 2, 5, 8, 17, n, n + 3}) {
                    float[] score = new float[k + 1];
                    int[] key = new int[k + 1];
                    int m = SimdClassic.selectTopK(row, off, n, k, score, key);
                    int[] want = sortedKeys(row, off, n);
                    int wantCount = Math.min(k, want.length);
                    String what = "n=" + n + " k=" + k + " trial " + trial;
                    assertEquals(wantCount, m, what);
                    assertArrayEquals(Arrays.copyOf(want, wantCount), Arrays.copyOf(key, m), what);
                    for (int t = 0; t < m; t++) {
                        assertEquals(row[off + key[t]], score[t], what);
                    }
                }
            }
        }
    }

    /** The unmasked keys (not −∞, not NaN) by descending score, then ascending key: the oracle's repeated arg-max. */
    private static int[] sortedKeys(float[] row, int off, int n) {
        Integer[] keys = new Integer[n];
        int m = 0;
        for (int j = 0; j < n; j++) {
            if (row[off + j] != Float.NEGATIVE_INFINITY && !Float.isNaN(row[off + j])) {
                keys[m++] = j;
            }
        }
        Integer[] live = Arrays.copyOf(keys, m);
        Arrays.sort(live, (a, b) -> row[off + a] != row[off + b] ? Float.compare(row[off + b], row[off + a]) : Integer.compare(a, b));
        return Arrays.stream(live).mapToInt(Integer::intValue).toArray();
    }

    @Test
    void floatDrawIsTheFloat64DrawEvenOnTheEdges() {
        SplittableRandom rnd = new SplittableRandom(37);
        SimdClassic.RowScratch s = new SimdClassic.RowScratch();
        for (int n : LENGTHS) {
            for (int trial = 0; trial < 30; trial++) {
                float[] row = new float[n];
                for (int j = 0; j < n; j++) {
                    row[j] = rnd.nextInt(5) == 0 ? Float.NEGATIVE_INFINITY : (float) (rnd.nextGaussian() * (1 + trial % 4 * 10));
                }
                if (trial == 0) {
                    Arrays.fill(row, Float.NEGATIVE_INFINITY);
                }
                s.ensure(n, 0);
                // the float64 weights' cumulative edges, as fractions of the total: the draws right on them
                double[] w = new double[n];
                double max = Double.NEGATIVE_INFINITY;
                for (float x : row) {
                    max = Math.max(max, x);
                }
                double total = 0;
                for (int j = 0; j < n; j++) {
                    w[j] = max == Double.NEGATIVE_INFINITY ? 0 : Math.exp(row[j] - max);
                    total += w[j];
                }
                double c = 0;
                for (int j = 0; j < n; j++) {
                    c += w[j];
                    double edge = total == 0 ? 0 : c / total;
                    for (double u : new double[] {edge, Math.nextDown(edge), Math.nextUp(edge), edge * (1 + 1e-7),
                            edge * (1 - 1e-7), rnd.nextDouble()}) {
                        if (u >= 0 && u < 1) {
                            assertEquals(SimdClassic.drawExact(row, 0, n, u), SimdClassic.drawKey(row, 0, n, u, s),
                                    "n=" + n + " trial " + trial + " u=" + u);
                        }
                    }
                }
                assertEquals(SimdClassic.drawExact(row, 0, n, 0.0), SimdClassic.drawKey(row, 0, n, 0.0, s));
                assertTrue(trial != 0 || SimdClassic.drawKey(row, 0, n, 0.5, s) == -1, "a fully masked row draws no key");
            }
        }
    }
}
