package dev.attn4j.simd;

import dev.attn4j.api.DType;
import dev.attn4j.api.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/** The slow but general path: contiguous heap copies of views the fast paths cannot read directly. */
final class Copies {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

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

    /**
     * Copies every logical element of {@code from} into {@code to} (same shape): float32 rows with dense
     * last axes in bulk, anything else element by element.
     */
    static void copy(Tensor from, Tensor to) {
        int[] shape = from.shape();
        int rank = shape.length;
        if (rank > 0 && from.elementCount() > 0 && from.dtype() == DType.FLOAT32 && to.dtype() == DType.FLOAT32
                && from.stride(rank - 1) == 1 && to.stride(rank - 1) == 1) {
            int row = shape[rank - 1];
            int[] outer = Arrays.copyOf(shape, rank - 1);
            int[] idx = new int[rank - 1]; // indexOf of the leading axes alone: the row's first element
            do {
                MemorySegment.copy(from.segment(), F32, from.indexOf(idx) * Float.BYTES, to.segment(), F32,
                        to.indexOf(idx) * Float.BYTES, row);
            } while (Tensor.increment(idx, outer));
            return;
        }
        int[] idx = new int[shape.length];
        long n = from.elementCount();
        for (long i = 0; i < n; i++) {
            to.setFloat(to.indexOf(idx), from.getFloat(from.indexOf(idx)));
            Tensor.increment(idx, shape);
        }
    }

    /**
     * dst[i·width, (i + 1)·width) ← the float32 elements [index + i·stride, … + width) of seg, for i &lt; n:
     * one bulk copy when the rows are packed (the segment checks its own bounds).
     */
    static void rows(MemorySegment seg, long index, long stride, int n, int width, float[] dst) {
        if (stride == width) {
            MemorySegment.copy(seg, F32, index * Float.BYTES, dst, 0, n * width);
            return;
        }
        for (int i = 0; i < n; i++) {
            MemorySegment.copy(seg, F32, (index + i * stride) * Float.BYTES, dst, i * width, width);
        }
    }
}
