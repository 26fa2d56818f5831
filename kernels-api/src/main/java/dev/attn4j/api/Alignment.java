package dev.attn4j.api;

import java.util.Arrays;

/**
 * Where the diagonal of a causal or sliding-window mask lies: query {@code i} of batch {@code b} is
 * aligned with key {@code i + offset(b)}.
 *
 * <ul>
 *   <li>{@link TopLeft}: offset 0 (PyTorch's {@code is_causal}, ONNX without a cache);</li>
 *   <li>{@link BottomRight}: offset {@code seqK − seqQ}, the last query sees every key (FlashAttention
 *       2.1+, decoding with a cache);</li>
 *   <li>{@link Fixed}: a given offset (ONNX's past length);</li>
 *   <li>{@link PerBatch}: one offset per batch, possibly negative (ONNX's
 *       {@code nonpad_kv_seqlen[b] − seqQ}).</li>
 * </ul>
 */
public sealed interface Alignment {

    /** The offset of batch {@code batch} for the given lengths. */
    int offset(int batch, int seqQ, int seqK);

    /** Offset 0. */
    static Alignment topLeft() {
        return TopLeft.INSTANCE;
    }

    /** Offset {@code seqK − seqQ}. */
    static Alignment bottomRight() {
        return BottomRight.INSTANCE;
    }

    /** A fixed offset. */
    static Alignment fixed(int offset) {
        return new Fixed(offset);
    }

    /** One offset per batch (copied). */
    static Alignment perBatch(int... offsets) {
        return new PerBatch(offsets);
    }

    /** Offset 0. */
    enum TopLeft implements Alignment {
        /** The only instance. */
        INSTANCE;

        @Override
        public int offset(int batch, int seqQ, int seqK) {
            return 0;
        }
    }

    /** Offset {@code seqK − seqQ}. */
    enum BottomRight implements Alignment {
        /** The only instance. */
        INSTANCE;

        @Override
        public int offset(int batch, int seqQ, int seqK) {
            return seqK - seqQ;
        }
    }

    /**
     * A fixed offset.
     *
     * @param value the offset, any int
     */
    record Fixed(int value) implements Alignment {
        @Override
        public int offset(int batch, int seqQ, int seqK) {
            return value;
        }
    }

    /**
     * One offset per batch.
     *
     * @param offsets offset of each batch; its length must equal the problem's batch
     */
    record PerBatch(int[] offsets) implements Alignment {
        /** Copies the offsets. */
        public PerBatch {
            offsets = offsets.clone();
        }

        @Override
        public int[] offsets() {
            return offsets.clone();
        }

        @Override
        public int offset(int batch, int seqQ, int seqK) {
            return offsets[batch];
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof PerBatch p && Arrays.equals(offsets, p.offsets);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(offsets);
        }

        @Override
        public String toString() {
            return "PerBatch" + Arrays.toString(offsets);
        }
    }
}
