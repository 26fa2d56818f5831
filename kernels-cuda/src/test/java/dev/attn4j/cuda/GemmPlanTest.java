package dev.attn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The operand swap, checked by running the column-major call it plans through a plain-Java
 * {@code cublasSgemmStridedBatched} (column-major, op per operand, leading dimensions, batch strides).
 */
class GemmPlanTest {

    /** cuBLAS's semantics: C[b] (m×n, col-major, ldc) = alpha·op(A[b])·op(B[b]) + beta·C[b]. */
    private static void columnMajorSgemmStridedBatched(int transa, int transb, int m, int n, int k, float alpha,
                                                       float[] a, int aOff, int lda, long strideA, float[] b, int bOff,
                                                       int ldb, long strideB, float beta, float[] c, int ldc,
                                                       long strideC, int batch) {
        for (int t = 0; t < batch; t++) {
            for (int col = 0; col < n; col++) {
                for (int row = 0; row < m; row++) {
                    double acc = 0;
                    for (int e = 0; e < k; e++) {
                        // op(A)[row, e], op(B)[e, col], column-major element (r, c) at r + c·ld
                        float av = transa == GemmPlan.OP_N ? a[(int) (aOff + t * strideA + row + (long) e * lda)]
                                : a[(int) (aOff + t * strideA + e + (long) row * lda)];
                        float bv = transb == GemmPlan.OP_N ? b[(int) (bOff + t * strideB + e + (long) col * ldb)]
                                : b[(int) (bOff + t * strideB + col + (long) e * ldb)];
                        acc += (double) av * bv;
                    }
                    int at = (int) (t * strideC + row + (long) col * ldc);
                    c[at] = (float) (alpha * acc + beta * c[at]);
                }
            }
        }
    }

    @Test
    void rowMajorProductsThroughTheSwappedColumnMajorCall() {
        long seed = 7L;
        Random rnd = new Random(seed);
        for (int trial = 0; trial < 200; trial++) {
            int bigM = 1 + rnd.nextInt(9);
            int bigN = 1 + rnd.nextInt(9);
            int bigK = 1 + rnd.nextInt(9);
            int batch = 1 + rnd.nextInt(3);
            boolean transA = rnd.nextBoolean();
            boolean transB = rnd.nextBoolean();
            // row-major storage: A is [M, K] (or [K, M] when transA) with row stride lda ≥ its columns
            int aCols = transA ? bigM : bigK;
            int aRows = transA ? bigK : bigM;
            int bCols = transB ? bigK : bigN;
            int bRows = transB ? bigN : bigK;
            int lda = aCols + rnd.nextInt(3);
            int ldb = bCols + rnd.nextInt(3);
            int ldc = bigN + rnd.nextInt(3);
            long strideA = (long) aRows * lda;
            long strideB = rnd.nextBoolean() ? 0 : (long) bRows * ldb;  // 0: one B for every batch (GQA)
            long strideC = (long) bigM * ldc;
            float[] a = random(rnd, (int) (strideA * batch));
            float[] b = random(rnd, (int) Math.max(strideB * batch, (long) bRows * ldb));
            float[] c = new float[(int) (strideC * batch)];
            float alpha = 0.5f + rnd.nextInt(3);
            GemmPlan plan = GemmPlan.rowMajor(transA, transB, bigM, bigN, bigK);
            columnMajorSgemmStridedBatched(plan.transa(), plan.transb(), plan.m(), plan.n(), plan.k(), alpha,
                    b, 0, ldb, strideB, a, 0, lda, strideA, 0f, c, ldc, strideC, batch);
            for (int t = 0; t < batch; t++) {
                for (int i = 0; i < bigM; i++) {
                    for (int j = 0; j < bigN; j++) {
                        double expect = 0;
                        for (int e = 0; e < bigK; e++) {
                            float av = transA ? a[(int) (t * strideA + (long) e * lda + i)] : a[(int) (t * strideA + (long) i * lda + e)];
                            float bv = transB ? b[(int) (t * strideB + (long) j * ldb + e)] : b[(int) (t * strideB + (long) e * ldb + j)];
                            expect += (double) av * bv;
                        }
                        assertEquals(alpha * expect, c[(int) (t * strideC + (long) i * ldc + j)], 1e-4,
                                "seed " + seed + " trial " + trial + " at " + t + "," + i + "," + j);
                    }
                }
            }
        }
    }

    private static float[] random(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = rnd.nextFloat() * 2 - 1;
        }
        return a;
    }
}
