package dev.attn4j.reference;

import static dev.attn4j.testing.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Kernels;
import dev.attn4j.api.LocalP;
import dev.attn4j.api.Mask;
import dev.attn4j.api.ScoreFunction;
import dev.attn4j.api.ScoreStage;
import dev.attn4j.api.Tensor;
import dev.attn4j.testing.Fixtures;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The literature family on the reference backend against independent, straightforward formulations:
 * each score function against the plain attention kernel on transformed inputs or a direct loop,
 * hard attention against v[argmax], sampling against the softmax it draws from, local-p against a
 * direct implementation of Luong's equations, positions against the formula.
 */
class ReferenceClassicSemanticsTest {
    private static final Kernels K = Kernels.of(new ReferenceBackend());
    private static final double TOL = 1e-5;

    private static Tensor[] qkv(AttentionProblem p, long seed) {
        float[][] a = Fixtures.qkv(p, seed, 1f);
        return new Tensor[] {Tensor.of(a[0], p.qShape()), Tensor.of(a[1], p.kShape()), Tensor.of(a[2], p.vShape())};
    }

    @Test
    void dotIsTheExistingScaledDotProduct() {
        AttentionProblem p = AttentionProblem.of(2, 4, 2, 9, 13, 16);
        Tensor[] t = qkv(p, 1);
        for (AttentionProblem variant : new AttentionProblem[] {p, p.withScale(1f), p.withSoftcap(2f)}) {
            Tensor want = Tensor.zeros(p.outShape());
            K.attention(variant, t[0], t[1], t[2], Mask.causalTopLeft(), want);
            Tensor got = Tensor.zeros(p.outShape());
            K.attention(variant, ScoreFunction.dot(), t[0], t[1], t[2], Mask.causalTopLeft(), got);
            Fixtures.assertIdentical("dot == attention " + variant, want, got);
        }
    }

    @Test
    void generalIsAttentionOnQTimesW() {
        AttentionProblem p = AttentionProblem.of(2, 4, 2, 9, 13, 8).withScale(1f);
        Tensor[] t = qkv(p, 2);
        float[] w = Fixtures.random(new SplittableRandom(3), 4 * 8 * 8, -0.5f, 0.5f);
        Tensor wt = Tensor.of(w, 4, 8, 8);
        // q'[b,h,i,d] = Σ_c q[b,h,i,c]·W[h,c,d]
        Tensor qw = Tensor.zeros(p.qShape());
        for (int b = 0; b < 2; b++) {
            for (int h = 0; h < 4; h++) {
                for (int i = 0; i < 9; i++) {
                    for (int d = 0; d < 8; d++) {
                        double acc = 0;
                        for (int c = 0; c < 8; c++) {
                            acc += (double) t[0].get(b, h, i, c) * wt.get(h, c, d);
                        }
                        qw.set((float) acc, b, h, i, d);
                    }
                }
            }
        }
        Mask mask = Mask.causalBottomRight().and(Mask.keyLengths(13, 6));
        Tensor want = Tensor.zeros(p.outShape());
        K.attention(p, qw, t[1], t[2], mask, want);
        Tensor got = Tensor.zeros(p.outShape());
        K.attention(p, ScoreFunction.general(wt), t[0], t[1], t[2], mask, got);
        assertClose("general == attention(q·W)", want, got, TOL, 2);
    }

