package dev.attn4j.reference;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Tensor;
import dev.attn4j.spi.ProjectionKernels;

/**
 * Projections in float64.
 *
 * <pre>
 *   linear:     y[m,n] = Σ_k x[m,k]·w[n,k] + bias[n]
 *   projectQkv: r[b,s,o] = Σ_e x[b,s,e]·w[o,e] + bias[o], o = (Q heads | K heads | V heads)·dim, split into heads
 *   mergeHeads: y[b,s,e] = Σ_{h,d} attn[b,h,s,d]·wo[e, h·Dv + d] + bias[e]
 * </pre>
 */
final class ReferenceProjections implements ProjectionKernels {

    @Override
    public void linear(Tensor x, Tensor w, Tensor bias, Tensor y) {
        int m = x.dim(0);
        int kDim = x.dim(1);
        int n = w.dim(0);
        for (int r = 0; r < m; r++) {
            for (int c = 0; c < n; c++) {
                double acc = bias == null ? 0.0 : bias.getFloat(bias.indexOf(c));
                for (int e = 0; e < kDim; e++) {
                    acc += (double) x.getFloat(x.indexOf(r, e)) * w.getFloat(w.indexOf(c, e));
                }
                y.setFloat(y.indexOf(r, c), (float) acc);
            }
        }
    }

    @Override
    public void projectQkv(AttentionProblem p, Tensor x, Tensor w, Tensor bias, Tensor q, Tensor k, Tensor v) {
        int e = x.dim(2);
        int qRows = p.heads() * p.headDim();
        int kRows = p.kvHeads() * p.headDim();
        int rows = w.dim(0);
        for (int b = 0; b < p.batch(); b++) {
            for (int s = 0; s < p.seqQ(); s++) {
                for (int o = 0; o < rows; o++) {
                    double acc = bias == null ? 0.0 : bias.getFloat(bias.indexOf(o));
                    for (int c = 0; c < e; c++) {
                        acc += (double) x.getFloat(x.indexOf(b, s, c)) * w.getFloat(w.indexOf(o, c));
                    }
                    float value = (float) acc;
                    if (o < qRows) {
                        q.setFloat(q.indexOf(b, o / p.headDim(), s, o % p.headDim()), value);
                    } else if (o < qRows + kRows) {
                        int r = o - qRows;
                        k.setFloat(k.indexOf(b, r / p.headDim(), s, r % p.headDim()), value);
                    } else {
                        int r = o - qRows - kRows;
                        v.setFloat(v.indexOf(b, r / p.valueDim(), s, r % p.valueDim()), value);
                    }
                }
            }
        }
    }

    @Override
    public void mergeHeads(AttentionProblem p, Tensor attn, Tensor wo, Tensor bias, Tensor y) {
        int e = wo.dim(0);
        int dv = p.valueDim();
        for (int b = 0; b < p.batch(); b++) {
            for (int s = 0; s < p.seqQ(); s++) {
                for (int o = 0; o < e; o++) {
                    double acc = bias == null ? 0.0 : bias.getFloat(bias.indexOf(o));
                    for (int h = 0; h < p.heads(); h++) {
                        for (int d = 0; d < dv; d++) {
                            acc += (double) attn.getFloat(attn.indexOf(b, h, s, d)) * wo.getFloat(wo.indexOf(o, h * dv + d));
                        }
                    }
                    y.setFloat(y.indexOf(b, s, o), (float) acc);
                }
            }
        }
    }
}
