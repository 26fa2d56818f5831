package dev.attn4j.simd;

import static dev.attn4j.simd.Vec.F;
import static dev.attn4j.simd.Vec.L;

import dev.attn4j.api.Tensor;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * Packed, register-blocked SGEMM: {@code y [M, N] = alpha·A [M, K]·B [K, N] + beta·C + bias}.
 *
 * <pre>
 *   B is packed once per call into panels of NR = 2·L columns, [N/NR][K][NR] (zero-padded), in parallel
 *   (with one row tile and one k-block, each item packs its own panels as it reaches them);
 *   A is read in place along its rows (unit stride in K; other views are copied once);
 *   work item = (tile of mTile rows) × (group of panels), register tiles of mr packed rows (12, 8 or 4,
 *   GemmConfig.mr) × one panel, MicroKernels.colsA* (accumulators in locals); two loop orders:
 *   by items   — per item, for each kc block, for each panel, for each register tile: C in a per-thread
 *                buffer, then one epilogue applies alpha, beta·C and the bias while storing y;
 *   by passes  — for each kc block, over all items (groups of panels whose kc-slice of B fits in L2), for
 *                each register tile, for each panel: C in y itself (or a scratch), the epilogue after the
 *                last block (GemmConfig.passes).
 * </pre>
 *
 * Edges never fall to scalar code: leftover rows use the 4- and 1-row kernels, leftover columns are
 * zero-padded in the packed panel. Every output element is summed in the same order whatever the
 * split into items, so results do not depend on the thread count.
 */
final class Sgemm {
    static final int NR = MicroKernels.NR;
    private static final ThreadBuffer PACKED = new ThreadBuffer();
    private static final ThreadBuffer CBUF = new ThreadBuffer();
    private static final ThreadBuffer APACK = new ThreadBuffer();
    private static final ThreadBuffer CFULL = new ThreadBuffer();
    private static final ThreadBuffer EDGE = new ThreadBuffer();
    private static final ThreadBuffer PANEL = new ThreadBuffer();
    /** The most rows of a register tile (GemmConfig.mr). */
    private static final int MAX_MR = 12;
    /** Bytes of one pass's slice of packed B per panel group: about half of a 2 MiB L2. */
    private static final int B_SLICE_BYTES = 1 << 20;

    private static final ThreadLocal<int[]> GATHER = ThreadLocal.withInitial(() -> new int[L]);

    private Sgemm() {
    }

