package dev.attn4j.simd;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.attn4j.api.Tensor;
import dev.attn4j.reference.ReferenceBackend;
import dev.attn4j.tune.CandidateCheck;
import org.junit.jupiter.api.Test;

/** The unpacked decode path (one or two rows against a row-major weight) against the float64 oracle. */
class SimdGemvTest {

    @Test
    void decodeRowsMatchTheReference() {
        Parallel par = Parallel.defaults();
        for (int m : new int[] {1, 2}) {
            for (int k : new int[] {Vec.L, Vec.L + 1, 2 * Vec.L + 3, 63, 384, 1021}) {
                for (int n : new int[] {1, 7, 33, 65, 2304}) {
                    Tensor x = Tensor.of(CandidateCheck.random(m * 31L + k, (long) m * k), m, k);
                    Tensor w = Tensor.of(CandidateCheck.random(n * 17L + k, (long) n * k), n, k);
                    Tensor bias = Tensor.of(CandidateCheck.random(n, n), n);
                    Tensor b = w.permute(1, 0);
                    assertTrue(Sgemm.gemvApplies(x, b, Tensor.zeros(m, n)), "the decode path is taken");
                    Tensor want = Tensor.zeros(m, n);
                    new ReferenceBackend().projections().linear(x, w, bias, want);
                    Tensor got = Tensor.zeros(m, n);
                    Sgemm.gemm(1f, x, b, 0f, null, bias, got, par);
                    float[] wv = want.toFloatArray();
                    float[] gv = got.toFloatArray();
                    double tol = 1e-5 * Math.max(1.0, k / 64.0); // float32 sums along K, as in SimdGemmParityTest
                    for (int i = 0; i < wv.length; i++) {
                        double err = Math.abs((double) gv[i] - wv[i]);
                        assertTrue(err <= tol * Math.max(1.0, Math.abs(wv[i])),
                                "m=" + m + " k=" + k + " n=" + n + " element " + i + ": " + gv[i] + " vs " + wv[i]);
                    }
                }
            }
        }
    }
}
