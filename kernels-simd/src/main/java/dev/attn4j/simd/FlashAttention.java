package dev.attn4j.simd;

import static dev.attn4j.simd.Vec.F;
import static dev.attn4j.simd.Vec.L;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.DType;
import dev.attn4j.api.Mask;
import dev.attn4j.api.MaskEvaluator;
import dev.attn4j.api.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;

/**
 * Fused flash-style attention, lanes as query rows.
 *
 * <pre>
 *   per (b, h, query tile of BQ rows), Qt = (q·scale·log₂e)ᵀ [D][BQ] copied once (scores in log₂ units):
 *     for each key tile [j0, j0 + Bk) inside the tile's visible key range:
 *       St[j][r] = Σ_d K[j][d]·Qt[d][r]                       (MicroKernels.rowsA, 12 keys × 2 vectors)
 *       St      = softcap → + dense bias → −∞ outside [keyBegin(r), keyEnd(r))
 *       m'      = max(m, max_j St[j]);  α = 2^(m − m');  P = 2^(St − m');  l = α·l + Σ_j P
 *       Ot[e]   = α·Ot[e] + Σ_j V[j][e]·P[j]                  (MicroKernels.colsA, 12 features × 2 vectors, α on load)
 *     out[r][e] = Ot[e][r] / l[r]  (0 when l = 0),  lse = m·ln 2 + ln l  (−∞ when l = 0)
 * </pre>
 *
 * Running max, sum and rescale factor are vectors over the tile's rows, so the online softmax needs
 * no horizontal reduction; exponentials are {@link VMath#exp2} of s − m, in float32: with log₂e folded
 * into the query's scale, the softcap (c·log₂e) and the dense bias (·log₂e), no multiply per score. Memory
 * is O(tile) per thread. Decode (few work items, long keys) splits each query tile's keys into a fixed
 * number of ranges whose partial (m, l, O) are merged in split order through their log-sum-exps.
 */
final class FlashAttention {
    private static final double LOG2E_D = 1.0 / Math.log(2.0);
    /** Row vectors per query tile, fixed by the micro-kernels. */
    static final int RV = 2;
    /** Query rows per tile. */
    static final int BQ = RV * L;

    private static final float NEG_INF = Float.NEGATIVE_INFINITY;
    private static final double LN2 = Math.log(2.0);
    /** Row offsets of one query tile's rows in Q (or O), for the gathers of {@link #begin} and {@link #finish}. */
    private static final ThreadLocal<int[]> ROW_INDEX = ThreadLocal.withInitial(() -> new int[L]);
    /** At most this many query rows take the decode path ({@link #decodeGroup}). */
    static final int DECODE_ROWS = 4;
    /** Whether {@code p} runs on the decode path: few query rows, work items per KV group. */
    static boolean decode(AttentionProblem p) {
        return p.seqQ() <= DECODE_ROWS;
    }

    /**
     * The work items before any key split: KV groups for decode (the query heads that share one K/V head
     * read it once), else (batch, head, query tile). Splits and the tuner's candidates count these.
     */
    static int unsplitItems(AttentionProblem p) {
        return decode(p) ? p.batch() * p.kvHeads() : p.batch() * p.heads() * ((p.seqQ() + BQ - 1) / BQ);
    }

