package dev.attn4j.simd;

import static dev.attn4j.testing.Fixtures.assertClose;

import dev.attn4j.api.Kernels;
import dev.attn4j.api.Tensor;
import dev.attn4j.testing.Fixtures;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The fast paths of the elementwise kernels (sinusoidal positions, residual add, rotary, small softmaxes)
 * against the float64 oracle, at the width of this JVM: sizes around every vector length, in place, heap
 * views at an offset or with padded rows, off-heap views, broadcasts, and calls large enough for the pool.
 */
class SimdElementwiseParityTest {
    private static final Kernels ORACLE = Parity.REFERENCE;
    private static final Kernels SIMD = Parity.SIMD;
    private static final int[] WIDTHS = {1, 2, 7, 8, 15, 16, 17, 33, 64, 129, 768};

    private static Tensor random(SplittableRandom rnd, int... shape) {
        return Tensor.of(Fixtures.random(rnd, Math.toIntExact(Tensor.count(shape)), -1f, 1f), shape);
    }

    /** The logical values of t in a heap view at element offset 5 whose last axis is padded by 3 (NaN). */
    private static Tensor padded(Tensor t) {
        int[] shape = t.shape();
        int last = shape[shape.length - 1];
        long[] strides = new long[shape.length];
        long s = 1;
        for (int axis = shape.length - 1; axis >= 0; axis--) {
            strides[axis] = s;
            s *= axis == shape.length - 1 ? last + 3 : shape[axis];
        }
        float[] big = new float[Math.toIntExact(5 + s)];
        Arrays.fill(big, Float.NaN);
        Tensor v = Tensor.view(big, 5, shape, strides);
        Fixtures.copyInto(t.toFloatArray(), v);
        return v;
    }

    // ------------------------------------------------------------------ sinusoidal positions

    /**
     * Every (seq, width, offset), offsets up to 2·10^9 (angles p·ω up to 2·10^9 rad: the two-part π of the
     * range reduction), at a bound far below the suite's 1e-5: the float64 polynomial (≈ 7e-10) plus one
     * rounding to float, so one float ulp of |y| ≤ 2.
     */
    @Test
    void sinusoidalPositionsAtEveryWidthAndOffset() {
        long seed = 9101;
        for (int dim : WIDTHS) {
            for (int seq : new int[] {1, 3, 33}) {
                for (int offset : new int[] {0, 1, 1000, 100_000, 2_000_000_000}) {
                    SplittableRandom rnd = new SplittableRandom(seed);
                    Tensor x = random(rnd, 2, seq, dim);
                    Tensor want = Tensor.zeros(2, seq, dim);
                    ORACLE.addSinusoidal(x, offset, want);
                    Tensor got = Tensor.zeros(2, seq, dim);
                    Fixtures.poison(got);
                    SIMD.addSinusoidal(x, offset, got);
                    String what = "addSinusoidal [2, " + seq + ", " + dim + "] offset " + offset;
                    assertClose(what, want, got, 3e-7, seed);
                    Tensor inPlace = Tensor.of(x.toFloatArray(), 2, seq, dim);
                    SIMD.addSinusoidal(inPlace, offset, inPlace);
                    assertClose(what + " in place", want, inPlace, 3e-7, seed);
                    Tensor pe = Tensor.zeros(seq, dim);
                    Fixtures.poison(pe);
                    SIMD.sinusoidal(offset, pe);
                    Tensor wantPe = Tensor.zeros(seq, dim);
                    ORACLE.sinusoidal(offset, wantPe);
                    assertClose(what + " table", wantPe, pe, 3e-7, seed);
                    seed++;
                }
            }
        }
    }

