package dev.attn4j.reference;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Mask;
import dev.attn4j.api.MaskEvaluator;
import dev.attn4j.api.ScoreStage;
import dev.attn4j.api.Tensor;
import dev.attn4j.spi.AttentionKernels;

/**
 * Attention in float64.
 *
 * <pre>
 *   s[j]   = scale · Σ_d q[b,h,i,d] · k[b,h/g,j,d]          (g = heads / kvHeads)
 *   s[j]   = softcap · tanh(s[j] / softcap)                 (when softcap &gt; 0)
 *   s[j]  += mask(b,h,i,j)                                  (0, an additive value, or −∞)
 *   p[j]   = exp(s[j] − max s) / Σ exp(s − max s)           (all zeros when max s = −∞)
 *   out[d] = Σ_j p[j] · v[b,h/g,j,d],  lse = max s + ln Σ exp(s − max s)
 * </pre>
 */
final class ReferenceAttention implements AttentionKernels {

    @Override
    public void scores(AttentionProblem p, Tensor q, Tensor k, Mask mask, ScoreStage stage, Tensor scores) {
        MaskEvaluator m = MaskEvaluator.of(p, mask);
        double[] row = new double[p.seqK()];
        for (int b = 0; b < p.batch(); b++) {
            for (int h = 0; h < p.heads(); h++) {
                for (int i = 0; i < p.seqQ(); i++) {
                    logits(p, m, q, k, b, h, i, stage, row);
                    if (stage == ScoreStage.SOFTMAX) {
                        softmaxInPlace(row);
                    }
                    for (int j = 0; j < p.seqK(); j++) {
                        scores.setFloat(scores.indexOf(b, h, i, j), (float) row[j]);
                    }
                }
            }
        }
    }

    @Override
    public void maskedSoftmax(AttentionProblem p, Mask mask, Tensor scores) {
        MaskEvaluator m = MaskEvaluator.of(p, mask);
        double[] row = new double[p.seqK()];
        for (int b = 0; b < p.batch(); b++) {
            for (int h = 0; h < p.heads(); h++) {
                for (int i = 0; i < p.seqQ(); i++) {
                    for (int j = 0; j < p.seqK(); j++) {
                        double s = p.scale() * (double) scores.getFloat(scores.indexOf(b, h, i, j));
                        row[j] = transform(p, m, b, h, i, j, s, ScoreStage.SOFTMAX);
                    }
                    softmaxInPlace(row);
                    for (int j = 0; j < p.seqK(); j++) {
                        scores.setFloat(scores.indexOf(b, h, i, j), (float) row[j]);
                    }
                }
            }
        }
    }

    @Override
    public void attention(AttentionProblem p, Tensor q, Tensor k, Tensor v, Mask mask, Tensor out, Tensor lse) {
        MaskEvaluator m = MaskEvaluator.of(p, mask);
        double[] row = new double[p.seqK()];
        double[] acc = new double[p.valueDim()];
        for (int b = 0; b < p.batch(); b++) {
            for (int h = 0; h < p.heads(); h++) {
                int kvh = p.kvHead(h);
                for (int i = 0; i < p.seqQ(); i++) {
                    logits(p, m, q, k, b, h, i, ScoreStage.SOFTMAX, row);
                    double logSumExp = softmaxInPlace(row);
                    java.util.Arrays.fill(acc, 0.0);
                    for (int j = 0; j < p.seqK(); j++) {
                        double w = row[j];
                        if (w != 0.0) {
                            long base = v.indexOf(b, kvh, j, 0);
                            long step = v.stride(3);
                            for (int d = 0; d < acc.length; d++) {
                                acc[d] += w * v.getFloat(base + d * step);
                            }
                        }
                    }
                    for (int d = 0; d < acc.length; d++) {
                        out.setFloat(out.indexOf(b, h, i, d), (float) acc[d]);
                    }
                    if (lse != null) {
                        lse.setFloat(lse.indexOf(b, h, i), (float) logSumExp);
                    }
                }
            }
        }
    }

    /** Fills {@code row} with the scores of query (b, h, i) carried up to {@code stage} (SOFTMAX = masked logits). */
    private static void logits(AttentionProblem p, MaskEvaluator m, Tensor q, Tensor k, int b, int h, int i,
                               ScoreStage stage, double[] row) {
        int kvh = p.kvHead(h);
        int dim = p.headDim();
        double[] qRow = new double[dim];
        long qBase = q.indexOf(b, h, i, 0);
        for (int d = 0; d < dim; d++) {
            qRow[d] = q.getFloat(qBase + d * q.stride(3));
        }
        for (int j = 0; j < p.seqK(); j++) {
            long kBase = k.indexOf(b, kvh, j, 0);
            double dot = 0.0;
            for (int d = 0; d < dim; d++) {
                dot += qRow[d] * k.getFloat(kBase + d * k.stride(3));
            }
            row[j] = transform(p, m, b, h, i, j, p.scale() * dot, stage);
        }
    }

    /** Softcap then mask, as far as {@code stage} asks, of an already scaled score. */
    private static double transform(AttentionProblem p, MaskEvaluator m, int b, int h, int i, int j, double scaled,
                                    ScoreStage stage) {
        if (stage == ScoreStage.SCALED) {
            return scaled;
        }
        double s = p.hasSoftcap() ? p.softcap() * Math.tanh(scaled / p.softcap()) : scaled;
        if (stage == ScoreStage.SOFTCAPPED) {
            return s;
        }
        return s + m.bias(b, h, i, j);
    }

    /**
     * Replaces {@code row} by its softmax and returns the log-sum-exp; a row whose maximum is −∞
     * becomes zeros (and returns −∞).
     */
    static double softmaxInPlace(double[] row) {
        double max = Double.NEGATIVE_INFINITY;
        for (double s : row) {
            max = Math.max(max, s);
        }
        if (max == Double.NEGATIVE_INFINITY) {
            java.util.Arrays.fill(row, 0.0);
            return Double.NEGATIVE_INFINITY;
        }
        double sum = 0.0;
        for (int j = 0; j < row.length; j++) {
            row[j] = Math.exp(row[j] - max);
            sum += row[j];
        }
        for (int j = 0; j < row.length; j++) {
            row[j] /= sum;
        }
        return max + Math.log(sum);
    }
}
