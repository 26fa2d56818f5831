package dev.attn4j.simd;

import static dev.attn4j.simd.Vec.F;
import static dev.attn4j.simd.Vec.L;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;

/**
 * The decode's hot loops over one block of K or V that sits in L1: scores q·k_j and the weighted sum
 * Σ_j w_j·v_j, for one query row or for four rows at once (the query heads of a GQA group share their K/V
 * head, so four rows load each K and V vector once instead of four times).
 *
 * <p>A dot product's vector partial sums are reduced by a fixed pairwise tree (lanes i and i ^ h added for
 * h = L/2, L/4, …, 1), four rows' partial vectors sharing the first two levels through blends and one
 * permute per pair. The tree is the same in the one- and four-row kernels, so a row's score does not
 * depend on how rows are grouped; it replaced a lane-by-lane scalar sum (a store and L dependent adds
 * per key and row, the decode's largest cost). Like the lane-order sum it is a fixed order, which
 * {@code reduceLanes} is not.
 *
 * <p>At 512 bits with D = 64 or 128 the kernels keep more in registers: the four (D = 64) or two (D = 128)
 * rows' q vectors across the keys, and for P·V at D = 128 two rows' whole 128-column accumulators, so
 * that each key's V row is read in order. What the step's time fits on the 2-vCPU Zen 5 VM: the K/V read
 * roof plus these kernels' time with the tile in L1 (they do not overlap), so fewer loads and uops per
 * key pay directly; see each kernel for its measurement. The scores read K as two streams at once
 * ({@link #scores4x2Halves}), which let the hardware prefetchers keep ahead of them, or, for one query row
 * of a group of four, as four streams read once for all four rows ({@link #scoresQuarters}). Their loops are written out (sixteen named
 * vectors): an array of vectors, or a helper taking them, boxes.
 *
 * <p>The hot loops live in small methods of their own: inlined into one large method, C2 ran out of
 * budget and boxed the vectors.
 */
final class DecodeBlocks {
    static final VectorShuffle<Float> SWAP_HALF = swap(L / 2);
    static final VectorShuffle<Float> SWAP_QUARTER = swap(L / 4);
    static final VectorShuffle<Float> SWAP_EIGHTH = swap(Math.max(1, L / 8));
    static final VectorShuffle<Float> SWAP_SIXTEENTH = swap(Math.max(1, L / 16));
    static final VectorMask<Float> UPPER_HALF = upper(L / 2);
    static final VectorMask<Float> UPPER_QUARTER = upper(L / 4);
    static final VectorMask<Float> UPPER_EIGHTH = upper(Math.max(1, L / 8));
    static final VectorMask<Float> UPPER_SIXTEENTH = upper(Math.max(1, L / 16));
    /** Keys per block of {@link #scoresQuarters}: four quarters of L keys, one L × L transpose. */
    static final int QUARTER_BLOCK = 4 * L;
    /** ROW_HEAD[b]: lanes b … L−1; ROW_TAIL[b]: lanes 0 … b−1 (a row's first and last line, b floats back). */
    private static final VectorMask<Float>[] ROW_HEAD = rowMasks(true);
    private static final VectorMask<Float>[] ROW_TAIL = rowMasks(false);
    /** Lanes of {@link #tree4}'s result holding rows 0, 1, 2 and 3. */
    static final int LANE0 = 0;
    static final int LANE1 = L / 2;
    static final int LANE2 = L / 4;
    static final int LANE3 = 3 * L / 4;

    private DecodeBlocks() {
    }

    private static VectorShuffle<Float> swap(int h) {
        return VectorShuffle.fromOp(F, i -> i ^ h);
    }

    @SuppressWarnings("unchecked")
    private static VectorMask<Float>[] rowMasks(boolean head) {
        VectorMask<Float>[] masks = new VectorMask[L];
        for (int b = 0; b < L; b++) {
            VectorMask<Float> below = VectorMask.fromLong(F, (1L << b) - 1);
            masks[b] = head ? below.not() : below;
        }
        return masks;
    }

    private static VectorMask<Float> upper(int h) {
        boolean[] bits = new boolean[L];
        for (int i = 0; i < L; i++) {
            bits[i] = (i & h) != 0;
        }
        return VectorMask.fromArray(F, bits, 0);
    }

    /** Lanes with bit h clear: x[i] + x[i ^ h]; lanes with bit h set: y[i] + y[i ^ h]. */
    private static FloatVector pair(FloatVector x, FloatVector y, VectorMask<Float> upper, VectorShuffle<Float> swap) {
        return x.blend(y, upper).add(y.blend(x, upper).rearrange(swap));
    }

    /** The levels h = L/8 and L/16 of the tree, where they exist (L ≥ 8, L ≥ 16). */
    private static FloatVector finishTree(FloatVector z) {
        if (L >= 8) {
            z = z.add(z.rearrange(SWAP_EIGHTH));
        }
        if (L >= 16) {
            z = z.add(z.rearrange(SWAP_SIXTEENTH));
        }
        return z;
    }

    /** The tree sums of a0…a3, in lanes {@link #LANE0} … {@link #LANE3}. */
    static FloatVector tree4(FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3) {
        FloatVector w0 = pair(a0, a1, UPPER_HALF, SWAP_HALF);
        FloatVector w1 = pair(a2, a3, UPPER_HALF, SWAP_HALF);
        return finishTree(pair(w0, w1, UPPER_QUARTER, SWAP_QUARTER));
    }

    /** The tree sum of a's lanes (the same additions as {@link #tree4} makes for its first vector). */
    static float tree1(FloatVector a) {
        FloatVector z = a.add(a.rearrange(SWAP_HALF));
        z = z.add(z.rearrange(SWAP_QUARTER));
        return finishTree(z).lane(0);
    }

    /** sc[sAt + j] = q·k_j for j &lt; n (k_j at kAt + j·kss, d floats). */
    static void scores(float[] q, int qAt, float[] k, int kAt, int kss, int d, float[] sc, int sAt, int n) {
        int bound = F.loopBound(d);
        for (int j = 0; j < n; j++) {
            int kj = kAt + j * kss;
            FloatVector acc = FloatVector.zero(F);
            for (int e = 0; e < bound; e += L) {
                acc = FloatVector.fromArray(F, q, qAt + e).fma(FloatVector.fromArray(F, k, kj + e), acc);
            }
            float s = tree1(acc);
            for (int e = bound; e < d; e++) {
                s += q[qAt + e] * k[kj + e];
            }
            sc[sAt + j] = s;
        }
    }

    /**
     * {@link #scores} four keys at a time, for a query head that has its K/V head to itself (MHA decode): four
     * FMA chains in flight instead of one, and one {@link #tree4} for four sums, whose lanes carry
     * {@link #tree1}'s sums, so the scores keep {@link #scores}' bits.
     */
    static void scoresKeys4(float[] q, int qAt, float[] k, int kAt, int kss, int d, float[] sc, int sAt, int n,
                            float[] lanes) {
        int quads = n / 4;
        scoresQuads(q, qAt, k, kAt, 4 * kss, kss, 2 * kss, d, sc, sAt, quads, 4, 2, lanes);
        if (4 * quads < n) {
            scores(q, qAt, k, kAt + 4 * quads * kss, kss, d, sc, sAt + 4 * quads, n - 4 * quads);
        }
    }

    /**
     * Within each group of four lanes, lane r ← lane r − 1 (lane 0 ← lane 3, which the next blend replaces):
     * {@link #scores16by4} moves the quads taken so far up one lane before it takes the next into lane 0.
     */
    private static final VectorShuffle<Float> QUAD_UP = VectorShuffle.fromOp(F, i -> i / 4 * 4 + (i + 3) % 4);
    /** Lanes ≡ 0 (mod 4): where {@link #scores16by4} takes each quad's sums. */
    private static final VectorMask<Float> QUAD_LANE = VectorMask.fromLong(F, 0x1111_1111_1111_1111L);
    /**
     * After {@link #tree4}, quarter Q of the vector holds key t(Q) of its quad in every lane, t = (0, 2, 1, 3);
     * with each quad taken into lane 0 of every group and moved up one lane per later quad, lane 4Q + r holds
     * key 4(3 − r) + t(Q) after the four. This puts key j in lane j.
     */
    private static final VectorShuffle<Float> QUADS_TO_KEYS = quadsToKeys();

    private static VectorShuffle<Float> quadsToKeys() {
        if (L != 16) {
            return VectorShuffle.iota(F, 0, 1, true); // scores16by4 runs at 16 lanes only (sixteens)
        }
        int[] t = {0, 2, 1, 3};
        int[] from = new int[L];
        for (int quarter = 0; quarter < 4; quarter++) {
            for (int r = 0; r < 4; r++) {
                from[4 * (3 - r) + t[quarter]] = 4 * quarter + r;
            }
        }
        return VectorShuffle.fromArray(F, from, 0);
    }