    /**
     * Keys per tile where a decode copies K or V off-heap tile by tile (a segment {@link DecodeSegments} does
     * not read in place): the copy stays in L1 for the kernels that read it. Against the config's 512-key tiles
     * (B=1 H=32 KVH=8 Sk=4096 D=64 over a shared arena, in-process A/B call by call on the Zen 4 VM): 512
     * keys were 0.92–0.94× warm, 1.01–1.04× after a cache eviction.
     */
    private static final int COPIED_TILE = 64;
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);
    private static final ThreadBuffer PARTIALS = new ThreadBuffer();
    private static final ThreadLocal<Scratch[]> SLOTS = ThreadLocal.withInitial(() -> new Scratch[0]);

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
        /** Whether no key tile has written Ot since begin (Ot then holds stale values, not zeros). */
        boolean fresh;
        /** Per-row factors of {@link Transposes#transpose16}: the query scale in begin, 1/l in finish. */
        final float[] factor = new float[BQ];

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

    /**
     * One call's operands as arrays, offsets and element strides (all last strides are 1). A decode's K or
     * V may instead live in a float32 {@link MemorySegment} ({@code kSeg}, {@code vSeg}; the array then
     * null), read tile by tile into a per-thread buffer.
     */
    private record Call(AttentionProblem p, MaskEvaluator ev, DenseTerms dense, FlashConfig cfg,
                        float[] q, long qOff, long qsb, long qsh, long qss,
                        float[] k, long kOff, long ksb, long ksh, long kss,
                        float[] v, long vOff, long vsb, long vsh, long vss,
                        float[] o, long oOff, long osb, long osh, long oss,
                        Tensor lse, int qTiles, int splits, int partialRows, float[] partials,
                        MemorySegment kSeg, MemorySegment vSeg) {

        /** ln 2 where the split partials' maxima are in log₂ units (query tiles), 1 where natural (decode). */
        double maxUnit() {
            return decode(p) ? 1.0 : LN2;
        }

        int qBase(int b, int h) {
            return (int) (qOff + b * qsb + h * qsh);
        }

        int kBase(int b, int h) {
            return (int) kIndex(b, h);
        }

        int vBase(int b, int h) {
            return (int) vIndex(b, h);
        }

        /** K[b, kvHead(h), 0, 0]'s index in its storage (a segment's may pass 2³¹). */
        long kIndex(int b, int h) {
            return kOff + b * ksb + p.kvHead(h) * ksh;
        }

        long vIndex(int b, int h) {
            return vOff + b * vsb + p.kvHead(h) * vsh;
        }

        int oBase(int b, int h) {
            return (int) (oOff + b * osb + h * osh);
        }
    }

    /** lse[b, h, i]'s storage index ({@code indexOf}'s varargs allocated an array per row). */
    private static long lseIndex(Tensor lse, int b, int h, int i) {
        return lse.offset() + b * lse.stride(0) + h * lse.stride(1) + i * lse.stride(2);
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

    /** A thread no arena is confined to: segments it may read can be read by the pool's workers. */
    private static final Thread NOT_AN_OWNER = new Thread(() -> { });

    /**
     * Whether the decode reads t where it lies: a float32 segment with a dense last axis. (A decode's K
     * and V are the whole KV cache: a heap copy of them would cost more than the step.)
     */
    private static boolean decodeInPlace(AttentionProblem p, Tensor t) {
        return decode(p) && !fast(t) && t.dtype() == DType.FLOAT32 && (t.dim(-1) == 1 || t.stride(-1) == 1);
    }

    static void run(AttentionProblem p, Tensor q, Tensor k, Tensor v, Mask mask, Tensor out, Tensor lse,
                    Parallel par, FlashConfig cfg) {
        boolean kInPlace = decodeInPlace(p, k);
        boolean vInPlace = decodeInPlace(p, v);
        if ((kInPlace || vInPlace) && (fast(k) || kInPlace) && (fast(v) || vInPlace)) {
            // decode over an off-heap KV cache: only q and the output go through the heap; a cache in a
            // confined arena is read by the calling thread alone
            boolean shared = (!kInPlace || k.segment().isAccessibleBy(NOT_AN_OWNER))
                    && (!vInPlace || v.segment().isAccessibleBy(NOT_AN_OWNER));
            Tensor oc = fast(out) ? out : Tensor.zeros(out.shape());
            runKernel(p, fast(q) ? q : Copies.heap(q), k, v, mask, oc, lse, shared ? par : new Parallel(null, 1), cfg,
                    kInPlace ? k.segment() : null, vInPlace ? v.segment() : null);
            if (oc != out) {
                Copies.copy(oc, out);
            }
            return;
        }
        if (!fast(q) || !fast(k) || !fast(v) || !fast(out)) {
            // off-heap or strided last axis: run on contiguous heap copies, then copy the output back
            Tensor oc = fast(out) ? out : Tensor.zeros(out.shape());
            run(p, Copies.heap(q), Copies.heap(k), Copies.heap(v), mask, oc, lse, par, cfg);
            if (oc != out) {
                Copies.copy(oc, out);
            }
            return;
        }
        runKernel(p, q, k, v, mask, out, lse, par, cfg, null, null);
    }

    /** {@link #run} on operands that are heap arrays, but for a decode's K or V in kSeg / vSeg. */
    private static void runKernel(AttentionProblem p, Tensor q, Tensor k, Tensor v, Mask mask, Tensor out, Tensor lse,
                                  Parallel par, FlashConfig cfg, MemorySegment kSeg, MemorySegment vSeg) {
        if (lse != null && lse.array() == null) {
            // worker threads cannot write a view of a thread-confined arena: go through the heap
            Tensor lc = Tensor.zeros(lse.shape());
            runKernel(p, q, k, v, mask, out, lc, par, cfg, kSeg, vSeg);
            Copies.copy(lc, lse);
            return;
        }
        MaskEvaluator ev = MaskEvaluator.of(p, mask);
        int qTiles = (p.seqQ() + BQ - 1) / BQ;
        int items = p.batch() * p.heads() * qTiles;
        boolean decode = decode(p);
        int splits = cfg.splits(unsplitItems(p), p.seqK());
        // a split's partial result holds (unnormalized O, m, l) per row: a query tile's BQ rows, or the
        // decode's few rows (a BQ-row slot each made decode allocate and merge 32× what it used)
        int partialRows = decode ? p.seqQ() : BQ;
        // (the calling thread's buffer: the workers write every slot they later merge within this call)
        float[] partials = splits > 1 ? PARTIALS.get(items * splits * partialSize(p, partialRows)) : null;
        Call c = new Call(p, ev, new DenseTerms(ev), cfg,
                q.array(), q.offset(), q.stride(0), q.stride(1), q.stride(2),
                k.array(), k.offset(), k.stride(0), k.stride(1), k.stride(2),
                v.array(), v.offset(), v.stride(0), v.stride(1), v.stride(2),
                out.array(), out.offset(), out.stride(0), out.stride(1), out.stride(2),
                lse, qTiles, splits, partialRows, partials, kSeg, vSeg);
        int bh = p.batch() * p.heads();
        if (decode) {
            // decode: lanes as query rows would leave most lanes idle; lanes along D, and every query
            // row of a KV group against each block of K/V while it is in L1 (GQA decode is bound by
            // the K/V stream: reading it once per group instead of once per query head)
            int groups = p.batch() * p.kvHeads();
            par.forEach(groups * splits, idx -> decodeGroup(c, idx % groups / p.kvHeads(), idx % groups % p.kvHeads(),
                    idx / groups));
            if (splits > 1) {
                par.forEach(bh, idx -> merge(c, idx / p.heads(), idx % p.heads(), 0));
            }
            return;
        }
        int per = cfg.queryTilesPerItem();
        if (splits == 1 && per > 1) {
            int groups = (qTiles + per - 1) / per;
            // largest groups first (causal: the last tiles see the most keys)
            par.forEach(bh * groups, idx -> {
                int rank = idx / bh;
                int head = idx % bh;
                group(c, head / p.heads(), head % p.heads(), groups - 1 - rank);
            });
            return;
        }
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

    /** Floats of one split's partial result: [dv][rows] unnormalized O, then [rows] m and [rows] l. */
    private static int partialSize(AttentionProblem p, int rows) {
        return rows * (p.valueDim() + 2);
    }

    private static int partialIndex(Call c, int b, int h, int qt, int split) {
        int item = (b * c.p.heads() + h) * c.qTiles + qt;
        return (item * c.splits + split) * partialSize(c.p, c.partialRows);
    }



    /**
     * Runs query tiles [g·G, g·G + G) of (b, h) together: each K/V tile is read once for all G tiles
     * (K and V of one head outgrow L2 at S = 2048, so a single 32-row tile per pass streamed them
     * from L3 for every 32 rows). Tiles whose key range misses a key tile skip it.
     */
    private static void group(Call c, int b, int h, int g) {
        AttentionProblem p = c.p;
        int per = c.cfg.queryTilesPerItem();
        int t0 = g * per;
        int n = Math.min(per, c.qTiles - t0);
        Scratch[] slots = SLOTS.get();
        if (slots.length < n) {
            slots = new Scratch[n];
            for (int i = 0; i < n; i++) {
                slots[i] = new Scratch();
            }
            SLOTS.set(slots);
        }
        int bk = c.cfg.keyTile();
        int lo = Integer.MAX_VALUE;
        int hi = 0;
        for (int t = 0; t < n; t++) {
            Scratch s = slots[t];
            if (t > 0) {
                // one score tile for all the group's query tiles: it lives only within a step, and one buffer
                // stays in L1 where eight took turns through L2 (in-process A/B, call by call, S = 512:
                // 1.017×, 1.021×, and 1.018–1.026× after an eviction of the caches); shared before ensure, which
                // then finds it large enough
                s.st = slots[0].st;
                s.bias = slots[0].bias;
            }
            s.ensure(p.headDim(), p.valueDim(), bk);
            int i0 = (t0 + t) * BQ;
            int rows = Math.min(BQ, p.seqQ() - i0);
            begin(c, s, b, h, i0, rows);
            int kLo = c.ev.keyBegin(b, i0);
            int kHi = c.ev.keyEnd(b, i0 + rows - 1);
            if (kLo < kHi) {
                lo = Math.min(lo, kLo);
                hi = Math.max(hi, kHi);
            }
        }
        for (int j0 = lo; j0 < hi; j0 += bk) {
            int nk = Math.min(bk, hi - j0);
            for (int t = 0; t < n; t++) {
                int i0 = (t0 + t) * BQ;
                int rows = Math.min(BQ, p.seqQ() - i0);
                int kLo = c.ev.keyBegin(b, i0);
                int kHi = c.ev.keyEnd(b, i0 + rows - 1);
                if (j0 < kHi && j0 + nk > kLo) {
                    step(c, slots[t], b, h, i0, rows, j0, nk);
                }
            }
        }
        for (int t = 0; t < n; t++) {
            int i0 = (t0 + t) * BQ;
            finish(c, slots[t], b, h, i0, Math.min(BQ, p.seqQ() - i0));
        }
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
            clearIfFresh(s, p.valueDim());
            System.arraycopy(s.ot, 0, c.partials, at, n);
            System.arraycopy(s.m, 0, c.partials, at + n, BQ);
            System.arraycopy(s.l, 0, c.partials, at + n + BQ, BQ);
        } else {
            finish(c, s, b, h, i0, rows);
        }
    }

    /** Runs one query tile over keys [kFrom, kTo); leaves m, l and the unnormalized Ot in {@code s}. */
    private static void tile(Call c, Scratch s, int b, int h, int i0, int rows, int kFrom, int kTo) {
        begin(c, s, b, h, i0, rows);
        int bk = c.cfg.keyTile();
        for (int j0 = kFrom; j0 < kTo; j0 += bk) {
            step(c, s, b, h, i0, rows, j0, Math.min(bk, kTo - j0));
        }
    }

    /**
     * Copies the query tile transposed and pre-scaled by scale·log₂e, the rows' key ranges, and clears m and
     * l; Ot counts as zero until the first key tile writes it ({@link Scratch#fresh}). A full tile goes
     * through {@link Transposes} in blocks of 16 columns; the rest is gathered, each Qt row [e][r0, r0 + L)
     * one gather of L query rows' element e.
     */
    private static void begin(Call c, Scratch s, int b, int h, int i0, int rows) {
        AttentionProblem p = c.p;
        int d = p.headDim();
        float[] qt = s.qt;
        float scale = (float) (p.scale() * LOG2E_D);
        int qBase = c.qBase(b, h);
        int qss = (int) c.qss;
        if (rows == BQ) {
            int[] index = rowIndex(qss);
            int blocked = Transposes.AVAILABLE ? d / L * L : 0;
            if (blocked > 0) {
                Arrays.fill(s.factor, scale);
            }
            for (int rv = 0; rv < RV; rv++) {
                int at = qBase + (i0 + rv * L) * qss;
                for (int e = 0; e < blocked; e += L) {
                    Transposes.transpose16(c.q, at + e, qss, qt, e * BQ + rv * L, BQ, s.factor, 0);
                }
                for (int e = blocked; e < d; e++) {
                    FloatVector.fromArray(F, c.q, at + e, index, 0).mul(scale).intoArray(qt, e * BQ + rv * L);
                }
            }
        } else {
            for (int r = 0; r < BQ; r++) {
                int at = qBase + (i0 + r) * qss;
                for (int e = 0; e < d; e++) {
                    qt[e * BQ + r] = r < rows ? c.q[at + e] * scale : 0f;
                }
            }
        }
        for (int r = 0; r < BQ; r++) {
            s.kb[r] = r < rows ? c.ev.keyBegin(b, i0 + r) : 0f;
            s.ke[r] = r < rows ? c.ev.keyEnd(b, i0 + r) : 0f;
        }
        Arrays.fill(s.m, NEG_INF);
        Arrays.fill(s.l, 0f);
        // Ot is not cleared here: the first key tile's P·V writes it without reading it (no α·Ot to load),
        // and a tile that no key tile reaches is cleared where Ot is read (clearIfFresh). In-process A/B,
        // call by call: S = 512 attention 0.5 % faster, causal 0.9 %, S = 2048 unchanged.
        s.fresh = true;
    }

    /** Zeros Ot if no key tile has written it since {@link #begin}. */
    private static void clearIfFresh(Scratch s, int dv) {
        if (s.fresh) {
            Arrays.fill(s.ot, 0, dv * BQ, 0f);
            s.fresh = false;
        }
    }

    /** This thread's gather index of L rows {@code stride} apart. */
    private static int[] rowIndex(int stride) {
        int[] index = ROW_INDEX.get();
        if (index[1] != stride) {
            for (int t = 0; t < L; t++) {
                index[t] = t * stride;
            }
        }
        return index;
    }

    /** One key tile [j0, j0 + nk) of one query tile: scores, mask, online softmax, Ot update. */
    private static void step(Call c, Scratch s, int b, int h, int i0, int rows, int j0, int nk) {
        AttentionProblem p = c.p;
        int kss = (int) c.kss;
        int vss = (int) c.vss;
        boolean partial = j0 < (int) s.kb[rows - 1] || j0 + nk > (int) s.ke[0];
        boolean dense = !c.dense.isEmpty();
        // scores are in log₂ units: c·tanh(x/c) becomes (c·log₂e)·tanh(x/(c·log₂e))
        float softcap = p.hasSoftcap() ? (float) (p.softcap() * LOG2E_D) : 0f;
        MicroKernels.rowsA(c.k, c.kBase(b, h) + j0 * kss, kss, s.qt, 0, p.headDim(), s.st, 0, BQ, nk, false);
        if (dense) {
            c.dense.fillTransposed(b, h, i0, rows, j0, nk, s.bias, BQ);
        }
        maskAndMax(s, nk, j0, partial, dense, softcap);
        expAndSum(s, nk);
        // Ot = α·Ot + V·P: the rescale rides on the PV kernel's load of Ot
        boolean first = s.fresh;
        s.fresh = false;
        MicroKernels.colsA(c.v, c.vBase(b, h) + j0 * vss, vss, s.st, 0, nk, s.ot, 0, BQ, p.valueDim(), !first,
                first ? null : s.alpha);
    }

    /**
     * The unmasked tile's maxima of both row vectors into out[0, 2L): one contiguous tile row per step, two
     * running maxima per row vector (one compare-and-blend chain waits ≈ 7 cycles per vector; max is exact in
     * any order). In-process A/B against four chains per row vector, one row vector after the other: S = 512
     * attention 1.012× and 1.008×, S = 2048 1.009×.
     */
    private static void tileMax(float[] st, int nk, float[] out) {
        FloatVector a0 = FloatVector.broadcast(F, NEG_INF);
        FloatVector a1 = a0;
        FloatVector b0 = a0;
        FloatVector b1 = a0;
        int jj = 0;
        for (; jj + 2 <= nk; jj += 2) {
            int at = jj * BQ;
            a0 = VMath.max(a0, FloatVector.fromArray(F, st, at));
            b0 = VMath.max(b0, FloatVector.fromArray(F, st, at + L));
            a1 = VMath.max(a1, FloatVector.fromArray(F, st, at + BQ));
            b1 = VMath.max(b1, FloatVector.fromArray(F, st, at + BQ + L));
        }
        if (jj < nk) {
            a0 = VMath.max(a0, FloatVector.fromArray(F, st, jj * BQ));
            b0 = VMath.max(b0, FloatVector.fromArray(F, st, jj * BQ + L));
        }
        VMath.max(a0, a1).intoArray(out, 0);
        VMath.max(b0, b1).intoArray(out, L);
    }

    /** Transforms the score tile in place and updates the running max; leaves α and the safe max. */
    private static void maskAndMax(Scratch s, int nk, int j0, boolean partial, boolean dense, float softcap) {
        float[] st = s.st;
        boolean rewrite = partial || dense || softcap > 0f;
        if (!rewrite) {
            tileMax(st, nk, s.mUse); // the tile's maxima, parked in mUse until mUse is computed below
        }
        for (int rv = 0; rv < RV; rv++) {
            int lo = rv * L;
            FloatVector mx = rewrite ? FloatVector.broadcast(F, NEG_INF) : FloatVector.fromArray(F, s.mUse, lo);
            FloatVector kb = FloatVector.fromArray(F, s.kb, lo);
            FloatVector ke = FloatVector.fromArray(F, s.ke, lo);
            for (int jj = rewrite ? 0 : nk; jj < nk; jj++) {
                int at = jj * BQ + lo;
                FloatVector x = FloatVector.fromArray(F, st, at);
                if (softcap > 0f) {
                    x = VMath.tanh(x.mul(1f / softcap)).mul(softcap);
                }
                if (dense) {
                    x = FloatVector.fromArray(F, s.bias, at).fma(FloatVector.broadcast(F, VMath.LOG2E), x);
                }
                if (partial) {
                    FloatVector jv = FloatVector.broadcast(F, (float) (j0 + jj));
                    x = x.blend(NEG_INF, jv.lt(kb).or(jv.lt(ke).not()));
                }
                x.intoArray(st, at);
                mx = VMath.max(mx, x);
            }
            FloatVector mOld = FloatVector.fromArray(F, s.m, lo);
            FloatVector mNew = VMath.max(mOld, mx);
            FloatVector mUse = mNew.blend(0f, mNew.eq(NEG_INF));
            FloatVector alpha = VMath.exp2(mOld.sub(mUse));
            mNew.intoArray(s.m, lo);
            mUse.intoArray(s.mUse, lo);
            alpha.intoArray(s.alpha, lo);
        }
    }

    /**
     * P = 2^(St − m) in place (log₂ units); l = α·l + Σ P. Both row vectors of a key per step (RV = 2): one
     * contiguous tile row and two independent exponentials per iteration; each lane's sum still runs over
     * the keys in order. In-process A/B, alternating call by call: S = 512 attention 0.6–0.8 % faster than
     * one row vector after the other, S = 2048 0.9 %.
     */
    private static void expAndSum(Scratch s, int nk) {
        float[] st = s.st;
        FloatVector m0 = FloatVector.fromArray(F, s.mUse, 0);
        FloatVector m1 = FloatVector.fromArray(F, s.mUse, L);
        FloatVector sum0 = FloatVector.zero(F);
        FloatVector sum1 = sum0;
        for (int jj = 0; jj < nk; jj++) {
            int at = jj * BQ;
            FloatVector p0 = VMath.exp2(FloatVector.fromArray(F, st, at).sub(m0));
            FloatVector p1 = VMath.exp2(FloatVector.fromArray(F, st, at + L).sub(m1));
            p0.intoArray(st, at);
            p1.intoArray(st, at + L);
            sum0 = sum0.add(p0);
            sum1 = sum1.add(p1);
        }
        FloatVector.fromArray(F, s.l, 0).fma(FloatVector.fromArray(F, s.alpha, 0), sum0).intoArray(s.l, 0);
        FloatVector.fromArray(F, s.l, L).fma(FloatVector.fromArray(F, s.alpha, L), sum1).intoArray(s.l, L);
    }

    /**
     * Normalizes the tile's rows into {@code out} and writes the lse (m is in log₂ units). A full tile's
     * columns go through {@link Transposes} in blocks of 16; otherwise each output row [e0, e0 + L) is one
     * gather of Ot's column r.
     */
    private static void finish(Call c, Scratch s, int b, int h, int i0, int rows) {
        int dv = c.p.valueDim();
        clearIfFresh(s, dv);
        int oBase = c.oBase(b, h);
        int oss = (int) c.oss;
        int[] index = rowIndex(BQ);
        int vectorEnd = F.loopBound(dv);
        int blocked = Transposes.AVAILABLE && rows == BQ ? dv / L * L : 0;
        for (int r = 0; r < rows; r++) {
            float l = s.l[r];
            s.factor[r] = l > 0f ? 1f / l : 0f;
        }
        for (int rv = 0; rv < RV; rv++) {
            for (int e = 0; e < blocked; e += L) {
                Transposes.transpose16(s.ot, e * BQ + rv * L, BQ, c.o, oBase + (i0 + rv * L) * oss + e, oss, s.factor,
                        rv * L);
            }
        }
        for (int r = 0; r < rows; r++) {
            float l = s.l[r];
            float inv = s.factor[r];
            int at = oBase + (i0 + r) * oss;
            int e = blocked;
            for (; e < vectorEnd; e += L) {
                FloatVector.fromArray(F, s.ot, e * BQ + r, index, 0).mul(inv).intoArray(c.o, at + e);
            }
            for (; e < dv; e++) {
                c.o[at + e] = s.ot[e * BQ + r] * inv;
            }
            if (c.lse != null) {
                float lse = l > 0f ? (float) (s.m[r] * LN2 + Math.log(l)) : NEG_INF;
                c.lse.setFloat(lseIndex(c.lse, b, h, i0 + r), lse);
            }
        }
    }

    /** Per-thread decode buffers, grown on demand. */
    private static final class DecodeScratch {
        float[] scores = new float[0];
        float[] queries = new float[0];
        float[] acc = new float[0];
        float[] bias = new float[0];
        float[] rowMax = new float[0];
        float[] rowSum = new float[0];
        int[] from = new int[0];
        int[] to = new int[0];
        /** One key tile of an off-heap K or V (a decode tile's rows, dense). */
        float[] tile = new float[0];
        final float[] lanes = new float[L];
        /** {@link DecodeBlocks#scoresQuarters}' quads (4 floats per key). */
        float[] quads = new float[0];

        void ensure(int rows, int span, int d, int dv) {
            if (rowMax.length < rows) {
                rowMax = new float[rows];
                rowSum = new float[rows];
                from = new int[rows];
                to = new int[rows];
            }
            if (scores.length < rows * span) {
                scores = new float[rows * span];
            }
            if (queries.length < rows * d) {
                queries = new float[rows * d];
            }
            if (acc.length < 2 * rows * dv) {
                acc = new float[2 * rows * dv]; // 2×: a second set of sums for decodeValuesInHalves
            }
            if (bias.length < span) {
                bias = new float[span];
            }
        }

        /** The quads buffer, for at least n floats. */
        float[] quads(int n) {
            if (quads.length < n) {
                quads = new float[n];
            }
            return quads;
        }

        /**
         * The off-heap tile buffer, for {@code keys} rows of up to {@code width} floats (only decodes over a
         * segment that {@link DecodeSegments} does not read in place need it).
         */
        float[] tile(int keys, int width) {
            if (tile.length < keys * width) {
                tile = new float[keys * width];
            }
            return tile;
        }
    }

    private static final ThreadLocal<DecodeScratch> DECODE_SCRATCH = ThreadLocal.withInitial(DecodeScratch::new);

    /** {@link #merge}'s split weights and row accumulator, per thread, grown on demand. */
    private static final class MergeScratch {
        double[] weights = new double[0];
        double[] acc = new double[0];

        MergeScratch ensure(int splits, int dv) {
            if (weights.length < splits) {
                weights = new double[splits];
            }
            if (acc.length < dv) {
                acc = new double[dv];
            }
            return this;
        }
    }

    private static final ThreadLocal<MergeScratch> MERGE_SCRATCH = ThreadLocal.withInitial(MergeScratch::new);

    /**
     * Decode: the (≤ DECODE_ROWS) rows of every query head of KV group (b, g) over one split of the keys,
     * lanes along the head dims. Three passes over the split, the first and last blocked by key tiles
     * so that each tile of K (then V) is read from memory once for all the group's rows:
     * s_j = q·k_j for every row; the row softmax of {@link RowSoftmax} on each row's visible keys;
     * o += p_j·v_j for every row. Leaves the same (m, l, unnormalized O) per query head as a tile.
     */
    private static void decodeGroup(Call c, int b, int g, int split) {
        AttentionProblem p = c.p;
        int rows = p.seqQ();
        int d = p.headDim();
        int dv = p.valueDim();
        int per = p.heads() / p.kvHeads();
        int h0 = g * per;
        int kLo = c.ev.keyBegin(b, 0);
        int kHi = c.ev.keyEnd(b, rows - 1);
        int bk = c.cfg.keyTile();
        if (c.splits > 1) {
            int tiles = Math.max(0, (kHi - kLo + bk - 1) / bk);
            int share = (tiles + c.splits - 1) / c.splits * bk;
            int from = kLo + split * share;
            kHi = Math.min(kHi, from + share);
            kLo = from;
        }
        int span = Math.max(0, kHi - kLo);
        int all = per * rows; // row index hh·rows + r
        DecodeScratch ds = DECODE_SCRATCH.get();
        ds.ensure(all, Math.max(span, 1), d, dv);
        float[] qs = ds.queries;
        float[] acc = ds.acc;
        for (int hh = 0; hh < per; hh++) {
            int qBase = c.qBase(b, h0 + hh);
            for (int r = 0; r < rows; r++) {
                int qAt = qBase + r * (int) c.qss;
                int at = (hh * rows + r) * d;
                for (int e = 0; e < d; e++) {
                    qs[at + e] = c.q[qAt + e] * p.scale();
                }
            }
        }
        // pass 1: scores (an off-heap K that DecodeSegments serves is read where it lies)
        decodeScores(c, ds, b, h0, per, rows, kLo, kHi, span);
        // pass 2: each row's softmax over its visible keys. Passes 1 and 3 are methods of their own, too large for
        // C2 to inline into this one (over FreqInlineSize, 325 bytecode bytes; keep them so): compiled together
        // with the softmax, they passed C2's node budget and its exponentials ran out of line on boxed vectors
        // (787 KB per call, in a process that had run heap and off-heap decodes)
        decodeSoftmax(c, ds, b, h0, per, rows, kLo, kHi, span);
        float[] m = ds.rowMax;
        float[] l = ds.rowSum;
        // pass 3: o += p_j·v_j
        decodeValues(c, ds, b, h0, per, rows, kLo, kHi, span);
        // each row's (m, l, unnormalized O) goes straight to its partial slot, or normalized to the output
        for (int hh = 0; hh < per; hh++) {
            int h = h0 + hh;
            int at = c.splits > 1 ? partialIndex(c, b, h, 0, split) : 0;
            int oBase = c.oBase(b, h);
            for (int r = 0; r < rows; r++) {
                int row = hh * rows + r;
                if (c.splits > 1) {
                    for (int e = 0; e < dv; e++) {
                        c.partials[at + e * rows + r] = acc[row * dv + e];
                    }
                    c.partials[at + dv * rows + r] = m[row];
                    c.partials[at + dv * rows + rows + r] = l[row];
                } else {
                    finishRow(c, acc, row * dv, m[row], l[row], oBase + r * (int) c.oss, b, h, r);
                }
            }
        }
    }

    /**
     * The decode's pass 1: s_j = q·k_j for every row of the group. Over K on the heap, or read in place
     * ({@link DecodeSegments}, D = 128), in four quarters at once where {@link DecodeBlocks#quarters} says so
     * ({@link #decodeScoresInQuarters} for one query row, {@link #decodeScoresInQuarterTiles} for several over K
     * on the heap), in two halves at once where {@link DecodeBlocks#halves} does ({@link #decodeScoresInHalves});
     * else one K tile at a time, copied first when K is off-heap.
     */
    private static void decodeScores(Call c, DecodeScratch ds, int b, int h0, int per, int rows, int kLo, int kHi,
                                     int span) {
        int d = c.p.headDim();
        boolean kDirect = c.kSeg != null && DecodeSegments.serve(d, c.p.valueDim());
        if (DecodeBlocks.quarters(d, per, span)) {
            if (rows == 1 && (c.kSeg == null || kDirect)) {
                for (int hh = 0; hh < per; hh += 4) {
                    decodeScoresInQuarters(c, ds, b, h0, hh, kLo, span, kDirect);
                }
                return;
            }
            if (c.kSeg == null) {
                decodeScoresInQuarterTiles(c, ds, b, h0, per, rows, kLo, span);
                return;
            }
        }
        if (DecodeBlocks.halves(d, per) && (c.kSeg == null || kDirect)) {
            decodeScoresInHalves(c, ds, b, h0, per, rows, kLo, span, kDirect);
            return;
        }
        float[] sc = ds.scores;
        float[] qs = ds.queries;
        int kBase = c.kBase(b, h0);
        int kss = (int) c.kss;
        // one K tile at a time for all rows (the config's key tile, or a 64-key copy); rows r of four heads
        // at a time: they share the K/V head, so each K vector is loaded once
        int tile = c.kSeg != null ? Math.min(COPIED_TILE, c.cfg.keyTile()) : c.cfg.keyTile();
        for (int j0 = kLo; j0 < kHi; j0 += tile) {
            int j1 = Math.min(kHi, j0 + tile);
            // K[j] at kArr[kAt + (j − j0)·kStep]
            float[] kArr = c.k;
            int kAt = kBase + j0 * kss;
            int kStep = kss;
            if (c.kSeg != null) {
                kArr = ds.tile(tile, d);
                kAt = 0;
                kStep = d;
                Copies.rows(c.kSeg, c.kIndex(b, h0) + j0 * c.kss, c.kss, j1 - j0, d, kArr);
            }
            for (int r = 0; r < rows; r++) {
                int hh = 0;
                for (; hh + 4 <= per; hh += 4) {
                    int row = hh * rows + r;
                    DecodeBlocks.scores4x2(qs, row * d, rows * d, kArr, kAt, kStep, d, sc, row * span + j0 - kLo,
                            rows * span, j1 - j0, ds.lanes);
                }
                for (; hh < per; hh++) {
                    int row = hh * rows + r;
                    DecodeBlocks.scoresKeys4(qs, row * d, kArr, kAt, kStep, d, sc, row * span + j0 - kLo, j1 - j0,
                            ds.lanes);
                }
            }
        }
    }

    /**
     * {@link #decodeScores} for the one query row of heads h0 + hh … h0 + hh + 3 (see {@link DecodeBlocks#quarters}),
     * K on the heap or read in place (D = 128): the whole split at once, K read once as four streams.
     */
    private static void decodeScoresInQuarters(Call c, DecodeScratch ds, int b, int h0, int hh, int kLo, int span,
                                               boolean kDirect) {
        int d = c.p.headDim();
        float[] quads = ds.quads(4 * span);
        if (kDirect) {
            long kByte = (c.kIndex(b, h0) + kLo * c.kss) * Float.BYTES;
            DecodeSegments.scoresQuarters(ds.queries, hh * d, d, c.kSeg, kByte, c.kss * Float.BYTES, ds.scores,
                    hh * span, span, span, quads, ds.lanes);
        } else {
            int kss = (int) c.kss;
            DecodeBlocks.scoresQuarters(ds.queries, hh * d, d, c.k, c.kBase(b, h0) + kLo * kss, kss, d, ds.scores,
                    hh * span, span, span, quads, ds.lanes);
        }
    }

    /**
     * {@link #decodeScores} for several query rows of groups of four heads, K on the heap (see
     * {@link DecodeBlocks#quarters}): one key tile at a time (the config's), every row's quarters within it, so
     * that the tile is read from memory once for all rows and from L2 for the rest. In-process A/B against
     * {@link #decodeScoresInHalves} (B=1 H=32 KVH=8 Sk=4096 D=128, bottom-right causal): Sq = 2 1.03–1.04× warm,
     * 1.03× cold; Sq = 3 1.04× cold; Sq = 4 1.08×; Sq = 2 at D = 96 1.17×; identical outputs. Over an off-heap
     * cache the halves stay (0.97–0.98× warm, 1.00× cold).
     */
    private static void decodeScoresInQuarterTiles(Call c, DecodeScratch ds, int b, int h0, int per, int rows, int kLo,
                                                   int span) {
        int d = c.p.headDim();
        int kss = (int) c.kss;
        int tile = c.cfg.keyTile();
        float[] quads = ds.quads(4 * tile);
        for (int j0 = 0; j0 < span; j0 += tile) {
            int n = Math.min(tile, span - j0);
            int kAt = c.kBase(b, h0) + (kLo + j0) * kss;
            for (int hh = 0; hh < per; hh += 4) {
                for (int r = 0; r < rows; r++) {
                    int row = hh * rows + r;
                    DecodeBlocks.scoresQuarters(ds.queries, row * d, rows * d, c.k, kAt, kss, d, ds.scores,
                            row * span + j0, rows * span, n, quads, ds.lanes);
                }
            }
        }
    }

    /**
     * {@link #decodeScores} at 512 bits over K on the heap or read in place: key kLo + i paired with key
     * kLo + half + i (see {@link DecodeBlocks#scores4x2Halves}; a head with its K/V head to itself, or left over
     * from the groups of four, {@link DecodeBlocks#scoresKeys4Halves}), half a key tile of pairs at a time for
     * all rows (their K rows, a key tile of them, stay in L2 for the next rows), then the odd last key. The
     * scores are the same bits as in key order.
     */
    private static void decodeScoresInHalves(Call c, DecodeScratch ds, int b, int h0, int per, int rows, int kLo,
                                             int span, boolean kDirect) {
        int d = c.p.headDim();
        float[] sc = ds.scores;
        float[] qs = ds.queries;
        int kss = (int) c.kss;
        int kAt = c.kBase(b, h0) + kLo * kss; // key kLo on the heap
        long kssBytes = c.kss * Float.BYTES;
        long kByte = kDirect ? (c.kIndex(b, h0) + kLo * c.kss) * Float.BYTES : 0; // key kLo in the segment
        int half = span / 2;
        int step = Math.max(1, c.cfg.keyTile() / 2);
        for (int i0 = 0; i0 < half; i0 += step) {
            int pairs = Math.min(step, half - i0);
            for (int r = 0; r < rows; r++) {
                int hh = 0;
                for (; hh + 4 <= per; hh += 4) {
                    int row = hh * rows + r;
                    if (kDirect) {
                        DecodeSegments.scores4x2Halves(qs, row * d, rows * d, c.kSeg, kByte + i0 * kssBytes, kssBytes,
                                sc, row * span + i0, rows * span, pairs, half, ds.lanes);
                    } else {
                        DecodeBlocks.scores4x2Halves(qs, row * d, rows * d, c.k, kAt + i0 * kss, kss, d, sc,
                                row * span + i0, rows * span, pairs, half, ds.lanes);
                    }
                }
                for (; hh < per; hh++) {
                    int row = hh * rows + r;
                    if (kDirect) {
                        DecodeSegments.scoresKeys4Halves(qs, row * d, c.kSeg, kByte + i0 * kssBytes, kssBytes, sc,
                                row * span + i0, pairs, half, ds.lanes);
                    } else {
                        DecodeBlocks.scoresKeys4Halves(qs, row * d, c.k, kAt + i0 * kss, kss, d, sc, row * span + i0,
                                pairs, half, ds.lanes);
                    }
                }
            }
        }
        if (2 * half < span) {
            int last = 2 * half;
            for (int row = 0; row < per * rows; row++) {
                if (kDirect) {
                    sc[row * span + last] = DecodeSegments.dot(qs, row * d, c.kSeg, kByte + last * kssBytes);
                } else {
                    DecodeBlocks.scores(qs, row * d, c.k, kAt + last * kss, kss, d, sc, row * span + last, 1);
                }
            }
        }
    }

    /** The decode's pass 3: o += p_j·v_j for every row of the group, one V tile at a time. */
    private static void decodeValues(Call c, DecodeScratch ds, int b, int h0, int per, int rows, int kLo, int kHi,
                                     int span) {
        int d = c.p.headDim();
        int dv = c.p.valueDim();
        int all = per * rows;
        float[] sc = ds.scores;
        float[] acc = ds.acc;
        float[] m = ds.rowMax;
        int[] from = ds.from;
        int[] to = ds.to;
        int vBase = c.vBase(b, h0);
        int vss = (int) c.vss;
        // an off-heap V that DecodeSegments serves is read where it lies; others are copied a tile at a time
        boolean vDirect = c.vSeg != null && DecodeSegments.serve(d, dv);
        if (per == 1 && DecodeBlocks.valueHalves(dv) && (c.vSeg == null || vDirect)) {
            decodeValuesInHalves(c, ds, b, h0, rows, kLo, span, vDirect);
            return;
        }
        // pass 3: o += p_j·v_j, one V tile at a time for all rows
        Arrays.fill(acc, 0, all * dv, 0f);
        long vByte = vDirect ? c.vIndex(b, h0) * Float.BYTES : 0; // V[j] at byte vByte + j·vssBytes
        long vssBytes = c.vss * Float.BYTES;
        // a V array's line alignment, where known (a tile buffer is too small to be known: −1, as for a segment)
        int vLine = HeapAlignment.lineResidue(c.v);
        int tile = c.vSeg != null && !vDirect ? Math.min(COPIED_TILE, c.cfg.keyTile()) : c.cfg.keyTile();
        for (int j0 = kLo; j0 < kHi; j0 += tile) {
            int j1 = Math.min(kHi, j0 + tile);
            // V[j] at vArr[vAt + j·vStep]
            float[] vArr = c.v;
            int vAt = vBase;
            int vStep = vss;
            if (c.vSeg != null && !vDirect) {
                vArr = ds.tile(tile, dv);
                vAt = -j0 * dv;
                vStep = dv;
                Copies.rows(c.vSeg, c.vIndex(b, h0) + j0 * c.vss, c.vss, j1 - j0, dv, vArr);
            }
            for (int r = 0; r < rows; r++) {
                // rows r of four heads see the same keys (the structured mask depends on r, not the head)
                int lo = Math.max(j0, from[r]);
                int hi = Math.min(j1, to[r]);
                if (lo >= hi) {
                    continue;
                }
                int hh = 0;
                for (; hh + 4 <= per; hh += 4) {
                    int row = hh * rows + r;
                    if (m[row] == NEG_INF || m[row + rows] == NEG_INF || m[row + 2 * rows] == NEG_INF
                            || m[row + 3 * rows] == NEG_INF) {
                        break; // a dense mask emptied one of them: row by row below
                    }
                    if (vDirect) {
                        DecodeSegments.accumulate4(sc, row * span + lo - kLo, rows * span, c.vSeg,
                                vByte + lo * vssBytes, vssBytes, hi - lo, acc, row * dv, rows * dv);
                    } else {
                        DecodeBlocks.accumulate4(sc, row * span + lo - kLo, rows * span, vArr, vAt + lo * vStep, vStep,
                                hi - lo, acc, row * dv, rows * dv, dv, vLine);
                    }
                }
                for (; hh < per; hh++) {
                    int row = hh * rows + r;
                    if (m[row] != NEG_INF && vDirect) {
                        DecodeSegments.accumulate(sc, row * span + lo - kLo, c.vSeg, vByte + lo * vssBytes, vssBytes,
                                hi - lo, acc, row * dv);
                    } else if (m[row] != NEG_INF) {
                        DecodeBlocks.accumulate(sc, row * span + lo - kLo, vArr, vAt + lo * vStep, vStep, hi - lo, acc,
                                row * dv, dv, vLine);
                    }
                }
            }
        }
    }

    /**
     * {@link #decodeValues} for a query head with its K/V head to itself (MHA) at dv = 8·L, V on the heap or
     * read in place: each row's visible keys in two halves read at once ({@link DecodeBlocks#accumulatePair8};
     * an odd last key joins the second half), the second half's sums kept after the row's first (acc holds
     * 2·rows rows) and added to them at the end.
     */
    private static void decodeValuesInHalves(Call c, DecodeScratch ds, int b, int h, int rows, int kLo, int span,
                                             boolean vDirect) {
        int dv = c.p.valueDim();
        float[] sc = ds.scores;
        float[] acc = ds.acc;
        int second = rows * dv;
        Arrays.fill(acc, 0, 2 * second, 0f);
        int vss = (int) c.vss;
        int vBase = c.vBase(b, h); // V[j] at vBase + j·vss on the heap
        long vssBytes = c.vss * Float.BYTES;
        long vByte = vDirect ? c.vIndex(b, h) * Float.BYTES : 0; // or at byte vByte + j·vssBytes
        for (int r = 0; r < rows; r++) {
            int lo = ds.from[r];
            int hi = ds.to[r];
            if (lo >= hi || ds.rowMax[r] == NEG_INF) {
                continue;
            }
            int half = (hi - lo) / 2;
            int w = r * span + lo - kLo; // key lo's weight
            int ca = r * dv;
            int cb = second + r * dv;
            int mid = lo + half;
            if (vDirect) {
                DecodeSegments.accumulatePair8(sc, w, w + half, c.vSeg, vByte + lo * vssBytes, vByte + mid * vssBytes,
                        vssBytes, half, acc, ca, cb);
            } else {
                DecodeBlocks.accumulatePair8(sc, w, w + half, c.v, vBase + lo * vss, vBase + mid * vss, vss, half,
                        acc, ca, cb);
            }
            if (2 * half < hi - lo) {
                int last = hi - 1;
                if (vDirect) {
                    DecodeSegments.accumulate(sc, w + 2 * half, c.vSeg, vByte + last * vssBytes, vssBytes, 1, acc, cb);
                } else {
                    DecodeBlocks.accumulate(sc, w + 2 * half, c.v, vBase + last * vss, vss, 1, acc, cb, dv, -1);
                }
            }
            for (int e = 0; e < dv; e++) {
                acc[ca + e] += acc[cb + e];
            }
        }
    }

    /** The decode's pass 2: the rows' visible ranges, then in place over each row's scores its mask and softmax. */
    private static void decodeSoftmax(Call c, DecodeScratch ds, int b, int h0, int per, int rows, int kLo, int kHi,
                                      int span) {
        AttentionProblem p = c.p;
        float[] sc = ds.scores;
        float[] m = ds.rowMax;
        float[] l = ds.rowSum;
        int[] from = ds.from;
        int[] to = ds.to;
        float softcap = p.hasSoftcap() ? p.softcap() : 0f;
        for (int hh = 0; hh < per; hh++) {
            for (int r = 0; r < rows; r++) {
                int row = hh * rows + r;
                from[row] = Math.max(kLo, c.ev.keyBegin(b, r));
                to[row] = Math.min(kHi, c.ev.keyEnd(b, r));
                m[row] = NEG_INF;
                l[row] = 0f;
                if (from[row] >= to[row]) {
                    continue;
                }
                int n = to[row] - from[row];
                int at = row * span + from[row] - kLo;
                float[] bb = null;
                if (!c.dense.isEmpty()) {
                    c.dense.fillRow(b, h0 + hh, r, from[row], n, ds.bias, 0);
                    bb = ds.bias;
                }
                if (softcap > 0f || bb != null) {
                    RowSoftmax.transform(sc, at, n, 1f, softcap, bb, 0);
                }
                float max = RowSoftmax.max(sc, at, n);
                if (max == NEG_INF) {
                    continue;
                }
                m[row] = max;
                l[row] = RowSoftmax.expAndSum(sc, at, sc, at, n, max);
            }
        }
    }

    /** out[oAt, oAt + dv) = acc / l (0 when l = 0) and the row's lse, as {@link #finish} does for a tile row. */
    private static void finishRow(Call c, float[] acc, int aAt, float m, float l, int oAt, int b, int h, int r) {
        float inv = l > 0f ? 1f / l : 0f;
        for (int e = 0; e < c.p.valueDim(); e++) {
            c.o[oAt + e] = acc[aAt + e] * inv;
        }
        if (c.lse != null) {
            c.lse.setFloat(lseIndex(c.lse, b, h, r), l > 0f ? (float) (m + Math.log(l)) : NEG_INF);
        }
    }

    /**
     * Merges the splits of one query tile in split order: O = Σ w_s·O_s / Σ w_s·l_s with w_s = e^((m_s − M)·u),
     * u = ln 2 for query tiles (their maxima are in log₂ units) and 1 for decode.
     */
    private static void merge(Call c, int b, int h, int qt) {
        AttentionProblem p = c.p;
        int dv = p.valueDim();
        int i0 = qt * BQ;
        int rows = Math.min(BQ, p.seqQ() - i0);
        int stride = c.partialRows;
        int n = dv * stride;
        float[] part = c.partials;
        // per-thread scratch: a decode call merges every head, and two arrays per head were most of its
        // allocation (47 KB per call at B=1 H=32 D=128)
        MergeScratch ms = MERGE_SCRATCH.get().ensure(c.splits, dv);
        double[] w = ms.weights;
        double unit = c.maxUnit();
        double[] acc = ms.acc;
        int oBase = c.oBase(b, h);
        int oss = (int) c.oss;
        for (int r = 0; r < rows; r++) {
            double mMax = Double.NEGATIVE_INFINITY;
            for (int sp = 0; sp < c.splits; sp++) {
                mMax = Math.max(mMax, part[partialIndex(c, b, h, qt, sp) + n + r]);
            }
            double l = 0.0;
            Arrays.fill(acc, 0, dv, 0.0);
            if (mMax != Double.NEGATIVE_INFINITY) {
                for (int sp = 0; sp < c.splits; sp++) {
                    int at = partialIndex(c, b, h, qt, sp);
                    float ls = part[at + n + stride + r];
                    w[sp] = ls > 0f ? Math.exp((part[at + n + r] - mMax) * unit) : 0.0;
                    l += w[sp] * ls;
                    if (w[sp] != 0.0) {
                        for (int e = 0; e < dv; e++) {
                            acc[e] += w[sp] * part[at + e * stride + r];
                        }
                    }
                }
            }
            int at = oBase + (i0 + r) * oss;
            for (int e = 0; e < dv; e++) {
                c.o[at + e] = l > 0.0 ? (float) (acc[e] / l) : 0f;
            }
            if (c.lse != null) {
                c.lse.setFloat(lseIndex(c.lse, b, h, i0 + r), l > 0.0 ? (float) (mMax * unit + Math.log(l)) : NEG_INF);
            }
        }
    }
}
