package dev.attn4j.simd;

import static dev.attn4j.simd.Vec.F;
import static dev.attn4j.simd.Vec.L;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;

/**
 * 16×16 block transposes for the flash kernel's query tile (rows of Q into lanes) and output tile (lanes
 * back into rows of O), for packing a transposed SGEMM operand (linear's W rows into B panels) and for the
 * decode's quarter scores (sums in lanes back into rows), through two-source permutes: four rounds of sixteen {@code selectFrom(v1, v2)}, round
 * h (h = 8, 4, 2, 1) swapping the off-diagonal h×h sub-blocks of every 2h×2h block. 512-bit vectors only
 * ({@link #AVAILABLE}); other widths keep their gathers. Probe on the Zen 5 VM, a 32-row × 64 query tile:
 * 0.55 µs by sixteen-lane gathers, 0.25 µs by this.
 */
final class Transposes {
    /** Whether {@link #transpose16} can run: the vectors have 16 lanes. */
    static final boolean AVAILABLE = L == 16;
    private static final FloatVector LO8 = index(8, false);
    private static final FloatVector HI8 = index(8, true);
    private static final FloatVector LO4 = index(4, false);
    private static final FloatVector HI4 = index(4, true);
    private static final FloatVector LO2 = index(2, false);
    private static final FloatVector HI2 = index(2, true);
    private static final FloatVector LO1 = index(1, false);
    private static final FloatVector HI1 = index(1, true);

    /** Unit factors, for a transpose that scales nothing (x·1 is x exactly). */
    static final float[] ONES = ones();

    private Transposes() {
    }

    private static float[] ones() {
        float[] ones = new float[16];
        Arrays.fill(ones, 1f);
        return ones;
    }

    /**
     * Round h's permute of a pair (x, y) of rows h apart (null where not {@link #AVAILABLE}): LO keeps x
     * where lane bit h is clear and takes y's lane h lower where it is set; HI keeps y where it is set and
     * takes x's lane h higher where it is clear.
     */
    private static FloatVector index(int h, boolean high) {
        if (!AVAILABLE) {
            return null;
        }
        float[] lanes = new float[16];
        for (int j = 0; j < 16; j++) {
            boolean clear = (j & h) == 0;
            lanes[j] = high ? (clear ? j + h : 16 + j) : (clear ? j : 16 + j - h);
        }
        return FloatVector.fromArray(F, lanes, 0);
    }

    /**
     * dst[dAt + j·dStride + i] = src[sAt + i·sStride + j]·factor[fAt + j] for i, j &lt; 16: output row j
     * is input column j, times its own factor.
     */
    static void transpose16(float[] src, int sAt, int sStride, float[] dst, int dAt, int dStride, float[] factor,
                            int fAt) {
        transpose16(src, sAt, sStride, dst, dAt, 4 * dStride, dStride, factor, fAt);
    }

