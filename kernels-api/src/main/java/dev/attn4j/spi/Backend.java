package dev.attn4j.spi;

import dev.attn4j.reference.ReferenceClassic;

/**
 * One implementation of every kernel family, obtained from a {@link BackendProvider}. Backends are
 * thread-safe: kernels are stateless and may be called from any number of threads at once.
 */
public interface Backend {

    /** The short name ({@code reference}, {@code simd}, {@code cuda}). */
    String name();

    /** A one-line description for {@code ./attn4j info} (vector width, device, ...). */
    String description();

    /** The attention family. */
    AttentionKernels attention();

    /** The projection family. */
    ProjectionKernels projections();

    /** The ONNX building blocks. */
    BlockKernels blocks();

    /**
     * The attention family from the literature (score functions, hard and local attention) and the
     * Transformer block's remaining parts. A backend that does not override this runs the float64
     * reference implementation: correct everywhere, slow.
     */
    default ClassicKernels classic() {
        return ReferenceClassic.INSTANCE;
    }
}
