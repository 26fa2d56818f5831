package dev.attn4j.simd;

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
