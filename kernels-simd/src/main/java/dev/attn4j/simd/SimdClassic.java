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
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

/**
 * The literature family on the Vector API.
 *
 * <ul>
 *   <li>Dot, general and cosine scores reduce to the fused flash kernel of this backend on transformed
 *       inputs: general runs on {@code q' = q·W[h]} (one [Sq, D]·[D, D] product per head, vectorized over
 *       the output features), cosine on rows divided by {@code max(‖x‖, eps)}; no [Sq, Sk, D] tensor.</li>
 *   <li>Additive scores project once to {@code P_q [Sq, A]} and {@code P_k} (stored transposed, [A, Sk]),
 *       then each score row is {@code Σ_a v_a·tanh(P_q[i, a] + P_k[a, j])} with lanes over keys — no
 *       [Sq, Sk, A] tensor and no horizontal reduction. The exponential factors: tanh(a + b) = 1 − 2/(1 +
 *       e^(2a)·e^(2b)), so e^(2·P_q) and e^(2·P_k) are computed once (O(S·A)) and the S²·A loop holds one
 *       FMA and half a division per term; rows with |P| beyond {@link #FACTOR_BOUND} keep the clamped
 *       tanh(x) = 1 − 2/(1 + 2^(2·log2(e)·x)) on x in [−9, 9] (|tanh(9) − 1| &lt; 3e-8).</li>
 *   <li>Hard (top-k, sampled) and local-p attention compute the masked score matrix (the backend's score
 *       kernel, {@link Scores}), then work per row in float32 vectors: top-k by one selection pass, the
 *       sampled draw by per-vector sums (redrawn in float64 where float32 rounding could change the key),
 *       local-p's position network and window weights.</li>
 * </ul>
 *
 * Inputs that may live in a thread-confined arena are copied to the heap on the calling thread (heap
 * arrays are read in place), workers only touch heap arrays, and outputs that are not a contiguous heap
 * array are stored by the calling thread.
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
                gatherRows(rows, r * sk, null, 0, sk, 1f, vs, (int) (((long) b * p.kvHeads() + p.kvHead(h)) * sk * dv), dv, o, r * dv);
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

    /**
     * out[o, o + n) = Σ_t x[xo + t]·w[wo + t·n, wo + t·n + n), vectorized over n: four vectors of out at a time
     * (four FMA chains where one chain waited on each FMA's latency), then the rest one masked vector at a
     * time; each output sums over t in order either way.
     */
    private static void axpyRows(float[] x, long xo, int c, float[] w, long wo, int n, float[] out, long oo) {
        for (int j = 0; j < n; j += 4 * L) {
            Sgemm.axpyRows(x, (int) xo, 1, w, (int) wo + j, n, c, Math.min(4 * L, n - j), out, (int) oo + j);
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
        // P_q [B, H, Sq, A]; P_kᵀ [B, H, A, Sk] with rows padded to whole vectors (per query head: W₂ may differ
        // per query head); e^(2·P_q) and e^(2·P_kᵀ) beside them for the factored tanh
        float[] pq = times(p, qs, w1t, a, sq);
        float[] eq = new float[pq.length];
        exp2x(pq, eq, pq.length);
        int skp = roundUp(sk);
        float[] pkT = new float[p.batch() * heads * a * skp];
        float[] ekT = new float[pkT.length];
        boolean[] kFactored = new boolean[p.batch() * heads];
        parallel.forEach(p.batch() * heads, bh -> {
            int b = bh / heads;
            int h = bh % heads;
            float[] tmp = new float[a];
            long kBase = ((long) b * p.kvHeads() + p.kvHead(h)) * sk * d;
            float big = 0f;
            for (int j = 0; j < sk; j++) {
                axpyRows(ks, kBase + (long) j * d, d, w2t, (long) h * d * a, a, tmp, 0);
                for (int t = 0; t < a; t++) {
                    pkT[(bh * a + t) * skp + j] = tmp[t];
                    big = Math.max(big, Math.abs(tmp[t]));
                }
            }
            exp2x(pkT, ekT, bh * a * skp, a * skp);
            kFactored[bh] = big <= FACTOR_BOUND;
        });
        float[] nv = new float[va.length];
        float[] sumV = new float[heads];
        for (int h = 0; h < heads; h++) {
            double sum = 0;
            for (int t = 0; t < a; t++) {
                nv[h * a + t] = -2f * va[h * a + t];
                sum += va[h * a + t];
            }
            sumV[h] = (float) sum;
        }
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
                    int qo = (bh * sq + i) * a;
                    if (kFactored[bh] && withinBound(pq, qo, a)) {
                        additiveRowFactored(eq, qo, ekT, bh * a * skp, skp, nv, h * a, sumV[h], a, rows, off, kb, ke);
                    } else {
                        additiveRow(pq, qo, pkT, bh * a * skp, skp, va, h * a, a, rows, off, kb, ke);
                    }
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

    /**
     * The largest |P_q| or |P_k| of the factored tanh: e^(±2·10) and products of up to four of them (e^(±80),
     * the paired denominators of {@link #additiveRowFactored}) are normal floats, so nothing overflows to ∞
     * or underflows to 0; beyond it a row takes {@link #additiveRow}. Projections of unit-scale inputs
     * through 1/√D-scale weights stay far below it.
     */
    private static final float FACTOR_BOUND = 10f;
    /** log₂e − (float) log₂e, for {@link #exp2x}'s split exponent. */
    private static final float LOG2E_LO = (float) (1.4426950408889634 - (double) VMath.LOG2E);
    private static final float LN2 = 0.6931472f;

    /** Whether |x[off, off + n)| ≤ {@link #FACTOR_BOUND} (NaN is not). */
    private static boolean withinBound(float[] x, int off, int n) {
        for (int i = off; i < off + n; i++) {
            if (!(Math.abs(x[i]) <= FACTOR_BOUND)) {
                return false;
            }
        }
        return true;
    }

    /** y[0, n) = e^(2·x[0, n)). */
    private static void exp2x(float[] x, float[] y, int n) {
        exp2x(x, y, 0, n);
    }

    /**
     * y[off, off + n) = e^(2·x): 2x·log₂e as hi + lo with an FMA (and log₂e's own float remainder), so the
     * rounding of the product does not scale the result (it would by up to 2^(29·6e-8) at |x| = 10);
     * 2^hi·(1 + lo·ln 2). Relative error ≈ 2e-7 (VMath.exp2's); the scalar tail in float64.
     */
    private static void exp2x(float[] x, float[] y, int off, int n) {
        int i = off;
        for (; i < off + F.loopBound(n); i += L) {
            FloatVector x2 = FloatVector.fromArray(F, x, i).mul(2f);
            FloatVector hi = x2.mul(VMath.LOG2E);
            FloatVector lo = x2.fma(FloatVector.broadcast(F, VMath.LOG2E), hi.neg()).add(x2.mul(LOG2E_LO));
            VMath.exp2(hi).mul(lo.fma(LN2, 1f)).intoArray(y, i);
        }
        for (; i < off + n; i++) {
            y[i] = (float) StrictMath.exp(2.0 * x[i]); // StrictMath: the same bits in every JIT tier
        }
    }

    /**
     * row[off + j] = Σv − Σ_t 2·v_t/(1 + e^(2·pq_t)·e^(2·pk_tj)) for j in [kb, ke), lanes over keys:
     * tanh(a + b) = 1 − 2/(1 + e^(2a)·e^(2b)), so the key loop holds no exponential. Hidden units go in
     * pairs over one division, u/d + w/d' = (u·d' + w·d)/(d·d'): the division was the loop's bottleneck, and
     * with |a|, |b| ≤ {@link #FACTOR_BOUND} each d ≤ 1 + e^40, so d·d' stays finite. ekT's rows are padded to
     * whole vectors ({@code stride}); the lanes past ke fall on keys that {@link RowSoftmax#maskedRow}
     * overwrites, and the last vector's store is masked at ke.
     */
    private static void additiveRowFactored(float[] eq, int eqOff, float[] ekT, int ekOff, int stride, float[] nv, int vOff,
                                            float sumV, int hidden, float[] row, int off, int kb, int ke) {
        for (int j = Math.max(kb, 0) / L * L; j < ke; j += L) {
            FloatVector acc = FloatVector.zero(F);
            int t = 0;
            for (; t + 2 <= hidden; t += 2) {
                int at = ekOff + t * stride + j;
                FloatVector d0 = FloatVector.fromArray(F, ekT, at).fma(eq[eqOff + t], 1f);
                FloatVector d1 = FloatVector.fromArray(F, ekT, at + stride).fma(eq[eqOff + t + 1], 1f);
                FloatVector num = d1.mul(nv[vOff + t]).add(d0.mul(nv[vOff + t + 1]));
                acc = acc.add(num.div(d0.mul(d1)));
            }
            if (t < hidden) {
                FloatVector d0 = FloatVector.fromArray(F, ekT, ekOff + t * stride + j).fma(eq[eqOff + t], 1f);
                acc = acc.add(FloatVector.broadcast(F, nv[vOff + t]).div(d0));
            }
            acc = acc.add(sumV);
            if (j + L <= ke) {
                acc.intoArray(row, off + j);
            } else {
                acc.intoArray(row, off + j, F.indexInRange(j, ke));
            }
        }
    }

    /**
     * The unfactored row (P_q or P_k beyond {@link #FACTOR_BOUND}, or NaN): row[off + j] = Σ_t v[t]·tanh(pq[t] +
     * pkT[t·stride + j]) for j in [kb, ke), lanes over keys.
     */
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

    // ------------------------------------------------------------------ hard and local attention

    /**
     * Query rows per work item of top-k, sampled and local-p attention: a decode step's few rows make one
     * item, which the calling thread runs without waking a helper (that wake-up cost more than the rows).
     */
    private static final int HARD_ROWS = 16;
    /** The calling thread's masked logits [B·H·Sq][Sk] of the hard and local kernels, reused call after call. */
    private static final ThreadBuffer LOGITS = new ThreadBuffer();
    /**
     * The most floats of logits kept in {@link #LOGITS} (4 MB): larger matrices are allocated per call, so
     * that a thread does not hold a long prefill's score matrix for ever.
     */
    private static final int CACHED_LOGITS = 1 << 20;
    /** Each thread's row scratch of the hard and local kernels. */
    private static final ThreadLocal<RowScratch> SCRATCH = ThreadLocal.withInitial(RowScratch::new);

    /**
     * One thread's scratch for a row of the hard and local kernels (grows, never shrinks): floats padded
     * to whole vectors, the keys they belong to, and per-vector partial sums.
     */
    static final class RowScratch {
        float[] values = new float[0];
        float[] sums = new float[0];
        int[] keys = new int[0];

        /** Room for {@code n} values (padded to whole vectors), their vector sums and {@code keys} keys. */
        RowScratch ensure(int n, int keyCount) {
            int padded = roundUp(n);
            if (values.length < padded) {
                values = new float[padded];
                sums = new float[padded / L];
            }
            if (keys.length < keyCount) {
                keys = new int[keyCount];
            }
            return this;
        }
    }

    /** n rounded up to whole vectors (at least one). */
    private static int roundUp(int n) {
        return Math.max(L, (n + L - 1) / L * L);
    }

    /**
     * The masked logits [B·H·Sq][Sk] of {@code f}, in the calling thread's {@link #LOGITS} when small enough: the
     * backend's score kernel ({@link Scores}: key tiles the mask hides skipped, a decode step's rows as dot
     * products).
     */
    private float[] maskedLogits(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Mask mask) {
        return maskedLogits(p, f, q, k, mask, null);
    }

    /**
     * {@link #maskedLogits}, and where {@code fused} is not null each work item's rows handed to it on the thread
     * that computed them, calls from {@link #FUSED_INLINE_MACS} on the pool (the additive score's rows all at once,
     * after them).
     */
    private float[] maskedLogits(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Mask mask, RowWork fused) {
        if (f instanceof ScoreFunction.Additive a) {
            float[] rows = additiveLogits(p, a, q, k, mask, ScoreStage.MASKED);
            if (fused != null) {
                fused.run(rows, 0, rowCount(p));
            }
            return rows;
        }
        int size = rowCount(p) * p.seqK();
        float[] rows = size <= CACHED_LOGITS ? LOGITS.get(size) : new float[size];
        Tensor[] qk = prepare(p, f, q, k);
        Tensor logits = Tensor.of(rows, p.scoreShape());
        if (fused == null) {
            attention.scores(p, qk[0], qk[1], heapMask(mask), ScoreStage.MASKED, logits);
        } else {
            Scores.scores(p, qk[0], qk[1], heapMask(mask), ScoreStage.MASKED, logits, parallel, FUSED_INLINE_MACS,
                    (from, count) -> fused.run(rows, from, from + count));
        }
        return rows;
    }

    /** A hard or local kernel's work on rows [from, to) of the flattened (b, h, i) index, whose masked logits are ready. */
    @FunctionalInterface
    private interface RowWork {
        void run(float[] logits, int from, int to);
    }

    /**
     * From this many multiply-adds of logits a decode step's hard or local call goes to the pool, each head with its
     * rows' work ({@link #forRows}); below, the call runs on the calling thread. The score matrix's own: one
     * token over 4 heads × 128 keys, D = 64 (2^15) on two threads took 2.0–2.4 µs against 3.1 on one (top-k; local-p
     * 2.7 against 3.6) while the 2-vCPU VM ran both threads at full speed, and 5.4–6.2 µs while it did not (about
     * half the time, in spells of seconds, every part of a two-thread call ran 1.7–3× slower, the caller's own items
     * included).
     */
    private static final long FUSED_INLINE_MACS = Scores.INLINE_MACS;

    /**
     * The masked logits of {@code f}, then {@code work} over every row. At a decode step's few query rows (dot
     * products, not the additive score) large enough for the pool, the two are one pass over it: each head's
     * logits, then its rows' work, on the same thread ({@link Scores#scores(AttentionProblem, Tensor, Tensor, Mask,
     * ScoreStage, Tensor, Parallel, long, Scores.RowsDone)}), where the logits went to the pool and the rows, fewer
     * than {@link #HARD_ROWS}, then ran on the calling thread. One token over 12 heads × 128 keys, D = 64, the
     * two ways toggled call by call in one JVM: top-k 1.15–1.20×, local-p 1.29–1.34×, sampled 1.07–1.09× (0.97×
     * while the VM ran two threads slowly). Otherwise the logits first, then the rows in blocks of
     * {@link #HARD_ROWS}.
     */
    private void forRows(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Mask mask, RowWork work) {
        int n = rowCount(p);
        long macs = (long) n * p.seqK() * p.headDim();
        if (!(f instanceof ScoreFunction.Additive) && p.seqQ() <= Scores.FEW_ROWS && macs >= FUSED_INLINE_MACS) {
            maskedLogits(p, f, q, k, mask, work);
            return;
        }
        float[] rows = maskedLogits(p, f, q, k, mask);
        parallel.forEach((n + HARD_ROWS - 1) / HARD_ROWS,
                item -> work.run(rows, item * HARD_ROWS, Math.min(n, item * HARD_ROWS + HARD_ROWS)));
    }

    /**
     * Top-k: each row keeps its k best keys in one pass (a sorted list of k, entered only by keys above its
     * last score, found a vector at a time), then softmax over those k in float32 and their weighted rows of V.
     */
    @Override
    public void topK(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Tensor v, Mask mask, int topK, Tensor out,
                     int[] indices) {
        float[] vs = heapView(v);
        int vOff = heapOffset(v);
        int sk = p.seqK();
        int dv = p.valueDim();
        int n = rowCount(p);
        RowsOut res = RowsOut.of(out, n * dv);
        float[] o = res.rows();
        int oOff = res.offset();
        forRows(p, f, q, k, mask, (rows, from, to) -> {
            RowScratch s = SCRATCH.get().ensure(topK, topK);
            for (int r = from; r < to; r++) {
                int sel = selectTopK(rows, r * sk, sk, topK, s.values, s.keys);
                float inv = 0f;
                if (sel > 0) {
                    Arrays.fill(s.values, sel, roundUp(sel), Float.NEGATIVE_INFINITY);
                    inv = 1f / expShifted(s.values, roundUp(sel), s.values[0]);
                }
                gatherRows(s.values, s.keys, sel, inv, vs, vOff + (int) vBase(p, r), dv, o, oOff + r * dv);
                if (indices != null) {
                    for (int t = 0; t < topK; t++) {
                        indices[r * topK + t] = t < sel ? s.keys[t] : -1;
                    }
                }
            }
        });
        res.finish();
    }

    /**
     * The k best keys of row[off, off + n) — higher score first, then lower key — into score[0, m) and
     * key[0, m), m = min(k, unmasked keys) returned; −∞ (masked) keys and NaN never enter. A key enters only
     * above the current k-th score (a later equal score loses to the earlier key), so a vector of keys is
     * looked at lane by lane only when some lane passes that threshold.
     */
    static int selectTopK(float[] row, int off, int n, int k, float[] score, int[] key) {
        int bound = F.loopBound(n);
        // every key of the top k scores at least the k-th largest of the lanes' maxima (k of the row's own keys
        // do): keys below it are passed over before the list is full too, where every key entered until it was.
        // x > nextDown(floor) is x ≥ floor (ties at the floor enter, the earlier key first)
        float floor = k <= L && bound >= 2 * L ? kthLargestLaneMax(row, off, bound, k) : Float.NEGATIVE_INFINITY;
        float entry = floor == Float.NEGATIVE_INFINITY ? floor : Math.nextDown(floor);
        int m = 0;
        float threshold = entry;
        int j = 0;
        for (; j < bound; j += L) {
            long pass = FloatVector.fromArray(F, row, off + j).compare(VectorOperators.GT, threshold).toLong();
            while (pass != 0) {
                int lane = Long.numberOfTrailingZeros(pass);
                pass &= pass - 1;
                float x = row[off + j + lane];
                if (x > threshold) {
                    m = insert(score, key, m, k, x, j + lane);
                    threshold = m == k ? score[k - 1] : entry;
                }
            }
        }
        for (; j < n; j++) {
            float x = row[off + j];
            if (x > threshold) {
                m = insert(score, key, m, k, x, j);
                threshold = m == k ? score[k - 1] : entry;
            }
        }
        return m;
    }

    private static final VectorShuffle<Float> ROTATE_ONE = VectorShuffle.fromOp(F, i -> (i + 1) % L);

    /**
     * The k-th largest (k ≤ L) of the L lane-wise maxima of row[off, off + bound), bound a multiple of L: the
     * smallest maximum that fewer than k others exceed (each lane's count by L − 1 rotations). NaN keys are passed
     * over (the maxima start at −∞); −∞ where fewer than k lanes hold a finite key.
     */
    private static float kthLargestLaneMax(float[] row, int off, int bound, int k) {
        FloatVector max = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < bound; j += L) {
            max = VMath.max(max, FloatVector.fromArray(F, row, off + j));
        }
        IntVector above = IntVector.zero(Vec.I);
        FloatVector other = max;
        for (int r = 1; r < L; r++) {
            other = other.rearrange(ROTATE_ONE);
            above = above.add(1, other.compare(VectorOperators.GT, max).cast(Vec.I));
        }
        // the least of the candidates is the largest of their negations; the others at −∞ after the negation
        VectorMask<Float> tooLow = above.compare(VectorOperators.GE, k).cast(F);
        return -RowSoftmax.lanesMax(max.neg().blend(Float.NEGATIVE_INFINITY, tooLow));
    }

    /** Puts (x, j) after every held score ≥ x (j is the highest key yet), dropping the k+1-th; returns the new count. */
    private static int insert(float[] score, int[] key, int m, int k, float x, int j) {
        // one pass from the end: each lower score moves up a slot (the k-th falls off a full list)
        int t = Math.min(m, k - 1);
        while (t > 0 && score[t - 1] < x) {
            score[t] = score[t - 1];
            key[t] = key[t - 1];
            t--;
        }
        score[t] = x;
        key[t] = j;
        return Math.min(m + 1, k);
    }

    /**
     * a[0, n) ← e^(a − max) for n a multiple of L (−∞ padding gives 0); returns the sum, reduced in registers
     * ({@link DecodeBlocks#tree1}: the sum vector stored and read back as scalars waited on the store).
     */
    private static float expShifted(float[] a, int n, float max) {
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < n; i += L) {
            FloatVector e = VMath.exp2(FloatVector.fromArray(F, a, i).sub(max).mul(VMath.LOG2E));
            e.intoArray(a, i);
            acc = acc.add(e);
        }
        return DecodeBlocks.tree1(acc);
    }

    /**
     * out[oo, oo + dv) = scale·Σ_t w[t]·v[vo + key_t·dv, + dv) over t in [0, n), key_t = keys[t] (keys null:
     * key0 + t); zero weights skipped (as the oracle skips them: no 0·∞). Four vectors of the output at a time
     * (four FMA chains; eight, over even and odd t, measured no faster on the additive attention at S = 255),
     * then one masked vector at a time; every output element sums over t in order.
     */
    private static void gatherRows(float[] w, int[] keys, int n, float scale, float[] v, int vo, int dv, float[] out,
                                   int oo) {
        gatherRows(w, 0, keys, 0, n, scale, v, vo, dv, out, oo);
    }

    private static void gatherRows(float[] w, int wo, int[] keys, int key0, int n, float scale, float[] v, int vo, int dv,
                                   float[] out, int oo) {
        int d = 0;
        for (; d + 4 * L <= dv; d += 4 * L) {
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            for (int t = 0; t < n; t++) {
                float x = w[wo + t];
                if (x != 0f) {
                    int row = vo + (keys == null ? key0 + t : keys[t]) * dv + d;
                    FloatVector b = FloatVector.broadcast(F, x);
                    a0 = FloatVector.fromArray(F, v, row).fma(b, a0);
                    a1 = FloatVector.fromArray(F, v, row + L).fma(b, a1);
                    a2 = FloatVector.fromArray(F, v, row + 2 * L).fma(b, a2);
                    a3 = FloatVector.fromArray(F, v, row + 3 * L).fma(b, a3);
                }
            }
            a0.mul(scale).intoArray(out, oo + d);
            a1.mul(scale).intoArray(out, oo + d + L);
            a2.mul(scale).intoArray(out, oo + d + 2 * L);
            a3.mul(scale).intoArray(out, oo + d + 3 * L);
        }
        for (; d < dv; d += L) {
            VectorMask<Float> m = F.indexInRange(d, dv);
            FloatVector acc = FloatVector.zero(F);
            for (int t = 0; t < n; t++) {
                float x = w[wo + t];
                if (x != 0f) {
                    int row = vo + (keys == null ? key0 + t : keys[t]) * dv + d;
                    acc = FloatVector.fromArray(F, v, row, m).fma(FloatVector.broadcast(F, x), acc);
                }
            }
            acc.mul(scale).intoArray(out, oo + d, m);
        }
    }

    /**
     * Sampled: each row's exponentials in float32 a vector at a time with per-vector sums, the inverse CDF
     * found over those sums and then within one vector; a draw that lands within {@link #drawMargin} of
     * either edge of its key's interval is redrawn in float64 ({@link #inverseCdf}), so the key is always
     * the float64 computation's.
     */
    @Override
    public void sample(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Tensor v, Mask mask, long seed, Tensor out,
                       int[] indices) {
        float[] vs = heapView(v);
        int vOff = heapOffset(v);
        int sk = p.seqK();
        int dv = p.valueDim();
        int n = rowCount(p);
        RowsOut res = RowsOut.of(out, n * dv);
        float[] o = res.rows();
        int oOff = res.offset();
        forRows(p, f, q, k, mask, (rows, from, to) -> {
            RowScratch s = SCRATCH.get().ensure(sk, 0);
            for (int r = from; r < to; r++) {
                int key = drawKey(rows, r * sk, sk, Kernels.sampleUniform(seed, r), s);
                if (key >= 0) {
                    System.arraycopy(vs, vOff + (int) (vBase(p, r) + (long) key * dv), o, oOff + r * dv, dv);
                } else {
                    Arrays.fill(o, oOff + r * dv, oOff + r * dv + dv, 0f);
                }
                if (indices != null) {
                    indices[r] = key;
                }
            }
        });
        res.finish();
    }

    /** The key that the float64 inverse CDF draws from row[off, off + n) at uniform u, or −1 (see {@link #sample}). */
    static int drawKey(float[] row, int off, int n, double u, RowScratch s) {
        float max = RowSoftmax.max(row, off, n);
        if (max == Float.NEGATIVE_INFINITY) {
            return -1;
        }
        if (Float.isNaN(max)) {
            return drawExact(row, off, n, u);
        }
        int padded = roundUp(n);
        float[] e = s.values;
        System.arraycopy(row, off, e, 0, n);
        Arrays.fill(e, n, padded, Float.NEGATIVE_INFINITY);
        double total = expBlocks(e, padded, max, s.sums);
        double target = u * total;
        double margin = drawMargin(total, n);
        double c = 0;
        for (int b = 0; b < padded / L; b++) {
            if (c + s.sums[b] <= target) {
                c += s.sums[b];
                continue;
            }
            for (int j = b * L; j < b * L + L; j++) {
                double next = c + e[j];
                if (e[j] > 0f && next > target) {
                    // c ≤ target < next: the float64 key is j unless an edge is closer than the rounding could move it
                    return target - c > margin && next - target > margin ? j : drawExact(row, off, n, u);
                }
                c = next;
            }
            break; // the lanes' sum in order fell short of the vector's sum: a rounding edge
        }
        return drawExact(row, off, n, u);
    }

    /**
     * How far apart the float32 cumulative weights and target may lie from the float64 ones, doubled: each
     * exponential is off by ≤ 1.7e-7 relative (VMath.exp2) plus ≤ 1.2e-7·|x|·e^x ≤ 4.4e-8 absolute (the
     * rounding of x − max and of x·log₂e), each per-vector sum, in any order, by ≤ L·6e-8 relative (L ≤ 16), and the
     * target moves with the total; both bounds are relative to weights whose largest is 1.
     */
    private static double drawMargin(double total, int n) {
        return 2 * (total * (1.7e-7 + 16 * 6e-8) + n * 4.4e-8);
    }

    /**
     * a[0, n) ← e^(a − max) for n a multiple of L; sums[b] = the sum of vector b; returns Σ sums in order. The
     * vector sums are {@code reduceLanes(ADD)}, whose order C2 and the interpreter may round differently:
     * harmless here, as {@link #drawMargin} covers any order and the key drawn is the float64 one either way
     * (the lanes summed in order cost 16 dependent adds per vector: sampled, 128 tokens, one thread, 134-135
     * against 116-120 µs min).
     */
    private static double expBlocks(float[] a, int n, float max, float[] sums) {
        double total = 0;
        for (int i = 0; i < n; i += L) {
            FloatVector e = VMath.exp2(FloatVector.fromArray(F, a, i).sub(max).mul(VMath.LOG2E));
            e.intoArray(a, i);
            float sum = e.reduceLanes(VectorOperators.ADD);
            sums[i / L] = sum;
            total += sum;
        }
        return total;
    }

    /** The float64 draw (the scalar truth of {@link #drawKey}): e^(x − max) per key, then {@link #inverseCdf}. Rare: allocates. */
    static int drawExact(float[] row, int off, int n, double u) {
        double[] w = new double[n];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            w[j] = row[off + j];
            max = Math.max(max, w[j]);
        }
        if (max == Double.NEGATIVE_INFINITY) {
            return -1;
        }
        for (int j = 0; j < n; j++) {
            w[j] = Math.exp(w[j] - max);
        }
        return inverseCdf(w, u);
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

    /**
     * Local-p: the position network of a block of rows in float32 vectors (W_p·h_t with lanes over the
     * hidden units, four partial sums over the head dimension; tanh and the v_p dot as vectors), p_t in
     * float64 from z; then softmax over the window and the Gaussian factor in float32 vectors.
     */
    @Override
    public void localP(AttentionProblem p, ScoreFunction f, LocalP local, Tensor q, Tensor k, Tensor v, Mask mask, Tensor out,
                       Tensor centres) {
        float[] vs = heapView(v);
        int vOff = heapOffset(v);
        float[] qs = heapView(q);
        int qOff = heapOffset(q);
        int heads = p.heads();
        int d = p.headDim();
        int a = local.hidden();
        // W_p [A, D] and v_p [A] per head, read in place; a weight shared by the heads has head stride 0
        float[] wp = heapView(local.wp());
        int wpOff = heapOffset(local.wp());
        int wpHead = local.wp().rank() == 3 && local.wp().dim(0) > 1 ? a * d : 0;
        float[] vp = heapView(local.vp());
        int vpOff = heapOffset(local.vp());
        int vpHead = local.vp().rank() == 2 && local.vp().dim(0) > 1 ? a : 0;
        // many rows per weight: W_pᵀ [D, A] once per distinct head, then lanes over the hidden units;
        // a decode step's few rows: dot products along D in place (a transpose would cost more than they do)
        boolean transpose = p.batch() * p.seqQ() * (wpHead == 0 ? heads : 1) >= TRANSPOSE_ROWS;
        float[] wT = transpose ? transposeHeads(wp, wpOff, wpHead == 0 ? 1 : heads, a, d) : null;
        int sk = p.seqK();
        int dv = p.valueDim();
        int halfWidth = local.halfWidth();
        // −(j − p_t)²/(2σ²) in log₂ units: one multiply per key
        float gauss = (float) (-VMath.LOG2E / (2 * local.sigma() * local.sigma()));
        int n = rowCount(p);
        RowsOut res = RowsOut.of(out, n * dv);
        float[] o = res.rows();
        int oOff = res.offset();
        float[] c = new float[n];
        forRows(p, f, q, k, mask, (rows, from, to) -> {
            RowScratch s = SCRATCH.get().ensure((int) Math.max(a, Math.min(sk, 2L * halfWidth + 1)), 0);
            for (int r = from; r < to; r++) {
                int h = r / p.seqQ() % heads;
                double z = transpose
                        ? positionLogit(qs, qOff + r * d, d, wT, (wpHead == 0 ? 0 : h) * d * a, a, vp, vpOff + h * vpHead,
                                s.values)
                        : positionLogitInPlace(qs, qOff + r * d, d, wp, wpOff + h * wpHead, a, vp, vpOff + h * vpHead, s.values);
                double pt = sk / (1 + Math.exp(-z));
                c[r] = (float) pt;
                int lo = (int) Math.max(0, Math.ceil(pt - halfWidth));
                int hi = (int) Math.min(sk - 1, Math.floor(pt + halfWidth));
                int width = hi - lo + 1;
                float max = width > 0 ? RowSoftmax.max(rows, r * sk + lo, width) : Float.NEGATIVE_INFINITY;
                if (max == Float.NEGATIVE_INFINITY) {
                    Arrays.fill(o, oOff + r * dv, oOff + r * dv + dv, 0f);
                    continue;
                }
                int padded = roundUp(width);
                System.arraycopy(rows, r * sk + lo, s.values, 0, width);
                Arrays.fill(s.values, width, padded, Float.NEGATIVE_INFINITY);
                float inv = 1f / expShifted(s.values, padded, max);
                // p_t − lo in float64 first: (j − lo) − (p_t − lo) keeps the offsets small and exact
                gaussian(s.values, padded, (float) (pt - lo), gauss);
                gatherRows(s.values, 0, null, lo, width, inv, vs, vOff + (int) vBase(p, r), dv, o, oOff + r * dv);
            }
        });
        res.finish();
        if (centres != null) {
            store(c, centres);
        }
    }

    /**
     * z = Σ_a v_p[a]·tanh(Σ_e W_p[a, e]·x[e]) for one row x, W_p stored transposed [D, A]: the hidden units'
     * pre-activations by {@link #axpyRows} (lanes over a, four FMA chains, unmasked where whole vectors fit;
     * four masked chains of partial sums over e took the local-p call from 234 to 289 µs, 128 tokens, one
     * thread) into xs, then tanh and the v_p dot as vectors, the lanes of z by a tree.
     */
    private static double positionLogit(float[] x, int xo, int d, float[] wT, int wo, int a, float[] vp, int vpo,
                                        float[] xs) {
        axpyRows(x, xo, d, wT, wo, a, xs, 0);
        return positionTanh(xs, a, vp, vpo);
    }

    /** Σ_a v_p[a]·tanh(xs[a]), lanes over a, then the lanes by {@link DecodeBlocks#tree1}. */
    private static double positionTanh(float[] xs, int a, float[] vp, int vpo) {
        FloatVector z = FloatVector.zero(F);
        for (int t = 0; t < a; t += L) {
            // masked lanes: xs and v_p load as 0, tanh(0)·0 adds nothing
            VectorMask<Float> m = F.indexInRange(t, a);
            z = VMath.tanh(FloatVector.fromArray(F, xs, t, m)).fma(FloatVector.fromArray(F, vp, vpo + t, m), z);
        }
        return DecodeBlocks.tree1(z);
    }

    /** Rows of local-p per distinct position weight from which W_p is transposed first (see {@link #localP}). */
    private static final int TRANSPOSE_ROWS = 16;

    /** [heads, A, D] at w[wo] → [heads, D, A]. */
    private static float[] transposeHeads(float[] w, int wo, int heads, int a, int d) {
        float[] t = new float[heads * a * d];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < a; i++) {
                for (int e = 0; e < d; e++) {
                    t[(h * d + e) * a + i] = w[wo + (h * a + i) * d + e];
                }
            }
        }
        return t;
    }

    /**
     * {@link #positionLogit} with W_p [A, D] read in place: the x_a as a decode step's scores are (W_p's rows as
     * keys): sixteen at a time where {@link DecodeBlocks#sixteens}(d), the rest four at a time, into xs; then tanh
     * and the v_p dot as vectors. Each x_a's lanes went through a buffer and were read back as scalars, a store
     * the loads waited on, A times a row: one token over 4 heads, D = A = 64, one thread, 1.2× the whole call.
     */
    private static double positionLogitInPlace(float[] x, int xo, int d, float[] w, int wo, int a, float[] vp, int vpo,
                                               float[] xs) {
        int sixteens = DecodeBlocks.sixteens(d) ? a / 16 : 0;
        if (sixteens > 0) {
            DecodeBlocks.scores16by4(x, xo, w, wo, d, d, xs, 0, sixteens);
        }
        int done = 16 * sixteens;
        DecodeBlocks.scoresKeys4(x, xo, w, wo + done * d, d, d, xs, done, a - done, VMath.lanes());
        return positionTanh(xs, a, vp, vpo);
    }

    /** w[i] ← w[i]·2^(gauss·(i − centre)²) for i in [0, n), n a multiple of L: the Gaussian factor of the window. */
    private static void gaussian(float[] w, int n, float centre, float gauss) {
        FloatVector iota = FloatVector.zero(F).addIndex(1);
        for (int i = 0; i < n; i += L) {
            FloatVector dj = iota.add((float) i - centre);
            FloatVector g = VMath.exp2(dj.mul(dj).mul(gauss));
            FloatVector.fromArray(F, w, i).mul(g).intoArray(w, i);
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
     * y = x·wᵀ + bias + residual: the projections' {@link Sgemm#gemm} (unpacked for a few rows, else the packed
     * SGEMM with its tuned blocking) with {@code beta = 1} and {@code C = residual}, so bias and residual are
     * added in its epilogue as each output is stored (in place when y is the residual: each element is read
     * before it is written, by the same item).
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


    /**
     * {@code t}'s own array when it is a contiguous heap view (read in place from {@link #heapOffset}), else a
     * contiguous heap copy made on the calling thread.
     */
    private static float[] heapView(Tensor t) {
        float[] a = t.array();
        return a != null && t.isContiguous() ? a : t.toFloatArray();
    }

    /** Where {@link #heapView} of {@code t} starts. */
    private static int heapOffset(Tensor t) {
        return t.array() != null && t.isContiguous() ? (int) t.offset() : 0;
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

    /**
     * The hard kernels' output rows: {@code out}'s own array where it is a contiguous heap tensor, else a buffer
     * of {@code count} floats that {@link #finish} stores into {@code out}.
     */
    private record RowsOut(float[] rows, int offset, Tensor copyTo) {
        static RowsOut of(Tensor out, int count) {
            float[] a = out.array();
            return a != null && out.isContiguous() ? new RowsOut(a, (int) out.offset(), null)
                    : new RowsOut(new float[count], 0, out);
        }

        void finish() {
            if (copyTo != null) {
                store(rows, copyTo);
            }
        }
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
