package dev.attn4j.cuda;

import static dev.attn4j.cuda.CudaOps.BLOCK;
import static dev.attn4j.cuda.CudaOps.addr;
import static dev.attn4j.cuda.CudaOps.grid1d;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.DType;
import dev.attn4j.api.LocalP;
import dev.attn4j.api.Mask;
import dev.attn4j.api.ScoreFunction;
import dev.attn4j.api.ScoreStage;
import dev.attn4j.api.Tensor;
import java.util.Arrays;

/**
 * The literature family ({@link dev.attn4j.spi.ClassicKernels}) on one {@link CudaOps}, called under its context's
 * lock like every other kernel. Score functions reduce to the dot-product path wherever they can:
 *
 * <ul>
 *   <li>general: {@code q' = q·W[h]} by cuBLAS (one GEMM when W is shared by every head, else one strided-batched
 *       call per batch), then the flash kernel (or Q·Kᵀ for the score stages) on {@code (q', k)};</li>
 *   <li>cosine: {@code l2_normalize_rows_f32} on q and k, then the same dot-product path;</li>
 *   <li>additive: {@code P_q = q·W₁[h]ᵀ} and {@code P_k = k·W₂[h]ᵀ} by cuBLAS, then {@code additive_scores_f32}
 *       writes the raw score matrix from them (never the [Sq, Sk, A] tensor, and no tile the mask hides), and
 *       {@code masked_softmax_rows_f32} and cuBLAS P·V finish as in the unfused attention path.</li>
 * </ul>
 *
 * Hard and local attention take the masked score rows of the above and select on the device
 * ({@code topk_rows_f32}, {@code sample_rows_f32}, {@code localp_rows_f32}); the Transformer block's parts are
 * elementwise kernels, and {@code linearResidual} is a cuBLAS GEMM with a bias/residual epilogue.
 * Every intermediate lives in the context's workspace, so nothing outlives a call.
 */
final class CudaClassicOps {
    /** Keys a row may have for the top-k kernel to sort it in shared memory ({@code A4J_TOPK_SMEM}, classic.cu). */
    static final int TOPK_SHARED_KEYS = 4096;
    /** Global scratch the top-k kernel may use for rows longer than that; it bounds the kernel's grid. */
    static final long TOPK_SCRATCH_BYTES = 64L << 20;
    /** The additive kernel's tile edge ({@code A4J_ADD_T}); it needs exactly {@link CudaOps#BLOCK} threads. */
    static final int ADDITIVE_TILE = 32;

    private final CudaOps ops;

    CudaClassicOps(CudaOps ops) {
        this.ops = ops;
    }

    // ================================================================ score functions

    void scores(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Mask mask, ScoreStage stage, Tensor scores) {
        ops.writeBack(logits(p, f, q, k, mask, stage), scores);
    }

    void attention(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Tensor v, Mask mask, Tensor out, Tensor lse) {
        if (f instanceof ScoreFunction.Additive a) {
            // the unfused path of head dims past the flash kernels, with the additive kernel in place of Q·Kᵀ
            CudaOps.DeviceMask m = ops.lowerMask(p, mask);
            Tensor s = additiveScores(p, a, q, k, m);
            Tensor l = lse == null ? null : ops.scratch(DType.FLOAT32, p.batch(), p.heads(), p.seqQ());
            ops.rowTransform(p, s, m, ScoreStage.SOFTMAX, l == null ? 0L : addr(l));
            Tensor o = ops.scratch(DType.FLOAT32, p.outShape());
            ops.pv(p, s, f32(v), o);
            ops.writeBack(o, out);
            if (l != null) {
                ops.writeBack(l, lse);
            }
            return;
        }
        Tensor[] qk = prepare(p, f, q, k);
        ops.attention(p, qk[0], qk[1], v, mask, out, lse);
    }

