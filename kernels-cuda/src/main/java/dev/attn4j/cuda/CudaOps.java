package dev.attn4j.cuda;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.DType;
import dev.attn4j.api.GeluApproximation;
import dev.attn4j.api.Mask;
import dev.attn4j.api.ScoreStage;
import dev.attn4j.api.Tensor;
import dev.attn4j.tune.Fingerprint;
import dev.attn4j.tune.ProblemClass;
import dev.attn4j.tune.Wisdom;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Every kernel of the SPI on one {@link CudaContext}, called under its lock with the context current (see
 * {@link CudaContext#run}). Tensors are resolved once: a tensor whose segment holds a device address (a
 * {@link DeviceTensor#asTensor()}) is used in place; a host tensor is staged, i.e. the span of storage its view
 * reaches is copied into the workspace and viewed there with the same strides. Results are computed into
 * contiguous device buffers (or in place) and written back through the target's strides: a device target by a
 * {@code convert_strided} kernel, a contiguous host target by one {@code cuMemcpyDtoH}, any other host target by
 * staging its span, scattering into it on the device and copying the span back.
 *
 * <p>Every GEMM is cuBLAS (row-major through {@link GemmPlan}'s operand swap): FP32 through
 * {@code cublasSgemmStridedBatched}, FP16/BF16 storage through {@code cublasGemmStridedBatchedEx} with FP32
 * compute; Q·Kᵀ and P·V are strided-batched over batch × heads (per batch and key/value head, batched over the
 * query heads of the group with a key stride of 0, under GQA).
 */
final class CudaOps {
    /**
     * Threads per block of the element-wise and layout kernels (grid-stride loops, memory bound: any warp
     * multiple saturates bandwidth, so this is not tuned) and of the literature family's kernels (the additive
     * kernel's tile needs exactly this many). The attention path's launch choices come from {@link CudaTuning}.
     */
    static final int BLOCK = 256;
    /** The flash kernels' block, compiled in ({@code __launch_bounds__(FLASH_WARPS * 32)} in flash.cu). */
    private static final int FLASH_THREADS = 128;

    private final Device device;
    private final KernelTable table;
    private final Workspace workspace;
    private final CudaTuning tuning;

    /** Ops whose launch choices come from an in-memory wisdom (tests; the GPU context passes its shared tuning). */
    CudaOps(Device device, KernelTable table, Workspace workspace) {
        this(device, table, workspace, new CudaTuning(
                Wisdom.inMemory(Fingerprint.current(0, "emulated")), device.limits(), table));
    }

    CudaOps(Device device, KernelTable table, Workspace workspace, CudaTuning tuning) {
        this.device = device;
        this.table = table;
        this.workspace = workspace;
        this.tuning = tuning;
    }

    /** Where the attention path's launch choices come from. */
    CudaTuning tuning() {
        return tuning;
    }

    // ================================================================ attention

    void scores(AttentionProblem p, Tensor q, Tensor k, Mask mask, ScoreStage stage, Tensor scores) {
        writeBack(scoresOnDevice(p, q, k, mask, stage), scores);
    }

    /** Contiguous f32 scores [B, H, Sq, Sk] in the workspace: cuBLAS q·kᵀ, then the row kernel up to {@code stage}. */
    Tensor scoresOnDevice(AttentionProblem p, Tensor q, Tensor k, Mask mask, ScoreStage stage) {
        Tensor qd = onDevice(q);
        Tensor kd = onDevice(k);
        DType t = halfPair(qd.dtype(), kd.dtype());
        qd = contiguous(qd, t);
        kd = contiguous(kd, t);
        Tensor s = scratch(DType.FLOAT32, p.scoreShape());
        CudaLaunchConfig c = tuning.attention(p, mask, t, ProblemClass.layout(q));
        qkT(p, qd, kd, s, c.tensorOpGemm());
        rowTransform(p, s, lowerMask(p, mask), stage, 0L, c.rowBlock());
        return s;
    }

    void maskedSoftmax(AttentionProblem p, Mask mask, Tensor scores) {
        Tensor s = contiguous(onDevice(scores), DType.FLOAT32);
        int block = tuning.attention(p, mask, DType.FLOAT32, ProblemClass.layout(scores)).rowBlock();
        rowTransform(p, s, lowerMask(p, mask), ScoreStage.SOFTMAX, 0L, block);
        writeBack(s, scores);
    }

    void attention(AttentionProblem p, Tensor q, Tensor k, Tensor v, Mask mask, Tensor out, Tensor lse) {
        attention(p, q, k, v, mask, out, lse, tuning.attention(p, mask, attentionType(q, k, v), ProblemClass.layout(q)));
    }

    /** The storage type the attention path computes in: FP16 or BF16 when q, k and v share it, else FP32. */
    static DType attentionType(Tensor q, Tensor k, Tensor v) {
        return q.dtype() == v.dtype() ? halfPair(q.dtype(), k.dtype()) : DType.FLOAT32;
    }

    /** {@link #attention(AttentionProblem, Tensor, Tensor, Tensor, Mask, Tensor, Tensor)} with given launch choices. */
    void attention(AttentionProblem p, Tensor q, Tensor k, Tensor v, Mask mask, Tensor out, Tensor lse, CudaLaunchConfig c) {
        Tensor qd = onDevice(q);
        Tensor kd = onDevice(k);
        Tensor vd = onDevice(v);
        DType t = attentionType(qd, kd, vd);
        KernelTable.Entry flash = c.isFused()
                ? table.flashVariant(t, c.flashHeadDim(), c.flashKeyTile(), c.flashRowsPerWarp())
                : null;
        assert c.misfit(p, t, tuning.limits(), table) == null : c.misfit(p, t, tuning.limits(), table);
        Tensor l = lse == null ? null : scratch(DType.FLOAT32, p.batch(), p.heads(), p.seqQ());
        long lseAddr = l == null ? 0L : addr(l);
        Tensor o;
        if (flash != null) {
            qd = unitLast(qd, t);
            kd = unitLast(kd, t);
            vd = unitLast(vd, t);
            o = scratch(t, p.outShape());
            DeviceMask m = lowerMask(p, mask);
            KernelArgs a = new KernelArgs().p(addr(qd)).p(addr(kd)).p(addr(vd)).p(addr(o)).p(lseAddr)
                    .i(p.batch()).i(p.heads()).i(p.kvHeads()).i(p.seqQ()).i(p.seqK()).i(p.headDim()).i(p.valueDim())
                    .f(p.scale()).f(p.softcap());
            for (Tensor x : new Tensor[] {qd, kd, vd, o}) {
                a.l(x.stride(0)).l(x.stride(1)).l(x.stride(2));
            }
            m.append(a);
            int rows = flash.flash().blockRows();
            launch(flash.name(), (p.seqQ() + rows - 1) / rows, p.heads(), p.batch(), FLASH_THREADS, a);
        } else {
            // head sizes past the largest flash variant, or the tuner's choice: scores, fused masked softmax
            // (+ lse), P·V; FP16/BF16 q and k stay half for Q·Kᵀ (cuBLAS multiplies them exactly in FP32)
            qd = contiguous(qd, t);
            kd = contiguous(kd, t);
            vd = contiguous(vd, DType.FLOAT32);
            Tensor s = scratch(DType.FLOAT32, p.scoreShape());
            qkT(p, qd, kd, s, c.tensorOpGemm());
            rowTransform(p, s, lowerMask(p, mask), ScoreStage.SOFTMAX, lseAddr, c.rowBlock());
            o = scratch(DType.FLOAT32, p.outShape());
            pv(p, s, vd, o);
        }
        writeBack(o, out);
        if (l != null) {
            writeBack(l, lse);
        }
    }

    /** s [B, H, Sq, Sk] (contiguous f32) = q·kᵀ, q and k contiguous of one type. */
    private void qkT(AttentionProblem p, Tensor q, Tensor k, Tensor s, boolean tensorOp) {
        int g = p.groupSize();
        int sq = p.seqQ();
        int sk = p.seqK();
        int d = p.headDim();
        if (g == 1) {
            gemm(false, true, sq, sk, d, 1f, q, d, (long) sq * d, k, d, (long) sk * d, 0f, s, sk, (long) sq * sk,
                    p.batch() * p.heads(), tensorOp);
            return;
        }
        for (int b = 0; b < p.batch(); b++) {
            for (int kvh = 0; kvh < p.kvHeads(); kvh++) {
                // the g query heads of this key/value head, all against the same K (stride 0)
                gemm(false, true, sq, sk, d, 1f, q.select(0, b).narrow(0, kvh * g, g), d, (long) sq * d,
                        k.select(0, b).select(0, kvh), d, 0L, 0f, s.select(0, b).narrow(0, kvh * g, g), sk,
                        (long) sq * sk, g, tensorOp);
            }
        }
    }

    /** o [B, H, Sq, Dv] = p·v, p the contiguous probabilities, v contiguous f32. */
    void pv(AttentionProblem p, Tensor probs, Tensor v, Tensor o) {
        int g = p.groupSize();
        int sq = p.seqQ();
        int sk = p.seqK();
        int dv = p.valueDim();
        if (g == 1) {
            gemm(false, false, sq, dv, sk, 1f, probs, sk, (long) sq * sk, v, dv, (long) sk * dv, 0f, o, dv,
                    (long) sq * dv, p.batch() * p.heads());
            return;
        }
        for (int b = 0; b < p.batch(); b++) {
            for (int kvh = 0; kvh < p.kvHeads(); kvh++) {
                gemm(false, false, sq, dv, sk, 1f, probs.select(0, b).narrow(0, kvh * g, g), sk, (long) sq * sk,
                        v.select(0, b).select(0, kvh), dv, 0L, 0f, o.select(0, b).narrow(0, kvh * g, g), dv,
                        (long) sq * dv, g);
            }
        }
    }

    /**
     * The fused scale → softcap → mask → softmax kernel over contiguous f32 scores, carried up to {@code stage},
     * with the ESTIMATE block for the problem (the literature family's calls).
     */
    void rowTransform(AttentionProblem p, Tensor s, DeviceMask m, ScoreStage stage, long lseAddr) {
        rowTransform(p, s, m, stage, lseAddr,
                CudaLaunchConfig.estimate(p, DType.FLOAT32, tuning.limits(), table).rowBlock());
    }

    /** The row kernel with {@code block} threads per row (a warp multiple: the kernel strides by blockDim.x). */
    void rowTransform(AttentionProblem p, Tensor s, DeviceMask m, ScoreStage stage, long lseAddr, int block) {
        KernelArgs a = new KernelArgs().p(addr(s)).p(lseAddr).i(p.batch()).i(p.heads()).i(p.seqQ()).i(p.seqK())
                .f(p.scale()).f(p.softcap()).i(stage.ordinal());
        m.append(a);
        long rows = (long) p.batch() * p.heads() * p.seqQ();
        launch("masked_softmax_rows_f32", (int) Math.min(rows, 1 << 20), 1, 1, block, a);
    }

    /** The mask's kernel arguments ({@code a4j::Mask}): structured bounds uploaded, dense terms resolved. */
    record DeviceMask(long lo, long hi, long lim, long bm, long[] bs, long am, long[] as) {
        void append(KernelArgs a) {
            a.p(lo).p(hi).p(lim).p(bm).l(bs[0]).l(bs[1]).l(bs[2]).l(bs[3]).p(am).l(as[0]).l(as[1]).l(as[2]).l(as[3]);
        }
    }

    DeviceMask lowerMask(AttentionProblem p, Mask mask) {
        MaskLowering m = MaskLowering.of(p, mask);
        long lo = m.lo() == null ? 0L : upload(m.lo());
        long hi = m.hi() == null ? 0L : upload(m.hi());
        long lim = m.lim() == null ? 0L : upload(m.lim());
        long[] zero = new long[4];
        if (!m.hasDense()) {
            return new DeviceMask(lo, hi, lim, 0L, zero, 0L, zero);
        }
        boolean direct = m.boolTerms().size() <= 1 && m.addTerms().size() <= 1
                && m.boolTerms().stream().allMatch(t -> t.dtype() == DType.BOOL)
                && m.addTerms().stream().allMatch(t -> t.dtype() == DType.FLOAT32);
        if (direct) {
            long bm = 0L;
            long[] bs = zero;
            long am = 0L;
            long[] as = zero;
            if (!m.boolTerms().isEmpty()) {
                Tensor b = onDevice(m.boolTerms().get(0));
                bm = addr(b);
                bs = b.strides();
            }
            if (!m.addTerms().isEmpty()) {
                Tensor a = onDevice(m.addTerms().get(0));
                am = addr(a);
                as = a.strides();
            }
            return new DeviceMask(lo, hi, lim, bm, bs, am, as);
        }
        // several terms (or a half-precision additive one): fold them into one float32 [B, H, Sq, Sk] bias
        Tensor sum = scratch(DType.FLOAT32, p.scoreShape());
        long count = sum.elementCount();
        device.memsetD32(addr(sum), 0, count);
        for (Tensor term : concat(m)) {
            Tensor td = onDevice(term);
            long[] st = td.strides();
            launch("mask_accumulate_f32", grid1d(count), 1, 1, BLOCK, new KernelArgs().p(addr(sum)).p(addr(td))
                    .i(term.dtype() == DType.BOOL ? 3 : code(td.dtype())).i(p.batch()).i(p.heads()).i(p.seqQ())
                    .i(p.seqK()).l(st[0]).l(st[1]).l(st[2]).l(st[3]));
        }
        return new DeviceMask(lo, hi, lim, 0L, zero, addr(sum), sum.strides());
    }

    private static Tensor[] concat(MaskLowering m) {
        Tensor[] all = new Tensor[m.boolTerms().size() + m.addTerms().size()];
        int i = 0;
        for (Tensor t : m.boolTerms()) {
            all[i++] = t;
        }
        for (Tensor t : m.addTerms()) {
            all[i++] = t;
        }
        return all;
    }

    // ================================================================ projections

    void linear(Tensor x, Tensor w, Tensor bias, Tensor y) {
        Tensor xd = contiguous(onDevice(x), DType.FLOAT32);
        Tensor yd = scratch(DType.FLOAT32, y.dim(0), y.dim(1));
        linearInto(xd, w, bias, yd);
        writeBack(yd, y);
    }

    void projectQkv(AttentionProblem p, Tensor x, Tensor w, Tensor bias, Tensor q, Tensor k, Tensor v) {
        int batch = p.batch();
        int seq = p.seqQ();
        int rows = w.dim(0);
        Tensor xd = contiguous(onDevice(x), DType.FLOAT32).reshape(batch * seq, x.dim(2));
        Tensor r = scratch(DType.FLOAT32, batch * seq, rows);
        linearInto(xd, w, bias, r);
        int qCols = p.heads() * p.headDim();
        int kCols = p.kvHeads() * p.headDim();
        splitHeads(r, rows, 0, batch, seq, p.heads(), p.headDim(), q);
        splitHeads(r, rows, qCols, batch, seq, p.kvHeads(), p.headDim(), k);
        splitHeads(r, rows, qCols + kCols, batch, seq, p.kvHeads(), p.valueDim(), v);
    }

    /** Columns [colOffset, colOffset + heads·dim) of r [B·S, rows] into target [B, heads, S, dim]. */
    private void splitHeads(Tensor r, int rows, int colOffset, int batch, int seq, int heads, int dim, Tensor target) {
        boolean device = isDevice(target);
        if (target.isContiguous() && target.dtype() == DType.FLOAT32) {
            Tensor dst = device ? target : scratch(DType.FLOAT32, batch, heads, seq, dim);
            long count = (long) batch * heads * seq * dim;
            launch("split_heads_f32", grid1d(count), 1, 1, BLOCK, new KernelArgs().p(addr(r)).p(addr(dst))
                    .i(batch).i(seq).i(heads).i(dim).l(rows).l(colOffset));
            if (!device) {
                writeBack(dst, target);
            }
            return;
        }
        // any other layout or type: the same split as a strided view of r, written through the target's strides
        Tensor view = Tensor.view(r.segment(), DType.FLOAT32, r.offset() + colOffset, new int[] {batch, heads, seq, dim},
                new long[] {(long) seq * rows, dim, rows, 1});
        writeBack(view, target);
    }

    void mergeHeads(AttentionProblem p, Tensor attn, Tensor wo, Tensor bias, Tensor y) {
        int batch = p.batch();
        int seq = p.seqQ();
        int heads = p.heads();
        int dv = p.valueDim();
        Tensor ad = onDevice(attn);
        Tensor merged = scratch(DType.FLOAT32, batch * seq, heads * dv);
        if (ad.isContiguous() && ad.dtype() == DType.FLOAT32) {
            long count = (long) batch * heads * seq * dv;
            launch("merge_heads_f32", grid1d(count), 1, 1, BLOCK, new KernelArgs().p(addr(ad)).p(addr(merged))
                    .i(batch).i(heads).i(seq).i(dv));
        } else {
            convert(ad.permute(0, 2, 1, 3), merged.reshape(batch, seq, heads, dv));
        }
        int e = wo.dim(0);
        Tensor yd = scratch(DType.FLOAT32, batch * seq, e);
        linearInto(merged, wo, bias, yd);
        writeBack(yd.reshape(batch, seq, e), y);
    }

    /** yd [M, N] (contiguous f32 on device) = xd [M, K] (contiguous f32 on device)·wᵀ + bias. */
    private void linearInto(Tensor xd, Tensor w, Tensor bias, Tensor yd) {
        int m = xd.dim(0);
        int kDim = xd.dim(1);
        int n = yd.dim(1);
        Tensor wd = contiguous(onDevice(w), DType.FLOAT32);
        float beta = 0f;
        if (bias != null) {
            convert(onDevice(bias.broadcastTo(m, n)), yd);
            beta = 1f;
        }
        gemm(false, true, m, n, kDim, 1f, xd, kDim, 0L, wd, kDim, 0L, beta, yd, n, 0L, 1);
    }

    // ================================================================ blocks

    void softmax(Tensor x, int axis, Tensor y) {
        if (x.elementCount() == 0) {
            return;
        }
        int[] shape = x.shape();
        Tensor xd = contiguous(onDevice(x), DType.FLOAT32);
        Tensor yd = scratch(DType.FLOAT32, shape);
        long outer = Tensor.count(Arrays.copyOfRange(shape, 0, axis));
        long inner = Tensor.count(Arrays.copyOfRange(shape, axis + 1, shape.length));
        long threads = outer * inner * 32;
        launch("softmax_axis_f32", grid1d(threads), 1, 1, BLOCK, new KernelArgs().p(addr(xd)).p(addr(yd))
                .l(outer).i(shape[axis]).l(inner));
        writeBack(yd, y);
    }

    void layerNorm(Tensor x, int axis, Tensor scale, Tensor bias, float epsilon, Tensor y, Tensor mean, Tensor invStdDev) {
        if (x.elementCount() == 0) {
            return;
        }
        int[] shape = x.shape();
        int[] inner = Arrays.copyOfRange(shape, axis, shape.length);
        long groups = Tensor.count(Arrays.copyOfRange(shape, 0, axis));
        int n = Math.toIntExact(Tensor.count(inner));
        Tensor xd = contiguous(onDevice(x), DType.FLOAT32);
        Tensor sd = contiguous(onDevice(scale.broadcastTo(inner)), DType.FLOAT32);
        Tensor bd = bias == null ? null : contiguous(onDevice(bias.broadcastTo(inner)), DType.FLOAT32);
        Tensor yd = scratch(DType.FLOAT32, shape);
        int g = Math.toIntExact(groups);
        Tensor md = mean == null ? null : scratch(DType.FLOAT32, g);
        Tensor id = invStdDev == null ? null : scratch(DType.FLOAT32, g);
        launch("layer_norm_f32", (int) Math.min(groups, 1 << 20), 1, 1, BLOCK, new KernelArgs().p(addr(xd)).p(addr(yd))
                .p(addr(sd)).p(bd == null ? 0L : addr(bd)).p(md == null ? 0L : addr(md)).p(id == null ? 0L : addr(id))
                .l(groups).i(n).f(epsilon));
        writeBack(yd, y);
        if (md != null) {
            writeBack(md.reshape(mean.shape()), mean);
        }
        if (id != null) {
            writeBack(id.reshape(invStdDev.shape()), invStdDev);
        }
    }

    void gemm(float alpha, Tensor a, Tensor b, float beta, Tensor c, Tensor y) {
        int m = a.dim(0);
        int kDim = a.dim(1);
        int n = b.dim(1);
        if ((long) m * n == 0) {
            return;
        }
        Tensor ad = contiguous(onDevice(a), DType.FLOAT32);
        Tensor bd = contiguous(onDevice(b), DType.FLOAT32);
        Tensor yd = scratch(DType.FLOAT32, m, n);
        float cublasBeta = 0f;
        if (c != null) {
            convert(onDevice(c.broadcastTo(m, n)), yd);
            cublasBeta = beta;
        }
        gemm(false, false, m, n, kDim, alpha, ad, kDim, 0L, bd, n, 0L, cublasBeta, yd, n, 0L, 1);
        writeBack(yd, y);
    }

    /** Batched a [..., M, K] @ b [..., K, N] into y [..., M, N]; the API has promoted and broadcast them. */
    void matmul(Tensor a, Tensor b, Tensor y) {
        int rank = y.rank();
        int[] outShape = y.shape();
        if (Tensor.count(outShape) == 0) {
            return;
        }
        int m = outShape[rank - 2];
        int n = outShape[rank - 1];
        int kDim = a.dim(-1);
        long batch = Tensor.count(Arrays.copyOf(outShape, rank - 2));
        Tensor yd = scratch(DType.FLOAT32, outShape);
        if (kDim == 0) {
            device.memsetD32(addr(yd), 0, yd.elementCount());
        } else {
            // broadcast batch axes are materialized, so that one strided-batched GEMM covers every batch
            Tensor ad = contiguous(onDevice(a), DType.FLOAT32);
            Tensor bd = contiguous(onDevice(b), DType.FLOAT32);
            gemm(false, false, m, n, kDim, 1f, ad, kDim, (long) m * kDim, bd, n, (long) kDim * n, 0f, yd, n,
                    (long) m * n, Math.toIntExact(batch));
        }
        writeBack(yd, y);
    }

    void rotary(Tensor x, Tensor cos, Tensor sin, int[] positions, int rotaryDim, boolean interleaved, Tensor y) {
        if (x.elementCount() == 0) {
            return;
        }
        int[] shape = x.shape();
        Tensor xd = contiguous(onDevice(x), DType.FLOAT32);
        // the caches may be wider than rotaryDim/2: the kernel reads rows of exactly rotaryDim/2
        int half = rotaryDim / 2;
        Tensor cd = contiguous(onDevice(cos.narrow(-1, 0, half)), DType.FLOAT32);
        Tensor sd = contiguous(onDevice(sin.narrow(-1, 0, half)), DType.FLOAT32);
        long pos = positions == null ? 0L : upload(positions);
        Tensor yd = scratch(DType.FLOAT32, shape);
        launch("rotary_f32", grid1d(xd.elementCount()), 1, 1, BLOCK, new KernelArgs().p(addr(xd)).p(addr(yd))
                .p(addr(cd)).p(addr(sd)).p(pos).i(shape[0]).i(shape[1]).i(shape[2]).i(shape[3]).i(rotaryDim)
                .i(interleaved ? 1 : 0));
        writeBack(yd, y);
    }

    void gelu(Tensor x, GeluApproximation approximation, Tensor y) {
        if (x.elementCount() == 0) {
            return;
        }
        Tensor xd = contiguous(onDevice(x), DType.FLOAT32);
        Tensor yd = scratch(DType.FLOAT32, x.shape());
        launch("gelu_f32", grid1d(xd.elementCount()), 1, 1, BLOCK, new KernelArgs().p(addr(xd)).p(addr(yd))
                .l(xd.elementCount()).i(approximation == GeluApproximation.NONE ? 0 : 1));
        writeBack(yd, y);
    }

    /** src into dst (same shape), each host or device. */
    void copy(Tensor src, Tensor dst) {
        if (src.elementCount() == 0) {
            return;
        }
        writeBack(onDevice(src), dst);
    }

    // ================================================================ memory

    /** Whether the device says {@code t}'s storage is device (or managed) memory. */
    boolean isDevice(Tensor t) {
        return device.isDevice(t.segment());
    }

    /** {@code t} itself when it lives on the device, else a staged copy of the storage span it reaches. */
    Tensor onDevice(Tensor t) {
        if (isDevice(t)) {
            return t;
        }
        long bytes = spanBytes(t);
        long a = workspace.alloc(bytes);
        if (t.elementCount() > 0) {
            device.upload(a, t.segment(), t.offset() * t.dtype().byteSize(), bytes);
        }
        return Tensor.view(deviceSegment(a, bytes), t.dtype(), 0, t.shape(), t.strides());
    }

    /** A contiguous workspace tensor. */
    Tensor scratch(DType dtype, int... shape) {
        long bytes = Math.max(1, Tensor.count(shape)) * dtype.byteSize();
        long a = workspace.alloc(bytes);
        return Tensor.view(deviceSegment(a, bytes), dtype, 0, shape, Tensor.contiguousStrides(shape));
    }

    /** A device tensor as a contiguous one of type {@code dtype} (itself when it already is). */
    Tensor contiguous(Tensor dev, DType dtype) {
        if (dev.isContiguous() && dev.dtype() == dtype) {
            return dev;
        }
        Tensor c = scratch(dtype, dev.shape());
        convert(dev, c);
        return c;
    }

    /** A device tensor of type {@code dtype} whose last axis has stride 1 (itself when it already has). */
    private Tensor unitLast(Tensor dev, DType dtype) {
        if (dev.dtype() == dtype && (dev.dim(-1) == 1 || dev.stride(-1) == 1)) {
            return dev;
        }
        return contiguous(dev, dtype);
    }

    /** Writes the device tensor {@code result} into {@code target} (same shape), host or device. */
    void writeBack(Tensor result, Tensor target) {
        if (target.elementCount() == 0) {
            return;
        }
        if (isDevice(target)) {
            if (result.segment().address() == target.segment().address() && result.offset() == target.offset()
                    && result.dtype() == target.dtype() && Arrays.equals(result.strides(), target.strides())) {
                return;
            }
            convert(result, target);
            return;
        }
        long size = target.dtype().byteSize();
        if (target.isContiguous()) {
            Tensor r = contiguous(result, target.dtype());
            long bytes = target.elementCount() * size;
            download(addr(r), target.segment(), target.offset() * size, bytes);
            return;
        }
        Tensor staged = onDevice(target);
        convert(result, staged);
        download(staged.segment().address(), target.segment(), target.offset() * size, spanBytes(target));
    }

    /** dst = src converted, element by element through both views' strides (rank ≤ 6), on the device. */
    void convert(Tensor src, Tensor dst) {
        long count = src.elementCount();
        if (count == 0) {
            return;
        }
        ConvertPlan plan = ConvertPlan.of(src.shape(), src.strides(), dst.strides());
        KernelArgs a = new KernelArgs().p(addr(src)).i(code(src.dtype())).p(addr(dst)).i(code(dst.dtype()));
        for (int n : plan.shape()) {
            a.i(n);
        }
        for (long s : plan.srcStrides()) {
            a.l(s);
        }
        for (long s : plan.dstStrides()) {
            a.l(s);
        }
        a.l(count);
        launch("convert_strided", grid1d(count), 1, 1, BLOCK, a);
    }

    private long upload(long[] values) {
        long a = workspace.alloc(8L * values.length);
        device.upload(a, MemorySegment.ofArray(values), 0, 8L * values.length);
        return a;
    }

    private long upload(int[] values) {
        long a = workspace.alloc(4L * values.length);
        device.upload(a, MemorySegment.ofArray(values), 0, 4L * values.length);
        return a;
    }

    private void download(long devAddr, MemorySegment host, long byteOffset, long bytes) {
        device.download(devAddr, host, byteOffset, bytes);
    }

    /**
     * A device copy of a contiguous host tensor in memory of its own (not the per-call workspace), for the tuner's
     * representative problems; free it with {@link #release}.
     */
    Tensor resident(Tensor host) {
        long bytes = Math.max(1, host.elementCount()) * host.dtype().byteSize();
        long a = device.malloc(bytes, "a tuning problem");
        device.upload(a, host.segment(), host.offset() * host.dtype().byteSize(), host.elementCount() * host.dtype().byteSize());
        return Tensor.view(deviceSegment(a, bytes), host.dtype(), 0, host.shape(), host.strides());
    }

    /** Frees a {@link #resident} tensor. */
    void release(Tensor resident) {
        device.free(resident.segment().address());
    }

    /** Copies {@code host.length} int32 values from device address {@code devAddr} into {@code host}. */
    void download(long devAddr, int[] host) {
        if (host.length > 0) {
            device.download(devAddr, MemorySegment.ofArray(host), 0, 4L * host.length);
        }
    }

    /** Sets {@code count} 32-bit words at {@code dst} to {@code value} (on the stream, before later kernels). */
    void memsetD32(long dst, int value, long count) {
        device.memsetD32(dst, value, count);
    }

    /** Bytes from a view's first element to one past its last (strides are non-negative). */
    static long spanBytes(Tensor t) {
        if (t.elementCount() == 0) {
            return 0;
        }
        long last = t.offset();
        for (int axis = 0; axis < t.rank(); axis++) {
            last += (t.dim(axis) - 1L) * t.stride(axis);
        }
        return (last - t.offset() + 1) * t.dtype().byteSize();
    }

    private static MemorySegment deviceSegment(long address, long bytes) {
        return MemorySegment.ofAddress(address).reinterpret(Math.max(bytes, 1));
    }

    /** Device address of a device view's first element. */
    static long addr(Tensor dev) {
        return dev.segment().address() + dev.offset() * dev.dtype().byteSize();
    }

    /** The storage type codes of the kernels: 0 f32, 1 f16, 2 bf16, 3 u8. */
    static int code(DType t) {
        return switch (t) {
            case FLOAT32 -> 0;
            case FLOAT16 -> 1;
            case BFLOAT16 -> 2;
            case BOOL -> 3;
        };
    }

    /** FP16 or BF16 when both operands share it (tensor-core GEMMs), else FP32. */
    private static DType halfPair(DType a, DType b) {
        return a == b && (a == DType.FLOAT16 || a == DType.BFLOAT16) ? a : DType.FLOAT32;
    }

    static int grid1d(long threads) {
        return (int) Math.max(1, Math.min((threads + BLOCK - 1) / BLOCK, 1 << 20));
    }

    // ================================================================ launches and cuBLAS

    /** Launches a manifest kernel after checking its arguments against the manifest's signature. */
    void launch(String kernel, int gridX, int gridY, int gridZ, int block, KernelArgs args) {
        KernelTable.Entry entry = table.get(kernel);
        args.check(entry);
        device.launch(entry, gridX, gridY, gridZ, block, args);
    }

    /**
     * Row-major {@code C = alpha·op(A)·op(B) + beta·C}, {@code batch} times with element strides between the
     * matrices; {@code ld*} are row strides. All FP32 → {@code cublasSgemmStridedBatched}, else
     * {@code cublasGemmStridedBatchedEx} with FP32 compute (see {@link Device.GemmCall}).
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, long lda, long strideA,
                      Tensor b, long ldb, long strideB, float beta, Tensor c, long ldc, long strideC, int batch) {
        gemm(transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch, false);
    }

    /** {@link #gemm} asking FP16/BF16 calls for {@code CUBLAS_GEMM_DEFAULT_TENSOR_OP} when {@code tensorOp}. */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, long lda, long strideA,
              Tensor b, long ldb, long strideB, float beta, Tensor c, long ldc, long strideC, int batch, boolean tensorOp) {
        GemmPlan plan = GemmPlan.rowMajor(transA, transB, m, n, k);
        // cuBLAS's first operand is our B, its second our A
        device.gemm(new Device.GemmCall(plan.transa(), plan.transb(), plan.m(), plan.n(), plan.k(), alpha,
                addr(b), gemmType(b.dtype()), Math.toIntExact(ldb), strideB, addr(a), gemmType(a.dtype()),
                Math.toIntExact(lda), strideA, beta, addr(c), gemmType(c.dtype()), Math.toIntExact(ldc), strideC, batch, tensorOp));
    }

    private static int gemmType(DType t) {
        if (t == DType.BOOL) {
            throw new IllegalArgumentException("no GEMM on booleans");
        }
        return code(t);
    }
}
