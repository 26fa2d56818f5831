package dev.attn4j.spi;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Mask;
import dev.attn4j.api.ScoreStage;
import dev.attn4j.api.Tensor;

/**
 * The attention family a backend implements. Every argument has been validated by the API
 * ({@code dev.attn4j.api.Kernels}) against the problem: implementations trust their input and keep
 * {@code assert}s only. Tensors are float32 views whose last axis may have any stride unless the
 * backend checks {@code stride(-1) == 1} for a fast path.
 */
public interface AttentionKernels {

    /**
     * Writes {@code scores [B, H, Sq, Sk]} = {@code stage} of (q·kᵀ·scale → softcap → mask → softmax).
     * Overwrites every element of {@code scores}.
     */
    void scores(AttentionProblem p, Tensor q, Tensor k, Mask mask, ScoreStage stage, Tensor scores);

    /**
     * In place over {@code scores [B, H, Sq, Sk]}: {@code x ← softmax_j(mask(softcap(scale·x)))}; a fully
     * masked row becomes zeros.
     */
    void maskedSoftmax(AttentionProblem p, Mask mask, Tensor scores);

    /**
     * Writes {@code out [B, H, Sq, Dv]} = softmax(mask(softcap(q·kᵀ·scale)))·v and, when {@code lse} is
     * not null, {@code lse [B, H, Sq]} = the natural log-sum-exp of each row's masked scores (−∞ for a
     * fully masked row, whose output row is zeros).
     */
    void attention(AttentionProblem p, Tensor q, Tensor k, Tensor v, Mask mask, Tensor out, Tensor lse);
}
