package dev.attn4j.simd;

import static dev.attn4j.simd.DecodeBlocks.SWAP_EIGHTH;
import static dev.attn4j.simd.DecodeBlocks.SWAP_HALF;
import static dev.attn4j.simd.DecodeBlocks.SWAP_QUARTER;
import static dev.attn4j.simd.DecodeBlocks.SWAP_SIXTEENTH;
import static dev.attn4j.simd.DecodeBlocks.UPPER_HALF;
import static dev.attn4j.simd.DecodeBlocks.UPPER_EIGHTH;
import static dev.attn4j.simd.DecodeBlocks.UPPER_QUARTER;
import static dev.attn4j.simd.DecodeBlocks.UPPER_SIXTEENTH;
import static dev.attn4j.simd.Vec.F;
import static dev.attn4j.simd.Vec.L;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;

/**
 * The decode's kernels of {@link DecodeBlocks} at 512 bits and D = 128 with K and V read straight from a
 * float32 {@link MemorySegment} (an off-heap KV cache), instead of copying each 64-key tile to the heap
 * first: the scores in quarters ({@link #scoresQuarters}) or halves ({@link #scores4x2Halves},
 * {@link #scoresKeys4Halves}, {@link #dot} for an odd last key), the P·V of row pairs and single rows; the
 * same loads, FMAs and reduction tree, in the same order, so the same bits as over heap arrays
 * ({@code SimdAttentionParityTest.decodeOverAnOffHeapKvCache}). Offsets and strides are in bytes. A cache
 * allocated on 64-byte lines with rows of 512 bytes gets every load line-aligned, which Java cannot promise
 * for a heap array (see {@link HeapAlignment}). Other head dims and species keep the tile copies.
 */
final class DecodeSegments {
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    /** Bytes per vector. */
    private static final long VB = 4L * L;

    private DecodeSegments() {
    }

    /** Whether these kernels serve a decode of head dims d (K) and dv (V). */
    static boolean serve(int d, int dv) {
        return L == 16 && d == 8 * L && dv == 8 * L;
    }

    /** {@link DecodeBlocks#scoresKeys4Halves} for d = 8·L over K in a segment. */
    static void scoresKeys4Halves(float[] q, int qAt, MemorySegment k, long kAt, long kss, float[] sc, int sAt,
                                  int pairs, int half, float[] lanes) {
        int quads = pairs / 2;
        scoresQuads(q, qAt, k, kAt, 2 * kss, kss, half * kss, sc, sAt, quads, 2, half, lanes);
        if (2 * quads < pairs) {
            int last = 2 * quads;
            sc[sAt + last] = dot(q, qAt, k, kAt + last * kss);
            sc[sAt + half + last] = dot(q, qAt, k, kAt + (half + last) * kss);
        }
    }

    /**
     * {@link DecodeBlocks#scoresQuarters} over K in a segment (offsets and strides in bytes): the same quads,
     * transpose and bits; the keys past the last whole block in halves ({@link #scores4x2Halves}, an odd last
     * key by {@link #dot}).
     */
    static void scoresQuarters(float[] q, int qAt, int qStep, MemorySegment k, long kAt, long kss, float[] sc,
                               int sAt, int sStep, int n, float[] quads, float[] lanes) {
        int whole = n - n % DecodeBlocks.QUARTER_BLOCK;
        int quarter = whole / 4;
        scores4x4(q, qAt, qStep, k, kAt, kss, quarter * kss, quads, quarter);
        DecodeBlocks.quadsToRows(quads, quarter, sc, sAt, sStep);
        int rest = n - whole;
        int half = rest / 2;
        long restAt = kAt + whole * kss;
        scores4x2Halves(q, qAt, qStep, k, restAt, kss, sc, sAt + whole, sStep, half, half, lanes);
        if (2 * half < rest) {
            for (int t = 0; t < 4; t++) {
                sc[sAt + t * sStep + n - 1] = dot(q, qAt + t * qStep, k, restAt + 2 * half * kss);
            }
        }
    }

