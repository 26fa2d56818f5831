package dev.attn4j.spi;

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
}