    /**
     * sc[sAt + j] = q·k_j for sixteen consecutive keys j &lt; 16 ({@link #sixteens}(d)), four at a time as
     * {@link #scoresKeys4} sums them (the same bits), their sixteen sums out as one vector store: the four-key
     * kernel stored each quad's sums to a buffer and read them back as scalars, a store the loads waited on
     * (≈ 30 % of the samples of a one-query top-k call). {@link #scores16}'s sixteen chains at once lost at
     * d = 64 (four FMAs a chain against its butterfly). {@code blocks} blocks of sixteen keys, block b's at
     * kAt + 16b·kss into sc[sAt + 16b, + 16).
     */
    static void scores16by4(float[] q, int qAt, float[] k, int kAt, int kss, int d, float[] sc, int sAt, int blocks) {
        if (d == 4 * L) {
            // q's four vectors loaded once for all blocks (in-process A/B of the one-query score matrix, 12 heads
            // × 128 keys, softmax stage, call by call: 1.11–1.14× on one thread, 1.09–1.15× on two; the same bits)
            FloatVector y0 = FloatVector.fromArray(F, q, qAt);
            FloatVector y1 = FloatVector.fromArray(F, q, qAt + L);
            FloatVector y2 = FloatVector.fromArray(F, q, qAt + 2 * L);
            FloatVector y3 = FloatVector.fromArray(F, q, qAt + 3 * L);
            for (int b = 0; b < blocks; b++) {
                // one quad's code in a loop: four inlined copies passed C2's node budget (the vectors then boxed,
                // 2× slower). The quads meet in a register, one lane up per quad (QUAD_UP), where they went
                // through a buffer, four vector stores read back by four loads that the block's store out
                // waited on (a third of a profile's samples): 12 heads × 128 keys, one thread, 1.08–1.09×
                FloatVector sums = FloatVector.zero(F);
                for (int t = 0; t < 4; t++) {
                    // quad()'s FMAs in its order (the same bits), written out here: as a method of its own taking
                    // the four q vectors it was compiled alone first and then not inlined, its arguments boxed
                    int k0 = kAt + (16 * b + 4 * t) * kss;
                    int k1 = k0 + kss;
                    int k2 = k1 + kss;
                    int k3 = k2 + kss;
                    FloatVector z = FloatVector.zero(F);
                    FloatVector a0 = fk(y0, k, k0, z);
                    FloatVector a1 = fk(y0, k, k1, z);
                    FloatVector a2 = fk(y0, k, k2, z);
                    FloatVector a3 = fk(y0, k, k3, z);
                    a0 = fk(y1, k, k0 + L, a0);
                    a1 = fk(y1, k, k1 + L, a1);
                    a2 = fk(y1, k, k2 + L, a2);
                    a3 = fk(y1, k, k3 + L, a3);
                    a0 = fk(y2, k, k0 + 2 * L, a0);
                    a1 = fk(y2, k, k1 + 2 * L, a1);
                    a2 = fk(y2, k, k2 + 2 * L, a2);
                    a3 = fk(y2, k, k3 + 2 * L, a3);
                    a0 = fk(y3, k, k0 + 3 * L, a0);
                    a1 = fk(y3, k, k1 + 3 * L, a1);
                    a2 = fk(y3, k, k2 + 3 * L, a2);
                    a3 = fk(y3, k, k3 + 3 * L, a3);
                    sums = sums.rearrange(QUAD_UP).blend(tree4(a0, a1, a2, a3), QUAD_LANE);
                }
                sums.rearrange(QUADS_TO_KEYS).intoArray(sc, sAt + 16 * b);
            }
            return;
        }
        for (int b = 0; b < blocks; b++) {
            FloatVector sums = FloatVector.zero(F);
            for (int t = 0; t < 4; t++) {
                int k0 = kAt + (16 * b + 4 * t) * kss;
                sums = sums.rearrange(QUAD_UP).blend(quad(q, qAt, k, k0, k0 + kss, k0 + 2 * kss, k0 + 3 * kss, d),
                        QUAD_LANE);
            }
            sums.rearrange(QUADS_TO_KEYS).intoArray(sc, sAt + 16 * b);
        }
    }

    /** y·k[at, + L) + acc, lane by lane. */
    private static FloatVector fk(FloatVector y, float[] k, int at, FloatVector acc) {
        return y.fma(FloatVector.fromArray(F, k, at), acc);
    }