    /** Rows of A at or below which a product runs unpacked, row by row ({@link #gemv}, {@link #gemvRows}). */
    static final int GEMV_ROWS = 2;
    /** Columns of y per work item of {@link #gemv}: 32 rows of W, read by one thread. */
    private static final int GEMV_COLS = 32;
    /**
     * Multiply-adds below which the unpacked paths run on the calling thread: handing items to the pool and
     * waiting for them costs microseconds, more than such a product (a head's decode-step matmul, 64 × 128).
     * Not higher: on one thread linear 384 → 384 at M = 1 took 7.6–7.9 µs against 4.7–5.4 on two, 768 × 256
     * 10.6–11.3 against 6.6–9.2 (in-process A/B with the threshold at 2^18).
     */
    private static final long INLINE_MACS = 1 << 16;
    private static final ThreadBuffer SUMS = new ThreadBuffer();
    /** The caller's partial rows of {@link #gemvRows} (each item writes its own block's). */
    private static final ThreadBuffer PARTIALS = new ThreadBuffer();
    /**
     * Rows of b per {@link #gemvRows} item: 768 × 768 at M = 1 in-process on two threads, 96 1.4–1.5× the
     * column items, 64 1.39–1.44×, 48 1.19×, 32 0.72×.
     */
    private static final int ROW_BLOCK = 96;
    /** At most this many floats of {@link #gemvRows}' partial rows at a time (1 MB). */
    private static final int PARTIAL_FLOATS = 1 << 18;
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[L]);

    /**
     * {@link #gemm(float, Tensor, Tensor, float, Tensor, Tensor, Tensor, Parallel, GemmConfig)} with the tuned
     * blocking, or, for a few rows, without packing B (packing would cost as much as the product): against a
     * weight stored as rows ({@link #againstWeightRows}) as dot products, {@link #gemv} for one or two rows (a
     * decode step), {@link DotGemm} up to {@link DotGemm#MAX_ROWS}; against a row-major B, one or two rows as
     * sums of B's rows ({@link #gemvRows}).
     */
    static void gemm(float alpha, Tensor a, Tensor b, float beta, Tensor c, Tensor bias, Tensor y, Parallel par) {
        if (gemvApplies(a, b, y)) {
            gemv(alpha, a, b, beta, c, bias, y, par);
            return;
        }
        if (DotGemm.applies(a, b, y)) {
            DotGemm.gemm(alpha, a, b, beta, c, bias, y, par);
            return;
        }
        if (gemvRowsApplies(a, b, y)) {
            gemvRows(alpha, a, b, beta, c, bias, y, par);
            return;
        }
        gemm(alpha, a, b, beta, c, bias, y, par, SimdTuning.gemm(a.dim(0), b.dim(1), a.dim(1)));
    }

    static boolean gemvApplies(Tensor a, Tensor b, Tensor y) {
        return a.dim(0) <= GEMV_ROWS && againstWeightRows(a, b, y);
    }

    /**
     * Whether y = alpha·a·b + beta·c + bias can run as dot products of a's rows with b's columns (W's rows): at
     * least one row and one column, K at least one vector, heap operands with a's rows, b's columns and y's
     * rows contiguous. C, if any, is read by the epilogue, element by element before y's is written, so y may
     * be C (a residual added in place).
     */
    static boolean againstWeightRows(Tensor a, Tensor b, Tensor y) {
        return a.dim(0) >= 1 && b.dim(1) >= 1 && a.dim(1) >= L
                && a.array() != null && a.stride(1) == 1
                && b.array() != null && b.stride(0) == 1
                && y.array() != null && y.stride(1) == 1;
    }

    /** Whether {@link #gemvRows} takes the product: one or two rows of a on the heap, B's rows contiguous. */
    static boolean gemvRowsApplies(Tensor a, Tensor b, Tensor y) {
        return a.dim(0) >= 1 && a.dim(0) <= GEMV_ROWS && a.dim(1) >= 1 && b.dim(1) >= 1
                && a.array() != null && b.array() != null && b.stride(1) == 1 && y.array() != null;
    }

    /** The bias as an array indexed by column: the tensor's own when it is one, else a copy. */
    static float[] biasArray(Tensor bias) {
        if (bias == null) {
            return null;
        }
        return bias.array() != null && bias.offset() == 0 && bias.stride(0) == 1 ? bias.array() : bias.toFloatArray();
    }

    /** C broadcast to [m, n] on the heap, or null when there is no C term. */
    static Tensor heapC(Tensor c, float beta, int m, int n) {
        return c == null || beta == 0f ? null : Copies.heapBroadcast(c.broadcastTo(m, n));
    }

    /**
     * y[r, n] = alpha·Σ_k a[r, k]·b[k, n] + beta·c[r, n] + bias[n] where b's columns are contiguous (b = Wᵀ of a
     * row-major W): W streamed once, in items of {@link #GEMV_COLS} rows; each row of a against four W rows at a
     * time ({@link DecodeBlocks#scoresKeys4}: one load of a for four FMA chains, one tree for four sums), the
     * sums then through {@link #epilogue}. Each output is summed by one thread in a fixed order, so the result
     * does not depend on the thread count.
     */
    static void gemv(float alpha, Tensor a, Tensor b, float beta, Tensor c, Tensor bias, Tensor y, Parallel par) {
        int m = a.dim(0);
        int k = a.dim(1);
        int n = b.dim(1);
        float[] aa = a.array();
        float[] ww = b.array();
        int aOff = (int) a.offset();
        int lda = (int) a.stride(0);
        int wOff = (int) b.offset();
        int ldw = (int) b.stride(1);
        Tensor c2 = heapC(c, beta, m, n);
        float[] biasArr = biasArray(bias);
        Parallel run = (long) m * n * k < INLINE_MACS ? Parallel.SERIAL : par;
        run.forEach((n + GEMV_COLS - 1) / GEMV_COLS, item -> {
            int n0 = item * GEMV_COLS;
            int cols = Math.min(GEMV_COLS, n - n0);
            float[] sums = SUMS.get(m * GEMV_COLS);
            float[] lanes = LANES.get();
            // sixteen W rows at a time where the vectors have 16 lanes and K is whole vectors, the rest four at a time
            // (sixteen: in-process A/B of linear at M = 1 call by call, Zen 4 VM, the other core busy: 768 × 256
            // 1.10× on one thread, 1.03× on two; 768 × 768 and 2304 × 768 1.06× on two)
            int sixteens = DecodeBlocks.sixteens(k) ? cols / 16 : 0;
            for (int r = 0; r < m; r++) {
                for (int b16 = 0; b16 < sixteens; b16++) {
                    DecodeBlocks.scores16(aa, aOff + r * lda, ww, wOff + (n0 + 16 * b16) * ldw, ldw, k, sums,
                            r * GEMV_COLS + 16 * b16);
                }
                DecodeBlocks.scoresKeys4(aa, aOff + r * lda, ww, wOff + (n0 + 16 * sixteens) * ldw, ldw, k, sums,
                        r * GEMV_COLS + 16 * sixteens, cols - 16 * sixteens, lanes);
            }
            epilogue(alpha, beta, c2, biasArr, y, sums, 0, GEMV_COLS, 0, m, n0, n0 + cols);
        });
    }

    /**
     * y[r, :] = alpha·Σ_k a[r, k]·b[k, :] + beta·c[r, :] + bias for one or two rows of a against a row-major b
     * ({@code gemm}'s B, a head's keys or values in a matmul): each item sums a block of {@link #ROW_BLOCK} of
     * b's rows, whole rows at a time ({@link #sumRowBlock}), into its own partial row; the caller adds the
     * partials in block order and applies {@link #epilogue}. The blocks depend on k alone, so the sums are the
     * same for any thread count. No packing, and no thread switch for a small product. Each item reads b as
     * four contiguous streams, where items of 4·L columns over all of b's rows (registers as accumulators)
     * read 256 bytes of every row at a 3 KB stride: in-process A/B of gemvRows, 1 × 768 × 768 on the pool's
     * two threads, call by call on the Zen 4 VM: 1.22–1.52× over sixteen offsets of the partial rows but three,
     * where their stores alias b's loads modulo 4 KB (0.91–1.14×); blocks of 64 rows 1.39–1.44×, of 32 0.72×.
     */
    static void gemvRows(float alpha, Tensor a, Tensor b, float beta, Tensor c, Tensor bias, Tensor y, Parallel par) {
        int m = a.dim(0);
        int k = a.dim(1);
        int n = b.dim(1);
        float[] aa = a.array();
        float[] bb = b.array();
        int aOff = (int) a.offset();
        int lda = (int) a.stride(0);
        int ldk = (int) a.stride(1);
        int bOff = (int) b.offset();
        int ldb = (int) b.stride(0);
        Tensor c2 = heapC(c, beta, m, n);
        float[] biasArr = biasArray(bias);
        Parallel run = (long) m * n * k < INLINE_MACS ? Parallel.SERIAL : par;
        int blocks = Math.max(1, (k + ROW_BLOCK - 1) / ROW_BLOCK);
        int np = (n + L - 1) / L * L; // partial rows padded to whole vectors: no masked store read back
        // columns in chunks whose partial rows fit PARTIAL_FLOATS: a wide B (an LM head's [4096, 50257]) would
        // otherwise keep blocks · n floats per calling thread; the sums are the same for any chunk width
        int cw = Math.min(np, Math.max(L, PARTIAL_FLOATS / (blocks * m) / L * L));
        float[] part = PARTIALS.get(blocks * m * cw);
        for (int c0 = 0; c0 < n; c0 += cw) {
            int from = c0;
            int w = Math.min(cw, n - c0);
            run.forEach(blocks, blk -> {
                int k0 = blk * ROW_BLOCK;
                int k1 = Math.min(k, k0 + ROW_BLOCK);
                for (int r = 0; r < m; r++) {
                    sumRowBlock(aa, aOff + r * lda, ldk, bb, bOff + from, ldb, k0, k1, w, part, (blk * m + r) * cw);
                }
            });
            int wp = (w + L - 1) / L * L;
            for (int blk = 1; blk < blocks; blk++) {
                for (int r = 0; r < m; r++) {
                    int to = r * cw;
                    int at = (blk * m + r) * cw;
                    for (int j = 0; j < wp; j += L) {
                        FloatVector.fromArray(F, part, to + j).add(FloatVector.fromArray(F, part, at + j))
                                .intoArray(part, to + j);
                    }
                }
            }
            epilogue(alpha, beta, c2, biasArr, y, part, 0, cw, 0, m, from, from + w);
        }
    }

    /**
     * p[pAt + j] = Σ_{i ∈ [k0, k1)} a[aAt + i·ak]·b[bAt + i·ldb + j] for j &lt; n, in i order, over
     * ⌈n / L⌉ whole vectors of p (lanes past n zero): four rows of b per pass over p, each b row read
     * contiguously; b's last partial vector by a masked load.
     */
    static void sumRowBlock(float[] a, int aAt, int ak, float[] b, int bAt, int ldb, int k0, int k1, int n,
                            float[] p, int pAt) {
        int bound = F.loopBound(n);
        int np = bound < n ? bound + L : bound;
        VectorMask<Float> tail = F.indexInRange(bound, n);
        FloatVector zero = FloatVector.zero(F);
        for (int j = 0; j < np; j += L) {
            zero.intoArray(p, pAt + j);
        }
        int i = k0;
        for (; i + 4 <= k1; i += 4) {
            FloatVector x0 = FloatVector.broadcast(F, a[aAt + i * ak]);
            FloatVector x1 = FloatVector.broadcast(F, a[aAt + (i + 1) * ak]);
            FloatVector x2 = FloatVector.broadcast(F, a[aAt + (i + 2) * ak]);
            FloatVector x3 = FloatVector.broadcast(F, a[aAt + (i + 3) * ak]);
            int r0 = bAt + i * ldb;
            int r1 = r0 + ldb;
            int r2 = r1 + ldb;
            int r3 = r2 + ldb;
            int j = 0;
            for (; j < bound; j += L) {
                FloatVector acc = FloatVector.fromArray(F, p, pAt + j);
                acc = FloatVector.fromArray(F, b, r0 + j).fma(x0, acc);
                acc = FloatVector.fromArray(F, b, r1 + j).fma(x1, acc);
                acc = FloatVector.fromArray(F, b, r2 + j).fma(x2, acc);
                acc = FloatVector.fromArray(F, b, r3 + j).fma(x3, acc);
                acc.intoArray(p, pAt + j);
            }
            if (j < n) {
                FloatVector acc = FloatVector.fromArray(F, p, pAt + j);
                acc = FloatVector.fromArray(F, b, r0 + j, tail).fma(x0, acc);
                acc = FloatVector.fromArray(F, b, r1 + j, tail).fma(x1, acc);
                acc = FloatVector.fromArray(F, b, r2 + j, tail).fma(x2, acc);
                acc = FloatVector.fromArray(F, b, r3 + j, tail).fma(x3, acc);
                acc.intoArray(p, pAt + j);
            }
        }
        for (; i < k1; i++) {
            FloatVector x = FloatVector.broadcast(F, a[aAt + i * ak]);
            int r0 = bAt + i * ldb;
            for (int j = 0; j < np; j += L) {
                FloatVector row = j < bound ? FloatVector.fromArray(F, b, r0 + j) : FloatVector.fromArray(F, b, r0 + j, tail);
                row.fma(x, FloatVector.fromArray(F, p, pAt + j)).intoArray(p, pAt + j);
            }
        }
    }

    /**
     * sums[sAt + j] = Σ_i a[aAt + i·ak]·b[bAt + i·ldb + j] for j &lt; cols (≤ 4·L), i &lt; k in order: four
     * vector accumulators, lanes past cols masked off (neither read from b nor written to sums).
     */
    static void axpyRows(float[] a, int aAt, int ak, float[] b, int bAt, int ldb, int k, int cols,
                         float[] sums, int sAt) {
        var m0 = F.indexInRange(0, cols);
        var m1 = F.indexInRange(L, cols);
        var m2 = F.indexInRange(2 * L, cols);
        var m3 = F.indexInRange(3 * L, cols);
        FloatVector s0 = FloatVector.zero(F);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        if (cols == 4 * L) {
            for (int i = 0; i < k; i++) {
                FloatVector x = FloatVector.broadcast(F, a[aAt + i * ak]);
                int at = bAt + i * ldb;
                s0 = FloatVector.fromArray(F, b, at).fma(x, s0);
                s1 = FloatVector.fromArray(F, b, at + L).fma(x, s1);
                s2 = FloatVector.fromArray(F, b, at + 2 * L).fma(x, s2);
                s3 = FloatVector.fromArray(F, b, at + 3 * L).fma(x, s3);
            }
        } else {
            for (int i = 0; i < k; i++) {
                FloatVector x = FloatVector.broadcast(F, a[aAt + i * ak]);
                int at = bAt + i * ldb;
                s0 = FloatVector.fromArray(F, b, at, m0).fma(x, s0);
                s1 = FloatVector.fromArray(F, b, at + L, m1).fma(x, s1);
                s2 = FloatVector.fromArray(F, b, at + 2 * L, m2).fma(x, s2);
                s3 = FloatVector.fromArray(F, b, at + 3 * L, m3).fma(x, s3);
            }
        }
        if (cols == 4 * L) {
            s0.intoArray(sums, sAt);
            s1.intoArray(sums, sAt + L);
            s2.intoArray(sums, sAt + 2 * L);
            s3.intoArray(sums, sAt + 3 * L);
        } else {
            s0.intoArray(sums, sAt, m0);
            s1.intoArray(sums, sAt + L, m1);
            s2.intoArray(sums, sAt + 2 * L, m2);
            s3.intoArray(sums, sAt + 3 * L, m3);
        }
    }

    /**
     * y = alpha·a·b + beta·c + bias. {@code a [M, K]}, {@code b [K, N]}, {@code c} null or broadcast to
     * [M, N], {@code bias} null or [N], {@code y [M, N]}; any strides and storage.
     */
    static void gemm(float alpha, Tensor a, Tensor b, float beta, Tensor c, Tensor bias, Tensor y, Parallel par,
                     GemmConfig cfg) {
        int m = a.dim(0);
        int k = a.dim(1);
        int n = b.dim(1);
        if (m == 0 || n == 0) {
            return;
        }
        if (y.array() == null) {
            // off-heap (possibly thread-confined) output: compute on the heap, copy on this thread
            Tensor tmp = Tensor.zeros(m, n);
            gemm(alpha, a, b, beta, c, bias, tmp, par, cfg);
            Copies.copy(tmp, y);
            return;
        }
        Tensor a2 = a.array() != null && (k <= 1 || a.stride(1) == 1) ? a : Copies.heap(a);
        Tensor b2 = b.array() != null ? b : Copies.heap(b);
        Tensor c2 = c == null || beta == 0f ? null : Copies.heapBroadcast(c.broadcastTo(m, n));
        float[] biasArr = bias == null ? null : bias.toFloatArray();
        int panels = (n + NR - 1) / NR;
        int mTiles = (m + cfg.mTile() - 1) / cfg.mTile();
        // one row tile and one k-block: every panel is used by one item, once; that item packs it right
        // before its register tiles read it (in L1/L2), instead of a packed copy of all B written out first
        // and read back (in-process A/B of linear(x, W [2304, 768]) call by call on the Zen 4 VM, same bits:
        // M = 8 1.24–1.30×, 16 1.16–1.28×, 32 1.09–1.20×, 48 1.09–1.15×)
        boolean packPerItem = mTiles == 1 && k <= cfg.kc() && !cfg.passes();
        float[] packed = packPerItem ? null : packB(b2, k, n, panels, par);
        // enough items for every thread (decode-like M = 1 splits the panels instead of the rows); by passes,
        // panel groups whose kc-slice of B fits in L2 (B_SLICE_BYTES), where it stays across a pass's items
        int want = cfg.itemsPerThread() * par.parallelism();
        int groups = Math.min(panels, Math.max(1, (want + mTiles - 1) / mTiles));
        int perGroup = (panels + groups - 1) / groups;
        if (cfg.passes()) {
            int kcEff = Math.max(1, Math.min(cfg.kc(), k));
            perGroup = Math.min(perGroup, Math.max(1, B_SLICE_BYTES / (kcEff * NR * Float.BYTES)));
        }
        int nGroups = (panels + perGroup - 1) / perGroup;
        if (cfg.passes()) {
            byPasses(alpha, beta, a2, c2, biasArr, y, packed, m, n, k, panels, mTiles, perGroup, nGroups, par, cfg);
        } else {
            byItems(alpha, beta, a2, c2, biasArr, y, packPerItem ? b2 : null, packed, m, n, k, panels, mTiles, perGroup,
                    nGroups, par, cfg);
        }
    }

    /**
     * The item-outer order: each work item (rows × panel group) runs every k-block, its C tile in a per-thread
     * buffer (L2) until the epilogue stores it; each item streams its panels of B from L3, each panel reused
     * by the item's register tiles while it is in L1.
     */
    private static void byItems(float alpha, float beta, Tensor a2, Tensor c2, float[] biasArr, Tensor y, Tensor b2,
                                float[] packed, int m, int n, int k, int panels, int mTiles, int perGroup, int nGroups,
                                Parallel par, GemmConfig cfg) {
        float[] aa = a2.array();
        int aOff = (int) a2.offset();
        int lda = (int) a2.stride(0);
        par.forEach(mTiles * nGroups, idx -> {
            int m0 = idx / nGroups * cfg.mTile();
            int rows = Math.min(cfg.mTile(), m - m0);
            int p0 = idx % nGroups * perGroup;
            int np = Math.min(perGroup, panels - p0);
            int ldc = np * NR;
            float[] cbuf = CBUF.get(rows * ldc);
            if (k == 0) {
                Arrays.fill(cbuf, 0, rows * ldc, 0f);
            }
            int mr = cfg.mr();
            int full = rows / mr;
            int rest = rows - full * mr;
            float[] ap = APACK.get(full * mr * Math.min(cfg.kc(), k) + L); // + L: packA's last gather spills
            // B packed here, panel by panel (one k-block, so k0 = 0), into this thread's panel buffer
            float[] panel = b2 == null ? null : PANEL.get(k * NR);
            for (int k0 = 0; k0 < k; k0 += cfg.kc()) {
                int kc = Math.min(cfg.kc(), k - k0);
                packA(aa, aOff + m0 * lda + k0, lda, full, kc, ap, mr);
                for (int p = 0; p < np; p++) {
                    float[] bp = packed;
                    int bOff = (p0 + p) * k * NR + k0 * NR;
                    if (panel != null) {
                        bp = panel;
                        bOff = 0;
                        packPanel(b2, k, n, p0 + p, bp, 0);
                    }
                    for (int blk = 0; blk < full; blk++) {
                        packedTile(mr, ap, blk * kc * mr, bp, bOff, kc, cbuf, blk * mr * ldc + p * NR, ldc, k0 > 0);
                    }
                    if (rest > 0) {
                        int r0 = full * mr;
                        MicroKernels.rowsA(aa, aOff + (m0 + r0) * lda + k0, lda, bp, bOff, kc, cbuf,
                                r0 * ldc + p * NR, ldc, rest, k0 > 0);
                    }
                }
            }
            epilogue(alpha, beta, c2, biasArr, y, cbuf, 0, ldc, m0, rows, p0 * NR, Math.min(n, (p0 + np) * NR));
        });
    }


    /**
     * The pass order (GemmConfig.passes): k-block passes over all items, panel group by panel group: a pass
     * reads one kc-slice of a group's packed B, which stays in this core's L2 across the group's items (each
     * register tile's slice of A stays in L1 across the panels), and C accumulates in y (or a scratch), loaded
     * and stored once per pass. One thread, 2048×2304×768: 0.79–0.81× OpenBLAS against 0.67–0.68× by items
     * (paired JMH); at two threads it measured 5–9 % slower there, so ESTIMATE takes it at one thread only.
     */
    private static void byPasses(float alpha, float beta, Tensor a2, Tensor c2, float[] biasArr, Tensor y, float[] packed,
                                 int m, int n, int k, int panels, int mTiles, int perGroup, int nGroups, Parallel par,
                                 GemmConfig cfg) {
        // C accumulates in y itself when y's rows are unit-stride heap rows that c does not share (c is read
        // by the epilogue after the last pass); else in a scratch of whole panels
        boolean direct = y.stride(1) == 1 && y.stride(0) >= n && (c2 == null || c2.array() != y.array());
        Acc acc = direct
                ? new Acc(y.array(), (int) y.offset(), (int) y.stride(0), n, true)
                : new Acc(CFULL.get(m * panels * NR), 0, panels * NR, panels * NR, false);
        Operands ops = new Operands(a2.array(), (int) a2.offset(), (int) a2.stride(0), packed, k, m, n, panels,
                perGroup, nGroups);
        for (int k0 = 0; k0 < Math.max(k, 1); k0 += cfg.kc()) {
            int from = k0;
            int kc = Math.min(cfg.kc(), k - k0);
            boolean last = k0 + cfg.kc() >= k;
            par.forEach(mTiles * nGroups, idx -> {
                int m0 = idx % mTiles * cfg.mTile();
                int rows = Math.min(cfg.mTile(), m - m0);
                int p0 = idx / mTiles * perGroup;
                int np = Math.min(perGroup, panels - p0);
                pass(ops, acc, cfg.mr(), m0, rows, p0, np, from, kc);
                if (last) {
                    int n1 = Math.min(n, (p0 + np) * NR);
                    if (!acc.inY || alpha != 1f || c2 != null || biasArr != null) {
                        epilogue(alpha, beta, c2, biasArr, y, acc.c, acc.off + m0 * acc.ld + p0 * NR, acc.ld, m0, rows,
                                p0 * NR, n1);
                    }
                }
            });
        }
    }

    /** The product's operands: A in place (unit stride along K), B packed [panels][K][NR], and the item grid. */
    private record Operands(float[] a, int aOff, int lda, float[] packed, int k, int m, int n, int panels,
                            int perGroup, int nGroups) {
    }

    /**
     * Where C accumulates: {@code c[off + r·ld + col]}; {@code width} columns are real (y's N, or whole panels
     * in the scratch); {@code inY} when c is y itself.
     */
    private record Acc(float[] c, int off, int ld, int width, boolean inY) {
    }

    /**
     * One k-block [k0, k0 + kc) of one item (rows [m0, m0 + rows) × panels [p0, p0 + np)): packs the item's
     * rows of A for the block, then for each register tile of A (its packed slice held in L1) runs every
     * panel, C += A·B (C = A·B in the first block).
     */
    private static void pass(Operands o, Acc acc, int mr, int m0, int rows, int p0, int np, int k0, int kc) {
        boolean accumulate = k0 > 0;
        int full = rows / mr;
        int rest = rows - full * mr;
        float[] ap = APACK.get(full * mr * kc + L); // + L: packA's last gather spills
        packA(o.a, o.aOff + m0 * o.lda + k0, o.lda, full, kc, ap, mr);
        for (int blk = 0; blk < full; blk++) {
            int r0 = m0 + blk * mr;
            for (int p = p0; p < p0 + np; p++) {
                int bOff = p * o.k * NR + k0 * NR;
                int col = p * NR;
                if (col + NR <= acc.width) {
                    packedTile(mr, ap, blk * kc * mr, o.packed, bOff, kc, acc.c, acc.off + r0 * acc.ld + col, acc.ld,
                            accumulate);
                } else {
                    // y's last, partial panel: through a tile of whole panel width
                    float[] edge = edgeIn(acc, r0, mr, col, accumulate);
                    packedTile(mr, ap, blk * kc * mr, o.packed, bOff, kc, edge, 0, NR, accumulate);
                    edgeOut(acc, edge, r0, mr, col);
                }
            }
        }
        if (rest > 0) {
            int r0 = m0 + full * mr;
            for (int p = p0; p < p0 + np; p++) {
                int bOff = p * o.k * NR + k0 * NR;
                int col = p * NR;
                int aAt = o.aOff + r0 * o.lda + k0;
                if (col + NR <= acc.width) {
                    MicroKernels.rowsA(o.a, aAt, o.lda, o.packed, bOff, kc, acc.c, acc.off + r0 * acc.ld + col, acc.ld,
                            rest, accumulate);
                } else {
                    float[] edge = edgeIn(acc, r0, rest, col, accumulate);
                    MicroKernels.rowsA(o.a, aAt, o.lda, o.packed, bOff, kc, edge, 0, NR, rest, accumulate);
                    edgeOut(acc, edge, r0, rest, col);
                }
            }
        }
    }

    /** This thread's panel-wide tile for rows [r0, r0 + rows) of a partial last panel, loaded when accumulating. */
    private static float[] edgeIn(Acc acc, int r0, int rows, int col, boolean accumulate) {
        float[] edge = EDGE.get(MAX_MR * NR);
        if (accumulate) {
            int w = acc.width - col;
            for (int r = 0; r < rows; r++) {
                System.arraycopy(acc.c, acc.off + (r0 + r) * acc.ld + col, edge, r * NR, w);
            }
        }
        return edge;
    }

    /** Stores the real columns of an edge tile back into C. */
    private static void edgeOut(Acc acc, float[] edge, int r0, int rows, int col) {
        int w = acc.width - col;
        for (int r = 0; r < rows; r++) {
            System.arraycopy(edge, r * NR, acc.c, acc.off + (r0 + r) * acc.ld + col, w);
        }
    }

    /**
     * Packs {@code blocks} register tiles of {@code mr} rows × kc of A into [block][kc][mr], so the
     * micro-kernel broadcasts from one stream with constant offsets instead of mr row pointers (≈ 15 % faster
     * than reading A in place, measured on the micro-kernels alone). Each packed step [kk][0, mr) is one
     * gather of the mr rows' element kk (two or three where mr > L, the last one overlapping), instead of
     * mr scalar copies; where mr < L the gather's extra lanes repeat the last row and spill into the next
     * step, which overwrites them (so {@code ap} needs L floats of slack after the last block).
     */
    private static void packA(float[] a, int off, int lda, int blocks, int kc, float[] ap, int mr) {
        int[] rows = GATHER.get();
        if (mr <= L) {
            for (int t = 0; t < L; t++) {
                rows[t] = Math.min(t, mr - 1) * lda;
            }
            for (int blk = 0; blk < blocks; blk++) {
                int src = off + blk * mr * lda;
                int dst = blk * kc * mr;
                for (int kk = 0; kk < kc; kk++) {
                    FloatVector.fromArray(F, a, src + kk, rows, 0).intoArray(ap, dst + kk * mr);
                }
            }
            return;
        }
        for (int t = 0; t < L; t++) {
            rows[t] = t * lda;
        }
        for (int blk = 0; blk < blocks; blk++) {
            for (int i0 = 0; i0 < mr; i0 = i0 + L < mr ? Math.min(i0 + L, mr - L) : mr) {
                int src = off + (blk * mr + i0) * lda;
                int dst = blk * kc * mr + i0;
                for (int kk = 0; kk < kc; kk++) {
                    FloatVector.fromArray(F, a, src + kk, rows, 0).intoArray(ap, dst + kk * mr);
                }
            }
        }
    }

    /** One register tile of {@code mr} packed rows (the micro-kernel shape the blocking chose) × NR columns. */
    private static void packedTile(int mr, float[] ap, int aOff, float[] packed, int bOff, int kc, float[] c, int cOff,
                                   int ldc, boolean accumulate) {
        switch (mr) {
            case 12 -> MicroKernels.colsA12(ap, aOff, 12, packed, bOff, kc, c, cOff, ldc, accumulate, null);
            case 8 -> MicroKernels.colsA8(ap, aOff, 8, packed, bOff, kc, c, cOff, ldc, accumulate, null);
            case 4 -> MicroKernels.colsA4(ap, aOff, 4, packed, bOff, kc, c, cOff, ldc, accumulate, null);
            default -> throw new IllegalArgumentException("no micro-kernel of " + mr + " rows");
        }
    }

    /** Packs b [K, N] into [panels][K][NR], zero-padding the last panel. */
    private static float[] packB(Tensor b, int k, int n, int panels, Parallel par) {
        float[] packed = PACKED.get(panels * k * NR);
        par.forEach(panels, p -> packPanel(b, k, n, p, packed, p * k * NR));
        return packed;
    }

    /** Packs panel p of b [K, N] (columns [p·NR, p·NR + NR), zero-padded past N) into dst[base, + K·NR) as [K][NR]. */
    private static void packPanel(Tensor b, int k, int n, int p, float[] dst, int base) {
        float[] src = b.array();
        long off = b.offset();
        long sk = b.stride(0);
        long sn = b.stride(1);
        int n0 = p * NR;
        int w = Math.min(NR, n - n0);
        if (w < NR) {
            Arrays.fill(dst, base, base + k * NR, 0f);
        }
        if (sn == 1 && w == NR) {
            // a full panel of a row-major B: each packed row is two vectors (NR = 2·L), where a 32-float
            // System.arraycopy per row cost its call (in-process A/B of gemm(x, B [768, 2304]) call by call on
            // the Zen 4 VM, same bits: M = 32 1.24×, 128 1.08–1.09×, 256 1.03–1.05×, 1024 1.00–1.03×)
            int at = (int) (off + n0);
            for (int kk = 0; kk < k; kk++) {
                int from = (int) (at + kk * sk);
                FloatVector.fromArray(F, src, from).intoArray(dst, base + kk * NR);
                FloatVector.fromArray(F, src, from + L).intoArray(dst, base + kk * NR + L);
            }
        } else if (sn == 1) {
            for (int kk = 0; kk < k; kk++) {
                System.arraycopy(src, (int) (off + kk * sk + n0), dst, base + kk * NR, w);
            }
        } else if (sk == 1 && w == NR && sn <= Integer.MAX_VALUE / NR) {
            // a transposed operand (linear's weight), a full panel: its columns are W's rows, contiguous
            // in K. At 512 bits, 16×16 blocks transposed in registers (Transposes), one half of the panel
            // (16 rows of W, so 16 read streams) at a time; the rest of K, and other widths, by gathers of
            // L columns. Against gathers for all of K, in-process A/B of linear(x, W [2304, 768]) call by
            // call on the Zen 4 VM, same bits: M = 32 1.26–1.29×, M = 256 1.07–1.11×, M = 1024 1.02–1.05×
            // (both halves at once, 32 streams: 1.04–1.15× slower than one half at a time)
            int col0 = (int) (off + n0 * sn);
            int col1 = (int) (col0 + L * sn);
            int blocked = Transposes.AVAILABLE ? k / L * L : 0;
            for (int half = 0; half < NR / L; half++) {
                int col = half == 0 ? col0 : col1;
                for (int kk = 0; kk < blocked; kk += L) {
                    Transposes.transpose16(src, col + kk, (int) sn, dst, base + kk * NR + half * L, NR, Transposes.ONES, 0);
                }
            }
            int[] lanes = GATHER.get();
            for (int t = 0; t < L; t++) {
                lanes[t] = (int) (t * sn);
            }
            for (int kk = blocked; kk < k; kk++) {
                FloatVector.fromArray(F, src, col0 + kk, lanes, 0).intoArray(dst, base + kk * NR);
                FloatVector.fromArray(F, src, col1 + kk, lanes, 0).intoArray(dst, base + kk * NR + L);
            }
        } else {
            // a transposed operand (linear's weight): each column is contiguous in K
            for (int t = 0; t < w; t++) {
                int col = (int) (off + (n0 + t) * sn);
                int at = base + t;
                if (sk == 1) {
                    for (int kk = 0; kk < k; kk++) {
                        dst[at + kk * NR] = src[col + kk];
                    }
                } else {
                    for (int kk = 0; kk < k; kk++) {
                        dst[at + kk * NR] = src[(int) (col + kk * sk)];
                    }
                }
            }
        }
    }

    /** y[m0 + r][n0..n1) = alpha·cbuf[cBase + r·ldc + j] + beta·c + bias (cbuf may be y's own array, in place). */
    private static void epilogue(float alpha, float beta, Tensor c, float[] bias, Tensor y, float[] cbuf, int cBase,
                                 int ldc, int m0, int rows, int n0, int n1) {
        float[] ya = y.array();
        long ys0 = y.stride(0);
        long ys1 = y.stride(1);
        float[] ca = c == null ? null : c.array();
        long cs0 = c == null ? 0 : c.stride(0);
        long cs1 = c == null ? 0 : c.stride(1);
        int w = n1 - n0;
        for (int r = 0; r < rows; r++) {
            int yAt = (int) (y.offset() + (m0 + r) * ys0 + n0 * ys1);
            int bAt = cBase + r * ldc;
            int cAt = c == null ? 0 : (int) (c.offset() + (m0 + r) * cs0 + n0 * cs1);
            int j = 0;
            if (ys1 == 1 && (ca == null || cs1 == 1 || cs1 == 0)) {
                FloatVector cs = ca != null && cs1 == 0 ? FloatVector.broadcast(F, beta * ca[cAt]) : null;
                for (; j < F.loopBound(w); j += L) {
                    FloatVector v = FloatVector.fromArray(F, cbuf, bAt + j);
                    if (alpha != 1f) {
                        v = v.mul(alpha);
                    }
                    if (ca != null) {
                        v = cs != null ? v.add(cs) : FloatVector.fromArray(F, ca, cAt + j).fma(FloatVector.broadcast(F, beta), v);
                    }
                    if (bias != null) {
                        v = v.add(FloatVector.fromArray(F, bias, n0 + j));
                    }
                    v.intoArray(ya, yAt + j);
                }
            }
            for (; j < w; j++) {
                float v = alpha * cbuf[bAt + j];
                if (ca != null) {
                    v += beta * ca[(int) (cAt + j * cs1)];
                }
                if (bias != null) {
                    v += bias[n0 + j];
                }
                ya[(int) (yAt + j * ys1)] = v;
            }
        }
    }
}
