package dev.attn4j.simd;

import static dev.attn4j.simd.Vec.F;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Vector elementary functions in float32.
 *
 * <p>{@link #exp2}: a degree-5 polynomial of 2^f on f ∈ [−½, ½] after rounding x to the nearest integer n
 * (the 1.5·2²³ trick), times 2^n built in the exponent bits; relative error ≤ 1.7e-7 in float32 arithmetic
 * (the coefficients minimize the maximum relative error on [−½, ½]; the degree-6 Taylor form it replaced
 * was no more accurate and took one FMA more). PERF-NOTES measured this form at ≈ 1.8 ns per 512-bit vector
 * against ≈ 4.4 ns for {@code VectorOperators.EXP}. Keep one call site per hot method: several inlined
 * copies push a method past C2's inlining budget.
 */
final class VMath {
    static final float LOG2E = 1.44269504088896341f;
    // 1.5·2^23 + 127: adding it rounds x to an integer n in the low mantissa bits, already biased by 127,
    // so that shifting those bits left by 23 is the float 2^n (one integer add fewer per vector)
    private static final float ROUND_BIASED = 12582912f + 127f;
    private static final float C1 = 0.6931470036506653f;
    private static final float C2 = 0.24022242426872253f;
    private static final float C3 = 0.05550733953714371f;
    private static final float C4 = 0.009671509265899658f;
    private static final float C5 = 0.0013264698209241033f;

    private VMath() {
    }

    /**
     * 2^x for x ≤ 127 (callers clamp larger x); exactly 0 for x &lt; −127 (and −∞), so masked scores weigh
     * nothing; NaN stays NaN. The zero is a blend at the end rather than a clamp of x at the start: it leaves
     * the compare off the dependent chain, and the bits are the same as with the clamp for every float x ≤ 127
     * (checked over a dense sweep of all of them: x ≥ −127 is untouched by either, and below it both give
     * 0). In-process A/B in the flash kernel's exp pass, call by call: S = 512 attention 1.006× and 1.007×.
     */
    static FloatVector exp2(FloatVector x) {
        FloatVector t = x.add(ROUND_BIASED);
        FloatVector f = x.sub(t.sub(ROUND_BIASED));
        FloatVector p = f.fma(C5, C4);
        p = p.fma(f, FloatVector.broadcast(F, C3));
        p = p.fma(f, FloatVector.broadcast(F, C2));
        p = p.fma(f, FloatVector.broadcast(F, C1));
        p = p.fma(f, FloatVector.broadcast(F, 1f));
        // n + 127 ∈ [0, 254] sits in the low 8 mantissa bits; the shift drops the rest (2^22 from 1.5·2^23).
        // Below −127 those bits wrap (and −∞ makes f NaN): the blend zeroes those lanes
        FloatVector scale = ((IntVector) t.reinterpretAsInts()).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(scale).blend(0f, x.lt(-127f));
    }

    private static final float ERF_P = 0.3275911f;
    private static final float ERF_A1 = 0.254829592f;
    private static final float ERF_A2 = -0.284496736f;
    private static final float ERF_A3 = 1.421413741f;
    private static final float ERF_A4 = -1.453152027f;
    private static final float ERF_A5 = 1.061405429f;

    /**
     * erf(z) by Abramowitz–Stegun 7.1.26: 1 − t·(a1 + t·(a2 + … + t·a5))·e^(−z²), t = 1/(1 + p·|z|), odd
     * extension; absolute error ≤ 1.5e-7 (plus float32 rounding, ≈ 1e-7).
     */
    static FloatVector erf(FloatVector z) {
        FloatVector az = z.lanewise(jdk.incubator.vector.VectorOperators.ABS);
        FloatVector t = FloatVector.broadcast(F, 1f).div(az.fma(ERF_P, 1f));
        FloatVector poly = t.fma(ERF_A5, ERF_A4);
        poly = poly.fma(t, FloatVector.broadcast(F, ERF_A3));
        poly = poly.fma(t, FloatVector.broadcast(F, ERF_A2));
        poly = poly.fma(t, FloatVector.broadcast(F, ERF_A1));
        poly = poly.mul(t);
        FloatVector e = exp2(az.mul(az).mul(-LOG2E));
        FloatVector r = poly.mul(e).neg().add(1f);
        return r.blend(r.neg(), z.lt(0f));
    }

    // tanh's Taylor coefficients of x^3 … x^15: below TANH_SMALL the next term is < 3e-10 relative
    private static final float TANH_SMALL = 0.4f;
    private static final float T3 = -1f / 3f;
    private static final float T5 = 2f / 15f;
    private static final float T7 = -17f / 315f;
    private static final float T9 = 62f / 2835f;
    private static final float T11 = -1382f / 155925f;
    private static final float T13 = 21844f / 6081075f;
    private static final float T15 = -929569f / 638512875f;

    /**
     * tanh(x), odd: (1 − e)/(1 + e) with e = e^(−2|x|) for |x| ≥ 0.4 (e ≤ 0.45, so 1 − e loses at most one
     * bit), the Taylor polynomial to x^15 below; relative error ≤ 4e-7 everywhere (VMathTest), ±1 past
     * |x| ≈ 9, NaN stays NaN. Not {@code VectorOperators.TANH}: C2 computes that with a vector math
     * library and the interpreter with {@code Math.tanh}, which differ in the last bit, so a kernel's
     * result would depend on whether it had been compiled yet.
     */
    static FloatVector tanh(FloatVector x) {
        FloatVector a = x.abs();
        FloatVector e = exp2(a.mul(-2f * LOG2E));
        FloatVector one = FloatVector.broadcast(F, 1f);
        FloatVector big = one.sub(e).div(one.add(e));
        FloatVector x2 = x.mul(x);
        FloatVector p = x2.fma(T15, T13);
        p = p.fma(x2, FloatVector.broadcast(F, T11));
        p = p.fma(x2, FloatVector.broadcast(F, T9));
        p = p.fma(x2, FloatVector.broadcast(F, T7));
        p = p.fma(x2, FloatVector.broadcast(F, T5));
        p = p.fma(x2, FloatVector.broadcast(F, T3));
        FloatVector small = p.mul(x2).fma(a, a);
        FloatVector t = big.blend(small, a.lt(TANH_SMALL));
        return t.blend(t.neg(), x.lt(0f));
    }

    /** The scalar tanh for tails: {@code StrictMath}'s, the same in every JIT tier (unlike {@code Math}'s intrinsics). */
    static float tanh(float x) {
        return (float) StrictMath.tanh(x);
    }

    /** This thread's buffer of L floats, for {@link #sumLanes}. */
    static float[] lanes() {
        return LANES.get();
    }

    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[Vec.L]);

    /**
     * The sum of tmp[0, L) in lane order, after the caller stored its vector there ({@code v.intoArray(tmp, 0)}).
     * {@code reduceLanes(ADD)} leaves the order unspecified, and the interpreter and C2 do differ in the last
     * bit, which would make results depend on JIT state. The vector stays in the caller: a helper taking it
     * as an argument boxed it wherever C2 left the call out of line (NodeCountInliningCutoff in the large
     * kernels: the decode's row softmax allocated 12 KB per call that way), and its {@code new float[L]}
     * then escaped too.
     */
    static float sumLanes(float[] tmp) {
        float s = 0f;
        for (int i = 0; i < Vec.L; i++) {
            s += tmp[i];
        }
        return s;
    }

    /** Lane-wise maximum by compare and blend (NaN handling left to the caller; PERF-NOTES: 3× faster than max). */
    static FloatVector max(FloatVector a, FloatVector b) {
        return a.blend(b, a.lt(b));
    }

    /**
     * The largest float among lanes whose raw bits, read as signed ints, have the lanewise maxima {@code hi}
     * and minima {@code lo}. Floats ≥ +0 order like their bits and negative floats in reverse, so the answer
     * is the largest bits where some lane is ≥ +0 and the smallest bits (the negative float nearest 0)
     * where none is; −0 &lt; +0 as in {@link Math#max}. A positive NaN's bits exceed +∞'s, so it comes out
     * NaN; a negative NaN is passed over, as {@link #max} passes over NaN lanes (its exponential still turns
     * the row's sum, and so the row, into NaN).
     */
    static float maxOfBits(IntVector hi, IntVector lo) {
        int h = hi.reduceLanes(VectorOperators.MAX);
        return Float.intBitsToFloat(h >= 0 ? h : lo.reduceLanes(VectorOperators.MIN));
    }

    /** 2^x of one float, the scalar twin of {@link #exp2} for tails and merges. */
    static float exp2(float x) {
        return (float) Math.pow(2.0, x);
    }

    /** Zero vector of the species. */
    static FloatVector zero() {
        return FloatVector.zero(F);
    }
}
