package dev.attn4j.simd;

import static dev.attn4j.simd.Vec.F;
import static dev.attn4j.simd.Vec.L;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.DType;
import dev.attn4j.api.Kernels;
import dev.attn4j.api.LocalP;
import dev.attn4j.api.Mask;
import dev.attn4j.api.MaskEvaluator;
import dev.attn4j.api.ScoreFunction;
import dev.attn4j.api.ScoreStage;
import dev.attn4j.api.Tensor;
import dev.attn4j.spi.AttentionKernels;
import dev.attn4j.spi.ClassicKernels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * The literature family on the Vector API.
 *
 * <ul>
 *   <li>Dot, general and cosine scores reduce to the fused flash kernel of this backend on transformed
 *       inputs: general runs on {@code q' = q·W[h]} (one [Sq, D]·[D, D] product per head, vectorized over
 *       the output features), cosine on rows divided by {@code max(‖x‖, eps)}; no [Sq, Sk, D] tensor.</li>
 *   <li>Additive scores project once to {@code P_q [Sq, A]} and {@code P_k} (stored transposed, [A, Sk]),
 *       then each score row is {@code Σ_a v_a·tanh(P_q[i, a] + P_k[a, j])} with lanes over keys — no
 *       [Sq, Sk, A] tensor and no horizontal reduction. tanh(x) = 1 − 2/(1 + 2^(2·log2(e)·x)) on x clamped
 *       to [−9, 9] (|tanh(9) − 1| &lt; 3e-8), absolute error ≈ 1e-7.</li>
 *   <li>Hard (top-k, sampled) and local-p attention compute the masked score matrix with the kernels
 *       above, then select per row in float64 like the oracle.</li>
 * </ul>
 *
 * Inputs that may live in a thread-confined arena are copied to the heap on the calling thread,
 * workers only touch heap arrays, and outputs are stored by the calling thread.
 */
final class SimdClassic implements ClassicKernels {
    private static final float TANH_CLAMP = 9f;
    private static final float TWO_LOG2E = 2f * VMath.LOG2E;
    /** Query rows per work item of the row loops. */
    private static final int ROWS = 16;
    /** Elements of x from which addSinusoidal splits its rows over the pool. */
    private static final long SINUSOID_PARALLEL = 1 << 14;
    /**
     * Elements from which add splits over the pool, and the elements per work item then: a sum is memory
     * bound (≈ 13 µs for 128 rows of 768 on one thread), so only sums of several MB are worth a hand-off.
     */
    private static final int ADD_PARALLEL = 1 << 18;
    private static final int ADD_CHUNK = 1 << 14;

    private final AttentionKernels attention;
    private final Parallel parallel;

    SimdClassic(AttentionKernels attention, Parallel parallel) {
        this.attention = attention;
        this.parallel = parallel;
    }

    // ------------------------------------------------------------------ score functions

    @Override
    public void scores(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Mask mask, ScoreStage stage, Tensor scores) {
        if (f instanceof ScoreFunction.Additive a) {
            float[] rows = additiveLogits(p, a, q, k, mask, stage);
            if (stage == ScoreStage.SOFTMAX) {
                int sk = p.seqK();
                parallel.forEach(rowCount(p), r -> RowSoftmax.softmax(rows, r * sk, sk));
            }
            store(rows, scores);
            return;
        }
        Tensor[] qk = prepare(p, f, q, k);
        attention.scores(p, qk[0], qk[1], mask, stage, scores);
    }

    @Override
    public void attention(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Tensor v, Mask mask, Tensor out, Tensor lse) {
        if (f instanceof ScoreFunction.Additive a) {
            float[] rows = additiveLogits(p, a, q, k, mask, ScoreStage.MASKED);
            float[] vs = contiguous(v);
            int sk = p.seqK();
            int dv = p.valueDim();
            float[] o = new float[rowCount(p) * dv];
            float[] l = new float[rowCount(p)];
            parallel.forEach(rowCount(p), r -> {
                l[r] = softmaxWithLse(rows, r * sk, sk);
                int b = r / (p.heads() * p.seqQ());
                int h = r / p.seqQ() % p.heads();
                weightedSum(rows, r * sk, sk, vs, ((long) b * p.kvHeads() + p.kvHead(h)) * sk * dv, dv, o, r * dv);
            });
            store(o, out);
            if (lse != null) {
                store(l, lse);
            }
            return;
        }
        Tensor[] qk = prepare(p, f, q, k);
        attention.attention(p, qk[0], qk[1], v, mask, out, lse);
    }