    /** Contiguous f32 scores [B, H, Sq, Sk] of {@code f} in the workspace, carried to {@code stage}. */
    private Tensor logits(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Mask mask, ScoreStage stage) {
        if (f instanceof ScoreFunction.Additive a) {
            CudaOps.DeviceMask m = ops.lowerMask(p, mask);
            // tiles outside the mask may stay unwritten only when the mask is applied after them
            Tensor s = additiveScores(p, a, q, k, stage.compareTo(ScoreStage.MASKED) >= 0 ? m : null);
            ops.rowTransform(p, s, m, stage, 0L);
            return s;
        }
        Tensor[] qk = prepare(p, f, q, k);
        return ops.scoresOnDevice(p, qk[0], qk[1], mask, stage);
    }

    /** (q', k') such that scale·q'·k' is the score of {@code f}: dot, general or cosine. */
    private Tensor[] prepare(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k) {
        return switch (f) {
            case ScoreFunction.Dot d -> new Tensor[] {q, k};
            case ScoreFunction.General g -> {
                int dim = p.headDim();
                Tensor qw = ops.scratch(DType.FLOAT32, p.qShape());
                perHead(p.batch(), p.heads(), 1, p.seqQ(), dim, dim, f32(q), g.w().broadcastTo(p.heads(), dim, dim), false,
                        qw);
                yield new Tensor[] {qw, k};
            }
            case ScoreFunction.Cosine c -> new Tensor[] {normalized(q, p.headDim(), c.eps()),
                    normalized(k, p.headDim(), c.eps())};
            case ScoreFunction.Additive a -> throw new AssertionError("additive scores have their own kernel");
        };
    }

    /** Rows of length {@code dim} divided by max(‖row‖₂, eps), into a new workspace tensor (x may be the caller's). */
    private Tensor normalized(Tensor x, int dim, float eps) {
        Tensor xd = f32(x);
        Tensor y = ops.scratch(DType.FLOAT32, x.shape());
        long rows = xd.elementCount() / dim;
        ops.launch("l2_normalize_rows_f32", grid1d(rows * 32), 1, 1, BLOCK, new KernelArgs().p(addr(xd)).p(addr(y))
                .l(rows).i(dim).f(eps));
        return y;
    }

    /**
     * Raw additive scores {@code Σ_a v[h, a]·tanh(P_q[i, a] + P_k[j, a])} as contiguous f32 [B, H, Sq, Sk]. With
     * {@code bounds}, 32×32 tiles outside its structured part are left unwritten: the caller masks them next.
     */
    private Tensor additiveScores(AttentionProblem p, ScoreFunction.Additive f, Tensor q, Tensor k,
                                  CudaOps.DeviceMask bounds) {
        int batch = p.batch();
        int heads = p.heads();
        int dim = p.headDim();
        int hidden = f.hidden();
        int sq = p.seqQ();
        int sk = p.seqK();
        Tensor s = ops.scratch(DType.FLOAT32, p.scoreShape());
        if (hidden == 0) {
            ops.memsetD32(addr(s), 0, s.elementCount());  // an empty sum
            return s;
        }
        Tensor pq = ops.scratch(DType.FLOAT32, batch, heads, sq, hidden);
        perHead(batch, heads, 1, sq, dim, hidden, f32(q), f.w1().broadcastTo(heads, hidden, dim), true, pq);
        Tensor w2 = f.w2().broadcastTo(heads, hidden, dim);
        // a W₂ shared by every head projects each key head once; per-head W₂ once per query head of the group
        boolean w2Shared = isShared(w2);
        int pkHeads = w2Shared ? p.kvHeads() : heads;
        Tensor pk = ops.scratch(DType.FLOAT32, batch, pkHeads, sk, hidden);
        perHead(batch, pkHeads, w2Shared ? 1 : p.groupSize(), sk, dim, hidden, f32(k), w2.narrow(0, 0, pkHeads), true, pk);
        Tensor v = f.v().broadcastTo(heads, hidden);
        boolean vShared = isShared(v);
        Tensor vd = f32(vShared ? v.select(0, 0) : v);
        long tiles = (long) batch * heads * ceilDiv(sq, ADDITIVE_TILE) * ceilDiv(sk, ADDITIVE_TILE);
        ops.launch("additive_scores_f32", (int) Math.min(tiles, 1 << 20), 1, 1, BLOCK, new KernelArgs().p(addr(pq))
                .p(addr(pk)).p(addr(vd)).p(addr(s)).i(batch).i(heads).i(sq).i(sk).i(hidden)
                .i(w2Shared ? p.groupSize() : 1).i(vShared ? 0 : hidden).p(bounds == null ? 0L : bounds.lo())
                .p(bounds == null ? 0L : bounds.hi()).p(bounds == null ? 0L : bounds.lim()));
        return s;
    }

