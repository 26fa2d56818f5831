package dev.attn4j.reference;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Kernels;
import dev.attn4j.api.LocalP;
import dev.attn4j.api.Mask;
import dev.attn4j.api.MaskEvaluator;
import dev.attn4j.api.ScoreFunction;
import dev.attn4j.api.ScoreStage;
import dev.attn4j.api.Tensor;
import dev.attn4j.spi.ClassicKernels;
import java.util.Arrays;

/**
 * The literature family in float64: plain loops, one query head at a time, rounding once on store.
 * The default of every backend that does not implement the family itself, and the oracle of its
 * parity tests. Stateless and thread-safe.
 *
 * <pre>
 *   raw(i, j) = q'_i · k'_j                             dot: q' = q, k' = k
 *                                                       general: q' = q·W[h], k' = k
 *                                                       cosine: q' = q/max(‖q‖, eps), k' = k/max(‖k‖, eps)
 *   raw(i, j) = Σ_a v[h,a]·tanh(P_q[i,a] + P_k[j,a])    additive: P_q = q·W₁[h]ᵀ, P_k = k·W₂[h]ᵀ
 *   s(i, j)   = mask(softcap(scale · raw(i, j)))
 * </pre>
 */
public final class ReferenceClassic implements ClassicKernels {
    /** The only instance. */
    public static final ReferenceClassic INSTANCE = new ReferenceClassic();

    private ReferenceClassic() {
    }

    @Override
    public void scores(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Mask mask, ScoreStage stage, Tensor scores) {
        MaskEvaluator m = MaskEvaluator.of(p, mask);
        for (int b = 0; b < p.batch(); b++) {
            for (int h = 0; h < p.heads(); h++) {
                double[][] rows = logits(p, f, q, k, m, b, h, stage);
                for (int i = 0; i < p.seqQ(); i++) {
                    if (stage == ScoreStage.SOFTMAX) {
                        ReferenceAttention.softmaxInPlace(rows[i]);
                    }
                    for (int j = 0; j < p.seqK(); j++) {
                        scores.setFloat(scores.indexOf(b, h, i, j), (float) rows[i][j]);
                    }
                }
            }
        }
    }

    @Override
    public void attention(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Tensor v, Mask mask, Tensor out,
                          Tensor lse) {
        MaskEvaluator m = MaskEvaluator.of(p, mask);
        double[] acc = new double[p.valueDim()];
        for (int b = 0; b < p.batch(); b++) {
            for (int h = 0; h < p.heads(); h++) {
                double[][] rows = logits(p, f, q, k, m, b, h, ScoreStage.MASKED);
                for (int i = 0; i < p.seqQ(); i++) {
                    double logSumExp = ReferenceAttention.softmaxInPlace(rows[i]);
                    weightedSum(p, v, b, h, rows[i], acc);
                    store(out, b, h, i, acc);
                    if (lse != null) {
                        lse.setFloat(lse.indexOf(b, h, i), (float) logSumExp);
                    }
                }
            }
        }
    }

    /** Selects by repeated scans: the first strictly greater score wins, so ties go to the lower key. */
    @Override
    public void topK(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Tensor v, Mask mask, int topK, Tensor out,
                     int[] indices) {
        MaskEvaluator m = MaskEvaluator.of(p, mask);
        double[] acc = new double[p.valueDim()];
        double[] weights = new double[p.seqK()];
        boolean[] taken = new boolean[p.seqK()];
        int[] chosen = new int[topK];
        for (int b = 0; b < p.batch(); b++) {
            for (int h = 0; h < p.heads(); h++) {
                double[][] rows = logits(p, f, q, k, m, b, h, ScoreStage.MASKED);
                for (int i = 0; i < p.seqQ(); i++) {
                    double[] s = rows[i];
                    Arrays.fill(taken, false);
                    int n = 0;
                    for (; n < topK; n++) {
                        int best = -1;
                        for (int j = 0; j < s.length; j++) {
                            if (!taken[j] && s[j] != Double.NEGATIVE_INFINITY && (best < 0 || s[j] > s[best])) {
                                best = j;
                            }
                        }
                        if (best < 0) {
                            break;
                        }
                        taken[best] = true;
                        chosen[n] = best;
                    }
                    // w_j = exp(s_j − s_max) / Σ_selected exp(s − s_max); chosen[0] holds s_max
                    Arrays.fill(weights, 0.0);
                    double sum = 0.0;
                    for (int t = 0; t < n; t++) {
                        weights[chosen[t]] = Math.exp(s[chosen[t]] - s[chosen[0]]);
                        sum += weights[chosen[t]];
                    }
                    for (int t = 0; t < n; t++) {
                        weights[chosen[t]] /= sum;
                    }
                    weightedSum(p, v, b, h, weights, acc);
                    store(out, b, h, i, acc);
                    if (indices != null) {
                        int base = ((b * p.heads() + h) * p.seqQ() + i) * topK;
                        for (int t = 0; t < topK; t++) {
                            indices[base + t] = t < n ? chosen[t] : -1;
                        }
                    }
                }
            }
        }
    }

