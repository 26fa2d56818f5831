package dev.attn4j.simd;

import static dev.attn4j.simd.Vec.F;
import static dev.attn4j.simd.Vec.L;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Mask;
import dev.attn4j.api.MaskEvaluator;
import dev.attn4j.api.ScoreStage;
import dev.attn4j.api.Tensor;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;

/**
 * The score matrix (ONNX {@code qk_matmul_output}) and the in-place masked softmax over score rows.
 * Scores reuse the flash kernel's transposed tile (keys × query rows, {@link MicroKernels#rowsA}) and
 * write it back row by row; the row transforms are {@link RowSoftmax}'s.
 */
final class Scores {
    private static final float NEG_INF = Float.NEGATIVE_INFINITY;
    private static final int ROW_CHUNK = 16;
    /** Rows per task of the pipelined masked softmax. */
    private static final int PIPE_CHUNK = 32;
    /**
     * Query rows at or below which a tile's scores are dot products row by row ({@link #fewRows}): the transposed
     * tile computes {@link FlashAttention#BQ} rows whatever the tile holds (32 at 512 bits), so a decode step's
     * one row paid 32 rows' work (12 heads × 128 keys, D = 64: 42.6 µs, 2× the float64 reference).
     */
    static final int FEW_ROWS = 8;
    /**
     * Below these sizes a call runs on the calling thread: handing items to the pool and waiting for the last
     * costs microseconds, as much as the work (a decode step's 12 heads × 128 keys).
     */
    static final long INLINE_MACS = 1 << 16;
    private static final long INLINE_ELEMENTS = 1 << 14;
    private static final ThreadLocal<float[]> ROW_Q = ThreadLocal.withInitial(() -> new float[0]);
    /** Per thread: the four-key kernel's lanes (L floats). */
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[Vec.L]);
    private static final ThreadLocal<float[][]> ROWS = ThreadLocal.withInitial(() -> new float[2][0]);

    private Scores() {
    }

    private static float[][] rows(int n) {
        float[][] r = ROWS.get();
        if (r[0].length < n) {
            r[0] = new float[n];
            r[1] = new float[n];
        }
        return r;
    }

    /**
     * What a caller does with finished score rows [from, from + count) of the flattened (b, h, i) index, on the
     * thread that computed them (see {@link #scores(AttentionProblem, Tensor, Tensor, Mask, ScoreStage, Tensor,
     * Parallel, long, RowsDone)}).
     */
    @FunctionalInterface
    interface RowsDone {
        void rows(int from, int count);
    }

    static void scores(AttentionProblem p, Tensor q, Tensor k, Mask mask, ScoreStage stage, Tensor scores, Parallel par) {
        scores(p, q, k, mask, stage, scores, par, INLINE_MACS, null);
    }

    /**
     * The score matrix, then {@code then} (if not null) for each work item's rows right after the item, on its
     * thread: a caller that goes on row by row (the hard and local kernels) does so in the same pass over the
     * pool, while the rows are in that core's cache, and pays for one hand-over instead of two. Calls of fewer
     * than {@code inlineMacs} multiply-adds run on the calling thread.
     */
    static void scores(AttentionProblem p, Tensor q, Tensor k, Mask mask, ScoreStage stage, Tensor scores, Parallel par,
                       long inlineMacs, RowsDone then) {
        if (!FlashAttention.fast(q) || !FlashAttention.fast(k)) {
            scores(p, Copies.heap(q), Copies.heap(k), mask, stage, scores, par, inlineMacs, then);
            return;
        }
        if (scores.array() == null) {
            // off-heap (possibly thread-confined) output: compute on the heap, copy on the caller's thread
            Tensor tmp = Tensor.zeros(scores.shape());
            scores(p, q, k, mask, stage, tmp, par, inlineMacs, null);
            Copies.copy(tmp, scores);
            if (then != null) {
                then.rows(0, p.batch() * p.heads() * p.seqQ());
            }
            return;
        }
        MaskEvaluator ev = MaskEvaluator.of(p, mask);
        DenseTerms dense = new DenseTerms(ev);
        int bq = FlashAttention.BQ;
        int qTiles = (p.seqQ() + bq - 1) / bq;
        int d = p.headDim();
        int sk = p.seqK();
        int bk = 64;
        float[] qa = q.array();
        float[] ka = k.array();
        float[] sa = FlashAttention.fast(scores) ? scores.array() : null;
        float[] scales = new float[16];
        Arrays.fill(scales, p.scale());
        Parallel run = (long) p.batch() * p.heads() * p.seqQ() * sk * d < inlineMacs ? Parallel.SERIAL : par;
        run.forEach(p.batch() * p.heads() * qTiles, idx -> {
            int b = idx / qTiles / p.heads();
            int h = idx / qTiles % p.heads();
            int i0 = idx % qTiles * bq;
            int rows = Math.min(bq, p.seqQ() - i0);
            // the transposed tile's buffers only where the tile runs (their lookup was 3 % of a one-query call)
            FlashAttention.Scratch s = rows > FEW_ROWS ? FlashAttention.scratch(d, 1, bk) : null;
            int qBase = (int) (q.offset() + b * q.stride(0) + h * q.stride(1));
            if (rows > FEW_ROWS) {
                queryTile(qa, qBase + i0 * (int) q.stride(2), (int) q.stride(2), rows, d, s.qt, bq, scales);
            }
            float[][] buf = rows(sk);
            float[] row = buf[0];
            float[] bias = buf[1];
            int kBase = (int) (k.offset() + b * k.stride(0) + p.kvHead(h) * k.stride(1));
            int kss = (int) k.stride(2);
            long s0 = scores.offset() + b * scores.stride(0) + h * scores.stride(1);
            long s2 = scores.stride(2);
            long s3 = scores.stride(3);
            boolean masked = stage == ScoreStage.MASKED || stage == ScoreStage.SOFTMAX;
            if (rows <= FEW_ROWS) {
                fewRows(qa, qBase + i0 * (int) q.stride(2), (int) q.stride(2), p.scale(), rows, ka, kBase, kss, d, sk,
                        scores, sa, s0 + i0 * s2, s2, s3, row);
            }
            // keys no row of the tile sees are filled by the row transform (0 or −∞): their tiles are skipped.
            // With the 16 × 16 transposes out of the tile, in-process A/B call by call (12 heads, causal, softmax
            // stage, Zen 4 VM under load): S = 128 1.23×, S = 512 1.72×, the same bits
            int from = 0;
            int to = sk;
            if (masked) {
                from = sk;
                to = 0;
                for (int r = 0; r < rows; r++) {
                    from = Math.min(from, ev.keyBegin(b, i0 + r));
                    to = Math.max(to, ev.keyEnd(b, i0 + r));
                }
                from = Math.max(0, from) / bk * bk;
                to = Math.min(to, sk);
            }
            for (int j0 = from; rows > FEW_ROWS && j0 < to; j0 += bk) {
                int nk = Math.min(bk, sk - j0);
                MicroKernels.rowsA(ka, kBase + j0 * kss, kss, s.qt, 0, d, s.st, 0, bq, nk, false);
                storeTile(s.st, bq, rows, nk, scores, sa, s0 + i0 * s2 + j0 * s3, s2, s3);
            }
            int flat = (b * p.heads() + h) * p.seqQ() + i0;
            if (stage == ScoreStage.SOFTMAX && sa != null && dense.isEmpty() && !p.hasSoftcap()) {
                scaledRows(p, ev, sa, scores, flat, flat + rows, 1f); // the query rows were scaled
                if (then != null) {
                    then.rows(flat, rows);
                }
                return;
            }
            for (int r = 0; r < rows; r++) {
                int i = i0 + r;
                if (stage == ScoreStage.SCALED || (stage == ScoreStage.SOFTCAPPED && !p.hasSoftcap())) {
                    continue;
                }
                int kb = masked ? ev.keyBegin(b, i) : 0;
                int ke = masked ? ev.keyEnd(b, i) : sk;
                float[] bb = null;
                if (masked && !dense.isEmpty()) {
                    dense.fillRow(b, h, i, 0, sk, bias, 0);
                    bb = bias;
                }
                transformRow(scores, sa, b, h, i, sk, row, kb, ke, 1f, p.softcap(), bb, stage == ScoreStage.SOFTMAX);
            }
            if (then != null) {
                then.rows(flat, rows);
            }
        });
    }

    /**
     * qt[e·bq + r] = scale·q[at + r·ld + e] for r &lt; rows, 0 for rows ≤ r &lt; bq: the query tile transposed and
     * scaled by 16 × 16 transposes ({@code scales} holds 16 copies of the scale; the same products as one by
     * one), the edges by scalars. (The hard kernels' copy of this loop measured sampled, 128 tokens, one thread,
     * 133–136 against 149–151 µs with the scalar loop.)
     */
    private static void queryTile(float[] q, int at, int ld, int rows, int d, float[] qt, int bq, float[] scales) {
        int r16 = Transposes.AVAILABLE ? rows / 16 * 16 : 0;
        int e16 = Transposes.AVAILABLE ? d / 16 * 16 : 0;
        for (int r = 0; r < r16; r += 16) {
            for (int e = 0; e < e16; e += 16) {
                Transposes.transpose16(q, at + r * ld + e, ld, qt, e * bq + r, bq, scales, 0);
            }
        }
        float scale = scales[0];
        for (int r = 0; r < bq; r++) {
            for (int e = r < r16 ? e16 : 0; e < d; e++) {
                qt[e * bq + r] = r < rows ? q[at + r * ld + e] * scale : 0f;
            }
        }
    }

    /**
     * A tile's scores out of the kernel's transposed layout (key jj, row r at st[jj·bq + r]) into rows:
     * {@link Transposes#tileToRows} where the keys are contiguous in a heap array, else element by element.
     */
    private static void storeTile(float[] st, int bq, int rows, int nk, Tensor scores, float[] sa, long at, long s2,
                                  long s3) {
        if (sa != null) {
            Transposes.tileToRows(st, bq, rows, nk, sa, (int) at, (int) s2);
            return;
        }
        for (int r = 0; r < rows; r++) {
            for (int jj = 0; jj < nk; jj++) {
                scores.setFloat(at + r * s2 + jj * s3, st[jj * bq + r]);
            }
        }
    }

    /**
     * The scores of {@code rows} (≤ {@link #FEW_ROWS}) query rows, row r's query at qAt + r·qStep: the row
     * scaled into a per-thread buffer, then its dot products with every key, straight into the scores when
     * their keys are contiguous (sixteen keys at a time, {@link DecodeBlocks#scores16by4}, the rest four at a time), else four at a time
     * ({@link DecodeBlocks#scoresKeys4}) through {@code tmp}.
     */
    private static void fewRows(float[] qa, int qAt, int qStep, float scale, int rows, float[] ka, int kBase, int kss,
                                int d, int sk, Tensor scores, float[] sa, long at, long s2, long s3, float[] tmp) {
        float[] lanes = LANES.get(); // the four-key kernel's lanes
        float[] qrow = ROW_Q.get();
        if (qrow.length < d) {
            qrow = new float[d];
            ROW_Q.set(qrow);
        }
        int bound = F.loopBound(d);
        for (int r = 0; r < rows; r++) {
            // the scaled row by vectors (the same products): the scalar loop, not vectorized by C2, was 4 % of a
            // one-query score matrix's samples
            int qr = qAt + r * qStep;
            for (int e = 0; e < bound; e += L) {
                FloatVector.fromArray(F, qa, qr + e).mul(scale).intoArray(qrow, e);
            }
            for (int e = bound; e < d; e++) {
                qrow[e] = qa[qr + e] * scale;
            }
            long rowAt = at + r * s2;
            if (sa != null) {
                // sixteen keys at a time where the vectors have 16 lanes and d is whole vectors (one vector store of
                // their sums): by scores16 from d = 8·L (in-process A/B of the call, 12 heads, one row, softmax
                // stage: 1.12× at D = 128, 512 keys; 0.85–0.94× at D = 64, its butterfly against four FMAs a chain),
                // below as four quads (scores16by4: 1.08–1.10× at D = 64 over 128 and 512 keys, the same bits;
                // with the blocks of a row in one call, q held in registers at D = 4L, a further 1.09–1.15×); the
                // rest by four
                int sixteens = DecodeBlocks.sixteens(d) ? sk / 16 : 0;
                if (d >= 8 * Vec.L) {
                    for (int j = 0; j < sixteens; j++) {
                        DecodeBlocks.scores16(qrow, 0, ka, kBase + 16 * j * kss, kss, d, sa, (int) rowAt + 16 * j);
                    }
                } else if (sixteens > 0) {
                    DecodeBlocks.scores16by4(qrow, 0, ka, kBase, kss, d, sa, (int) rowAt, sixteens);
                }
                int done = 16 * sixteens;
                DecodeBlocks.scoresKeys4(qrow, 0, ka, kBase + done * kss, kss, d, sa, (int) rowAt + done, sk - done,
                        lanes);
            } else {
                DecodeBlocks.scoresKeys4(qrow, 0, ka, kBase, kss, d, tmp, 0, sk, lanes);
                for (int j = 0; j < sk; j++) {
                    scores.setFloat(rowAt + j * s3, tmp[j]);
                }
            }
        }
    }

    static void maskedSoftmax(AttentionProblem p, Mask mask, Tensor scores, Parallel par) {
        if (scores.array() == null) {
            Tensor tmp = Copies.heap(scores);
            maskedSoftmax(p, mask, tmp, par);
            Copies.copy(tmp, scores);
            return;
        }
        MaskEvaluator ev = MaskEvaluator.of(p, mask);
        DenseTerms dense = new DenseTerms(ev);
        int sk = p.seqK();
        int chunks = (p.seqQ() + ROW_CHUNK - 1) / ROW_CHUNK;
        float[] sa = FlashAttention.fast(scores) ? scores.array() : null;
        Parallel run = (long) p.batch() * p.heads() * p.seqQ() * sk < INLINE_ELEMENTS ? Parallel.SERIAL : par;
        if (sa != null && dense.isEmpty() && p.softcap() == 0f && p.scale() > 0f
                && p.scale() < Float.POSITIVE_INFINITY) {
            int rows = p.batch() * p.heads() * p.seqQ();
            run.forEach((rows + PIPE_CHUNK - 1) / PIPE_CHUNK,
                    idx -> scaledRows(p, ev, sa, scores, idx * PIPE_CHUNK, Math.min(rows, (idx + 1) * PIPE_CHUNK), p.scale()));
            return;
        }
        run.forEach(p.batch() * p.heads() * chunks, idx -> {
            int b = idx / chunks / p.heads();
            int h = idx / chunks % p.heads();
            int i0 = idx % chunks * ROW_CHUNK;
            float[][] buf = rows(sk);
            for (int i = i0; i < Math.min(p.seqQ(), i0 + ROW_CHUNK); i++) {
                float[] bb = null;
                if (!dense.isEmpty()) {
                    dense.fillRow(b, h, i, 0, sk, buf[1], 0);
                    bb = buf[1];
                }
                transformRow(scores, sa, b, h, i, sk, buf[0], ev.keyBegin(b, i), ev.keyEnd(b, i), p.scale(), p.softcap(),
                        bb, true);
            }
        });
    }

    /**
     * Rows [from, to) of the flattened (b, h, i) index through {@link RowSoftmax#scaledSoftmax}'s passes (scale a
     * positive finite float: the problem's for the masked softmax, 1 for the score matrix's scaled rows),
     * software-pipelined: the next row's max is found before this row's exponentials, so that the wait for
     * one row's max reduction overlaps the other row's exponentials; a partial last vector followed by masked
     * keys is padded with −∞ in place ({@link RowSoftmax#paddedMax}), so the row's other passes see whole
     * vectors only. A row's bits depend on its keys and the row's length, not on the tasks. Empty rows and rows
     * whose max is −∞ or NaN go through {@link RowSoftmax#maskedRow}. In-process A/B against the row-by-row
     * loop (maskedRow per row), call by call, 12 heads, causal: one query over 128 keys 1.31–1.36× (pipelining
     * alone), 128 × 128 1.61×, 100 × 200 with a window of 37 1.65× (p25; the median 2.5×); the same bits
     * where no row is padded, within 1e-8 where rows are.
     */
    private static void scaledRows(AttentionProblem p, MaskEvaluator ev, float[] sa, Tensor scores, int from, int to,
                                   float scale) {
        int sq = p.seqQ();
        int sk = p.seqK();
        int hs = p.heads();
        int b = from / (hs * sq);
        int h = from / sq % hs;
        int i = from % sq;
        int pending = -1; // the row whose max is known and whose exponentials are next: base, keys, max
        int pendingLo = 0;
        int pendingHi = 0;
        float pendingMax = 0f;
        for (int r = from; r < to; r++) {
            int base = (int) rowBase(scores, b, h, i);
            int lo = ev.keyBegin(b, i); // both clamped to [0, seqK] by the evaluator
            int hi = Math.max(ev.keyEnd(b, i), lo);
            float max = lo < hi ? RowSoftmax.paddedMax(sa, base + lo, hi - lo, sk - hi) : NEG_INF;
            if (pending >= 0) {
                finishRow(sa, pending, pendingLo, pendingHi, sk, scale, pendingMax);
                pending = -1;
            }
            if (max == NEG_INF || Float.isNaN(max)) {
                RowSoftmax.maskedRow(sa, base, sk, lo, hi, scale, 0f, null, 0, true);
            } else {
                pending = base;
                pendingLo = lo;
                pendingHi = hi;
                pendingMax = max;
            }
            if (++i == sq) {
                i = 0;
                if (++h == hs) {
                    h = 0;
                    b++;
                }
            }
        }
        if (pending >= 0) {
            finishRow(sa, pending, pendingLo, pendingHi, sk, scale, pendingMax);
        }
    }

    private static void finishRow(float[] sa, int base, int lo, int hi, int sk, float scale, float max) {
        RowSoftmax.zero(sa, base, base + lo);
        int n = hi - lo;
        if (RowSoftmax.padded(n, sk - hi)) {
            n = F.loopBound(n) + L; // paddedMax made the partial last vector whole, −∞ past hi
        }
        RowSoftmax.expNormalize(sa, base + lo, n, scale, max, sk - lo - n);
    }

    /** The index of scores[b, h, i, 0] ({@code indexOf}'s varargs allocated an int[] per row). */
    private static long rowBase(Tensor scores, int b, int h, int i) {
        return scores.offset() + b * scores.stride(0) + h * scores.stride(1) + i * scores.stride(2);
    }

    /** Applies {@link RowSoftmax#maskedRow} to row (b, h, i) of {@code scores}, in place or through {@code tmp}. */
    private static void transformRow(Tensor scores, float[] sa, int b, int h, int i, int sk, float[] tmp,
                                     int kb, int ke, float scale, float softcap, float[] bias, boolean softmax) {
        if (sa != null) {
            RowSoftmax.maskedRow(sa, (int) rowBase(scores, b, h, i), sk, kb, ke, scale, softcap, bias, 0, softmax);
            return;
        }
        long base = rowBase(scores, b, h, i);
        long step = scores.stride(3);
        for (int j = 0; j < sk; j++) {
            tmp[j] = scores.getFloat(base + j * step);
        }
        RowSoftmax.maskedRow(tmp, 0, sk, kb, ke, scale, softcap, bias, 0, softmax);
        for (int j = 0; j < sk; j++) {
            scores.setFloat(base + j * step, tmp[j]);
        }
    }
}