    /**
     * {@link DecodeBlocks}' kernel of the same name at d = 8·L; offsets in bytes. (The same loop and butterfly
     * written out again: a helper taking the sixteen vectors would box them where C2 leaves it out of line.)
     */
    private static void scores4x4(float[] q, int qAt, int qStep, MemorySegment k, long kAt, long kss, long quarterStep,
                                  float[] quads, int n) {
        int q1 = qAt + qStep;
        int q2 = q1 + qStep;
        int q3 = q2 + qStep;
        for (int i = 0; i < n; i++) {
            long k0 = kAt + i * kss;
            long k1 = k0 + quarterStep;
            long k2 = k1 + quarterStep;
            long k3 = k2 + quarterStep;
            FloatVector a00 = FloatVector.zero(F);
            FloatVector a01 = a00;
            FloatVector a02 = a00;
            FloatVector a03 = a00;
            FloatVector a10 = a00;
            FloatVector a11 = a00;
            FloatVector a12 = a00;
            FloatVector a13 = a00;
            FloatVector a20 = a00;
            FloatVector a21 = a00;
            FloatVector a22 = a00;
            FloatVector a23 = a00;
            FloatVector a30 = a00;
            FloatVector a31 = a00;
            FloatVector a32 = a00;
            FloatVector a33 = a00;
            for (int e = 0; e < 8 * L; e += L) {
                long at = e * 4L;
                FloatVector x0 = FloatVector.fromMemorySegment(F, k, k0 + at, NATIVE);
                FloatVector x1 = FloatVector.fromMemorySegment(F, k, k1 + at, NATIVE);
                FloatVector x2 = FloatVector.fromMemorySegment(F, k, k2 + at, NATIVE);
                FloatVector x3 = FloatVector.fromMemorySegment(F, k, k3 + at, NATIVE);
                FloatVector y = FloatVector.fromArray(F, q, qAt + e);
                a00 = y.fma(x0, a00);
                a01 = y.fma(x1, a01);
                a02 = y.fma(x2, a02);
                a03 = y.fma(x3, a03);
                y = FloatVector.fromArray(F, q, q1 + e);
                a10 = y.fma(x0, a10);
                a11 = y.fma(x1, a11);
                a12 = y.fma(x2, a12);
                a13 = y.fma(x3, a13);
                y = FloatVector.fromArray(F, q, q2 + e);
                a20 = y.fma(x0, a20);
                a21 = y.fma(x1, a21);
                a22 = y.fma(x2, a22);
                a23 = y.fma(x3, a23);
                y = FloatVector.fromArray(F, q, q3 + e);
                a30 = y.fma(x0, a30);
                a31 = y.fma(x1, a31);
                a32 = y.fma(x2, a32);
                a33 = y.fma(x3, a33);
            }
            // DecodeBlocks.scores4x4's butterfly: row t, quarter u to lane 4·t + u
            FloatVector e00 = a00.blend(a20, UPPER_HALF).add(a20.blend(a00, UPPER_HALF).rearrange(SWAP_HALF));
            FloatVector e01 = a01.blend(a21, UPPER_HALF).add(a21.blend(a01, UPPER_HALF).rearrange(SWAP_HALF));
            FloatVector e02 = a02.blend(a22, UPPER_HALF).add(a22.blend(a02, UPPER_HALF).rearrange(SWAP_HALF));
            FloatVector e03 = a03.blend(a23, UPPER_HALF).add(a23.blend(a03, UPPER_HALF).rearrange(SWAP_HALF));
            FloatVector e10 = a10.blend(a30, UPPER_HALF).add(a30.blend(a10, UPPER_HALF).rearrange(SWAP_HALF));
            FloatVector e11 = a11.blend(a31, UPPER_HALF).add(a31.blend(a11, UPPER_HALF).rearrange(SWAP_HALF));
            FloatVector e12 = a12.blend(a32, UPPER_HALF).add(a32.blend(a12, UPPER_HALF).rearrange(SWAP_HALF));
            FloatVector e13 = a13.blend(a33, UPPER_HALF).add(a33.blend(a13, UPPER_HALF).rearrange(SWAP_HALF));
            FloatVector f0 = e00.blend(e10, UPPER_QUARTER).add(e10.blend(e00, UPPER_QUARTER).rearrange(SWAP_QUARTER));
            FloatVector f1 = e01.blend(e11, UPPER_QUARTER).add(e11.blend(e01, UPPER_QUARTER).rearrange(SWAP_QUARTER));
            FloatVector f2 = e02.blend(e12, UPPER_QUARTER).add(e12.blend(e02, UPPER_QUARTER).rearrange(SWAP_QUARTER));
            FloatVector f3 = e03.blend(e13, UPPER_QUARTER).add(e13.blend(e03, UPPER_QUARTER).rearrange(SWAP_QUARTER));
            FloatVector g0 = f0.blend(f2, UPPER_EIGHTH).add(f2.blend(f0, UPPER_EIGHTH).rearrange(SWAP_EIGHTH));
            FloatVector g1 = f1.blend(f3, UPPER_EIGHTH).add(f3.blend(f1, UPPER_EIGHTH).rearrange(SWAP_EIGHTH));
            g0.blend(g1, UPPER_SIXTEENTH).add(g1.blend(g0, UPPER_SIXTEENTH).rearrange(SWAP_SIXTEENTH))
                    .intoArray(quads, i * L);
        }
    }

