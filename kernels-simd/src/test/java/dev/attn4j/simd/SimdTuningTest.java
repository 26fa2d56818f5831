package dev.attn4j.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Mask;
import dev.attn4j.api.Tensor;
import dev.attn4j.tune.ProblemClass;
import dev.attn4j.tune.Tunable;
import dev.attn4j.tune.TuneRequest;
import dev.attn4j.tune.Wisdom;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every tuning candidate is checked against the reference, not only the defaults; the kernels use a
 * tuned choice from the wisdom and fall back to ESTIMATE without one; configurations round-trip.
 */
class SimdTuningTest {
    private static final Parallel PAR = Parallel.defaults();

    @SuppressWarnings("unchecked")
    private static <C> void checkAll(Tunable<C> t) {
        List<C> all = t.candidates(true);
        assertFalse(all.isEmpty());
        for (C c : all) {
            t.check(c); // throws AssertionError naming the candidate if it disagrees with the reference
            assertEquals(c, t.decode(t.encode(c)));
        }
    }

    @Test
    void everyAttentionCandidateMatchesTheReference() {
        AttentionProblem[] problems = {
            AttentionProblem.of(1, 2, 1, 37, 300, 64),
            AttentionProblem.of(1, 4, 4, 1, 2049, 40), // decode: keys are split, every split candidate runs
            AttentionProblem.of(1, 1, 1, 65, 129, 128).withValueDim(33),
        };
        for (AttentionProblem p : problems) {
            for (Mask m : new Mask[] {Mask.none(), Mask.causalBottomRight()}) {
                for (Tunable<?> t : SimdTuning.tunables(TuneRequest.attention(p, m), PAR)) {
                    checkAll(t);
                }
            }
        }
    }

    @Test
    void everyGemmCandidateMatchesTheReference() {
        for (int[] mnk : new int[][] {{61, 77, 700}, {1, 300, 129}, {200, 33, 65}}) {
            for (Tunable<?> t : SimdTuning.tunables(TuneRequest.gemm(mnk[0], mnk[1], mnk[2]), PAR)) {
                checkAll(t);
            }
        }
    }

    @Test
    void kernelsReadTheirTilesFromTheWisdom() {
        AttentionProblem p = AttentionProblem.of(1, 3, 3, 300, 300, 24);
        Mask mask = Mask.causalTopLeft();
        Tensor q = Tensor.zeros(p.qShape());
        Wisdom w = SimdTuning.wisdom();
        // the test wisdom file lives in target/ and outlives a run: start from a clean slate
        w.remove("simd", ProblemClass.attention(p, mask, "bhsd"));
        w.remove("simd", SimdTuning.gemmClass(5, 7, 9));
        assertEquals(FlashConfig.forProblem(p, mask), SimdTuning.flash(p, mask, q), "no wisdom: ESTIMATE");
        FlashConfig tuned = new FlashConfig(48, 16, 96, 4, 2);
        w.put(ProblemClass.attention(p, mask, "bhsd"), new Wisdom.Entry("simd", SimdTuning.encode(tuned), 1, 2));
        assertEquals(tuned, SimdTuning.flash(p, mask, q));
        assertEquals(FlashConfig.forProblem(p, Mask.none()), SimdTuning.flash(p, Mask.none(), q), "another class keeps ESTIMATE");
        assertEquals(GemmConfig.defaults(), SimdTuning.gemm(5, 7, 9), "no wisdom: ESTIMATE");
        w.put(SimdTuning.gemmClass(5, 7, 9), new Wisdom.Entry("simd", "kc64-mt12", 1, 2));
        assertEquals(new GemmConfig(64, 12), SimdTuning.gemm(5, 8, 9), "same size buckets, same class");
        assertEquals("bshd", ProblemClass.layout(Tensor.bshd(new float[2 * 3 * 4 * 5], 2, 3, 4, 5)));
        assertTrue(ProblemClass.layout(Tensor.zeros(2, 4, 3, 5)).equals("bhsd"));
        assertThrows(IllegalArgumentException.class, () -> SimdTuning.decodeFlash("bk64"));
        // wisdom written before query tiles were grouped still reads, as one tile per K/V pass
        assertEquals(new FlashConfig(64, 16, 256, 16, 1), SimdTuning.decodeFlash("bk64-split16-min256-max16"));
        assertEquals(tuned, SimdTuning.decodeFlash(SimdTuning.encode(tuned)));
        assertThrows(IllegalArgumentException.class, () -> SimdTuning.decodeGemm("kc0-mt12"));
        // the thread split: a knob of its own, and wisdom written before it existed reads as 4 per thread
        assertEquals(4, SimdTuning.decodeGemm("kc64-mt12").itemsPerThread());
        GemmConfig split = new GemmConfig(128, 24, 2);
        assertEquals(split, SimdTuning.decodeGemm(SimdTuning.encode(split)));
        assertThrows(IllegalArgumentException.class, () -> SimdTuning.decodeGemm("kc64-mt12-x2"));
        assertThrows(IllegalArgumentException.class, () -> SimdTuning.decodeGemm("kc64-mt12-it0"));
        assertThrows(IllegalArgumentException.class, () -> new GemmConfig(64, 12, 0));
        // the micro-kernel shape: a knob too; older wisdom reads as the 12-row kernel
        assertEquals(12, SimdTuning.decodeGemm("kc64-mt12-it2").mr());
        GemmConfig eight = new GemmConfig(128, 36, 2, 8);
        assertEquals(eight, SimdTuning.decodeGemm(SimdTuning.encode(eight)));
        assertThrows(IllegalArgumentException.class, () -> SimdTuning.decodeGemm("kc64-mt12-it2-mr5"));
        assertThrows(IllegalArgumentException.class, () -> SimdTuning.decodeGemm("kc64-mt12-it2-x8"));
        // the loop order: a fifth field, absent in older wisdom (item-outer)
        assertFalse(SimdTuning.decodeGemm("kc64-mt12-it2-mr8").passes());
        GemmConfig passes = new GemmConfig(128, 36, 2, 8, true);
        assertEquals("kc128-mt36-it2-mr8-kp", SimdTuning.encode(passes));
        assertEquals(passes, SimdTuning.decodeGemm(SimdTuning.encode(passes)));
        assertThrows(IllegalArgumentException.class, () -> SimdTuning.decodeGemm("kc64-mt12-it2-mr8-kq"));
    }
}
