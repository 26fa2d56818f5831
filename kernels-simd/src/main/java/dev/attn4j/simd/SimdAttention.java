package dev.attn4j.simd;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Mask;
import dev.attn4j.api.ScoreStage;
import dev.attn4j.api.Tensor;
import dev.attn4j.spi.AttentionKernels;

/** The attention family: fused flash attention, score matrices and the in-place masked softmax. */
final class SimdAttention implements AttentionKernels {
    private final Parallel parallel;

    SimdAttention(Parallel parallel) {
        this.parallel = parallel;
    }

    @Override
    public void scores(AttentionProblem p, Tensor q, Tensor k, Mask mask, ScoreStage stage, Tensor scores) {
        Scores.scores(p, q, k, mask, stage, scores, parallel);
    }

    @Override
    public void maskedSoftmax(AttentionProblem p, Mask mask, Tensor scores) {
        Scores.maskedSoftmax(p, mask, scores, parallel);
    }

    @Override
    public void attention(AttentionProblem p, Tensor q, Tensor k, Tensor v, Mask mask, Tensor out, Tensor lse) {
        FlashAttention.run(p, q, k, v, mask, out, lse, parallel, SimdTuning.flash(p, mask, q));
    }
}