    @Test
    void additiveMatchesADirectTripleLoop() {
        int sq = 3;
        int sk = 5;
        int d = 4;
        int a = 3;
        AttentionProblem p = AttentionProblem.of(1, 2, 1, sq, sk, d).withScale(1f);
        Tensor[] t = qkv(p, 4);
        SplittableRandom rnd = new SplittableRandom(5);
        Tensor w1 = Tensor.of(Fixtures.random(rnd, 2 * a * d, -1f, 1f), 2, a, d);
        Tensor w2 = Tensor.of(Fixtures.random(rnd, a * d, -1f, 1f), a, d);
        Tensor v = Tensor.of(Fixtures.random(rnd, a, -1f, 1f), a);
        Tensor got = Tensor.zeros(p.outShape());
        K.attention(p, ScoreFunction.additive(w1, w2, v), t[0], t[1], t[2], Mask.causalTopLeft(), got);
        for (int h = 0; h < 2; h++) {
            for (int i = 0; i < sq; i++) {
                // e_ij = vᵀ·tanh(W₁·q_i + W₂·k_j), softmax over j ≤ i, out = Σ α_ij·v_j
                double[] e = new double[sk];
                Arrays.fill(e, Double.NEGATIVE_INFINITY);
                for (int j = 0; j <= i; j++) {
                    double s = 0;
                    for (int x = 0; x < a; x++) {
                        double pre = 0;
                        for (int c = 0; c < d; c++) {
                            pre += w1.get(h, x, c) * t[0].get(0, h, i, c) + w2.get(x, c) * t[1].get(0, 0, j, c);
                        }
                        s += v.get(x) * Math.tanh(pre);
                    }
                    e[j] = s;
                }
                double max = Arrays.stream(e).max().orElseThrow();
                double z = 0;
                for (int j = 0; j <= i; j++) {
                    z += Math.exp(e[j] - max);
                }
                for (int c = 0; c < d; c++) {
                    double o = 0;
                    for (int j = 0; j <= i; j++) {
                        o += Math.exp(e[j] - max) / z * t[2].get(0, 0, j, c);
                    }
                    assertEquals(o, got.get(0, h, i, c), TOL, "additive out[" + h + "," + i + "," + c + "]");
                }
            }
        }
    }

    @Test
    void cosineIsAttentionOnNormalizedRows() {
        AttentionProblem p = AttentionProblem.of(2, 2, 1, 7, 11, 6).withScale(3f);
        Tensor[] t = qkv(p, 6);
        // one zero query row: its cosine scores are 0 against every key (eps keeps it finite)
        for (int d = 0; d < 6; d++) {
            t[0].set(0f, 1, 1, 3, d);
        }
        Tensor qn = normalized(t[0]);
        Tensor kn = normalized(t[1]);
        Tensor want = Tensor.zeros(p.outShape());
        K.attention(p, qn, kn, t[2], Mask.none(), want);
        Tensor got = Tensor.zeros(p.outShape());
        K.attention(p, ScoreFunction.cosine(), t[0], t[1], t[2], Mask.none(), got);
        assertClose("cosine == attention(normalized rows)", want, got, TOL, 6);
        Tensor scores = Tensor.zeros(p.scoreShape());
        K.scores(p.withScale(1f), ScoreFunction.cosine(), t[0], t[1], Mask.none(), ScoreStage.SCALED, scores);
        for (float s : scores.toFloatArray()) {
            assertTrue(s >= -1.0000001f && s <= 1.0000001f, "a cosine lies in [-1, 1] but is " + s);
        }
        assertEquals(0f, scores.get(1, 1, 3, 4), "a zero row scores 0");
    }

    private static Tensor normalized(Tensor x) {
        int[] s = x.shape();
        Tensor y = Tensor.zeros(s);
        for (int b = 0; b < s[0]; b++) {
            for (int h = 0; h < s[1]; h++) {
                for (int i = 0; i < s[2]; i++) {
                    double ss = 0;
                    for (int d = 0; d < s[3]; d++) {
                        ss += (double) x.get(b, h, i, d) * x.get(b, h, i, d);
                    }
                    double n = Math.max(Math.sqrt(ss), ScoreFunction.Cosine.DEFAULT_EPS);
                    for (int d = 0; d < s[3]; d++) {
                        y.set((float) (x.get(b, h, i, d) / n), b, h, i, d);
                    }
                }
            }
        }
        return y;
    }

