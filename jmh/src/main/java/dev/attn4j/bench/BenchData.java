package dev.attn4j.bench;

import dev.attn4j.api.Tensor;
import java.util.SplittableRandom;

/** Seeded inputs and the once-per-trial check against the reference for the benchmarks of this package. */
final class BenchData {
    private BenchData() {
    }

    static float[] random(long seed, long n) {
        return random(new SplittableRandom(seed), n, 1f);
    }

    static float[] random(SplittableRandom rnd, long n, float scale) {
        float[] a = new float[Math.toIntExact(n)];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
        }
        return a;
    }

    /** Throws when {@code got} is not within {@code tol}·max(1, |want|) of {@code want} everywhere. */
    static void check(String what, Tensor want, Tensor got, double tol) {
        float[] w = want.toFloatArray();
        float[] g = got.toFloatArray();
        for (int i = 0; i < w.length; i++) {
            if (!(Math.abs(w[i] - g[i]) <= tol * Math.max(1, Math.abs(w[i])))) {
                throw new IllegalStateException(what + " differs from the reference at element " + i + ": " + g[i] + " vs " + w[i]);
            }
        }
    }
}
