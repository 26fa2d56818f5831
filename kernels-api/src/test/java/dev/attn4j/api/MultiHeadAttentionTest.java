package dev.attn4j.api;

import static dev.attn4j.testing.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.attn4j.reference.ReferenceBackend;
import dev.attn4j.testing.ClassicParityTest;
import dev.attn4j.testing.Fixtures;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The multi-head attention layer against a composition of oracle kernels written out independently
 * (per-head projections with {@code linear}, {@code attention}, concatenation, output {@code linear}),
 * and its KV-cache decoding against the full causal forward pass.
 */
class MultiHeadAttentionTest {
    private static final Kernels K = Kernels.of(new ReferenceBackend());
    private static final double TOL = 1e-5;

    /** Runs the layer's computation with oracle kernels on contiguous copies; writes the weights when asked. */
    static Tensor composed(MultiHeadAttention l, Tensor x, Tensor memory, Mask mask, ScoreFunction f, Tensor weights) {
        int b = x.dim(0);
        int sq = x.dim(1);
        int sk = memory.dim(1);
        int h = l.heads();
        int kvh = l.kvHeads();
        int d = l.headDim();
        int dv = l.valueDim();
        AttentionProblem p = l.problem(b, sq, sk);
        Tensor q = Tensor.zeros(b, h, sq, d);
        Tensor k = Tensor.zeros(b, kvh, sk, d);
        Tensor v = Tensor.zeros(b, kvh, sk, dv);
        for (int n = 0; n < b; n++) {
            Tensor qr = Tensor.zeros(sq, h * d);
            K.linear(copy(x.select(0, n)), copy(l.wq()), l.bq() == null ? null : copy(l.bq()), qr);
            Tensor kr = Tensor.zeros(sk, kvh * d);
            K.linear(copy(memory.select(0, n)), copy(l.wk()), l.bk() == null ? null : copy(l.bk()), kr);
            Tensor vr = Tensor.zeros(sk, kvh * dv);
            K.linear(copy(memory.select(0, n)), copy(l.wv()), l.bv() == null ? null : copy(l.bv()), vr);
            for (int s = 0; s < sq; s++) {
                for (int c = 0; c < h * d; c++) {
                    q.set(qr.get(s, c), n, c / d, s, c % d);
                }
            }
            for (int s = 0; s < sk; s++) {
                for (int c = 0; c < kvh * d; c++) {
                    k.set(kr.get(s, c), n, c / d, s, c % d);
                }
                for (int c = 0; c < kvh * dv; c++) {
                    v.set(vr.get(s, c), n, c / dv, s, c % dv);
                }
            }
        }
        Tensor attn = Tensor.zeros(p.outShape());
        K.attention(p, f, q, k, v, mask, attn);
        if (weights != null) {
            K.scores(p, f, q, k, mask, ScoreStage.SOFTMAX, weights);
        }
        Tensor concat = Tensor.zeros(b * sq, h * dv);
        for (int n = 0; n < b; n++) {
            for (int s = 0; s < sq; s++) {
                for (int c = 0; c < h * dv; c++) {
                    concat.set(attn.get(n, c / dv, s, c % dv), n * sq + s, c);
                }
            }
        }
        Tensor y = Tensor.zeros(b * sq, l.embedDim());
        K.linear(concat, copy(l.wo()), l.bo() == null ? null : copy(l.bo()), y);
        return y.reshape(b, sq, l.embedDim());
    }

    private static Tensor copy(Tensor t) {
        return Tensor.of(t.toFloatArray(), t.shape());
    }

    private static Tensor randomInput(long seed, int... shape) {
        return Tensor.of(Fixtures.random(new SplittableRandom(seed), (int) Tensor.count(shape), -1f, 1f), shape);
    }

    private static MultiHeadAttention layer(int e, int heads, int kvHeads, long seed) {
        MultiHeadAttention l = MultiHeadAttention.builder(e, heads).kvHeads(kvHeads).kernels(K).build().initialize(seed);
        SplittableRandom rnd = new SplittableRandom(seed + 1);
        Fixtures.copyInto(Fixtures.random(rnd, (int) l.bq().elementCount(), -0.5f, 0.5f), l.bq());
        Fixtures.copyInto(Fixtures.random(rnd, (int) l.bk().elementCount(), -0.5f, 0.5f), l.bk());
        Fixtures.copyInto(Fixtures.random(rnd, (int) l.bv().elementCount(), -0.5f, 0.5f), l.bv());
        Fixtures.copyInto(Fixtures.random(rnd, (int) l.bo().elementCount(), -0.5f, 0.5f), l.bo());
        return l;
    }