    /**
     * y[b, h] = x[b, h / group]·op(w[h]) for every batch b and head h &lt; heads, by cuBLAS: x contiguous f32
     * [batch, heads / group, rows, c] on the device; w a host or device view [heads, n, c] when {@code transposed}
     * (y = x·w[h]ᵀ) or [heads, c, n] (y = x·w[h]) whose head axis may be broadcast; y contiguous f32
     * [batch, heads, rows, n].
     */
    private void perHead(int batch, int heads, int group, int rows, int c, int n, Tensor x, Tensor w, boolean transposed,
                         Tensor y) {
        boolean shared = isShared(w);
        // a shared weight is uploaded once, not once per head
        Tensor wd = f32(shared ? w.select(0, 0) : w);
        long wStride = shared ? 0L : (long) n * c;
        int ldw = transposed ? c : n;
        long yStride = (long) rows * n;
        if (shared && group == 1) {
            // every (batch, head) block of rows against one weight: a single GEMM
            ops.gemm(false, transposed, Math.toIntExact((long) batch * heads * rows), n, c, 1f, x, c, 0L, wd, ldw, 0L, 0f,
                    y, n, 0L, 1);
        } else if (group == 1) {
            for (int b = 0; b < batch; b++) {
                ops.gemm(false, transposed, rows, n, c, 1f, x.select(0, b), c, (long) rows * c, wd, ldw, wStride, 0f,
                        y.select(0, b), n, yStride, heads);
            }
        } else {
            for (int b = 0; b < batch; b++) {
                for (int xh = 0; xh < heads / group; xh++) {
                    // the group's heads read the same rows of x (stride 0), each with its own weight
                    ops.gemm(false, transposed, rows, n, c, 1f, x.select(0, b).select(0, xh), c, 0L,
                            shared ? wd : wd.narrow(0, xh * group, group), ldw, wStride, 0f,
                            y.select(0, b).narrow(0, xh * group, group), n, yStride, group);
                }
            }
        }
    }

    // ================================================================ hard and local attention

    void topK(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Tensor v, Mask mask, int topK, Tensor out,
              int[] indices) {
        Tensor s = logits(p, f, q, k, mask, ScoreStage.MASKED);
        Tensor vd = f32(v);
        Tensor o = ops.scratch(DType.FLOAT32, p.outShape());
        Tensor idx = indices == null ? null : ops.scratch(DType.FLOAT32, indices.length);  // int32 words
        long rows = rows(p);
        int keys = sortedKeys(p.seqK());
        boolean global = topK > 1 && keys > TOPK_SHARED_KEYS;
        int grid = (int) Math.min(rows, global ? Math.max(1, TOPK_SCRATCH_BYTES / (8L * keys)) : 1 << 20);
        // two float words per 64-bit key, one slice of `keys` per block
        Tensor scratch = global ? ops.scratch(DType.FLOAT32, Math.toIntExact(2L * grid * keys)) : null;
        ops.launch("topk_rows_f32", grid, 1, 1, BLOCK, new KernelArgs().p(addr(s)).p(addr(vd)).p(addr(o))
                .p(idx == null ? 0L : addr(idx)).p(scratch == null ? 0L : addr(scratch)).i(p.batch()).i(p.heads())
                .i(p.kvHeads()).i(p.seqQ()).i(p.seqK()).i(p.valueDim()).i(topK).i(keys));
        ops.writeBack(o, out);
        if (indices != null) {
            ops.download(addr(idx), indices);
        }
    }