    /** Inverse CDF: the first key whose cumulative weight exceeds u·Σp (keys of weight 0 are never drawn). */
    @Override
    public void sample(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Tensor v, Mask mask, long seed, Tensor out,
                       int[] indices) {
        MaskEvaluator m = MaskEvaluator.of(p, mask);
        double[] acc = new double[p.valueDim()];
        for (int b = 0; b < p.batch(); b++) {
            for (int h = 0; h < p.heads(); h++) {
                int kvh = p.kvHead(h);
                double[][] rows = logits(p, f, q, k, m, b, h, ScoreStage.MASKED);
                for (int i = 0; i < p.seqQ(); i++) {
                    double[] w = rows[i];
                    ReferenceAttention.softmaxInPlace(w);
                    long row = ((long) b * p.heads() + h) * p.seqQ() + i;
                    int key = inverseCdf(w, Kernels.sampleUniform(seed, row));
                    Arrays.fill(acc, 0.0);
                    if (key >= 0) {
                        for (int d = 0; d < acc.length; d++) {
                            acc[d] = v.getFloat(v.indexOf(b, kvh, key, d));
                        }
                    }
                    store(out, b, h, i, acc);
                    if (indices != null) {
                        indices[(int) row] = key;
                    }
                }
            }
        }
    }

    /** The first j with Σ_{j' ≤ j} w[j'] &gt; u·Σw, or −1 when every weight is 0. */
    static int inverseCdf(double[] w, double u) {
        double total = 0.0;
        int last = -1;
        for (int j = 0; j < w.length; j++) {
            total += w[j];
            if (w[j] > 0.0) {
                last = j;
            }
        }
        if (last < 0) {
            return -1;
        }
        double target = u * total;
        double c = 0.0;
        for (int j = 0; j < w.length; j++) {
            c += w[j];
            if (w[j] > 0.0 && c > target) {
                return j;
            }
        }
        return last;
    }

    @Override
    public void localP(AttentionProblem p, ScoreFunction f, LocalP local, Tensor q, Tensor k, Tensor v, Mask mask,
                       Tensor out, Tensor centres) {
        MaskEvaluator m = MaskEvaluator.of(p, mask);
        int hidden = local.hidden();
        Tensor wp = local.wp().broadcastTo(p.heads(), hidden, p.headDim());
        Tensor vp = local.vp().broadcastTo(p.heads(), hidden);
        double halfWidth = local.halfWidth();
        double sigma = local.sigma();
        double[] acc = new double[p.valueDim()];
        for (int b = 0; b < p.batch(); b++) {
            for (int h = 0; h < p.heads(); h++) {
                double[][] rows = logits(p, f, q, k, m, b, h, ScoreStage.MASKED);
                for (int i = 0; i < p.seqQ(); i++) {
                    // p_t = S · sigmoid(v_pᵀ · tanh(W_p · h_t))
                    double z = 0.0;
                    for (int a = 0; a < hidden; a++) {
                        double x = 0.0;
                        for (int d = 0; d < p.headDim(); d++) {
                            x += (double) wp.getFloat(wp.indexOf(h, a, d)) * q.getFloat(q.indexOf(b, h, i, d));
                        }
                        z += vp.getFloat(vp.indexOf(h, a)) * Math.tanh(x);
                    }
                    double pt = p.seqK() / (1.0 + Math.exp(-z));
                    double[] s = rows[i];
                    for (int j = 0; j < s.length; j++) {
                        if (j < pt - halfWidth || j > pt + halfWidth) {
                            s[j] = Double.NEGATIVE_INFINITY;
                        }
                    }
                    ReferenceAttention.softmaxInPlace(s);
                    for (int j = 0; j < s.length; j++) {
                        if (s[j] != 0.0) {
                            s[j] *= Math.exp(-(j - pt) * (j - pt) / (2 * sigma * sigma));
                        }
                    }
                    weightedSum(p, v, b, h, s, acc);
                    store(out, b, h, i, acc);
                    if (centres != null) {
                        centres.setFloat(centres.indexOf(b, h, i), (float) pt);
                    }
                }
            }
        }
    }