    /** q' and k' such that scale·q'·k' is the score of {@code f} (dot, general or cosine). */
    private Tensor[] prepare(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k) {
        return switch (f) {
            case ScoreFunction.Dot d -> new Tensor[] {q, k};
            case ScoreFunction.General g -> new Tensor[] {Tensor.of(times(p, contiguous(q), packedHeads(g.w(), p.heads(),
                    p.headDim(), p.headDim()), p.headDim(), p.seqQ()), p.qShape()), k};
            case ScoreFunction.Cosine c -> new Tensor[] {Tensor.of(normalized(contiguous(q), p.headDim(), c.eps()), p.qShape()),
                    Tensor.of(normalized(contiguous(k), p.headDim(), c.eps()), p.kShape())};
            case ScoreFunction.Additive a -> throw new AssertionError("additive scores have their own path");
        };
    }

    /** out[b,h,i,:] = Σ_c x[b,h,i,c]·w[h,c,:] for x [B, H, S, C] and w [H, C, N] (both contiguous). */
    private float[] times(AttentionProblem p, float[] x, float[] w, int n, int seq) {
        int c = p.headDim();
        int heads = p.heads();
        float[] out = new float[p.batch() * heads * seq * n];
        parallel.forEach(p.batch() * heads, bh -> {
            int h = bh % heads;
            for (int i = 0; i < seq; i++) {
                axpyRows(x, ((long) bh * seq + i) * c, c, w, (long) h * c * n, n, out, ((long) bh * seq + i) * n);
            }
        });
        return out;
    }

    /** out[o, o + n) = Σ_t x[xo + t]·w[wo + t·n, wo + t·n + n), vectorized over n. */
    private static void axpyRows(float[] x, long xo, int c, float[] w, long wo, int n, float[] out, long oo) {
        int o = (int) oo;
        for (int j = 0; j < n; j += L) {
            VectorMask<Float> m = F.indexInRange(j, n);
            FloatVector acc = FloatVector.zero(F);
            for (int t = 0; t < c; t++) {
                acc = FloatVector.fromArray(F, w, (int) (wo + (long) t * n + j), m).fma(FloatVector.broadcast(F, x[(int) (xo + t)]), acc);
            }
            acc.intoArray(out, o + j, m);
        }
    }

    /** Rows of length {@code d} divided by max(‖row‖₂, eps). */
    private float[] normalized(float[] x, int d, float eps) {
        int rows = x.length / d;
        parallel.forEach((rows + 63) / 64, blk -> {
            float[] lanes = new float[L];
            for (int r = blk * 64; r < Math.min(rows, blk * 64 + 64); r++) {
                int off = r * d;
                FloatVector acc = FloatVector.zero(F);
                int j = 0;
                for (; j < F.loopBound(d); j += L) {
                    FloatVector a = FloatVector.fromArray(F, x, off + j);
                    acc = a.fma(a, acc);
                }
                acc.intoArray(lanes, 0);
                double ss = VMath.sumLanes(lanes);
                for (; j < d; j++) {
                    ss += (double) x[off + j] * x[off + j];
                }
                float inv = (float) (1.0 / Math.max(Math.sqrt(ss), eps));
                RowSoftmax.scale(x, off, d, inv);
            }
        });
        return x;
    }

    // ------------------------------------------------------------------ additive scores

