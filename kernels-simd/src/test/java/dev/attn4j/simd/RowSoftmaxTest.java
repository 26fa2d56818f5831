package dev.attn4j.simd;

import static dev.attn4j.simd.Vec.F;
import static dev.attn4j.simd.Vec.L;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.attn4j.api.Attn4j;
import dev.attn4j.api.Tensor;
import java.util.Arrays;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import org.junit.jupiter.api.Test;

/**
 * The row softmax's special values against the float64 reference's semantics (a NaN anywhere in a row makes
 * the whole row NaN, an all −∞ row becomes zeros), on the software-pipelined many-row path and the one-row
 * path, and the bit-pattern maximum it uses against {@link Math#max}.
 */
class RowSoftmaxTest {
    private static final float NEG_NAN = Float.intBitsToFloat(0xFFC00000);

    @Test
    void maxOfBitsIsMathMax() {
        SplittableRandom random = new SplittableRandom(7);
        float[] pool = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MAX_VALUE, -Float.MAX_VALUE,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1f, -1f, 1e-30f, -1e-30f};
        float[] lanes = new float[L];
        for (int trial = 0; trial < 20_000; trial++) {
            for (int j = 0; j < L; j++) {
                lanes[j] = random.nextInt(3) == 0 ? pool[random.nextInt(pool.length)]
                        : (float) (random.nextGaussian() * Math.pow(10, random.nextInt(-20, 20)));
            }
            float want = lanes[0];
            for (float v : lanes) {
                want = Math.max(want, v);
            }
            IntVector bits = (IntVector) FloatVector.fromArray(F, lanes, 0).reinterpretAsInts();
            float got = VMath.maxOfBits(bits, bits);
            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got),
                    "max of " + Arrays.toString(lanes) + ": " + want + " but " + got);
        }
        Arrays.fill(lanes, -3f);
        lanes[L - 1] = Float.NaN;
        IntVector bits = (IntVector) FloatVector.fromArray(F, lanes, 0).reinterpretAsInts();
        assertTrue(Float.isNaN(VMath.maxOfBits(bits, bits)), "a positive NaN lane is the maximum");
    }

    /** Rows: ordinary, +NaN, −NaN, all −∞, −∞ with a −NaN, one finite among −∞, +∞, ordinary. */
    private static float[][] rows(int n) {
        SplittableRandom random = new SplittableRandom(11);
        float[][] rows = new float[8][n];
        for (float[] row : rows) {
            for (int j = 0; j < n; j++) {
                row[j] = (float) (random.nextGaussian() * 6);
            }
        }
        rows[1][n / 3] = Float.NaN;
        rows[2][n / 2] = NEG_NAN;
        Arrays.fill(rows[3], Float.NEGATIVE_INFINITY);
        Arrays.fill(rows[4], Float.NEGATIVE_INFINITY);
        rows[4][1] = NEG_NAN;
        Arrays.fill(rows[5], Float.NEGATIVE_INFINITY);
        rows[5][n - 1] = -1e4f;
        rows[6][2] = Float.POSITIVE_INFINITY;
        return rows;
    }

    /** got against the float64 reference backend's softmax of the same rows (NaN where it gives NaN). */
    private static void check(String what, float[] x, float[] got, int rows, int n) {
        Tensor want = Tensor.zeros(rows, n);
        Attn4j.kernels("reference").softmax(Tensor.of(x.clone(), rows, n), -1, want);
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < n; j++) {
                float w = want.get(r, j);
                float g = got[r * n + j];
                if (Float.isNaN(w)) {
                    assertTrue(Float.isNaN(g), what + " row " + r + " [" + j + "]: want NaN, got " + g);
                } else {
                    assertTrue(Math.abs(g - w) <= 1e-5 * w + 1e-9, what + " row " + r + " [" + j + "]: want " + w
                            + ", got " + g);
                }
            }
        }
    }

    @Test
    void specialRowsMatchTheReference() {
        for (int n : new int[] {L + 3, 2 * L, 3 * L + 5, 4096}) {
            float[][] rows = rows(n);
            float[] x = new float[rows.length * n];
            for (int r = 0; r < rows.length; r++) {
                System.arraycopy(rows[r], 0, x, r * n, n);
            }
            int[] off = new int[rows.length];
            for (int r = 0; r < rows.length; r++) {
                off[r] = r * n;
            }
            float[] inPlace = x.clone();
            RowSoftmax.softmaxRows(inPlace, off, inPlace, off, 0, rows.length, n);
            check("softmaxRows in place n=" + n, x, inPlace, rows.length, n);
            float[] y = new float[x.length];
            RowSoftmax.softmaxRows(x, off, y, off, 0, rows.length, n);
            check("softmaxRows x -> y n=" + n, x, y, rows.length, n);
            float[] one = x.clone();
            for (int r = 0; r < rows.length; r++) {
                RowSoftmax.softmax(one, r * n, n);
            }
            check("softmax row by row n=" + n, x, one, rows.length, n);
        }
    }

    /**
     * The masked row's three-pass path (positive scale, no softcap or bias, last vector masked) on every length
     * from 1 to 3·L + 1 and on the special rows: against the reference's softmax of the scaled row (scale a power
     * of two, so the float scaling is exact), keys outside [kb, ke) zero, nothing written past the row.
     */
    @Test
    void scaledMaskedRowsMatchTheReference() {
        for (int n = 1; n <= 3 * L + 1; n++) {
            float[][] rows = n >= 3 ? rows(n) : new float[][] {rows(3)[0]};
            for (int r = 0; r < rows.length; r++) {
                for (float scale : new float[] {1f, 0.125f}) {
                    float[] row = Arrays.copyOf(rows[r], n);
                    int kb = n > 4 ? 1 : 0;
                    int ke = n > 4 ? n - 1 : n;
                    float[] buf = new float[n + 2];
                    Arrays.fill(buf, 5f);
                    System.arraycopy(row, 0, buf, 1, n);
                    RowSoftmax.maskedRow(buf, 1, n, kb, ke, scale, 0f, null, 0, true);
                    assertEquals(5f, buf[0], "before the row");
                    assertEquals(5f, buf[n + 1], "past the row");
                    float[] inside = new float[ke - kb];
                    for (int j = kb; j < ke; j++) {
                        inside[j - kb] = row[j] * scale;
                    }
                    float[] got = Arrays.copyOfRange(buf, 1 + kb, 1 + ke);
                    check("masked row " + r + " n=" + n + " scale " + scale, inside, got, 1, ke - kb);
                    for (int j = 0; j < n; j++) {
                        if (j < kb || j >= ke) {
                            assertEquals(0f, buf[1 + j], "masked key " + j + " of row " + r + " n=" + n);
                        }
                    }
                }
            }
        }
    }
}