    @Test
    void argmaxIsVAtTheBestKeyAndTiesGoToTheLowerKey() {
        AttentionProblem p = AttentionProblem.of(2, 2, 2, 8, 12, 4);
        Tensor[] t = qkv(p, 7);
        Mask mask = Mask.causalTopLeft();
        Tensor scores = Tensor.zeros(p.scoreShape());
        K.scores(p, ScoreFunction.dot(), t[0], t[1], mask, ScoreStage.MASKED, scores);
        Tensor out = Tensor.zeros(p.outShape());
        int[] idx = new int[2 * 2 * 8];
        K.argmaxAttention(p, ScoreFunction.dot(), t[0], t[1], t[2], mask, out, idx);
        for (int b = 0; b < 2; b++) {
            for (int h = 0; h < 2; h++) {
                for (int i = 0; i < 8; i++) {
                    int best = 0;
                    for (int j = 1; j < 12; j++) {
                        if (scores.get(b, h, i, j) > scores.get(b, h, i, best)) {
                            best = j;
                        }
                    }
                    assertEquals(best, idx[(b * 2 + h) * 8 + i]);
                    for (int d = 0; d < 4; d++) {
                        assertEquals(t[2].get(b, h, best, d), out.get(b, h, i, d));
                    }
                }
            }
        }
        // equal keys: every score ties, the lowest visible key wins, and top-3 is keys 0, 1, 2 with weight 1/3 each
        AttentionProblem tie = AttentionProblem.of(1, 1, 1, 2, 5, 2);
        float[] kk = new float[10];
        Arrays.fill(kk, 0.5f);
        float[] vv = {0, 0, 1, 1, 2, 2, 3, 3, 4, 4};
        Tensor o = Tensor.zeros(tie.outShape());
        int[] ti = new int[2 * 3];
        K.topKAttention(tie, ScoreFunction.dot(), Tensor.of(new float[] {1, 2, 3, 4}, tie.qShape()), Tensor.of(kk, tie.kShape()),
                Tensor.of(vv, tie.vShape()), Mask.keyLengths(5).and(Mask.slidingWindow(0, 4, dev.attn4j.api.Alignment.fixed(1))),
                3, o, ti);
        assertArrayEquals(new int[] {1, 2, 3, 2, 3, 4}, ti);
        assertEquals(2f, o.get(0, 0, 0, 0), 1e-6);
        assertEquals(3f, o.get(0, 0, 1, 1), 1e-6);
    }

    @Test
    void topKWeightsAreTheSoftmaxRenormalizedOverTheSelection() {
        AttentionProblem p = AttentionProblem.of(1, 1, 1, 4, 9, 3);
        Tensor[] t = qkv(p, 8);
        Mask mask = Mask.keyLengths(7);
        Tensor scores = Tensor.zeros(p.scoreShape());
        K.scores(p, ScoreFunction.dot(), t[0], t[1], mask, ScoreStage.MASKED, scores);
        Tensor out = Tensor.zeros(p.outShape());
        int[] idx = new int[4 * 9];
        K.topKAttention(p, ScoreFunction.dot(), t[0], t[1], t[2], mask, 9, out, idx);
        Tensor full = Tensor.zeros(p.outShape());
        K.attention(p, t[0], t[1], t[2], mask, full);
        assertClose("top-k with k ≥ visible keys == softmax attention", full, out, TOL, 8);
        for (int i = 0; i < 4; i++) {
            assertEquals(-1, idx[i * 9 + 7], "keys past the key length are never selected");
            for (int t2 = 1; t2 < 7; t2++) {
                assertTrue(scores.get(0, 0, i, idx[i * 9 + t2 - 1]) >= scores.get(0, 0, i, idx[i * 9 + t2]), "decreasing scores");
            }
        }
        int[] top2 = new int[4 * 2];
        K.topKAttention(p, ScoreFunction.dot(), t[0], t[1], t[2], mask, 2, out, top2);
        for (int i = 0; i < 4; i++) {
            int a = top2[2 * i];
            int b = top2[2 * i + 1];
            double ea = 1.0;
            double eb = Math.exp(scores.get(0, 0, i, b) - scores.get(0, 0, i, a));
            for (int d = 0; d < 3; d++) {
                double want = (ea * t[2].get(0, 0, a, d) + eb * t[2].get(0, 0, b, d)) / (ea + eb);
                assertEquals(want, out.get(0, 0, i, d), TOL);
            }
        }
    }

