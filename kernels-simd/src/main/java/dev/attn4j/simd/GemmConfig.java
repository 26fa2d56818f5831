package dev.attn4j.simd;

/**
 * Blocking of the SGEMM, the one place its sizes come from. The register tile is fixed by
 * {@link MicroKernels}: 12 rows × 2 vectors ({@code NR} = 2·L columns).
 *
 * @param kc    depth of one pass over a packed B panel (kc·NR floats stay in L1: 32 KiB at 512 bits), ≥ 1
 * @param mTile rows of C per work item (A's kc × mTile block is reused from L2 across every panel), ≥ 1
 * @param itemsPerThread the thread split: when the row tiles alone give fewer work items than this many
 *              per thread, the B panels are split into groups too (more, smaller items balance better;
 *              fewer re-read less of A), ≥ 1. The sums never depend on it: each output element is summed
 *              by one item in a fixed order.
 * @param mr    the micro-kernel shape: rows of A per register tile (12, 8 or 4) × two vectors of columns;
 *              12 × 2 fills 24 of AVX-512's 32 registers with accumulators, 8 × 2 and 4 × 2 leave more
 *              room (fewer registers, or a machine whose loads rather than FMAs bind)
 */
record GemmConfig(int kc, int mTile, int itemsPerThread, int mr) {

    /** Checks the sizes. */
    GemmConfig {
        if (kc < 1 || mTile < 1 || itemsPerThread < 1 || mr != 12 && mr != 8 && mr != 4) {
            throw new IllegalArgumentException("invalid gemm blocking: kc=" + kc + ", mTile=" + mTile
                    + ", itemsPerThread=" + itemsPerThread + ", mr=" + mr + " (12, 8 or 4)");
        }
    }

    /** A blocking with the 12-row micro-kernel. */
    GemmConfig(int kc, int mTile, int itemsPerThread) {
        this(kc, mTile, itemsPerThread, 12);
    }

    /** A blocking with the default thread split and micro-kernel. */
    GemmConfig(int kc, int mTile) {
        this(kc, mTile, 4);
    }

    /**
     * The default: kc = 256 (a 32 KiB B micro-panel at 512 bits), 48-row items (4 register tiles), and at
     * least 4 items per thread (the last item of a thread then idles the others for a quarter of its share
     * at most).
     */
    static GemmConfig defaults() {
        return new GemmConfig(256, 48, 4, 12);
    }
}
