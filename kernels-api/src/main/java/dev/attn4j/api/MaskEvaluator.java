package dev.attn4j.api;

import java.util.ArrayList;
import java.util.List;

/**
 * A mask bound to one problem's sizes, for backends: the visible key range of each query row from
 * the structured masks (causal, window, key lengths), and the dense terms pre-broadcast to
 * {@code [batch, heads, seqQ, seqK]}.
 *
 * <p>For query {@code i} of batch {@code b} the structured masks leave the keys
 * {@code [keyBegin(b, i), keyEnd(b, i))} — an interval, possibly empty, whose ends never decrease as
 * {@code i} grows — so a kernel can skip a tile of keys that lies outside the range of every row of
 * its query tile. Inside the range the dense terms decide: {@link #denseBias} is the sum of the
 * additive masks, or −∞ where a boolean mask says false.
 *
 * <p>Immutable and thread-safe. Built by {@link #of} from a mask the API has validated.
 */
public final class MaskEvaluator {
    private static final long UNBOUNDED = Long.MAX_VALUE / 4;

    private final int seqQ;
    private final int seqK;
    /** Per batch: the smallest visible key of query 0 is {@code i + lowShift[b]}, clamped. */
    private final long[] lowShift;
    /** Per batch: one past the largest visible key of query i is {@code i + highShift[b]}, clamped. */
    private final long[] highShift;
    /** Per batch: keys at and past this are invisible (key lengths). */
    private final int[] keyLimit;
    private final Tensor[] boolTerms;
    private final Tensor[] additiveTerms;
    private final boolean structured;

    private MaskEvaluator(AttentionProblem p, Mask mask) {
        seqQ = p.seqQ();
        seqK = p.seqK();
        int batch = p.batch();
        lowShift = new long[batch];
        highShift = new long[batch];
        keyLimit = new int[batch];
        java.util.Arrays.fill(lowShift, -UNBOUNDED);
        java.util.Arrays.fill(highShift, UNBOUNDED);
        java.util.Arrays.fill(keyLimit, seqK);
        List<Tensor> bools = new ArrayList<>();
        List<Tensor> adds = new ArrayList<>();
        int[] target = p.scoreShape();
        boolean anyStructured = false;
        for (Mask part : mask.parts()) {
            switch (part) {
                case Mask.Causal c -> {
                    anyStructured = true;
                    for (int b = 0; b < batch; b++) {
                        long off = c.alignment().offset(b, seqQ, seqK);
                        highShift[b] = Math.min(highShift[b], off + 1);
                    }
                }
                case Mask.SlidingWindow w -> {
                    anyStructured = true;
                    for (int b = 0; b < batch; b++) {
                        long off = w.alignment().offset(b, seqQ, seqK);
                        long left = w.left() == Integer.MAX_VALUE ? UNBOUNDED : w.left();
                        long right = w.right() == Integer.MAX_VALUE ? UNBOUNDED : w.right();
                        lowShift[b] = Math.max(lowShift[b], off - left);
                        highShift[b] = Math.min(highShift[b], off + right + 1);
                    }
                }
                case Mask.KeyLengths k -> {
                    anyStructured = true;
                    for (int b = 0; b < batch; b++) {
                        keyLimit[b] = Math.min(keyLimit[b], k.length(b));
                    }
                }
                case Mask.BoolMask m -> bools.add(m.mask().broadcastTo(target));
                case Mask.AdditiveMask m -> adds.add(m.mask().broadcastTo(target));
                case Mask.None n -> { }
                case Mask.All a -> throw new AssertionError("parts() is flat");
            }
        }
        structured = anyStructured;
        boolTerms = bools.toArray(Tensor[]::new);
        additiveTerms = adds.toArray(Tensor[]::new);
    }

    /** Binds {@code mask} to the sizes of {@code problem}; the mask must have been validated for it. */
    public static MaskEvaluator of(AttentionProblem problem, Mask mask) {
        return new MaskEvaluator(problem, mask);
    }

    /** First key visible to query {@code i} of batch {@code b} under the structured masks. */
    public int keyBegin(int b, int i) {
        long lo = i + lowShift[b];
        return (int) Math.max(0, Math.min(lo, seqK));
    }

    /** One past the last key visible to query {@code i} of batch {@code b}; ≤ keyBegin means none. */
    public int keyEnd(int b, int i) {
        long hi = Math.min(i + highShift[b], keyLimit[b]);
        return (int) Math.max(0, Math.min(hi, seqK));
    }

    /** Whether any causal, window or key-length mask is present. */
    public boolean hasStructured() {
        return structured;
    }

    /** Whether any dense (boolean or additive) term is present. */
    public boolean hasDense() {
        return boolTerms.length + additiveTerms.length > 0;
    }

    /** The boolean terms, each a {@code [B, H, Sq, Sk]} view (stride 0 on broadcast axes). */
    public List<Tensor> boolTerms() {
        return List.of(boolTerms);
    }

    /** The additive terms, each a {@code [B, H, Sq, Sk]} view (stride 0 on broadcast axes). */
    public List<Tensor> additiveTerms() {
        return List.of(additiveTerms);
    }

    /** Sum of the additive terms at (b, h, i, j), or −∞ where a boolean term is false. */
    public float denseBias(int b, int h, int i, int j) {
        for (Tensor t : boolTerms) {
            if (t.getFloat(t.indexOf(b, h, i, j)) == 0f) {
                return Float.NEGATIVE_INFINITY;
            }
        }
        float sum = 0f;
        for (Tensor t : additiveTerms) {
            sum += t.getFloat(t.indexOf(b, h, i, j));
        }
        return sum;
    }

    /** The whole mask at (b, h, i, j): −∞ outside the structured range, else {@link #denseBias}. */
    public float bias(int b, int h, int i, int j) {
        if (j < keyBegin(b, i) || j >= keyEnd(b, i)) {
            return Float.NEGATIVE_INFINITY;
        }
        return hasDense() ? denseBias(b, h, i, j) : 0f;
    }
}
