package dev.attn4j.simd;

import dev.attn4j.api.AttentionProblem;

/**
 * Tile sizes of the fused attention kernel, the one place they come from (the autotuner drives them
 * through {@link #forProblem} or by passing its own instance).
 *
 * <p>The query tile is fixed by the micro-kernels at two vectors of rows ({@link FlashAttention#BQ}:
 * 32 rows at 512 bits). PERF-NOTES: Bq 32–64 with Bk 64 was best, Bk 128 ≈ 10 % slower.
 *
 * @param keyTile           keys per tile (Bk), ≥ 1
 * @param splitBelowItems   split keys across work items when batch·heads·query tiles is below this
 *                          (decode: few query rows against a long cache), ≥ 1
 * @param minKeysPerSplit   the fewest keys a split gets, ≥ keyTile
 * @param maxSplits         the most splits of one query tile's keys, ≥ 1
 */
record FlashConfig(int keyTile, int splitBelowItems, int minKeysPerSplit, int maxSplits) {

    /** Checks the sizes. */
    FlashConfig {
        if (keyTile < 1 || splitBelowItems < 1 || minKeysPerSplit < keyTile || maxSplits < 1) {
            throw new IllegalArgumentException("invalid flash tiles: keyTile=" + keyTile + ", splitBelowItems="
                    + splitBelowItems + ", minKeysPerSplit=" + minKeysPerSplit + ", maxSplits=" + maxSplits);
        }
    }

    /**
     * The default table: Bk = 64 everywhere (PERF-NOTES prototype). Splitting keys pays once there are
     * fewer work items than a few per core; the split count depends on the problem only, never on the
     * thread count, so results are identical for any parallelism.
     */
    static FlashConfig forProblem(AttentionProblem p) {
        return new FlashConfig(64, 16, 256, 16);
    }

    /** Number of key splits for a problem with {@code items} (batch, head, query tile) items. */
    int splits(int items, int seqK) {
        if (items >= splitBelowItems) {
            return 1;
        }
        return Math.max(1, Math.min(maxSplits, seqK / minKeysPerSplit));
    }
}
