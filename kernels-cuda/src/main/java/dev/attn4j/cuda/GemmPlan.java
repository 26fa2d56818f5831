package dev.attn4j.cuda;

/**
 * A row-major GEMM turned into the column-major call cuBLAS takes (the operand-swap trick, hidden in this
 * module): a row-major {@code X [r, c]} with row stride {@code ld} is, read column-major, {@code Xᵀ [c, r]}
 * with the same leading dimension, so {@code C = op(A)·op(B)} (row-major) is computed as
 * {@code Cᵀ = op(B)ᵀ·op(A)ᵀ}: cuBLAS gets B first, A second, m = N and n = M.
 *
 * @param transa   cuBLAS's op of its first operand (our B): 0 = N, 1 = T
 * @param transb   cuBLAS's op of its second operand (our A)
 * @param m        rows of cuBLAS's column-major C = our N
 * @param n        columns of cuBLAS's column-major C = our M
 * @param k        the inner dimension
 * @param swapped  always true: cuBLAS's first operand is our B
 */
record GemmPlan(int transa, int transb, int m, int n, int k, boolean swapped) {
    static final int OP_N = 0;
    static final int OP_T = 1;

    /**
     * The plan of row-major {@code C [M, N] = op(A)·op(B)} where {@code op(A)} is {@code [M, K]} and
     * {@code op(B)} is {@code [K, N]}; {@code transA} means A is stored {@code [K, M]}, {@code transB} that B
     * is stored {@code [N, K]}.
     */
    static GemmPlan rowMajor(boolean transA, boolean transB, int bigM, int bigN, int bigK) {
        return new GemmPlan(transB ? OP_T : OP_N, transA ? OP_T : OP_N, bigN, bigM, bigK, true);
    }
}
