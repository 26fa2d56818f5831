package dev.attn4j.simd;

import static dev.attn4j.simd.Parity.REFERENCE;
import static dev.attn4j.simd.Parity.SEED;
import static dev.attn4j.simd.Parity.SIMD;
import static dev.attn4j.simd.Parity.assertClose;
import static dev.attn4j.simd.Parity.randn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.attn4j.api.Alignment;
import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Kernels;
import dev.attn4j.api.Mask;
import dev.attn4j.api.ScoreStage;
import dev.attn4j.api.Tensor;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Score matrices at every stage and the in-place masked softmax, against the float64 reference. */
class SimdScoresParityTest {
    static final double TOL = SimdAttentionParityTest.TOL;

    static Stream<SimdAttentionParityTest.Case> cases() {
        return SimdAttentionParityTest.cases().filter(c -> (long) c.p().seqQ() * c.p().seqK() * c.p().heads() < 400_000);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void scoresAtEveryStage(SimdAttentionParityTest.Case c) {
        AttentionProblem p = c.p();
        // scores are float32 dot products of length headDim (the reference sums in float64): each may be off by
        // about √headDim·2⁻²⁴ of scale·Σ|q_d·k_d| (at headDim 256 with q·10 that passes 1e-5 of max(1, |s|)), and
        // no later stage enlarges it (softcap and softmax contract, masks add exactly)
        Tensor mag = Tensor.zeros(p.scoreShape());
        REFERENCE.scores(p, abs(c.q()), abs(c.k()), Mask.none(), ScoreStage.SCALED, mag);
        double slack = Math.sqrt(p.headDim()) * 0x1p-24;
        for (ScoreStage stage : ScoreStage.values()) {
            Tensor ref = Tensor.zeros(p.scoreShape());
            Tensor out = Tensor.zeros(p.scoreShape());
            REFERENCE.scores(p, c.q(), c.k(), c.mask(), stage, ref);
            SIMD.scores(p, c.q(), c.k(), c.mask(), stage, out);
            assertClose(c.name() + " " + stage, ref.toFloatArray(), out.toFloatArray(), TOL, mag.toFloatArray(), slack);
        }
    }

    /** |t| elementwise, as a contiguous copy of t's shape. */
    private static Tensor abs(Tensor t) {
        float[] a = t.toFloatArray();
        for (int i = 0; i < a.length; i++) {
            a[i] = Math.abs(a[i]);
        }
        return Tensor.of(a, t.shape());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void maskedSoftmaxInPlace(SimdAttentionParityTest.Case c) {
        AttentionProblem p = c.p();
        Random rnd = new Random(SEED + 7);
        float[] data = randn(rnd, (int) Tensor.count(p.scoreShape()), 3f);
        Tensor ref = Tensor.of(data.clone(), p.scoreShape());
        Tensor out = Tensor.of(data.clone(), p.scoreShape());
        REFERENCE.maskedSoftmax(p, c.mask(), ref);
        SIMD.maskedSoftmax(p, c.mask(), out);
        assertClose(c.name() + " maskedSoftmax", ref, out, TOL);
    }

    /**
     * The in-place masked softmax's pipelined rows: every row length from 1 to 3·L + 1 (causal masks over
     * Sk = 3·L + 1 keys, a window, key lengths), the partial last vector padded in place where masked keys
     * follow it and not where the row ends; rows all −∞ and rows holding a NaN among ordinary ones; rows with
     * padding between them. Against the float64 reference; the padding untouched; one thread bit for bit
     * equal to four.
     */
    @Test
    void pipelinedRowsMatchTheReference() throws Exception {
        int sk = 3 * Vec.L + 1;
        int pad = 3;
        Mask[] masks = {Mask.causalBottomRight(), Mask.causalTopLeft(),
            Mask.slidingWindow(5, 2, Alignment.bottomRight()), Mask.keyLengths(sk - 2, Vec.L),
            Mask.none()};
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            Kernels one = Kernels.of(new SimdBackend(Vec.BITS, new Parallel(null, 1)));
            Kernels four = Kernels.of(new SimdBackend(Vec.BITS, new Parallel(pool, 4)));
            Random rnd = new Random(SEED + 9);
            for (Mask mask : masks) {
                for (int sq : new int[] {1, 2, sk}) {
                    AttentionProblem p = AttentionProblem.of(2, 3, 3, sq, sk, 8).withScale(0.37f);
                    int rows = 2 * 3 * sq;
                    float[] data = randn(rnd, rows * sk, 3f);
                    if (sq > 1) {
                        Arrays.fill(data, 4 * sk, 5 * sk, Float.NEGATIVE_INFINITY); // (0, 0, 4) or (0, 2, 0)
                        data[(rows - 3) * sk + 1] = Float.NaN;
                    }
                    Tensor ref = Tensor.of(data.clone(), p.scoreShape());
                    REFERENCE.maskedSoftmax(p, mask, ref);
                    float[][] got = new float[2][];
                    int k = 0;
                    for (Kernels kr : new Kernels[] {one, four}) {
                        float[] buf = new float[rows * (sk + pad)];
                        Arrays.fill(buf, 7f);
                        for (int r = 0; r < rows; r++) {
                            System.arraycopy(data, r * sk, buf, r * (sk + pad), sk);
                        }
                        Tensor view = Tensor.of(buf, 2, 3, sq, sk + pad).narrow(3, 0, sk);
                        kr.maskedSoftmax(p, mask, view);
                        for (int r = 0; r < rows; r++) {
                            for (int j = sk; j < sk + pad; j++) {
                                assertEquals(7f, buf[r * (sk + pad) + j],
                                        "padding after row " + r + " mask=" + mask);
                            }
                        }
                        got[k++] = view.toFloatArray();
                    }
                    String what = "pipelined rows sq=" + sq + " mask=" + mask;
                    assertClose(what, ref.toFloatArray(), got[0], TOL);
                    assertArrayEquals(got[0], got[1], what + ": 1 thread against 4");
                }
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void offHeapAndPermutedScores() {
        Random rnd = new Random(SEED + 8);
        AttentionProblem p = AttentionProblem.of(2, 2, 1, 21, 35, 16).withSoftcap(4f);
        Tensor q = Tensor.of(randn(rnd, (int) Tensor.count(p.qShape()), 2f), p.qShape());
        Tensor k = Tensor.of(randn(rnd, (int) Tensor.count(p.kShape()), 1f), p.kShape());
        Mask mask = Mask.all(Mask.causalBottomRight(), Mask.keyLengths(30, 11));
        try (Arena arena = Arena.ofConfined()) {
            for (ScoreStage stage : ScoreStage.values()) {
                Tensor ref = Tensor.zeros(p.scoreShape());
                REFERENCE.scores(p, q, k, mask, stage, ref);
                Tensor out = SimdAttentionParityTest.offHeap(arena, new float[(int) Tensor.count(p.scoreShape())], p.scoreShape());
                SIMD.scores(p, q, k, mask, stage, out);
                assertClose("off-heap " + stage, ref, out, TOL);
                // a [B, H, Sk, Sq] buffer viewed transposed: the last axis has stride Sq
                Tensor t = Tensor.zeros(2, 2, 35, 21).permute(0, 1, 3, 2);
                SIMD.scores(p, q, k, mask, stage, t);
                assertClose("transposed " + stage, ref, t, TOL);
            }
            float[] data = randn(rnd, (int) Tensor.count(p.scoreShape()), 3f);
            Tensor ref = Tensor.of(data.clone(), p.scoreShape());
            REFERENCE.maskedSoftmax(p, mask, ref);
            Tensor out = SimdAttentionParityTest.offHeap(arena, data.clone(), p.scoreShape());
            SIMD.maskedSoftmax(p, mask, out);
            assertClose("off-heap maskedSoftmax", ref, out, TOL);
        }
    }
}
