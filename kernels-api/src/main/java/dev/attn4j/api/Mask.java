package dev.attn4j.api;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Which keys each query may attend to, as a sealed, composable hierarchy (xFormers' typed biases):
 * kernels recognise the structured kinds and skip whole key tiles they remove, and treat the dense
 * kinds element by element.
 *
 * <ul>
 *   <li>{@link None}: every key is visible.</li>
 *   <li>{@link Causal}: query {@code i} sees key {@code j} only when {@code j ≤ i + offset(b)}.</li>
 *   <li>{@link SlidingWindow}: {@code i + offset(b) − left ≤ j ≤ i + offset(b) + right} — Luong's
 *       local-m attention, Mistral's window.</li>
 *   <li>{@link KeyLengths}: key {@code j} of batch {@code b} is visible only when {@code j < lengths[b]}
 *       (key padding).</li>
 *   <li>{@link BoolMask}: a dense boolean tensor, {@code true} = attend, broadcast numpy-style
 *       against {@code [batch, heads, seqQ, seqK]}.</li>
 *   <li>{@link AdditiveMask}: a dense float tensor added to the scores, broadcast the same way.</li>
 *   <li>{@link All}: the conjunction of several masks (additive values add up).</li>
 * </ul>
 *
 * <p>A query row whose every key is masked (every score −∞) produces a zero output row, never NaN.
 * Masks are validated against the problem by the API before any kernel runs.
 */
public sealed interface Mask permits Mask.None, Mask.Causal, Mask.SlidingWindow, Mask.KeyLengths,
        Mask.BoolMask, Mask.AdditiveMask, Mask.All {

    /** No mask. */
    static Mask none() {
        return None.INSTANCE;
    }

    /** Causal with an explicit alignment of the diagonal. */
    static Mask causal(Alignment alignment) {
        return new Causal(alignment);
    }

    /** Causal aligned top-left: query {@code i} sees keys {@code 0..i}. */
    static Mask causalTopLeft() {
        return new Causal(Alignment.topLeft());
    }

    /** Causal aligned bottom-right: the last query sees every key. */
    static Mask causalBottomRight() {
        return new Causal(Alignment.bottomRight());
    }

    /** A window of {@code left} keys before and {@code right} keys after the aligned diagonal. */
    static Mask slidingWindow(int left, int right, Alignment alignment) {
        return new SlidingWindow(left, right, alignment);
    }

    /** Per-batch key lengths: keys at positions {@code >= lengths[b]} are masked. */
    static Mask keyLengths(int... lengths) {
        return new KeyLengths(lengths);
    }

    /** A dense boolean mask ({@link DType#BOOL}; true = attend). */
    static Mask bool(Tensor mask) {
        return new BoolMask(mask);
    }

    /** A dense additive mask (float; −∞ masks a position). */
    static Mask additive(Tensor mask) {
        return new AdditiveMask(mask);
    }

    /** The conjunction of the given masks; {@link None} parts are dropped and nested ones flattened. */
    static Mask all(Mask... masks) {
        List<Mask> flat = new ArrayList<>();
        for (Mask m : masks) {
            Objects.requireNonNull(m, "mask");
            flat.addAll(m.parts());
        }
        return switch (flat.size()) {
            case 0 -> none();
            case 1 -> flat.get(0);
            default -> new All(flat);
        };
    }

    /** This mask and {@code other}. */
    default Mask and(Mask other) {
        return all(this, other);
    }

    /** The non-composite masks this one is made of (empty for {@link None}). */
    default List<Mask> parts() {
        return switch (this) {
            case None n -> List.of();
            case All a -> a.masks();
            default -> List.of(this);
        };
    }

    /** No mask. */
    enum None implements Mask {
        /** The only instance. */
        INSTANCE
    }

    /**
     * Causal.
     *
     * @param alignment where the diagonal lies
     */
    record Causal(Alignment alignment) implements Mask {
        /** Requires an alignment. */
        public Causal {
            Objects.requireNonNull(alignment, "alignment");
        }
    }

    /**
     * A sliding window around the aligned diagonal, both ends inclusive.
     *
     * @param left      keys visible before the diagonal, ≥ 0 ({@link Integer#MAX_VALUE} = unbounded)
     * @param right     keys visible after the diagonal, ≥ 0 ({@link Integer#MAX_VALUE} = unbounded)
     * @param alignment where the diagonal lies
     */
    record SlidingWindow(int left, int right, Alignment alignment) implements Mask {
        /** Checks the window. */
        public SlidingWindow {
            if (left < 0 || right < 0) {
                throw new IllegalArgumentException("sliding window left (" + left + ") and right (" + right + ") must be >= 0");
            }
            Objects.requireNonNull(alignment, "alignment");
        }
    }

    /**
     * Key lengths per batch.
     *
     * @param lengths number of valid keys of each batch
     */
    record KeyLengths(int[] lengths) implements Mask {
        /** Copies the lengths. */
        public KeyLengths {
            lengths = Objects.requireNonNull(lengths, "lengths").clone();
        }

        @Override
        public int[] lengths() {
            return lengths.clone();
        }

        /** The length of one batch. */
        public int length(int batch) {
            return lengths[batch];
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof KeyLengths k && Arrays.equals(lengths, k.lengths);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(lengths);
        }

        @Override
        public String toString() {
            return "KeyLengths" + Arrays.toString(lengths);
        }
    }

    /**
     * A dense boolean mask.
     *
     * @param mask a {@link DType#BOOL} tensor of rank ≤ 4 broadcastable to {@code [B, H, Sq, Sk]}
     */
    record BoolMask(Tensor mask) implements Mask {
        /** Requires a tensor. */
        public BoolMask {
            Objects.requireNonNull(mask, "mask");
        }
    }

    /**
     * A dense additive mask.
     *
     * @param mask a float tensor of rank ≤ 4 broadcastable to {@code [B, H, Sq, Sk]}
     */
    record AdditiveMask(Tensor mask) implements Mask {
        /** Requires a tensor. */
        public AdditiveMask {
            Objects.requireNonNull(mask, "mask");
        }
    }

    /**
     * A conjunction.
     *
     * @param masks the parts, none of them composite
     */
    record All(List<Mask> masks) implements Mask {
        /** Copies the parts. */
        public All {
            masks = List.copyOf(masks);
        }
    }
}
