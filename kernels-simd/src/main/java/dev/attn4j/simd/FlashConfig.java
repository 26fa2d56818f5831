package dev.attn4j.simd;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Mask;

/**
 * Tile sizes of the fused attention kernel, the one place they come from (the autotuner drives them
 * through {@link #forProblem} or by passing its own instance).
 *
 * <p>The query tile is fixed by the micro-kernels at two vectors of rows ({@link FlashAttention#BQ}:
 * 32 rows at 512 bits). PERF-NOTES: Bq 32–64 with Bk 64 was best, Bk 128 ≈ 10 % slower — on the
 * prototype; here, with the output tile's rescale folded into the P·V kernel, Bk 512 wins without a
 * diagonal mask (see {@link #forProblem(AttentionProblem, Mask)}).
 *
 * @param keyTile           keys per tile (Bk), ≥ 1
 * @param splitBelowItems   split keys across work items when batch·heads·query tiles is below this
 *                          (decode: few query rows against a long cache), ≥ 1
 * @param minKeysPerSplit   the fewest keys a split gets, ≥ keyTile
 * @param maxSplits         the most splits of one query tile's keys, ≥ 1
 * @param queryTilesPerItem query tiles one work item runs together over each K/V tile (K/V reuse), ≥ 1
 */
record FlashConfig(int keyTile, int splitBelowItems, int minKeysPerSplit, int maxSplits, int queryTilesPerItem) {

    /** Checks the sizes. */
    FlashConfig {
        if (keyTile < 1 || splitBelowItems < 1 || minKeysPerSplit < keyTile || maxSplits < 1 || queryTilesPerItem < 1) {
            throw new IllegalArgumentException("invalid flash tiles: keyTile=" + keyTile + ", splitBelowItems="
                    + splitBelowItems + ", minKeysPerSplit=" + minKeysPerSplit + ", maxSplits=" + maxSplits
                    + ", queryTilesPerItem=" + queryTilesPerItem);
        }
    }

    /** Keys per K (then V) tile of the decode passes: 512 at 512 bits, else 64 (see {@link #forProblem}). */
    static final int DECODE_KEY_TILE = Vec.L == 16 ? 512 : 64;

