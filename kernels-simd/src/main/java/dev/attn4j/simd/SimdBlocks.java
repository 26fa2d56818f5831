package dev.attn4j.simd;

import static dev.attn4j.simd.Vec.F;
import static dev.attn4j.simd.Vec.L;

import dev.attn4j.api.GeluApproximation;
import dev.attn4j.api.Tensor;
import dev.attn4j.spi.BlockKernels;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;

/**
 * The ONNX building blocks on vectors. Fast paths read heap arrays whose reduced or elementwise axes
 * are contiguous; every other view runs on contiguous heap copies made (and copied back) on the
 * caller's thread, so thread-confined off-heap views work too.
 */
final class SimdBlocks implements BlockKernels {
    private static final int CHUNK = 1 << 14;
    private static final int SOFTMAX_CHUNK = 1 << 18; // floats per work item: 64 rows of 4096
    /** Elements below which softmax stays on the caller's thread (the pool's hand-off costs more). */
    private static final long SOFTMAX_PARALLEL = 1 << 14;
    /**
     * Elements of x below which rotary stays on the caller's thread. A 128-token prefill (12 heads, 98304
     * elements) split by head over the pool's two threads took 40–46 µs a call against 23.4–23.5 µs on one
     * while the pool handed items out in arrival order (each call's y rows then moved between the cores' caches);
     * with each head dealt to the same thread on every call, 11.7–17.7 µs against 20.7–21.2 (separate runs
     * of a probe, 5000 calls each, 2026-12-05).
     */
    private static final long ROTARY_PARALLEL = 1 << 15;
    private static final IntBuffer X_OFFSETS = new IntBuffer();
    private static final IntBuffer Y_OFFSETS = new IntBuffer();
    private final Parallel parallel;

    SimdBlocks(Parallel parallel) {
        this.parallel = parallel;
    }

    // ------------------------------------------------------------------ softmax

    @Override
    public void softmax(Tensor x, int axis, Tensor y) {
        int n = x.dim(axis);
        long count = x.elementCount();
        if (count == 0) {
            return;
        }
        boolean rows = x.array() != null && y.array() != null && (n == 1 || x.stride(axis) == 1 && y.stride(axis) == 1);
        if (!rows) {
            // move the axis last in a contiguous heap copy, run the row kernel, move it back into y
            Tensor xc = Copies.heap(x.permute(moveLast(x.rank(), axis)));
            Tensor tmp = Tensor.zeros(xc.shape());
            softmax(xc, xc.rank() - 1, tmp);
            Copies.copy(tmp.permute(inverse(moveLast(x.rank(), axis))), y);
            return;
        }
        int slices = Math.toIntExact(count / n);
        float[] xa = x.array();
        float[] ya = y.array();
        if (count < SOFTMAX_PARALLEL && axis == x.rank() - 1 && x.isContiguous() && y.isContiguous()) {
            // a decode step's rows: on this thread, straight from x into y (row offsets in per-thread buffers:
            // fewer than 16K elements make at most 16K rows)
            int[] xOff = X_OFFSETS.get(slices);
            int[] yOff = Y_OFFSETS.get(slices);
            int xo = (int) x.offset();
            int yo = (int) y.offset();
            for (int r = 0; r < slices; r++) {
                xOff[r] = xo + r * n;
                yOff[r] = yo + r * n;
            }
            RowSoftmax.softmaxRows(xa, xOff, ya, yOff, 0, slices, n);
            return;
        }
        int[] outer = x.shape();
        outer[axis] = 1;
        // chunks of rows long enough for the row pipeline, yet at least 4 per thread for balance
        int per = Math.max(1, Math.min(SOFTMAX_CHUNK / n, slices / (4 * parallel.parallelism())));
        parallel.forEach((slices + per - 1) / per, chunk -> {
            int first = chunk * per;
            int rowsHere = Math.min(slices, first + per) - first;
            int[] idx = new int[outer.length];
            int[] xOff = new int[rowsHere];
            int[] yOff = new int[rowsHere];
            for (int r = 0; r < rowsHere; r++) {
                unravel(first + r, outer, idx);
                xOff[r] = (int) x.indexOf(idx);
                yOff[r] = (int) y.indexOf(idx);
            }
            RowSoftmax.softmaxRows(xa, xOff, ya, yOff, 0, rowsHere, n);
        });
    }

