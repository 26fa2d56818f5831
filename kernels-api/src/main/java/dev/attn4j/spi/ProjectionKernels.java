package dev.attn4j.spi;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Tensor;

/** Linear projections a backend implements; arguments are validated by the API. */
public interface ProjectionKernels {

    /** Writes {@code y [M, N]} = {@code x [M, K]}·{@code w [N, K]}ᵀ + {@code bias [N]} (bias may be null). */
    void linear(Tensor x, Tensor w, Tensor bias, Tensor y);

    /**
     * Projects {@code x [B, S, E]} through the packed weight {@code w [H·D + KVH·D + KVH·Dv, E]} (and
     * {@code bias} of that length, or null) straight into heads: {@code q [B, H, S, D]},
     * {@code k [B, KVH, S, D]}, {@code v [B, KVH, S, Dv]}, with {@code S = p.seqQ() = p.seqK()}.
     */
    void projectQkv(AttentionProblem p, Tensor x, Tensor w, Tensor bias, Tensor q, Tensor k, Tensor v);

    /**
     * Merges heads and projects: {@code y [B, Sq, E]} = concat_h({@code attn [B, H, Sq, Dv]})·{@code wo [E, H·Dv]}ᵀ
     * + {@code bias [E]} (bias may be null).
     */
    void mergeHeads(AttentionProblem p, Tensor attn, Tensor wo, Tensor bias, Tensor y);
}