    /**
     * The default table (ESTIMATE), each rule from a measurement on the development machine:
     * <ul>
     * <li>Bk = 512 when no causal or sliding-window mask cuts the rows and there are ≥ 512 keys: the P·V
     * kernel loads and stores the output tile once per key tile, and the online softmax's per-tile
     * bookkeeping is paid once per 512 keys (exhaustive tuning at S = 512 and 2048, D = 64: Bk 256 with 8
     * query tiles per pass 5–15 % faster than Bk 64 with 4; then, with the score tile shared by a pass's
     * query tiles, in-process A/B call by call against Bk 256: S = 512 1.005–1.010× warm and after an
     * eviction of the caches, S = 1024 1.011×, S = 2048 1.006× and 1.007×; D = 128 unchanged, 0.997× and
     * 1.000×). With a diagonal mask Bk stays 64: the tiles
     * that cross the diagonal run in full, and larger ones waste more (Bk 256 measured 5–20 % slower on
     * causal prefill), as do short rows.
     * <li>Splitting keys pays once there are fewer work items than a few per core; the split count
     * depends on the problem and the machine's core count ({@code availableProcessors}), never on the
     * thread count a call runs with ({@code -Dattn4j.threads}, the executor), so on one machine results
     * are identical for any parallelism (across machines they already differ with the vector width).
     * Decode (its items are KV groups) splits into about four items per core, at most 16 splits, each at
     * least 512 keys: every split restarts the K and V streams and has its own merge, a cost finer balance
     * did not repay (B=1, H=32, KVH=8, Sk=4096, D=128, in-process A/B call by call on the 2-core Zen 5 VM:
     * one thread, 4 and 8 splits 1.037× and 1.075–1.085× slower than one; two threads, 2 splits — the
     * former 16-item rule — 1.04–1.06× slower than one, warm and after a cache eviction; exhaustive tuning
     * on the Sapphire Rapids VM: 4 splits 1.10–1.12× faster than 16).
     * <li>Decode reads K, then V, in tiles of Bk = {@link #DECODE_KEY_TILE} keys for every query row of a KV
     * group, whatever the mask (a decode row's masked keys are skipped by its visible range, not by tiles):
     * at 512 bits 512 keys (128–512 KiB at D = 64–256: in L2, not L1), else 64. In-process A/B of the GQA
     * decode step (B=1, H=32, KVH=8, Sk=4096, D=128) call by call on the 2-core Zen 4 VM, against the former
     * 64-key tiles (32 KiB, in L1):
     * 1.17–1.20× warm, 1.11× after a cache eviction (256 keys 1.10–1.15×; 1024 0.97–1.01× of 512, 2048
     * 0.89–0.92×; the whole 4096 0.85× of 256); D = 64 1.07–1.08× warm, 1.02–1.03× cold; D = 256 (Sk = 2048) 1.04×
     * warm; MHA (KVH = 32, Sk = 2048) 1.04×; D = 64 and D = 256 flat from 256 to 1024 keys. (Why, a guess the
     * A/Bs fit: a group's first row pair streams each tile from memory while the others read it again from
     * the cache, and the hardware prefetchers keep a long stream further ahead than one broken off every 64
     * keys; tiles under 64 keys were slower still, and alternating two streams at a fine grain did not help.)
     * The narrower widths run other kernels (K in key order, no halves): at 256 bits 512 keys were 0.94× of
     * 64, 256 keys 0.96–1.00×, 128 keys 1.02–1.04×, 32 keys 0.93–0.96×; at 128 bits 512 keys 1.03–1.06×
     * (forced on this AVX-512 machine, so not the NEON or SSE machines a 128-bit species means): 64 there.
     * <li>Query tiles share each pass over K/V once there are enough of them. Without a diagonal mask (every query tile
     * of a head sees the same keys) a pass takes as many of a head's tiles as keep their Qt and Ot within
     * 512 KiB of L2 (32 tiles at D = 64), while ≥ 4 items per thread remain for balance (measured with Bk 256): in-process A/B
     * against 8 tiles, call by call, S = 512 (16 tiles, a whole head) 1.010× and 1.014× warm, 1.018× and
     * 1.035× after an eviction of the caches; S = 2048 (32) 1.065× and 1.068×, 64 tiles 1.073× and 1.016×;
     * S = 4096 (32) 1.057×. A group runs each of its tiles through the same key tiles in the same order as
     * alone, so the grouping, and with it the thread count here, does not change the result. Otherwise 4
     * tiles with ≥ 64 in all, else 1.
     * </ul>
     */
    static FlashConfig forProblem(AttentionProblem p, Mask mask) {
        if (FlashAttention.decode(p)) {
            // decode: its own key tile, and no query tiles to group
            long groups = FlashAttention.unsplitItems(p);
            long items = 4L * Runtime.getRuntime().availableProcessors();
            int maxSplits = (int) Math.max(1, Math.min(16, (items + groups - 1) / groups));
            return new FlashConfig(DECODE_KEY_TILE, 16, 512, maxSplits, 1);
        }
        int bq = FlashAttention.BQ;
        int tilesPerHead = (p.seqQ() + bq - 1) / bq;
        long tiles = (long) p.batch() * p.heads() * tilesPerHead;
        boolean wide = p.seqK() >= 512 && !diagonal(mask);
        int keyTile = wide ? 512 : 64;
        int perItem = tiles >= 64 ? 4 : 1;
        if (wide) {
            long tileBytes = (long) (p.headDim() + p.valueDim()) * bq * Float.BYTES;
            long fit = Math.max(1, (512 << 10) / tileBytes);
            long balanced = Math.max(1, tiles / (4L * Parallel.threads()));
            perItem = (int) Math.min(Math.min(fit, tilesPerHead), balanced);
        }
        return new FlashConfig(keyTile, 16, Math.max(256, keyTile), 16, perItem);
    }

    /** Whether the mask cuts rows along a diagonal band (causal or sliding window, alone or composed). */
    private static boolean diagonal(Mask mask) {
        return switch (mask) {
            case Mask.Causal c -> true;
            case Mask.SlidingWindow w -> true;
            case Mask.All all -> all.masks().stream().anyMatch(FlashConfig::diagonal);
            default -> false;
        };
    }

    /** Number of key splits for a problem with {@code items} (batch, head, query tile) items. */
    int splits(int items, int seqK) {
        if (items >= splitBelowItems) {
            return 1;
        }
        return Math.max(1, Math.min(maxSplits, seqK / minKeysPerSplit));
    }
}
