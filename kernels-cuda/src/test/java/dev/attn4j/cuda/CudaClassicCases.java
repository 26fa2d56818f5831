package dev.attn4j.cuda;

import dev.attn4j.api.Alignment;
import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Mask;
import dev.attn4j.api.ScoreFunction;
import dev.attn4j.api.ScoreStage;
import dev.attn4j.api.Tensor;
import dev.attn4j.testing.ClassicParityTest;
import dev.attn4j.testing.Fixtures;
import dev.attn4j.testing.Fixtures.Layout;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The literature family's parity suite plus the cases the cuda backend's own paths add: rows too long for the
 * top-k kernel's shared-memory sort, and additive scores whose masked tiles the kernel skips, at both stages that
 * must and must not skip them. Extended by the emulated and the GPU run.
 */
abstract class CudaClassicCases extends ClassicParityTest {

    /** Rows of 5000 keys sort 8192 keys in global scratch (past the 4096 of shared memory); argmax needs none. */
    @Test
    void topKPastTheSharedMemorySort() {
        AttentionProblem p = AttentionProblem.of(1, 2, 1, 3, 5000, 16);
        long seed = 9001;
        for (int k : new int[] {1, 9, 5000}) {
            checkTopK("top-" + k + " of 5000 keys", p, ScoreFunction.dot(), Mask.causalBottomRight(), k, seed++);
        }
    }

    /** A causal, windowed additive problem of several 32×32 tiles on each side of the diagonal, every score function. */
    @Test
    void skippedTilesOnLongCausalRows() {
        AttentionProblem p = AttentionProblem.of(1, 2, 1, 100, 130, 8);
        long seed = 9101;
        for (Map.Entry<String, ScoreFunction> f : scoreFunctions(p, seed, true).entrySet()) {
            checkAttention(f.getKey() + " causal TL", p, f.getValue(), Mask.causalTopLeft(), seed++, Layout.BHSD, tolerance());
            checkAttention(f.getKey() + " window 3,5", p, f.getValue(), Mask.slidingWindow(3, 5, Alignment.bottomRight()),
                    seed++, Layout.BHSD, tolerance());
        }
        // the stages before the mask need every tile, the masked ones may skip
        ScoreFunction additive = scoreFunctions(p, seed, false).get("additive");
        for (ScoreStage stage : ScoreStage.values()) {
            float[][] qkv = Fixtures.qkv(p, seed, 1f);
            Tensor q = Tensor.of(qkv[0], p.qShape());
            Tensor k = Tensor.of(qkv[1], p.kShape());
            Tensor want = Tensor.zeros(p.scoreShape());
            Fixtures.ORACLE.scores(p, additive, q, k, Mask.causalTopLeft(), stage, want);
            Tensor got = Tensor.zeros(p.scoreShape());
            Fixtures.poison(got);
            kernels().scores(p, additive, q, k, Mask.causalTopLeft(), stage, got);
            Fixtures.assertClose(kernels().backendName() + " additive scores " + stage, want, got, tolerance(), seed++);
        }
    }
}
