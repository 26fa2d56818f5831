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
 * @param passes the loop order: false, each work item runs all of K with its C in a per-thread buffer (B's
 *              panels streamed from L3 by every item); true, k-block passes over all items with C in y, so
 *              that a pass's slice of B stays in L2 across the items. The sums are the same either way
 *              (each element summed by one item, k-blocks in order), so results never depend on it.
 */
record GemmConfig(int kc, int mTile, int itemsPerThread, int mr, boolean passes) {

    /** Checks the sizes. */
    GemmConfig {
        if (kc < 1 || mTile < 1 || itemsPerThread < 1 || mr != 12 && mr != 8 && mr != 4) {
            throw new IllegalArgumentException("invalid gemm blocking: kc=" + kc + ", mTile=" + mTile
                    + ", itemsPerThread=" + itemsPerThread + ", mr=" + mr + " (12, 8 or 4)");
        }
    }

    /** A blocking in the item-outer order. */
    GemmConfig(int kc, int mTile, int itemsPerThread, int mr) {
        this(kc, mTile, itemsPerThread, mr, false);
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

    /**
     * The default for a pool of {@code threads}: {@link #defaults()}, by passes on one thread (paired JMH against
     * OpenBLAS at 2048×2304×768: 0.79–0.81× by passes, 0.67–0.68× by items at one thread; at two threads the
     * passes measured 5–9 % slower, and at 1024³ both orders alike).
     */
    static GemmConfig defaults(int threads) {
        GemmConfig d = defaults();
        return threads == 1 ? d.withPasses(true) : d;
    }

    /** This blocking in the given loop order. */
    GemmConfig withPasses(boolean byPasses) {
        return new GemmConfig(kc, mTile, itemsPerThread, mr, byPasses);
    }
}
