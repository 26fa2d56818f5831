package dev.attn4j.ci;

/**
 * ONNX Attention (opset 23/24) written straight from the operator's text, in float64, with no attn4j
 * code: the expected values of the generated test cases. Every tensor is a row-major 4D logical
 * {@code [B, H, S, D]} array; 3D inputs are converted by the caller.
 */
final class OnnxAttentionOracle {
    private OnnxAttentionOracle() {
    }

    /** Inputs and attributes of one call. */
    static final class Call {
        int batch;
        int heads;
        int kvHeads;
        int seqQ;
        int seqK;
        int past;
        int headDim;
        int valueDim;
        /** [B, H, Sq, D]. */
        double[] q;
        /** [B, KVH, past + Sk, D], past already concatenated. */
        double[] k;
        /** [B, KVH, past + Sk, Dv]. */
        double[] v;
        double scale;
        double softcap;
        boolean causal;
        /** nonpad_kv_seqlen or null. */
        long[] nonpad;
        /** Mask values (bool as 1/0, or additive floats) or null; its shape (rank ≤ 4) in {@link #maskShape}. */
        double[] mask;
        int[] maskShape;
        boolean boolMask;

        int total() {
            return past + seqK;
        }
    }

    /** Outputs: Y [B, H, Sq, Dv] and the four score stages [B, H, Sq, T]. */
    record Out(double[] y, double[] scaled, double[] softcapped, double[] masked, double[] softmax) {
    }

    static Out run(Call c) {
        int t = c.total();
        int g = c.heads / c.kvHeads;
        double[] y = new double[c.batch * c.heads * c.seqQ * c.valueDim];
        int nScores = c.batch * c.heads * c.seqQ * t;
        double[] s0 = new double[nScores];
        double[] s1 = new double[nScores];
        double[] s2 = new double[nScores];
        double[] s3 = new double[nScores];
        for (int b = 0; b < c.batch; b++) {
            for (int h = 0; h < c.heads; h++) {
                int kh = h / g;
                for (int i = 0; i < c.seqQ; i++) {
                    int row = ((b * c.heads + h) * c.seqQ + i) * t;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < t; j++) {
                        double dot = 0;
                        for (int d = 0; d < c.headDim; d++) {
                            dot += c.q[((b * c.heads + h) * c.seqQ + i) * c.headDim + d]
                                    * c.k[((b * c.kvHeads + kh) * t + j) * c.headDim + d];
                        }
                        double s = dot * c.scale;
                        s0[row + j] = s;
                        if (c.softcap > 0) {
                            s = c.softcap * Math.tanh(s / c.softcap);
                        }
                        s1[row + j] = s;
                        s += bias(c, b, h, i, j);
                        s2[row + j] = s;
                        max = Math.max(max, s);
                    }
                    double sum = 0;
                    for (int j = 0; j < t; j++) {
                        double e = max == Double.NEGATIVE_INFINITY ? 0 : Math.exp(s2[row + j] - max);
                        s3[row + j] = e;
                        sum += e;
                    }
                    for (int j = 0; j < t; j++) {
                        s3[row + j] = sum == 0 ? 0 : s3[row + j] / sum;
                    }
                    for (int d = 0; d < c.valueDim; d++) {
                        double acc = 0;
                        for (int j = 0; j < t; j++) {
                            acc += s3[row + j] * c.v[((b * c.kvHeads + kh) * t + j) * c.valueDim + d];
                        }
                        y[((b * c.heads + h) * c.seqQ + i) * c.valueDim + d] = acc;
                    }
                }
            }
        }
        return new Out(y, s0, s1, s2, s3);
    }

    /** The mask, causal and padding terms at (b, h, i, j): 0, an additive value or −∞. */
    private static double bias(Call c, int b, int h, int i, int j) {
        double bias = 0;
        if (c.mask != null) {
            int r = c.maskShape.length;
            int[] full = {c.batch, c.heads, c.seqQ, c.total()};
            int[] idx = {b, h, i, j};
            int last = c.maskShape[r - 1];
            if (j >= last) {
                // a mask shorter than the keys is padded with −∞ (bool: false)
                return Double.NEGATIVE_INFINITY;
            }
            int at = 0;
            for (int a = 0; a < r; a++) {
                int axis = 4 - r + a;
                int size = c.maskShape[a];
                int pos = size == 1 && full[axis] != 1 ? 0 : idx[axis];
                at = at * size + pos;
            }
            double m = c.mask[at];
            bias = c.boolMask ? (m != 0 ? 0 : Double.NEGATIVE_INFINITY) : m;
        }
        if (c.causal) {
            long offset = c.past > 0 ? c.past : c.nonpad != null ? c.nonpad[b] - c.seqQ : 0;
            if (j > i + offset) {
                bias = Double.NEGATIVE_INFINITY;
            }
        }
        if (c.nonpad != null && j >= c.nonpad[b]) {
            bias = Double.NEGATIVE_INFINITY;
        }
        return bias;
    }

    /** [B, S, H·D] (ONNX 3D) values → logical [B, H, S, D]. */
    static double[] from3d(float[] x, int batch, int seq, int heads, int dim) {
        double[] out = new double[x.length];
        for (int b = 0; b < batch; b++) {
            for (int s = 0; s < seq; s++) {
                for (int h = 0; h < heads; h++) {
                    for (int d = 0; d < dim; d++) {
                        out[((b * heads + h) * seq + s) * dim + d] = x[((b * seq + s) * heads + h) * dim + d];
                    }
                }
            }
        }
        return out;
    }

    /** Logical [B, H, S, D] → ONNX 3D [B, S, H·D] floats. */
    static float[] to3d(double[] x, int batch, int heads, int seq, int dim) {
        float[] out = new float[x.length];
        for (int b = 0; b < batch; b++) {
            for (int s = 0; s < seq; s++) {
                for (int h = 0; h < heads; h++) {
                    for (int d = 0; d < dim; d++) {
                        out[((b * seq + s) * heads + h) * dim + d] = (float) x[((b * heads + h) * seq + s) * dim + d];
                    }
                }
            }
        }
        return out;
    }

    /** Concatenates [B, H, P, D] and [B, H, S, D] along the sequence axis. */
    static double[] concat(double[] past, double[] cur, int batch, int heads, int p, int s, int dim) {
        double[] out = new double[batch * heads * (p + s) * dim];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                for (int t = 0; t < p + s; t++) {
                    for (int d = 0; d < dim; d++) {
                        out[((b * heads + h) * (p + s) + t) * dim + d] = t < p
                                ? past[((b * heads + h) * p + t) * dim + d]
                                : cur[((b * heads + h) * s + (t - p)) * dim + d];
                    }
                }
            }
        }
        return out;
    }

    static double[] widen(float[] x) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i];
        }
        return out;
    }

    static float[] narrow(double[] x) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = (float) x[i];
        }
        return out;
    }
}
