package dev.attn4j.reference;

import dev.attn4j.api.GeluApproximation;
import dev.attn4j.api.Tensor;
import dev.attn4j.spi.BlockKernels;
import java.util.Arrays;

/** The ONNX building blocks in float64; each method's comment gives its formula. */
final class ReferenceBlocks implements BlockKernels {

    /** y = exp(x − max) / Σ exp(x − max) along {@code axis}; an all −∞ slice gives zeros. */
    @Override
    public void softmax(Tensor x, int axis, Tensor y) {
        int[] shape = x.shape();
        int n = shape[axis];
        int[] outer = shape.clone();
        outer[axis] = 1;
        int[] idx = new int[shape.length];
        double[] row = new double[n];
        long slices = Tensor.count(outer);
        for (long s = 0; s < slices; s++) {
            for (int t = 0; t < n; t++) {
                idx[axis] = t;
                row[t] = x.getFloat(x.indexOf(idx));
            }
            ReferenceAttention.softmaxInPlace(row);
            for (int t = 0; t < n; t++) {
                idx[axis] = t;
                y.setFloat(y.indexOf(idx), (float) row[t]);
            }
            idx[axis] = 0;
            Tensor.increment(idx, outer);
        }
    }

    /**
     * Per group g of the axes [axis, rank): μ = mean(x_g), σ² = mean((x_g − μ)²),
     * y = (x − μ)/√(σ² + ε)·scale + bias.
     */
    @Override
    public void layerNorm(Tensor x, int axis, Tensor scale, Tensor bias, float epsilon, Tensor y, Tensor mean,
                          Tensor invStdDev) {
        int[] shape = x.shape();
        int[] inner = Arrays.copyOfRange(shape, axis, shape.length);
        long groups = Tensor.count(Arrays.copyOfRange(shape, 0, axis));
        int n = Math.toIntExact(Tensor.count(inner));
        int[] outerShape = Arrays.copyOf(shape, axis);
        Tensor s = scale.broadcastTo(inner);
        Tensor bb = bias == null ? null : bias.broadcastTo(inner);
        // view x and y as [groups..., inner...] and walk the inner part with its own multi-index
        int[] outerIdx = new int[axis];
        double[] vals = new double[n];
        for (long g = 0; g < groups; g++) {
            int[] full = new int[shape.length];
            System.arraycopy(outerIdx, 0, full, 0, axis);
            int[] innerIdx = new int[inner.length];
            double sum = 0.0;
            for (int t = 0; t < n; t++) {
                System.arraycopy(innerIdx, 0, full, axis, inner.length);
                vals[t] = x.getFloat(x.indexOf(full));
                sum += vals[t];
                Tensor.increment(innerIdx, inner);
            }
            double mu = sum / n;
            double var = 0.0;
            for (int t = 0; t < n; t++) {
                double d = vals[t] - mu;
                var += d * d;
            }
            var /= n;
            double inv = 1.0 / Math.sqrt(var + epsilon);
            Arrays.fill(innerIdx, 0);
            for (int t = 0; t < n; t++) {
                System.arraycopy(innerIdx, 0, full, axis, inner.length);
                double r = (vals[t] - mu) * inv * s.getFloat(s.indexOf(innerIdx));
                if (bb != null) {
                    r += bb.getFloat(bb.indexOf(innerIdx));
                }
                y.setFloat(y.indexOf(full), (float) r);
                Tensor.increment(innerIdx, inner);
            }
            if (mean != null) {
                mean.setFloat(mean.indexOfLinear(g), (float) mu);
            }
            if (invStdDev != null) {
                invStdDev.setFloat(invStdDev.indexOfLinear(g), (float) inv);
            }
            Tensor.increment(outerIdx, outerShape);
        }
    }

    /** y[m,n] = alpha·Σ_k a[m,k]·b[k,n] + beta·c[m,n] (c broadcast). */
    @Override
    public void gemm(float alpha, Tensor a, Tensor b, float beta, Tensor c, Tensor y) {
        int m = a.dim(0);
        int kDim = a.dim(1);
        int n = b.dim(1);
        Tensor cb = c == null ? null : c.broadcastTo(m, n);
        for (int r = 0; r < m; r++) {
            for (int col = 0; col < n; col++) {
                double acc = 0.0;
                for (int e = 0; e < kDim; e++) {
                    acc += (double) a.getFloat(a.indexOf(r, e)) * b.getFloat(b.indexOf(e, col));
                }
                double out = alpha * acc;
                if (cb != null) {
                    out += (double) beta * cb.getFloat(cb.indexOf(r, col));
                }
                y.setFloat(y.indexOf(r, col), (float) out);
            }
        }
    }

