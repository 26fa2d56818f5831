package dev.attn4j.simd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.attn4j.api.Alignment;
import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Kernels;
import dev.attn4j.api.LocalP;
import dev.attn4j.api.Mask;
import dev.attn4j.api.ScoreFunction;
import dev.attn4j.api.Tensor;
import dev.attn4j.testing.ClassicParityTest;
import dev.attn4j.testing.Fixtures;
import dev.attn4j.testing.Fixtures.Layout;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/**
 * The literature family of the simd backend against the float64 oracle (run at 512, 256 and 128 bits), plus
 * the simd paths the shared cases do not reach: the additive scores' unfactored rows (projections beyond
 * SimdClassic's bound), local-p's in-place position network (a decode step's few rows) and the hard kernels
 * at one query row.
 */
class SimdClassicParityTest extends ClassicParityTest {
    private static final Kernels SIMD = Kernels.of(new SimdBackend(Vec.BITS));

    @Override
    protected Kernels kernels() {
        return SIMD;
    }

    @Test
    void theFamilyRunsOnSimdNotOnTheReferenceFallback() {
        assertInstanceOf(SimdClassic.class, SIMD.backend().classic());
    }

    @Test
    void additiveScoresBeyondTheFactoredBound() {
        long seed = 2701;
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int s : new int[] {1, 17, 40}) {
            AttentionProblem p = AttentionProblem.of(1, 2, 1, s, s, 24);
            // W₁ of scale 3 puts many |P_q| past 10 (those rows take the unfactored path), W₂ of scale 0.2 not
            ScoreFunction f = ScoreFunction.additive(Tensor.of(Fixtures.random(rnd, 7 * 24, -3f, 3f), 7, 24),
                    Tensor.of(Fixtures.random(rnd, 7 * 24, -0.2f, 0.2f), 7, 24), Tensor.of(Fixtures.random(rnd, 7, -1f, 1f), 7));
            checkAttention("additive large P_q S=" + s, p, f, Mask.causalBottomRight(), seed++, Layout.BHSD, tolerance());
            ScoreFunction g = ScoreFunction.additive(Tensor.of(Fixtures.random(rnd, 7 * 24, -0.2f, 0.2f), 7, 24),
                    Tensor.of(Fixtures.random(rnd, 7 * 24, -3f, 3f), 7, 24), Tensor.of(Fixtures.random(rnd, 7, -1f, 1f), 7));
            checkAttention("additive large P_k S=" + s, p, g, Mask.none(), seed++, Layout.BHSD, tolerance());
        }
    }

    @Test
    void hardAndLocalKernelsAtFewQueryRows() {
        long seed = 2801;
        for (int sq : new int[] {1, 3}) {
            for (int sk : new int[] {1, 17, 33, 129}) {
                AttentionProblem p = AttentionProblem.of(2, 4, 2, sq, sk, 24);
                // topK = sk exceeds the keys the causal mask leaves the first rows when sq > 1
                for (int topK : new int[] {1, Math.min(8, sk), sk}) {
                    checkTopK("few rows top" + topK, p, ScoreFunction.dot(), Mask.causalBottomRight(), topK, seed++);
                }
                checkSample("few rows", p, ScoreFunction.dot(), Mask.causalBottomRight(), seed++);
                checkLocalP("few rows per-head W_p", p, ScoreFunction.dot(), localP(p, seed, 4), Mask.none(), seed++);
                SplittableRandom rnd = new SplittableRandom(seed);
                LocalP shared = new LocalP(Tensor.of(Fixtures.random(rnd, 5 * 24, -0.2f, 0.2f), 5, 24),
                        Tensor.of(Fixtures.random(rnd, 4 * 5, -2f, 2f), 4, 5), 3);
                checkLocalP("few rows shared W_p", p, ScoreFunction.dot(), shared, Mask.causalBottomRight(), seed++);
            }
        }
    }

    /**
     * A decode step large enough for the pool runs each head's logits and then its rows' work on one thread
     * (SimdClassic.forRows): against the oracle under causal, window, key-length and dense additive masks, GQA,
     * one and two query rows; and one thread bit for bit equal to four (outputs and indices).
     */
    @Test
    void decodeStepHeadsWithTheirRowsOnThePool() throws Exception {
        long seed = 2871;
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            Kernels one = Kernels.of(new SimdBackend(Vec.BITS, new Parallel(null, 1)));
            Kernels four = Kernels.of(new SimdBackend(Vec.BITS, new Parallel(pool, 4)));
            for (int sq : new int[] {1, 2}) {
                AttentionProblem p = AttentionProblem.of(2, 6, 2, sq, 150, 64); // 2·6·sq·150·64 ≥ 2^16
                SplittableRandom rnd = new SplittableRandom(seed);
                float[] add = Fixtures.random(rnd, 2 * 6 * sq * 150, -1f, 1f);
                for (int i = 0; i < add.length; i += 7) {
                    add[i] = Float.NEGATIVE_INFINITY;
                }
                Mask[] masks = {Mask.causalBottomRight(), Mask.slidingWindow(20, 0, Alignment.bottomRight()),
                        Mask.all(Mask.keyLengths(90, 150), Mask.additive(Tensor.of(add, 2, 6, sq, 150)))};
                for (Mask mask : masks) {
                    checkTopK("pool sq=" + sq + " " + mask, p, ScoreFunction.dot(), mask, 8, seed++);
                    checkSample("pool sq=" + sq + " " + mask, p, ScoreFunction.dot(), mask, seed++);
                    LocalP local = localP(p, seed, 12);
                    checkLocalP("pool sq=" + sq + " " + mask, p, ScoreFunction.dot(), local, mask, seed++);
                    float[][] qkv = Fixtures.qkv(p, seed++, 1f);
                    Tensor q = Tensor.of(qkv[0], p.qShape());
                    Tensor k = Tensor.of(qkv[1], p.kShape());
                    Tensor v = Tensor.of(qkv[2], p.vShape());
                    int rows = 2 * 6 * sq;
                    float[][] outs = new float[6][];
                    int[][] idx = new int[4][];
                    for (int t = 0; t < 2; t++) {
                        Kernels kr = t == 0 ? one : four;
                        Tensor o1 = Tensor.zeros(p.outShape());
                        Tensor o2 = Tensor.zeros(p.outShape());
                        Tensor o3 = Tensor.zeros(p.outShape());
                        idx[2 * t] = new int[rows * 8];
                        idx[2 * t + 1] = new int[rows];
                        kr.topKAttention(p, ScoreFunction.dot(), q, k, v, mask, 8, o1, idx[2 * t]);
                        kr.sampledAttention(p, ScoreFunction.dot(), q, k, v, mask, 5, o2, idx[2 * t + 1]);
                        kr.localPAttention(p, ScoreFunction.dot(), local, q, k, v, mask, o3, null);
                        outs[3 * t] = o1.toFloatArray();
                        outs[3 * t + 1] = o2.toFloatArray();
                        outs[3 * t + 2] = o3.toFloatArray();
                    }
                    String what = " sq=" + sq + " " + mask + ": one thread against four";
                    assertArrayEquals(outs[0], outs[3], "top-k" + what);
                    assertArrayEquals(outs[1], outs[4], "sampled" + what);
                    assertArrayEquals(outs[2], outs[5], "local-p" + what);
                    assertArrayEquals(idx[0], idx[2], "top-k indices" + what);
                    assertArrayEquals(idx[1], idx[3], "sampled indices" + what);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Local-p at a decode step's few rows reads W_p in place, its hidden units as a row's scores are computed:
     * sixteen at a time where the head dim is whole 16-lane vectors, the rest four at a time (hidden sizes below,
     * at and past sixteen, with a remainder), per-head and shared weights.
     */
    @Test
    void localPInPlaceAtWholeVectorHeadDims() {
        long seed = 2851;
        for (int d : new int[] {16, 64, 128}) {
            for (int hidden : new int[] {7, 16, 37, 64}) {
                AttentionProblem p = AttentionProblem.of(1, 3, 3, 1, 129, d);
                SplittableRandom rnd = new SplittableRandom(seed);
                float ws = (float) (1.0 / Math.sqrt(d));
                LocalP perHead = new LocalP(Tensor.of(Fixtures.random(rnd, 3 * hidden * d, -ws, ws), 3, hidden, d),
                        Tensor.of(Fixtures.random(rnd, hidden, -2f, 2f), hidden), 9);
                checkLocalP("in place d=" + d + " A=" + hidden, p, ScoreFunction.dot(), perHead, Mask.causalBottomRight(),
                        seed++);
                LocalP shared = new LocalP(Tensor.of(Fixtures.random(rnd, hidden * d, -ws, ws), hidden, d),
                        Tensor.of(Fixtures.random(rnd, 3 * hidden, -2f, 2f), 3, hidden), 4);
                checkLocalP("in place shared d=" + d + " A=" + hidden, p, ScoreFunction.dot(), shared, Mask.none(),
                        seed++);
            }
        }
    }

    /**
     * The hard and local kernels' own score tiles (SimdClassic.tiledLogits: at least one query tile of rows,
     * key blocks skipped outside the mask's key range, 16×16 transposes back into rows) with softcap, GQA,
     * key lengths, windows and dense bool and additive terms.
     */
    @Test
    void hardAndLocalKernelsOnScoreTiles() {
        long seed = 2901;
        SplittableRandom rnd = new SplittableRandom(seed);
        int sq = 70;
        int sk = 75;
        AttentionProblem p = AttentionProblem.of(2, 4, 2, sq, sk, 24).withSoftcap(1.5f).withScale(1.3f);
        float[] add = Fixtures.random(rnd, 2 * 4 * sq * sk, -1f, 1f);
        byte[] bool = new byte[2 * sq * sk];
        for (int i = 0; i < add.length; i++) {
            add[i] = rnd.nextInt(10) == 0 ? Float.NEGATIVE_INFINITY : add[i];
        }
        for (int i = 0; i < bool.length; i++) {
            bool[i] = (byte) (rnd.nextInt(5) == 0 ? 0 : 1);
        }
        Mask[] masks = {Mask.none(), Mask.causalTopLeft(), Mask.causalBottomRight(),
                Mask.all(Mask.slidingWindow(9, 3, Alignment.topLeft()), Mask.keyLengths(40, 75)),
                Mask.all(Mask.causalBottomRight(), Mask.additive(Tensor.of(add, 2, 4, sq, sk)),
                        Mask.bool(Tensor.ofBooleans(bool, 2, 1, sq, sk)))};
        for (Mask mask : masks) {
            for (int topK : new int[] {1, 8, 33}) {
                checkTopK("tiles top" + topK, p, ScoreFunction.dot(), mask, topK, seed++);
            }
            checkSample("tiles", p, ScoreFunction.dot(), mask, seed++);
            checkLocalP("tiles", p, ScoreFunction.dot(), localP(p, seed, 6), mask, seed++);
        }
    }
}