    /** {@link DecodeBlocks}' kernel of the same name; offsets in bytes. */
    private static void scoresQuads(float[] q, int qAt, MemorySegment k, long kAt, long quadStep, long kss,
                                    long second, float[] sc, int sAt, int quads, int scStep, int scSecond,
                                    float[] lanes) {
        for (int i = 0; i < quads; i++) {
            long k0 = kAt + i * quadStep;
            long k1 = k0 + kss;
            long k2 = k0 + second;
            long k3 = k2 + kss;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            for (int e = 0; e < 8; e++) {
                FloatVector y = FloatVector.fromArray(F, q, qAt + e * L);
                long at = e * VB;
                a0 = y.fma(FloatVector.fromMemorySegment(F, k, k0 + at, NATIVE), a0);
                a1 = y.fma(FloatVector.fromMemorySegment(F, k, k1 + at, NATIVE), a1);
                a2 = y.fma(FloatVector.fromMemorySegment(F, k, k2 + at, NATIVE), a2);
                a3 = y.fma(FloatVector.fromMemorySegment(F, k, k3 + at, NATIVE), a3);
            }
            DecodeBlocks.tree4(a0, a1, a2, a3).intoArray(lanes, 0);
            int at = sAt + i * scStep;
            sc[at] = lanes[DecodeBlocks.LANE0];
            sc[at + 1] = lanes[DecodeBlocks.LANE1];
            sc[at + scSecond] = lanes[DecodeBlocks.LANE2];
            sc[at + scSecond + 1] = lanes[DecodeBlocks.LANE3];
        }
    }

    /** {@link DecodeBlocks#accumulate4} for dv = 8·L over V in a segment (row j at byte vAt + j·vss). */
    static void accumulate4(float[] w, int wAt, int wStep, MemorySegment v, long vAt, long vss, int n, float[] acc,
                            int aAt, int aStep) {
        int w2 = wAt + 2 * wStep;
        int c2 = aAt + 2 * aStep;
        accumulatePair8(w, wAt, wAt + wStep, v, vAt, vAt, vss, n, acc, aAt, aAt + aStep);
        accumulatePair8(w, w2, w2 + wStep, v, vAt, vAt, vss, n, acc, c2, c2 + aStep);
    }

    /** q·k for one key of 8·L floats: {@link DecodeBlocks#scores}' chain and tree ({@link DecodeBlocks#tree1}). */
    static float dot(float[] q, int qAt, MemorySegment k, long kAt) {
        FloatVector acc = FloatVector.zero(F);
        for (int e = 0; e < 8; e++) {
            FloatVector x = FloatVector.fromMemorySegment(F, k, kAt + e * VB, NATIVE);
            acc = FloatVector.fromArray(F, q, qAt + e * L).fma(x, acc);
        }
        return DecodeBlocks.tree1(acc);
    }

    /** {@link DecodeBlocks#scores4x2Halves} over K in a segment (row j at byte kAt + j·kss). */
    static void scores4x2Halves(float[] q, int qAt, int qStep, MemorySegment k, long kAt, long kss, float[] sc,
                                int sAt, int sStep, int pairs, int half, float[] lanes) {
        int q2 = qAt + 2 * qStep;
        long second = half * kss;
        scoresPairs8(q, qAt, qAt + qStep, k, kAt, kss, second, sc, sAt, sAt + sStep, pairs, 1, half, lanes);
        scoresPairs8(q, q2, q2 + qStep, k, kAt, kss, second, sc, sAt + 2 * sStep, sAt + 3 * sStep, pairs, 1, half,
                lanes);
    }

