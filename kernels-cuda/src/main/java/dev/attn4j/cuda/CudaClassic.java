package dev.attn4j.cuda;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.LocalP;
import dev.attn4j.api.Mask;
import dev.attn4j.api.ScoreFunction;
import dev.attn4j.api.ScoreStage;
import dev.attn4j.api.Tensor;
import dev.attn4j.spi.ClassicKernels;

/**
 * The {@code cuda} backend's literature family: each call runs {@link CudaClassicOps} through the backend's
 * {@link CudaBackend.Runner} (the context's lock, then a synchronize and a workspace reset), like the other families.
 */
final class CudaClassic implements ClassicKernels {
    private final CudaClassicOps ops;
    private final CudaBackend.Runner runner;

    CudaClassic(CudaClassicOps ops, CudaBackend.Runner runner) {
        this.ops = ops;
        this.runner = runner;
    }

    @Override
    public void scores(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Mask mask, ScoreStage stage, Tensor scores) {
        runner.run(() -> ops.scores(p, f, q, k, mask, stage, scores));
    }

    @Override
    public void attention(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Tensor v, Mask mask, Tensor out,
                          Tensor lse) {
        runner.run(() -> ops.attention(p, f, q, k, v, mask, out, lse));
    }

    @Override
    public void topK(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Tensor v, Mask mask, int topK, Tensor out,
                     int[] indices) {
        runner.run(() -> ops.topK(p, f, q, k, v, mask, topK, out, indices));
    }

    @Override
    public void sample(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Tensor v, Mask mask, long seed, Tensor out,
                       int[] indices) {
        runner.run(() -> ops.sample(p, f, q, k, v, mask, seed, out, indices));
    }

    @Override
    public void localP(AttentionProblem p, ScoreFunction f, LocalP local, Tensor q, Tensor k, Tensor v, Mask mask,
                       Tensor out, Tensor centres) {
        runner.run(() -> ops.localP(p, f, local, q, k, v, mask, out, centres));
    }

    @Override
    public void addSinusoidal(Tensor x, int offset, Tensor y) {
        runner.run(() -> ops.addSinusoidal(x, offset, y));
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor y) {
        runner.run(() -> ops.add(a, b, y));
    }

    @Override
    public void linearResidual(Tensor x, Tensor w, Tensor bias, Tensor residual, Tensor y) {
        runner.run(() -> ops.linearResidual(x, w, bias, residual, y));
    }
}
