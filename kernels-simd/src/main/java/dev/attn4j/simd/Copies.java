package dev.attn4j.simd;

import dev.attn4j.api.Tensor;

/** The slow but general path: contiguous heap copies of views the fast paths cannot read directly. */
final class Copies {
    private Copies() {
    }

    /** A contiguous heap float32 copy of {@code t} (same shape). */
    static Tensor heap(Tensor t) {
        if (t.array() != null && t.isContiguous()) {
            return t;
        }
        return Tensor.of(t.toFloatArray(), t.shape());
    }

    /** Copies every logical element of {@code from} into {@code to} (same shape). */
    static void copy(Tensor from, Tensor to) {
        int[] shape = from.shape();
        int[] idx = new int[shape.length];
        long n = from.elementCount();
        for (long i = 0; i < n; i++) {
            to.setFloat(to.indexOf(idx), from.getFloat(from.indexOf(idx)));
            Tensor.increment(idx, shape);
        }
    }
}
