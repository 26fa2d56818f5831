package dev.attn4j.tune;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Mask;
import java.util.Objects;

/**
 * What to tune: a kernel on a representative problem.
 *
 * @param kernel    "attention" or "gemm"
 * @param attention the attention problem (attention), else null
 * @param mask      the mask (attention), else null
 * @param m         rows of the GEMM output (gemm)
 * @param n         columns of the GEMM output (gemm)
 * @param k         depth of the GEMM (gemm)
 */
public record TuneRequest(String kernel, AttentionProblem attention, Mask mask, int m, int n, int k) {

    /** Checks the request. */
    public TuneRequest {
        Objects.requireNonNull(kernel, "kernel");
        if (kernel.equals("attention") && (attention == null || mask == null)) {
            throw new IllegalArgumentException("an attention tuning request needs a problem and a mask");
        }
        if (kernel.equals("gemm") && (m < 1 || n < 1 || k < 1)) {
            throw new IllegalArgumentException("a gemm tuning request needs M, N, K >= 1 but has " + m + ", " + n + ", " + k);
        }
    }

    /** Fused attention on {@code problem} with {@code mask}. */
    public static TuneRequest attention(AttentionProblem problem, Mask mask) {
        return new TuneRequest("attention", problem, mask, 0, 0, 0);
    }

    /** A GEMM of M × N × K. */
    public static TuneRequest gemm(int m, int n, int k) {
        return new TuneRequest("gemm", null, null, m, n, k);
    }

    /** A short label for progress lines and tables. */
    public String label() {
        if (kernel.equals("gemm")) {
            return "gemm " + m + "×" + n + "×" + k;
        }
        AttentionProblem p = attention;
        return "attention B=" + p.batch() + " H=" + p.heads() + " KVH=" + p.kvHeads() + " Sq=" + p.seqQ() + " Sk=" + p.seqK()
                + " D=" + p.headDim() + " " + ProblemClass.maskKind(mask);
    }
}