    /** y[..., m, n] = Σ_k a[..., m, k]·b[..., k, n] (batch axes already broadcast by the API). */
    @Override
    public void matmul(Tensor a, Tensor b, Tensor y) {
        int rank = y.rank();
        int[] outShape = y.shape();
        int m = outShape[rank - 2];
        int n = outShape[rank - 1];
        int kDim = a.dim(-1);
        int[] batchShape = Arrays.copyOf(outShape, rank - 2);
        int[] idx = new int[rank];
        int[] ia = new int[rank];
        int[] ib = new int[rank];
        long batches = Tensor.count(batchShape);
        int[] batchIdx = new int[rank - 2];
        for (long t = 0; t < batches; t++) {
            System.arraycopy(batchIdx, 0, idx, 0, rank - 2);
            System.arraycopy(batchIdx, 0, ia, 0, rank - 2);
            System.arraycopy(batchIdx, 0, ib, 0, rank - 2);
            for (int r = 0; r < m; r++) {
                for (int col = 0; col < n; col++) {
                    double acc = 0.0;
                    for (int e = 0; e < kDim; e++) {
                        ia[rank - 2] = r;
                        ia[rank - 1] = e;
                        ib[rank - 2] = e;
                        ib[rank - 1] = col;
                        acc += (double) a.getFloat(a.indexOf(ia)) * b.getFloat(b.indexOf(ib));
                    }
                    idx[rank - 2] = r;
                    idx[rank - 1] = col;
                    y.setFloat(y.indexOf(idx), (float) acc);
                }
            }
            Tensor.increment(batchIdx, batchShape);
        }
    }

    /**
     * Rotary embedding, per (b, h, s) and pair t &lt; rotaryDim/2, with c = cos[pos, t], s = sin[pos, t]:
     * (x1, x2) = (x[t], x[t + half]) (or (x[2t], x[2t+1]) interleaved);
     * y1 = c·x1 − s·x2, y2 = s·x1 + c·x2; features past rotaryDim are copied.
     */
    @Override
    public void rotary(Tensor x, Tensor cos, Tensor sin, int[] positions, int rotaryDim, boolean interleaved, Tensor y) {
        int batch = x.dim(0);
        int heads = x.dim(1);
        int seq = x.dim(2);
        int d = x.dim(3);
        int half = rotaryDim / 2;
        double[] row = new double[d];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                for (int s = 0; s < seq; s++) {
                    for (int t = 0; t < d; t++) {
                        row[t] = x.getFloat(x.indexOf(b, h, s, t));
                    }
                    for (int t = 0; t < half; t++) {
                        double c;
                        double sn;
                        if (positions != null) {
                            int pos = positions[b * seq + s];
                            c = cos.getFloat(cos.indexOf(pos, t));
                            sn = sin.getFloat(sin.indexOf(pos, t));
                        } else {
                            c = cos.getFloat(cos.indexOf(b, s, t));
                            sn = sin.getFloat(sin.indexOf(b, s, t));
                        }
                        int i1 = interleaved ? 2 * t : t;
                        int i2 = interleaved ? 2 * t + 1 : t + half;
                        double x1 = row[i1];
                        double x2 = row[i2];
                        y.setFloat(y.indexOf(b, h, s, i1), (float) (c * x1 - sn * x2));
                        y.setFloat(y.indexOf(b, h, s, i2), (float) (sn * x1 + c * x2));
                    }
                    for (int t = rotaryDim; t < d; t++) {
                        y.setFloat(y.indexOf(b, h, s, t), (float) row[t]);
                    }
                }
            }
        }
    }

    /** NONE: y = x/2·(1 + erf(x/√2)); TANH: y = x/2·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
    @Override
    public void gelu(Tensor x, GeluApproximation approximation, Tensor y) {
        int[] shape = x.shape();
        int[] idx = new int[shape.length];
        long n = x.elementCount();
        for (long t = 0; t < n; t++) {
            double v = x.getFloat(x.indexOf(idx));
            double r = switch (approximation) {
                case NONE -> 0.5 * v * (1.0 + erf(v / Math.sqrt(2.0)));
                case TANH -> 0.5 * v * (1.0 + Math.tanh(Math.sqrt(2.0 / Math.PI) * (v + 0.044715 * v * v * v)));
            };
            y.setFloat(y.indexOf(idx), (float) r);
            Tensor.increment(idx, shape);
        }
    }

    /**
     * erf in double: the Maclaurin series below |x| = 3 (relative error ≈ 1e-13 after the cancellation),
     * the continued fraction of erfc above it, ±1 past |x| = 6.
     */
    static double erf(double x) {
        double ax = Math.abs(x);
        if (Double.isNaN(x)) {
            return x;
        }
        if (ax > 6.0) {
            return Math.signum(x);
        }
        if (ax < 3.0) {
            // erf(x) = 2/√π · Σ (−1)^n x^(2n+1) / (n!·(2n+1))
            double term = x;
            double sum = x;
            double x2 = x * x;
            for (int n = 1; n < 200; n++) {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.abs(add) < 1e-17 * Math.abs(sum)) {
                    break;
                }
            }
            return 2.0 / Math.sqrt(Math.PI) * sum;
        }
        // erfc(x) = exp(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
        double k = ax;
        for (int n = 80; n >= 1; n--) {
            k = ax + (n / 2.0) / k;
        }
        double erfc = Math.exp(-ax * ax) / (Math.sqrt(Math.PI) * k);
        return Math.signum(x) * (1.0 - erfc);
    }
}
