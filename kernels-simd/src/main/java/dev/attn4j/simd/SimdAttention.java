package dev.attn4j.simd;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Mask;
import dev.attn4j.api.ScoreStage;
import dev.attn4j.api.Tensor;
import dev.attn4j.spi.AttentionKernels;

/** The attention family: fused flash attention, score matrices and the in-place masked softmax. */
final class SimdAttention implements AttentionKernels {
    private final Parallel parallel;
    private final AttentionKernels fallback;

    SimdAttention(Parallel parallel, AttentionKernels fallback) {
        this.parallel = parallel;
        this.fallback = fallback;
    }

    @Override
    public void scores(AttentionProblem p, Tensor q, Tensor k, Mask mask, ScoreStage stage, Tensor scores) {
        fallback.scores(p, q, k, mask, stage, scores);
    }

    @Override
    public void maskedSoftmax(AttentionProblem p, Mask mask, Tensor scores) {
        fallback.maskedSoftmax(p, mask, scores);
    }

    @Override
    public void attention(AttentionProblem p, Tensor q, Tensor k, Tensor v, Mask mask, Tensor out, Tensor lse) {
        FlashAttention.run(p, q, k, v, mask, out, lse, parallel, FlashConfig.forProblem(p));
    }
}
