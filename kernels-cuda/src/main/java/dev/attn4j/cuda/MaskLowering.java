package dev.attn4j.cuda;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Mask;
import dev.attn4j.api.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A mask in the form the kernels take ({@code a4j::Mask} in common.cuh): per batch, query {@code i} sees keys
 * {@code [clamp(i + lo[b]), clamp(min(i + hi[b], lim[b])))}, each array null when no mask bounds it, plus the
 * dense terms broadcast to {@code [B, H, Sq, Sk]}. The same interval {@code MaskEvaluator} computes, which
 * the unit tests check element by element.
 *
 * @param lo        per batch, the first visible key of query 0 (null: 0)
 * @param hi        per batch, one past the last visible key of query 0 (null: unbounded)
 * @param lim       per batch, the key-length limit (null: seqK)
 * @param boolTerms the boolean terms, each a {@code [B, H, Sq, Sk]} view
 * @param addTerms  the additive terms, each a {@code [B, H, Sq, Sk]} view
 */
record MaskLowering(long[] lo, long[] hi, int[] lim, List<Tensor> boolTerms, List<Tensor> addTerms) {
    /** Far enough from the int range that i + shift never overflows a long and always clamps. */
    static final long UNBOUNDED = Long.MAX_VALUE / 4;

    /** Lowers a mask the API has validated for {@code p}. */
    static MaskLowering of(AttentionProblem p, Mask mask) {
        int batch = p.batch();
        long[] lo = null;
        long[] hi = null;
        int[] lim = null;
        List<Tensor> bools = new ArrayList<>();
        List<Tensor> adds = new ArrayList<>();
        int[] target = p.scoreShape();
        for (Mask part : mask.parts()) {
            switch (part) {
                case Mask.Causal c -> {
                    hi = hi != null ? hi : filled(batch, UNBOUNDED);
                    for (int b = 0; b < batch; b++) {
                        hi[b] = Math.min(hi[b], c.alignment().offset(b, p.seqQ(), p.seqK()) + 1L);
                    }
                }
                case Mask.SlidingWindow w -> {
                    lo = lo != null ? lo : filled(batch, -UNBOUNDED);
                    hi = hi != null ? hi : filled(batch, UNBOUNDED);
                    long left = w.left() == Integer.MAX_VALUE ? UNBOUNDED : w.left();
                    long right = w.right() == Integer.MAX_VALUE ? UNBOUNDED : w.right();
                    for (int b = 0; b < batch; b++) {
                        long off = w.alignment().offset(b, p.seqQ(), p.seqK());
                        lo[b] = Math.max(lo[b], off - left);
                        hi[b] = Math.min(hi[b], off + right + 1);
                    }
                }
                case Mask.KeyLengths k -> {
                    if (lim == null) {
                        lim = new int[batch];
                        Arrays.fill(lim, p.seqK());
                    }
                    for (int b = 0; b < batch; b++) {
                        lim[b] = Math.min(lim[b], k.length(b));
                    }
                }
                case Mask.BoolMask m -> bools.add(m.mask().broadcastTo(target));
                case Mask.AdditiveMask m -> adds.add(m.mask().broadcastTo(target));
                case Mask.None n -> { }
                case Mask.All a -> throw new AssertionError("parts() is flat");
            }
        }
        return new MaskLowering(lo, hi, lim, List.copyOf(bools), List.copyOf(adds));
    }

    /** The kernels' {@code key_begin}. */
    int keyBegin(int b, int i, int seqK) {
        if (lo == null) {
            return 0;
        }
        long v = i + lo[b];
        return (int) Math.max(0, Math.min(v, seqK));
    }

    /** The kernels' {@code key_end}. */
    int keyEnd(int b, int i, int seqK) {
        long v = seqK;
        if (hi != null) {
            v = Math.min(v, i + hi[b]);
        }
        if (lim != null) {
            v = Math.min(v, lim[b]);
        }
        return (int) Math.max(0, v);
    }

    /** Whether any dense term is present. */
    boolean hasDense() {
        return !boolTerms.isEmpty() || !addTerms.isEmpty();
    }

    private static long[] filled(int n, long value) {
        long[] a = new long[n];
        Arrays.fill(a, value);
        return a;
    }
}
