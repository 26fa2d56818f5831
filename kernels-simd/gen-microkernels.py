#!/usr/bin/env python3
"""Generates MicroKernels.java: python3 kernels-simd/gen-microkernels.py (from the repository root)."""
import os


def kernel(name, na, rows_a):
    # rows_a: A(a,c) = A[aOff + a*lda + c]  else A(a,c) = A[aOff + a + c*lda]
    L = []
    if rows_a:
        doc = f"C[a][0, NR) (+)= sum over c < n of A[aOff + a*lda + c] * B[bOff + c*NR + (0, NR)], for a < {na}."
        extra = None
    else:
        doc = (f"C[a][0, NR) = (accumulate ? scale[0, NR)·C[a] : 0) + sum over c < n of A[aOff + a + c*lda] *"
               f" B[bOff + c*NR + (0, NR)], for a < {na} ({{@code scale}} null: 1).")
        extra = "float[] scale"
    L.append(f"    /** {doc} */")
    L.append(f"    static void {name}(float[] a, int aOff, int lda, float[] b, int bOff, int n,")
    L.append(f"            float[] c, int cOff, int ldc, boolean accumulate{', ' + extra if extra else ''}) {{")
    for i in range(na):
        L.append(f"        FloatVector c{i}0;")
        L.append(f"        FloatVector c{i}1;")
    L.append("        if (accumulate) {")
    for i in range(na):
        L.append(f"            c{i}0 = FloatVector.fromArray(F, c, cOff + {i} * ldc);")
        L.append(f"            c{i}1 = FloatVector.fromArray(F, c, cOff + {i} * ldc + L);")
    if not rows_a:
        # the online softmax's rescale α·O folded into the load (saves a pass over O per key tile). A
        # running max fused the same way into rowsA pushed the kernel past C2's inlining budget and
        # boxed its vectors (2× slower): the max stays a separate pass.
        L.append("            if (scale != null) {")
        L.append("                FloatVector s0 = FloatVector.fromArray(F, scale, 0);")
        L.append("                FloatVector s1 = FloatVector.fromArray(F, scale, L);")
        for i in range(na):
            L.append(f"                c{i}0 = c{i}0.mul(s0);")
            L.append(f"                c{i}1 = c{i}1.mul(s1);")
        L.append("            }")
    L.append("        } else {")
    for i in range(na):
        L.append(f"            c{i}0 = FloatVector.zero(F);")
        L.append(f"            c{i}1 = FloatVector.zero(F);")
    L.append("        }")
    # B's row stride is the constant NR: C2 then proves the B loads in bounds once per loop, not per step
    if rows_a:
        for i in range(1, na):
            L.append(f"        int a{i} = aOff + {i} * lda;")
        L.append("        for (int k = 0; k < n; k++) {")
        L.append("            int bi = bOff + k * NR;")
        L.append("            FloatVector b0 = FloatVector.fromArray(F, b, bi);")
        L.append("            FloatVector b1 = FloatVector.fromArray(F, b, bi + L);")
        for i in range(na):
            idx = "aOff + k" if i == 0 else f"a{i} + k"
            L.append(f"            FloatVector x{i} = FloatVector.broadcast(F, a[{idx}]);")
            L.append(f"            c{i}0 = x{i}.fma(b0, c{i}0);")
            L.append(f"            c{i}1 = x{i}.fma(b1, c{i}1);")
        L.append("        }")
    else:
        L.append("        for (int k = 0; k < n; k++) {")
        L.append("            int bi = bOff + k * NR;")
        L.append("            int ai = aOff + k * lda;")
        L.append("            FloatVector b0 = FloatVector.fromArray(F, b, bi);")
        L.append("            FloatVector b1 = FloatVector.fromArray(F, b, bi + L);")
        for i in range(na):
            idx = "ai" if i == 0 else f"ai + {i}"
            L.append(f"            FloatVector x{i} = FloatVector.broadcast(F, a[{idx}]);")
            L.append(f"            c{i}0 = x{i}.fma(b0, c{i}0);")
            L.append(f"            c{i}1 = x{i}.fma(b1, c{i}1);")
        L.append("        }")
    for i in range(na):
        L.append(f"        c{i}0.intoArray(c, cOff + {i} * ldc);")
        L.append(f"        c{i}1.intoArray(c, cOff + {i} * ldc + L);")
    L.append("    }")
    return "\n".join(L)