    /** The power of two the top-k kernel pads a row of {@code seqK} keys to for its bitonic sort. */
    static int sortedKeys(int seqK) {
        return seqK <= 1 ? 1 : Integer.highestOneBit(seqK - 1) << 1;
    }

    void sample(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Tensor v, Mask mask, long seed, Tensor out,
                int[] indices) {
        Tensor s = logits(p, f, q, k, mask, ScoreStage.MASKED);
        Tensor vd = f32(v);
        Tensor o = ops.scratch(DType.FLOAT32, p.outShape());
        Tensor idx = indices == null ? null : ops.scratch(DType.FLOAT32, indices.length);  // int32 words
        ops.launch("sample_rows_f32", grid1d(rows(p) * 32), 1, 1, BLOCK, new KernelArgs().p(addr(s)).p(addr(vd))
                .p(addr(o)).p(idx == null ? 0L : addr(idx)).i(p.batch()).i(p.heads()).i(p.kvHeads()).i(p.seqQ())
                .i(p.seqK()).i(p.valueDim()).l(seed));
        ops.writeBack(o, out);
        if (indices != null) {
            ops.download(addr(idx), indices);
        }
    }

    void localP(AttentionProblem p, ScoreFunction f, LocalP local, Tensor q, Tensor k, Tensor v, Mask mask, Tensor out,
                Tensor centres) {
        // the masked logits are a workspace tensor of this call: the kernel overwrites them with the window's weights
        Tensor s = logits(p, f, q, k, mask, ScoreStage.MASKED);
        int heads = p.heads();
        int dim = p.headDim();
        int hidden = local.hidden();
        Tensor qd = f32(q);
        Tensor vd = f32(v);
        Tensor wp = local.wp().broadcastTo(heads, hidden, dim);
        boolean wpShared = isShared(wp);
        Tensor wpd = f32(wpShared ? wp.select(0, 0) : wp);
        Tensor vp = local.vp().broadcastTo(heads, hidden);
        boolean vpShared = isShared(vp);
        Tensor vpd = f32(vpShared ? vp.select(0, 0) : vp);
        Tensor o = ops.scratch(DType.FLOAT32, p.outShape());
        Tensor c = centres == null ? null : ops.scratch(DType.FLOAT32, p.batch(), heads, p.seqQ());
        ops.launch("localp_rows_f32", (int) Math.min(rows(p), 1 << 20), 1, 1, BLOCK, new KernelArgs().p(addr(s))
                .p(addr(qd)).p(addr(wpd)).p(addr(vpd)).p(addr(vd)).p(addr(o)).p(c == null ? 0L : addr(c)).i(p.batch())
                .i(heads).i(p.kvHeads()).i(p.seqQ()).i(p.seqK()).i(dim).i(p.valueDim()).i(hidden)
                .i(wpShared ? 0 : Math.multiplyExact(hidden, dim)).i(vpShared ? 0 : hidden).i(local.halfWidth()));
        ops.writeBack(o, out);
        if (c != null) {
            ops.writeBack(c, centres);
        }
    }

    // ================================================================ Transformer block parts

    void addSinusoidal(Tensor x, int offset, Tensor y) {
        if (x.elementCount() == 0) {
            return;
        }
        int seq = x.dim(1);
        int dim = x.dim(2);
        Tensor xd = f32(x);
        Tensor yd = result(y);
        ops.launch("add_sinusoidal_f32", grid1d((long) seq * dim), 1, 1, BLOCK, new KernelArgs().p(addr(xd)).p(addr(yd))
                .i(x.dim(0)).i(seq).i(dim).i(offset));
        ops.writeBack(yd, y);
    }

