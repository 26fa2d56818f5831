package dev.attn4j.reference;

import dev.attn4j.spi.AttentionKernels;
import dev.attn4j.spi.Backend;
import dev.attn4j.spi.BlockKernels;
import dev.attn4j.spi.ProjectionKernels;

/**
 * The float64 oracle: every kernel as plain loops that accumulate in double and round once when they
 * store. It is the truth every other backend is tested against, and the fallback that always runs.
 * Stateless and thread-safe.
 */
public final class ReferenceBackend implements Backend {
    /** The backend's name. */
    public static final String NAME = "reference";

    private final ReferenceAttention attention = new ReferenceAttention();
    private final ReferenceProjections projections = new ReferenceProjections();
    private final ReferenceBlocks blocks = new ReferenceBlocks();

    /** Creates the backend. */
    public ReferenceBackend() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "float64 oracle (plain Java loops, single-threaded)";
    }

    @Override
    public AttentionKernels attention() {
        return attention;
    }

    @Override
    public ProjectionKernels projections() {
        return projections;
    }

    @Override
    public BlockKernels blocks() {
        return blocks;
    }
}