    @Test
    void samplingIsReproducibleAndFollowsTheSoftmax() {
        // 20000 identical rows over 6 keys: each row draws with its own uniform from the same distribution
        int rows = 20000;
        AttentionProblem p = AttentionProblem.of(1, 1, 1, rows, 6, 2).withScale(1f);
        float[] q = new float[rows * 2];
        for (int i = 0; i < rows; i++) {
            q[2 * i] = 1f;
            q[2 * i + 1] = -0.5f;
        }
        float[] k = {0.1f, 0.2f, 1.5f, -1f, 0f, 0f, -0.3f, 0.4f, 2f, 1f, 0.7f, 0.7f};
        float[] v = new float[12];
        for (int j = 0; j < 6; j++) {
            v[2 * j] = j;
            v[2 * j + 1] = -j;
        }
        Tensor qt = Tensor.of(q, p.qShape());
        Tensor kt = Tensor.of(k, p.kShape());
        Tensor vt = Tensor.of(v, p.vShape());
        Mask mask = Mask.bool(Tensor.ofBooleans(new boolean[] {true, true, true, true, true, false}, 6));
        int[] idx = new int[rows];
        Tensor out = Tensor.zeros(p.outShape());
        K.sampledAttention(p, ScoreFunction.dot(), qt, kt, vt, mask, 42L, out, idx);
        int[] again = new int[rows];
        K.sampledAttention(p, ScoreFunction.dot(), qt, kt, vt, mask, 42L, Tensor.zeros(p.outShape()), again);
        assertArrayEquals(idx, again, "same seed, same draws");
        int[] other = new int[rows];
        K.sampledAttention(p, ScoreFunction.dot(), qt, kt, vt, mask, 43L, Tensor.zeros(p.outShape()), other);
        assertFalse(Arrays.equals(idx, other), "another seed draws otherwise");
        // expected: softmax of q·k over the 5 visible keys
        double[] s = new double[5];
        double z = 0;
        for (int j = 0; j < 5; j++) {
            s[j] = Math.exp(k[2 * j] * 1.0 - 0.5 * k[2 * j + 1]);
            z += s[j];
        }
        int[] count = new int[6];
        for (int i = 0; i < rows; i++) {
            count[idx[i]]++;
            assertEquals(idx[i], out.get(0, 0, i, 0), "out = v[drawn key]");
        }
        assertEquals(0, count[5], "a masked key is never drawn");
        for (int j = 0; j < 5; j++) {
            double pj = s[j] / z;
            double freq = count[j] / (double) rows;
            double sd = Math.sqrt(pj * (1 - pj) / rows);
            assertTrue(Math.abs(freq - pj) < 5 * sd, "key " + j + ": frequency " + freq + " vs probability " + pj + " (5σ = " + 5 * sd + ")");
        }
    }

    @Test
    void localPMatchesADirectImplementation() {
        AttentionProblem p = AttentionProblem.of(1, 2, 1, 6, 23, 5).withScale(1f);
        Tensor[] t = qkv(p, 9);
        SplittableRandom rnd = new SplittableRandom(10);
        int a = 4;
        int halfWidth = 3;
        LocalP local = new LocalP(Tensor.of(Fixtures.random(rnd, a * 5, -1f, 1f), a, 5),
                Tensor.of(Fixtures.random(rnd, 2 * a, -2f, 2f), 2, a), halfWidth);
        Tensor out = Tensor.zeros(p.outShape());
        Tensor centres = Tensor.zeros(1, 2, 6);
        K.localPAttention(p, ScoreFunction.dot(), local, t[0], t[1], t[2], Mask.none(), out, centres);
        double sigma = halfWidth / 2.0;
        for (int h = 0; h < 2; h++) {
            for (int i = 0; i < 6; i++) {
                double z = 0;
                for (int x = 0; x < a; x++) {
                    double pre = 0;
                    for (int d = 0; d < 5; d++) {
                        pre += local.wp().get(x, d) * t[0].get(0, h, i, d);
                    }
                    z += local.vp().get(h, x) * Math.tanh(pre);
                }
                double pt = 23 / (1 + Math.exp(-z));
                assertEquals(pt, centres.get(0, h, i), 1e-5 * 23);
                int lo = (int) Math.max(0, Math.ceil(pt - halfWidth));
                int hi = (int) Math.min(22, Math.floor(pt + halfWidth));
                double[] e = new double[23];
                double max = Double.NEGATIVE_INFINITY;
                for (int s = lo; s <= hi; s++) {
                    for (int d = 0; d < 5; d++) {
                        e[s] += (double) t[0].get(0, h, i, d) * t[1].get(0, 0, s, d);
                    }
                    max = Math.max(max, e[s]);
                }
                double zz = 0;
                for (int s = lo; s <= hi; s++) {
                    zz += Math.exp(e[s] - max);
                }
                for (int d = 0; d < 5; d++) {
                    double o = 0;
                    for (int s = lo; s <= hi; s++) {
                        double align = Math.exp(e[s] - max) / zz;
                        o += align * Math.exp(-(s - pt) * (s - pt) / (2 * sigma * sigma)) * t[2].get(0, 0, s, d);
                    }
                    assertEquals(o, out.get(0, h, i, d), TOL, "local-p out[" + h + "," + i + "," + d + "] window [" + lo + ", " + hi + "]");
                }
            }
        }
    }

