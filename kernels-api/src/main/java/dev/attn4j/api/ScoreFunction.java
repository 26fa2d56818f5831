package dev.attn4j.api;

/**
 * How a query row {@code q} (one head, {@code headDim} features) and a key row {@code k} give the raw
 * alignment score {@code f(q, k)} of the attention family from the literature. Every kernel that takes
 * a score function then carries the score exactly as scaled dot-product attention does (ONNX order):
 * {@code s = scale·f(q, k)} → softcap → mask → softmax, with the problem's {@link AttentionProblem#scale()}
 * and {@link AttentionProblem#softcap()}. Set {@code scale = 1} for the papers' unscaled forms (Luong's
 * dot, general and concat, Bahdanau's additive); the problem's default {@code 1/√headDim} gives Vaswani's
 * scaled dot product.
 *
 * <ul>
 *   <li>{@link Dot}: {@code f = q·k} (Luong et al. 2015 "dot"; with {@code scale = 1/√d}, Vaswani et al.
 *       2017).</li>
 *   <li>{@link General}: {@code f = qᵀ·W·k} (Luong et al. 2015 "general", bilinear), computed as
 *       {@code (q·W)·k} so that no {@code [Sq, Sk, D]} tensor exists.</li>
 *   <li>{@link Additive}: {@code f = vᵀ·tanh(W₁·q + W₂·k)} (Bahdanau et al. 2015; Luong's "concat"),
 *       computed by projecting once to {@code [Sq, A]} and {@code [Sk, A]}; the {@code [Sq, Sk, A]}
 *       tensor is never materialized.</li>
 *   <li>{@link Cosine}: {@code f = q·k / (max(‖q‖, eps)·max(‖k‖, eps))} (the cosine similarity of
 *       ABCNN, Yin et al. 2016, and of the multi-perspective CNN, He et al. 2015): attention over rows
 *       normalized to unit length (a zero row stays zero).</li>
 * </ul>
 *
 * <p>Weights are views the caller owns; the kernels only read them. Their shapes are checked against
 * the problem by the API: a weight given without its head axis is shared by every query head
 * (numpy broadcasting), one with it has one slice per query head (a grouped key head is projected
 * with the weight of the query head that reads it).
 */
public sealed interface ScoreFunction permits ScoreFunction.Dot, ScoreFunction.General, ScoreFunction.Additive,
        ScoreFunction.Cosine {

    /** The dot product {@code q·k} (times the problem's scale, like {@link Kernels#attention}). */
    static ScoreFunction dot() {
        return Dot.INSTANCE;
    }

    /** The bilinear form {@code qᵀ·W·k} with {@code w} broadcast to {@code [heads, headDim, headDim]}. */
    static ScoreFunction general(Tensor w) {
        return new General(w);
    }

    /**
     * Bahdanau's additive score {@code vᵀ·tanh(W₁·q + W₂·k)} with {@code w1} and {@code w2} broadcast to
     * {@code [heads, A, headDim]} and {@code v} to {@code [heads, A]}.
     */
    static ScoreFunction additive(Tensor w1, Tensor w2, Tensor v) {
        return new Additive(w1, w2, v);
    }

    /** The cosine similarity with {@link Cosine#DEFAULT_EPS}. */
    static ScoreFunction cosine() {
        return new Cosine(Cosine.DEFAULT_EPS);
    }

    /** The cosine similarity with the given {@code eps} (finite, &gt; 0). */
    static ScoreFunction cosine(float eps) {
        return new Cosine(eps);
    }

    /** {@code f = q·k}. */
    enum Dot implements ScoreFunction {
        /** The only instance. */
        INSTANCE
    }

    /**
     * {@code f(q, k) = Σ_{c,d} q[c]·W[h, c, d]·k[d]} (Luong et al. 2015, "general").
     *
     * @param w the bilinear weight, broadcastable to {@code [heads, headDim, headDim]} (rank 2 or 3)
     */
    record General(Tensor w) implements ScoreFunction {
        /** Requires a weight of rank 2 or 3. */
        public General {
            Checks.notNull("w", w);
            Checks.float32("w", w);
            if (w.rank() < 2 || w.rank() > 3) {
                throw new IllegalArgumentException("general score weight w must have rank 2 [headDim, headDim] or 3 "
                        + "[heads, headDim, headDim] but has shape " + java.util.Arrays.toString(w.shape()));
            }
        }
    }

    /**
     * {@code f(q, k) = Σ_a v[h, a]·tanh((W₁[h]·q)[a] + (W₂[h]·k)[a])} (Bahdanau et al. 2015).
     *
     * @param w1 the query projection, broadcastable to {@code [heads, A, headDim]} (rank 2 or 3)
     * @param w2 the key projection, broadcastable to {@code [heads, A, headDim]} (rank 2 or 3)
     * @param v  the output vector, broadcastable to {@code [heads, A]} (rank 1 or 2)
     */
    record Additive(Tensor w1, Tensor w2, Tensor v) implements ScoreFunction {
        /** Requires weights of the right ranks. */
        public Additive {
            Checks.notNull("w1", w1);
            Checks.notNull("w2", w2);
            Checks.notNull("v", v);
            Checks.float32("w1", w1);
            Checks.float32("w2", w2);
            Checks.float32("v", v);
            for (Tensor t : new Tensor[] {w1, w2}) {
                if (t.rank() < 2 || t.rank() > 3) {
                    throw new IllegalArgumentException("additive score weight " + (t == w1 ? "w1" : "w2")
                            + " must have rank 2 [A, headDim] or 3 [heads, A, headDim] but has shape "
                            + java.util.Arrays.toString(t.shape()));
                }
            }
            if (v.rank() < 1 || v.rank() > 2) {
                throw new IllegalArgumentException("additive score vector v must have rank 1 [A] or 2 [heads, A] but has shape "
                        + java.util.Arrays.toString(v.shape()));
            }
        }

        /** The hidden size {@code A} of the additive score (the second-to-last axis of {@code w1}). */
        public int hidden() {
            return w1.dim(-2);
        }
    }

    /**
     * {@code f(q, k) = q·k / (max(‖q‖₂, eps)·max(‖k‖₂, eps))}: each row is divided by its Euclidean
     * norm, or by {@code eps} when the norm is smaller, so a zero row scores 0 against every key.
     *
     * @param eps the smallest norm divided by, finite and &gt; 0
     */
    record Cosine(float eps) implements ScoreFunction {
        /** The default {@code eps}, 1e-8 (PyTorch's {@code cosine_similarity}). */
        public static final float DEFAULT_EPS = 1e-8f;

        /** Requires a finite eps &gt; 0. */
        public Cosine {
            if (!(eps > 0f) || Float.isInfinite(eps)) {
                throw new IllegalArgumentException("cosine eps must be finite and > 0 but is " + eps);
            }
        }
    }

    /** The weight tensors this function reads (none for dot and cosine). */
    default Tensor[] weights() {
        return switch (this) {
            case Dot d -> new Tensor[0];
            case General g -> new Tensor[] {g.w()};
            case Additive a -> new Tensor[] {a.w1(), a.w2(), a.v()};
            case Cosine c -> new Tensor[0];
        };
    }
}
