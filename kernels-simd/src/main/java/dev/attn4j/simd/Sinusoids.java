package dev.attn4j.simd;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The sinusoidal positions of "Attention Is All You Need" added to rows of x, in float64 lanes:
 * y[b, s, e] = x[b, s, e] + PE(offset + s, e), PE(p, 2i) = sin(p·ω_i), PE(p, 2i + 1) = cos(p·ω_i),
 * ω_i = 10000^(−2i/E).
 *
 * <p>Each lane holds one element e: its angle a = p·ω is the reference's own double product (ω computed by
 * the reference's expression, so the bits agree), and cos(a) = sin(a + π/2), so even and odd lanes differ
 * only by a phase and one polynomial serves both. With k = round(a/π + phase), r = a − k·π + phase·π lies in
 * [−π/2, π/2] (π in two parts by FMA: exact enough for k up to 2^31, the largest int offset times ω ≤ 1) and
 * sin(a + phase·π) = (−1)^k·sin(r), with sin(r) the Taylor polynomial to r^13 (|error| ≤ (π/2)^15/15! ≈ 7e-10).
 * x is widened to double for the add, so the only rounding is the final one to float, like the reference's.
 *
 * <p>{@code VectorOperators.SIN} on the same lanes (angle + phase·π) was slower: at E = 768, 1.02–1.05 µs
 * a row against 0.70–0.81 µs for this polynomial (KernelSweepBenchmark addSinusoidal tokens=1, 2026-12-05,
 * two runs each, alternating, on the shared 2-core VM).
 */
final class Sinusoids {
    /** Double lanes as wide as the backend's float vectors. */
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED.withShape(VectorShape.forBitSize(Vec.BITS));
    /** As many float lanes as {@link #D} has: the x and y halves widened and narrowed around the add. */
    private static final VectorSpecies<Float> FH = FloatVector.SPECIES_PREFERRED.withShape(VectorShape.forBitSize(Vec.BITS / 2));
    private static final int LD = D.length();

    private static final double INV_PI = 1 / Math.PI;
    private static final double PI_HI = Math.PI;
    /** π − PI_HI: the product k·PI_LO stays small, so k·π is exact to ≈ 1e-16 + k·3e-33. */
    private static final double PI_LO = 1.2246467991473532e-16;
    /** 1.5·2^52: adding it rounds to an integer k held in the low mantissa bits (its parity in bit 0). */
    private static final double ROUND = 0x1.8p52;
    private static final double S3 = -1.0 / 6;
    private static final double S5 = 1.0 / 120;
    private static final double S7 = -1.0 / 5040;
    private static final double S9 = 1.0 / 362880;
    private static final double S11 = -1.0 / 39916800;
    private static final double S13 = 1.0 / 6227020800.0;
    /** Per lane, the phase in units of π (even elements take sin, odd ones cos = sin(· + π/2)), and its angle. */
    private static final double[] PHASE = new double[16];
    private static final double[] PHASE_ANGLE = new double[16];

    static {
        for (int i = 1; i < PHASE.length; i += 2) {
            PHASE[i] = 0.5;
            PHASE_ANGLE[i] = Math.PI / 2;
        }
    }

    /** The ω of every element of one width (an odd element takes its even neighbour's), reused while E repeats. */
    private record Omegas(int dim, double[] w) {
    }

    private static volatile Omegas last;

    private Sinusoids() {
    }

    /** ω_e for e in [0, dim): computed once per width, as {@code ReferenceClassic.sinusoid} computes it. */
    static double[] omegas(int dim) {
        Omegas o = last;
        if (o == null || o.dim() != dim) {
            double[] w = new double[dim];
            for (int e = 0; e < dim; e++) {
                w[e] = Math.exp(-Math.log(10000.0) * (e - (e & 1)) / dim);
            }
            o = new Omegas(dim, w);
            last = o;
        }
        return o.w();
    }

