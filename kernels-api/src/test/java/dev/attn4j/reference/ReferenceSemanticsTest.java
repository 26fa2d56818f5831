package dev.attn4j.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.attn4j.api.Alignment;
import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Kernels;
import dev.attn4j.api.Mask;
import dev.attn4j.api.Tensor;
import dev.attn4j.testing.Fixtures;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The oracle's semantics, checked against independent formulations: layouts give identical bits, GQA
 * equals multi-head attention with K/V repeated per group, each structured mask equals the dense mask
 * it stands for, and small cases equal values computed by hand.
 */
class ReferenceSemanticsTest {
    private static final Kernels K = Kernels.of(new ReferenceBackend());

    private static Tensor attend(AttentionProblem p, Tensor q, Tensor k, Tensor v, Mask mask) {
        Tensor out = Tensor.zeros(p.outShape());
        K.attention(p, q, k, v, mask, out);
        return out;
    }

    @Test
    void layoutsGiveIdenticalResults() {
        int b = 2;
        int s = 13;
        int h = 3;
        int d = 8;
        AttentionProblem p = AttentionProblem.of(b, h, h, s, s, d);
        float[] packed = Fixtures.random(new SplittableRandom(3), b * s * 3 * h * d, -1f, 1f);
        Tensor[] qkvPacked = Tensor.packedQkv(packed, b, s, h, d);
        Tensor[] bhsd = new Tensor[3];
        Tensor[] bshd = new Tensor[3];
        for (int t = 0; t < 3; t++) {
            float[] logical = qkvPacked[t].toFloatArray();
            bhsd[t] = Tensor.of(logical, b, h, s, d);
            bshd[t] = Tensor.bshd(new float[logical.length], b, s, h, d);
            Fixtures.copyInto(logical, bshd[t]);
        }
        Mask mask = Mask.causalTopLeft();
        Tensor a = attend(p, bhsd[0], bhsd[1], bhsd[2], mask);
        Fixtures.assertIdentical("[B,S,H,D] vs [B,H,S,D]", a, attend(p, bshd[0], bshd[1], bshd[2], mask));
        Fixtures.assertIdentical("packed [B,S,3,H,D] vs [B,H,S,D]", a, attend(p, qkvPacked[0], qkvPacked[1], qkvPacked[2], mask));
    }

    @Test
    void gqaReadsKvHeadOfItsGroup() {
        AttentionProblem gqa = AttentionProblem.of(2, 6, 2, 7, 9, 5);
        AttentionProblem mha = AttentionProblem.of(2, 6, 6, 7, 9, 5);
        float[][] qkv = Fixtures.qkv(gqa, 5, 1f);
        Tensor q = Tensor.of(qkv[0], gqa.qShape());
        Tensor k = Tensor.of(qkv[1], gqa.kShape());
        Tensor v = Tensor.of(qkv[2], gqa.vShape());
        // repeat each kv head for the 3 query heads of its group: heads 0,1,2 -> kv 0; 3,4,5 -> kv 1
        Tensor kRep = Tensor.zeros(mha.kShape());
        Tensor vRep = Tensor.zeros(mha.vShape());
        for (int b = 0; b < 2; b++) {
            for (int h = 0; h < 6; h++) {
                for (int j = 0; j < 9; j++) {
                    for (int d = 0; d < 5; d++) {
                        kRep.set(k.get(b, h / 3, j, d), b, h, j, d);
                        vRep.set(v.get(b, h / 3, j, d), b, h, j, d);
                    }
                }
            }
        }
        Mask mask = Mask.causalBottomRight();
        Fixtures.assertIdentical("GQA vs repeated MHA", attend(mha, q, kRep, vRep, mask), attend(gqa, q, k, v, mask));
        assertEquals(1, gqa.kvHead(5));
        assertEquals(0, gqa.kvHead(2));
    }