    /** PE(pos, 2i) = sin(pos·10000^(−2i/E)), PE(pos, 2i+1) = cos(pos·10000^(−2i/E)) (Vaswani et al. 2017, §3.5). */
    public static double sinusoid(long pos, int e, int dim) {
        double omega = Math.exp(-Math.log(10000.0) * (e - (e & 1)) / dim);
        return (e & 1) == 0 ? Math.sin(pos * omega) : Math.cos(pos * omega);
    }

    @Override
    public void addSinusoidal(Tensor x, int offset, Tensor y) {
        int batch = x.dim(0);
        int seq = x.dim(1);
        int dim = x.dim(2);
        for (int b = 0; b < batch; b++) {
            for (int s = 0; s < seq; s++) {
                for (int e = 0; e < dim; e++) {
                    double r = x.getFloat(x.indexOf(b, s, e)) + sinusoid((long) offset + s, e, dim);
                    y.setFloat(y.indexOf(b, s, e), (float) r);
                }
            }
        }
    }

    /** y = a + b, b broadcast. */
    @Override
    public void add(Tensor a, Tensor b, Tensor y) {
        int[] shape = a.shape();
        Tensor bb = b.broadcastTo(shape);
        int[] idx = new int[shape.length];
        long n = a.elementCount();
        for (long t = 0; t < n; t++) {
            double r = (double) a.getFloat(a.indexOf(idx)) + bb.getFloat(bb.indexOf(idx));
            y.setFloat(y.indexOf(idx), (float) r);
            Tensor.increment(idx, shape);
        }
    }

