package dev.attn4j.simd;

import dev.attn4j.spi.AttentionKernels;
import dev.attn4j.spi.Backend;
import dev.attn4j.spi.BlockKernels;
import dev.attn4j.spi.ClassicKernels;
import dev.attn4j.spi.ProjectionKernels;
import dev.attn4j.tune.TuneRequest;
import dev.attn4j.tune.Tunable;
import dev.attn4j.tune.Wisdom;
import java.util.List;

/** The Vector API backend: stateless kernels over one species ({@link Vec}) and a persistent thread pool. */
final class SimdBackend implements Backend {
    private final Parallel parallel;
    private final AttentionKernels attention;
    private final ProjectionKernels projections;
    private final BlockKernels blocks;

    /** A backend on the shared pool; {@code vectorBits} must be this JVM's width ({@link Vec}). */
    SimdBackend(int vectorBits) {
        this(vectorBits, Parallel.defaults());
    }

    SimdBackend(int vectorBits, Parallel parallel) {
        if (vectorBits != Vec.BITS) {
            throw new IllegalArgumentException("this JVM's simd kernels use " + Vec.BITS + "-bit vectors, not " + vectorBits
                    + ": select the width with -D" + Vec.BITS_PROPERTY + "=" + vectorBits
                    + " (the species must be a constant for C2, so one width per JVM)");
        }
        this.parallel = parallel;
        this.attention = new SimdAttention(parallel);
        this.projections = new SimdProjections(parallel);
        this.blocks = new SimdBlocks(parallel);
    }

    @Override
    public String name() {
        return SimdBackendProvider.NAME;
    }

    @Override
    public String description() {
        return "Vector API, " + Vec.BITS + "-bit float vectors (" + Vec.L + " lanes), " + parallel.parallelism() + " threads";
    }

    @Override
    public Wisdom wisdom() {
        return SimdTuning.wisdom();
    }

    @Override
    public List<Tunable<?>> tunables(TuneRequest request) {
        return SimdTuning.tunables(request, parallel);
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

    @Override
    public ClassicKernels classic() {
        return new SimdClassic(attention, parallel);
    }
}
