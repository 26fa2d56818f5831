package dev.attn4j.testing;

import static dev.attn4j.testing.Fixtures.ORACLE;
import static dev.attn4j.testing.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.attn4j.api.Alignment;
import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Kernels;
import dev.attn4j.api.Mask;
import dev.attn4j.api.ScoreStage;
import dev.attn4j.api.Tensor;
import dev.attn4j.testing.Fixtures.Layout;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Parity of a backend's attention family with the float64 oracle, on shapes that hurt: sizes around
 * vector lengths, head dims 1…256, S = 1, long rows, every mask kind and composition, every layout,
 * GQA ratios, fully masked rows and extreme logits. Every backend extends it and supplies
 * {@link #kernels()}.
 */
public abstract class AttentionParityTest {

    /** The kernels under test. */
    protected abstract Kernels kernels();

    /** Relative tolerance against the oracle: |Δ| ≤ tol·max(1, |ref|). */
    protected double tolerance() {
        return 1e-5;
    }

    /** Runs fused attention in {@code layout} and compares output and log-sum-exp with the oracle. */
    protected void check(String label, AttentionProblem p, Mask mask, long seed, float qScale, Layout layout, double tol) {
        float[][] qkv = Fixtures.qkv(p, seed, qScale);
        Tensor q = Tensor.of(qkv[0], p.qShape());
        Tensor k = Tensor.of(qkv[1], p.kShape());
        Tensor v = Tensor.of(qkv[2], p.vShape());
        Tensor want = Tensor.zeros(p.outShape());
        Tensor wantLse = Tensor.zeros(p.batch(), p.heads(), p.seqQ());
        ORACLE.attention(p, q, k, v, mask, want, wantLse);
        try (Arena arena = Arena.ofConfined()) {
            Tensor q2 = Fixtures.place(qkv[0], p.qShape(), layout, arena);
            Tensor k2 = Fixtures.place(qkv[1], p.kShape(), layout, arena);
            Tensor v2 = Fixtures.place(qkv[2], p.vShape(), layout, arena);
            Tensor out = Fixtures.place(new float[(int) Tensor.count(p.outShape())], p.outShape(), layout, arena);
            Fixtures.poison(out);
            Tensor lse = Tensor.zeros(p.batch(), p.heads(), p.seqQ());
            Fixtures.poison(lse);
            kernels().attention(p, q2, k2, v2, mask, out, lse);
            String what = kernels().backendName() + " attention " + label + " " + p + " mask=" + mask + " layout=" + layout;
            assertClose(what + " out", want, out, tol, seed);
            assertClose(what + " lse", wantLse, lse, tol, seed);
        }
    }

    private void check(String label, AttentionProblem p, Mask mask, long seed) {
        check(label, p, mask, seed, 1f, Layout.BHSD, tolerance());
    }

    @Test
    void sizesThatHurt() {
        long seed = 11;
        for (int s : Fixtures.SIZES) {
            AttentionProblem p = AttentionProblem.of(1, 2, 1, s, s, 64);
            check("square", p, Mask.none(), seed++);
            check("square causal", p, Mask.causalTopLeft(), seed++);
        }
        for (int i = 0; i + 1 < Fixtures.SIZES.length; i++) {
            int sq = Fixtures.SIZES[i];
            int sk = Fixtures.SIZES[Fixtures.SIZES.length - 1 - i];
            AttentionProblem p = AttentionProblem.of(2, 2, 2, sq, sk, 32);
            check("rect", p, Mask.none(), seed++);
            check("rect causal BR", p, Mask.causalBottomRight(), seed++);
        }
    }

    @Test
    void headDims() {
        long seed = 101;
        for (int d : Fixtures.HEAD_DIMS) {
            AttentionProblem p = AttentionProblem.of(1, 2, 1, 17, 33, d);
            check("headDim", p, Mask.none(), seed++);
            check("headDim causal", p, Mask.causalTopLeft(), seed++);
        }
        check("Dv != D", AttentionProblem.of(2, 3, 3, 9, 21, 59).withValueDim(40), Mask.causalBottomRight(), seed++);
        check("Dv > D", AttentionProblem.of(1, 2, 2, 18, 65, 8).withValueDim(129), Mask.none(), seed);
    }

    @Test
    void singleQueryAndLongRows() {
        long seed = 201;
        check("S=1", AttentionProblem.of(1, 1, 1, 1, 1, 16), Mask.none(), seed++);
        check("S=1 causal", AttentionProblem.of(1, 1, 1, 1, 1, 16), Mask.causalTopLeft(), seed++);
        AttentionProblem decode = AttentionProblem.of(2, 8, 2, 1, 1021, 128);
        check("decode", decode, Mask.causalBottomRight(), seed++);
        check("decode key lengths", decode, Mask.keyLengths(1021, 500), seed++);
        check("long rows", AttentionProblem.of(1, 2, 1, 3, 1021, 64), Mask.none(), seed++);
        check("long square causal", AttentionProblem.of(1, 1, 1, 1021, 1021, 64), Mask.causalTopLeft(), seed);
    }

    /** Every mask kind and several compositions, for B=2, H=4, KVH=2, Sq=19, Sk=37. */
    protected static Map<String, Mask> masks(long seed) {
        int b = 2;
        int h = 4;
        int sq = 19;
        int sk = 37;
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<String, Mask> m = new LinkedHashMap<>();
        m.put("none", Mask.none());
        m.put("causal TL", Mask.causalTopLeft());
        m.put("causal BR", Mask.causalBottomRight());
        m.put("causal fixed 5", Mask.causal(Alignment.fixed(5)));
        m.put("causal fixed -3", Mask.causal(Alignment.fixed(-3)));
        m.put("causal per batch", Mask.causal(Alignment.perBatch(-20, 10)));
        m.put("window 4,2", Mask.slidingWindow(4, 2, Alignment.topLeft()));
        m.put("window 0,0 BR", Mask.slidingWindow(0, 0, Alignment.bottomRight()));
        m.put("window 8,unbounded", Mask.slidingWindow(8, Integer.MAX_VALUE, Alignment.fixed(3)));
        m.put("key lengths", Mask.keyLengths(37, 11));
        m.put("key lengths 0", Mask.keyLengths(0, 5));
        m.put("bool [Sq,Sk]", Mask.bool(randomBool(rnd, 0.3, sq, sk)));
        m.put("bool [B,1,Sq,Sk]", Mask.bool(randomBool(rnd, 0.5, b, 1, sq, sk)));
        m.put("bool [1,H,1,Sk]", Mask.bool(randomBool(rnd, 0.3, 1, h, 1, sk)));
        m.put("bool [Sk]", Mask.bool(randomBool(rnd, 0.3, sk)));
        m.put("bool rows all false", Mask.bool(rowsFalse(b, h, sq, sk)));
        m.put("additive [Sq,Sk] with -inf", Mask.additive(randomAdditive(rnd, 0.2, sq, sk)));
        m.put("additive [B,H,Sq,Sk]", Mask.additive(randomAdditive(rnd, 0.0, b, h, sq, sk)));
        m.put("additive [B,1,1,Sk]", Mask.additive(randomAdditive(rnd, 0.1, b, 1, 1, sk)));
        m.put("causal + key lengths + bool", Mask.all(Mask.causalBottomRight(), Mask.keyLengths(30, 37),
                Mask.bool(randomBool(rnd, 0.3, sq, sk))));
        m.put("window + additive", Mask.slidingWindow(6, 6, Alignment.topLeft()).and(Mask.additive(randomAdditive(rnd, 0.1, sq, sk))));
        m.put("causal per batch + bool + additive", Mask.all(Mask.causal(Alignment.perBatch(-5, 20)),
                Mask.bool(randomBool(rnd, 0.2, b, 1, sq, sk)), Mask.additive(randomAdditive(rnd, 0.0, 1, h, sq, sk))));
        return m;
    }

    @Test
    void everyMaskKind() {
        AttentionProblem p = AttentionProblem.of(2, 4, 2, 19, 37, 24);
        long seed = 301;
        for (Map.Entry<String, Mask> e : masks(7).entrySet()) {
            check(e.getKey(), p, e.getValue(), seed++);
        }
    }

    @Test
    void fullyMaskedRowsGiveZeros() {
        AttentionProblem p = AttentionProblem.of(2, 3, 1, 9, 17, 16);
        Mask mask = Mask.all(Mask.causal(Alignment.perBatch(-4, 2)), Mask.keyLengths(17, 0));
        float[][] qkv = Fixtures.qkv(p, 401, 1f);
        Tensor out = Tensor.zeros(p.outShape());
        Fixtures.poison(out);
        Tensor lse = Tensor.zeros(p.batch(), p.heads(), p.seqQ());
        kernels().attention(p, Tensor.of(qkv[0], p.qShape()), Tensor.of(qkv[1], p.kShape()), Tensor.of(qkv[2], p.vShape()),
                mask, out, lse);
        for (int h = 0; h < p.heads(); h++) {
            for (int i = 0; i < p.seqQ(); i++) {
                boolean masked = i < 4; // batch 0: query i sees keys j <= i - 4
                for (int d = 0; d < p.valueDim(); d++) {
                    if (masked) {
                        assertEquals(0f, out.get(0, h, i, d), "batch 0 row " + i + " is fully masked");
                    }
                    assertEquals(0f, out.get(1, h, i, d), "batch 1 has key length 0");
                }
                if (masked) {
                    assertEquals(Float.NEGATIVE_INFINITY, lse.get(0, h, i));
                }
                assertEquals(Float.NEGATIVE_INFINITY, lse.get(1, h, i));
            }
        }
        check("fully masked", p, mask, 402);
    }

    @Test
    void everyLayout() {
        AttentionProblem p = AttentionProblem.of(2, 4, 2, 23, 41, 40).withValueDim(24);
        long seed = 501;
        for (Layout layout : Layout.values()) {
            check("layout", p, Mask.causalBottomRight(), seed, 1f, layout, tolerance());
            check("layout masked", p, Mask.bool(randomBool(new SplittableRandom(seed), 0.3, 1, 4, 23, 41)), seed + 1, 1f, layout,
                    tolerance());
        }
    }

    @Test
    void packedQkvLayout() {
        int b = 2;
        int s = 29;
        int h = 3;
        int d = 24;
        AttentionProblem p = AttentionProblem.of(b, h, h, s, s, d);
        float[] packed = Fixtures.random(new SplittableRandom(601), b * s * 3 * h * d, -1f, 1f);
        Tensor[] qkv = Tensor.packedQkv(packed, b, s, h, d);
        Tensor want = Tensor.zeros(p.outShape());
        ORACLE.attention(p, qkv[0], qkv[1], qkv[2], Mask.causalTopLeft(), want);
        Tensor got = Tensor.bshd(new float[b * s * h * d], b, s, h, d);
        kernels().attention(p, qkv[0], qkv[1], qkv[2], Mask.causalTopLeft(), got);
        assertClose(kernels().backendName() + " packed QKV", want, got, tolerance(), 601);
    }

    @Test
    void gqaRatios() {
        long seed = 701;
        for (int kvHeads : new int[] {1, 2, 4, 8}) {
            check("gqa", AttentionProblem.of(2, 8, kvHeads, 33, 47, 64), Mask.causalBottomRight(), seed++);
        }
    }

    @Test
    void softcapAndScale() {
        long seed = 801;
        AttentionProblem p = AttentionProblem.of(2, 4, 2, 19, 37, 24);
        check("softcap", p.withSoftcap(2f), Mask.none(), seed++, 3f, Layout.BHSD, tolerance());
        check("softcap masked", p.withSoftcap(0.5f), masks(3).get("additive [Sq,Sk] with -inf"), seed++, 3f, Layout.BHSD,
                tolerance());
        check("scale", p.withScale(0.01f), Mask.causalTopLeft(), seed++, 1f, Layout.BHSD, tolerance());
        check("scale and softcap", p.withScale(0.7f).withSoftcap(3f), Mask.causalTopLeft(), seed, 1f, Layout.BHSD, tolerance());
    }

    @Test
    void extremeLogits() {
        // Scores reach about ±1e4. A float32 logit then carries an absolute rounding error of about 1e-3,
        // which moves a probability by that much relative: 1e-4 is the honest bound for such rows.
        double tol = Math.max(tolerance(), 1e-4);
        AttentionProblem p = AttentionProblem.of(1, 2, 1, 17, 65, 64);
        check("±1e4 logits", p, Mask.none(), 901, 1500f, Layout.BHSD, tol);
        check("±1e4 logits causal", p, Mask.causalBottomRight(), 902, 1500f, Layout.BHSD, tol);
        check("±1e4 logits -inf mask", p, Mask.additive(randomAdditive(new SplittableRandom(903), 0.4, 17, 65)), 904, 1500f,
                Layout.BHSD, tol);
    }

    @Test
    void scoresAtEveryStage() {
        AttentionProblem p = AttentionProblem.of(2, 4, 2, 19, 37, 24).withSoftcap(1.5f);
        long seed = 1001;
        List<Mask> list = new ArrayList<>(masks(5).values());
        for (ScoreStage stage : ScoreStage.values()) {
            for (Mask mask : list) {
                float[][] qkv = Fixtures.qkv(p, seed, 2f);
                Tensor q = Tensor.of(qkv[0], p.qShape());
                Tensor k = Tensor.of(qkv[1], p.kShape());
                Tensor want = Tensor.zeros(p.scoreShape());
                ORACLE.scores(p, q, k, mask, stage, want);
                Tensor got = Tensor.zeros(p.scoreShape());
                Fixtures.poison(got);
                kernels().scores(p, Tensor.bshd(transpose12(qkv[0], p.qShape()), 2, 19, 4, 24), k, mask, stage, got);
                assertClose(kernels().backendName() + " scores " + stage + " mask=" + mask, want, got, tolerance(), seed);
                seed++;
            }
        }
    }

    @Test
    void maskedSoftmaxInPlace() {
        AttentionProblem p = AttentionProblem.of(2, 4, 2, 19, 37, 24).withScale(0.37f);
        long seed = 1101;
        for (AttentionProblem variant : new AttentionProblem[] {p, p.withSoftcap(2f)}) {
            for (Mask mask : masks(9).values()) {
                float[] raw = Fixtures.random(new SplittableRandom(seed), (int) Tensor.count(p.scoreShape()), -20f, 20f);
                Tensor want = Tensor.of(raw.clone(), p.scoreShape());
                ORACLE.maskedSoftmax(variant, mask, want);
                Tensor got = Tensor.of(raw.clone(), p.scoreShape());
                kernels().maskedSoftmax(variant, mask, got);
                assertClose(kernels().backendName() + " maskedSoftmax " + variant + " mask=" + mask, want, got, tolerance(), seed);
                seed++;
            }
        }
        AttentionProblem longRow = AttentionProblem.of(1, 1, 1, 3, 4096, 1);
        float[] raw = Fixtures.random(new SplittableRandom(seed), 3 * 4096, -30f, 30f);
        Tensor want = Tensor.of(raw.clone(), longRow.scoreShape());
        ORACLE.maskedSoftmax(longRow, Mask.causalBottomRight(), want);
        Tensor got = Tensor.of(raw.clone(), longRow.scoreShape());
        kernels().maskedSoftmax(longRow, Mask.causalBottomRight(), got);
        assertClose(kernels().backendName() + " maskedSoftmax long row", want, got, tolerance(), seed);
    }

    // ------------------------------------------------------------------ helpers

    /** Random booleans (true = attend) with P(false) = {@code pFalse}. */
    protected static Tensor randomBool(SplittableRandom rnd, double pFalse, int... shape) {
        byte[] bytes = new byte[(int) Tensor.count(shape)];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (rnd.nextDouble() < pFalse ? 0 : 1);
        }
        return Tensor.ofBooleans(bytes, shape);
    }

    /** Random additive values in [-3, 3) with P(−∞) = {@code pInf}. */
    protected static Tensor randomAdditive(SplittableRandom rnd, double pInf, int... shape) {
        float[] values = new float[(int) Tensor.count(shape)];
        for (int i = 0; i < values.length; i++) {
            values[i] = rnd.nextDouble() < pInf ? Float.NEGATIVE_INFINITY : (float) (rnd.nextDouble() * 6 - 3);
        }
        return Tensor.of(values, shape);
    }

    /** A [B,H,Sq,Sk] boolean mask whose even query rows are all false. */
    private static Tensor rowsFalse(int b, int h, int sq, int sk) {
        byte[] bytes = new byte[b * h * sq * sk];
        for (int n = 0; n < bytes.length; n++) {
            int i = (n / sk) % sq;
            bytes[n] = (byte) (i % 2 == 0 ? 0 : 1);
        }
        return Tensor.ofBooleans(bytes, b, h, sq, sk);
    }

    /** Reorders [B,H,S,D] values into [B,S,H,D] memory. */
    private static float[] transpose12(float[] bhsd, int[] shape) {
        int b = shape[0];
        int h = shape[1];
        int s = shape[2];
        int d = shape[3];
        float[] out = new float[bhsd.length];
        for (int i0 = 0; i0 < b; i0++) {
            for (int i1 = 0; i1 < h; i1++) {
                for (int i2 = 0; i2 < s; i2++) {
                    System.arraycopy(bhsd, ((i0 * h + i1) * s + i2) * d, out, ((i0 * s + i2) * h + i1) * d, d);
                }
            }
        }
        return out;
    }
}
