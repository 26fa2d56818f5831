package dev.attn4j.api;

import java.util.Arrays;
import java.util.Objects;

/** Validation at the API edge: every message names the argument, the expected and the actual value. */
final class Checks {
    private Checks() {
    }

    static Tensor notNull(String name, Tensor t) {
        return Objects.requireNonNull(t, () -> name + " must not be null");
    }

    static void float32(String name, Tensor t) {
        if (t.dtype() != DType.FLOAT32) {
            throw new IllegalArgumentException(name + " must be FLOAT32 but is " + t.dtype()
                    + " (half-precision storage is not supported by the kernels yet)");
        }
    }

    /** Checks a float32 tensor of exactly {@code expected} shape; {@code names} label the axes. */
    static void shape(String name, Tensor t, int[] expected, String... axisNames) {
        notNull(name, t);
        float32(name, t);
        if (!Arrays.equals(t.shape(), expected)) {
            StringBuilder sb = new StringBuilder(name).append(" must have shape [");
            for (int i = 0; i < expected.length; i++) {
                if (i > 0) {
                    sb.append(", ");
                }
                if (i < axisNames.length) {
                    sb.append(axisNames[i]).append('=');
                }
                sb.append(expected[i]);
            }
            throw new IllegalArgumentException(sb.append("] but has ").append(Arrays.toString(t.shape())).toString());
        }
    }

    static void rank(String name, Tensor t, int rank) {
        notNull(name, t);
        float32(name, t);
        if (t.rank() != rank) {
            throw new IllegalArgumentException(name + " must have rank " + rank + " but has shape " + Arrays.toString(t.shape()));
        }
    }

    static void sameShape(String name, Tensor t, String otherName, Tensor other) {
        notNull(name, t);
        float32(name, t);
        if (!t.hasShapeOf(other)) {
            throw new IllegalArgumentException(name + " must have the shape of " + otherName + " "
                    + Arrays.toString(other.shape()) + " but has " + Arrays.toString(t.shape()));
        }
    }

    /** An output must not share memory with an input. */
    static void disjoint(String outName, Tensor out, String inName, Tensor in) {
        if (in != null && out.overlaps(in)) {
            throw new IllegalArgumentException(outName + " must not overlap " + inName + " (" + out + " vs " + in + ")");
        }
    }

    /** An output may be its input exactly (in place) but must not overlap it otherwise. */
    static void inPlaceOrDisjoint(String outName, Tensor out, String inName, Tensor in) {
        // the same view first: overlaps() marks every byte both views reach (an in-place residual add of a
        // BERT layer paid ≈ 0.4 % of the forward pass for it)
        if (!sameView(out, in) && out.overlaps(in)) {
            throw new IllegalArgumentException(outName + " must be " + inName + " itself (in place) or not overlap it ("
                    + out + " vs " + in + ")");
        }
    }

    static boolean sameView(Tensor a, Tensor b) {
        return a.sameViewAs(b);
    }

    static void mask(AttentionProblem p, Mask mask) {
        Objects.requireNonNull(mask, "mask must not be null (use Mask.none())");
        for (Mask part : mask.parts()) {
            switch (part) {
                case Mask.Causal c -> alignment("causal mask", p, c.alignment());
                case Mask.SlidingWindow w -> alignment("sliding window mask", p, w.alignment());
                case Mask.KeyLengths k -> {
                    int[] lengths = k.lengths();
                    if (lengths.length != p.batch()) {
                        throw new IllegalArgumentException("key lengths must have one entry per batch (" + p.batch()
                                + ") but has " + lengths.length);
                    }
                    for (int b = 0; b < lengths.length; b++) {
                        if (lengths[b] < 0 || lengths[b] > p.seqK()) {
                            throw new IllegalArgumentException("key length of batch " + b + " must be in [0, seqK="
                                    + p.seqK() + "] but is " + lengths[b]);
                        }
                    }
                }
                case Mask.BoolMask b -> {
                    if (b.mask().dtype() != DType.BOOL) {
                        throw new IllegalArgumentException("bool mask must have dtype BOOL but has " + b.mask().dtype());
                    }
                    broadcastable("bool mask", b.mask(), p);
                }
                case Mask.AdditiveMask a -> {
                    if (a.mask().dtype() == DType.BOOL) {
                        throw new IllegalArgumentException("additive mask must be a float tensor but has dtype BOOL (use Mask.bool)");
                    }
                    broadcastable("additive mask", a.mask(), p);
                }
                case Mask.None n -> { }
                case Mask.All a -> throw new AssertionError("parts() is flat");
            }
        }
    }

    static void maskDisjoint(String outName, Tensor out, Mask mask) {
        for (Mask part : mask.parts()) {
            if (part instanceof Mask.BoolMask b) {
                disjoint(outName, out, "the bool mask", b.mask());
            } else if (part instanceof Mask.AdditiveMask a) {
                disjoint(outName, out, "the additive mask", a.mask());
            }
        }
    }

    private static void alignment(String what, AttentionProblem p, Alignment alignment) {
        if (alignment instanceof Alignment.PerBatch pb && pb.offsets().length != p.batch()) {
            throw new IllegalArgumentException(what + " alignment must have one offset per batch (" + p.batch()
                    + ") but has " + pb.offsets().length);
        }
    }

    private static void broadcastable(String what, Tensor m, AttentionProblem p) {
        int[] target = p.scoreShape();
        int[] shape = m.shape();
        boolean ok = shape.length <= 4;
        for (int axis = 0; ok && axis < shape.length; axis++) {
            int t = target[4 - shape.length + axis];
            ok = shape[axis] == t || shape[axis] == 1;
        }
        if (!ok) {
            throw new IllegalArgumentException(what + " of shape " + Arrays.toString(shape)
                    + " must broadcast to [batch=" + p.batch() + ", heads=" + p.heads() + ", seqQ=" + p.seqQ()
                    + ", seqK=" + p.seqK() + "]");
        }
    }

    /** numpy broadcast of two shapes, or an exception naming both arguments. */
    static int[] broadcastShapes(String aName, int[] a, String bName, int[] b) {
        int rank = Math.max(a.length, b.length);
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
            int db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException(aName + " " + Arrays.toString(a) + " and " + bName + " "
                        + Arrays.toString(b) + " do not broadcast (axis " + i + ": " + da + " vs " + db + ")");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    static void broadcastsTo(String name, Tensor t, int[] target) {
        int[] shape = t.shape();
        boolean ok = shape.length <= target.length;
        for (int axis = 0; ok && axis < shape.length; axis++) {
            int want = target[target.length - shape.length + axis];
            ok = shape[axis] == want || shape[axis] == 1;
        }
        if (!ok) {
            throw new IllegalArgumentException(name + " of shape " + Arrays.toString(shape) + " must broadcast to "
                    + Arrays.toString(target));
        }
    }
}
