package dev.attn4j.api;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Objects;

/**
 * An immutable strided view of memory the caller owns: a {@code float[]} (or {@code byte[]} for
 * booleans) or a {@link MemorySegment}, heap or off-heap. The view never copies: kernels read and
 * write the caller's memory through it.
 *
 * <p>A view is its storage, an element {@link DType}, an element {@linkplain #offset() offset}, a
 * {@linkplain #shape() shape} and one element {@linkplain #strides() stride} per axis. Strides are
 * non-negative; a stride of 0 broadcasts an axis. Every element the view can reach is checked to lie
 * inside its storage when the view is made, so a kernel handed a {@code Tensor} cannot reach past it.
 *
 * <p>Layouts are strides, not code paths: {@link #bhsd} and {@link #bshd} both describe a logical
 * {@code [batch, heads, seq, dim]} tensor, over {@code [B,H,S,D]} and {@code [B,S,H,D]} memory
 * respectively, and {@link #packedQkv} returns three such views into one {@code [B,S,3,H,D]} buffer.
 *
 * <p>Instances are immutable and thread-safe; the memory they view is not protected against
 * concurrent writes by the caller.
 */
public final class Tensor {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    private final MemorySegment segment;
    private final DType dtype;
    private final long offset;
    private final int[] shape;
    private final long[] strides;
    /*
     * Facts derived once per view, read by every call's checks and fast paths: computed per call (an
     * Optional from heapBase(), loops over the axes) they cost a one-token kernel call tens of nanoseconds.
     */
    /** {@link #array()}'s answer. */
    private final float[] array;
    /** The number of logical elements, or −1 where that overflows a long. */
    private final long count;
    /** The largest element index the view reaches (not meaningful for an empty view, which reaches none). */
    private final long lastIndex;