    /**
     * The additive scores of every row, carried to {@code stage} ({@code SOFTMAX} stops at the masked
     * logits), as rows [B·H·Sq][Sk].
     */
    private float[] additiveLogits(AttentionProblem p, ScoreFunction.Additive f, Tensor q, Tensor k, Mask mask,
                                   ScoreStage stage) {
        int heads = p.heads();
        int d = p.headDim();
        int a = f.hidden();
        int sq = p.seqQ();
        int sk = p.seqK();
        float[] qs = contiguous(q);
        float[] ks = contiguous(k);
        float[] w1t = packedTransposed(f.w1(), heads, a, d);
        float[] w2t = packedTransposed(f.w2(), heads, a, d);
        float[] va = packedHeads(f.v(), heads, 1, a);
        // P_q [B, H, Sq, A]; P_kᵀ [B, H, A, Sk] (per query head: W₂ may differ per query head)
        float[] pq = times(p, qs, w1t, a, sq);
        float[] pkT = new float[p.batch() * heads * a * sk];
        parallel.forEach(p.batch() * heads, bh -> {
            int b = bh / heads;
            int h = bh % heads;
            float[] tmp = new float[a];
            long kBase = ((long) b * p.kvHeads() + p.kvHead(h)) * sk * d;
            for (int j = 0; j < sk; j++) {
                axpyRows(ks, kBase + (long) j * d, d, w2t, (long) h * d * a, a, tmp, 0);
                for (int t = 0; t < a; t++) {
                    pkT[(bh * a + t) * sk + j] = tmp[t];
                }
            }
        });
        boolean masked = stage == ScoreStage.MASKED || stage == ScoreStage.SOFTMAX;
        MaskEvaluator m = MaskEvaluator.of(p, masked ? heapMask(mask) : Mask.none());
        float softcap = stage == ScoreStage.SCALED ? 0f : p.softcap();
        float[] rows = new float[rowCount(p) * sk];
        int blocks = (sq + ROWS - 1) / ROWS;
        parallel.forEach(p.batch() * heads * blocks, item -> {
            int bh = item / blocks;
            int b = bh / heads;
            int h = bh % heads;
            float[] bias = m.hasDense() ? new float[sk] : null;
            for (int i = (item % blocks) * ROWS; i < Math.min(sq, (item % blocks) * ROWS + ROWS); i++) {
                int off = (bh * sq + i) * sk;
                int kb = m.keyBegin(b, i);
                int ke = m.keyEnd(b, i);
                if (ke > kb) {
                    additiveRow(pq, (bh * sq + i) * a, pkT, bh * a * sk, sk, va, h * a, a, rows, off, kb, ke);
                }
                if (bias != null) {
                    for (int j = kb; j < ke; j++) {
                        bias[j] = m.denseBias(b, h, i, j);
                    }
                }
                RowSoftmax.maskedRow(rows, off, sk, kb, ke, p.scale(), softcap, bias, 0, false);
            }
        });
        return rows;
    }

    /** row[off + j] = Σ_t v[t]·tanh(pq[t] + pkT[t·sk + j]) for j in [kb, ke), lanes over keys. */
    private static void additiveRow(float[] pq, int pqOff, float[] pkT, int pkOff, int sk, float[] v, int vOff, int hidden,
                                    float[] row, int off, int kb, int ke) {
        int j = kb;
        for (; j + L <= ke; j += L) {
            FloatVector acc = FloatVector.zero(F);
            for (int t = 0; t < hidden; t++) {
                FloatVector x = FloatVector.fromArray(F, pkT, pkOff + t * sk + j).add(pq[pqOff + t]);
                acc = tanh(x).fma(FloatVector.broadcast(F, v[vOff + t]), acc);
            }
            acc.intoArray(row, off + j);
        }
        if (j < ke) {
            additiveTail(pq, pqOff, pkT, pkOff, sk, v, vOff, hidden, row, off, j, ke);
        }
    }

    /** The last partial vector of {@link #additiveRow} (its own method: one exp call site each). */
    private static void additiveTail(float[] pq, int pqOff, float[] pkT, int pkOff, int sk, float[] v, int vOff, int hidden,
                                     float[] row, int off, int j, int ke) {
        VectorMask<Float> m = F.indexInRange(j, ke);
        FloatVector acc = FloatVector.zero(F);
        for (int t = 0; t < hidden; t++) {
            FloatVector x = FloatVector.fromArray(F, pkT, pkOff + t * sk + j, m).add(pq[pqOff + t]);
            acc = tanh(x).fma(FloatVector.broadcast(F, v[vOff + t]), acc);
        }
        acc.intoArray(row, off + j, m);
    }

    /** tanh(x) = 1 − 2/(1 + e^(2x)) on x clamped to [−9, 9]; one exp call site. */
    private static FloatVector tanh(FloatVector x) {
        FloatVector c = x.blend(TANH_CLAMP, x.compare(VectorOperators.GT, TANH_CLAMP))
                .blend(-TANH_CLAMP, x.compare(VectorOperators.LT, -TANH_CLAMP));
        FloatVector e = VMath.exp2(c.mul(TWO_LOG2E));
        return FloatVector.broadcast(F, 1f).sub(FloatVector.broadcast(F, 2f).div(e.add(1f)));
    }

