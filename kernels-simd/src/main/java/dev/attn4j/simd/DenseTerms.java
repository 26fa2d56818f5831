package dev.attn4j.simd;

import dev.attn4j.api.MaskEvaluator;
import dev.attn4j.api.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The dense mask terms of one call, pre-broadcast to {@code [B, H, Sq, Sk]}: fills tiles or rows of
 * the bias (sum of the additive terms, −∞ where a boolean term is false), reading heap float arrays
 * directly and any other storage through its segment.
 */
final class DenseTerms {
    private final Term[] terms;

    private record Term(boolean bool, float[] array, MemorySegment segment, long offset, long sb, long sh, long si, long sj) {
        float at(long index) {
            if (bool) {
                return segment.get(ValueLayout.JAVA_BYTE, index) == 0 ? Float.NEGATIVE_INFINITY : 0f;
            }
            return array != null ? array[(int) index] : segment.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, index);
        }
    }

    DenseTerms(MaskEvaluator ev) {
        List<Term> list = new ArrayList<>();
        for (Tensor t : ev.boolTerms()) {
            Tensor h = t.segment().isNative() ? Copies.heapBroadcast(t) : t;
            // a heap copy of a boolean view holds 0/1 floats: an additive term of 0 or −∞ after mapping
            list.add(h == t ? term(t, true) : boolAsFloat(h));
        }
        for (Tensor t : ev.additiveTerms()) {
            list.add(term(t.segment().isNative() || t.array() == null ? Copies.heapBroadcast(t) : t, false));
        }
        terms = list.toArray(Term[]::new);
    }

    private static Term boolAsFloat(Tensor t) {
        float[] a = t.array();
        float[] mapped = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            mapped[i] = a[i] == 0f ? Float.NEGATIVE_INFINITY : 0f;
        }
        return new Term(false, mapped, java.lang.foreign.MemorySegment.ofArray(mapped), t.offset(), t.stride(0), t.stride(1),
                t.stride(2), t.stride(3));
    }

    private static Term term(Tensor t, boolean bool) {
        return new Term(bool, bool ? null : t.array(), t.segment(), t.offset(), t.stride(0), t.stride(1), t.stride(2), t.stride(3));
    }

    boolean isEmpty() {
        return terms.length == 0;
    }

    /** bias[jj·ld + r] = bias(b, h, i0 + r, j0 + jj) for r &lt; rows, jj &lt; nk; 0 for rows ≤ r &lt; ld. */
    void fillTransposed(int b, int h, int i0, int rows, int j0, int nk, float[] bias, int ld) {
        for (int jj = 0; jj < nk; jj++) {
            java.util.Arrays.fill(bias, jj * ld, jj * ld + ld, 0f);
        }
        for (Term t : terms) {
            for (int r = 0; r < rows; r++) {
                long base = t.offset + b * t.sb + h * t.sh + (i0 + r) * t.si + j0 * t.sj;
                for (int jj = 0; jj < nk; jj++) {
                    bias[jj * ld + r] += t.at(base + jj * t.sj);
                }
            }
        }
    }

    /** row[off + jj] = bias(b, h, i, j0 + jj) for jj &lt; n. */
    void fillRow(int b, int h, int i, int j0, int n, float[] row, int off) {
        java.util.Arrays.fill(row, off, off + n, 0f);
        for (Term t : terms) {
            long base = t.offset + b * t.sb + h * t.sh + i * t.si + j0 * t.sj;
            for (int jj = 0; jj < n; jj++) {
                row[off + jj] += t.at(base + jj * t.sj);
            }
        }
    }
}
