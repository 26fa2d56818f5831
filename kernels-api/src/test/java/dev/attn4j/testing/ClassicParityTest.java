package dev.attn4j.testing;

import static dev.attn4j.testing.Fixtures.ORACLE;
import static dev.attn4j.testing.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Kernels;
import dev.attn4j.api.LocalP;
import dev.attn4j.api.Mask;
import dev.attn4j.api.ScoreFunction;
import dev.attn4j.api.ScoreStage;
import dev.attn4j.api.Tensor;
import dev.attn4j.testing.Fixtures.Layout;
import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Parity of a backend's literature family ({@code Backend.classic()}) with the float64 oracle: every
 * score function (dot, general, additive, cosine) on the fused path and at every score stage, with
 * every mask kind, layout, GQA ratio and sizes that hurt; top-k and argmax hard attention, sampled
 * hard attention, local-p, sinusoidal positions, residual add and the fused projection epilogue.
 * Every backend extends it and supplies {@link #kernels()}.
 */
public abstract class ClassicParityTest {

    /** The kernels under test. */
    protected abstract Kernels kernels();

    /** Relative tolerance against the oracle: |Δ| ≤ tol·max(1, |ref|). */
    protected double tolerance() {
        return 1e-5;
    }

    // ------------------------------------------------------------------ fixtures

    /** The four score functions with seeded weights for {@code p}; weights per head when {@code perHead}. */
    public static Map<String, ScoreFunction> scoreFunctions(AttentionProblem p, long seed, boolean perHead) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int d = p.headDim();
        int h = p.heads();
        int hidden = 11;
        float ws = (float) (1.0 / Math.sqrt(d));
        Map<String, ScoreFunction> m = new LinkedHashMap<>();
        m.put("dot", ScoreFunction.dot());
        m.put("general", ScoreFunction.general(perHead ? Tensor.of(Fixtures.random(rnd, h * d * d, -ws, ws), h, d, d)
                : Tensor.of(Fixtures.random(rnd, d * d, -ws, ws), d, d)));
        Tensor w1 = perHead ? Tensor.of(Fixtures.random(rnd, h * hidden * d, -ws, ws), h, hidden, d)
                : Tensor.of(Fixtures.random(rnd, hidden * d, -ws, ws), hidden, d);
        Tensor w2 = Tensor.of(Fixtures.random(rnd, hidden * d, -ws, ws), hidden, d);
        Tensor v = perHead ? Tensor.of(Fixtures.random(rnd, h * hidden, -1f, 1f), h, hidden)
                : Tensor.of(Fixtures.random(rnd, hidden, -1f, 1f), hidden);
        m.put("additive", ScoreFunction.additive(w1, w2, v));
        m.put("cosine", ScoreFunction.cosine());
        return m;
    }

    /** Seeded local-p weights for {@code p} with hidden size 5. */
    public static LocalP localP(AttentionProblem p, long seed, int halfWidth) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int hidden = 5;
        float ws = (float) (1.0 / Math.sqrt(p.headDim()));
        return new LocalP(Tensor.of(Fixtures.random(rnd, p.heads() * hidden * p.headDim(), -ws, ws), p.heads(), hidden,
                p.headDim()), Tensor.of(Fixtures.random(rnd, hidden, -2f, 2f), hidden), halfWidth);
    }

    private static Tensor[] inputs(AttentionProblem p, long seed, Layout layout, Arena arena) {
        float[][] qkv = Fixtures.qkv(p, seed, 1f);
        return new Tensor[] {Fixtures.place(qkv[0], p.qShape(), layout, arena), Fixtures.place(qkv[1], p.kShape(), layout, arena),
                Fixtures.place(qkv[2], p.vShape(), layout, arena)};
    }

    private String name() {
        return kernels().backendName();
    }

    // ------------------------------------------------------------------ score functions, fused path

    /** Fused attention with {@code f} in {@code layout}, output and lse compared with the oracle. */
    protected void checkAttention(String label, AttentionProblem p, ScoreFunction f, Mask mask, long seed, Layout layout,
                                  double tol) {
        try (Arena arena = Arena.ofConfined()) {
            Tensor[] ref = inputs(p, seed, Layout.BHSD, arena);
            Tensor want = Tensor.zeros(p.outShape());
            Tensor wantLse = Tensor.zeros(p.batch(), p.heads(), p.seqQ());
            ORACLE.attention(p, f, ref[0], ref[1], ref[2], mask, want, wantLse);
            Tensor[] in = inputs(p, seed, layout, arena);
            Tensor out = Fixtures.place(new float[(int) Tensor.count(p.outShape())], p.outShape(), layout, arena);
            Fixtures.poison(out);
            Tensor lse = Tensor.zeros(p.batch(), p.heads(), p.seqQ());
            Fixtures.poison(lse);
            kernels().attention(p, f, in[0], in[1], in[2], mask, out, lse);
            String what = name() + " " + label + " " + p + " mask=" + mask + " layout=" + layout;
            assertClose(what + " out", want, out, tol, seed);
            assertClose(what + " lse", wantLse, lse, tol, seed);
        }
    }

    @Test
    void scoreFunctionsSizesThatHurt() {
        long seed = 2001;
        for (int s : Fixtures.SIZES) {
            AttentionProblem p = AttentionProblem.of(1, 2, 1, s, s, 24);
            for (Map.Entry<String, ScoreFunction> e : scoreFunctions(p, seed, true).entrySet()) {
                checkAttention(e.getKey() + " square causal", p, e.getValue(), Mask.causalTopLeft(), seed++, Layout.BHSD,
                        tolerance());
            }
        }
        for (int d : Fixtures.HEAD_DIMS) {
            AttentionProblem p = AttentionProblem.of(1, 2, 2, 7, 33, d).withScale(1f);
            for (Map.Entry<String, ScoreFunction> e : scoreFunctions(p, seed, false).entrySet()) {
                checkAttention(e.getKey() + " headDim", p, e.getValue(), Mask.none(), seed++, Layout.BHSD, tolerance());
            }
        }
        AttentionProblem longRow = AttentionProblem.of(1, 2, 1, 3, 1021, 16).withValueDim(40);
        for (Map.Entry<String, ScoreFunction> e : scoreFunctions(longRow, seed, true).entrySet()) {
            checkAttention(e.getKey() + " long rows", longRow, e.getValue(), Mask.causalBottomRight(), seed++, Layout.BHSD,
                    tolerance());
        }
    }

    @Test
    void scoreFunctionsEveryMaskKind() {
        AttentionProblem p = AttentionProblem.of(2, 4, 2, 19, 37, 24);
        long seed = 2101;
        for (Map.Entry<String, ScoreFunction> f : scoreFunctions(p, 5, true).entrySet()) {
            for (Map.Entry<String, Mask> m : AttentionParityTest.masks(7).entrySet()) {
                checkAttention(f.getKey() + " " + m.getKey(), p, f.getValue(), m.getValue(), seed++, Layout.BHSD, tolerance());
            }
        }
    }

    @Test
    void scoreFunctionsEveryLayoutGqaAndSoftcap() {
        AttentionProblem p = AttentionProblem.of(2, 4, 2, 23, 41, 40).withValueDim(24);
        long seed = 2201;
        for (Map.Entry<String, ScoreFunction> f : scoreFunctions(p, 6, false).entrySet()) {
            for (Layout layout : Layout.values()) {
                checkAttention(f.getKey() + " layout", p, f.getValue(), Mask.causalBottomRight(), seed++, layout, tolerance());
            }
            for (int kvHeads : new int[] {1, 4}) {
                AttentionProblem g = AttentionProblem.of(2, 4, kvHeads, 17, 29, 40);
                checkAttention(f.getKey() + " gqa", g, scoreFunctions(g, 7, true).get(f.getKey()), Mask.causalTopLeft(), seed++,
                        Layout.BHSD, tolerance());
            }
            checkAttention(f.getKey() + " softcap", p.withScale(2f).withSoftcap(1.5f), f.getValue(), Mask.none(), seed++,
                    Layout.BHSD, tolerance());
        }
    }

    @Test
    void scoreFunctionsAtEveryStage() {
        AttentionProblem p = AttentionProblem.of(2, 4, 2, 19, 37, 24).withSoftcap(1.5f).withScale(1.3f);
        long seed = 2301;
        Mask mask = AttentionParityTest.masks(5).get("causal per batch + bool + additive");
        for (Map.Entry<String, ScoreFunction> f : scoreFunctions(p, 8, true).entrySet()) {
            for (ScoreStage stage : ScoreStage.values()) {
                float[][] qkv = Fixtures.qkv(p, seed, 2f);
                Tensor q = Tensor.of(qkv[0], p.qShape());
                Tensor k = Tensor.of(qkv[1], p.kShape());
                Tensor want = Tensor.zeros(p.scoreShape());
                ORACLE.scores(p, f.getValue(), q, k, mask, stage, want);
                Tensor got = Tensor.zeros(p.scoreShape());
                Fixtures.poison(got);
                kernels().scores(p, f.getValue(), q, k, mask, stage, got);
                assertClose(name() + " scores " + f.getKey() + " " + stage, want, got, tolerance(), seed);
                seed++;
            }
        }
    }

    // ------------------------------------------------------------------ hard attention

    @Test
    void topKMatchesTheOracle() {
        AttentionProblem p = AttentionProblem.of(2, 4, 2, 19, 37, 24);
        long seed = 2401;
        Map<String, Mask> masks = AttentionParityTest.masks(9);
        for (Map.Entry<String, ScoreFunction> f : scoreFunctions(p, 10, true).entrySet()) {
            for (int topK : new int[] {1, 2, 5, 37}) {
                for (String m : new String[] {"none", "causal per batch", "bool rows all false", "causal + key lengths + bool",
                        "additive [B,H,Sq,Sk]"}) {
                    checkTopK(f.getKey() + " top" + topK + " " + m, p, f.getValue(), masks.get(m), topK, seed++);
                }
            }
        }
        AttentionProblem big = AttentionProblem.of(1, 2, 1, 5, 1021, 64);
        checkTopK("top-17 long rows", big, ScoreFunction.dot(), Mask.causalBottomRight(), 17, seed);
    }

    /**
     * Compares top-k indices and output with the oracle. Two keys whose oracle scores are within the
     * tolerance may swap (a float32 backend can rank a near-tie either way); such a row's output is
     * then not compared.
     */
    protected void checkTopK(String label, AttentionProblem p, ScoreFunction f, Mask mask, int topK, long seed) {
        float[][] qkv = Fixtures.qkv(p, seed, 1f);
        Tensor q = Tensor.of(qkv[0], p.qShape());
        Tensor k = Tensor.of(qkv[1], p.kShape());
        Tensor v = Tensor.of(qkv[2], p.vShape());
        int rows = p.batch() * p.heads() * p.seqQ();
        Tensor want = Tensor.zeros(p.outShape());
        int[] wantIdx = new int[rows * topK];
        ORACLE.topKAttention(p, f, q, k, v, mask, topK, want, wantIdx);
        Tensor scores = Tensor.zeros(p.scoreShape());
        ORACLE.scores(p, f, q, k, mask, ScoreStage.MASKED, scores);
        Tensor got = Tensor.zeros(p.outShape());
        Fixtures.poison(got);
        int[] gotIdx = new int[rows * topK];
        kernels().topKAttention(p, f, q, k, v, mask, topK, got, gotIdx);
        String what = name() + " " + label + " " + p;
        for (int r = 0; r < rows; r++) {
            int b = r / (p.heads() * p.seqQ());
            int h = r / p.seqQ() % p.heads();
            int i = r % p.seqQ();
            boolean same = true;
            for (int t = 0; t < topK; t++) {
                int w = wantIdx[r * topK + t];
                int g = gotIdx[r * topK + t];
                if (w != g) {
                    same = false;
                    assertTrue(w >= 0 && g >= 0, what + ": row " + r + " slot " + t + " want key " + w + " got " + g + ", seed " + seed);
                    double sw = scores.get(b, h, i, w);
                    double sg = scores.get(b, h, i, g);
                    assertTrue(Math.abs(sw - sg) <= 10 * tolerance() * Math.max(1, Math.abs(sw)), what + ": row " + r + " slot " + t
                            + " want key " + w + " (score " + sw + ") got " + g + " (score " + sg + "), seed " + seed);
                }
            }
            if (same) {
                for (int d = 0; d < p.valueDim(); d++) {
                    float wv = want.get(b, h, i, d);
                    float gv = got.get(b, h, i, d);
                    assertTrue(Math.abs(wv - gv) <= tolerance() * Math.max(1, Math.abs(wv)),
                            what + ": out at row " + r + " d " + d + " want " + wv + " got " + gv + ", seed " + seed);
                }
            }
        }
    }

    @Test
    void sampledAttentionFollowsTheOracleCdf() {
        AttentionProblem p = AttentionProblem.of(2, 4, 2, 19, 37, 24).withScale(2f);
        long seed = 2501;
        Map<String, Mask> masks = AttentionParityTest.masks(11);
        for (Map.Entry<String, ScoreFunction> f : scoreFunctions(p, 12, true).entrySet()) {
            for (String m : new String[] {"none", "causal fixed -3", "bool rows all false", "window + additive"}) {
                checkSample(f.getKey() + " " + m, p, f.getValue(), masks.get(m), seed++);
            }
        }
        checkSample("long rows", AttentionProblem.of(1, 2, 2, 3, 1021, 32), ScoreFunction.dot(), Mask.causalBottomRight(), seed);
    }

    /**
     * The drawn key of each row must be the oracle's inverse CDF at the row's uniform, up to the
     * tolerance on the cumulative weights; the output is exactly {@code v} at that key, and a second
     * call draws the same keys.
     */
    protected void checkSample(String label, AttentionProblem p, ScoreFunction f, Mask mask, long seed) {
        float[][] qkv = Fixtures.qkv(p, seed, 1f);
        Tensor q = Tensor.of(qkv[0], p.qShape());
        Tensor k = Tensor.of(qkv[1], p.kShape());
        Tensor v = Tensor.of(qkv[2], p.vShape());
        int rows = p.batch() * p.heads() * p.seqQ();
        Tensor weights = Tensor.zeros(p.scoreShape());
        ORACLE.scores(p, f, q, k, mask, ScoreStage.SOFTMAX, weights);
        Tensor got = Tensor.zeros(p.outShape());
        Fixtures.poison(got);
        int[] idx = new int[rows];
        kernels().sampledAttention(p, f, q, k, v, mask, seed, got, idx);
        int[] again = new int[rows];
        kernels().sampledAttention(p, f, q, k, v, mask, seed, Tensor.zeros(p.outShape()), again);
        String what = name() + " sample " + label + " " + p;
        assertArrayEquals(idx, again, what + ": the same seed must draw the same keys");
        for (int r = 0; r < rows; r++) {
            int b = r / (p.heads() * p.seqQ());
            int h = r / p.seqQ() % p.heads();
            int i = r % p.seqQ();
            double total = 0;
            for (int j = 0; j < p.seqK(); j++) {
                total += weights.get(b, h, i, j);
            }
            int key = idx[r];
            if (total == 0) {
                assertEquals(-1, key, what + ": fully masked row " + r);
                for (int d = 0; d < p.valueDim(); d++) {
                    assertEquals(0f, got.get(b, h, i, d), what + ": fully masked row " + r);
                }
                continue;
            }
            assertTrue(key >= 0 && key < p.seqK(), what + ": row " + r + " drew " + key);
            double u = Kernels.sampleUniform(seed, r) * total;
            double before = 0;
            for (int j = 0; j < key; j++) {
                before += weights.get(b, h, i, j);
            }
            double after = before + weights.get(b, h, i, key);
            double slack = 10 * tolerance();
            assertTrue(before <= u + slack && u <= after + slack, what + ": row " + r + " drew key " + key + " whose CDF interval ["
                    + before + ", " + after + "] misses u·Σw = " + u + ", seed " + seed);
            for (int d = 0; d < p.valueDim(); d++) {
                assertEquals(v.get(b, p.kvHead(h), key, d), got.get(b, h, i, d), what + ": out must be v[" + key + "]");
            }
        }
    }

    // ------------------------------------------------------------------ local-p

    @Test
    void localPMatchesTheOracle() {
        long seed = 2601;
        AttentionProblem p = AttentionProblem.of(2, 4, 2, 19, 37, 24);
        Map<String, Mask> masks = AttentionParityTest.masks(13);
        for (Map.Entry<String, ScoreFunction> f : scoreFunctions(p, 14, true).entrySet()) {
            for (int halfWidth : new int[] {1, 4, 40}) {
                for (String m : new String[] {"none", "causal BR", "key lengths 0", "causal + key lengths + bool"}) {
                    checkLocalP(f.getKey() + " D=" + halfWidth + " " + m, p, f.getValue(), localP(p, seed, halfWidth), masks.get(m),
                            seed++);
                }
            }
        }
        AttentionProblem big = AttentionProblem.of(1, 2, 1, 33, 1021, 64);
        checkLocalP("long rows", big, ScoreFunction.dot(), localP(big, seed, 16), Mask.none(), seed);
    }

    /**
     * Compares local-p's output and centres with the oracle; a row with a key within 1e-3 of a window
     * edge (where a float32 p_t may move the key across it) is compared on its centre only.
     */
    protected void checkLocalP(String label, AttentionProblem p, ScoreFunction f, LocalP local, Mask mask, long seed) {
        float[][] qkv = Fixtures.qkv(p, seed, 1f);
        Tensor q = Tensor.of(qkv[0], p.qShape());
        Tensor k = Tensor.of(qkv[1], p.kShape());
        Tensor v = Tensor.of(qkv[2], p.vShape());
        Tensor want = Tensor.zeros(p.outShape());
        Tensor wantCentres = Tensor.zeros(p.batch(), p.heads(), p.seqQ());
        ORACLE.localPAttention(p, f, local, q, k, v, mask, want, wantCentres);
        Tensor got = Tensor.zeros(p.outShape());
        Fixtures.poison(got);
        Tensor centres = Tensor.zeros(p.batch(), p.heads(), p.seqQ());
        Fixtures.poison(centres);
        kernels().localPAttention(p, f, local, q, k, v, mask, got, centres);
        String what = name() + " local-p " + label + " " + p;
        assertClose(what + " centres", wantCentres, centres, tolerance(), seed);
        for (int b = 0; b < p.batch(); b++) {
            for (int h = 0; h < p.heads(); h++) {
                for (int i = 0; i < p.seqQ(); i++) {
                    double pt = wantCentres.get(b, h, i);
                    double lo = pt - local.halfWidth();
                    double hi = pt + local.halfWidth();
                    if (Math.abs(lo - Math.rint(lo)) < 1e-3 || Math.abs(hi - Math.rint(hi)) < 1e-3) {
                        continue;
                    }
                    for (int d = 0; d < p.valueDim(); d++) {
                        float wv = want.get(b, h, i, d);
                        float gv = got.get(b, h, i, d);
                        assertTrue(Math.abs(wv - gv) <= tolerance() * Math.max(1, Math.abs(wv)), what + ": out at [" + b + ", " + h
                                + ", " + i + ", " + d + "] want " + wv + " got " + gv + ", seed " + seed);
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------ Transformer block parts

    @Test
    void sinusoidalPositions() {
        long seed = 2701;
        for (int e : new int[] {1, 7, 64, 129}) {
            for (int offset : new int[] {0, 1000}) {
                float[] x = Fixtures.random(new SplittableRandom(seed), 2 * 33 * e, -1f, 1f);
                Tensor want = Tensor.zeros(2, 33, e);
                ORACLE.addSinusoidal(Tensor.of(x, 2, 33, e), offset, want);
                Tensor got = Tensor.of(x.clone(), 2, 33, e);
                kernels().addSinusoidal(got, offset, got);
                // float32 sin/cos of arguments up to ~1e3 carry an absolute error of a few ulp(1e3) ≈ 1e-4
                assertClose(name() + " addSinusoidal E=" + e + " offset=" + offset, want, got,
                        offset == 0 ? tolerance() : Math.max(tolerance(), 2e-4), seed);
                Tensor pe = Tensor.zeros(33, e);
                Fixtures.poison(pe);
                kernels().sinusoidal(offset, pe);
                Tensor wantPe = Tensor.zeros(33, e);
                ORACLE.sinusoidal(offset, wantPe);
                assertClose(name() + " sinusoidal table", wantPe, pe, offset == 0 ? tolerance() : Math.max(tolerance(), 2e-4), seed);
                seed++;
            }
        }
    }

    @Test
    void residualAddAndFusedEpilogue() {
        long seed = 2801;
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int n : new int[] {1, 17, 64, 129}) {
            float[] a = Fixtures.random(rnd, 5 * n, -1f, 1f);
            float[] b = Fixtures.random(rnd, 5 * n, -1f, 1f);
            float[] bias = Fixtures.random(rnd, n, -1f, 1f);
            Tensor want = Tensor.zeros(5, n);
            ORACLE.add(Tensor.of(a, 5, n), Tensor.of(b, 5, n), want);
            Tensor got = Tensor.of(a.clone(), 5, n);
            kernels().add(got, Tensor.of(b, 5, n), got);
            assertClose(name() + " add in place n=" + n, want, got, tolerance(), seed);
            ORACLE.add(Tensor.of(a, 5, n), Tensor.of(bias, n), want);
            got = Tensor.zeros(5, n);
            kernels().add(Tensor.of(a, 5, n), Tensor.of(bias, n), got);
            assertClose(name() + " add broadcast n=" + n, want, got, tolerance(), seed);
            for (int kDim : new int[] {1, 31, 64, 257}) {
                float[] x = Fixtures.random(rnd, 7 * kDim, -1f, 1f);
                float[] w = Fixtures.random(rnd, n * kDim, -1f, 1f);
                float[] res = Fixtures.random(rnd, 7 * n, -1f, 1f);
                Tensor wantY = Tensor.zeros(7, n);
                ORACLE.linearResidual(Tensor.of(x, 7, kDim), Tensor.of(w, n, kDim), Tensor.of(bias, n), Tensor.of(res, 7, n), wantY);
                Tensor y = Tensor.of(res.clone(), 7, n);
                kernels().linearResidual(Tensor.of(x, 7, kDim), Tensor.of(w, n, kDim), Tensor.of(bias, n), y, y);
                assertClose(name() + " linearResidual in place n=" + n + " k=" + kDim, wantY, y, tolerance(), seed);
                // strided x (a transposed view) and no bias
                Tensor xt = Tensor.of(transpose(x, 7, kDim), kDim, 7).permute(1, 0);
                ORACLE.linearResidual(Tensor.of(x, 7, kDim), Tensor.of(w, n, kDim), null, Tensor.of(res, 7, n), wantY);
                Tensor y2 = Tensor.zeros(7, n);
                Fixtures.poison(y2);
                kernels().linearResidual(xt, Tensor.of(w, n, kDim), null, Tensor.of(res, 7, n), y2);
                assertClose(name() + " linearResidual strided n=" + n + " k=" + kDim, wantY, y2, tolerance(), seed);
            }
        }
    }

    private static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[a.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = a[r * cols + c];
            }
        }
        return t;
    }
}