    /** {@link DecodeBlocks}' kernel of the same name (the butterfly written out, as there); offsets in bytes. */
    private static void scoresPairs8(float[] q, int qa, int qb, MemorySegment k, long kAt, long pairStep, long second,
                                     float[] sc, int sa, int sb, int pairs, int scStep, int scSecond, float[] lanes) {
        FloatVector p0 = FloatVector.fromArray(F, q, qa);
        FloatVector p1 = FloatVector.fromArray(F, q, qa + L);
        FloatVector p2 = FloatVector.fromArray(F, q, qa + 2 * L);
        FloatVector p3 = FloatVector.fromArray(F, q, qa + 3 * L);
        FloatVector p4 = FloatVector.fromArray(F, q, qa + 4 * L);
        FloatVector p5 = FloatVector.fromArray(F, q, qa + 5 * L);
        FloatVector p6 = FloatVector.fromArray(F, q, qa + 6 * L);
        FloatVector p7 = FloatVector.fromArray(F, q, qa + 7 * L);
        FloatVector r0 = FloatVector.fromArray(F, q, qb);
        FloatVector r1 = FloatVector.fromArray(F, q, qb + L);
        FloatVector r2 = FloatVector.fromArray(F, q, qb + 2 * L);
        FloatVector r3 = FloatVector.fromArray(F, q, qb + 3 * L);
        FloatVector r4 = FloatVector.fromArray(F, q, qb + 4 * L);
        FloatVector r5 = FloatVector.fromArray(F, q, qb + 5 * L);
        FloatVector r6 = FloatVector.fromArray(F, q, qb + 6 * L);
        FloatVector r7 = FloatVector.fromArray(F, q, qb + 7 * L);
        FloatVector zero = FloatVector.zero(F);
        for (int i = 0; i < pairs; i++) {
            long k0 = kAt + i * pairStep;
            long k1 = k0 + second;
            FloatVector x0 = FloatVector.fromMemorySegment(F, k, k0, NATIVE);
            FloatVector x1 = FloatVector.fromMemorySegment(F, k, k1, NATIVE);
            FloatVector a0 = p0.fma(x0, zero);
            FloatVector b0 = r0.fma(x0, zero);
            FloatVector a1 = p0.fma(x1, zero);
            FloatVector b1 = r0.fma(x1, zero);
            x0 = FloatVector.fromMemorySegment(F, k, k0 + VB, NATIVE);
            x1 = FloatVector.fromMemorySegment(F, k, k1 + VB, NATIVE);
            a0 = p1.fma(x0, a0);
            b0 = r1.fma(x0, b0);
            a1 = p1.fma(x1, a1);
            b1 = r1.fma(x1, b1);
            x0 = FloatVector.fromMemorySegment(F, k, k0 + 2 * VB, NATIVE);
            x1 = FloatVector.fromMemorySegment(F, k, k1 + 2 * VB, NATIVE);
            a0 = p2.fma(x0, a0);
            b0 = r2.fma(x0, b0);
            a1 = p2.fma(x1, a1);
            b1 = r2.fma(x1, b1);
            x0 = FloatVector.fromMemorySegment(F, k, k0 + 3 * VB, NATIVE);
            x1 = FloatVector.fromMemorySegment(F, k, k1 + 3 * VB, NATIVE);
            a0 = p3.fma(x0, a0);
            b0 = r3.fma(x0, b0);
            a1 = p3.fma(x1, a1);
            b1 = r3.fma(x1, b1);
            x0 = FloatVector.fromMemorySegment(F, k, k0 + 4 * VB, NATIVE);
            x1 = FloatVector.fromMemorySegment(F, k, k1 + 4 * VB, NATIVE);
            a0 = p4.fma(x0, a0);
            b0 = r4.fma(x0, b0);
            a1 = p4.fma(x1, a1);
            b1 = r4.fma(x1, b1);
            x0 = FloatVector.fromMemorySegment(F, k, k0 + 5 * VB, NATIVE);
            x1 = FloatVector.fromMemorySegment(F, k, k1 + 5 * VB, NATIVE);
            a0 = p5.fma(x0, a0);
            b0 = r5.fma(x0, b0);
            a1 = p5.fma(x1, a1);
            b1 = r5.fma(x1, b1);
            x0 = FloatVector.fromMemorySegment(F, k, k0 + 6 * VB, NATIVE);
            x1 = FloatVector.fromMemorySegment(F, k, k1 + 6 * VB, NATIVE);
            a0 = p6.fma(x0, a0);
            b0 = r6.fma(x0, b0);
            a1 = p6.fma(x1, a1);
            b1 = r6.fma(x1, b1);
            x0 = FloatVector.fromMemorySegment(F, k, k0 + 7 * VB, NATIVE);
            x1 = FloatVector.fromMemorySegment(F, k, k1 + 7 * VB, NATIVE);
            a0 = p7.fma(x0, a0);
            b0 = r7.fma(x0, b0);
            a1 = p7.fma(x1, a1);
            b1 = r7.fma(x1, b1);
            // pair(a0, a1) and pair(b0, b1) at L/2, their pair at L/4, then the last two levels in full:
            // lanes 0, 8 hold row a's keys 0 and 1, lanes 4, 12 row b's
            FloatVector za = a0.blend(a1, UPPER_HALF).add(a1.blend(a0, UPPER_HALF).rearrange(SWAP_HALF));
            FloatVector zb = b0.blend(b1, UPPER_HALF).add(b1.blend(b0, UPPER_HALF).rearrange(SWAP_HALF));
            FloatVector z = za.blend(zb, UPPER_QUARTER).add(zb.blend(za, UPPER_QUARTER).rearrange(SWAP_QUARTER));
            z = z.add(z.rearrange(SWAP_EIGHTH));
            z.add(z.rearrange(SWAP_SIXTEENTH)).intoArray(lanes, 0);
            int at = sa + i * scStep;
            sc[at] = lanes[0];
            sc[at + scSecond] = lanes[8];
            at = sb + i * scStep;
            sc[at] = lanes[4];
            sc[at + scSecond] = lanes[12];
        }
    }