    /** A dense boolean mask with allowed(b, i, j) for every head. */
    private static Mask dense(int batch, int heads, int sq, int sk, Allowed allowed) {
        byte[] bytes = new byte[batch * heads * sq * sk];
        int n = 0;
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < sq; i++) {
                    for (int j = 0; j < sk; j++) {
                        bytes[n++] = (byte) (allowed.test(b, i, j) ? 1 : 0);
                    }
                }
            }
        }
        return Mask.bool(Tensor.ofBooleans(bytes, batch, heads, sq, sk));
    }

    private interface Allowed {
        boolean test(int b, int i, int j);
    }

    @Test
    void structuredMasksEqualTheDenseMasksTheyStandFor() {
        AttentionProblem p = AttentionProblem.of(2, 2, 1, 9, 14, 6);
        float[][] qkv = Fixtures.qkv(p, 9, 2f);
        Tensor q = Tensor.of(qkv[0], p.qShape());
        Tensor k = Tensor.of(qkv[1], p.kShape());
        Tensor v = Tensor.of(qkv[2], p.vShape());
        check(p, q, k, v, "causal top-left", Mask.causalTopLeft(), dense(2, 2, 9, 14, (b, i, j) -> j <= i));
        check(p, q, k, v, "causal bottom-right", Mask.causalBottomRight(), dense(2, 2, 9, 14, (b, i, j) -> j <= i + 5));
        check(p, q, k, v, "causal per batch", Mask.causal(Alignment.perBatch(-3, 2)),
                dense(2, 2, 9, 14, (b, i, j) -> j <= i + (b == 0 ? -3 : 2)));
        check(p, q, k, v, "window", Mask.slidingWindow(2, 1, Alignment.fixed(4)),
                dense(2, 2, 9, 14, (b, i, j) -> j >= i + 4 - 2 && j <= i + 4 + 1));
        check(p, q, k, v, "key lengths", Mask.keyLengths(3, 14), dense(2, 2, 9, 14, (b, i, j) -> b == 1 || j < 3));
        float[] additive = new float[9 * 14];
        for (int i = 0; i < 9; i++) {
            for (int j = 0; j < 14; j++) {
                additive[i * 14 + j] = j <= i ? 0f : Float.NEGATIVE_INFINITY;
            }
        }
        check(p, q, k, v, "additive -inf", Mask.additive(Tensor.of(additive, 9, 14)), dense(2, 2, 9, 14, (b, i, j) -> j <= i));
        check(p, q, k, v, "composition", Mask.causalTopLeft().and(Mask.keyLengths(5, 14)),
                dense(2, 2, 9, 14, (b, i, j) -> j <= i && (b == 1 || j < 5)));
    }

    private static void check(AttentionProblem p, Tensor q, Tensor k, Tensor v, String what, Mask structured, Mask dense) {
        Fixtures.assertIdentical(what, attend(p, q, k, v, dense), attend(p, q, k, v, structured));
    }

    @Test
    void boolMaskPolarityTrueMeansAttend() {
        // one query, two keys: masking key 1 must give exactly v[0]
        AttentionProblem p = AttentionProblem.of(1, 1, 1, 1, 2, 1);
        Tensor q = Tensor.of(new float[] {1f}, p.qShape());
        Tensor k = Tensor.of(new float[] {1f, 5f}, p.kShape());
        Tensor v = Tensor.of(new float[] {3f, 7f}, p.vShape());
        Tensor out = attend(p, q, k, v, Mask.bool(Tensor.ofBooleans(new boolean[] {true, false}, 2)));
        assertEquals(3f, out.get(0, 0, 0, 0));
        out = attend(p, q, k, v, Mask.bool(Tensor.ofBooleans(new boolean[] {false, true}, 2)));
        assertEquals(7f, out.get(0, 0, 0, 0));
    }

    @Test
    void handComputedValues() {
        // equal scores: the output is the mean of V, lse = ln(n) + score
        AttentionProblem p = AttentionProblem.of(1, 1, 1, 1, 4, 2);
        Tensor q = Tensor.of(new float[] {0f, 0f}, p.qShape());
        Tensor k = Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, p.kShape());
        Tensor v = Tensor.of(new float[] {1, 10, 2, 20, 3, 30, 4, 40}, p.vShape());
        Tensor out = Tensor.zeros(p.outShape());
        Tensor lse = Tensor.zeros(1, 1, 1);
        K.attention(p, q, k, v, Mask.none(), out, lse);
        assertEquals(2.5f, out.get(0, 0, 0, 0), 1e-6f);
        assertEquals(25f, out.get(0, 0, 0, 1), 1e-5f);
        assertEquals((float) Math.log(4), lse.get(0, 0, 0), 1e-6f);
        // two keys with scores 0 and ln 3 (scale 1): weights 1/4 and 3/4
        AttentionProblem p2 = AttentionProblem.of(1, 1, 1, 1, 2, 1).withScale(1f);
        Tensor out2 = Tensor.zeros(p2.outShape());
        K.attention(p2, Tensor.of(new float[] {(float) Math.log(3)}, 1, 1, 1, 1), Tensor.of(new float[] {0f, 1f}, 1, 1, 2, 1),
                Tensor.of(new float[] {4f, 8f}, 1, 1, 2, 1), Mask.none(), out2);
        assertEquals(7f, out2.get(0, 0, 0, 0), 1e-6f);
        // softcap: 2·tanh(10/2) ≈ 1.99991 instead of 10
        Tensor s = Tensor.zeros(1, 1, 1, 2);
        K.scores(p2.withSoftcap(2f), Tensor.of(new float[] {10f}, 1, 1, 1, 1), Tensor.of(new float[] {1f, 0f}, 1, 1, 2, 1),
                Mask.none(), dev.attn4j.api.ScoreStage.SOFTCAPPED, s);
        assertEquals((float) (2 * Math.tanh(5)), s.get(0, 0, 0, 0), 1e-6f);
        assertEquals(0f, s.get(0, 0, 0, 1));
    }

    @Test
    void erfIsAccurate() {
        // erf values from Abramowitz & Stegun table 7.1 (10 digits)
        assertEquals(0.5204998778, ReferenceBlocks.erf(0.5), 1e-10);
        assertEquals(0.8427007929, ReferenceBlocks.erf(1.0), 1e-10);
        assertEquals(0.9953222650, ReferenceBlocks.erf(2.0), 1e-10);
        assertEquals(0.9999779095, ReferenceBlocks.erf(3.0), 1e-10);
        assertEquals(0.9999999846, ReferenceBlocks.erf(4.0), 1e-10);
        assertEquals(-0.8427007929, ReferenceBlocks.erf(-1.0), 1e-10);
        assertEquals(0.0, ReferenceBlocks.erf(0.0));
    }
}