    @Test
    void selfAttentionIsTheCompositionOfOracleKernels() {
        for (int[] cfg : new int[][] {{32, 4, 4}, {32, 4, 2}, {24, 6, 1}, {7, 1, 1}}) {
            MultiHeadAttention l = layer(cfg[0], cfg[1], cfg[2], 10 + cfg[2]);
            Tensor x = randomInput(20, 2, 9, cfg[0]);
            for (Mask mask : new Mask[] {Mask.none(), Mask.causalTopLeft(), Mask.keyLengths(9, 4)}) {
                Tensor want = composed(l, x, x, mask, ScoreFunction.dot(), null);
                Tensor y = Tensor.zeros(2, 9, cfg[0]);
                Fixtures.poison(y);
                l.selfAttention(x, mask, y);
                assertClose("self-attention " + l + " mask=" + mask, want, y, TOL, 20);
            }
            Tensor wantWeights = Tensor.zeros(2, cfg[1], 9, 9);
            Tensor want = composed(l, x, x, Mask.causalTopLeft(), ScoreFunction.dot(), wantWeights);
            Tensor weights = Tensor.zeros(2, cfg[1], 9, 9);
            Tensor y = Tensor.of(x.toFloatArray(), x.shape());
            l.selfAttention(y, Mask.causalTopLeft(), y, weights);
            assertClose("causal self-attention in place " + l, want, y, TOL, 20);
            assertClose("attention weights " + l, wantWeights, weights, TOL, 20);
        }
    }

    @Test
    void otherScoreFunctionsAndBshdInput() {
        MultiHeadAttention proto = layer(16, 4, 2, 30);
        AttentionProblem p = proto.problem(2, 5, 5);
        for (var e : ClassicParityTest.scoreFunctions(p, 31, true).entrySet()) {
            MultiHeadAttention l = MultiHeadAttention.builder(16, 4).kvHeads(2).score(e.getValue()).kernels(K).build();
            Fixtures.copyInto(proto.qkvWeight().toFloatArray(), l.qkvWeight());
            Fixtures.copyInto(proto.wo().toFloatArray(), l.wo());
            // x as a strided view: [B, S, E] over [S, B, E] memory
            float[] xs = Fixtures.random(new SplittableRandom(32), 2 * 5 * 16, -1f, 1f);
            Tensor x = Tensor.view(xs, 0, new int[] {2, 5, 16}, new long[] {16, 32, 1});
            Tensor want = composed(l, x, x, Mask.causalTopLeft(), e.getValue(), null);
            Tensor y = Tensor.zeros(2, 5, 16);
            l.causalSelfAttention(x, y);
            assertClose("self-attention with " + e.getKey(), want, y, TOL, 32);
        }
    }

    @Test
    void crossAttentionWithAnotherMemoryWidth() {
        MultiHeadAttention l = MultiHeadAttention.builder(12, 3).kvHeads(1).kvEmbedDim(20).headDim(5).valueDim(7).kernels(K).build()
                .initialize(40);
        Tensor x = randomInput(41, 2, 4, 12);
        Tensor memory = randomInput(42, 2, 11, 20);
        Mask mask = Mask.keyLengths(11, 6);
        Tensor wantWeights = Tensor.zeros(2, 3, 4, 11);
        Tensor want = composed(l, x, memory, mask, ScoreFunction.dot(), wantWeights);
        Tensor y = Tensor.zeros(2, 4, 12);
        Tensor weights = Tensor.zeros(2, 3, 4, 11);
        l.crossAttention(x, memory, mask, y, weights);
        assertClose("cross-attention " + l, want, y, TOL, 42);
        assertClose("cross-attention weights", wantWeights, weights, TOL, 42);
        // the same through the cache: append the memory once, then attend to it
        l.startCache(2, 16);
        l.append(memory);
        assertEquals(11, l.cacheLength());
        Tensor y2 = Tensor.zeros(2, 4, 12);
        l.attendCache(x, mask, y2, null);
        assertClose("cross-attention through the cache", want, y2, TOL, 42);
        assertThrows(IllegalStateException.class, () -> l.selfAttention(x, Mask.none(), y));
    }

