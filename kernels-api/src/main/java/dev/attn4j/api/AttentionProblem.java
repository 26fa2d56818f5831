package dev.attn4j.api;

/**
 * The dimensions and score transform of one attention call (FlashAttention's {@code Qkv_params}).
 *
 * <p>Shapes the kernels expect, all logical {@code [batch, heads, seq, dim]} views:
 * {@code q [batch, heads, seqQ, headDim]}, {@code k [batch, kvHeads, seqK, headDim]},
 * {@code v [batch, kvHeads, seqK, valueDim]}, {@code out [batch, heads, seqQ, valueDim]}. Query head
 * {@code h} reads key/value head {@code h / groupSize()} (grouped-query attention; {@code kvHeads == 1}
 * is multi-query attention).
 *
 * <p>The scores are {@code s = softcap > 0 ? softcap·tanh(scale·q·kᵀ / softcap) : scale·q·kᵀ}, then
 * the mask is applied, then the softmax over keys: ONNX {@code Attention}'s order.
 *
 * @param batch    batch size, ≥ 1
 * @param heads    query heads, ≥ 1, a multiple of {@code kvHeads}
 * @param kvHeads  key/value heads, ≥ 1
 * @param seqQ     query length, ≥ 1
 * @param seqK     key length, ≥ 1
 * @param headDim  head size of Q and K, ≥ 1
 * @param valueDim head size of V and of the output, ≥ 1
 * @param scale    multiplier of q·kᵀ, finite (default {@code 1/√headDim})
 * @param softcap  softcap, ≥ 0; 0 means none
 */
public record AttentionProblem(int batch, int heads, int kvHeads, int seqQ, int seqK, int headDim, int valueDim,
                               float scale, float softcap) {

    /** Validates every dimension. */
    public AttentionProblem {
        positive("batch", batch);
        positive("heads", heads);
        positive("kvHeads", kvHeads);
        positive("seqQ", seqQ);
        positive("seqK", seqK);
        positive("headDim", headDim);
        positive("valueDim", valueDim);
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("heads (" + heads + ") must be a multiple of kvHeads (" + kvHeads + ")");
        }
        if (!Float.isFinite(scale)) {
            throw new IllegalArgumentException("scale must be finite but is " + scale);
        }
        if (!(softcap >= 0f) || Float.isInfinite(softcap)) {
            throw new IllegalArgumentException("softcap must be finite and >= 0 (0 = none) but is " + softcap);
        }
    }

    /** A problem with {@code valueDim = headDim}, the default scale {@code 1/√headDim} and no softcap. */
    public static AttentionProblem of(int batch, int heads, int kvHeads, int seqQ, int seqK, int headDim) {
        positive("headDim", headDim);
        return new AttentionProblem(batch, heads, kvHeads, seqQ, seqK, headDim, headDim, defaultScale(headDim), 0f);
    }

    /** {@code 1/√headDim}, rounded to float as ONNX does. */
    public static float defaultScale(int headDim) {
        return (float) (1.0 / Math.sqrt(headDim));
    }

    /** This problem with another head size of V. */
    public AttentionProblem withValueDim(int newValueDim) {
        return new AttentionProblem(batch, heads, kvHeads, seqQ, seqK, headDim, newValueDim, scale, softcap);
    }

    /** This problem with another scale. */
    public AttentionProblem withScale(float newScale) {
        return new AttentionProblem(batch, heads, kvHeads, seqQ, seqK, headDim, valueDim, newScale, softcap);
    }

    /** This problem with a softcap (0 removes it). */
    public AttentionProblem withSoftcap(float newSoftcap) {
        return new AttentionProblem(batch, heads, kvHeads, seqQ, seqK, headDim, valueDim, scale, newSoftcap);
    }

    /** This problem with other sequence lengths. */
    public AttentionProblem withSeq(int newSeqQ, int newSeqK) {
        return new AttentionProblem(batch, heads, kvHeads, newSeqQ, newSeqK, headDim, valueDim, scale, softcap);
    }

    /** Query heads per key/value head. */
    public int groupSize() {
        return heads / kvHeads;
    }

    /** The key/value head that query head {@code head} reads. */
    public int kvHead(int head) {
        return head / groupSize();
    }

    /** Whether a softcap is applied. */
    public boolean hasSoftcap() {
        return softcap > 0f;
    }

    /** The logical shape of Q. */
    public int[] qShape() {
        return new int[] {batch, heads, seqQ, headDim};
    }

    /** The logical shape of K. */
    public int[] kShape() {
        return new int[] {batch, kvHeads, seqK, headDim};
    }

    /** The logical shape of V. */
    public int[] vShape() {
        return new int[] {batch, kvHeads, seqK, valueDim};
    }

    /** The logical shape of the output. */
    public int[] outShape() {
        return new int[] {batch, heads, seqQ, valueDim};
    }

    /** The logical shape of the score matrix. */
    public int[] scoreShape() {
        return new int[] {batch, heads, seqQ, seqK};
    }

    /** Floating-point operations of a dense forward pass, {@code 2·B·H·Sq·Sk·(D + Dv)}, also when masked. */
    public double flops() {
        return 2.0 * batch * heads * seqQ * (double) seqK * (headDim + valueDim);
    }

    private static void positive(String name, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be >= 1 but is " + value);
        }
    }
}
