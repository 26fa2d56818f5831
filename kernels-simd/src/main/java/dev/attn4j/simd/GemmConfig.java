package dev.attn4j.simd;

/**
 * Blocking of the SGEMM, the one place its sizes come from. The register tile is fixed by
 * {@link MicroKernels}: 12 rows × 2 vectors ({@code NR} = 2·L columns).
 *
 * @param kc    depth of one pass over a packed B panel (kc·NR floats stay in L1: 32 KiB at 512 bits), ≥ 1
 * @param mTile rows of C per work item (A's kc × mTile block is reused from L2 across every panel), ≥ 1
 */
record GemmConfig(int kc, int mTile) {

    /** Checks the sizes. */
    GemmConfig {
        if (kc < 1 || mTile < 1) {
            throw new IllegalArgumentException("invalid gemm blocking: kc=" + kc + ", mTile=" + mTile);
        }
    }

    /** The default: kc = 256 (a 32 KiB B micro-panel at 512 bits), 48-row items (4 register tiles). */
    static GemmConfig defaults() {
        return new GemmConfig(256, 48);
    }
}