    /** {@link DecodeBlocks#accumulatePair8} over V in a segment (offsets in bytes). */
    static void accumulatePair8(float[] w, int wa, int wb, MemorySegment v, long vAt, long vBt, long vss, int n,
                                  float[] acc, int ca, int cb) {
        FloatVector x0 = FloatVector.fromArray(F, acc, ca);
        FloatVector x1 = FloatVector.fromArray(F, acc, ca + L);
        FloatVector x2 = FloatVector.fromArray(F, acc, ca + 2 * L);
        FloatVector x3 = FloatVector.fromArray(F, acc, ca + 3 * L);
        FloatVector x4 = FloatVector.fromArray(F, acc, ca + 4 * L);
        FloatVector x5 = FloatVector.fromArray(F, acc, ca + 5 * L);
        FloatVector x6 = FloatVector.fromArray(F, acc, ca + 6 * L);
        FloatVector x7 = FloatVector.fromArray(F, acc, ca + 7 * L);
        FloatVector y0 = FloatVector.fromArray(F, acc, cb);
        FloatVector y1 = FloatVector.fromArray(F, acc, cb + L);
        FloatVector y2 = FloatVector.fromArray(F, acc, cb + 2 * L);
        FloatVector y3 = FloatVector.fromArray(F, acc, cb + 3 * L);
        FloatVector y4 = FloatVector.fromArray(F, acc, cb + 4 * L);
        FloatVector y5 = FloatVector.fromArray(F, acc, cb + 5 * L);
        FloatVector y6 = FloatVector.fromArray(F, acc, cb + 6 * L);
        FloatVector y7 = FloatVector.fromArray(F, acc, cb + 7 * L);
        for (int j = 0; j < n; j++) {
            long at = vAt + j * vss;
            long bt = vBt + j * vss;
            FloatVector ba = FloatVector.broadcast(F, w[wa + j]);
            FloatVector bb = FloatVector.broadcast(F, w[wb + j]);
            x0 = FloatVector.fromMemorySegment(F, v, at, NATIVE).fma(ba, x0);
            y0 = FloatVector.fromMemorySegment(F, v, bt, NATIVE).fma(bb, y0);
            x1 = FloatVector.fromMemorySegment(F, v, at + VB, NATIVE).fma(ba, x1);
            y1 = FloatVector.fromMemorySegment(F, v, bt + VB, NATIVE).fma(bb, y1);
            x2 = FloatVector.fromMemorySegment(F, v, at + 2 * VB, NATIVE).fma(ba, x2);
            y2 = FloatVector.fromMemorySegment(F, v, bt + 2 * VB, NATIVE).fma(bb, y2);
            x3 = FloatVector.fromMemorySegment(F, v, at + 3 * VB, NATIVE).fma(ba, x3);
            y3 = FloatVector.fromMemorySegment(F, v, bt + 3 * VB, NATIVE).fma(bb, y3);
            x4 = FloatVector.fromMemorySegment(F, v, at + 4 * VB, NATIVE).fma(ba, x4);
            y4 = FloatVector.fromMemorySegment(F, v, bt + 4 * VB, NATIVE).fma(bb, y4);
            x5 = FloatVector.fromMemorySegment(F, v, at + 5 * VB, NATIVE).fma(ba, x5);
            y5 = FloatVector.fromMemorySegment(F, v, bt + 5 * VB, NATIVE).fma(bb, y5);
            x6 = FloatVector.fromMemorySegment(F, v, at + 6 * VB, NATIVE).fma(ba, x6);
            y6 = FloatVector.fromMemorySegment(F, v, bt + 6 * VB, NATIVE).fma(bb, y6);
            x7 = FloatVector.fromMemorySegment(F, v, at + 7 * VB, NATIVE).fma(ba, x7);
            y7 = FloatVector.fromMemorySegment(F, v, bt + 7 * VB, NATIVE).fma(bb, y7);
        }
        x0.intoArray(acc, ca);
        x1.intoArray(acc, ca + L);
        x2.intoArray(acc, ca + 2 * L);
        x3.intoArray(acc, ca + 3 * L);
        x4.intoArray(acc, ca + 4 * L);
        x5.intoArray(acc, ca + 5 * L);
        x6.intoArray(acc, ca + 6 * L);
        x7.intoArray(acc, ca + 7 * L);
        y0.intoArray(acc, cb);
        y1.intoArray(acc, cb + L);
        y2.intoArray(acc, cb + 2 * L);
        y3.intoArray(acc, cb + 3 * L);
        y4.intoArray(acc, cb + 4 * L);
        y5.intoArray(acc, cb + 5 * L);
        y6.intoArray(acc, cb + 6 * L);
        y7.intoArray(acc, cb + 7 * L);
    }