    @Test
    void localMIsTheSlidingWindowAndGlobalIsNoMask() {
        assertEquals(Mask.slidingWindow(3, 3, dev.attn4j.api.Alignment.topLeft()), LocalP.localM(3));
        assertEquals(Mask.none(), LocalP.global());
        AttentionProblem p = AttentionProblem.of(1, 1, 1, 9, 9, 4);
        Tensor w = Tensor.zeros(p.scoreShape());
        Tensor[] t = qkv(p, 11);
        K.scores(p, ScoreFunction.dot(), t[0], t[1], LocalP.localM(2), ScoreStage.SOFTMAX, w);
        for (int i = 0; i < 9; i++) {
            for (int j = 0; j < 9; j++) {
                assertEquals(Math.abs(i - j) <= 2, w.get(0, 0, i, j) > 0f, "local-m window of 2D+1 keys at (" + i + ", " + j + ")");
            }
        }
    }

    @Test
    void sinusoidalFollowsVaswani() {
        int e = 6;
        Tensor pe = Tensor.zeros(4, e);
        K.sinusoidal(3, pe);
        for (int s = 0; s < 4; s++) {
            for (int i = 0; i < e / 2; i++) {
                double angle = (s + 3) / Math.pow(10000, 2.0 * i / e);
                assertEquals(Math.sin(angle), pe.get(s, 2 * i), 1e-6);
                assertEquals(Math.cos(angle), pe.get(s, 2 * i + 1), 1e-6);
            }
        }
        Tensor x = Tensor.of(Fixtures.random(new SplittableRandom(12), 2 * 4 * e, -1f, 1f), 2, 4, e);
        Tensor y = Tensor.zeros(2, 4, e);
        K.addSinusoidal(x, 3, y);
        Tensor want = Tensor.zeros(2, 4, e);
        K.add(x, pe, want);
        assertClose("addSinusoidal == x + table", want, y, 1e-6, 12);
    }

    @Test
    void linearResidualIsLinearThenAdd() {
        SplittableRandom rnd = new SplittableRandom(13);
        Tensor x = Tensor.of(Fixtures.random(rnd, 5 * 7, -1f, 1f), 5, 7);
        Tensor w = Tensor.of(Fixtures.random(rnd, 3 * 7, -1f, 1f), 3, 7);
        Tensor bias = Tensor.of(Fixtures.random(rnd, 3, -1f, 1f), 3);
        Tensor res = Tensor.of(Fixtures.random(rnd, 5 * 3, -1f, 1f), 5, 3);
        Tensor lin = Tensor.zeros(5, 3);
        K.linear(x, w, bias, lin);
        Tensor want = Tensor.zeros(5, 3);
        K.add(lin, res, want);
        Tensor got = Tensor.zeros(5, 3);
        K.linearResidual(x, w, bias, res, got);
        assertClose("linearResidual == linear + add", want, got, 1e-6, 13);
    }
}
