package dev.attn4j.spi;

import dev.attn4j.reference.ReferenceClassic;
import dev.attn4j.tune.TuneRequest;
import dev.attn4j.tune.Tunable;
import dev.attn4j.tune.Wisdom;
import java.util.List;

/**
 * One implementation of every kernel family, obtained from a {@link BackendProvider}. Backends are
 * thread-safe: kernels are stateless and may be called from any number of threads at once.
 */
public interface Backend {

    /** The short name ({@code reference}, {@code simd}, {@code cuda}). */
    String name();

    /** A one-line description for {@code ./attn4j info} (vector width, device, ...). */
    String description();

    /**
     * The tuning knobs of this backend for a kernel on a representative problem, offered to the
     * autotuner ({@code dev.attn4j.tune.Planner}); empty when the backend has none for that kernel. A
     * backend reads its tuned choices from {@link dev.attn4j.tune.Wisdom#shared(int, String)} and uses its ESTIMATE
     * defaults where the wisdom has none.
     */
    default List<Tunable<?>> tunables(TuneRequest request) {
        return List.of();
    }

    /** The wisdom this backend reads its tuned tiles from, or null when it has nothing to tune. */
    default Wisdom wisdom() {
        return null;
    }

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
