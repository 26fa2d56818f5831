package dev.attn4j.spi;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.LocalP;
import dev.attn4j.api.Mask;
import dev.attn4j.api.ScoreFunction;
import dev.attn4j.api.ScoreStage;
import dev.attn4j.api.Tensor;

/**
 * The attention family from the literature (score functions, hard and local attention) and the
 * Transformer block's remaining parts (sinusoidal positions, residual add, projection with a fused
 * bias + residual epilogue). Every argument has been validated by the API; implementations trust
 * their input and keep {@code assert}s only. A score {@code s} is always {@code scale·f(q, k)} →
 * softcap → mask, as in {@link AttentionKernels}; a fully masked row writes zeros (index −1).
 */
public interface ClassicKernels {

    /** Writes {@code scores [B, H, Sq, Sk]} = {@code stage} of (scale·f(q, k) → softcap → mask → softmax); overwrites all of it. */
    void scores(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Mask mask, ScoreStage stage, Tensor scores);

    /** Writes {@code out [B, H, Sq, Dv]} = softmax(s)·v and, when not null, {@code lse [B, H, Sq]} (−∞ for a fully masked row). */
    void attention(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Tensor v, Mask mask, Tensor out, Tensor lse);

    /**
     * Hard top-{@code topK} attention: per row the {@code topK} visible keys of highest score (ties: lower
     * key first), weights the softmax renormalized over them; writes {@code out [B, H, Sq, Dv]} and, when not
     * null, {@code indices [B·H·Sq·topK]} (selected keys by decreasing score, −1 past the visible ones).
     */
    void topK(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Tensor v, Mask mask, int topK, Tensor out,
              int[] indices);

    /**
     * Stochastic hard attention: per row one key drawn from softmax(s) with the row's counter-based
     * uniform of {@code seed} ({@code dev.attn4j.api.Kernels#sampleUniform}); writes {@code out = v[key]}
     * and, when not null, {@code indices [B·H·Sq]}.
     */
    void sample(AttentionProblem p, ScoreFunction f, Tensor q, Tensor k, Tensor v, Mask mask, long seed, Tensor out,
                int[] indices);

    /** Luong's local-p attention ({@link LocalP}); writes {@code out [B, H, Sq, Dv]} and, when not null, {@code centres [B, H, Sq]} = p_t. */
    void localP(AttentionProblem p, ScoreFunction f, LocalP local, Tensor q, Tensor k, Tensor v, Mask mask, Tensor out,
                Tensor centres);

    /** Writes {@code y [B, S, E]} = {@code x} + PE(offset + s) (sinusoidal positions; y may be x). */
    void addSinusoidal(Tensor x, int offset, Tensor y);

    /** Writes {@code y} = {@code a} + {@code b} ({@code b} broadcast to a's shape; y may be a or b). */
    void add(Tensor a, Tensor b, Tensor y);

    /**
     * Writes {@code y [M, N]} = {@code x [M, K]}·{@code w [N, K]}ᵀ + {@code bias [N]} (may be null) +
     * {@code residual [M, N]} (y may be residual).
     */
    void linearResidual(Tensor x, Tensor w, Tensor bias, Tensor residual, Tensor y);
}
