package dev.attn4j.bench;

import dev.attn4j.api.Tensor;
import java.util.SplittableRandom;

/**
 * The operands of a GEMM benchmark, y [M, N] = a [M, K]·b [K, N] for a shape written {@code MxNxK}: a and b random
 * in [−1, 1) (the same seed for every benchmark, so that ours and the peer multiply the same numbers).
 */
final class GemmOperands {
    final int m;
    final int n;
    final int k;
    final float[] a;
    final float[] b;
    final Tensor ta;
    final Tensor tb;

    GemmOperands(String shape) {
        String[] mnk = shape.split("x");
        if (mnk.length != 3) {
            throw new IllegalArgumentException("shape must be MxNxK but is " + shape);
        }
        m = Integer.parseInt(mnk[0]);
        n = Integer.parseInt(mnk[1]);
        k = Integer.parseInt(mnk[2]);
        SplittableRandom rnd = new SplittableRandom(7);
        a = AttentionCall.random(rnd, m * k);
        b = AttentionCall.random(rnd, k * n);
        ta = Tensor.of(a, m, k);
        tb = Tensor.of(b, k, n);
    }

    /** A zeroed output array, [M, N] row-major. */
    float[] output() {
        return new float[m * n];
    }
}