    /**
     * y ← x + PE for positions offset + s, s in [from, to), every batch: rows of {@code dim} dense floats at
     * x[xo + b·xsb + s·xss] and y[yo + b·ysb + s·yss]; y may be x (each element is read before it is written).
     */
    static void add(float[] x, long xo, long xsb, long xss, float[] y, long yo, long ysb, long yss, int batch, int dim,
                    long offset, double[] w, int from, int to) {
        DoubleVector phase = DoubleVector.fromArray(D, PHASE, 0);
        DoubleVector phaseAngle = DoubleVector.fromArray(D, PHASE_ANGLE, 0);
        int bound = D.loopBound(dim);
        for (int s = from; s < to; s++) {
            double pos = offset + s;
            // each batch recomputes the row's sines: the innermost loop then runs over e, which C2 unrolls, so
            // the polynomials of neighbouring vectors overlap (a batch loop inside the e loop kept them apart)
            for (int b = 0; b < batch; b++) {
                row(x, (int) (xo + b * xsb + s * xss), y, (int) (yo + b * ysb + s * yss), w, pos, bound, phase, phaseAngle);
            }
            if (bound < dim) {
                tail(x, xo + s * xss, xsb, y, yo + s * yss, ysb, batch, bound, dim, pos, w);
            }
        }
    }

    /** y[yi + e] ← x[xi + e] + PE(pos, e) for e &lt; bound (a multiple of the double lanes). */
    private static void row(float[] x, int xi, float[] y, int yi, double[] w, double pos, int bound, DoubleVector phase,
                            DoubleVector phaseAngle) {
        for (int e = 0; e < bound; e += LD) {
            DoubleVector pe = sin(DoubleVector.fromArray(D, w, e).mul(pos), phase, phaseAngle);
            DoubleVector xv = (DoubleVector) FloatVector.fromArray(FH, x, xi + e).convertShape(VectorOperators.F2D, D, 0);
            ((FloatVector) xv.add(pe).convertShape(VectorOperators.D2F, FH, 0)).intoArray(y, yi + e);
        }
    }

    /** sin(a + phase·π) lane by lane (see the class comment). */
    private static DoubleVector sin(DoubleVector a, DoubleVector phase, DoubleVector phaseAngle) {
        DoubleVector t = a.fma(DoubleVector.broadcast(D, INV_PI), phase).add(ROUND);
        DoubleVector minusK = DoubleVector.broadcast(D, ROUND).sub(t);
        DoubleVector r = minusK.fma(DoubleVector.broadcast(D, PI_HI), a).add(phaseAngle);
        r = minusK.fma(DoubleVector.broadcast(D, PI_LO), r);
        DoubleVector r2 = r.mul(r);
        DoubleVector p = r2.fma(S13, S11);
        p = p.fma(r2, DoubleVector.broadcast(D, S9));
        p = p.fma(r2, DoubleVector.broadcast(D, S7));
        p = p.fma(r2, DoubleVector.broadcast(D, S5));
        p = p.fma(r2, DoubleVector.broadcast(D, S3));
        DoubleVector sin = p.mul(r2).fma(r, r);
        LongVector sign = ((LongVector) t.reinterpretAsLongs()).lanewise(VectorOperators.LSHL, 63);
        return ((LongVector) sin.reinterpretAsLongs()).lanewise(VectorOperators.XOR, sign).reinterpretAsDoubles();
    }

    /** Elements [from, dim) of one position, every batch: the reference's formula in scalar float64. */
    private static void tail(float[] x, long xRow, long xsb, float[] y, long yRow, long ysb, int batch, int from, int dim,
                             double pos, double[] w) {
        for (int e = from; e < dim; e++) {
            double pe = (e & 1) == 0 ? Math.sin(pos * w[e]) : Math.cos(pos * w[e]);
            for (int b = 0; b < batch; b++) {
                int xi = (int) (xRow + b * xsb) + e;
                int yi = (int) (yRow + b * ysb) + e;
                y[yi] = (float) (x[xi] + pe);
            }
        }
    }
}