    private static int[] moveLast(int rank, int axis) {
        int[] order = new int[rank];
        for (int i = 0, j = 0; i < rank; i++) {
            if (i != axis) {
                order[j++] = i;
            }
        }
        order[rank - 1] = axis;
        return order;
    }

    private static int[] inverse(int[] order) {
        int[] inv = new int[order.length];
        for (int i = 0; i < order.length; i++) {
            inv[order[i]] = i;
        }
        return inv;
    }

    private static void unravel(long linear, int[] shape, int[] idx) {
        for (int axis = shape.length - 1; axis >= 0; axis--) {
            idx[axis] = (int) (linear % shape[axis]);
            linear /= shape[axis];
        }
    }

    // ------------------------------------------------------------------ layer norm

    /** t broadcast to {@code inner} as n dense floats: t's own array when it already is that (no copy per call). */
    private static float[] dense(Tensor t, int[] inner, int n) {
        float[] a = t.array();
        if (a != null && t.offset() == 0 && a.length == n && t.isContiguous() && Arrays.equals(t.shape(), inner)) {
            return a;
        }
        return t.broadcastTo(inner).toFloatArray();
    }

    @Override
    public void layerNorm(Tensor x, int axis, Tensor scale, Tensor bias, float epsilon, Tensor y, Tensor mean,
                          Tensor invStdDev) {
        int[] shape = x.shape();
        int[] inner = Arrays.copyOfRange(shape, axis, shape.length);
        int n = Math.toIntExact(Tensor.count(inner));
        int groups = Math.toIntExact(Tensor.count(Arrays.copyOfRange(shape, 0, axis)));
        if (n == 0 || groups == 0) {
            return;
        }
        Tensor xc = x.array() != null && x.isContiguous() ? x : Copies.heap(x);
        Tensor yc = y.array() != null && y.isContiguous() ? y : Tensor.zeros(shape);
        float[] s = dense(scale, inner, n);
        float[] bb = bias == null ? null : dense(bias, inner, n);
        float[] mu = new float[groups];
        float[] inv = new float[groups];
        float[] xa = xc.array();
        float[] ya = yc.array();
        int xo = (int) xc.offset();
        int yo = (int) yc.offset();
        parallel.forEach(groups, g -> normalize(xa, xo + g * n, ya, yo + g * n, n, s, bb, epsilon, mu, inv, g));
        if (yc != y) {
            Copies.copy(yc, y);
        }
        for (int g = 0; g < groups; g++) {
            if (mean != null) {
                mean.setFloat(mean.indexOfLinear(g), mu[g]);
            }
            if (invStdDev != null) {
                invStdDev.setFloat(invStdDev.indexOfLinear(g), inv[g]);
            }
        }
    }