    void add(Tensor a, Tensor b, Tensor y) {
        long n = a.elementCount();
        if (n == 0) {
            return;
        }
        Tensor ad = f32(a);
        Tensor bb = ops.onDevice(b.broadcastTo(a.shape()));
        long period = broadcastPeriod(bb);
        if (period < 0 || bb.dtype() != DType.FLOAT32) {
            // an interleaved broadcast: materialized once, then an ordinary elementwise add
            bb = ops.contiguous(bb, DType.FLOAT32);
            period = n;
        }
        Tensor yd = result(y);
        ops.launch("add_f32", grid1d(n), 1, 1, BLOCK, new KernelArgs().p(addr(ad)).p(addr(bb)).p(addr(yd)).l(n).l(period));
        ops.writeBack(yd, y);
    }

    /**
     * P when element i (row-major) of the view {@code t} is storage element {@code offset + i mod P}: its trailing
     * axes are contiguous and its leading ones broadcast (stride 0) — a bias or a same-shape operand; else −1.
     */
    static long broadcastPeriod(Tensor t) {
        long period = 1;
        int axis = t.rank() - 1;
        for (; axis >= 0; axis--) {
            if (t.dim(axis) == 1) {
                continue;
            }
            if (t.stride(axis) != period) {
                break;
            }
            period *= t.dim(axis);
        }
        for (; axis >= 0; axis--) {
            if (t.dim(axis) != 1 && t.stride(axis) != 0) {
                return -1;
            }
        }
        return period;
    }

    void linearResidual(Tensor x, Tensor w, Tensor bias, Tensor residual, Tensor y) {
        int m = x.dim(0);
        int kDim = x.dim(1);
        int n = w.dim(0);
        if ((long) m * n == 0) {
            return;
        }
        Tensor yd = result(y);
        Tensor rd = ops.onDevice(residual);
        // y is the residual on the device: cuBLAS adds it as C (beta = 1) and the epilogue adds only the bias
        boolean residualIsC = sameView(rd, yd);
        if (!residualIsC && rd.dtype() != DType.FLOAT32) {
            rd = ops.contiguous(rd, DType.FLOAT32);
        }
        Tensor bd = bias == null ? null : f32(bias);
        if (kDim == 0) {
            if (!residualIsC) {
                ops.memsetD32(addr(yd), 0, yd.elementCount());  // an empty product
            }
        } else {
            ops.gemm(false, true, m, n, kDim, 1f, f32(x), kDim, 0L, f32(w), kDim, 0L, residualIsC ? 1f : 0f, yd, n, 0L, 1);
        }
        if (bd != null || !residualIsC) {
            ops.launch("bias_residual_f32", grid1d((long) m * n), 1, 1, BLOCK, new KernelArgs().p(addr(yd))
                    .p(bd == null ? 0L : addr(bd)).p(residualIsC ? 0L : addr(rd)).i(m).i(n)
                    .l(residualIsC ? 0L : rd.stride(0)).l(residualIsC ? 0L : rd.stride(1)));
        }
        ops.writeBack(yd, y);
    }

    // ================================================================ helpers

    /** {@code t} on the device as a contiguous float32 tensor (itself when it already is one). */
    private Tensor f32(Tensor t) {
        return ops.contiguous(ops.onDevice(t), DType.FLOAT32);
    }

    /** Where a result for {@code target} is computed: the target itself when it is contiguous f32 device memory. */
    private Tensor result(Tensor target) {
        if (target.dtype() == DType.FLOAT32 && target.isContiguous() && ops.isDevice(target)) {
            return target;
        }
        return ops.scratch(DType.FLOAT32, target.shape());
    }

    /** Whether a weight broadcast to [heads, ...] is one tensor for every head. */
    private static boolean isShared(Tensor w) {
        return w.dim(0) == 1 || w.stride(0) == 0;
    }

    private static boolean sameView(Tensor a, Tensor b) {
        return a.segment().address() == b.segment().address() && a.offset() == b.offset() && a.dtype() == b.dtype()
                && Arrays.equals(a.shape(), b.shape()) && Arrays.equals(a.strides(), b.strides());
    }

    private static long rows(AttentionProblem p) {
        return (long) p.batch() * p.heads() * p.seqQ();
    }

    private static long ceilDiv(int a, int b) {
        return (a + (long) b - 1) / b;
    }
}
