package dev.attn4j.testing;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.DType;
import dev.attn4j.api.Kernels;
import dev.attn4j.api.Tensor;
import dev.attn4j.reference.ReferenceBackend;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Shared pieces of the parity tests: the float64 oracle, seeded random tensors, the layouts a backend
 * must accept, and the relative-tolerance comparison that names the seed on failure.
 */
public final class Fixtures {
    /** The oracle every backend is compared with. */
    public static final Kernels ORACLE = Kernels.of(new ReferenceBackend());

    /** Sizes that are not multiples of any vector length, and the ones right around them. */
    public static final int[] SIZES = {1, 3, 7, 15, 16, 17, 31, 33, 63, 65, 127, 129};

    /** Head dims, odd ones included. */
    public static final int[] HEAD_DIMS = {1, 8, 40, 59, 64, 80, 111, 128, 256};

    private Fixtures() {
    }

    /** The memory layouts of Q/K/V/out a backend must accept for the same logical tensor. */
    public enum Layout {
        /** Contiguous [B,H,S,D] on the heap. */
        BHSD,
        /** Contiguous [B,S,H,D] on the heap. */
        BSHD,
        /** [B,H,S,D] off-heap in a MemorySegment. */
        OFF_HEAP,
        /** [B,H,S,D] inside a larger heap array, at an offset, with padded rows. */
        PADDED
    }

    /** Uniform values in [lo, hi), seeded. */
    public static float[] random(SplittableRandom rnd, int n, float lo, float hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = lo + (hi - lo) * (float) rnd.nextDouble();
        }
        return a;
    }

    /** A logical [d0,d1,d2,d3] tensor in {@code layout} holding {@code values} (given in [d0,d1,d2,d3] order). */
    public static Tensor place(float[] values, int[] shape, Layout layout, Arena arena) {
        int b = shape[0];
        int h = shape[1];
        int s = shape[2];
        int d = shape[3];
        Tensor t = switch (layout) {
            case BHSD -> Tensor.bhsd(new float[values.length], b, h, s, d);
            case BSHD -> Tensor.bshd(new float[values.length], b, s, h, d);
            case OFF_HEAP -> Tensor.of(arena.allocate(4L * values.length, 64), DType.FLOAT32, b, h, s, d);
            case PADDED -> {
                int row = d + 3;
                float[] big = new float[7 + b * h * s * row + 5];
                Arrays.fill(big, Float.NaN);
                yield Tensor.view(big, 7, shape, new long[] {(long) h * s * row, (long) s * row, row, 1});
            }
        };
        copyInto(values, t);
        return t;
    }

    /** Writes {@code values} (row-major logical order) into {@code t}. */
    public static void copyInto(float[] values, Tensor t) {
        for (int n = 0; n < values.length; n++) {
            t.setFloat(t.indexOfLinear(n), values[n]);
        }
    }

    /** Fills every element of a view with NaN, so that an element a kernel forgets to write shows up. */
    public static void poison(Tensor t) {
        long n = t.elementCount();
        for (long i = 0; i < n; i++) {
            t.setFloat(t.indexOfLinear(i), Float.NaN);
        }
    }

    /** An off-heap copy of a float array as a tensor of the given shape. */
    public static Tensor offHeap(Arena arena, float[] values, int... shape) {
        MemorySegment seg = arena.allocate(4L * values.length, 64);
        MemorySegment.copy(values, 0, seg, ValueLayout.JAVA_FLOAT, 0, values.length);
        return Tensor.of(seg, DType.FLOAT32, shape);
    }

    /**
     * Asserts |got − want| ≤ tol·max(1, |want|) element-wise; equal infinities match; NaN never does.
     * The message names the first bad element, its logical index, the seed and the context.
     */
    public static double assertClose(String what, Tensor want, Tensor got, double tol, long seed) {
        if (!Arrays.equals(want.shape(), got.shape())) {
            throw new AssertionError(what + ": shape " + Arrays.toString(got.shape()) + " != " + Arrays.toString(want.shape()));
        }
        double worst = 0;
        long n = want.elementCount();
        int[] shape = want.shape();
        for (long i = 0; i < n; i++) {
            float w = want.getFloat(want.indexOfLinear(i));
            float g = got.getFloat(got.indexOfLinear(i));
            if (Float.isNaN(g) || Float.isNaN(w)) {
                throw new AssertionError(what + ": NaN at " + Arrays.toString(unravel(i, shape)) + " (want " + w + ", got "
                        + g + "), seed " + seed);
            }
            if (Float.isInfinite(w) || Float.isInfinite(g)) {
                if (w != g) {
                    throw new AssertionError(what + ": at " + Arrays.toString(unravel(i, shape)) + " want " + w + " got " + g
                            + ", seed " + seed);
                }
                continue;
            }
            double err = Math.abs((double) g - w);
            double bound = tol * Math.max(1.0, Math.abs(w));
            worst = Math.max(worst, err / Math.max(1.0, Math.abs(w)));
            if (err > bound) {
                throw new AssertionError(what + ": at " + Arrays.toString(unravel(i, shape)) + " want " + w + " got " + g
                        + " (|Δ| = " + err + " > " + bound + "), seed " + seed);
            }
        }
        return worst;
    }

    /** Asserts two tensors hold bit-identical values. */
    public static void assertIdentical(String what, Tensor want, Tensor got) {
        long n = want.elementCount();
        for (long i = 0; i < n; i++) {
            int w = Float.floatToIntBits(want.getFloat(want.indexOfLinear(i)));
            int g = Float.floatToIntBits(got.getFloat(got.indexOfLinear(i)));
            if (w != g) {
                throw new AssertionError(what + ": element " + Arrays.toString(unravel(i, want.shape())) + " differs: "
                        + Float.intBitsToFloat(w) + " vs " + Float.intBitsToFloat(g));
            }
        }
    }

    /** Row-major multi-index of a linear index. */
    public static int[] unravel(long linear, int[] shape) {
        int[] idx = new int[shape.length];
        for (int axis = shape.length - 1; axis >= 0; axis--) {
            idx[axis] = (int) (linear % shape[axis]);
            linear /= shape[axis];
        }
        return idx;
    }

    /** Random Q, K, V for a problem, seeded, with score magnitudes scaled by {@code qScale}. */
    public static float[][] qkv(AttentionProblem p, long seed, float qScale) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] q = random(rnd, (int) Tensor.count(p.qShape()), -qScale, qScale);
        float[] k = random(rnd, (int) Tensor.count(p.kShape()), -1f, 1f);
        float[] v = random(rnd, (int) Tensor.count(p.vShape()), -1f, 1f);
        return new float[][] {q, k, v};
    }
}
