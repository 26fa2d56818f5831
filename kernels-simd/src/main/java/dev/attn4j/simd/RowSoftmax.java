package dev.attn4j.simd;

import static dev.attn4j.simd.Vec.F;
import static dev.attn4j.simd.Vec.L;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
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
            if (x != y || xo != yo) {
                System.arraycopy(x, xo, y, yo, n);
            }
            if (max == NEG_INF) {
                Arrays.fill(y, yo, yo + n, 0f);
            }
            return;
        }
        float sum = expAndSum(x, xo, y, yo, n, max);
        scale(y, yo, n, 1f / sum);
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
        transform(a, off + lo, hi - lo, scale, softcap, bias, bias == null ? 0 : biasOff + lo);
        if (softmax) {
            softmax(a, off + lo, hi - lo);
        }
    }

    /** x ← softcap(scale·x) + bias, in place. */
    static void transform(float[] a, int off, int n, float scale, float softcap, float[] bias, int biasOff) {
        int i = 0;
        if (softcap > 0f) {
            float inv = 1f / softcap;
            for (; i < F.loopBound(n); i += L) {
                FloatVector x = FloatVector.fromArray(F, a, off + i).mul(scale);
                x = x.mul(inv).lanewise(VectorOperators.TANH).mul(softcap);
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
                x = (float) (softcap * Math.tanh(x / softcap));
            }
            if (bias != null) {
                x += bias[biasOff + i];
            }
            a[off + i] = x;
        }
    }

    static float max(float[] a, int off, int n) {
        int i = 0;
        float m = NEG_INF;
        if (n >= L) {
            FloatVector m0 = FloatVector.broadcast(F, NEG_INF);
            for (; i < F.loopBound(n); i += L) {
                m0 = VMath.max(m0, FloatVector.fromArray(F, a, off + i));
            }
            m = m0.reduceLanes(VectorOperators.MAX);
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
        for (; i < F.loopBound(n); i += L) {
            FloatVector e = VMath.exp2(FloatVector.fromArray(F, x, xo + i).sub(m).mul(VMath.LOG2E));
            e.intoArray(y, yo + i);
            acc = acc.add(e);
        }
        float sum = VMath.sum(acc, new float[L]);
        for (; i < n; i++) {
            float e = (float) Math.exp((double) x[xo + i] - max);
            y[yo + i] = e;
            sum += e;
        }
        return sum;
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