    private Tensor(MemorySegment segment, DType dtype, long offset, int[] shape, long[] strides) {
        this.segment = Objects.requireNonNull(segment, "segment");
        this.dtype = Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(strides, "strides");
        if (shape.length != strides.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has " + shape.length
                    + " axes but strides " + Arrays.toString(strides) + " has " + strides.length);
        }
        if (offset < 0) {
            throw new IllegalArgumentException("offset must be >= 0 but is " + offset);
        }
        long last = offset;
        boolean empty = false;
        for (int axis = 0; axis < shape.length; axis++) {
            if (shape[axis] < 0) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has a negative size on axis " + axis);
            }
            if (strides[axis] < 0) {
                throw new IllegalArgumentException("strides " + Arrays.toString(strides) + " has a negative stride on axis " + axis);
            }
            if (shape[axis] == 0) {
                empty = true;
            } else {
                last = Math.addExact(last, Math.multiplyExact((long) shape[axis] - 1, strides[axis]));
            }
        }
        long capacity = segment.byteSize() / dtype.byteSize();
        if (!empty && last >= capacity) {
            throw new IllegalArgumentException("a view of shape " + Arrays.toString(shape) + ", strides "
                    + Arrays.toString(strides) + " and offset " + offset + " reaches element " + last
                    + " of a storage of " + capacity + " " + dtype + " elements");
        }
        this.offset = offset;
        this.shape = shape.clone();
        this.strides = strides.clone();
        this.array = dtype == DType.FLOAT32 && segment.heapBase().orElse(null) instanceof float[] a
                && segment.address() == 0 && segment.byteSize() == 4L * a.length ? a : null;
        long n;
        try {
            n = count(this.shape);
        } catch (ArithmeticException e) {
            n = -1; // a broadcast view (stride 0) whose element count overflows a long: elementCount() says so
        }
        this.count = n;
        long reach = offset;
        for (int axis = 0; axis < this.shape.length; axis++) {
            reach += (this.shape[axis] - 1L) * this.strides[axis];
        }
        this.lastIndex = reach;
    }

    // ---------------------------------------------------------------- factories

    /** A contiguous row-major float32 view of {@code data} with the given shape, starting at element 0. */
    public static Tensor of(float[] data, int... shape) {
        return view(data, 0, shape, contiguousStrides(shape));
    }

    /** A float32 view of {@code data} with explicit element offset and strides. */
    public static Tensor view(float[] data, long offset, int[] shape, long[] strides) {
        return new Tensor(MemorySegment.ofArray(Objects.requireNonNull(data, "data")), DType.FLOAT32, offset, shape, strides);
    }

    /** A contiguous row-major boolean view of {@code data} (0 = false) with the given shape. */
    public static Tensor ofBooleans(byte[] data, int... shape) {
        return new Tensor(MemorySegment.ofArray(Objects.requireNonNull(data, "data")), DType.BOOL, 0, shape, contiguousStrides(shape));
    }

    /** A contiguous boolean view of {@code values} with the given shape (copied into bytes). */
    public static Tensor ofBooleans(boolean[] values, int... shape) {
        byte[] bytes = new byte[Objects.requireNonNull(values, "values").length];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (values[i] ? 1 : 0);
        }
        return ofBooleans(bytes, shape);
    }

    /** A contiguous row-major view of a memory segment holding elements of {@code dtype}. */
    public static Tensor of(MemorySegment segment, DType dtype, int... shape) {
        return view(segment, dtype, 0, shape, contiguousStrides(shape));
    }

    /** A view of a memory segment with explicit element offset and strides. */
    public static Tensor view(MemorySegment segment, DType dtype, long offset, int[] shape, long[] strides) {
        return new Tensor(segment, dtype, offset, shape, strides);
    }

    /** A new zero-filled contiguous float32 tensor on the heap. */
    public static Tensor zeros(int... shape) {
        return of(new float[Math.toIntExact(count(shape))], shape);
    }

    /** Logical {@code [batch, heads, seq, dim]} over contiguous {@code [B,H,S,D]} memory. */
    public static Tensor bhsd(float[] data, int batch, int heads, int seq, int dim) {
        return of(data, batch, heads, seq, dim);
    }

    /** Logical {@code [batch, heads, seq, dim]} over contiguous {@code [B,S,H,D]} memory. */
    public static Tensor bshd(float[] data, int batch, int seq, int heads, int dim) {
        long d = dim;
        return view(data, 0, new int[] {batch, heads, seq, dim},
                new long[] {(long) seq * heads * d, d, (long) heads * d, 1});
    }

    /**
     * Q, K and V as three logical {@code [batch, heads, seq, dim]} views of one packed
     * {@code [B,S,3,H,D]} buffer, the output layout of a fused QKV projection.
     */
    public static Tensor[] packedQkv(float[] data, int batch, int seq, int heads, int dim) {
        long d = dim;
        long[] strides = {(long) seq * 3 * heads * d, d, 3L * heads * d, 1};
        int[] shape = {batch, heads, seq, dim};
        Tensor[] qkv = new Tensor[3];
        for (int part = 0; part < 3; part++) {
            qkv[part] = view(data, part * heads * d, shape, strides);
        }
        return qkv;
    }

    /** Row-major strides of a contiguous tensor of the given shape. */
    public static long[] contiguousStrides(int... shape) {
        long[] strides = new long[shape.length];
        long s = 1;
        for (int axis = shape.length - 1; axis >= 0; axis--) {
            strides[axis] = s;
            s *= Math.max(shape[axis], 1);
        }
        return strides;
    }

    /** The number of elements of a shape (1 for a scalar). */
    public static long count(int... shape) {
        long n = 1;
        for (int s : shape) {
            if (s < 0) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has a negative size");
            }
            n = Math.multiplyExact(n, s);
        }
        return n;
    }

    // ---------------------------------------------------------------- accessors

    /** The storage this view reads and writes. */
    public MemorySegment segment() {
        return segment;
    }

    /** The element type of the storage. */
    public DType dtype() {
        return dtype;
    }

    /** Index of the view's first element in its storage, in elements. */
    public long offset() {
        return offset;
    }

    /** Number of axes. */
    public int rank() {
        return shape.length;
    }

    /** A copy of the shape. */
    public int[] shape() {
        return shape.clone();
    }

    /** Size of one axis; negative axes count from the end. */
    public int dim(int axis) {
        return shape[normalizeAxis(axis)];
    }

    /** A copy of the element strides. */
    public long[] strides() {
        return strides.clone();
    }

    /** Element stride of one axis; negative axes count from the end. */
    public long stride(int axis) {
        return strides[normalizeAxis(axis)];
    }

    /** The number of logical elements. */
    public long elementCount() {
        return count >= 0 ? count : count(shape);
    }

    /**
     * The {@code float[]} behind this view when it is a float32 view of a heap array, else
     * {@code null}. Backends use it for array fast paths; element {@code i} of the view's storage is
     * {@code array()[i]}.
     */
    public float[] array() {
        return array;
    }

    /** Whether the elements are laid out contiguously in row-major order. */
    public boolean isContiguous() {
        long expected = 1;
        for (int axis = shape.length - 1; axis >= 0; axis--) {
            if (shape[axis] != 1 && strides[axis] != expected) {
                return false;
            }
            expected *= shape[axis];
        }
        return true;
    }

    /** Storage index of the element at the given logical index (not bounds-checked per axis). */
    public long indexOf(int... index) {
        long at = offset;
        for (int axis = 0; axis < index.length; axis++) {
            at += index[axis] * strides[axis];
        }
        return at;
    }

    /** Reads the storage element at {@code storageIndex}, widened to float. */
    public float getFloat(long storageIndex) {
        return switch (dtype) {
            case FLOAT32 -> segment.getAtIndex(F32, storageIndex);
            case FLOAT16 -> Float.float16ToFloat(segment.getAtIndex(F16, storageIndex));
            case BFLOAT16 -> Float.intBitsToFloat(segment.getAtIndex(F16, storageIndex) << 16);
            case BOOL -> segment.get(ValueLayout.JAVA_BYTE, storageIndex) != 0 ? 1f : 0f;
        };
    }

    /** Writes the storage element at {@code storageIndex}, narrowed from float. */
    public void setFloat(long storageIndex, float value) {
        switch (dtype) {
            case FLOAT32 -> segment.setAtIndex(F32, storageIndex, value);
            case FLOAT16 -> segment.setAtIndex(F16, storageIndex, Float.floatToFloat16(value));
            case BFLOAT16 -> segment.setAtIndex(F16, storageIndex, bfloat16(value));
            case BOOL -> segment.set(ValueLayout.JAVA_BYTE, storageIndex, (byte) (value != 0f ? 1 : 0));
        }
    }

    /** Reads the element at a logical index. */
    public float get(int... index) {
        return getFloat(indexOf(checkIndex(index)));
    }

    /** Writes the element at a logical index. */
    public void set(float value, int... index) {
        setFloat(indexOf(checkIndex(index)), value);
    }

    /**
     * Copies the logical elements, in row-major order, into a new array: float32 rows with a dense last
     * axis in bulk (one {@code MemorySegment.copy} per row: element by element, a 4 M-float off-heap KV
     * cache took 18–28 ms), anything else element by element.
     */
    public float[] toFloatArray() {
        float[] out = new float[Math.toIntExact(elementCount())];
        int rank = shape.length;
        if (out.length > 0 && rank > 0 && dtype == DType.FLOAT32 && strides[rank - 1] == 1) {
            int[] at = {0};
            forEachRun(0, (start, end) -> {
                int count = (int) ((end - start) / Float.BYTES);
                MemorySegment.copy(segment, F32, start, out, at[0], count);
                at[0] += count;
                return false;
            });
            return out;
        }
        int[] idx = new int[shape.length];
        for (int n = 0; n < out.length; n++) {
            out[n] = getFloat(indexOf(idx));
            increment(idx, shape);
        }
        return out;
    }

    // ---------------------------------------------------------------- views

    /** A view with the axes reordered: axis {@code i} of the result is axis {@code order[i]} of this. */
    public Tensor permute(int... order) {
        if (order.length != shape.length) {
            throw new IllegalArgumentException("permute order " + Arrays.toString(order) + " must name all " + shape.length + " axes");
        }
        int[] s = new int[order.length];
        long[] st = new long[order.length];
        boolean[] seen = new boolean[order.length];
        for (int i = 0; i < order.length; i++) {
            int axis = normalizeAxis(order[i]);
            if (seen[axis]) {
                throw new IllegalArgumentException("permute order " + Arrays.toString(order) + " names axis " + axis + " twice");
            }
            seen[axis] = true;
            s[i] = shape[axis];
            st[i] = strides[axis];
        }
        return new Tensor(segment, dtype, offset, s, st);
    }

    /** The sub-view {@code [start, start + length)} along one axis. */
    public Tensor narrow(int axis, int start, int length) {
        int a = normalizeAxis(axis);
        Objects.checkFromIndexSize(start, length, shape[a]);
        int[] s = shape.clone();
        s[a] = length;
        return new Tensor(segment, dtype, offset + (length == 0 ? 0 : start * strides[a]), s, strides);
    }

    /** The view with one axis fixed at {@code index} and removed. */
    public Tensor select(int axis, int index) {
        int a = normalizeAxis(axis);
        Objects.checkIndex(index, shape[a]);
        int[] s = new int[shape.length - 1];
        long[] st = new long[shape.length - 1];
        for (int i = 0, j = 0; i < shape.length; i++) {
            if (i != a) {
                s[j] = shape[i];
                st[j++] = strides[i];
            }
        }
        return new Tensor(segment, dtype, offset + index * strides[a], s, st);
    }

    /** The view with a new axis of size 1 inserted at {@code axis} (0 ≤ axis ≤ rank). */
    public Tensor unsqueeze(int axis) {
        if (axis < 0 || axis > shape.length) {
            throw new IllegalArgumentException("unsqueeze axis " + axis + " is out of range for rank " + shape.length);
        }
        int[] s = new int[shape.length + 1];
        long[] st = new long[shape.length + 1];
        for (int i = 0, j = 0; i < s.length; i++) {
            if (i == axis) {
                s[i] = 1;
            } else {
                s[i] = shape[j];
                st[i] = strides[j++];
            }
        }
        return new Tensor(segment, dtype, offset, s, st);
    }

    /** Storage index of the {@code linear}-th element in row-major logical order. */
    public long indexOfLinear(long linear) {
        long at = offset;
        for (int axis = shape.length - 1; axis >= 0; axis--) {
            int size = shape[axis];
            at += (linear % size) * strides[axis];
            linear /= size;
        }
        return at;
    }

    /** A view of a contiguous tensor with another shape of the same element count. */
    public Tensor reshape(int... newShape) {
        if (!isContiguous()) {
            throw new IllegalArgumentException("only a contiguous view can be reshaped; this one has shape "
                    + Arrays.toString(shape) + " and strides " + Arrays.toString(strides));
        }
        if (count(newShape) != elementCount()) {
            throw new IllegalArgumentException("cannot reshape " + Arrays.toString(shape) + " (" + elementCount()
                    + " elements) to " + Arrays.toString(newShape) + " (" + count(newShape) + " elements)");
        }
        return new Tensor(segment, dtype, offset, newShape, contiguousStrides(newShape));
    }

    /**
     * A view broadcast numpy-style to {@code target}: axes are aligned from the right, a size-1 axis
     * (or a missing leading axis) is repeated with stride 0.
     *
     * @throws IllegalArgumentException if the shapes are not broadcast-compatible
     */
    public Tensor broadcastTo(int... target) {
        if (shape.length > target.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has more axes than "
                    + Arrays.toString(target) + " and cannot broadcast to it");
        }
        long[] st = new long[target.length];
        int lead = target.length - shape.length;
        for (int axis = 0; axis < shape.length; axis++) {
            int t = target[lead + axis];
            if (shape[axis] == t) {
                st[lead + axis] = strides[axis];
            } else if (shape[axis] == 1) {
                st[lead + axis] = 0;
            } else {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " cannot broadcast to "
                        + Arrays.toString(target) + ": axis " + axis + " has size " + shape[axis]);
            }
        }
        return new Tensor(segment, dtype, offset, target.clone(), st);
    }

    /** Whether the storage bytes this view can reach overlap those of {@code other}. */
    public boolean overlaps(Tensor other) {
        if (count == 0 || other.count == 0) {
            return false;
        }
        if (array != null && other.array != null && array != other.array) {
            return false; // two float arrays: no storage in common
        }
        MemorySegment a = segment;
        MemorySegment b = other.segment;
        if (a.isNative() != b.isNative()) {
            return false;
        }
        if (!a.isNative() && a.heapBase().orElse(null) != b.heapBase().orElse(null)) {
            return false;
        }
        long aFirst = a.address() + offset * dtype.byteSize();
        long aEnd = a.address() + (lastIndex + 1) * dtype.byteSize();
        long bFirst = b.address() + other.offset * other.dtype.byteSize();
        long bEnd = b.address() + (other.lastIndex + 1) * other.dtype.byteSize();
        if (aFirst >= bEnd || bFirst >= aEnd) {
            return false;
        }
        // The byte ranges intersect; interleaved views (Q, K and V of one packed buffer) still need not
        // share an element. Mark this view's bytes inside the intersection, then probe the other's.
        long lo = Math.max(aFirst, bFirst);
        long hi = Math.min(aEnd, bEnd);
        java.util.BitSet mine = new java.util.BitSet(Math.toIntExact(hi - lo));
        forEachRun(a.address(), (start, end) -> {
            long s0 = Math.max(start, lo);
            long e0 = Math.min(end, hi);
            if (s0 < e0) {
                mine.set((int) (s0 - lo), (int) (e0 - lo));
            }
            return false;
        });
        return other.forEachRun(b.address(), (start, end) -> {
            long s0 = Math.max(start, lo);
            long e0 = Math.min(end, hi);
            if (s0 >= e0) {
                return false;
            }
            int next = mine.nextSetBit((int) (s0 - lo));
            return next >= 0 && next < e0 - lo;
        });
    }

    /** Receives one run of contiguous bytes [start, end); returns true to stop. */
    private interface RunVisitor {
        boolean visit(long start, long end);
    }

    /** Visits the byte runs of this view (one per innermost row when its stride is 1); true if a visit stopped. */
    private boolean forEachRun(long base, RunVisitor visitor) {
        int rank = shape.length;
        long size = dtype.byteSize();
        if (rank == 0) {
            return visitor.visit(base + offset * size, base + (offset + 1) * size);
        }
        boolean rows = strides[rank - 1] == 1;
        int[] outer = rows ? Arrays.copyOf(shape, rank - 1) : shape.clone();
        long runBytes = rows ? shape[rank - 1] * size : size;
        int[] idx = new int[outer.length];
        long count = count(outer);
        for (long n = 0; n < count; n++) {
            long at = offset;
            for (int axis = 0; axis < idx.length; axis++) {
                at += idx[axis] * strides[axis];
            }
            long start = base + at * size;
            if (visitor.visit(start, start + runBytes)) {
                return true;
            }
            increment(idx, outer);
        }
        return false;
    }

    /** Whether this view has {@code other}'s shape (no copies). */
    boolean hasShapeOf(Tensor other) {
        return Arrays.equals(shape, other.shape);
    }

    /** Whether this is {@code other}'s view exactly: the same storage, element type, offset, shape and strides. */
    boolean sameViewAs(Tensor other) {
        if (this == other) {
            return true;
        }
        boolean sameStorage = array != null ? array == other.array
                : segment.address() == other.segment.address()
                        && segment.heapBase().orElse(null) == other.segment.heapBase().orElse(null);
        return sameStorage && offset == other.offset && dtype == other.dtype && Arrays.equals(shape, other.shape)
                && Arrays.equals(strides, other.strides);
    }

    @Override
    public String toString() {
        return "Tensor[" + dtype + " shape=" + Arrays.toString(shape) + " strides=" + Arrays.toString(strides)
                + " offset=" + offset + "]";
    }

    // ---------------------------------------------------------------- helpers

    /** Advances a row-major multi-index over {@code shape}; returns false after the last index. */
    public static boolean increment(int[] index, int[] shape) {
        for (int axis = index.length - 1; axis >= 0; axis--) {
            if (++index[axis] < shape[axis]) {
                return true;
            }
            index[axis] = 0;
        }
        return false;
    }

    private int normalizeAxis(int axis) {
        int a = axis < 0 ? axis + shape.length : axis;
        if (a < 0 || a >= shape.length) {
            throw new IllegalArgumentException("axis " + axis + " is out of range for rank " + shape.length);
        }
        return a;
    }

    private int[] checkIndex(int[] index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("index " + Arrays.toString(index) + " must have " + shape.length + " components");
        }
        for (int axis = 0; axis < index.length; axis++) {
            Objects.checkIndex(index[axis], shape[axis]);
        }
        return index;
    }

    private static short bfloat16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        // round to nearest even on the 16 bits dropped
        int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }
}
