package dev.attn4j.simd;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Tensor;
import dev.attn4j.spi.ProjectionKernels;

/** Projections on the packed SGEMM ({@link Sgemm}); head splits and merges are row copies around it. */
final class SimdProjections implements ProjectionKernels {
    private final Parallel parallel;

    SimdProjections(Parallel parallel) {
        this.parallel = parallel;
    }

    @Override
    public void linear(Tensor x, Tensor w, Tensor bias, Tensor y) {
        Sgemm.gemm(1f, x, w.permute(1, 0), 0f, null, bias, y, parallel);
    }

    @Override
    public void projectQkv(AttentionProblem p, Tensor x, Tensor w, Tensor bias, Tensor q, Tensor k, Tensor v) {
        int rows = w.dim(0);
        int tokens = p.batch() * p.seqQ();
        Tensor y = Tensor.zeros(tokens, rows);
        Sgemm.gemm(1f, rows2d(x), w.permute(1, 0), 0f, null, bias, y, parallel);
        float[] ya = y.array();
        int qRows = p.heads() * p.headDim();
        int kRows = p.kvHeads() * p.headDim();
        int seq = p.seqQ();
        boolean arrays = q.array() != null && k.array() != null && v.array() != null;
        Parallel par = arrays ? parallel : new Parallel(null, 1);
        par.forEach(tokens, t -> {
            int b = t / seq;
            int s = t % seq;
            int at = t * rows;
            scatter(ya, at, q, b, s, p.heads(), p.headDim());
            scatter(ya, at + qRows, k, b, s, p.kvHeads(), p.headDim());
            scatter(ya, at + qRows + kRows, v, b, s, p.kvHeads(), p.valueDim());
        });
    }

    /** dst[b, h, s, :] = src[at + h·dim, +dim) for every head. */
    private static void scatter(float[] src, int at, Tensor dst, int b, int s, int heads, int dim) {
        float[] da = dst.array();
        long step = dst.stride(3);
        for (int h = 0; h < heads; h++) {
            long base = dst.offset() + b * dst.stride(0) + h * dst.stride(1) + s * dst.stride(2);
            int from = at + h * dim;
            if (da != null && (step == 1 || dim == 1)) {
                System.arraycopy(src, from, da, (int) base, dim);
            } else {
                for (int d = 0; d < dim; d++) {
                    dst.setFloat(base + d * step, src[from + d]);
                }
            }
        }
    }

    @Override
    public void mergeHeads(AttentionProblem p, Tensor attn, Tensor wo, Tensor bias, Tensor y) {
        int heads = p.heads();
        int dv = p.valueDim();
        int seq = p.seqQ();
        int tokens = p.batch() * seq;
        int width = heads * dv;
        float[] merged = new float[tokens * width];
        float[] aa = attn.array();
        Parallel par = aa != null ? parallel : new Parallel(null, 1);
        par.forEach(tokens, t -> {
            int b = t / seq;
            int s = t % seq;
            for (int h = 0; h < heads; h++) {
                long base = attn.offset() + b * attn.stride(0) + h * attn.stride(1) + s * attn.stride(2);
                int to = t * width + h * dv;
                if (aa != null && (attn.stride(3) == 1 || dv == 1)) {
                    System.arraycopy(aa, (int) base, merged, to, dv);
                } else {
                    for (int d = 0; d < dv; d++) {
                        merged[to + d] = attn.getFloat(base + d * attn.stride(3));
                    }
                }
            }
        });
        Tensor a = Tensor.of(merged, tokens, width);
        if (evenRows(y)) {
            Sgemm.gemm(1f, a, wo.permute(1, 0), 0f, null, bias, rows2d(y), parallel);
        } else {
            Tensor tmp = Tensor.zeros(tokens, wo.dim(0));
            Sgemm.gemm(1f, a, wo.permute(1, 0), 0f, null, bias, tmp, parallel);
            Copies.copy(tmp.reshape(y.shape()), y);
        }
    }

    private static boolean evenRows(Tensor t) {
        return t.dim(0) == 1 || t.stride(0) == t.dim(1) * t.stride(1);
    }

    /** A [B·S, E] view of a [B, S, E] tensor whose rows are evenly spaced, else a contiguous copy. */
    static Tensor rows2d(Tensor t) {
        int b = t.dim(0);
        int s = t.dim(1);
        int e = t.dim(2);
        if (evenRows(t)) {
            return Tensor.view(t.segment(), t.dtype(), t.offset(), new int[] {b * s, e}, new long[] {t.stride(1), t.stride(2)});
        }
        return Tensor.of(t.toFloatArray(), b * s, e);
    }
}