    /** {@link #tree4} of the dot products of q[qAt, + d) with the keys at k0 … k3, d whole vectors. */
    private static FloatVector quad(float[] q, int qAt, float[] k, int k0, int k1, int k2, int k3, int d) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int e = 0; e < d; e += L) {
            FloatVector y = FloatVector.fromArray(F, q, qAt + e);
            a0 = y.fma(FloatVector.fromArray(F, k, k0 + e), a0);
            a1 = y.fma(FloatVector.fromArray(F, k, k1 + e), a1);
            a2 = y.fma(FloatVector.fromArray(F, k, k2 + e), a2);
            a3 = y.fma(FloatVector.fromArray(F, k, k3 + e), a3);
        }
        return tree4(a0, a1, a2, a3);
    }

    /** Whether {@link #scores16} serves dot products of length d: 512-bit vectors (sixteen sums fill one), d whole vectors. */
    static boolean sixteens(int d) {
        return L == 16 && d > 0 && d % L == 0;
    }

    /**
     * sums[sAt + c] = x·w_c for sixteen consecutive rows w_c at wAt + c·ldw, c &lt; 16 ({@link #sixteens}(k)):
     * sixteen FMA chains, each x vector loaded once for all of them, and the sixteen sums leave as one vector
     * store through {@link #scoresQuarters}' butterfly (accumulator 4t + u to lane 4t + u), where four rows at a
     * time ({@link #scoresKeys4}) loaded x for every four FMAs and read each four sums back from a buffer as
     * scalars. Each lane's additions are {@link #tree1}'s, so the sums are every one-row kernel's bits. For a
     * decode's K read in two halves (two streams) this kernel, eight keys of each, lost (0.87× the MHA layer's
     * step, 0.58–0.75× at H = KVH = 32): it stored each half's eight sums by a masked store.
     */
    static void scores16(float[] x, int xAt, float[] w, int wAt, int ldw, int k, float[] sums, int sAt) {
        int w1 = wAt + ldw;
        int w2 = w1 + ldw;
        int w3 = w2 + ldw;
        int w4 = w3 + ldw;
        int w5 = w4 + ldw;
        int w6 = w5 + ldw;
        int w7 = w6 + ldw;
        int w8 = w7 + ldw;
        int w9 = w8 + ldw;
        int w10 = w9 + ldw;
        int w11 = w10 + ldw;
        int w12 = w11 + ldw;
        int w13 = w12 + ldw;
        int w14 = w13 + ldw;
        int w15 = w14 + ldw;
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
        for (int e = 0; e < k; e += L) {
            FloatVector y = FloatVector.fromArray(F, x, xAt + e);
            a00 = y.fma(FloatVector.fromArray(F, w, wAt + e), a00);
            a01 = y.fma(FloatVector.fromArray(F, w, w1 + e), a01);
            a02 = y.fma(FloatVector.fromArray(F, w, w2 + e), a02);
            a03 = y.fma(FloatVector.fromArray(F, w, w3 + e), a03);
            a10 = y.fma(FloatVector.fromArray(F, w, w4 + e), a10);
            a11 = y.fma(FloatVector.fromArray(F, w, w5 + e), a11);
            a12 = y.fma(FloatVector.fromArray(F, w, w6 + e), a12);
            a13 = y.fma(FloatVector.fromArray(F, w, w7 + e), a13);
            a20 = y.fma(FloatVector.fromArray(F, w, w8 + e), a20);
            a21 = y.fma(FloatVector.fromArray(F, w, w9 + e), a21);
            a22 = y.fma(FloatVector.fromArray(F, w, w10 + e), a22);
            a23 = y.fma(FloatVector.fromArray(F, w, w11 + e), a23);
            a30 = y.fma(FloatVector.fromArray(F, w, w12 + e), a30);
            a31 = y.fma(FloatVector.fromArray(F, w, w13 + e), a31);
            a32 = y.fma(FloatVector.fromArray(F, w, w14 + e), a32);
            a33 = y.fma(FloatVector.fromArray(F, w, w15 + e), a33);
        }
        // written out, as in scoresQuarters: a helper taking sixteen vectors would box them out of line
        VectorMask<Float> half = UPPER_HALF;
        VectorMask<Float> quarter = UPPER_QUARTER;
        VectorMask<Float> eighth = UPPER_EIGHTH;
        VectorMask<Float> sixteenth = UPPER_SIXTEENTH;
        FloatVector e00 = a00.blend(a20, half).add(a20.blend(a00, half).rearrange(SWAP_HALF));
        FloatVector e01 = a01.blend(a21, half).add(a21.blend(a01, half).rearrange(SWAP_HALF));
        FloatVector e02 = a02.blend(a22, half).add(a22.blend(a02, half).rearrange(SWAP_HALF));
        FloatVector e03 = a03.blend(a23, half).add(a23.blend(a03, half).rearrange(SWAP_HALF));
        FloatVector e10 = a10.blend(a30, half).add(a30.blend(a10, half).rearrange(SWAP_HALF));
        FloatVector e11 = a11.blend(a31, half).add(a31.blend(a11, half).rearrange(SWAP_HALF));
        FloatVector e12 = a12.blend(a32, half).add(a32.blend(a12, half).rearrange(SWAP_HALF));
        FloatVector e13 = a13.blend(a33, half).add(a33.blend(a13, half).rearrange(SWAP_HALF));
        FloatVector f0 = e00.blend(e10, quarter).add(e10.blend(e00, quarter).rearrange(SWAP_QUARTER));
        FloatVector f1 = e01.blend(e11, quarter).add(e11.blend(e01, quarter).rearrange(SWAP_QUARTER));
        FloatVector f2 = e02.blend(e12, quarter).add(e12.blend(e02, quarter).rearrange(SWAP_QUARTER));
        FloatVector f3 = e03.blend(e13, quarter).add(e13.blend(e03, quarter).rearrange(SWAP_QUARTER));
        FloatVector g0 = f0.blend(f2, eighth).add(f2.blend(f0, eighth).rearrange(SWAP_EIGHTH));
        FloatVector g1 = f1.blend(f3, eighth).add(f3.blend(f1, eighth).rearrange(SWAP_EIGHTH));
        g0.blend(g1, sixteenth).add(g1.blend(g0, sixteenth).rearrange(SWAP_SIXTEENTH)).intoArray(sums, sAt);
    }

    /**
     * {@link #scoresKeys4} over two places of K at once, as {@link #scores4x2Halves} reads them: keys i, i + 1,
     * half + i and half + i + 1 for even i below {@code pairs} (each half's first {@code pairs} keys, scores at
     * sAt + i and sAt + half + i), and one at a time the last when {@code pairs} is odd. The same bits.
     * In-process A/B of the MHA decode step (B=1 H=32 KVH=32 Sk=4096): D = 128 1.11–1.16× warm, 1.12× cold;
     * D = 64 1.16× and 1.17×.
     */
    static void scoresKeys4Halves(float[] q, int qAt, float[] k, int kAt, int kss, int d, float[] sc, int sAt,
                                  int pairs, int half, float[] lanes) {
        int quads = pairs / 2;
        scoresQuads(q, qAt, k, kAt, 2 * kss, kss, half * kss, d, sc, sAt, quads, 2, half, lanes);
        if (2 * quads < pairs) {
            int last = 2 * quads;
            scores(q, qAt, k, kAt + last * kss, kss, d, sc, sAt + last, 1);
            scores(q, qAt, k, kAt + (half + last) * kss, kss, d, sc, sAt + half + last, 1);
        }
    }

    /**
     * The kernel of {@link #scoresKeys4}: quad i's keys at kAt + i·quadStep, that + kss, that + second and
     * that + second + kss, their scores at sAt + i·scStep, that + 1, that + scSecond and that + scSecond + 1.
     */
    private static void scoresQuads(float[] q, int qAt, float[] k, int kAt, int quadStep, int kss, int second, int d,
                                    float[] sc, int sAt, int quads, int scStep, int scSecond, float[] lanes) {
        int bound = F.loopBound(d);
        for (int i = 0; i < quads; i++) {
            int k0 = kAt + i * quadStep;
            int k1 = k0 + kss;
            int k2 = k0 + second;
            int k3 = k2 + kss;
            quad(q, qAt, k, k0, k1, k2, k3, bound).intoArray(lanes, 0);
            float s0 = lanes[LANE0];
            float s1 = lanes[LANE1];
            float s2 = lanes[LANE2];
            float s3 = lanes[LANE3];
            for (int e = bound; e < d; e++) {
                float y = q[qAt + e];
                s0 += y * k[k0 + e];
                s1 += y * k[k1 + e];
                s2 += y * k[k2 + e];
                s3 += y * k[k3 + e];
            }
            int at = sAt + i * scStep;
            sc[at] = s0;
            sc[at + 1] = s1;
            sc[at + scSecond] = s2;
            sc[at + scSecond + 1] = s3;
        }
    }

    /**
     * {@link #scores} for four rows: row t's query at qAt + t·qStep, its scores at sAt + t·sStep. Each K
     * vector is loaded once for the four rows.
     */
    static void scores4(float[] q, int qAt, int qStep, float[] k, int kAt, int kss, int d, float[] sc, int sAt,
                        int sStep, int n, float[] lanes) {
        int bound = F.loopBound(d);
        int q1 = qAt + qStep;
        int q2 = q1 + qStep;
        int q3 = q2 + qStep;
        for (int j = 0; j < n; j++) {
            int kj = kAt + j * kss;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            for (int e = 0; e < bound; e += L) {
                FloatVector kv = FloatVector.fromArray(F, k, kj + e);
                a0 = FloatVector.fromArray(F, q, qAt + e).fma(kv, a0);
                a1 = FloatVector.fromArray(F, q, q1 + e).fma(kv, a1);
                a2 = FloatVector.fromArray(F, q, q2 + e).fma(kv, a2);
                a3 = FloatVector.fromArray(F, q, q3 + e).fma(kv, a3);
            }
            tree4(a0, a1, a2, a3).intoArray(lanes, 0);
            float s0 = lanes[LANE0];
            float s1 = lanes[LANE1];
            float s2 = lanes[LANE2];
            float s3 = lanes[LANE3];
            for (int e = bound; e < d; e++) {
                float kv = k[kj + e];
                s0 += q[qAt + e] * kv;
                s1 += q[q1 + e] * kv;
                s2 += q[q2 + e] * kv;
                s3 += q[q3 + e] * kv;
            }
            sc[sAt + j] = s0;
            sc[sAt + sStep + j] = s1;
            sc[sAt + 2 * sStep + j] = s2;
            sc[sAt + 3 * sStep + j] = s3;
        }
    }

    /**
     * {@link #scores4} for 512-bit vectors, two keys at a time: eight accumulators (4 rows × 2 keys), so each
     * q vector loaded serves two FMAs and eight chains run side by side (scores4 loads five vectors per four
     * FMAs, and its four chains restart at every key), then one butterfly of seven pairs and a swap sums all
     * eight. Each sum is the same butterfly as {@link #tree1}'s (every lane of an all-reduce butterfly holds
     * the same bits), so scores do not depend on the kernel. Four keys at a time (sixteen accumulators) pushed
     * the method past C2's node-count inlining cutoff and left half the butterfly out of line, 2× slower.
     * Other species and an odd last key go to {@link #scores4}; d = 8·L to {@link #scores2Held8}, twice, and
     * d = 4·L to {@link #scores4Held4}.
     */
    static void scores4x2(float[] q, int qAt, int qStep, float[] k, int kAt, int kss, int d, float[] sc, int sAt,
                          int sStep, int n, float[] lanes) {
        if (L != 16) {
            scores4(q, qAt, qStep, k, kAt, kss, d, sc, sAt, sStep, n, lanes);
            return;
        }
        if (d == 8 * L) {
            int q2 = qAt + 2 * qStep;
            scores2Held8(q, qAt, qAt + qStep, k, kAt, kss, sc, sAt, sAt + sStep, n, lanes);
            scores2Held8(q, q2, q2 + qStep, k, kAt, kss, sc, sAt + 2 * sStep, sAt + 3 * sStep, n, lanes);
            return;
        }
        if (d == 4 * L) {
            scores4Held4(q, qAt, qStep, k, kAt, kss, sc, sAt, sStep, n, lanes);
            return;
        }
        int pairs = n / 2;
        scores4x2Pairs(q, qAt, qStep, k, kAt, 2 * kss, kss, d, sc, sAt, sStep, pairs, 2, 1, lanes);
        if (2 * pairs < n) {
            scores4(q, qAt, qStep, k, kAt + 2 * pairs * kss, kss, d, sc, sAt + 2 * pairs, sStep, 1, lanes);
        }
    }

    /**
     * The kernel of {@link #scores4x2} for any d at 512 bits: pair i's keys at kAt + i·pairStep and that +
     * second, their scores (row t) at sAt + t·sStep + i·scStep and that + scSecond.
     */
    private static void scores4x2Pairs(float[] q, int qAt, int qStep, float[] k, int kAt, int pairStep, int second,
                                       int d, float[] sc, int sAt, int sStep, int pairs, int scStep, int scSecond,
                                       float[] lanes) {
        int bound = F.loopBound(d);
        int q1 = qAt + qStep;
        int q2 = q1 + qStep;
        int q3 = q2 + qStep;
        for (int i = 0; i < pairs; i++) {
            int k0 = kAt + i * pairStep;
            int k1 = k0 + second;
            FloatVector a00 = FloatVector.zero(F);
            FloatVector a01 = a00;
            FloatVector a10 = a00;
            FloatVector a11 = a00;
            FloatVector a20 = a00;
            FloatVector a21 = a00;
            FloatVector a30 = a00;
            FloatVector a31 = a00;
            for (int e = 0; e < bound; e += L) {
                FloatVector x0 = FloatVector.fromArray(F, k, k0 + e);
                FloatVector x1 = FloatVector.fromArray(F, k, k1 + e);
                FloatVector y = FloatVector.fromArray(F, q, qAt + e);
                a00 = y.fma(x0, a00);
                a01 = y.fma(x1, a01);
                y = FloatVector.fromArray(F, q, q1 + e);
                a10 = y.fma(x0, a10);
                a11 = y.fma(x1, a11);
                y = FloatVector.fromArray(F, q, q2 + e);
                a20 = y.fma(x0, a20);
                a21 = y.fma(x1, a21);
                y = FloatVector.fromArray(F, q, q3 + e);
                a30 = y.fma(x0, a30);
                a31 = y.fma(x1, a31);
            }
            // input t = 2·row + key lands in lanes 8·key + 4·(row & 1) + 2·(row >> 1) (and that + 1)
            FloatVector z0 = pair(a00, a01, UPPER_HALF, SWAP_HALF);
            FloatVector z1 = pair(a10, a11, UPPER_HALF, SWAP_HALF);
            FloatVector z2 = pair(a20, a21, UPPER_HALF, SWAP_HALF);
            FloatVector z3 = pair(a30, a31, UPPER_HALF, SWAP_HALF);
            z0 = pair(z0, z1, UPPER_QUARTER, SWAP_QUARTER);
            z2 = pair(z2, z3, UPPER_QUARTER, SWAP_QUARTER);
            z0 = pair(z0, z2, UPPER_EIGHTH, SWAP_EIGHTH);
            z0.add(z0.rearrange(SWAP_SIXTEENTH)).intoArray(lanes, 0);
            float s00 = lanes[0];
            float s01 = lanes[8];
            float s10 = lanes[4];
            float s11 = lanes[12];
            float s20 = lanes[2];
            float s21 = lanes[10];
            float s30 = lanes[6];
            float s31 = lanes[14];
            for (int e = bound; e < d; e++) {
                float y0 = q[qAt + e];
                float y1 = q[q1 + e];
                float y2 = q[q2 + e];
                float y3 = q[q3 + e];
                float x0 = k[k0 + e];
                float x1 = k[k1 + e];
                s00 += y0 * x0;
                s01 += y0 * x1;
                s10 += y1 * x0;
                s11 += y1 * x1;
                s20 += y2 * x0;
                s21 += y2 * x1;
                s30 += y3 * x0;
                s31 += y3 * x1;
            }
            int at = sAt + i * scStep;
            sc[at] = s00;
            sc[at + scSecond] = s01;
            at += sStep;
            sc[at] = s10;
            sc[at + scSecond] = s11;
            at += sStep;
            sc[at] = s20;
            sc[at + scSecond] = s21;
            at += sStep;
            sc[at] = s30;
            sc[at + scSecond] = s31;
        }
    }

    /**
     * {@link #scores4x2}'s case d = 4·L at 512 bits (D = 64): all four rows' q vectors (sixteen) held in
     * registers, two keys at a time, so the loop loads only K (8 vectors per 32 FMAs against 24). The same
     * FMA order and butterfly as {@link #scores4x2}, so the same bits. In-process A/B of the whole GQA decode
     * step at D = 64 (B=1 H=32 KVH=8 Sk=4096), call by call: 1.06× and 1.08× warm, 1.01× after a cache eviction.
     */
    private static void scores4Held4(float[] q, int qAt, int qStep, float[] k, int kAt, int kss, float[] sc, int sAt,
                                     int sStep, int n, float[] lanes) {
        FloatVector p0 = FloatVector.fromArray(F, q, qAt);
        FloatVector p1 = FloatVector.fromArray(F, q, qAt + L);
        FloatVector p2 = FloatVector.fromArray(F, q, qAt + 2 * L);
        FloatVector p3 = FloatVector.fromArray(F, q, qAt + 3 * L);
        FloatVector r0 = FloatVector.fromArray(F, q, qAt + qStep);
        FloatVector r1 = FloatVector.fromArray(F, q, qAt + qStep + L);
        FloatVector r2 = FloatVector.fromArray(F, q, qAt + qStep + 2 * L);
        FloatVector r3 = FloatVector.fromArray(F, q, qAt + qStep + 3 * L);
        FloatVector t0 = FloatVector.fromArray(F, q, qAt + 2 * qStep);
        FloatVector t1 = FloatVector.fromArray(F, q, qAt + 2 * qStep + L);
        FloatVector t2 = FloatVector.fromArray(F, q, qAt + 2 * qStep + 2 * L);
        FloatVector t3 = FloatVector.fromArray(F, q, qAt + 2 * qStep + 3 * L);
        FloatVector u0 = FloatVector.fromArray(F, q, qAt + 3 * qStep);
        FloatVector u1 = FloatVector.fromArray(F, q, qAt + 3 * qStep + L);
        FloatVector u2 = FloatVector.fromArray(F, q, qAt + 3 * qStep + 2 * L);
        FloatVector u3 = FloatVector.fromArray(F, q, qAt + 3 * qStep + 3 * L);
        FloatVector zero = FloatVector.zero(F);
        int j = 0;
        for (; j + 2 <= n; j += 2) {
            int k0 = kAt + j * kss;
            int k1 = k0 + kss;
            FloatVector x0 = FloatVector.fromArray(F, k, k0);
            FloatVector x1 = FloatVector.fromArray(F, k, k1);
            FloatVector a00 = p0.fma(x0, zero);
            FloatVector a01 = p0.fma(x1, zero);
            FloatVector a10 = r0.fma(x0, zero);
            FloatVector a11 = r0.fma(x1, zero);
            FloatVector a20 = t0.fma(x0, zero);
            FloatVector a21 = t0.fma(x1, zero);
            FloatVector a30 = u0.fma(x0, zero);
            FloatVector a31 = u0.fma(x1, zero);
            x0 = FloatVector.fromArray(F, k, k0 + L);
            x1 = FloatVector.fromArray(F, k, k1 + L);
            a00 = p1.fma(x0, a00);
            a01 = p1.fma(x1, a01);
            a10 = r1.fma(x0, a10);
            a11 = r1.fma(x1, a11);
            a20 = t1.fma(x0, a20);
            a21 = t1.fma(x1, a21);
            a30 = u1.fma(x0, a30);
            a31 = u1.fma(x1, a31);
            x0 = FloatVector.fromArray(F, k, k0 + 2 * L);
            x1 = FloatVector.fromArray(F, k, k1 + 2 * L);
            a00 = p2.fma(x0, a00);
            a01 = p2.fma(x1, a01);
            a10 = r2.fma(x0, a10);
            a11 = r2.fma(x1, a11);
            a20 = t2.fma(x0, a20);
            a21 = t2.fma(x1, a21);
            a30 = u2.fma(x0, a30);
            a31 = u2.fma(x1, a31);
            x0 = FloatVector.fromArray(F, k, k0 + 3 * L);
            x1 = FloatVector.fromArray(F, k, k1 + 3 * L);
            a00 = p3.fma(x0, a00);
            a01 = p3.fma(x1, a01);
            a10 = r3.fma(x0, a10);
            a11 = r3.fma(x1, a11);
            a20 = t3.fma(x0, a20);
            a21 = t3.fma(x1, a21);
            a30 = u3.fma(x0, a30);
            a31 = u3.fma(x1, a31);
            // scores4x2's butterfly, written out (a helper would fall out of line here too)
            FloatVector z0 = a00.blend(a01, UPPER_HALF).add(a01.blend(a00, UPPER_HALF).rearrange(SWAP_HALF));
            FloatVector z1 = a10.blend(a11, UPPER_HALF).add(a11.blend(a10, UPPER_HALF).rearrange(SWAP_HALF));
            FloatVector z2 = a20.blend(a21, UPPER_HALF).add(a21.blend(a20, UPPER_HALF).rearrange(SWAP_HALF));
            FloatVector z3 = a30.blend(a31, UPPER_HALF).add(a31.blend(a30, UPPER_HALF).rearrange(SWAP_HALF));
            z0 = z0.blend(z1, UPPER_QUARTER).add(z1.blend(z0, UPPER_QUARTER).rearrange(SWAP_QUARTER));
            z2 = z2.blend(z3, UPPER_QUARTER).add(z3.blend(z2, UPPER_QUARTER).rearrange(SWAP_QUARTER));
            z0 = z0.blend(z2, UPPER_EIGHTH).add(z2.blend(z0, UPPER_EIGHTH).rearrange(SWAP_EIGHTH));
            z0.add(z0.rearrange(SWAP_SIXTEENTH)).intoArray(lanes, 0);
            int at = sAt + j;
            sc[at] = lanes[0];
            sc[at + 1] = lanes[8];
            at += sStep;
            sc[at] = lanes[4];
            sc[at + 1] = lanes[12];
            at += sStep;
            sc[at] = lanes[2];
            sc[at + 1] = lanes[10];
            at += sStep;
            sc[at] = lanes[6];
            sc[at + 1] = lanes[14];
        }
        if (j < n) {
            scores4(q, qAt, qStep, k, kAt + j * kss, kss, 4 * L, sc, sAt + j, sStep, n - j, lanes);
        }
    }

    /**
     * {@link #scores4x2}'s case d = 8·L at 512 bits (D = 128): rows a and b (queries at qa, qb; scores at sa, sb)
     * with their sixteen q vectors held in registers across the keys, two keys at a time. A key's eight K
     * vectors then serve two rows without reloading q (the four-row kernel loads a q vector per two FMAs:
     * 48 loads per 64 FMAs against 16 per 32 here), and the K tile is read from L1 once per row pair. Each
     * accumulator is one FMA chain over d in the same order, reduced by the same butterfly, so the scores
     * carry {@link #scores}' bits. In-process, single core, 64 keys in L1: 11.2 against 12.7 ns per key for
     * four rows, 8.8 against 10.9 where K happens to be 64-byte aligned. Inlining a helper for the butterfly
     * pushed this method past C2's node-count cutoff (the helper then ran out of line on boxed vectors,
     * 8× slower), so the butterfly is written out.
     */
    private static void scores2Held8(float[] q, int qa, int qb, float[] k, int kAt, int kss, float[] sc, int sa,
                                     int sb, int n, float[] lanes) {
        int pairs = n / 2;
        scoresPairs8(q, qa, qb, k, kAt, 2 * kss, kss, sc, sa, sb, pairs, 2, 1, lanes);
        if (2 * pairs < n) {
            scores(q, qa, k, kAt + 2 * pairs * kss, kss, 8 * L, sc, sa + 2 * pairs, 1);
            scores(q, qb, k, kAt + 2 * pairs * kss, kss, 8 * L, sc, sb + 2 * pairs, 1);
        }
    }

    /**
     * Whether the decode's scores read K in halves ({@link #scores4x2Halves}, {@link #scoresKeys4Halves}) for
     * head dim d with {@code per} query heads per K/V head: at 512 bits, but for groups of four or more at
     * d = 4·L (D = 64), where {@link #scores4Held4} serves four rows per K vector loaded and key order was
     * faster (in-process A/B of B=1 H=32 KVH=8 Sk=4096 D=64: halves 0.94× warm, 0.96–1.02× cold).
     */
    static boolean halves(int d, int per) {
        return L == 16 && (per < 4 || d != 4 * L);
    }

    /**
     * Whether the decode's scores take {@link #scoresQuarters} for the query rows of a group of {@code per}
     * query heads at head dim d over {@code span} keys: at 512 bits (sixteen sums fill one vector), d a multiple
     * of L but for d = 4·L, groups of four heads (or a multiple: K is then read once per four) and at least one
     * block of keys. At D = 64 {@link #scores4Held4}, q held in registers, stays faster (quarters 0.96×).
     */
    static boolean quarters(int d, int per, int span) {
        return L == 16 && d % L == 0 && d != 4 * L && per % 4 == 0 && span >= QUARTER_BLOCK;
    }

    /**
     * sc[sAt + t·sStep + j] = q_t·k_j for the four rows t of a GQA group (row t's query at qAt + t·qStep, d a
     * multiple of L, 512 bits) and the n keys j (k_j at kAt + j·kss), K read once, as four streams: the first
     * n − n mod {@link #QUARTER_BLOCK} keys in quarters, key i of each quarter at a time ({@link #scores4x4}:
     * sixteen accumulators, each K vector loaded once for four FMAs), then the rest in key order by
     * {@link #scores4x2}. The sixteen sums of each quad leave the kernel as one vector, in the lanes where the
     * butterfly puts them, into {@code quads} (4·n floats); {@link #quadsToRows} then writes them to the rows
     * L keys at a time. Each sum is {@link #scores}' chain and butterfly, so the bits are {@link #scores}'.
     *
     * <p>In-process A/B of the GQA decode step against {@link #scores4x2Halves} and the other kernels it
     * replaced (B=1 H=32 KVH=8 Sk=4096, call by call, identical outputs, on the 2-vCPU Zen 4 VM): D = 128
     * 1.01–1.06× warm, 1.02–1.05× after a cache eviction, 1.09× at Sk = 1024, 1.04× at 16384, 1.01–1.02× over
     * an off-heap cache; D = 32 1.18×, 48 1.12×, 96 1.15–1.18×, 160 1.13×, 192 1.05×, 256 1.01–1.04×; eight
     * heads per K/V head (H = 64) 1.01–1.03× at D = 128, 1.19× at D = 96. What it took: the kernel first stored
     * each sum where it belongs, sixteen scalar stores per quad into sixteen lines, and was 0.80× on the step;
     * one vector store per quad made it a gain. Transposing every L quads inside the loop, so that the buffer
     * stays in L1, was 0.94–0.97×: the scattered stores cost wherever they fall in the K stream. The transpose
     * is the flash kernel's ({@link Transposes#transpose16}, unit factors); a copy of it written for these
     * lanes without the multiplications by one was 1.006–1.014× faster on the step, not worth a second one.
     */
    static void scoresQuarters(float[] q, int qAt, int qStep, float[] k, int kAt, int kss, int d, float[] sc,
                               int sAt, int sStep, int n, float[] quads, float[] lanes) {
        int whole = n - n % QUARTER_BLOCK;
        int quarter = whole / 4;
        scores4x4(q, qAt, qStep, k, kAt, kss, d, quarter * kss, quads, quarter);
        quadsToRows(quads, quarter, sc, sAt, sStep);
        if (whole < n) {
            scores4x2(q, qAt, qStep, k, kAt + whole * kss, kss, d, sc, sAt + whole, sStep, n - whole, lanes);
        }
    }

    /**
     * The sums of {@code quarter} quads (row t, quarter u in lane 4·t + u of quad i, at quads[16·i …]) to the
     * rows: sc[sAt + t·sStep + u·quarter + i], L quads at a time by {@link Transposes#transpose16}.
     */
    static void quadsToRows(float[] quads, int quarter, float[] sc, int sAt, int sStep) {
        for (int i = 0; i < quarter; i += L) {
            Transposes.transpose16(quads, i * L, L, sc, sAt + i, sStep, quarter, Transposes.ONES, 0);
        }
    }

    /**
     * The kernel of {@link #scoresQuarters}: quad i is key i of each quarter (at kAt + i·kss + u·quarterStep,
     * u = 0 … 3) against the four rows, d a multiple of L. Each quad's sums in one vector at quads[16·i …]: row
     * t, quarter u in lane 4·t + u.
     */
    private static void scores4x4(float[] q, int qAt, int qStep, float[] k, int kAt, int kss, int d,
                                  int quarterStep, float[] quads, int n) {
        int q1 = qAt + qStep;
        int q2 = q1 + qStep;
        int q3 = q2 + qStep;
        for (int i = 0; i < n; i++) {
            int k0 = kAt + i * kss;
            int k1 = k0 + quarterStep;
            int k2 = k1 + quarterStep;
            int k3 = k2 + quarterStep;
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
            for (int e = 0; e < d; e += L) {
                FloatVector x0 = FloatVector.fromArray(F, k, k0 + e);
                FloatVector x1 = FloatVector.fromArray(F, k, k1 + e);
                FloatVector x2 = FloatVector.fromArray(F, k, k2 + e);
                FloatVector x3 = FloatVector.fromArray(F, k, k3 + e);
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
            // the butterfly, row t and quarter u to lane 4·t + u: pairs at L/2 (rows 0|2, 1|3), L/4 (rows 0|1),
            // L/8 (quarters 0|2, 1|3) and L/16 (quarters 0|1); each lane the additions of tree1 (a vector's
            // partner only decides its lane). Written out: a helper taking sixteen vectors would box them where
            // C2 leaves it out of line
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

    /**
     * {@link #scores4x2} (at 512 bits, see {@link #halves}) over keys taken from two places at once: pair i is
     * key i and key i + half (row t's scores at sAt + t·sStep + i and that + half), so that the loop reads K
     * as two streams, each at half the pace. Read as one stream, a K row every few dozen cycles did not keep
     * the hardware prefetchers far enough ahead: the step waited on memory and then computed, in turn. A key's
     * score is the same chain and butterfly whatever it is paired with, so the bits are {@link #scores}'.
     * In-process A/B of the whole GQA decode step (B=1 H=32 KVH=8 Sk=4096 D=128), call by call, on the
     * 2-vCPU Zen 4 VM: 1.12–1.18× warm, 1.07–1.15× after a cache eviction, identical outputs (D = 96:
     * 1.05–1.09×; D = 256: 1.30–1.34×); pairs of the halves' 64-key tiles in turn (instead of keys in turn)
     * were 0.87–0.94×. P·V does not gain from it: V's halves into the same accumulators in turn (other bits)
     * 1.00–1.02×, into two accumulator sets one row at a time 0.88–0.92×.
     */
    static void scores4x2Halves(float[] q, int qAt, int qStep, float[] k, int kAt, int kss, int d, float[] sc,
                                int sAt, int sStep, int pairs, int half, float[] lanes) {
        if (d != 8 * L) {
            scores4x2Pairs(q, qAt, qStep, k, kAt, kss, half * kss, d, sc, sAt, sStep, pairs, 1, half, lanes);
            return;
        }
        int q2 = qAt + 2 * qStep;
        scoresPairs8(q, qAt, qAt + qStep, k, kAt, kss, half * kss, sc, sAt, sAt + sStep, pairs, 1, half, lanes);
        scoresPairs8(q, q2, q2 + qStep, k, kAt, kss, half * kss, sc, sAt + 2 * sStep, sAt + 3 * sStep, pairs, 1, half,
                lanes);
    }

    /**
     * The kernel of {@link #scores2Held8}: {@code pairs} pairs of keys, pair i's first key at kAt + i·pairStep
     * and its second {@code second} floats after it; their scores at sa + i·scStep and that + scSecond.
     */
    private static void scoresPairs8(float[] q, int qa, int qb, float[] k, int kAt, int pairStep, int second,
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
            int k0 = kAt + i * pairStep;
            int k1 = k0 + second;
            FloatVector x0 = FloatVector.fromArray(F, k, k0);
            FloatVector x1 = FloatVector.fromArray(F, k, k1);
            FloatVector a0 = p0.fma(x0, zero);
            FloatVector b0 = r0.fma(x0, zero);
            FloatVector a1 = p0.fma(x1, zero);
            FloatVector b1 = r0.fma(x1, zero);
            x0 = FloatVector.fromArray(F, k, k0 + L);
            x1 = FloatVector.fromArray(F, k, k1 + L);
            a0 = p1.fma(x0, a0);
            b0 = r1.fma(x0, b0);
            a1 = p1.fma(x1, a1);
            b1 = r1.fma(x1, b1);
            x0 = FloatVector.fromArray(F, k, k0 + 2 * L);
            x1 = FloatVector.fromArray(F, k, k1 + 2 * L);
            a0 = p2.fma(x0, a0);
            b0 = r2.fma(x0, b0);
            a1 = p2.fma(x1, a1);
            b1 = r2.fma(x1, b1);
            x0 = FloatVector.fromArray(F, k, k0 + 3 * L);
            x1 = FloatVector.fromArray(F, k, k1 + 3 * L);
            a0 = p3.fma(x0, a0);
            b0 = r3.fma(x0, b0);
            a1 = p3.fma(x1, a1);
            b1 = r3.fma(x1, b1);
            x0 = FloatVector.fromArray(F, k, k0 + 4 * L);
            x1 = FloatVector.fromArray(F, k, k1 + 4 * L);
            a0 = p4.fma(x0, a0);
            b0 = r4.fma(x0, b0);
            a1 = p4.fma(x1, a1);
            b1 = r4.fma(x1, b1);
            x0 = FloatVector.fromArray(F, k, k0 + 5 * L);
            x1 = FloatVector.fromArray(F, k, k1 + 5 * L);
            a0 = p5.fma(x0, a0);
            b0 = r5.fma(x0, b0);
            a1 = p5.fma(x1, a1);
            b1 = r5.fma(x1, b1);
            x0 = FloatVector.fromArray(F, k, k0 + 6 * L);
            x1 = FloatVector.fromArray(F, k, k1 + 6 * L);
            a0 = p6.fma(x0, a0);
            b0 = r6.fma(x0, b0);
            a1 = p6.fma(x1, a1);
            b1 = r6.fma(x1, b1);
            x0 = FloatVector.fromArray(F, k, k0 + 7 * L);
            x1 = FloatVector.fromArray(F, k, k1 + 7 * L);
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

    /**
     * How many floats before a 64-byte line boundary the n rows of 8·L floats at v[vAt + j·vss] begin, when
     * that is known, the same for every row (the stride keeps them in step) and the nine whole lines each row
     * touches lie inside v; else 0 (read the rows as they are).
     *
     * @param lineAt the residue mod L of the indices of v whose element begins a line, or −1
     */
    private static int linesBack(float[] v, int vAt, int vss, int n, int lineAt) {
        int back = lineAt < 0 || vss % L != 0 ? 0 : (vAt - lineAt) & (L - 1);
        return back != 0 && vAt >= back && vAt + (long) (n - 1) * vss + 9 * L - back <= v.length ? back : 0;
    }

    /**
     * acc[aAt + e] += Σ_j w[wAt + j]·v[vAt + j·vss + e] for j &lt; n, e &lt; dv, keys in order: the
     * accumulators stay in registers across the block's keys (the block of V is in L1), four vectors of
     * them where dv allows, so four independent FMA chains hide the FMA latency. At 512 bits with dv = 8·L the
     * row's 128 columns are summed in one pass over the keys ({@link #accumulate1Whole8} or, where
     * {@code lineAt} says the rows begin inside a line, {@link #accumulate1Aligned}) instead of two passes of 64.
     *
     * @param lineAt as for {@link #accumulate4}: where V's lines begin, or −1; it changes only the speed
     */
    static void accumulate(float[] w, int wAt, float[] v, int vAt, int vss, int n, float[] acc, int aAt, int dv,
                           int lineAt) {
        if (L == 16 && dv == 8 * L) {
            int back = linesBack(v, vAt, vss, n, lineAt);
            if (back != 0) {
                accumulate1Aligned(w, wAt, v, vAt, vss, n, acc, aAt, back);
            } else {
                accumulate1Whole8(w, wAt, v, vAt, vss, n, acc, aAt);
            }
            return;
        }
        int e = 0;
        for (; e + 4 * L <= dv; e += 4 * L) {
            FloatVector a0 = FloatVector.fromArray(F, acc, aAt + e);
            FloatVector a1 = FloatVector.fromArray(F, acc, aAt + e + L);
            FloatVector a2 = FloatVector.fromArray(F, acc, aAt + e + 2 * L);
            FloatVector a3 = FloatVector.fromArray(F, acc, aAt + e + 3 * L);
            for (int j = 0; j < n; j++) {
                FloatVector wj = FloatVector.broadcast(F, w[wAt + j]);
                int at = vAt + j * vss + e;
                a0 = FloatVector.fromArray(F, v, at).fma(wj, a0);
                a1 = FloatVector.fromArray(F, v, at + L).fma(wj, a1);
                a2 = FloatVector.fromArray(F, v, at + 2 * L).fma(wj, a2);
                a3 = FloatVector.fromArray(F, v, at + 3 * L).fma(wj, a3);
            }
            a0.intoArray(acc, aAt + e);
            a1.intoArray(acc, aAt + e + L);
            a2.intoArray(acc, aAt + e + 2 * L);
            a3.intoArray(acc, aAt + e + 3 * L);
        }
        if (e < dv) {
            accumulateTail(w, wAt, v, vAt, vss, n, acc, aAt, dv, e);
        }
    }

    /**
     * {@link #accumulate} for four rows over the same keys: row t's weights at wAt + t·wStep, its
     * accumulator at aAt + t·aStep. Each V vector is loaded once for the four rows; every output element
     * is summed in the same order as by {@link #accumulate}.
     * dv = 8·L at 512 bits goes to {@link #accumulatePair8}, once per row pair, or, where {@code lineAt}
     * says that V's rows begin inside a cache line, to {@link #accumulate2Aligned}.
     *
     * @param lineAt the residue mod L of the indices of v whose element begins a 64-byte line
     *               ({@link HeapAlignment#lineResidue}), or −1 where not known; it changes only the speed
     */
    static void accumulate4(float[] w, int wAt, int wStep, float[] v, int vAt, int vss, int n, float[] acc, int aAt,
                            int aStep, int dv, int lineAt) {
        int w1 = wAt + wStep;
        int w2 = w1 + wStep;
        int w3 = w2 + wStep;
        int c1 = aAt + aStep;
        int c2 = c1 + aStep;
        int c3 = c2 + aStep;
        if (L == 16 && dv == 8 * L) {
            int back = linesBack(v, vAt, vss, n, lineAt);
            if (back != 0) {
                accumulate2Aligned(w, wAt, w1, v, vAt, vss, n, acc, aAt, c1, back);
                accumulate2Aligned(w, w2, w3, v, vAt, vss, n, acc, c2, c3, back);
                return;
            }
            accumulatePair8(w, wAt, w1, v, vAt, vAt, vss, n, acc, aAt, c1);
            accumulatePair8(w, w2, w3, v, vAt, vAt, vss, n, acc, c2, c3);
            return;
        }
        int e = 0;
        // 4·L columns of four rows: sixteen accumulators, so each key's four weight broadcasts serve sixteen
        // FMAs and each accumulator's chain waits for one FMA per eight issued (2·L columns: one per four)
        for (; e + 4 * L <= dv; e += 4 * L) {
            FloatVector x00 = FloatVector.fromArray(F, acc, aAt + e);
            FloatVector x01 = FloatVector.fromArray(F, acc, aAt + e + L);
            FloatVector x02 = FloatVector.fromArray(F, acc, aAt + e + 2 * L);
            FloatVector x03 = FloatVector.fromArray(F, acc, aAt + e + 3 * L);
            FloatVector x10 = FloatVector.fromArray(F, acc, c1 + e);
            FloatVector x11 = FloatVector.fromArray(F, acc, c1 + e + L);
            FloatVector x12 = FloatVector.fromArray(F, acc, c1 + e + 2 * L);
            FloatVector x13 = FloatVector.fromArray(F, acc, c1 + e + 3 * L);
            FloatVector x20 = FloatVector.fromArray(F, acc, c2 + e);
            FloatVector x21 = FloatVector.fromArray(F, acc, c2 + e + L);
            FloatVector x22 = FloatVector.fromArray(F, acc, c2 + e + 2 * L);
            FloatVector x23 = FloatVector.fromArray(F, acc, c2 + e + 3 * L);
            FloatVector x30 = FloatVector.fromArray(F, acc, c3 + e);
            FloatVector x31 = FloatVector.fromArray(F, acc, c3 + e + L);
            FloatVector x32 = FloatVector.fromArray(F, acc, c3 + e + 2 * L);
            FloatVector x33 = FloatVector.fromArray(F, acc, c3 + e + 3 * L);
            for (int j = 0; j < n; j++) {
                int at = vAt + j * vss + e;
                FloatVector v0 = FloatVector.fromArray(F, v, at);
                FloatVector v1 = FloatVector.fromArray(F, v, at + L);
                FloatVector v2 = FloatVector.fromArray(F, v, at + 2 * L);
                FloatVector v3 = FloatVector.fromArray(F, v, at + 3 * L);
                FloatVector b = FloatVector.broadcast(F, w[wAt + j]);
                x00 = v0.fma(b, x00);
                x01 = v1.fma(b, x01);
                x02 = v2.fma(b, x02);
                x03 = v3.fma(b, x03);
                b = FloatVector.broadcast(F, w[w1 + j]);
                x10 = v0.fma(b, x10);
                x11 = v1.fma(b, x11);
                x12 = v2.fma(b, x12);
                x13 = v3.fma(b, x13);
                b = FloatVector.broadcast(F, w[w2 + j]);
                x20 = v0.fma(b, x20);
                x21 = v1.fma(b, x21);
                x22 = v2.fma(b, x22);
                x23 = v3.fma(b, x23);
                b = FloatVector.broadcast(F, w[w3 + j]);
                x30 = v0.fma(b, x30);
                x31 = v1.fma(b, x31);
                x32 = v2.fma(b, x32);
                x33 = v3.fma(b, x33);
            }
            x00.intoArray(acc, aAt + e);
            x01.intoArray(acc, aAt + e + L);
            x02.intoArray(acc, aAt + e + 2 * L);
            x03.intoArray(acc, aAt + e + 3 * L);
            x10.intoArray(acc, c1 + e);
            x11.intoArray(acc, c1 + e + L);
            x12.intoArray(acc, c1 + e + 2 * L);
            x13.intoArray(acc, c1 + e + 3 * L);
            x20.intoArray(acc, c2 + e);
            x21.intoArray(acc, c2 + e + L);
            x22.intoArray(acc, c2 + e + 2 * L);
            x23.intoArray(acc, c2 + e + 3 * L);
            x30.intoArray(acc, c3 + e);
            x31.intoArray(acc, c3 + e + L);
            x32.intoArray(acc, c3 + e + 2 * L);
            x33.intoArray(acc, c3 + e + 3 * L);
        }
        for (; e + 2 * L <= dv; e += 2 * L) {
            FloatVector x00 = FloatVector.fromArray(F, acc, aAt + e);
            FloatVector x01 = FloatVector.fromArray(F, acc, aAt + e + L);
            FloatVector x10 = FloatVector.fromArray(F, acc, c1 + e);
            FloatVector x11 = FloatVector.fromArray(F, acc, c1 + e + L);
            FloatVector x20 = FloatVector.fromArray(F, acc, c2 + e);
            FloatVector x21 = FloatVector.fromArray(F, acc, c2 + e + L);
            FloatVector x30 = FloatVector.fromArray(F, acc, c3 + e);
            FloatVector x31 = FloatVector.fromArray(F, acc, c3 + e + L);
            for (int j = 0; j < n; j++) {
                int at = vAt + j * vss + e;
                FloatVector v0 = FloatVector.fromArray(F, v, at);
                FloatVector v1 = FloatVector.fromArray(F, v, at + L);
                FloatVector b0 = FloatVector.broadcast(F, w[wAt + j]);
                FloatVector b1 = FloatVector.broadcast(F, w[w1 + j]);
                FloatVector b2 = FloatVector.broadcast(F, w[w2 + j]);
                FloatVector b3 = FloatVector.broadcast(F, w[w3 + j]);
                x00 = v0.fma(b0, x00);
                x01 = v1.fma(b0, x01);
                x10 = v0.fma(b1, x10);
                x11 = v1.fma(b1, x11);
                x20 = v0.fma(b2, x20);
                x21 = v1.fma(b2, x21);
                x30 = v0.fma(b3, x30);
                x31 = v1.fma(b3, x31);
            }
            x00.intoArray(acc, aAt + e);
            x01.intoArray(acc, aAt + e + L);
            x10.intoArray(acc, c1 + e);
            x11.intoArray(acc, c1 + e + L);
            x20.intoArray(acc, c2 + e);
            x21.intoArray(acc, c2 + e + L);
            x30.intoArray(acc, c3 + e);
            x31.intoArray(acc, c3 + e + L);
        }
        if (e < dv) {
            // the last < 2·L columns: row by row, in the same order as accumulate's tail
            accumulateTail(w, wAt, v, vAt, vss, n, acc, aAt, dv, e);
            accumulateTail(w, w1, v, vAt, vss, n, acc, c1, dv, e);
            accumulateTail(w, w2, v, vAt, vss, n, acc, c2, dv, e);
            accumulateTail(w, w3, v, vAt, vss, n, acc, c3, dv, e);
        }
    }

    /** Whether {@link #accumulatePair8} serves the MHA P·V in halves for value dim dv (512-bit vectors, dv = 8·L: D = 128). */
    static boolean valueHalves(int dv) {
        return L == 16 && dv == 8 * L;
    }

    /**
     * The P·V at dv = 8·L (D = 128) of two accumulator rows, a (weights at wa, sums at ca) and b (wb, cb), each
     * over its own V rows (key i at vAt + i·vss for a, vBt + i·vss for b): all 8·L columns in sixteen
     * accumulators, each key's V row read whole and in order, every column summing its keys in order.
     * <ul>
     * <li>Two query heads of a GQA group ({@link #accumulate4}): vAt = vBt. Each FMA still loads its V vector
     * itself, and C2 folds the load into it: one load feeding both FMAs was slower (in-process A/B of the
     * whole GQA step, B=1 H=32 KVH=8 Sk=4096, V rows not line-aligned: this 1.04× warm, 1.10× cold; over a
     * shared arena 0.99–1.00× warm, 1.06× cold). The first row pair streams a tile from memory and the second
     * finds it in L1; four rows × 64 columns load half as many V vectors but read every row's first 256
     * bytes, then the rest (1.05–1.06× slower on the Zen 5 VM; 1.04–1.07× faster warm and 0.92× cold on the
     * Zen 4 one).
     * <li>One head with its K/V head to itself (MHA): its keys' two halves at once, the first into the sums
     * at ca, the second at cb, so that V is read as two streams like K in {@link #scoresKeys4Halves}; the
     * caller adds the halves, a fixed order of its own (other bits than one pass in key order). In-process
     * A/B of the MHA step (KVH=32) against one pass with aligned lines: 1.20× warm, 1.19× cold; over a shared
     * arena 1.09× and 1.06×. In a GQA group, whose heads share V, one row at a time this way was 0.88–0.92×.
     * </ul>
     */
    static void accumulatePair8(float[] w, int wa, int wb, float[] v, int vAt, int vBt, int vss, int n,
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
            int at = vAt + j * vss;
            int bt = vBt + j * vss;
            FloatVector ba = FloatVector.broadcast(F, w[wa + j]);
            FloatVector bb = FloatVector.broadcast(F, w[wb + j]);
            x0 = FloatVector.fromArray(F, v, at).fma(ba, x0);
            y0 = FloatVector.fromArray(F, v, bt).fma(bb, y0);
            x1 = FloatVector.fromArray(F, v, at + L).fma(ba, x1);
            y1 = FloatVector.fromArray(F, v, bt + L).fma(bb, y1);
            x2 = FloatVector.fromArray(F, v, at + 2 * L).fma(ba, x2);
            y2 = FloatVector.fromArray(F, v, bt + 2 * L).fma(bb, y2);
            x3 = FloatVector.fromArray(F, v, at + 3 * L).fma(ba, x3);
            y3 = FloatVector.fromArray(F, v, bt + 3 * L).fma(bb, y3);
            x4 = FloatVector.fromArray(F, v, at + 4 * L).fma(ba, x4);
            y4 = FloatVector.fromArray(F, v, bt + 4 * L).fma(bb, y4);
            x5 = FloatVector.fromArray(F, v, at + 5 * L).fma(ba, x5);
            y5 = FloatVector.fromArray(F, v, bt + 5 * L).fma(bb, y5);
            x6 = FloatVector.fromArray(F, v, at + 6 * L).fma(ba, x6);
            y6 = FloatVector.fromArray(F, v, bt + 6 * L).fma(bb, y6);
            x7 = FloatVector.fromArray(F, v, at + 7 * L).fma(ba, x7);
            y7 = FloatVector.fromArray(F, v, bt + 7 * L).fma(bb, y7);
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

    /**
     * {@link #accumulatePair8} for a GQA row pair with aligned loads: each key's V row, which begins {@code back} floats past a
     * 64-byte line, is read as the nine whole lines it touches (from {@code back} floats before the row to past
     * its end) instead of eight vectors that each straddle two lines; the accumulators follow the same lanes,
     * so accumulator m, lane i holds column 16·m − back + i. Lanes outside the row accumulate the neighbouring
     * floats of v and are never stored (masked loads and stores at both ends), and no lane's sum mixes two
     * columns, so every column gets the same FMAs in the same order as in {@link #accumulatePair8}: the same
     * bits. Two more FMAs per key, nine loads instead of eight split ones: in-process A/B of the whole GQA
     * decode step over a humongous (line-aligned) array, call by call, 1.07–1.09× warm, 1.05× after a cache
     * eviction. The caller checks that the nine lines lie inside v.
     */
    private static void accumulate2Aligned(float[] w, int wa, int wb, float[] v, int vAt, int vss, int n,
                                           float[] acc, int ca, int cb, int back) {
        VectorMask<Float> head = ROW_HEAD[back];
        VectorMask<Float> tail = ROW_TAIL[back];
        int xa = ca - back;
        int xb = cb - back;
        FloatVector x0 = FloatVector.fromArray(F, acc, xa, head);
        FloatVector x1 = FloatVector.fromArray(F, acc, xa + L);
        FloatVector x2 = FloatVector.fromArray(F, acc, xa + 2 * L);
        FloatVector x3 = FloatVector.fromArray(F, acc, xa + 3 * L);
        FloatVector x4 = FloatVector.fromArray(F, acc, xa + 4 * L);
        FloatVector x5 = FloatVector.fromArray(F, acc, xa + 5 * L);
        FloatVector x6 = FloatVector.fromArray(F, acc, xa + 6 * L);
        FloatVector x7 = FloatVector.fromArray(F, acc, xa + 7 * L);
        FloatVector x8 = FloatVector.fromArray(F, acc, xa + 8 * L, tail);
        FloatVector y0 = FloatVector.fromArray(F, acc, xb, head);
        FloatVector y1 = FloatVector.fromArray(F, acc, xb + L);
        FloatVector y2 = FloatVector.fromArray(F, acc, xb + 2 * L);
        FloatVector y3 = FloatVector.fromArray(F, acc, xb + 3 * L);
        FloatVector y4 = FloatVector.fromArray(F, acc, xb + 4 * L);
        FloatVector y5 = FloatVector.fromArray(F, acc, xb + 5 * L);
        FloatVector y6 = FloatVector.fromArray(F, acc, xb + 6 * L);
        FloatVector y7 = FloatVector.fromArray(F, acc, xb + 7 * L);
        FloatVector y8 = FloatVector.fromArray(F, acc, xb + 8 * L, tail);
        for (int j = 0; j < n; j++) {
            int at = vAt + j * vss - back;
            FloatVector ba = FloatVector.broadcast(F, w[wa + j]);
            FloatVector bb = FloatVector.broadcast(F, w[wb + j]);
            FloatVector v0 = FloatVector.fromArray(F, v, at);
            x0 = v0.fma(ba, x0);
            y0 = v0.fma(bb, y0);
            FloatVector v1 = FloatVector.fromArray(F, v, at + L);
            x1 = v1.fma(ba, x1);
            y1 = v1.fma(bb, y1);
            FloatVector v2 = FloatVector.fromArray(F, v, at + 2 * L);
            x2 = v2.fma(ba, x2);
            y2 = v2.fma(bb, y2);
            FloatVector v3 = FloatVector.fromArray(F, v, at + 3 * L);
            x3 = v3.fma(ba, x3);
            y3 = v3.fma(bb, y3);
            FloatVector v4 = FloatVector.fromArray(F, v, at + 4 * L);
            x4 = v4.fma(ba, x4);
            y4 = v4.fma(bb, y4);
            FloatVector v5 = FloatVector.fromArray(F, v, at + 5 * L);
            x5 = v5.fma(ba, x5);
            y5 = v5.fma(bb, y5);
            FloatVector v6 = FloatVector.fromArray(F, v, at + 6 * L);
            x6 = v6.fma(ba, x6);
            y6 = v6.fma(bb, y6);
            FloatVector v7 = FloatVector.fromArray(F, v, at + 7 * L);
            x7 = v7.fma(ba, x7);
            y7 = v7.fma(bb, y7);
            FloatVector v8 = FloatVector.fromArray(F, v, at + 8 * L);
            x8 = v8.fma(ba, x8);
            y8 = v8.fma(bb, y8);
        }
        x0.intoArray(acc, xa, head);
        x1.intoArray(acc, xa + L);
        x2.intoArray(acc, xa + 2 * L);
        x3.intoArray(acc, xa + 3 * L);
        x4.intoArray(acc, xa + 4 * L);
        x5.intoArray(acc, xa + 5 * L);
        x6.intoArray(acc, xa + 6 * L);
        x7.intoArray(acc, xa + 7 * L);
        x8.intoArray(acc, xa + 8 * L, tail);
        y0.intoArray(acc, xb, head);
        y1.intoArray(acc, xb + L);
        y2.intoArray(acc, xb + 2 * L);
        y3.intoArray(acc, xb + 3 * L);
        y4.intoArray(acc, xb + 4 * L);
        y5.intoArray(acc, xb + 5 * L);
        y6.intoArray(acc, xb + 6 * L);
        y7.intoArray(acc, xb + 7 * L);
        y8.intoArray(acc, xb + 8 * L, tail);
    }

    /**
     * One row's {@link #accumulate} at dv = 8·L, 512 bits: all eight column vectors in registers, so each
     * key's V row is read once, whole and in order (the four-vector loop reads half of every row, then the
     * other half). Every column sums the keys in order: the same bits.
     */
    private static void accumulate1Whole8(float[] w, int wa, float[] v, int vAt, int vss, int n, float[] acc,
                                          int ca) {
        FloatVector x0 = FloatVector.fromArray(F, acc, ca);
        FloatVector x1 = FloatVector.fromArray(F, acc, ca + L);
        FloatVector x2 = FloatVector.fromArray(F, acc, ca + 2 * L);
        FloatVector x3 = FloatVector.fromArray(F, acc, ca + 3 * L);
        FloatVector x4 = FloatVector.fromArray(F, acc, ca + 4 * L);
        FloatVector x5 = FloatVector.fromArray(F, acc, ca + 5 * L);
        FloatVector x6 = FloatVector.fromArray(F, acc, ca + 6 * L);
        FloatVector x7 = FloatVector.fromArray(F, acc, ca + 7 * L);
        for (int j = 0; j < n; j++) {
            int at = vAt + j * vss;
            FloatVector ba = FloatVector.broadcast(F, w[wa + j]);
            x0 = FloatVector.fromArray(F, v, at).fma(ba, x0);
            x1 = FloatVector.fromArray(F, v, at + L).fma(ba, x1);
            x2 = FloatVector.fromArray(F, v, at + 2 * L).fma(ba, x2);
            x3 = FloatVector.fromArray(F, v, at + 3 * L).fma(ba, x3);
            x4 = FloatVector.fromArray(F, v, at + 4 * L).fma(ba, x4);
            x5 = FloatVector.fromArray(F, v, at + 5 * L).fma(ba, x5);
            x6 = FloatVector.fromArray(F, v, at + 6 * L).fma(ba, x6);
            x7 = FloatVector.fromArray(F, v, at + 7 * L).fma(ba, x7);
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

    /**
     * {@link #accumulate1Whole8} with aligned loads, as {@link #accumulate2Aligned} reads them: nine whole
     * lines per key from {@code back} floats before the row, lanes outside the row never stored. The same
     * bits. The caller checks that the nine lines lie inside v.
     */
    private static void accumulate1Aligned(float[] w, int wa, float[] v, int vAt, int vss, int n, float[] acc,
                                           int ca, int back) {
        VectorMask<Float> head = ROW_HEAD[back];
        VectorMask<Float> tail = ROW_TAIL[back];
        int xa = ca - back;
        FloatVector x0 = FloatVector.fromArray(F, acc, xa, head);
        FloatVector x1 = FloatVector.fromArray(F, acc, xa + L);
        FloatVector x2 = FloatVector.fromArray(F, acc, xa + 2 * L);
        FloatVector x3 = FloatVector.fromArray(F, acc, xa + 3 * L);
        FloatVector x4 = FloatVector.fromArray(F, acc, xa + 4 * L);
        FloatVector x5 = FloatVector.fromArray(F, acc, xa + 5 * L);
        FloatVector x6 = FloatVector.fromArray(F, acc, xa + 6 * L);
        FloatVector x7 = FloatVector.fromArray(F, acc, xa + 7 * L);
        FloatVector x8 = FloatVector.fromArray(F, acc, xa + 8 * L, tail);
        for (int j = 0; j < n; j++) {
            int at = vAt + j * vss - back;
            FloatVector ba = FloatVector.broadcast(F, w[wa + j]);
            x0 = FloatVector.fromArray(F, v, at).fma(ba, x0);
            x1 = FloatVector.fromArray(F, v, at + L).fma(ba, x1);
            x2 = FloatVector.fromArray(F, v, at + 2 * L).fma(ba, x2);
            x3 = FloatVector.fromArray(F, v, at + 3 * L).fma(ba, x3);
            x4 = FloatVector.fromArray(F, v, at + 4 * L).fma(ba, x4);
            x5 = FloatVector.fromArray(F, v, at + 5 * L).fma(ba, x5);
            x6 = FloatVector.fromArray(F, v, at + 6 * L).fma(ba, x6);
            x7 = FloatVector.fromArray(F, v, at + 7 * L).fma(ba, x7);
            x8 = FloatVector.fromArray(F, v, at + 8 * L).fma(ba, x8);
        }
        x0.intoArray(acc, xa, head);
        x1.intoArray(acc, xa + L);
        x2.intoArray(acc, xa + 2 * L);
        x3.intoArray(acc, xa + 3 * L);
        x4.intoArray(acc, xa + 4 * L);
        x5.intoArray(acc, xa + 5 * L);
        x6.intoArray(acc, xa + 6 * L);
        x7.intoArray(acc, xa + 7 * L);
        x8.intoArray(acc, xa + 8 * L, tail);
    }

    /** Columns [from, dv) of one row: vectors of L, then scalars (keys in order, like every column). */
    private static void accumulateTail(float[] w, int wAt, float[] v, int vAt, int vss, int n, float[] acc, int aAt,
                                       int dv, int from) {
        int e = from;
        for (; e + L <= dv; e += L) {
            FloatVector a0 = FloatVector.fromArray(F, acc, aAt + e);
            for (int j = 0; j < n; j++) {
                a0 = FloatVector.fromArray(F, v, vAt + j * vss + e).fma(FloatVector.broadcast(F, w[wAt + j]), a0);
            }
            a0.intoArray(acc, aAt + e);
        }
        for (; e < dv; e++) {
            float a = acc[aAt + e];
            for (int j = 0; j < n; j++) {
                a = Math.fma(w[wAt + j], v[vAt + j * vss + e], a);
            }
            acc[aAt + e] = a;
        }
    }
}
