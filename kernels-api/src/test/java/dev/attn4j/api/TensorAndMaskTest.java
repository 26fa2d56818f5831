package dev.attn4j.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Tensor views, mask composition and the mask evaluator's broadcasting and key ranges. */
class TensorAndMaskTest {

    @Test
    void layoutsAreStrides() {
        Tensor bshd = Tensor.bshd(new float[2 * 3 * 4 * 5], 2, 3, 4, 5);
        assertArrayEquals(new int[] {2, 4, 3, 5}, bshd.shape());
        assertArrayEquals(new long[] {60, 5, 20, 1}, bshd.strides());
        Tensor[] qkv = Tensor.packedQkv(new float[2 * 3 * 3 * 4 * 5], 2, 3, 4, 5);
        assertEquals(0, qkv[0].offset());
        assertEquals(20, qkv[1].offset());
        assertEquals(40, qkv[2].offset());
        assertArrayEquals(new long[] {180, 5, 60, 1}, qkv[2].strides());
        assertFalse(qkv[0].overlaps(qkv[1]), "Q and K of a packed buffer interleave without sharing an element");
        assertFalse(qkv[1].overlaps(qkv[2]));
        assertTrue(qkv[1].overlaps(qkv[1].narrow(2, 1, 1)));
        assertTrue(qkv[0].overlaps(Tensor.view(qkv[0].array(), 19, new int[] {2}, new long[] {1})),
                "the last element of Q's first row and the first of K's");
        assertTrue(Tensor.zeros(2, 3).isContiguous());
        assertFalse(bshd.isContiguous());
    }

    /**
     * The facts a view keeps from its construction (its array, element count, reach) answer as they were computed
     * per call: two arrays never overlap, one array's views do where they share an element, a heap slice of an
     * array has no array() fast path, and "the same view" needs the same storage, offset, shape and strides.
     */
    @Test
    void viewFactsKeptFromConstruction() {
        float[] data = new float[64];
        Tensor a = Tensor.view(data, 4, new int[] {3, 5}, new long[] {6, 1});
        assertSame(data, a.array());
        assertEquals(15, a.elementCount());
        assertEquals(0, Tensor.view(data, 4, new int[] {3, 0}, new long[] {6, 1}).elementCount());
        assertEquals(1, Tensor.view(data, 9, new int[] {}, new long[] {}).elementCount());
        int big = Integer.MAX_VALUE;
        Tensor huge = Tensor.view(data, 0, new int[] {big, big, big}, new long[] {0, 0, 0});
        assertThrows(ArithmeticException.class, huge::elementCount, "a broadcast view too large to count");
        assertFalse(a.overlaps(Tensor.view(new float[64], 4, new int[] {3, 5}, new long[] {6, 1})), "another array");
        assertTrue(a.overlaps(Tensor.view(data, 20, new int[] {1}, new long[] {1})), "element 20 = a[2, 4]");
        assertFalse(a.overlaps(Tensor.view(data, 21, new int[] {2}, new long[] {1})), "21, 22: between rows and past");
        assertFalse(a.overlaps(Tensor.view(data, 9, new int[] {0}, new long[] {1})), "an empty view");
        MemorySegment slice = MemorySegment.ofArray(data).asSlice(8);
        Tensor sliced = Tensor.view(slice, DType.FLOAT32, 0, new int[] {2}, new long[] {1});
        assertNull(sliced.array(), "a slice of an array is no array view");
        assertTrue(sliced.overlaps(Tensor.view(data, 3, new int[] {1}, new long[] {1})), "bytes 8..15 = element 2, 3");
        assertFalse(sliced.overlaps(Tensor.view(data, 4, new int[] {1}, new long[] {1})));
        assertFalse(Tensor.ofBooleans(new byte[4], 4).overlaps(a), "another storage");
        assertTrue(Checks.sameView(a, Tensor.view(data, 4, new int[] {3, 5}, new long[] {6, 1})));
        assertFalse(Checks.sameView(a, Tensor.view(data, 5, new int[] {3, 5}, new long[] {6, 1})), "offset");
        assertFalse(Checks.sameView(a, Tensor.view(data, 4, new int[] {5, 3}, new long[] {6, 1})), "shape");
        assertFalse(Checks.sameView(a, Tensor.view(data, 4, new int[] {3, 5}, new long[] {7, 1})), "strides");
        assertFalse(Checks.sameView(a, Tensor.view(data.clone(), 4, new int[] {3, 5}, new long[] {6, 1})), "array");
    }

    /** toFloatArray's bulk rows (float32, dense last axis) give what element-wise reads give, on and off the heap. */
    @Test
    void toFloatArrayMatchesElementReads() {
        float[] data = new float[3 * 4 * 5 + 7];
        for (int i = 0; i < data.length; i++) {
            data[i] = i * 0.5f - 3;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(4L * data.length, 4);
            MemorySegment.copy(data, 0, seg, java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, data.length);
            for (Tensor base : List.of(Tensor.view(data, 7, new int[] {3, 4, 5}, new long[] {20, 5, 1}),
                    Tensor.view(seg, DType.FLOAT32, 7, new int[] {3, 4, 5}, new long[] {20, 5, 1}))) {
                for (Tensor t : List.of(base, base.narrow(2, 1, 3), base.narrow(1, 1, 2).narrow(2, 2, 3),
                        base.permute(1, 0, 2), base.permute(2, 0, 1), base.select(1, 2),
                        base.narrow(2, 4, 1).broadcastTo(3, 4, 6), base.select(0, 1).select(0, 3))) {
                    float[] want = new float[(int) t.elementCount()];
                    int[] idx = new int[t.shape().length];
                    for (int n = 0; n < want.length; n++) {
                        want[n] = t.get(idx);
                        Tensor.increment(idx, t.shape());
                    }
                    assertArrayEquals(want, t.toFloatArray(), t.toString());
                }
            }
        }
    }

