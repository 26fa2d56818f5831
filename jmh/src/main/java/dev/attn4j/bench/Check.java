package dev.attn4j.bench;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Attn4j;
import dev.attn4j.api.Kernels;
import dev.attn4j.api.Mask;
import dev.attn4j.api.Tensor;

/** One-time checks of a benchmark's output against the float64 reference (on a few rows, to stay fast). */
final class Check {
    private Check() {
    }

    /** Compares the first {@code rows} query rows of {@code out} with the reference. */
    static void attentionRows(AttentionProblem p, Tensor q, Tensor k, Tensor v, Mask mask, Tensor out, int rows,
                              String who) {
        int r = Math.min(rows, p.seqQ());
        AttentionProblem small = p.withSeq(r, p.seqK());
        Tensor want = Tensor.zeros(small.outShape());
        Attn4j.kernels("reference").attention(small, q.narrow(2, 0, r), k, v, mask, want);
        close(who + " attention", want, out.narrow(2, 0, r), 1e-4);
    }

    /** Compares the first {@code rows} rows of y = a·b with the reference. */
    static void gemmRows(Tensor a, Tensor b, Tensor y, int rows, String who) {
        int r = Math.min(rows, a.dim(0));
        Tensor want = Tensor.zeros(r, b.dim(1));
        Attn4j.kernels("reference").gemm(1f, a.narrow(0, 0, r), b, 0f, null, want);
        // K-long float32 sums: the error grows with K (see SimdGemmParityTest)
        close(who + " gemm", want, y.narrow(0, 0, r), 1e-5 * Math.max(1, a.dim(1) / 64.0));
    }

    static void close(String what, Tensor want, Tensor got, double tol) {
        float[] w = want.toFloatArray();
        float[] g = got.toFloatArray();
        for (int i = 0; i < w.length; i++) {
            double err = Math.abs((double) w[i] - g[i]) / Math.max(1.0, Math.abs(w[i]));
            if (!(err <= tol)) {
                throw new IllegalStateException(what + " differs from the reference at " + i + ": " + g[i] + " vs " + w[i]);
            }
        }
    }

    static Kernels kernels(String name) {
        return Attn4j.kernels(name);
    }
}
