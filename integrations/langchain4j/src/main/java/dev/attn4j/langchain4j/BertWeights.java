package dev.attn4j.langchain4j;

import java.util.List;

/**
 * The weights of a BERT encoder: every projection as {@code [in, out]}, row-major (the layout of the ONNX
 * {@code MatMul} initializers, kept as read), Q, K and V packed into one {@code [E, 3·E]} matrix whose
 * columns are the Q heads, then K, then V. {@link BertEncoder} hands them to {@code Kernels.linear} as
 * {@code [out, in]} views with strides {@code [1, out]}: the SIMD SGEMM then packs whole rows of the weight
 * instead of gathering a transposed one.
 *
 * @param hidden          E, the hidden size
 * @param heads           attention heads
 * @param headDim         the size of one head; {@code heads·headDim == hidden}
 * @param intermediate    F, the feed-forward size
 * @param attentionScale  the multiplier of q·kᵀ (the graph divides by √headDim)
 * @param wordEmbeddings  {@code [vocab, E]}
 * @param positionEmbeddings {@code [maxPositions, E]}
 * @param positionIds     the position id of each position (the graph's {@code position_ids} buffer)
 * @param typeEmbeddings  {@code [types, E]}
 * @param embeddingNorm   LayerNorm after the embedding sum
 * @param layers          the encoder layers, in order
 */
record BertWeights(int hidden, int heads, int headDim, int intermediate, float attentionScale,
                   float[] wordEmbeddings, float[] positionEmbeddings, long[] positionIds, float[] typeEmbeddings,
                   Norm embeddingNorm, List<Layer> layers) {

    /** The number of rows of {@link #wordEmbeddings()}. */
    int vocabSize() {
        return wordEmbeddings.length / hidden;
    }

    /** The number of token types. */
    int typeCount() {
        return typeEmbeddings.length / hidden;
    }

    /** The longest sequence the position embeddings cover. */
    int maxPositions() {
        return positionIds.length;
    }

    /**
     * A LayerNorm over the last axis.
     *
     * @param scale   {@code [E]}
     * @param bias    {@code [E]}
     * @param epsilon added to the variance
     */
    record Norm(float[] scale, float[] bias, float epsilon) {
    }

    /**
     * One encoder layer: self-attention, output projection, residual + LayerNorm, feed-forward with
     * GELU, residual + LayerNorm.
     *
     * @param qkv          {@code [E, 3·E]}
     * @param qkvBias      {@code [3·E]}
     * @param output       {@code [E, E]} (input: the heads concatenated)
     * @param outputBias   {@code [E]}
     * @param attentionNorm LayerNorm after the attention residual
     * @param up           {@code [E, F]}
     * @param upBias       {@code [F]}
     * @param down         {@code [F, E]}
     * @param downBias     {@code [E]}
     * @param outputNorm   LayerNorm after the feed-forward residual
     */
    record Layer(float[] qkv, float[] qkvBias, float[] output, float[] outputBias, Norm attentionNorm,
                 float[] up, float[] upBias, float[] down, float[] downBias, Norm outputNorm) {
    }
}