    /** {@link DecodeBlocks#accumulate} at dv = 8·L over V in a segment: its whole-row kernel, accumulate1Whole8. */
    static void accumulate(float[] w, int wa, MemorySegment v, long vAt, long vss, int n, float[] acc, int ca) {
        FloatVector x0 = FloatVector.fromArray(F, acc, ca);
        FloatVector x1 = FloatVector.fromArray(F, acc, ca + L);
        FloatVector x2 = FloatVector.fromArray(F, acc, ca + 2 * L);
        FloatVector x3 = FloatVector.fromArray(F, acc, ca + 3 * L);
        FloatVector x4 = FloatVector.fromArray(F, acc, ca + 4 * L);
        FloatVector x5 = FloatVector.fromArray(F, acc, ca + 5 * L);
        FloatVector x6 = FloatVector.fromArray(F, acc, ca + 6 * L);
        FloatVector x7 = FloatVector.fromArray(F, acc, ca + 7 * L);
        for (int j = 0; j < n; j++) {
            long at = vAt + j * vss;
            FloatVector ba = FloatVector.broadcast(F, w[wa + j]);
            x0 = FloatVector.fromMemorySegment(F, v, at, NATIVE).fma(ba, x0);
            x1 = FloatVector.fromMemorySegment(F, v, at + VB, NATIVE).fma(ba, x1);
            x2 = FloatVector.fromMemorySegment(F, v, at + 2 * VB, NATIVE).fma(ba, x2);
            x3 = FloatVector.fromMemorySegment(F, v, at + 3 * VB, NATIVE).fma(ba, x3);
            x4 = FloatVector.fromMemorySegment(F, v, at + 4 * VB, NATIVE).fma(ba, x4);
            x5 = FloatVector.fromMemorySegment(F, v, at + 5 * VB, NATIVE).fma(ba, x5);
            x6 = FloatVector.fromMemorySegment(F, v, at + 6 * VB, NATIVE).fma(ba, x6);
            x7 = FloatVector.fromMemorySegment(F, v, at + 7 * VB, NATIVE).fma(ba, x7);
        }
        x0.intoArray(acc, ca);
        x1.intoArray(acc, ca + L);
        x2.intoArray(acc, ca + 2 * L);
        x3.intoArray(acc, ca + 3 * L);
        x4.intoArray(acc, ca + 4 * L);
        x5.intoArray(acc, ca + 5 * L);
        x6.intoArray(acc, ca + 6 * L);
        x7.intoArray(acc, ca + 7 * L);
    }
}
