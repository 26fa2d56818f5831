package dev.attn4j.simd;

/**
 * Blocking of the SGEMM, the one place its sizes come from. The register tile is fixed by
 * {@link MicroKernels}: 12 rows × 2 vectors ({@code NR} = 2·L columns).
 *
 * @param kc    depth of one pass over a packed B panel (a register tile's accumulators run kc deep before C is stored), ≥ 1
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
     * The default: kc = 1024 (most models' K in one k-block: each register tile's accumulators run the whole
     * depth and C is loaded and stored once; the kc × 32 B micro-panel, 96–128 KiB, streams from L2, each
     * vector of it used by twelve FMAs), 48-row items (4 register tiles), at least 4 items per thread (the
     * last item of a thread then idles the others for a quarter of its share at most), item-outer order.
     * Measured on the development machine (Zen 5, 2026-12-03, best of 10 calls, ms): 1024³ 15.3 → 12.3 at
     * one thread and 8.1 → 7.0 at two, 2048×2304×768 50.9 → 40.4 and 22.8 → 21.4, 1024×768×3072 33.4 →
     * 30.1 and 18.9 → 16.1, against the former default (kc = 256, by passes on one thread); kc = 256 kept
     * the micro-panel in L1 and re-read C every 256 of K. On a Sapphire Rapids VM (2026-11-22) kc = 256 by
     * passes measured best at one thread: the tuner times both orders and several kc.
     */
    static GemmConfig defaults() {
        return new GemmConfig(1024, 48, 4, 12);
    }

    /** Rows up to which {@link #forShape} makes all of M one row tile. */
    static final int ONE_TILE_ROWS = 256;

    /**
     * The default for an M × K × N product: {@link #defaults()}, but one row tile (mTile = M, one item per
     * thread, each a group of B panels) where 48 &lt; M ≤ {@link #ONE_TILE_ROWS} and K fits one k-block. Each
     * panel is then packed by the one item that uses it, right before its register tiles read it (see
     * {@link Sgemm}), and A is packed once per item instead of once per 48-row tile and panel group.
     * In-process A/B against {@link #defaults()}, call by call on the 2-vCPU Zen 4 VM (2026-12-04), N = 2304,
     * K = 768: W stored as rows (linear) M = 64 1.09–1.17×, 100 1.10–1.17×, 128 1.14–1.17×, 192
     * 1.09–1.12×, 256 1.06–1.09×; B row-major 1.01–1.08×.
     */
    static GemmConfig forShape(int m, int k) {
        GemmConfig d = defaults();
        if (m > d.mTile() && m <= ONE_TILE_ROWS && k <= d.kc()) {
            return new GemmConfig(d.kc(), m, 1, d.mr(), d.passes());
        }
        return d;
    }

    /** This blocking in the given loop order. */
    GemmConfig withPasses(boolean byPasses) {
        return new GemmConfig(kc, mTile, itemsPerThread, mr, byPasses);
    }
}
