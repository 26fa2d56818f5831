package dev.attn4j.api;

import java.util.Arrays;

/**
 * Luong et al. 2015 ("Effective Approaches to Attention-based Neural Machine Translation", §3.2)
 * local attention with predictive alignment (local-p). For query row {@code h_t} of query head
 * {@code h}:
 *
 * <pre>
 *   p_t    = S · sigmoid(v_p[h]ᵀ · tanh(W_p[h] · h_t))        S = seqK, so 0 ≤ p_t ≤ S
 *   window = the keys s with p_t − D ≤ s ≤ p_t + D             (intersected with the mask)
 *   a_t(s) = softmax over the window of the scores (scale, softcap and mask as everywhere)
 *            · exp(−(s − p_t)² / (2σ²)),   σ = D / 2
 *   out_t  = Σ_s a_t(s) · v_s
 * </pre>
 *
 * As in the paper the Gaussian factor is applied after the softmax and the weights are not
 * renormalized, so they sum to less than 1. A row whose window holds no visible key gives zeros.
 *
 * <p>The other two forms of the paper need no parameters: <em>global</em> attention is every kernel
 * with {@link Mask#none()} (the default), and <em>local-m</em> (monotonic alignment {@code p_t = t}) is
 * the sliding-window mask {@link #localM(int)}.
 *
 * @param wp        the position network's weight, broadcastable to {@code [heads, A, headDim]} (rank 2 or 3)
 * @param vp        its output vector, broadcastable to {@code [heads, A]} (rank 1 or 2)
 * @param halfWidth the half window {@code D} ≥ 1; σ = D/2
 */
public record LocalP(Tensor wp, Tensor vp, int halfWidth) {

    /** Checks ranks and {@code halfWidth}. */
    public LocalP {
        Checks.notNull("wp", wp);
        Checks.notNull("vp", vp);
        Checks.float32("wp", wp);
        Checks.float32("vp", vp);
        if (wp.rank() < 2 || wp.rank() > 3) {
            throw new IllegalArgumentException("local-p weight wp must have rank 2 [A, headDim] or 3 [heads, A, headDim] "
                    + "but has shape " + Arrays.toString(wp.shape()));
        }
        if (vp.rank() < 1 || vp.rank() > 2) {
            throw new IllegalArgumentException("local-p vector vp must have rank 1 [A] or 2 [heads, A] but has shape "
                    + Arrays.toString(vp.shape()));
        }
        if (halfWidth < 1) {
            throw new IllegalArgumentException("local-p halfWidth D must be >= 1 (σ = D/2) but is " + halfWidth);
        }
    }

    /** The hidden size {@code A} of the position network. */
    public int hidden() {
        return wp.dim(-2);
    }

    /** σ = D/2. */
    public double sigma() {
        return halfWidth / 2.0;
    }

    /**
     * Luong's local-m attention: query {@code t} attends to the {@code 2D + 1} keys
     * {@code [t − D, t + D]} — the sliding-window mask aligned top-left.
     */
    public static Mask localM(int halfWidth) {
        return localM(halfWidth, Alignment.topLeft());
    }

    /** Local-m with the aligned position {@code t + offset(b)} (see {@link Alignment}). */
    public static Mask localM(int halfWidth, Alignment alignment) {
        if (halfWidth < 0) {
            throw new IllegalArgumentException("local-m halfWidth D must be >= 0 but is " + halfWidth);
        }
        return Mask.slidingWindow(halfWidth, halfWidth, alignment);
    }

    /** Global attention: every key (Luong's default), i.e. {@link Mask#none()}. */
    public static Mask global() {
        return Mask.none();
    }
}