    /** Softmax in place over a[off, off + n) of masked logits; returns ln Σ e^x (−∞ and zeros for a fully masked row). */
    private static float softmaxWithLse(float[] a, int off, int n) {
        float max = RowSoftmax.max(a, off, n);
        if (max == Float.NEGATIVE_INFINITY) {
            Arrays.fill(a, off, off + n, 0f);
            return Float.NEGATIVE_INFINITY;
        }
        float sum = RowSoftmax.expAndSum(a, off, n, max);
        RowSoftmax.scale(a, off, n, 1f / sum);
        return (float) (max + Math.log(sum));
    }

    /** out[oo, oo + dv) = Σ_j w[wo + j]·v[vo + j·dv, +dv). */
    private static void weightedSum(float[] w, int wo, int n, float[] v, long vo, int dv, float[] out, int oo) {
        for (int d = 0; d < dv; d += L) {
            VectorMask<Float> m = F.indexInRange(d, dv);
            FloatVector acc = FloatVector.zero(F);
            for (int j = 0; j < n; j++) {
                float x = w[wo + j];
                if (x != 0f) {
                    acc = FloatVector.fromArray(F, v, (int) (vo + (long) j * dv + d), m).fma(FloatVector.broadcast(F, x), acc);
                }
            }
            acc.intoArray(out, oo + d, m);
        }
    }

    // ------------------------------------------------------------------ hard and local attention

    /** The masked logits [B·H·Sq][Sk] of {@code f}. */
    private float[] maskedLogits(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Mask mask) {
        if (f instanceof ScoreFunction.Additive a) {
            return additiveLogits(p, a, q, k, mask, ScoreStage.MASKED);
        }
        float[] rows = new float[rowCount(p) * p.seqK()];
        Tensor[] qk = prepare(p, f, q, k);
        attention.scores(p, qk[0], qk[1], mask, ScoreStage.MASKED, Tensor.of(rows, p.scoreShape()));
        return rows;
    }

    @Override
    public void topK(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Tensor v, Mask mask, int topK, Tensor out,
                     int[] indices) {
        float[] rows = maskedLogits(p, f, q, k, mask);
        float[] vs = contiguous(v);
        int sk = p.seqK();
        int dv = p.valueDim();
        float[] o = new float[rowCount(p) * dv];
        parallel.forEach(rowCount(p), r -> {
            long[] keys = new long[sk];
            int n = 0;
            for (int j = 0; j < sk; j++) {
                float s = rows[r * sk + j];
                if (s != Float.NEGATIVE_INFINITY) {
                    // descending score, then ascending key: sort (order(−s), j) ascending; 0 − s maps −0 to +0
                    keys[n++] = ((long) sortable(0f - s) << 32) | j;
                }
            }
            Arrays.sort(keys, 0, n);
            int sel = Math.min(n, topK);
            long vBase = vBase(p, r);
            double s0 = sel == 0 ? 0 : rows[r * sk + (int) keys[0]];
            double sum = 0;
            for (int t = 0; t < sel; t++) {
                sum += Math.exp(rows[r * sk + (int) keys[t]] - s0);
            }
            for (int t = 0; t < sel; t++) {
                int j = (int) keys[t];
                float w = (float) (Math.exp(rows[r * sk + j] - s0) / sum);
                axpy(w, vs, vBase + (long) j * dv, o, r * dv, dv);
            }
            if (indices != null) {
                for (int t = 0; t < topK; t++) {
                    indices[r * topK + t] = t < sel ? (int) keys[t] : -1;
                }
            }
        });
        store(o, out);
    }

    /** An int whose signed order is the float order of {@code x} (no NaN or −0 here). */
    private static int sortable(float x) {
        int bits = Float.floatToRawIntBits(x);
        return bits ^ ((bits >> 31) & 0x7fffffff);
    }