    @Test
    void viewsShareStorage() {
        float[] data = new float[24];
        for (int i = 0; i < 24; i++) {
            data[i] = i;
        }
        Tensor t = Tensor.of(data, 2, 3, 4);
        assertEquals(13f, t.get(1, 0, 1));
        assertEquals(13f, t.permute(2, 0, 1).get(1, 1, 0));
        assertEquals(13f, t.narrow(2, 1, 2).get(1, 0, 0));
        assertEquals(13f, t.select(0, 1).get(0, 1));
        assertEquals(13f, t.reshape(6, 4).get(3, 1));
        assertEquals(13f, t.unsqueeze(1).get(1, 0, 0, 1));
        Tensor row = Tensor.of(new float[] {1, 2, 3}, 3);
        Tensor b = row.broadcastTo(2, 4, 3);
        assertEquals(3f, b.get(1, 3, 2));
        assertArrayEquals(new long[] {0, 0, 1}, b.strides());
        assertThrows(IllegalArgumentException.class, () -> row.broadcastTo(2, 4));
        assertSame(data, t.array());
        assertEquals(21f, t.getFloat(t.indexOfLinear(21)));
        assertArrayEquals(new float[] {0, 4, 8, 12, 16, 20}, t.select(2, 0).toFloatArray());
    }

    @Test
    void offHeapAndHalfPrecisionStorage() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(4 * 6);
            Tensor t = Tensor.of(seg, DType.FLOAT32, 2, 3);
            t.set(2.5f, 1, 2);
            assertEquals(2.5f, t.get(1, 2));
            assertNull(t.array());
            Tensor h = Tensor.of(arena.allocate(2 * 4), DType.FLOAT16, 4);
            h.set(0.333333f, 1);
            assertEquals(Float.float16ToFloat(Float.floatToFloat16(0.333333f)), h.get(1));
            Tensor bf = Tensor.of(arena.allocate(2 * 4), DType.BFLOAT16, 4);
            bf.set(1.0078125f, 0);
            assertEquals(1.0078125f, bf.get(0));
            assertThrows(IllegalArgumentException.class, () -> Tensor.of(seg, DType.FLOAT32, 7));
        }
    }

    @Test
    void masksComposeFlat() {
        Mask a = Mask.causalTopLeft();
        Mask b = Mask.keyLengths(3, 4);
        Mask c = Mask.additive(Tensor.zeros(1, 4));
        Mask all = Mask.all(Mask.none(), a, Mask.all(b, c));
        assertInstanceOf(Mask.All.class, all);
        assertEquals(List.of(a, b, c), all.parts());
        assertSame(a, Mask.all(Mask.none(), a));
        assertSame(Mask.none(), Mask.all());
        assertEquals(List.of(a, b), a.and(b).parts());
        assertEquals(Mask.keyLengths(3, 4), b);
    }

    @Test
    void evaluatorRangesAndBroadcasting() {
        AttentionProblem p = AttentionProblem.of(2, 3, 1, 4, 10, 8);
        Mask mask = Mask.all(Mask.causal(Alignment.perBatch(-2, 6)), Mask.slidingWindow(3, Integer.MAX_VALUE, Alignment.bottomRight()),
                Mask.keyLengths(10, 8), Mask.bool(Tensor.ofBooleans(new boolean[] {true, false, true}, 1, 3, 1, 1)),
                Mask.additive(Tensor.of(new float[] {0.5f, -1f}, 2, 1, 1, 1)));
        MaskEvaluator m = MaskEvaluator.of(p, mask);
        // batch 0, query 3: causal j <= 1; window (offset 6) j >= 3+6-3 = 6: empty
        assertTrue(m.keyEnd(0, 3) <= m.keyBegin(0, 3));
        // batch 1, query 0: causal j <= 6, window j >= 3, key length 8: [3, 7)
        assertEquals(3, m.keyBegin(1, 0));
        assertEquals(7, m.keyEnd(1, 0));
        // batch 1, query 3: causal j <= 9, window j >= 6, key length 8: [6, 8)
        assertEquals(6, m.keyBegin(1, 3));
        assertEquals(8, m.keyEnd(1, 3));
        assertEquals(-1f, m.bias(1, 0, 3, 6));
        assertEquals(Float.NEGATIVE_INFINITY, m.bias(1, 1, 3, 6), "head 1 is masked by the bool term");
        assertEquals(Float.NEGATIVE_INFINITY, m.bias(1, 0, 3, 8), "past the key length");
        assertEquals(0.5f, m.denseBias(0, 2, 0, 0));
        assertTrue(m.hasDense());
        assertTrue(m.hasStructured());
        for (Tensor t : m.boolTerms()) {
            assertArrayEquals(p.scoreShape(), t.shape());
        }
    }
}