    /**
     * {@link #transpose16(float[], int, int, float[], int, int, float[], int)} with output row j at
     * dAt + (j / 4)·dStride4 + (j mod 4)·dStride: sixteen rows laid out as four groups of four (the decode's
     * four query rows × four quarters of the keys, {@link DecodeBlocks#scoresQuarters}).
     */
    static void transpose16(float[] src, int sAt, int sStride, float[] dst, int dAt, int dStride4, int dStride,
                            float[] factor, int fAt) {
        FloatVector v0 = FloatVector.fromArray(F, src, sAt);
        FloatVector v1 = FloatVector.fromArray(F, src, sAt + 1 * sStride);
        FloatVector v2 = FloatVector.fromArray(F, src, sAt + 2 * sStride);
        FloatVector v3 = FloatVector.fromArray(F, src, sAt + 3 * sStride);
        FloatVector v4 = FloatVector.fromArray(F, src, sAt + 4 * sStride);
        FloatVector v5 = FloatVector.fromArray(F, src, sAt + 5 * sStride);
        FloatVector v6 = FloatVector.fromArray(F, src, sAt + 6 * sStride);
        FloatVector v7 = FloatVector.fromArray(F, src, sAt + 7 * sStride);
        FloatVector v8 = FloatVector.fromArray(F, src, sAt + 8 * sStride);
        FloatVector v9 = FloatVector.fromArray(F, src, sAt + 9 * sStride);
        FloatVector v10 = FloatVector.fromArray(F, src, sAt + 10 * sStride);
        FloatVector v11 = FloatVector.fromArray(F, src, sAt + 11 * sStride);
        FloatVector v12 = FloatVector.fromArray(F, src, sAt + 12 * sStride);
        FloatVector v13 = FloatVector.fromArray(F, src, sAt + 13 * sStride);
        FloatVector v14 = FloatVector.fromArray(F, src, sAt + 14 * sStride);
        FloatVector v15 = FloatVector.fromArray(F, src, sAt + 15 * sStride);
        FloatVector t;
        t = LO8.selectFrom(v0, v8);
        v8 = HI8.selectFrom(v0, v8);
        v0 = t;
        t = LO8.selectFrom(v1, v9);
        v9 = HI8.selectFrom(v1, v9);
        v1 = t;
        t = LO8.selectFrom(v2, v10);
        v10 = HI8.selectFrom(v2, v10);
        v2 = t;
        t = LO8.selectFrom(v3, v11);
        v11 = HI8.selectFrom(v3, v11);
        v3 = t;
        t = LO8.selectFrom(v4, v12);
        v12 = HI8.selectFrom(v4, v12);
        v4 = t;
        t = LO8.selectFrom(v5, v13);
        v13 = HI8.selectFrom(v5, v13);
        v5 = t;
        t = LO8.selectFrom(v6, v14);
        v14 = HI8.selectFrom(v6, v14);
        v6 = t;
        t = LO8.selectFrom(v7, v15);
        v15 = HI8.selectFrom(v7, v15);
        v7 = t;
        t = LO4.selectFrom(v0, v4);
        v4 = HI4.selectFrom(v0, v4);
        v0 = t;
        t = LO4.selectFrom(v1, v5);
        v5 = HI4.selectFrom(v1, v5);
        v1 = t;
        t = LO4.selectFrom(v2, v6);
        v6 = HI4.selectFrom(v2, v6);
        v2 = t;
        t = LO4.selectFrom(v3, v7);
        v7 = HI4.selectFrom(v3, v7);
        v3 = t;
        t = LO4.selectFrom(v8, v12);
        v12 = HI4.selectFrom(v8, v12);
        v8 = t;
        t = LO4.selectFrom(v9, v13);
        v13 = HI4.selectFrom(v9, v13);
        v9 = t;
        t = LO4.selectFrom(v10, v14);
        v14 = HI4.selectFrom(v10, v14);
        v10 = t;
        t = LO4.selectFrom(v11, v15);
        v15 = HI4.selectFrom(v11, v15);
        v11 = t;
        t = LO2.selectFrom(v0, v2);
        v2 = HI2.selectFrom(v0, v2);
        v0 = t;
        t = LO2.selectFrom(v1, v3);
        v3 = HI2.selectFrom(v1, v3);
        v1 = t;
        t = LO2.selectFrom(v4, v6);
        v6 = HI2.selectFrom(v4, v6);
        v4 = t;
        t = LO2.selectFrom(v5, v7);
        v7 = HI2.selectFrom(v5, v7);
        v5 = t;
        t = LO2.selectFrom(v8, v10);
        v10 = HI2.selectFrom(v8, v10);
        v8 = t;
        t = LO2.selectFrom(v9, v11);
        v11 = HI2.selectFrom(v9, v11);
        v9 = t;
        t = LO2.selectFrom(v12, v14);
        v14 = HI2.selectFrom(v12, v14);
        v12 = t;
        t = LO2.selectFrom(v13, v15);
        v15 = HI2.selectFrom(v13, v15);
        v13 = t;
        t = LO1.selectFrom(v0, v1);
        v1 = HI1.selectFrom(v0, v1);
        v0 = t;
        t = LO1.selectFrom(v2, v3);
        v3 = HI1.selectFrom(v2, v3);
        v2 = t;
        t = LO1.selectFrom(v4, v5);
        v5 = HI1.selectFrom(v4, v5);
        v4 = t;
        t = LO1.selectFrom(v6, v7);
        v7 = HI1.selectFrom(v6, v7);
        v6 = t;
        t = LO1.selectFrom(v8, v9);
        v9 = HI1.selectFrom(v8, v9);
        v8 = t;
        t = LO1.selectFrom(v10, v11);
        v11 = HI1.selectFrom(v10, v11);
        v10 = t;
        t = LO1.selectFrom(v12, v13);
        v13 = HI1.selectFrom(v12, v13);
        v12 = t;
        t = LO1.selectFrom(v14, v15);
        v15 = HI1.selectFrom(v14, v15);
        v14 = t;
        v0.mul(factor[fAt]).intoArray(dst, dAt);
        v1.mul(factor[fAt + 1]).intoArray(dst, dAt + dStride);
        v2.mul(factor[fAt + 2]).intoArray(dst, dAt + 2 * dStride);
        v3.mul(factor[fAt + 3]).intoArray(dst, dAt + 3 * dStride);
        v4.mul(factor[fAt + 4]).intoArray(dst, dAt + dStride4);
        v5.mul(factor[fAt + 5]).intoArray(dst, dAt + dStride4 + dStride);
        v6.mul(factor[fAt + 6]).intoArray(dst, dAt + dStride4 + 2 * dStride);
        v7.mul(factor[fAt + 7]).intoArray(dst, dAt + dStride4 + 3 * dStride);
        v8.mul(factor[fAt + 8]).intoArray(dst, dAt + 2 * dStride4);
        v9.mul(factor[fAt + 9]).intoArray(dst, dAt + 2 * dStride4 + dStride);
        v10.mul(factor[fAt + 10]).intoArray(dst, dAt + 2 * dStride4 + 2 * dStride);
        v11.mul(factor[fAt + 11]).intoArray(dst, dAt + 2 * dStride4 + 3 * dStride);
        v12.mul(factor[fAt + 12]).intoArray(dst, dAt + 3 * dStride4);
        v13.mul(factor[fAt + 13]).intoArray(dst, dAt + 3 * dStride4 + dStride);
        v14.mul(factor[fAt + 14]).intoArray(dst, dAt + 3 * dStride4 + 2 * dStride);
        v15.mul(factor[fAt + 15]).intoArray(dst, dAt + 3 * dStride4 + 3 * dStride);
    }

    /**
     * A score tile out of the kernels' transposed layout (key jj, row r at st[jj·bq + r]) into rows: row r's
     * key jj to dst[at + r·ld + jj], 16 × 16 blocks by {@link #transpose16} where the vectors have 16 lanes, the
     * edges element by element.
     */
    static void tileToRows(float[] st, int bq, int rows, int nk, float[] dst, int at, int ld) {
        int r16 = AVAILABLE ? rows / 16 * 16 : 0;
        int k16 = AVAILABLE ? nk / 16 * 16 : 0;
        for (int r = 0; r < r16; r += 16) {
            for (int jj = 0; jj < k16; jj += 16) {
                transpose16(st, jj * bq + r, bq, dst, at + r * ld + jj, ld, ONES, 0);
            }
        }
        for (int r = 0; r < rows; r++) {
            for (int jj = r < r16 ? k16 : 0; jj < nk; jj++) {
                dst[at + r * ld + jj] = st[jj * bq + r];
            }
        }
    }
}
