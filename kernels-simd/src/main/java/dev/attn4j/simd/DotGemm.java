package dev.attn4j.simd;

import static dev.attn4j.simd.Vec.F;
import static dev.attn4j.simd.Vec.L;

import dev.attn4j.api.Tensor;
import jdk.incubator.vector.FloatVector;

/**
 * {@code y [M, N] = alpha·a [M, K]·Wᵀ + bias} for a few rows of {@code a} against a weight {@code W [N, K]}
 * stored as rows ({@code b = Wᵀ}, unit stride along K): dot products of a's rows with W's rows in 4 × 4
 * register tiles (sixteen FMA chains fed by eight loads per step), each tile's sixteen sums reduced by four
 * {@link DecodeBlocks#tree4}. No packing: with few rows, {@link Sgemm}'s packing of W into column panels (a
 * transpose of all of W) cost as much as the product.
 *
 * <p>A work item is a group of {@link #COLS} W rows (columns of y); it runs every row quad of a against each
 * quad of W rows while those four rows are in L1 (a's few rows stay in L2). Edges repeat the last row or
 * column in the tile and store only the real ones. Each output is one item's sum in a fixed order (lanes,
 * then the tree, then the K tail), so the result does not depend on the thread count.
 */
final class DotGemm {
    /**
     * The most rows of a this path takes; more rows amortize {@link Sgemm}'s packing of W. In-process A/B against
     * the packed path, linear 768 → 2304 call by call on the Zen 4 VM (2 threads): M = 3 2.4–3.0×, 4 1.6–2.0×,
     * 6 1.3–1.6×, 8 1.1–1.4×, 10 1.0–1.3×, 12 0.93–1.24×, 16 0.66–1.07×, 32 0.66–0.83×.
     */
    static final int MAX_ROWS = 8;
    /** W rows (columns of y) per work item. */
    private static final int COLS = 32;
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[16 * L]);

    private DotGemm() {
    }

    /**
     * Whether {@link #gemm} takes {@code y = alpha·a·b + bias}: 3 to {@link #MAX_ROWS} rows and the operands of
     * {@link Sgemm#againstWeightRows}.
     */
    static boolean applies(Tensor a, Tensor b, Tensor y) {
        return a.dim(0) > Sgemm.GEMV_ROWS && a.dim(0) <= MAX_ROWS && Sgemm.againstWeightRows(a, b, y);
    }

    /**
     * y = alpha·a·b + beta·c + bias where {@link #applies} holds; each element of C is read right before the same
     * element of y is written, so y may be C.
     */
    static void gemm(float alpha, Tensor a, Tensor b, float beta, Tensor c, Tensor bias, Tensor y, Parallel par) {
        int m = a.dim(0);
        int k = a.dim(1);
        int n = b.dim(1);
        float[] aa = a.array();
        float[] ww = b.array();
        float[] yy = y.array();
        int aOff = (int) a.offset();
        int lda = (int) a.stride(0);
        int wOff = (int) b.offset();
        int ldw = (int) b.stride(1);
        int yOff = (int) y.offset();
        int ldy = (int) y.stride(0);
        float[] biasArr = Sgemm.biasArray(bias);
        Tensor c2 = Sgemm.heapC(c, beta, m, n);
        Term term = c2 == null ? null : new Term(beta, c2.array(), (int) c2.offset(), (int) c2.stride(0), (int) c2.stride(1));
        par.forEach((n + COLS - 1) / COLS, item -> {
            float[] lanes = LANES.get();
            int n1 = Math.min(n, item * COLS + COLS);
            for (int j0 = item * COLS; j0 < n1; j0 += 4) {
                int cols = Math.min(4, n1 - j0);
                for (int i0 = 0; i0 < m; i0 += 4) {
                    tile(aa, aOff + i0 * lda, lda, Math.min(4, m - i0), ww, wOff + j0 * ldw, ldw, cols, k, alpha,
                            biasArr, term, i0, j0, yy, yOff + i0 * ldy + j0, ldy, lanes);
                }
            }
        });
    }

    /**
     * y[yAt + r·ldy + c] = alpha·(a row r · W row c) + bias[j0 + c] for r &lt; rows, c &lt; cols (≤ 4 each); a row
     * r at aAt + r·lda, W row c at wAt + c·ldw, both k long. Missing rows and columns repeat the last one.
     */
    private static void tile(float[] a, int aAt, int lda, int rows, float[] w, int wAt, int ldw, int cols, int k,
                             float alpha, float[] bias, Term term, int i0, int j0, float[] y, int yAt, int ldy,
                             float[] lanes) {
        int a0 = aAt;
        int a1 = aAt + Math.min(1, rows - 1) * lda;
        int a2 = aAt + Math.min(2, rows - 1) * lda;
        int a3 = aAt + Math.min(3, rows - 1) * lda;
        int w0 = wAt;
        int w1 = wAt + Math.min(1, cols - 1) * ldw;
        int w2 = wAt + Math.min(2, cols - 1) * ldw;
        int w3 = wAt + Math.min(3, cols - 1) * ldw;
        FloatVector c00 = FloatVector.zero(F);
        FloatVector c01 = c00;
        FloatVector c02 = c00;
        FloatVector c03 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c12 = c00;
        FloatVector c13 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c22 = c00;
        FloatVector c23 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        FloatVector c32 = c00;
        FloatVector c33 = c00;
        int bound = F.loopBound(k);
        for (int e = 0; e < bound; e += L) {
            FloatVector x0 = FloatVector.fromArray(F, a, a0 + e);
            FloatVector x1 = FloatVector.fromArray(F, a, a1 + e);
            FloatVector x2 = FloatVector.fromArray(F, a, a2 + e);
            FloatVector x3 = FloatVector.fromArray(F, a, a3 + e);
            FloatVector v = FloatVector.fromArray(F, w, w0 + e);
            c00 = x0.fma(v, c00);
            c10 = x1.fma(v, c10);
            c20 = x2.fma(v, c20);
            c30 = x3.fma(v, c30);
            v = FloatVector.fromArray(F, w, w1 + e);
            c01 = x0.fma(v, c01);
            c11 = x1.fma(v, c11);
            c21 = x2.fma(v, c21);
            c31 = x3.fma(v, c31);
            v = FloatVector.fromArray(F, w, w2 + e);
            c02 = x0.fma(v, c02);
            c12 = x1.fma(v, c12);
            c22 = x2.fma(v, c22);
            c32 = x3.fma(v, c32);
            v = FloatVector.fromArray(F, w, w3 + e);
            c03 = x0.fma(v, c03);
            c13 = x1.fma(v, c13);
            c23 = x2.fma(v, c23);
            c33 = x3.fma(v, c33);
        }
        // the sixteen chains out, then reduced by finish (with the four trees inlined here, this method
        // passed C2's inlining budget and ran its vectors boxed: 14× slower)
        c00.intoArray(lanes, 0);
        c01.intoArray(lanes, L);
        c02.intoArray(lanes, 2 * L);
        c03.intoArray(lanes, 3 * L);
        c10.intoArray(lanes, 4 * L);
        c11.intoArray(lanes, 5 * L);
        c12.intoArray(lanes, 6 * L);
        c13.intoArray(lanes, 7 * L);
        c20.intoArray(lanes, 8 * L);
        c21.intoArray(lanes, 9 * L);
        c22.intoArray(lanes, 10 * L);
        c23.intoArray(lanes, 11 * L);
        c30.intoArray(lanes, 12 * L);
        c31.intoArray(lanes, 13 * L);
        c32.intoArray(lanes, 14 * L);
        c33.intoArray(lanes, 15 * L);
        finish(lanes, rows, a, a0, a1, a2, a3, w, w0, w1, w2, w3, bound, k, alpha, bias, term, i0, j0, cols, y, yAt,
                ldy);
    }

    /**
     * Row r's four chains (lanes[(4r + c)·L, + L) for column c) into its four tree sums, in place in
     * lanes[(4r)·L + LANE0…LANE3], then each row {@link #store}d.
     */
    private static void finish(float[] lanes, int rows, float[] a, int a0, int a1, int a2, int a3, float[] w, int w0,
                               int w1, int w2, int w3, int bound, int k, float alpha, float[] bias, Term term, int i0,
                               int j0, int cols, float[] y, int yAt, int ldy) {
        for (int r = 0; r < rows; r++) {
            int at = 4 * r * L;
            DecodeBlocks.tree4(FloatVector.fromArray(F, lanes, at), FloatVector.fromArray(F, lanes, at + L),
                    FloatVector.fromArray(F, lanes, at + 2 * L), FloatVector.fromArray(F, lanes, at + 3 * L))
                    .intoArray(lanes, at);
            int ar = r == 0 ? a0 : r == 1 ? a1 : r == 2 ? a2 : a3;
            store(lanes, at, a, ar, w, w0, w1, w2, w3, bound, k, alpha, bias, term, i0 + r, j0, cols, y, yAt + r * ldy);
        }
    }

    /**
     * One row (row {@code i} of y) of a tile: its four tree sums (lanes[at + LANE0…LANE3]), plus the K tail,
     * scaled, plus beta·C, plus the bias (the order of {@link Sgemm}'s epilogue).
     */
    private static void store(float[] lanes, int at, float[] a, int ar, float[] w, int w0, int w1, int w2, int w3,
                              int bound, int k, float alpha, float[] bias, Term term, int i, int j0, int cols,
                              float[] y, int yAt) {
        for (int c = 0; c < cols; c++) {
            int wc = c == 0 ? w0 : c == 1 ? w1 : c == 2 ? w2 : w3;
            float s = lanes[at + (c == 0 ? DecodeBlocks.LANE0 : c == 1 ? DecodeBlocks.LANE1 : c == 2 ? DecodeBlocks.LANE2
                    : DecodeBlocks.LANE3)];
            for (int e = bound; e < k; e++) {
                s = Math.fma(a[ar + e], w[wc + e], s);
            }
            float v = alpha * s;
            if (term != null) {
                v += term.beta * term.c[term.off + i * term.ld0 + (j0 + c) * term.ld1];
            }
            y[yAt + c] = bias == null ? v : v + bias[j0 + c];
        }
    }

    /** beta·C: C's elements at c[off + i·ld0 + j·ld1] (a broadcast axis has stride 0). */
    private record Term(float beta, float[] c, int off, int ld0, int ld1) {
    }
}
