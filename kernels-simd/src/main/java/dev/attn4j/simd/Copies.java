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

    /**
     * A heap copy of a broadcast view that keeps its broadcast axes (stride 0) unmaterialized. Worker
     * threads may read it even when the original lives in a thread-confined arena.
     */
    static Tensor heapBroadcast(Tensor t) {
        if (t.array() != null) {
            return t;
        }
        int[] shape = t.shape();
        int[] compact = shape.clone();
        for (int axis = 0; axis < shape.length; axis++) {
            if (t.stride(axis) == 0) {
                compact[axis] = 1;
            }
        }
        Tensor small = Tensor.view(t.segment(), t.dtype(), t.offset(), compact, t.strides());
        return Tensor.of(small.toFloatArray(), compact).broadcastTo(shape);
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
