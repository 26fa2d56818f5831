package dev.attn4j.simd;

import static dev.attn4j.simd.Vec.F;
import static dev.attn4j.simd.Vec.L;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Mask;
import dev.attn4j.api.MaskEvaluator;
import dev.attn4j.api.Tensor;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Fused flash-style attention, lanes as query rows.
 *
 * <pre>
 *   per (b, h, query tile of BQ rows), Qt = (q·scale)ᵀ [D][BQ] copied once:
 *     for each key tile [j0, j0 + Bk) inside the tile's visible key range:
 *       St[j][r] = Σ_d K[j][d]·Qt[d][r]                       (MicroKernels.rowsA, 12 keys × 2 vectors)
 *       St      = softcap → + dense bias → −∞ outside [keyBegin(r), keyEnd(r))
 *       m'      = max(m, max_j St[j]);  α = e^(m − m');  P = e^(St − m');  l = α·l + Σ_j P
 *       Ot[e]   = α·Ot[e] + Σ_j V[j][e]·P[j]                  (MicroKernels.colsA, 12 features × 2 vectors)
 *     out[r][e] = Ot[e][r] / l[r]  (0 when l = 0),  lse = m + ln l  (−∞ when l = 0)
 * </pre>
 *
 * Running max, sum and rescale factor are vectors over the tile's rows, so the online softmax needs
 * no horizontal reduction; exponentials are {@link VMath#exp2} of (s − m)·log₂e, in float32. Memory
 * is O(tile) per thread. Decode (few work items, long keys) splits each query tile's keys into a fixed
 * number of ranges whose partial (m, l, O) are merged in split order through their log-sum-exps.
 */
final class FlashAttention {
    /** Row vectors per query tile, fixed by the micro-kernels. */
    static final int RV = 2;
    /** Query rows per tile. */
    static final int BQ = RV * L;

    private static final float NEG_INF = Float.NEGATIVE_INFINITY;
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private FlashAttention() {
    }

    /** Per-thread buffers, grown on demand. */
    static final class Scratch {
        float[] qt = new float[0];
        float[] st = new float[0];
        float[] bias = new float[0];
        float[] ot = new float[0];
        final float[] kb = new float[BQ];
        final float[] ke = new float[BQ];
        final float[] m = new float[BQ];
        final float[] mUse = new float[BQ];
        final float[] alpha = new float[BQ];
        final float[] l = new float[BQ];

        void ensure(int d, int dv, int bk) {
            if (qt.length < d * BQ) {
                qt = new float[d * BQ];
            }
            if (st.length < bk * BQ) {
                st = new float[bk * BQ];
                bias = new float[bk * BQ];
            }
            if (ot.length < dv * BQ) {
                ot = new float[dv * BQ];
            }
        }
    }

    /** One call's operands as arrays, offsets and element strides (all last strides are 1). */
    private record Call(AttentionProblem p, MaskEvaluator ev, DenseTerms dense, FlashConfig cfg,
                        float[] q, long qOff, long qsb, long qsh, long qss,
                        float[] k, long kOff, long ksb, long ksh, long kss,
                        float[] v, long vOff, long vsb, long vsh, long vss,
                        float[] o, long oOff, long osb, long osh, long oss,
                        Tensor lse, int qTiles, int splits, float[] partials) {

        int qBase(int b, int h) {
            return (int) (qOff + b * qsb + h * qsh);
        }

        int kBase(int b, int h) {
            return (int) (kOff + b * ksb + p.kvHead(h) * ksh);
        }

        int vBase(int b, int h) {
            return (int) (vOff + b * vsb + p.kvHead(h) * vsh);
        }

        int oBase(int b, int h) {
            return (int) (oOff + b * osb + h * osh);
        }
    }

    /** This thread's scratch, large enough for the given sizes. */
    static Scratch scratch(int d, int dv, int bk) {
        Scratch s = SCRATCH.get();
        s.ensure(d, dv, bk);
        return s;
    }

    static boolean fast(Tensor t) {
        return t.array() != null && (t.dim(-1) == 1 || t.stride(-1) == 1);
    }

    static void run(AttentionProblem p, Tensor q, Tensor k, Tensor v, Mask mask, Tensor out, Tensor lse,
                    Parallel par, FlashConfig cfg) {
        if (!fast(q) || !fast(k) || !fast(v) || !fast(out)) {
            // off-heap or strided last axis: run on contiguous heap copies, then copy the output back
            Tensor oc = fast(out) ? out : Tensor.zeros(out.shape());
            run(p, Copies.heap(q), Copies.heap(k), Copies.heap(v), mask, oc, lse, par, cfg);
            if (oc != out) {
                Copies.copy(oc, out);
            }
            return;
        }
        if (lse != null && lse.array() == null) {
            // worker threads cannot write a view of a thread-confined arena: go through the heap
            Tensor lc = Tensor.zeros(lse.shape());
            run(p, q, k, v, mask, out, lc, par, cfg);
            Copies.copy(lc, lse);
            return;
        }
        MaskEvaluator ev = MaskEvaluator.of(p, mask);
        int qTiles = (p.seqQ() + BQ - 1) / BQ;
        int items = p.batch() * p.heads() * qTiles;
        int splits = cfg.splits(items, p.seqK());
        float[] partials = splits > 1 ? new float[items * splits * partialSize(p)] : null;
        Call c = new Call(p, ev, new DenseTerms(ev), cfg,
                q.array(), q.offset(), q.stride(0), q.stride(1), q.stride(2),
                k.array(), k.offset(), k.stride(0), k.stride(1), k.stride(2),
                v.array(), v.offset(), v.stride(0), v.stride(1), v.stride(2),
                out.array(), out.offset(), out.stride(0), out.stride(1), out.stride(2),
                lse, qTiles, splits, partials);
        int bh = p.batch() * p.heads();
        // largest query tiles first (causal: the last tiles see the most keys)
        par.forEach(items * splits, idx -> {
            int rank = idx / (bh * splits);
            int rest = idx % (bh * splits);
            int split = rest / bh;
            int head = rest % bh;
            item(c, head / p.heads(), head % p.heads(), qTiles - 1 - rank, split);
        });
        if (splits > 1) {
            par.forEach(items, idx -> merge(c, idx / qTiles / p.heads(), idx / qTiles % p.heads(), idx % qTiles));
        }
    }

    private static int partialSize(AttentionProblem p) {
        return BQ * (p.valueDim() + 2);
    }

    private static int partialIndex(Call c, int b, int h, int qt, int split) {
        int item = (b * c.p.heads() + h) * c.qTiles + qt;
        return (item * c.splits + split) * partialSize(c.p);
    }

    private static void item(Call c, int b, int h, int qt, int split) {
        AttentionProblem p = c.p;
        int i0 = qt * BQ;
        int rows = Math.min(BQ, p.seqQ() - i0);
        int kLo = c.ev.keyBegin(b, i0);
        int kHi = c.ev.keyEnd(b, i0 + rows - 1);
        int bk = c.cfg.keyTile();
        if (c.splits > 1) {
            int tiles = Math.max(0, (kHi - kLo + bk - 1) / bk);
            int per = (tiles + c.splits - 1) / c.splits * bk;
            int from = kLo + split * per;
            kHi = Math.min(kHi, from + per);
            kLo = from;
        }
        Scratch s = SCRATCH.get();
        s.ensure(p.headDim(), p.valueDim(), bk);
        tile(c, s, b, h, i0, rows, kLo, kHi);
        if (c.splits > 1) {
            int at = partialIndex(c, b, h, qt, split);
            int n = p.valueDim() * BQ;
            System.arraycopy(s.ot, 0, c.partials, at, n);
            System.arraycopy(s.m, 0, c.partials, at + n, BQ);
            System.arraycopy(s.l, 0, c.partials, at + n + BQ, BQ);
        } else {
            finish(c, s, b, h, i0, rows);
        }
    }

    /** Runs one query tile over keys [kFrom, kTo); leaves m, l and the unnormalized Ot in {@code s}. */
    private static void tile(Call c, Scratch s, int b, int h, int i0, int rows, int kFrom, int kTo) {
        AttentionProblem p = c.p;
        int d = p.headDim();
        int dv = p.valueDim();
        int bk = c.cfg.keyTile();
        float[] qt = s.qt;
        boolean softcap = p.hasSoftcap();
        float scale = p.scale();
        int qBase = c.qBase(b, h);
        int qss = (int) c.qss;
        for (int r = 0; r < BQ; r++) {
            if (r < rows) {
                int at = qBase + (i0 + r) * qss;
                for (int e = 0; e < d; e++) {
                    qt[e * BQ + r] = c.q[at + e] * scale;
                }
                s.kb[r] = c.ev.keyBegin(b, i0 + r);
                s.ke[r] = c.ev.keyEnd(b, i0 + r);
            } else {
                for (int e = 0; e < d; e++) {
                    qt[e * BQ + r] = 0f;
                }
                s.kb[r] = 0f;
                s.ke[r] = 0f;
            }
        }
        Arrays.fill(s.m, NEG_INF);
        Arrays.fill(s.l, 0f);
        Arrays.fill(s.ot, 0, dv * BQ, 0f);
        int kbMax = (int) s.kb[rows - 1];
        int keMin = (int) s.ke[0];
        boolean dense = !c.dense.isEmpty();
        int kBase = c.kBase(b, h);
        int vBase = c.vBase(b, h);
        int kss = (int) c.kss;
        int vss = (int) c.vss;
        for (int j0 = kFrom; j0 < kTo; j0 += bk) {
            int nk = Math.min(bk, kTo - j0);
            MicroKernels.rowsA(c.k, kBase + j0 * kss, kss, qt, 0, BQ, d, s.st, 0, BQ, nk, false);
            boolean partial = j0 < kbMax || j0 + nk > keMin;
            if (dense) {
                c.dense.fillTransposed(b, h, i0, rows, j0, nk, s.bias, BQ);
            }
            maskAndMax(s, nk, j0, partial, dense, softcap ? p.softcap() : 0f);
            expAndSum(s, nk);
            rescale(s.ot, s.alpha, dv);
            MicroKernels.colsA(c.v, vBase + j0 * vss, vss, s.st, 0, BQ, nk, s.ot, 0, BQ, dv, true);
        }
    }

    /** Transforms the score tile in place and updates the running max; leaves α and the safe max. */
    private static void maskAndMax(Scratch s, int nk, int j0, boolean partial, boolean dense, float softcap) {
        float[] st = s.st;
        boolean rewrite = partial || dense || softcap > 0f;
        for (int rv = 0; rv < RV; rv++) {
            int lo = rv * L;
            FloatVector mx = FloatVector.broadcast(F, NEG_INF);
            FloatVector kb = FloatVector.fromArray(F, s.kb, lo);
            FloatVector ke = FloatVector.fromArray(F, s.ke, lo);
            for (int jj = 0; jj < nk; jj++) {
                int at = jj * BQ + lo;
                FloatVector x = FloatVector.fromArray(F, st, at);
                if (rewrite) {
                    if (softcap > 0f) {
                        x = x.mul(1f / softcap).lanewise(VectorOperators.TANH).mul(softcap);
                    }
                    if (dense) {
                        x = x.add(FloatVector.fromArray(F, s.bias, at));
                    }
                    if (partial) {
                        FloatVector jv = FloatVector.broadcast(F, (float) (j0 + jj));
                        x = x.blend(NEG_INF, jv.lt(kb).or(jv.lt(ke).not()));
                    }
                    x.intoArray(st, at);
                }
                mx = VMath.max(mx, x);
            }
            FloatVector mOld = FloatVector.fromArray(F, s.m, lo);
            FloatVector mNew = VMath.max(mOld, mx);
            FloatVector mUse = mNew.blend(0f, mNew.eq(NEG_INF));
            FloatVector alpha = VMath.exp2(mOld.sub(mUse).mul(VMath.LOG2E));
            mNew.intoArray(s.m, lo);
            mUse.intoArray(s.mUse, lo);
            alpha.intoArray(s.alpha, lo);
        }
    }

    /** P = e^(St − m) in place; l = α·l + Σ P. */
    private static void expAndSum(Scratch s, int nk) {
        float[] st = s.st;
        for (int rv = 0; rv < RV; rv++) {
            int lo = rv * L;
            FloatVector m = FloatVector.fromArray(F, s.mUse, lo);
            FloatVector sum = FloatVector.zero(F);
            for (int jj = 0; jj < nk; jj++) {
                int at = jj * BQ + lo;
                FloatVector pv = VMath.exp2(FloatVector.fromArray(F, st, at).sub(m).mul(VMath.LOG2E));
                pv.intoArray(st, at);
                sum = sum.add(pv);
            }
            FloatVector l = FloatVector.fromArray(F, s.l, lo);
            l.fma(FloatVector.fromArray(F, s.alpha, lo), sum).intoArray(s.l, lo);
        }
    }

    private static void rescale(float[] ot, float[] alpha, int dv) {
        FloatVector a0 = FloatVector.fromArray(F, alpha, 0);
        FloatVector a1 = FloatVector.fromArray(F, alpha, L);
        for (int e = 0; e < dv; e++) {
            int at = e * BQ;
            FloatVector.fromArray(F, ot, at).mul(a0).intoArray(ot, at);
            FloatVector.fromArray(F, ot, at + L).mul(a1).intoArray(ot, at + L);
        }
    }

    /** Normalizes the tile's rows into {@code out} and writes the lse. */
    private static void finish(Call c, Scratch s, int b, int h, int i0, int rows) {
        int dv = c.p.valueDim();
        int oBase = c.oBase(b, h);
        int oss = (int) c.oss;
        for (int r = 0; r < rows; r++) {
            float l = s.l[r];
            float inv = l > 0f ? 1f / l : 0f;
            int at = oBase + (i0 + r) * oss;
            for (int e = 0; e < dv; e++) {
                c.o[at + e] = s.ot[e * BQ + r] * inv;
            }
            if (c.lse != null) {
                float lse = l > 0f ? (float) (s.m[r] + Math.log(l)) : NEG_INF;
                c.lse.setFloat(c.lse.indexOf(b, h, i0 + r), lse);
            }
        }
    }

    /** Merges the splits of one query tile in split order: O = Σ e^(m_s − M)·O_s / Σ e^(m_s − M)·l_s. */
    private static void merge(Call c, int b, int h, int qt) {
        AttentionProblem p = c.p;
        int dv = p.valueDim();
        int i0 = qt * BQ;
        int rows = Math.min(BQ, p.seqQ() - i0);
        int n = dv * BQ;
        float[] part = c.partials;
        double[] w = new double[c.splits];
        double[] acc = new double[dv];
        int oBase = c.oBase(b, h);
        int oss = (int) c.oss;
        for (int r = 0; r < rows; r++) {
            double mMax = Double.NEGATIVE_INFINITY;
            for (int sp = 0; sp < c.splits; sp++) {
                mMax = Math.max(mMax, part[partialIndex(c, b, h, qt, sp) + n + r]);
            }
            double l = 0.0;
            Arrays.fill(acc, 0.0);
            if (mMax != Double.NEGATIVE_INFINITY) {
                for (int sp = 0; sp < c.splits; sp++) {
                    int at = partialIndex(c, b, h, qt, sp);
                    float ls = part[at + n + BQ + r];
                    w[sp] = ls > 0f ? Math.exp(part[at + n + r] - mMax) : 0.0;
                    l += w[sp] * ls;
                    if (w[sp] != 0.0) {
                        for (int e = 0; e < dv; e++) {
                            acc[e] += w[sp] * part[at + e * BQ + r];
                        }
                    }
                }
            }
            int at = oBase + (i0 + r) * oss;
            for (int e = 0; e < dv; e++) {
                c.o[at + e] = l > 0.0 ? (float) (acc[e] / l) : 0f;
            }
            if (c.lse != null) {
                c.lse.setFloat(c.lse.indexOf(b, h, i0 + r), l > 0.0 ? (float) (mMax + Math.log(l)) : NEG_INF);
            }
        }
    }
}
