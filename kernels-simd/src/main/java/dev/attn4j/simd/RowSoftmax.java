package dev.attn4j.simd;

import static dev.attn4j.simd.Vec.F;
import static dev.attn4j.simd.Vec.L;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Softmax over contiguous float rows: max, then e^(x − max) stored with its sum, then one multiply by
 * 1/sum; a row whose max is −∞ becomes zeros. Each pass is a vector loop with a scalar tail, and each
 * method holds one exponential call site (PERF-NOTES: several inlined copies fall out of C2's budget).
 */
final class RowSoftmax {
    private static final float NEG_INF = Float.NEGATIVE_INFINITY;

    private RowSoftmax() {
    }

    /** In place over a[off, off + n): a ← softmax(a). */
    static void softmax(float[] a, int off, int n) {
        softmax(a, off, a, off, n);
    }

    /**
     * y[yo, yo + n) ← softmax(x[xo, xo + n)): three passes (max over x; e^(x − max) into y with its sum;
     * y·1/sum), reading x directly so that x → y costs no extra copy. y may be x at the same offset.
     */
    static void softmax(float[] x, int xo, float[] y, int yo, int n) {
        float max = max(x, xo, n);
        if (max == NEG_INF || Float.isNaN(max)) {
            // all masked: zeros; a NaN anywhere (the vector max passes over NaN lanes) makes every output NaN,
            // as the float64 reference's does
            Arrays.fill(y, yo, yo + n, max == NEG_INF && !hasNaN(x, xo, n) ? 0f : Float.NaN);
            return;
        }
        float sum = expAndSum(x, xo, y, yo, n, max);
        scale(y, yo, n, 1f / sum);
    }

    /**
     * Softmax of many rows, y[yOff[r], + n) ← softmax(x[xOff[r], + n)) for r in [from, to), software-pipelined
     * across rows: one vector loop reads row r + 1 for its max, writes
     * e^(x − max) of row r into y and scales row r − 1 (still in L1/L2) by its 1/sum. Rows may be x's own
     * (in place) but must not overlap each other. Rows whose max is −∞ (all masked) become zeros; a row holding
     * a NaN becomes all NaN, like the float64 reference's.
     */
    static void softmaxRows(float[] x, int[] xOff, float[] y, int[] yOff, int from, int to, int n) {
        if (n < 2 * L) {
            for (int r = from; r < to; r++) {
                softmax(x, xOff[r], y, yOff[r], n);
            }
            return;
        }
        float maxNext = max(x, xOff[from], n);
        int pending = -1; // the row whose y holds e^(x − max) waiting for its 1/sum
        float pendingInv = 0f;
        float[] sums = new float[1];
        for (int r = from; r < to; r++) {
            float max = maxNext;
            boolean hasNext = r + 1 < to;
            if (max == NEG_INF || Float.isNaN(max) || !hasNext || pending < 0) {
                if (pending >= 0) {
                    scale(y, yOff[pending], n, pendingInv);
                    pending = -1;
                }
                if (hasNext) {
                    maxNext = max(x, xOff[r + 1], n);
                }
                if (max == NEG_INF || Float.isNaN(max)) {
                    softmax(x, xOff[r], y, yOff[r], n); // the zero or NaN row
                } else {
                    pendingInv = 1f / expAndSumNormalized(x, xOff[r], y, yOff[r], n, max);
                    pending = r;
                }
                continue;
            }
            maxNext = pipelined(x, xOff[r + 1], xOff[r], y, yOff[r], yOff[pending], pendingInv, n, max, sums);
            pendingInv = 1f / sums[0];
            pending = r;
        }
        if (pending >= 0) {
            scale(y, yOff[pending], n, pendingInv);
        }
    }

    /**
     * One pipeline step: returns max(x[next, + n)); y[cur] ← e^(x[cur] − max) with the sum in sums[0];
     * y[prev] ·= prevInv. The exponent is x·log₂e − max·log₂e in one FMA: the rounding of max·log₂e is the
     * same for the whole row, a common factor that the normalization cancels (not so where partial sums of
     * different maxima are merged, so only normalized rows take this path, and the scalar tail uses the same
     * formula). No read ahead of y's next row: a scalar touch of each of its lines (meant to bring them in
     * before the stores) cost more than it saved here, in place (where the max's load brings those lines
     * anyway) and out of place alike; in-process A/B over 1024 rows of 4096 on 2 threads, call by call:
     * without it 1.07–1.12× faster in place, 1.15× and 1.16× x → y.
     */
    private static float pipelined(float[] x, int next, int cur, float[] y, int yCur, int yPrev, float prevInv,
                                   int n, float max, float[] sums) {
        float maxL = (float) (max * (double) VMath.LOG2E);
        // the next row's maximum as the signed maximum and minimum of its bits (VMath.maxOfBits): two
        // one-cycle integer chains, where a compare-and-blend chain held the loop to ≈ 8 cycles per vector
        IntVector hi = (IntVector) FloatVector.fromArray(F, x, next).reinterpretAsInts();
        IntVector lo = hi;
        FloatVector acc = FloatVector.zero(F);
        int bound = F.loopBound(n);
        for (int i = 0; i < bound; i += L) {
            IntVector bits = (IntVector) FloatVector.fromArray(F, x, next + i).reinterpretAsInts();
            hi = hi.max(bits);
            lo = lo.min(bits);
            FloatVector e = VMath.exp2(FloatVector.fromArray(F, x, cur + i).fma(VMath.LOG2E, -maxL));
            e.intoArray(y, yCur + i);
            acc = acc.add(e);
            FloatVector.fromArray(F, y, yPrev + i).mul(prevInv).intoArray(y, yPrev + i);
        }
        float m = VMath.maxOfBits(hi, lo);
        // reduced in registers (a fixed order, the same in every JIT tier), not stored and read back as scalars:
        // in-process A/B of softmax over rows of 128, call by call: 12 rows 1.09–1.14×, 1536 rows 1.13×; 4096 1.00×
        float sum = DecodeBlocks.tree1(acc);
        for (int i = bound; i < n; i++) {
            m = Math.max(m, x[next + i]);
            float e = VMath.exp2(Math.fma(x[cur + i], VMath.LOG2E, -maxL));
            y[yCur + i] = e;
            sum += e;
            y[yPrev + i] *= prevInv;
        }
        sums[0] = sum;
        return m;
    }

    /** y ← e^(x − max) by {@link #pipelined}'s one-FMA exponent; returns the sum. Normalized rows only. */
    private static float expAndSumNormalized(float[] x, int xo, float[] y, int yo, int n, float max) {
        float maxL = (float) (max * (double) VMath.LOG2E);
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i < F.loopBound(n); i += L) {
            FloatVector e = VMath.exp2(FloatVector.fromArray(F, x, xo + i).fma(VMath.LOG2E, -maxL));
            e.intoArray(y, yo + i);
            acc = acc.add(e);
        }
        float sum = DecodeBlocks.tree1(acc);
        for (; i < n; i++) {
            float e = VMath.exp2(Math.fma(x[xo + i], VMath.LOG2E, -maxL));
            y[yo + i] = e;
            sum += e;
        }
        return sum;
    }

    /**
     * In place over a[off, off + n), the scores of one query row: keys outside [kb, ke) become 0; inside,
     * x ← softmax(mask(softcap(scale·x))) with {@code bias} (may be null) added after the softcap.
     * With {@code softmax} false the row is left as masked logits (−∞ outside [kb, ke)).
     */
    static void maskedRow(float[] a, int off, int n, int kb, int ke, float scale, float softcap,
                          float[] bias, int biasOff, boolean softmax) {
        float fill = softmax ? 0f : NEG_INF;
        int lo = Math.min(Math.max(kb, 0), n);
        int hi = Math.max(Math.min(ke, n), lo);
        Arrays.fill(a, off, off + lo, fill);
        Arrays.fill(a, off + hi, off + n, fill);
        if (hi == lo) {
            return;
        }
        if (softmax && softcap == 0f && bias == null && scale > 0f && scale < Float.POSITIVE_INFINITY
                && scaledSoftmax(a, off + lo, hi - lo, scale)) {
            return;
        }
        transform(a, off + lo, hi - lo, scale, softcap, bias, bias == null ? 0 : biasOff + lo);
        if (softmax) {
            softmax(a, off + lo, hi - lo);
        }
    }

    /**
     * a ← softmax(scale·a) over a[off, off + n) for a positive finite scale, in three passes instead of
     * {@link #maskedRow}'s four (scale·x, max, e^(x − max), 1/sum): the max of x, since scaling by a positive
     * float keeps the order, then e^(scale·x − scale·max) as one FMA of x with scale·log₂e (as {@link #pipelined}
     * makes its exponent: the rounding of scale·max·log₂e is common to the row and cancels in the
     * normalization), then the multiply by 1/sum; the last partial vector of every pass masked, where the
     * scalar tail took a float64 exponential per element (a causal mask's rows, of every length, spent most
     * of their time there). In-process A/B of maskedSoftmax (12 heads, S × S, causal) against the four passes,
     * call by call on the Zen 4 VM (the other core busy): S = 128 1.62–1.64×, S = 512 1.54–1.85×, results within
     * 1e-7. Returns false, with the row untouched,
     * when its max is −∞ or NaN (all masked, or a NaN to propagate): the general path handles those.
     */
    static boolean scaledSoftmax(float[] a, int off, int n, float scale) {
        float max = maskedMax(a, off, n);
        if (max == NEG_INF || Float.isNaN(max)) {
            return false;
        }
        expNormalize(a, off, n, scale, max, 0);
        return true;
    }

    /**
     * {@link #maskedMax} of a[off, off + n) for a row that goes on past n for at least {@code room} floats of
     * masked keys: where the partial last vector fits in them, its lanes past n are stored back as −∞ (one whole
     * store), so that the row's later passes run over whole vectors only (e^−∞ = 0 is the zero those keys
     * get). In rows of a causal mask the partial vector's own code path (masked load, a second reduction, a
     * store of its own) had cost as much as the rest of the row. Whether it padded: {@link #padded}.
     */
    static float paddedMax(float[] a, int off, int n, int room) {
        int bound = F.loopBound(n);
        if (!padded(n, room)) {
            return maskedMax(a, off, n);
        }
        FloatVector m0 = FloatVector.broadcast(F, NEG_INF);
        for (int i = 0; i < bound; i += L) {
            m0 = VMath.max(m0, FloatVector.fromArray(F, a, off + i));
        }
        FloatVector x = FloatVector.fromArray(F, a, off + bound).blend(NEG_INF, F.indexInRange(bound, n).not());
        x.intoArray(a, off + bound);
        return lanesMax(VMath.max(m0, x));
    }

    /** Whether {@link #paddedMax} pads a row of n floats followed by {@code room} masked ones to whole vectors. */
    static boolean padded(int n, int room) {
        int bound = F.loopBound(n);
        return bound < n && bound + L <= n + room;
    }

    /** The largest of a[off, off + n), n ≥ 1, passing over NaNs as {@link VMath#max} does; the last vector masked. */
    static float maskedMax(float[] a, int off, int n) {
        int bound = F.loopBound(n);
        FloatVector m0 = FloatVector.broadcast(F, NEG_INF);
        int i = 0;
        for (; i < bound; i += L) {
            m0 = VMath.max(m0, FloatVector.fromArray(F, a, off + i));
        }
        if (i < n) {
            VectorMask<Float> t = F.indexInRange(i, n);
            m0 = VMath.max(m0, FloatVector.broadcast(F, NEG_INF).blend(FloatVector.fromArray(F, a, off + i, t), t));
        }
        return lanesMax(m0);
    }

    /**
     * The largest lane of m (no NaN lanes) by {@link VMath#maxOfBits} on its bits: integer reductions, where
     * {@code reduceLanes(MAX)} on floats keeps Java's NaN and −0 rules at every step (in-process A/B of the
     * masked softmax, 12 heads causal, call by call: 128 × 128 1.03–1.04×, 1 × 128 and 512 × 512 1.01×; the
     * same bits).
     */
    static float lanesMax(FloatVector m) {
        IntVector bits = (IntVector) m.reinterpretAsInts();
        return VMath.maxOfBits(bits, bits);
    }

    /**
     * The second and third passes of {@link #scaledSoftmax} for a row whose finite max is known, then
     * a[off + n, off + n + zeros) ← 0 (the row's masked keys after it). Split from the max so that a caller
     * can find the next row's max before this row's exponentials (see {@code Scores.scaledRows}).
     */
    static void expNormalize(float[] a, int off, int n, float scale, float max, int zeros) {
        int bound = F.loopBound(n);
        float c = scale * VMath.LOG2E;
        float maxL = (float) (max * (double) c);
        float sum = expScaled(a, off, bound, c, maxL);
        if (bound == n) {
            scaleWhole(a, off, bound, 1f / sum);
            zero(a, off + n, off + n + zeros);
            return;
        }
        // the last partial vector stays in a register until it is stored scaled: a masked store read back by the
        // next pass waited for the store to complete (no forwarding), ≈ 45 % of the samples at S = 128. Its lanes
        // past n are −∞ before the exponential (zeros after it), so that where the row goes on past n (masked
        // keys, zeros in the output) it is stored whole, without a mask
        VectorMask<Float> t = F.indexInRange(bound, n);
        boolean whole = bound + L <= n + zeros;
        FloatVector x = whole ? FloatVector.fromArray(F, a, off + bound) : FloatVector.fromArray(F, a, off + bound, t);
        FloatVector e = VMath.exp2(x.blend(NEG_INF, t.not()).fma(c, -maxL));
        float inv = 1f / (sum + DecodeBlocks.tree1(e));
        scaleWhole(a, off, bound, inv);
        if (whole) {
            e.mul(inv).intoArray(a, off + bound);
            zero(a, off + bound + L, off + n + zeros);
        } else {
            e.mul(inv).intoArray(a, off + bound, t);
            zero(a, off + n, off + n + zeros);
        }
    }

    /** a[from, to) ← 0, whole vectors and a masked last one. */
    static void zero(float[] a, int from, int to) {
        FloatVector z = FloatVector.zero(F);
        int i = from;
        for (; i + L <= to; i += L) {
            z.intoArray(a, i);
        }
        if (i < to) {
            z.intoArray(a, i, F.indexInRange(i, to));
        }
    }

    /** a[off, off + n) ·= inv, n a multiple of L. */
    private static void scaleWhole(float[] a, int off, int n, float inv) {
        for (int i = 0; i < n; i += L) {
            FloatVector.fromArray(F, a, off + i).mul(inv).intoArray(a, off + i);
        }
    }

    /**
     * a ← 2^(a·c − maxL) over a[off, off + n), n a multiple of L; returns the sum, reduced in registers
     * ({@link DecodeBlocks#tree1}: a fixed order, so the same bits in every JIT tier, and no vector stored to a
     * buffer and read back as scalars, which stalled on the forwarding).
     */
    private static float expScaled(float[] a, int off, int n, float c, float maxL) {
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < n; i += L) {
            FloatVector e = VMath.exp2(FloatVector.fromArray(F, a, off + i).fma(c, -maxL));
            e.intoArray(a, off + i);
            acc = acc.add(e);
        }
        return DecodeBlocks.tree1(acc);
    }

    /** x ← softcap(scale·x) + bias, in place. */
    static void transform(float[] a, int off, int n, float scale, float softcap, float[] bias, int biasOff) {
        if (scale == 1f && softcap == 0f && bias == null) {
            return; // x·1 is x: the score matrix's rows come here with the scale already in their query rows
        }
        int i = 0;
        if (softcap > 0f) {
            float inv = 1f / softcap;
            for (; i < F.loopBound(n); i += L) {
                FloatVector x = FloatVector.fromArray(F, a, off + i).mul(scale);
                x = VMath.tanh(x.mul(inv)).mul(softcap);
                if (bias != null) {
                    x = x.add(FloatVector.fromArray(F, bias, biasOff + i));
                }
                x.intoArray(a, off + i);
            }
        } else {
            for (; i < F.loopBound(n); i += L) {
                FloatVector x = FloatVector.fromArray(F, a, off + i).mul(scale);
                if (bias != null) {
                    x = x.add(FloatVector.fromArray(F, bias, biasOff + i));
                }
                x.intoArray(a, off + i);
            }
        }
        for (; i < n; i++) {
            float x = a[off + i] * scale;
            if (softcap > 0f) {
                x = softcap * VMath.tanh(x / softcap);
            }
            if (bias != null) {
                x += bias[biasOff + i];
            }
            a[off + i] = x;
        }
    }

    /** Whether a[off, off + n) holds a NaN. */
    static boolean hasNaN(float[] a, int off, int n) {
        for (int i = off; i < off + n; i++) {
            if (Float.isNaN(a[i])) {
                return true;
            }
        }
        return false;
    }

    static float max(float[] a, int off, int n) {
        int i = 0;
        float m = NEG_INF;
        if (n >= L) {
            // two running maxima: one compare-and-blend chain waits ≈ 7 cycles per vector; max is exact in any order
            FloatVector m0 = FloatVector.broadcast(F, NEG_INF);
            FloatVector m1 = m0;
            for (; i + 2 * L <= n; i += 2 * L) {
                m0 = VMath.max(m0, FloatVector.fromArray(F, a, off + i));
                m1 = VMath.max(m1, FloatVector.fromArray(F, a, off + i + L));
            }
            for (; i < F.loopBound(n); i += L) {
                m0 = VMath.max(m0, FloatVector.fromArray(F, a, off + i));
            }
            m = VMath.max(m0, m1).reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) {
            float x = a[off + i];
            m = m >= x ? m : x; // NaN rows stay NaN through the exponentials
        }
        return m;
    }

    /** a ← e^(a − max) in place; returns the sum. */
    static float expAndSum(float[] a, int off, int n, float max) {
        return expAndSum(a, off, a, off, n, max);
    }

    /** y ← e^(x − max); returns the sum (float32 lanes, then the lanes in order). */
    static float expAndSum(float[] x, int xo, float[] y, int yo, int n, float max) {
        int i = 0;
        FloatVector m = FloatVector.broadcast(F, max);
        FloatVector acc = FloatVector.zero(F);
        FloatVector acc1 = acc;
        // two vectors per iteration: C2's own unrolling leaves each exponential's dependent chain after the
        // previous one, and the out-of-order window then overlaps too few of them (1.5 against 2.1 ns per vector)
        for (; i + 2 * L <= n; i += 2 * L) {
            FloatVector e = VMath.exp2(FloatVector.fromArray(F, x, xo + i).sub(m).mul(VMath.LOG2E));
            FloatVector e1 = VMath.exp2(FloatVector.fromArray(F, x, xo + i + L).sub(m).mul(VMath.LOG2E));
            e.intoArray(y, yo + i);
            e1.intoArray(y, yo + i + L);
            acc = acc.add(e);
            acc1 = acc1.add(e1);
        }
        if (i < F.loopBound(n)) {
            // the one vector left: its exponential in a method of its own, read back from y (in L1). Inline,
            // this third exp2 fell past C2's node-count cutoff and ran boxed, allocating on every row with
            // n mod 2L ≥ L (the causal masked softmax: 787 KB per call at B=1 H=12 S=512); same bits
            expVector(x, xo + i, y, yo + i, max);
            acc = acc.add(FloatVector.fromArray(F, y, yo + i));
            i += L;
        }
        float[] lanes = VMath.lanes();
        acc.add(acc1).intoArray(lanes, 0);
        float sum = VMath.sumLanes(lanes);
        for (; i < n; i++) {
            float e = (float) Math.exp((double) x[xo + i] - max);
            y[yo + i] = e;
            sum += e;
        }
        return sum;
    }

    /** y[yo, yo + L) ← e^(x[xo, xo + L) − max), as {@link #expAndSum}'s loops compute it. */
    private static void expVector(float[] x, int xo, float[] y, int yo, float max) {
        FloatVector m = FloatVector.broadcast(F, max);
        VMath.exp2(FloatVector.fromArray(F, x, xo).sub(m).mul(VMath.LOG2E)).intoArray(y, yo);
    }

    static void scale(float[] a, int off, int n, float s) {
        int i = 0;
        for (; i < F.loopBound(n); i += L) {
            FloatVector.fromArray(F, a, off + i).mul(s).intoArray(a, off + i);
        }
        for (; i < n; i++) {
            a[off + i] *= s;
        }
    }
}