out = ['''package dev.attn4j.simd;

import static dev.attn4j.simd.Vec.F;
import static dev.attn4j.simd.Vec.L;

import jdk.incubator.vector.FloatVector;

/**
 * Register-blocked micro-kernels shared by the fused attention and the SGEMM: a block of
 * {@code m} (12, 8 for colsA, 4 or 1) rows times two vectors of {@code C} held in local accumulators, updated with
 * one broadcast element of {@code A} and two vectors of the packed operand {@code B} per step.
 * {@code rowsA*} read A along its rows (unit stride in the reduction, e.g. K rows for Q·Kᵀ, the rows
 * of X for X·W); {@code colsA*} read A down its columns (unit stride in the output rows, e.g. V for P·V).
 * Twelve rows × two vectors = 24 accumulators, the largest tile that stays in the 32 vector registers
 * of AVX-512 with room for the operands (PERF-NOTES: 24 accumulators reached ~80 % of FMA peak).
 * B's rows are always {@link #NR} floats apart (packed panels, the transposed query tile, the score
 * tile): with the stride a constant, C2 hoists B's bounds checks out of the loop (≈ 20 % faster on a
 * 12-row block than with the stride as a parameter, measured on the kernel alone).
 * Generated by {@code kernels-simd/gen-microkernels.py}: edit the generator, not this file.
 */
final class MicroKernels {
    private MicroKernels() {
    }

    /** Rows of A per full block. */
    static final int MR = 12;

    /** Columns of C per block, and B's row stride: two vectors. */
    static final int NR = 2 * L;
''']
for na in (12, 4, 1):
    out.append(kernel(f"rowsA{na}", na, True))
    out.append("")
for na in (12, 8, 4, 1):
    out.append(kernel(f"colsA{na}", na, False))
    out.append("")
out.append('''    /** Any number of rows of A along rows: blocks of 12, then 4, then 1. */
    static void rowsA(float[] a, int aOff, int lda, float[] b, int bOff, int n,
            float[] c, int cOff, int ldc, int m, boolean accumulate) {
        int i = 0;
        for (; i + 12 <= m; i += 12) {
            rowsA12(a, aOff + i * lda, lda, b, bOff, n, c, cOff + i * ldc, ldc, accumulate);
        }
        for (; i + 4 <= m; i += 4) {
            rowsA4(a, aOff + i * lda, lda, b, bOff, n, c, cOff + i * ldc, ldc, accumulate);
        }
        for (; i < m; i++) {
            rowsA1(a, aOff + i * lda, lda, b, bOff, n, c, cOff + i * ldc, ldc, accumulate);
        }
    }

    /**
     * Blocks of 12 for the first {@code twelves(m)}·12 columns of an m-column operand: a remainder of 4 runs
     * as 8 + 8 in place of the last 12 + 4 (P·V over a 256-key tile, D = 64, the kernels alone, best of 12
     * runs: 5.03 µs as 12 × 5 + 4, 4.89 µs as 12 × 4 + 8 × 2; the 4-column kernel's eight accumulators leave
     * the FMA units idle). The same split on the rows kernels measured no different (5.10 against 5.08 µs).
     */
    static int twelves(int m) {
        int twelves = m / 12;
        return m % 12 == 4 && twelves > 0 ? twelves - 1 : twelves;
    }

    /**
     * Any number of columns of A read down the columns: blocks of 12 ({@link #twelves}), then 8, 4 and 1
     * ({@code scale}: see {@link #colsA12}); each column's sum runs over n in order whatever its block.
     */
    static void colsA(float[] a, int aOff, int lda, float[] b, int bOff, int n,
            float[] c, int cOff, int ldc, int m, boolean accumulate, float[] scale) {
        int i = 0;
        for (int end = twelves(m) * 12; i < end; i += 12) {
            colsA12(a, aOff + i, lda, b, bOff, n, c, cOff + i * ldc, ldc, accumulate, scale);
        }
        for (; i + 8 <= m; i += 8) {
            colsA8(a, aOff + i, lda, b, bOff, n, c, cOff + i * ldc, ldc, accumulate, scale);
        }
        for (; i + 4 <= m; i += 4) {
            colsA4(a, aOff + i, lda, b, bOff, n, c, cOff + i * ldc, ldc, accumulate, scale);
        }
        for (; i < m; i++) {
            colsA1(a, aOff + i, lda, b, bOff, n, c, cOff + i * ldc, ldc, accumulate, scale);
        }
    }
}
''')
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "src/main/java/dev/attn4j/simd/MicroKernels.java"), "w") as f:
    f.write("\n".join(out))