    @Test
    void sinusoidalPositionsOnStridedOffHeapAndLargeViews() {
        long seed = 9201;
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int dim : new int[] {17, 768}) {
            Tensor x = random(rnd, 3, 5, dim);
            Tensor want = Tensor.zeros(3, 5, dim);
            ORACLE.addSinusoidal(x, 777, want);
            Tensor y = padded(Tensor.zeros(3, 5, dim));
            SIMD.addSinusoidal(padded(x), 777, y);
            assertClose("addSinusoidal padded rows E=" + dim, want, y, 3e-7, seed);
            Tensor p = padded(x);
            SIMD.addSinusoidal(p, 777, p);
            assertClose("addSinusoidal padded rows in place E=" + dim, want, p, 3e-7, seed);
            // [S, B, E] memory seen as [B, S, E]: batch is the inner axis
            Tensor sbe = Tensor.zeros(5, 3, dim).permute(1, 0, 2);
            Fixtures.copyInto(x.toFloatArray(), sbe);
            SIMD.addSinusoidal(sbe, 777, sbe);
            assertClose("addSinusoidal [S, B, E] memory in place E=" + dim, want, sbe, 3e-7, seed);
            try (Arena arena = Arena.ofConfined()) {
                Tensor xo = Fixtures.offHeap(arena, x.toFloatArray(), 3, 5, dim);
                Tensor yo = Fixtures.offHeap(arena, new float[3 * 5 * dim], 3, 5, dim);
                SIMD.addSinusoidal(xo, 777, yo);
                assertClose("addSinusoidal off-heap E=" + dim, want, yo, 3e-7, seed);
            }
        }
        // enough rows for the pool, and a batch whose rows share each position's table
        Tensor x = random(rnd, 3, 200, 768);
        Tensor want = Tensor.zeros(3, 200, 768);
        ORACLE.addSinusoidal(x, 100_000, want);
        Tensor got = Tensor.zeros(3, 200, 768);
        SIMD.addSinusoidal(x, 100_000, got);
        assertClose("addSinusoidal [3, 200, 768] offset 100000", want, got, 3e-7, seed);
    }

    // ------------------------------------------------------------------ residual add

    @Test
    void addOnEveryLayoutAndBroadcast() {
        long seed = 9301;
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int n : WIDTHS) {
            for (int rows : new int[] {1, 5}) {
                String at = " [" + rows + ", " + n + "]";
                Tensor a = random(rnd, rows, n);
                Tensor b = random(rnd, rows, n);
                Tensor want = Tensor.zeros(rows, n);
                ORACLE.add(a, b, want);
                Tensor got = Tensor.zeros(rows, n);
                Fixtures.poison(got);
                SIMD.add(a, b, got);
                assertClose("add" + at, want, got, 1e-7, seed);
                Tensor ya = Tensor.of(a.toFloatArray(), rows, n);
                SIMD.add(ya, b, ya);
                assertClose("add in place y = a" + at, want, ya, 1e-7, seed);
                Tensor yb = Tensor.of(b.toFloatArray(), rows, n);
                SIMD.add(a, yb, yb);
                assertClose("add in place y = b" + at, want, yb, 1e-7, seed);
                Tensor yp = padded(Tensor.zeros(rows, n));
                SIMD.add(padded(a), padded(b), yp);
                assertClose("add padded rows" + at, want, yp, 1e-7, seed);
                Tensor ap = padded(a);
                SIMD.add(ap, b, ap);
                assertClose("add padded rows in place" + at, want, ap, 1e-7, seed);
                // contiguous views at an offset of one array
                float[] both = new float[2 * rows * n + 3];
                Tensor ao = Tensor.view(both, 3, new int[] {rows, n}, Tensor.contiguousStrides(rows, n));
                Tensor bo = Tensor.view(both, 3 + rows * n, new int[] {rows, n}, Tensor.contiguousStrides(rows, n));
                Fixtures.copyInto(a.toFloatArray(), ao);
                Fixtures.copyInto(b.toFloatArray(), bo);
                SIMD.add(ao, bo, bo);
                assertClose("add views at offsets of one array" + at, want, bo, 1e-7, seed);
                try (Arena arena = Arena.ofConfined()) {
                    Tensor yo = Fixtures.offHeap(arena, new float[rows * n], rows, n);
                    SIMD.add(Fixtures.offHeap(arena, a.toFloatArray(), rows, n), b, yo);
                    assertClose("add off-heap" + at, want, yo, 1e-7, seed);
                }
                for (int[] bShape : new int[][] {{n}, {1, n}, {1}, {rows, 1}, {1, 1}}) {
                    Tensor bias = random(rnd, bShape);
                    ORACLE.add(a, bias, want);
                    got = Tensor.zeros(rows, n);
                    Fixtures.poison(got);
                    SIMD.add(a, bias, got);
                    assertClose("add broadcast " + Arrays.toString(bShape) + at, want, got, 1e-7, seed);
                    Tensor in = Tensor.of(a.toFloatArray(), rows, n);
                    SIMD.add(in, padded(bias), in);
                    assertClose("add padded broadcast in place " + Arrays.toString(bShape) + at, want, in, 1e-7, seed);
                }
            }
        }
        // large enough for the pool
        Tensor a = random(rnd, 300, 1021);
        Tensor b = random(rnd, 300, 1021);
        Tensor want = Tensor.zeros(300, 1021);
        ORACLE.add(a, b, want);
        SIMD.add(a, b, a);
        assertClose("add [300, 1021] in place", want, a, 1e-7, seed);
    }

    // ------------------------------------------------------------------ rotary

    @Test
    void rotaryAtOddHalvesWideCachesAndLargeCalls() {
        long seed = 9401;
        SplittableRandom rnd = new SplittableRandom(seed);
        // the last case is large enough for the pool
        for (int[] c : new int[][] {{1, 3, 1, 2}, {2, 3, 5, 34}, {1, 2, 3, 66}, {1, 12, 128, 64}, {2, 4, 33, 130},
                {2, 8, 300, 64}}) {
            int b = c[0];
            int h = c[1];
            int s = c[2];
            int d = c[3];
            for (int rotaryDim : new int[] {d, d - 2}) {
                if (rotaryDim == 0) {
                    continue; // d = 2: only the full rotation
                }
                int half = (rotaryDim == 0 ? d : rotaryDim) / 2;
                for (boolean interleaved : new boolean[] {false, true}) {
                    Tensor x = random(rnd, b, h, s, d);
                    // a cache wider than half (its rows stay dense), positions anywhere in it
                    Tensor cos = random(rnd, 300, half + 5).narrow(1, 2, half);
                    Tensor sin = random(rnd, 300, half + 5).narrow(1, 2, half);
                    int[] pos = new int[b * s];
                    for (int i = 0; i < pos.length; i++) {
                        pos[i] = rnd.nextInt(300);
                    }
                    String what = "rotary " + Arrays.toString(c) + " rotaryDim=" + rotaryDim + " interleaved=" + interleaved;
                    Tensor want = assertRotary(what, x, cos, sin, pos, rotaryDim, interleaved, seed);
                    try (Arena arena = Arena.ofConfined()) {
                        Tensor yo = Fixtures.offHeap(arena, new float[b * h * s * d], b, h, s, d);
                        SIMD.rotary(Fixtures.offHeap(arena, x.toFloatArray(), b, h, s, d), cos, sin, pos, rotaryDim,
                                interleaved, yo);
                        assertClose(what + " off-heap", want, yo, 1e-6, seed);
                    }
                }
            }
        }
    }

    /**
     * SIMD's rotary of x against the oracle's, into a poisoned output and in place over a padded copy of x;
     * returns the oracle's result.
     */
    private static Tensor assertRotary(String what, Tensor x, Tensor cos, Tensor sin, int[] pos, int rotaryDim,
                                       boolean interleaved, long seed) {
        Tensor want = Tensor.zeros(x.shape());
        ORACLE.rotary(x, cos, sin, pos, rotaryDim, interleaved, want);
        Tensor got = Tensor.zeros(x.shape());
        Fixtures.poison(got);
        SIMD.rotary(x, cos, sin, pos, rotaryDim, interleaved, got);
        assertClose(what, want, got, 1e-6, seed);
        Tensor p = padded(x);
        SIMD.rotary(p, cos, sin, pos, rotaryDim, interleaved, p);
        assertClose(what + " padded in place", want, p, 1e-6, seed);
        return want;
    }

    /**
     * One token (S = 1, the decode step's call): its cos and sin row is loaded once for all heads. Heads 1 … 12,
     * halves that are whole vectors, have a tail, or none; positions or per-token caches; in place and padded;
     * a batch of 40 tokens on the pool.
     */
    @Test
    void rotaryOfOneTokenAcrossHeads() {
        long seed = 9411;
        SplittableRandom rnd = new SplittableRandom(seed);
        // the last case is large enough (B·H·D ≥ 2^15) for the pool, one token per item
        for (int[] c : new int[][] {{1, 12, 64}, {3, 7, 66}, {2, 1, 130}, {1, 5, 34}, {2, 3, 2}, {1, 12, 256},
                {40, 8, 128}}) {
            int b = c[0];
            int h = c[1];
            int d = c[2];
            for (int rotaryDim : new int[] {d, d - 2}) {
                if (rotaryDim == 0) {
                    continue;
                }
                int half = rotaryDim / 2;
                for (boolean withPositions : new boolean[] {true, false}) {
                    for (boolean interleaved : new boolean[] {false, true}) {
                        Tensor x = random(rnd, b, h, 1, d);
                        Tensor cos = withPositions ? random(rnd, 40, half + 3).narrow(1, 1, half) : random(rnd, b, 1, half);
                        Tensor sin = withPositions ? random(rnd, 40, half + 3).narrow(1, 1, half) : random(rnd, b, 1, half);
                        int[] pos = null;
                        if (withPositions) {
                            pos = new int[b];
                            for (int i = 0; i < b; i++) {
                                pos[i] = rnd.nextInt(40);
                            }
                        }
                        String what = "rotary one token " + Arrays.toString(c) + " rotaryDim=" + rotaryDim
                                + " positions=" + withPositions + " interleaved=" + interleaved;
                        Tensor want = assertRotary(what, x, cos, sin, pos, rotaryDim, interleaved, seed);
                        Tensor inPlace = Tensor.of(x.toFloatArray(), b, h, 1, d);
                        SIMD.rotary(inPlace, cos, sin, pos, rotaryDim, interleaved, inPlace);
                        assertClose(what + " in place", want, inPlace, 1e-6, seed);
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------ small softmaxes

    @Test
    void smallSoftmaxesOnTheCallersThread() {
        long seed = 9501;
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int n : new int[] {1, 3, 15, 16, 17, 31, 33, 128, 129}) {
            for (int rows : new int[] {1, 12}) {
                String at = " [" + rows + ", " + n + "]";
                Tensor x = Tensor.of(Fixtures.random(rnd, rows * n, -8f, 8f), rows, n);
                Tensor want = Tensor.zeros(rows, n);
                ORACLE.softmax(x, -1, want);
                Tensor got = Tensor.zeros(rows, n);
                Fixtures.poison(got);
                SIMD.softmax(x, -1, got);
                assertClose("softmax" + at, want, got, 1e-5, seed);
                float[] big = new float[rows * n + 9];
                Tensor at9 = Tensor.view(big, 9, new int[] {rows, n}, Tensor.contiguousStrides(rows, n));
                Fixtures.copyInto(x.toFloatArray(), at9);
                SIMD.softmax(at9, 1, at9);
                assertClose("softmax in place at an offset" + at, want, at9, 1e-5, seed);
                Tensor p = padded(x);
                SIMD.softmax(p, -1, p);
                assertClose("softmax padded rows in place" + at, want, p, 1e-5, seed);
            }
        }
    }
}