    /** y[m,n] = Σ_k x[m,k]·w[n,k] + bias[n] + residual[m,n]. */
    @Override
    public void linearResidual(Tensor x, Tensor w, Tensor bias, Tensor residual, Tensor y) {
        int rows = x.dim(0);
        int kDim = x.dim(1);
        int n = w.dim(0);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < n; c++) {
                double acc = bias == null ? 0.0 : bias.getFloat(bias.indexOf(c));
                for (int e = 0; e < kDim; e++) {
                    acc += (double) x.getFloat(x.indexOf(r, e)) * w.getFloat(w.indexOf(c, e));
                }
                acc += residual.getFloat(residual.indexOf(r, c));
                y.setFloat(y.indexOf(r, c), (float) acc);
            }
        }
    }

    // ------------------------------------------------------------------ scores

    /**
     * The score rows {@code [Sq][Sk]} of query head {@code h} of batch {@code b}, carried up to
     * {@code stage} ({@link ScoreStage#SOFTMAX} stops at the masked logits, like {@code MASKED}).
     */
    static double[][] logits(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, MaskEvaluator m, int b, int h,
                             ScoreStage stage) {
        int sq = p.seqQ();
        int sk = p.seqK();
        int kvh = p.kvHead(h);
        double[][] rows = new double[sq][sk];
        if (f instanceof ScoreFunction.Additive add) {
            int hidden = add.hidden();
            Tensor w1 = add.w1().broadcastTo(p.heads(), hidden, p.headDim());
            Tensor w2 = add.w2().broadcastTo(p.heads(), hidden, p.headDim());
            Tensor va = add.v().broadcastTo(p.heads(), hidden);
            double[][] pq = project(q, b, h, sq, p.headDim(), w1, h, hidden);
            double[][] pk = project(k, b, kvh, sk, p.headDim(), w2, h, hidden);
            double[] vv = new double[hidden];
            for (int a = 0; a < hidden; a++) {
                vv[a] = va.getFloat(va.indexOf(h, a));
            }
            for (int i = 0; i < sq; i++) {
                for (int j = 0; j < sk; j++) {
                    double raw = 0.0;
                    for (int a = 0; a < hidden; a++) {
                        raw += vv[a] * Math.tanh(pq[i][a] + pk[j][a]);
                    }
                    rows[i][j] = transform(p, m, b, h, i, j, raw, stage);
                }
            }
            return rows;
        }
        double[][] qr = read(q, b, h, sq, p.headDim());
        double[][] kr = read(k, b, kvh, sk, p.headDim());
        switch (f) {
            case ScoreFunction.General g -> {
                Tensor w = g.w().broadcastTo(p.heads(), p.headDim(), p.headDim());
                double[][] qw = new double[sq][p.headDim()];
                for (int i = 0; i < sq; i++) {
                    for (int d = 0; d < p.headDim(); d++) {
                        double acc = 0.0;
                        for (int c = 0; c < p.headDim(); c++) {
                            acc += qr[i][c] * w.getFloat(w.indexOf(h, c, d));
                        }
                        qw[i][d] = acc;
                    }
                }
                qr = qw;
            }
            case ScoreFunction.Cosine c -> {
                normalize(qr, c.eps());
                normalize(kr, c.eps());
            }
            default -> { }
        }
        for (int i = 0; i < sq; i++) {
            for (int j = 0; j < sk; j++) {
                double raw = 0.0;
                for (int d = 0; d < p.headDim(); d++) {
                    raw += qr[i][d] * kr[j][d];
                }
                rows[i][j] = transform(p, m, b, h, i, j, raw, stage);
            }
        }
        return rows;
    }

    private static double transform(AttentionProblem p, MaskEvaluator m, int b, int h, int i, int j, double raw,
                                    ScoreStage stage) {
        double s = p.scale() * raw;
        if (stage == ScoreStage.SCALED) {
            return s;
        }
        if (p.hasSoftcap()) {
            s = p.softcap() * Math.tanh(s / p.softcap());
        }
        if (stage == ScoreStage.SOFTCAPPED) {
            return s;
        }
        return s + m.bias(b, h, i, j);
    }

    /** Rows x[b, head, 0..n, 0..dim] in double. */
    private static double[][] read(Tensor x, int b, int head, int n, int dim) {
        double[][] r = new double[n][dim];
        for (int i = 0; i < n; i++) {
            long base = x.indexOf(b, head, i, 0);
            long step = x.stride(3);
            for (int d = 0; d < dim; d++) {
                r[i][d] = x.getFloat(base + d * step);
            }
        }
        return r;
    }

    /** P[i][a] = Σ_d w[wHead, a, d]·x[b, head, i, d]. */
    private static double[][] project(Tensor x, int b, int head, int n, int dim, Tensor w, int wHead, int hidden) {
        double[][] rows = read(x, b, head, n, dim);
        double[][] r = new double[n][hidden];
        for (int a = 0; a < hidden; a++) {
            double[] wa = new double[dim];
            for (int d = 0; d < dim; d++) {
                wa[d] = w.getFloat(w.indexOf(wHead, a, d));
            }
            for (int i = 0; i < n; i++) {
                double acc = 0.0;
                for (int d = 0; d < dim; d++) {
                    acc += wa[d] * rows[i][d];
                }
                r[i][a] = acc;
            }
        }
        return r;
    }

    /** x ← x / max(‖x‖₂, eps), row by row. */
    private static void normalize(double[][] rows, float eps) {
        for (double[] row : rows) {
            double ss = 0.0;
            for (double x : row) {
                ss += x * x;
            }
            double norm = Math.max(Math.sqrt(ss), eps);
            for (int d = 0; d < row.length; d++) {
                row[d] /= norm;
            }
        }
    }

    /** acc[d] = Σ_j w[j]·v[b, kvHead(h), j, d]. */
    private static void weightedSum(AttentionProblem p, Tensor v, int b, int h, double[] w, double[] acc) {
        int kvh = p.kvHead(h);
        Arrays.fill(acc, 0.0);
        long step = v.stride(3);
        for (int j = 0; j < w.length; j++) {
            if (w[j] != 0.0) {
                long base = v.indexOf(b, kvh, j, 0);
                for (int d = 0; d < acc.length; d++) {
                    acc[d] += w[j] * v.getFloat(base + d * step);
                }
            }
        }
    }

    private static void store(Tensor out, int b, int h, int i, double[] acc) {
        for (int d = 0; d < acc.length; d++) {
            out.setFloat(out.indexOf(b, h, i, d), (float) acc[d]);
        }
    }
}
