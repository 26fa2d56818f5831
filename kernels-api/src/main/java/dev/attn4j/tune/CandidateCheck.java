package dev.attn4j.tune;

import dev.attn4j.api.Tensor;
import java.util.SplittableRandom;

/**
 * What every backend's {@link Tunable#check} needs: reproducible inputs and a comparison with the reference
 * that names the worst element. One copy, so that every backend checks its candidates the same way.
 */
public final class CandidateCheck {
    private CandidateCheck() {
    }

    /** {@code n} floats uniform in [−1, 1), the same for the same seed on every machine. */
    public static float[] random(long seed, long n) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] a = new float[Math.toIntExact(n)];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return a;
    }

    /**
     * Passes when |got − want| ≤ tol·max(1, |want|) for every element (a NaN never passes), else throws an
     * AssertionError naming {@code what}, the worst element and its relative error.
     */
    public static void assertClose(String what, Tensor want, Tensor got, double tol) {
        float[] w = want.toFloatArray();
        float[] g = got.toFloatArray();
        int worst = -1;
        double worstErr = 0;
        for (int i = 0; i < w.length; i++) {
            double err = Math.abs((double) g[i] - w[i]) / Math.max(1.0, Math.abs(w[i]));
            if (!(err <= worstErr)) {
                worst = i;
                worstErr = Double.isNaN(err) ? Double.POSITIVE_INFINITY : err;
            }
        }
        if (worst >= 0 && worstErr > tol) {
            throw new AssertionError(what + ": element " + worst + " is " + g[worst] + ", the reference says " + w[worst]
                    + " (relative error " + worstErr + " > " + tol + ")");
        }
    }
}
