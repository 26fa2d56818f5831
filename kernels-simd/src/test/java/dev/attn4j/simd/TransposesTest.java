package dev.attn4j.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link Transposes#transpose16} against the element-by-element definition, at odd offsets and strides. */
class TransposesTest {

    @Test
    void transposesWithFactorsAtAnyStride() {
        assumeTrue(Transposes.AVAILABLE, "16-lane vectors only (this JVM runs " + Vec.BITS + "-bit vectors)");
        SplittableRandom random = new SplittableRandom(5);
        for (int[] shape : new int[][] {{3, 16, 5, 16}, {0, 19, 7, 33}, {11, 64, 2, 17}}) {
            int sAt = shape[0];
            int sStride = shape[1];
            int dAt = shape[2];
            int dStride = shape[3];
            float[] src = new float[sAt + 16 * sStride + 16];
            for (int i = 0; i < src.length; i++) {
                src[i] = (float) random.nextGaussian();
            }
            float[] factor = new float[20];
            for (int j = 0; j < factor.length; j++) {
                factor[j] = 0.5f + j;
            }
            float[] dst = new float[dAt + 16 * dStride + 16];
            float[] untouched = dst.clone();
            java.util.Arrays.fill(dst, -7f);
            java.util.Arrays.fill(untouched, -7f);
            Transposes.transpose16(src, sAt, sStride, dst, dAt, dStride, factor, 3);
            for (int j = 0; j < 16; j++) {
                for (int i = 0; i < 16; i++) {
                    int at = dAt + j * dStride + i;
                    assertEquals(src[sAt + i * sStride + j] * factor[3 + j], dst[at], "dst row " + j + " col " + i);
                    untouched[at] = dst[at];
                }
            }
            // nothing outside the 16 output rows' first 16 columns was written
            for (int i = 0; i < dst.length; i++) {
                assertEquals(untouched[i], dst[i], "dst[" + i + "] outside the block");
            }
        }
    }
}