    @Test
    void decodingWithTheCacheEqualsTheFullCausalPass() {
        for (int[] cfg : new int[][] {{32, 4, 4}, {32, 8, 2}, {16, 4, 1}}) {
            int e = cfg[0];
            int s = 13;
            MultiHeadAttention l = layer(e, cfg[1], cfg[2], 50 + cfg[1]);
            Tensor x = randomInput(51, 2, s, e);
            Tensor full = Tensor.zeros(2, s, e);
            Tensor fullWeights = Tensor.zeros(2, cfg[1], s, s);
            l.selfAttention(x, Mask.causalTopLeft(), full, fullWeights);
            l.startCache(2, 20);
            // a prompt of 4 tokens in one call, then one token at a time
            Tensor prompt = x.narrow(1, 0, 4);
            Tensor yPrompt = Tensor.zeros(2, 4, e);
            l.decode(prompt, yPrompt, null);
            assertClose("prefill " + l, copy(full.narrow(1, 0, 4)), yPrompt, TOL, 51);
            for (int t = 4; t < s; t++) {
                Tensor yt = Tensor.zeros(2, 1, e);
                Tensor wt = Tensor.zeros(2, cfg[1], 1, t + 1);
                l.decode(x.narrow(1, t, 1), yt, wt);
                assertEquals(t + 1, l.cacheLength());
                assertClose("decode step " + t + " " + l, copy(full.narrow(1, t, 1)), yt, TOL, 51);
                assertClose("decode weights step " + t, copy(fullWeights.narrow(2, t, 1).narrow(3, 0, t + 1)), wt, TOL, 51);
            }
            // the cache holds exactly the keys of the full pass: a fresh cache decoded token by token agrees too
            l.clearCache();
            for (int t = 0; t < s; t++) {
                Tensor yt = Tensor.zeros(2, 1, e);
                l.decode(x.narrow(1, t, 1), yt, null);
                assertClose("decode from empty, step " + t, copy(full.narrow(1, t, 1)), yt, TOL, 51);
            }
        }
    }

    @Test
    void misuseIsRefusedWithAReason() {
        MultiHeadAttention l = layer(8, 2, 2, 60);
        Tensor x = randomInput(61, 1, 3, 8);
        IllegalStateException noCache = assertThrows(IllegalStateException.class, () -> l.decode(x, Tensor.zeros(1, 3, 8), null));
        assertTrue(noCache.getMessage().contains("startCache"), noCache.getMessage());
        l.startCache(1, 4);
        l.decode(x, Tensor.zeros(1, 3, 8), null);
        IllegalArgumentException full = assertThrows(IllegalArgumentException.class, () -> l.decode(x, Tensor.zeros(1, 3, 8), null));
        assertTrue(full.getMessage().contains("holds 3 of 4 positions and cannot take 3 more"), full.getMessage());
        IllegalArgumentException batch = assertThrows(IllegalArgumentException.class,
                () -> l.decode(randomInput(62, 2, 1, 8), Tensor.zeros(2, 1, 8), null));
        assertTrue(batch.getMessage().contains("x must have the cache's batch 1 but has 2"), batch.getMessage());
        IllegalArgumentException width = assertThrows(IllegalArgumentException.class,
                () -> l.selfAttention(randomInput(63, 1, 3, 9), Mask.none(), Tensor.zeros(1, 3, 8)));
        assertTrue(width.getMessage().contains("x must have shape [batch, seq, 8] but has [1, 3, 9]"), width.getMessage());
        IllegalArgumentException w = assertThrows(IllegalArgumentException.class,
                () -> l.selfAttention(x, Mask.none(), Tensor.zeros(1, 3, 8), Tensor.zeros(1, 2, 3, 4)));
        assertTrue(w.getMessage().contains("weights must have shape [batch=1, heads=2, seqQ=3, seqK=3]"), w.getMessage());
        IllegalArgumentException heads = assertThrows(IllegalArgumentException.class,
                () -> MultiHeadAttention.builder(12, 4).kvHeads(3).build());
        assertTrue(heads.getMessage().contains("heads (4) must be a multiple of kvHeads (3)"), heads.getMessage());
        assertEquals(3, l.cacheLength(), "a refused call leaves the cache as it was");
    }
}
