package dev.attn4j.simd;

import static org.junit.jupiter.api.Assertions.fail;

import dev.attn4j.api.Kernels;
import dev.attn4j.api.Tensor;
import dev.attn4j.reference.ReferenceBackend;
import java.util.Random;

/** Shared helpers of the simd parity tests: backends, seeded data, and the relative comparison. */
final class Parity {
    static final long SEED = Long.getLong("attn4j.test.seed", 20261122L);
    static final Kernels REFERENCE = Kernels.of(new ReferenceBackend());
    static final Kernels SIMD = Kernels.of(new SimdBackend(Vec.BITS));

    private Parity() {
    }

    static float[] randn(Random rnd, int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian() * scale;
        }
        return a;
    }

    /** Fails unless every element satisfies |actual − expected| ≤ tol·max(1, |expected|) (infinities must match). */
    static void assertClose(String what, Tensor expected, Tensor actual, double tol) {
        float[] e = expected.toFloatArray();
        float[] a = actual.toFloatArray();
        assertClose(what, e, a, tol);
    }

    static void assertClose(String what, float[] e, float[] a, double tol) {
        assertClose(what, e, a, tol, null, 0);
    }

    /**
     * As {@link #assertClose(String, float[], float[], double)}, each element first allowed {@code slack·mag[i]}
     * of absolute error: the float32 rounding of a computation whose terms reach {@code mag[i]} in magnitude
     * (a dot product of length n: slack = √n·2⁻²⁴, mag = Σ|xᵢyᵢ|), which no float32 kernel can undercut.
     */
    static void assertClose(String what, float[] e, float[] a, double tol, float[] mag, double slack) {
        double worst = 0;
        int at = -1;
        for (int i = 0; i < e.length; i++) {
            if (Float.isNaN(a[i]) && !Float.isNaN(e[i])) {
                fail(what + ": NaN at " + i + " (expected " + e[i] + "), seed " + SEED);
            }
            if (Float.isInfinite(e[i]) || Float.isInfinite(a[i])) {
                if (e[i] != a[i]) {
                    fail(what + ": element " + i + " is " + a[i] + " but expected " + e[i] + ", seed " + SEED);
                }
                continue;
            }
            double diff = Math.abs((double) a[i] - e[i]);
            if (mag != null) {
                diff = Math.max(0.0, diff - slack * mag[i]);
            }
            double err = diff / Math.max(1.0, Math.abs(e[i]));
            if (err > worst) {
                worst = err;
                at = i;
            }
        }
        if (worst > tol) {
            fail(what + ": relative error " + worst + " > " + tol + " at element " + at + " (expected " + e[at]
                    + ", got " + a[at] + "), seed " + SEED);
        }
    }
}