    /** One group: μ and σ² with float32 lanes summed per block of 1024 and blocks summed in float64. */
    private static void normalize(float[] x, int xo, float[] y, int yo, int n, float[] scale, float[] bias, float eps,
                                  float[] mu, float[] inv, int g) {
        double sum = 0;
        for (int b0 = 0; b0 < n; b0 += 1024) {
            int len = Math.min(1024, n - b0);
            int i = 0;
            FloatVector acc = FloatVector.zero(F);
            for (; i < F.loopBound(len); i += L) {
                acc = acc.add(FloatVector.fromArray(F, x, xo + b0 + i));
            }
            float[] lanes = VMath.lanes();
            acc.intoArray(lanes, 0);
            double part = VMath.sumLanes(lanes);
            for (; i < len; i++) {
                part += x[xo + b0 + i];
            }
            sum += part;
        }
        float m = (float) (sum / n);
        double sq = 0;
        FloatVector mv = FloatVector.broadcast(F, m);
        for (int b0 = 0; b0 < n; b0 += 1024) {
            int len = Math.min(1024, n - b0);
            int i = 0;
            FloatVector acc = FloatVector.zero(F);
            for (; i < F.loopBound(len); i += L) {
                FloatVector d = FloatVector.fromArray(F, x, xo + b0 + i).sub(mv);
                acc = d.fma(d, acc);
            }
            float[] lanes = VMath.lanes();
            acc.intoArray(lanes, 0);
            double part = VMath.sumLanes(lanes);
            for (; i < len; i++) {
                double d = x[xo + b0 + i] - m;
                part += d * d;
            }
            sq += part;
        }
        float r = (float) (1.0 / Math.sqrt(sq / n + eps));
        mu[g] = m;
        inv[g] = r;
        int i = 0;
        for (; i < F.loopBound(n); i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i).sub(mv).mul(r).mul(FloatVector.fromArray(F, scale, i));
            if (bias != null) {
                v = v.add(FloatVector.fromArray(F, bias, i));
            }
            v.intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            float v = (x[xo + i] - m) * r * scale[i];
            y[yo + i] = bias != null ? v + bias[i] : v;
        }
    }

    // ------------------------------------------------------------------ gemm, matmul

    @Override
    public void gemm(float alpha, Tensor a, Tensor b, float beta, Tensor c, Tensor y) {
        Sgemm.gemm(alpha, a, b, beta, c, null, y, parallel);
    }

    @Override
    public void matmul(Tensor a, Tensor b, Tensor y) {
        int rank = y.rank();
        int[] outShape = y.shape();
        int[] batchShape = Arrays.copyOf(outShape, rank - 2);
        long batches = Tensor.count(batchShape);
        int[] idx = new int[rank - 2];
        for (long t = 0; t < batches; t++) {
            Tensor as = a;
            Tensor bs = b;
            Tensor ys = y;
            for (int axis = 0; axis < rank - 2; axis++) {
                as = as.select(0, idx[axis]);
                bs = bs.select(0, idx[axis]);
                ys = ys.select(0, idx[axis]);
            }
            Sgemm.gemm(1f, as, bs, 0f, null, null, ys, parallel);
            Tensor.increment(idx, batchShape);
        }
    }

    // ------------------------------------------------------------------ rotary

    @Override
    public void rotary(Tensor x, Tensor cos, Tensor sin, int[] positions, int rotaryDim, boolean interleaved, Tensor y) {
        boolean fast = FlashAttention.fast(x) && FlashAttention.fast(y) && FlashAttention.fast(cos) && FlashAttention.fast(sin);
        if (!fast) {
            Tensor yc = Tensor.zeros(y.shape());
            rotary(Copies.heap(x), Copies.heap(cos), Copies.heap(sin), positions, rotaryDim, interleaved, yc);
            Copies.copy(yc, y);
            return;
        }
        int batch = x.dim(0);
        int heads = x.dim(1);
        int seq = x.dim(2);
        int d = x.dim(3);
        if (batch == 0 || heads == 0 || seq == 0 || d == 0) {
            return;
        }
        Rotary r = new Rotary(x.array(), x.offset(), x.stride(0), x.stride(1), x.stride(2),
                y.array(), y.offset(), y.stride(0), y.stride(1), y.stride(2),
                cos.array(), cos.offset(), cos.stride(0), positions == null ? cos.stride(1) : 0,
                sin.array(), sin.offset(), sin.stride(0), positions == null ? sin.stride(1) : 0,
                positions, heads, seq, d, rotaryDim / 2, interleaved);
        int items = batch * heads;
        if (seq == 1 && !interleaved) {
            // a decode step: each token's cos and sin loaded once for all its heads
            if ((long) items * d < ROTARY_PARALLEL || batch < 2) {
                for (int b = 0; b < batch; b++) {
                    r.token(b);
                }
            } else {
                parallel.forEach(batch, r::token);
            }
        } else if ((long) items * seq * d < ROTARY_PARALLEL || items < 2) {
            for (int bh = 0; bh < items; bh++) {
                r.head(bh);
            }
        } else {
            parallel.forEach(items, r::head);
        }
    }

    /**
     * One rotary call's views as plain offsets and strides, read once per call: the loops then do integer
     * adds only (no {@code Tensor} accessor per row). Strides of cos and sin over positions or (batch, seq).
     */
    private record Rotary(float[] x, long xo, long xsb, long xsh, long xss, float[] y, long yo, long ysb, long ysh,
                          long yss, float[] c, long co, long csb, long css, float[] sn, long so, long ssb, long sss,
                          int[] positions, int heads, int seq, int d, int half, boolean interleaved) {

        /**
         * The one position of batch row b (S = 1) for every head, heads innermost: its cos and sin vectors are
         * loaded once for all heads, where {@link #head} loaded them per head and paid its loop's setup for two
         * vectors of work. In-process A/B, 12 heads of 64 at one token, the backend's call: 74 against 211–218
         * ns (32 heads: 128–134 against 598–620); the same bits. (At S &gt; 1 the heads of a position lie S·D
         * floats apart, see {@link #head}.)
         */
        void token(int b) {
            int cRow;
            int sRow;
            if (positions != null) {
                int pos = positions[b];
                cRow = (int) (co + pos * csb);
                sRow = (int) (so + pos * ssb);
            } else {
                cRow = (int) (co + b * csb);
                sRow = (int) (so + b * ssb);
            }
            int xAt = (int) (xo + b * xsb);
            int yAt = (int) (yo + b * ysb);
            int xh = (int) xsh;
            int yh = (int) ysh;
            int t = 0;
            for (; t < F.loopBound(half); t += L) {
                FloatVector cv = FloatVector.fromArray(F, c, cRow + t);
                FloatVector sv = FloatVector.fromArray(F, sn, sRow + t);
                for (int h = 0, xi = xAt + t, yi = yAt + t; h < heads; h++, xi += xh, yi += yh) {
                    FloatVector x1 = FloatVector.fromArray(F, x, xi);
                    FloatVector x2 = FloatVector.fromArray(F, x, xi + half);
                    cv.mul(x1).sub(sv.mul(x2)).intoArray(y, yi);
                    sv.mul(x1).add(cv.mul(x2)).intoArray(y, yi + half);
                }
            }
            int rot = 2 * half;
            for (int h = 0; h < heads; h++) {
                int xRow = xAt + h * xh;
                int yRow = yAt + h * yh;
                if (t < half) {
                    halvesTail(x, xRow, y, yRow, c, cRow, sn, sRow, t, half);
                }
                if (rot < d && (x != y || xRow != yRow)) {
                    System.arraycopy(x, xRow + rot, y, yRow + rot, d - rot);
                }
            }
        }

        /**
         * Every position of head bh = b·heads + h, in memory order. Walking the heads of one position instead
         * (to load its cos and sin once for all of them) strode [H, S, D] memory by S·D floats, a multiple of
         * 4 KB that maps every head to the same L1 sets: 41–46 µs for 12 heads × 128 tokens against 23.4–23.5
         * µs this way. A loop over positions innermost (one vector of t at a time, long trip counts) measured
         * 21.5–21.6 µs against 22.9–24.4 for this one in alternating runs: not worth a second path.
         */
        void head(int bh) {
            int b = bh / heads;
            int h = bh % heads;
            int xRow = (int) (xo + b * xsb + h * xsh);
            int yRow = (int) (yo + b * ysb + h * ysh);
            if (interleaved) {
                pairRows(b, xRow, yRow);
            } else if (positions != null) {
                halfRowsAt(b, xRow, yRow);
            } else {
                halfRows(b, xRow, yRow);
            }
            int rot = 2 * half;
            if (rot < d && (x != y || xRow != yRow)) {
                for (int s = 0; s < seq; s++) {
                    System.arraycopy(x, xRow + s * (int) xss + rot, y, yRow + s * (int) yss + rot, d - rot);
                }
            }
        }

        /**
         * The rows of one head with cos and sin rows from the positions. Each layout and kind in a loop of its
         * own, the offsets in int locals: one loop that chose per row between the positions and the caches,
         * the halves and the interleaved pairs, and copied the unrotated tail, took 20.4–20.5 µs on one thread
         * for 12 heads × 128 × 64 where this one takes 15.0–15.6 (a probe's loop over the same rows with
         * constant strides 12.6–13.2, in the same runs).
         */
        private void halfRowsAt(int b, int xRow, int yRow) {
            float[] x = this.x;
            float[] y = this.y;
            float[] c = this.c;
            float[] sn = this.sn;
            int[] positions = this.positions;
            int xss = (int) this.xss;
            int yss = (int) this.yss;
            int co = (int) this.co;
            int so = (int) this.so;
            int csb = (int) this.csb;
            int ssb = (int) this.ssb;
            int half = this.half;
            int at = b * seq;
            for (int s = 0; s < seq; s++, xRow += xss, yRow += yss) {
                int pos = positions[at + s];
                halves(x, xRow, y, yRow, c, co + pos * csb, sn, so + pos * ssb, half);
            }
        }

        /** {@link #halfRowsAt} with the cos and sin rows of [B, S, half] caches. */
        private void halfRows(int b, int xRow, int yRow) {
            float[] x = this.x;
            float[] y = this.y;
            float[] c = this.c;
            float[] sn = this.sn;
            int xss = (int) this.xss;
            int yss = (int) this.yss;
            int cRow = (int) (co + b * csb);
            int sRow = (int) (so + b * ssb);
            int css = (int) this.css;
            int sss = (int) this.sss;
            int half = this.half;
            for (int s = 0; s < seq; s++, xRow += xss, yRow += yss, cRow += css, sRow += sss) {
                halves(x, xRow, y, yRow, c, cRow, sn, sRow, half);
            }
        }

        /** The interleaved pairs of one head's rows. */
        private void pairRows(int b, int xRow, int yRow) {
            for (int s = 0; s < seq; s++) {
                int cRow;
                int sRow;
                if (positions != null) {
                    int pos = positions[b * seq + s];
                    cRow = (int) (co + pos * csb);
                    sRow = (int) (so + pos * ssb);
                } else {
                    cRow = (int) (co + b * csb + s * css);
                    sRow = (int) (so + b * ssb + s * sss);
                }
                pairs(x, xRow + s * (int) xss, y, yRow + s * (int) yss, c, cRow, sn, sRow, half);
            }
        }
    }

    /** (x1, x2) = (x[t], x[half + t]) ↦ (c·x1 − s·x2, s·x1 + c·x2) for t &lt; half, in vectors over t. */
    private static void halves(float[] x, int xo, float[] y, int yo, float[] ca, int co, float[] sa, int so, int half) {
        int t = 0;
        for (; t < F.loopBound(half); t += L) {
            FloatVector c = FloatVector.fromArray(F, ca, co + t);
            FloatVector sn = FloatVector.fromArray(F, sa, so + t);
            FloatVector x1 = FloatVector.fromArray(F, x, xo + t);
            FloatVector x2 = FloatVector.fromArray(F, x, xo + half + t);
            c.mul(x1).sub(sn.mul(x2)).intoArray(y, yo + t);
            sn.mul(x1).add(c.mul(x2)).intoArray(y, yo + half + t);
        }
        halvesTail(x, xo, y, yo, ca, co, sa, so, t, half);
    }

    /** {@link #halves} for t in [from, half), one t at a time. */
    private static void halvesTail(float[] x, int xo, float[] y, int yo, float[] ca, int co, float[] sa, int so,
                                   int from, int half) {
        for (int t = from; t < half; t++) {
            float c = ca[co + t];
            float sn = sa[so + t];
            float x1 = x[xo + t];
            float x2 = x[xo + half + t];
            y[yo + t] = c * x1 - sn * x2;
            y[yo + half + t] = sn * x1 + c * x2;
        }
    }

    /** (x1, x2) = (x[2t], x[2t + 1]) ↦ (c·x1 − s·x2, s·x1 + c·x2) for t &lt; half. */
    private static void pairs(float[] x, int xo, float[] y, int yo, float[] ca, int co, float[] sa, int so, int half) {
        for (int t = 0; t < half; t++) {
            float c = ca[co + t];
            float sn = sa[so + t];
            float x1 = x[xo + 2 * t];
            float x2 = x[xo + 2 * t + 1];
            y[yo + 2 * t] = c * x1 - sn * x2;
            y[yo + 2 * t + 1] = sn * x1 + c * x2;
        }
    }

    // ------------------------------------------------------------------ gelu

    @Override
    public void gelu(Tensor x, GeluApproximation approximation, Tensor y) {
        long count = x.elementCount();
        if (count == 0) {
            return;
        }
        if (x.array() == null || y.array() == null || !x.isContiguous() || !y.isContiguous()) {
            Tensor yc = Tensor.zeros(y.shape());
            gelu(Copies.heap(x), approximation, yc);
            Copies.copy(yc, y);
            return;
        }
        float[] xa = x.array();
        float[] ya = y.array();
        int xo = (int) x.offset();
        int yo = (int) y.offset();
        int n = Math.toIntExact(count);
        boolean exact = approximation == GeluApproximation.NONE;
        parallel.forEach((n + CHUNK - 1) / CHUNK, chunk -> {
            int from = chunk * CHUNK;
            int len = Math.min(CHUNK, n - from);
            if (exact) {
                geluExact(xa, xo + from, ya, yo + from, len);
            } else {
                geluTanh(xa, xo + from, ya, yo + from, len);
            }
        });
    }

    private static final float INV_SQRT2 = 0.70710678118654752f;
    private static final float SQRT_2_OVER_PI = 0.79788456080286536f;

    /** y = x/2·(1 + erf(x/√2)); the tail runs as one masked-off vector through a padded buffer. */
    private static void geluExact(float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        for (; i < F.loopBound(n); i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            v.mul(0.5f).mul(VMath.erf(v.mul(INV_SQRT2)).add(1f)).intoArray(y, yo + i);
        }
        if (i < n) {
            float[] pad = new float[L];
            System.arraycopy(x, xo + i, pad, 0, n - i);
            geluExact(pad, 0, pad, 0, L);
            System.arraycopy(pad, 0, y, yo + i, n - i);
        }
    }

    /** y = x/2·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
    private static void geluTanh(float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        for (; i < F.loopBound(n); i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            FloatVector u = v.mul(v).mul(0.044715f).mul(v).add(v).mul(SQRT_2_OVER_PI);
            v.mul(0.5f).mul(VMath.tanh(u).add(1f)).intoArray(y, yo + i);
        }
        if (i < n) {
            float[] pad = new float[L];
            System.arraycopy(x, xo + i, pad, 0, n - i);
            geluTanh(pad, 0, pad, 0, L);
            System.arraycopy(pad, 0, y, yo + i, n - i);
        }
    }

    /** A per-thread int buffer that grows as needed (the int twin of {@link ThreadBuffer}). */
    private static final class IntBuffer {
        private final ThreadLocal<int[]> local = ThreadLocal.withInitial(() -> new int[0]);

        int[] get(int size) {
            int[] buf = local.get();
            if (buf.length < size) {
                buf = new int[size];
                local.set(buf);
            }
            return buf;
        }
    }
}
