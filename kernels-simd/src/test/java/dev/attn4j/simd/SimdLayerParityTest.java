package dev.attn4j.simd;

import static dev.attn4j.testing.Fixtures.assertClose;

import dev.attn4j.api.Kernels;
import dev.attn4j.api.Mask;
import dev.attn4j.api.MultiHeadAttention;
import dev.attn4j.api.Tensor;
import dev.attn4j.reference.ReferenceBackend;
import dev.attn4j.testing.Fixtures;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The multi-head attention layer on the simd kernels against the same layer on the oracle, forward and decode. */
class SimdLayerParityTest {
    private static final Kernels SIMD = Kernels.of(new SimdBackend(Vec.BITS));
    private static final Kernels ORACLE = Kernels.of(new ReferenceBackend());

    @Test
    void forwardAndDecodeMatchTheOracleLayer() {
        for (int kvHeads : new int[] {4, 2, 1}) {
            MultiHeadAttention simd = MultiHeadAttention.builder(64, 4).kvHeads(kvHeads).kernels(SIMD).build().initialize(3);
            MultiHeadAttention ref = MultiHeadAttention.builder(64, 4).kvHeads(kvHeads).kernels(ORACLE).build().initialize(3);
            Tensor x = Tensor.of(Fixtures.random(new SplittableRandom(4), 2 * 33 * 64, -1f, 1f), 2, 33, 64);
            Tensor want = Tensor.zeros(2, 33, 64);
            ref.causalSelfAttention(x, want);
            Tensor got = Tensor.zeros(2, 33, 64);
            simd.causalSelfAttention(x, got);
            assertClose("simd layer forward kvHeads=" + kvHeads, want, got, 1e-5, 4);
            simd.startCache(2, 40);
            for (int t = 0; t < 33; t++) {
                Tensor yt = Tensor.zeros(2, 1, 64);
                simd.decode(x.narrow(1, t, 1), yt, null);
                assertClose("simd layer decode step " + t, Tensor.of(want.narrow(1, t, 1).toFloatArray(), 2, 1, 64), yt, 1e-5, 4);
            }
            Tensor y2 = Tensor.zeros(2, 33, 64);
            simd.selfAttention(x, Mask.keyLengths(33, 17), y2);
            Tensor w2 = Tensor.zeros(2, 33, 64);
            ref.selfAttention(x, Mask.keyLengths(33, 17), w2);
            assertClose("simd layer key lengths", w2, y2, 1e-5, 4);
        }
    }
}