    @Override
    public void sample(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Tensor v, Mask mask, long seed, Tensor out,
                       int[] indices) {
        float[] rows = maskedLogits(p, f, q, k, mask);
        float[] vs = contiguous(v);
        int sk = p.seqK();
        int dv = p.valueDim();
        float[] o = new float[rowCount(p) * dv];
        parallel.forEach(rowCount(p), r -> {
            double[] w = new double[sk];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < sk; j++) {
                w[j] = rows[r * sk + j];
                max = Math.max(max, w[j]);
            }
            int key = -1;
            if (max != Double.NEGATIVE_INFINITY) {
                for (int j = 0; j < sk; j++) {
                    w[j] = Math.exp(w[j] - max);
                }
                key = inverseCdf(w, Kernels.sampleUniform(seed, r));
            }
            if (key >= 0) {
                System.arraycopy(vs, (int) (vBase(p, r) + (long) key * dv), o, r * dv, dv);
            }
            if (indices != null) {
                indices[r] = key;
            }
        });
        store(o, out);
    }

    /** The first j whose cumulative weight exceeds u·Σw (weights of 0 never drawn), or −1; as the oracle. */
    private static int inverseCdf(double[] w, double u) {
        double total = 0;
        int last = -1;
        for (int j = 0; j < w.length; j++) {
            total += w[j];
            if (w[j] > 0) {
                last = j;
            }
        }
        if (last < 0) {
            return -1;
        }
        double target = u * total;
        double c = 0;
        for (int j = 0; j < w.length; j++) {
            c += w[j];
            if (w[j] > 0 && c > target) {
                return j;
            }
        }
        return last;
    }

    @Override
    public void localP(AttentionProblem p, ScoreFunction f, LocalP local, Tensor q, Tensor k, Tensor v, Mask mask, Tensor out,
                       Tensor centres) {
        float[] rows = maskedLogits(p, f, q, k, mask);
        float[] vs = contiguous(v);
        float[] qs = contiguous(q);
        int heads = p.heads();
        int d = p.headDim();
        int a = local.hidden();
        float[] wp = packedHeads(local.wp(), heads, a, d);
        float[] vp = packedHeads(local.vp(), heads, 1, a);
        int sk = p.seqK();
        int dv = p.valueDim();
        double halfWidth = local.halfWidth();
        double twoSigma2 = 2 * local.sigma() * local.sigma();
        float[] o = new float[rowCount(p) * dv];
        float[] c = new float[rowCount(p)];
        parallel.forEach(rowCount(p), r -> {
            int h = r / p.seqQ() % heads;
            // p_t = S·sigmoid(v_pᵀ·tanh(W_p·h_t)), in float64 like the oracle
            double z = 0;
            for (int t = 0; t < a; t++) {
                double x = 0;
                for (int e = 0; e < d; e++) {
                    x += (double) wp[(h * a + t) * d + e] * qs[r * d + e];
                }
                z += vp[h * a + t] * StrictMath.tanh(x);
            }
            double pt = sk / (1 + Math.exp(-z));
            c[r] = (float) pt;
            int lo = (int) Math.max(0, Math.ceil(pt - halfWidth));
            int hi = (int) Math.min(sk - 1, Math.floor(pt + halfWidth));
            double max = Double.NEGATIVE_INFINITY;
            for (int j = lo; j <= hi; j++) {
                max = Math.max(max, rows[r * sk + j]);
            }
            if (max == Double.NEGATIVE_INFINITY) {
                return;
            }
            double sum = 0;
            for (int j = lo; j <= hi; j++) {
                sum += Math.exp(rows[r * sk + j] - max);
            }
            long vBase = vBase(p, r);
            for (int j = lo; j <= hi; j++) {
                double w = Math.exp(rows[r * sk + j] - max) / sum * Math.exp(-(j - pt) * (j - pt) / twoSigma2);
                if (w != 0) {
                    axpy((float) w, vs, vBase + (long) j * dv, o, r * dv, dv);
                }
            }
        });
        store(o, out);
        if (centres != null) {
            store(c, centres);
        }
    }

    // ------------------------------------------------------------------ Transformer block parts

    /**
     * {@link Sinusoids}: the table computed in float64 vector lanes as the rows are added (no table, no scalar
     * sin per call), straight from x into y when both have dense rows on the heap. Only large calls go to
     * the pool: handing a decode step's row to a helper costs more than computing it.
     */
    @Override
    public void addSinusoidal(Tensor x, int offset, Tensor y) {
        int batch = x.dim(0);
        int seq = x.dim(1);
        int dim = x.dim(2);
        if (batch == 0 || seq == 0 || dim == 0) {
            return;
        }
        if (!FlashAttention.fast(x) || !FlashAttention.fast(y)) {
            // off-heap or strided rows (the sinusoidal table's broadcast zeros): heap copies on this thread
            Tensor yc = Tensor.zeros(y.shape());
            addSinusoidal(Copies.heap(x), offset, yc);
            Copies.copy(yc, y);
            return;
        }
        float[] xa = x.array();
        float[] ya = y.array();
        double[] w = Sinusoids.omegas(dim);
        long xo = x.offset();
        long yo = y.offset();
        long xsb = x.stride(0);
        long xss = x.stride(1);
        long ysb = y.stride(0);
        long yss = y.stride(1);
        long elements = (long) batch * seq * dim;
        if (elements < SINUSOID_PARALLEL || seq < 2) {
            Sinusoids.add(xa, xo, xsb, xss, ya, yo, ysb, yss, batch, dim, offset, w, 0, seq);
            return;
        }
        int items = Math.min(seq, 4 * parallel.parallelism());
        parallel.forEach(items, i -> Sinusoids.add(xa, xo, xsb, xss, ya, yo, ysb, yss, batch, dim, offset, w,
                (int) ((long) seq * i / items), (int) ((long) seq * (i + 1) / items)));
    }

    /**
     * Contiguous heap a and y read and written where they lie, with b either laid out like a or one row
     * broadcast over a's rows (a bias); any other view (strided, off-heap, other broadcasts) runs on heap
     * copies. In place (y is a or b) is safe: each element is read before it is written, by the same thread.
     */
    @Override
    public void add(Tensor a, Tensor b, Tensor y) {
        long count = a.elementCount();
        if (count == 0) {
            return;
        }
        float[] aa = a.array();
        float[] ba = b.array();
        float[] ya = y.array();
        if (aa != null && ba != null && ya != null && a.isContiguous() && y.isContiguous()) {
            int n = (int) count;
            int ao = (int) a.offset();
            int bo = (int) b.offset();
            int yo = (int) y.offset();
            int last = a.rank() == 0 ? 1 : a.dim(-1);
            if (b.elementCount() == count && b.isContiguous()) {
                // b's shape is a's with leading 1s at most: the same row-major order
                addFlat(aa, ao, ba, bo, ya, yo, n);
                return;
            }
            if (b.rank() >= 1 && b.dim(-1) == last && b.elementCount() == last && (last == 1 || b.stride(-1) == 1)) {
                for (int r = 0; r < n / last; r++) {
                    addRows(aa, ao + r * last, ba, bo, ya, yo + r * last, last);
                }
                return;
            }
        }
        int[] shape = a.shape();
        float[] as = contiguous(a);
        addRows(as, 0, contiguous(b.broadcastTo(shape)), 0, as, 0, as.length);
        store(as, y);
    }

    /** y[yo, + n) ← a[ao, + n) + b[bo, + n); large sums split over the pool in chunks of {@link #ADD_CHUNK}. */
    private void addFlat(float[] a, int ao, float[] b, int bo, float[] y, int yo, int n) {
        if (n < ADD_PARALLEL) {
            addRows(a, ao, b, bo, y, yo, n);
            return;
        }
        parallel.forEach((n + ADD_CHUNK - 1) / ADD_CHUNK, c -> {
            int from = c * ADD_CHUNK;
            addRows(a, ao + from, b, bo + from, y, yo + from, Math.min(ADD_CHUNK, n - from));
        });
    }

    private static void addRows(float[] a, int ao, float[] b, int bo, float[] y, int yo, int n) {
        int i = 0;
        for (; i < F.loopBound(n); i += L) {
            FloatVector.fromArray(F, a, ao + i).add(FloatVector.fromArray(F, b, bo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] = a[ao + i] + b[bo + i];
        }
    }

    /**
     * y = x·wᵀ + bias + residual: the packed SGEMM of the projections ({@link Sgemm}, tuned blocking) with {@code beta = 1}
     * and {@code C = residual}, so bias and residual are added in its epilogue as each tile is stored
     * (in place when y is the residual: each element is read before it is written, by the same item).
     */
    @Override
    public void linearResidual(Tensor x, Tensor w, Tensor bias, Tensor residual, Tensor y) {
        Sgemm.gemm(1f, x, w.permute(1, 0), 1f, residual, bias, y, parallel);
    }

    // ------------------------------------------------------------------ helpers

    private static int rowCount(AttentionProblem p) {
        return Math.toIntExact((long) p.batch() * p.heads() * p.seqQ());
    }

    /** Offset of V[b, kvHead(h)] in a contiguous [B, KVH, Sk, Dv] copy, for row r of [B, H, Sq]. */
    private static long vBase(AttentionProblem p, int r) {
        int b = r / (p.heads() * p.seqQ());
        int h = r / p.seqQ() % p.heads();
        return ((long) b * p.kvHeads() + p.kvHead(h)) * p.seqK() * p.valueDim();
    }

    /** out[oo, oo + n) += w·v[vo, vo + n). */
    private static void axpy(float w, float[] v, long vo, float[] out, int oo, int n) {
        int vi = (int) vo;
        int i = 0;
        for (; i < F.loopBound(n); i += L) {
            FloatVector.fromArray(F, v, vi + i).fma(FloatVector.broadcast(F, w), FloatVector.fromArray(F, out, oo + i)).intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            out[oo + i] += w * v[vi + i];
        }
    }

    /** A contiguous heap copy of the logical elements of {@code t}, made on the calling thread. */
    private static float[] contiguous(Tensor t) {
        float[] a = t.array();
        if (a != null && t.isContiguous() && t.offset() == 0 && a.length == t.elementCount()) {
            return a.clone();
        }
        return t.toFloatArray();
    }

    /** {@code t} broadcast to [heads, rows, cols], contiguous. */
    private static float[] packedHeads(Tensor t, int heads, int rows, int cols) {
        Tensor b = rows == 1 ? t.broadcastTo(heads, cols) : t.broadcastTo(heads, rows, cols);
        return b.toFloatArray();
    }

    /** {@code t} broadcast to [heads, rows, cols], stored transposed as [heads, cols, rows]. */
    private static float[] packedTransposed(Tensor t, int heads, int rows, int cols) {
        return t.broadcastTo(heads, rows, cols).permute(0, 2, 1).toFloatArray();
    }

    /** Writes row-major {@code values} into {@code t} (any strides, heap or off-heap) on the calling thread. */
    private static void store(float[] values, Tensor t) {
        float[] a = t.array();
        if (a != null && t.isContiguous()) {
            System.arraycopy(values, 0, a, (int) t.offset(), values.length);
            return;
        }
        for (int i = 0; i < values.length; i++) {
            t.setFloat(t.indexOfLinear(i), values[i]);
        }
    }

    /** The mask with off-heap dense terms copied to the heap, so that worker threads may read them. */
    private static Mask heapMask(Mask mask) {
        List<Mask> parts = new ArrayList<>();
        for (Mask part : mask.parts()) {
            switch (part) {
                case Mask.BoolMask b when b.mask().segment().isNative() -> parts.add(Mask.bool(heapCopy(b.mask())));
                case Mask.AdditiveMask a when a.mask().segment().isNative() -> parts.add(Mask.additive(heapCopy(a.mask())));
                default -> parts.add(part);
            }
        }
        return Mask.all(parts.toArray(Mask[]::new));
    }

    /** A heap copy keeping broadcast (stride-0) axes unmaterialized, in the same dtype. */
    private static Tensor heapCopy(Tensor t) {
        int[] shape = t.shape();
        int[] compact = shape.clone();
        for (int axis = 0; axis < shape.length; axis++) {
            if (t.stride(axis) == 0) {
                compact[axis] = 1;
            }
        }
        Tensor small = Tensor.view(t.segment(), t.dtype(), t.offset(), compact, t.strides());
        float[] values = small.toFloatArray();
        if (t.dtype() == DType.BOOL) {
            byte[] bytes = new byte[values.length];
            for (int i = 0; i < values.length; i++) {
                bytes[i] = (byte) (values[i] != 0f ? 1 : 0);
            }
            return Tensor.ofBooleans(bytes, compact).broadcastTo(shape);
        }
        return Tensor.of(values, compact).broadcastTo(shape);
    }
}
