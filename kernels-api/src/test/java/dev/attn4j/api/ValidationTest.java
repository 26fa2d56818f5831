package dev.attn4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.attn4j.reference.ReferenceBackend;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Every kind of bad argument is refused at the API edge with a message naming it, and nothing is written. */
class ValidationTest {
    private static final Kernels K = Kernels.of(new ReferenceBackend());
    private static final AttentionProblem P = AttentionProblem.of(2, 4, 2, 5, 6, 8);

    private static Tensor q() {
        return Tensor.zeros(P.qShape());
    }

    private static Tensor k() {
        return Tensor.zeros(P.kShape());
    }

    private static Tensor v() {
        return Tensor.zeros(P.vShape());
    }

    private static Tensor sentinelOut() {
        float[] data = new float[(int) Tensor.count(P.outShape())];
        Arrays.fill(data, 42f);
        return Tensor.of(data, P.outShape());
    }

    /** Asserts the call throws IllegalArgumentException whose message contains every fragment. */
    private static void refused(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message <" + e.getMessage() + "> should contain <" + f + ">");
        }
    }

    @Test
    void wrongShapeNamesArgumentExpectedAndActual() {
        Tensor badK = Tensor.zeros(2, 2, 7, 8);
        refused(() -> K.attention(P, q(), badK, v(), Mask.none(), sentinelOut()),
                "k must have shape [batch=2, kvHeads=2, seqK=6, headDim=8] but has [2, 2, 7, 8]");
        refused(() -> K.attention(P, Tensor.zeros(2, 4, 5), k(), v(), Mask.none(), sentinelOut()), "q must have shape");
        refused(() -> K.attention(P, q(), k(), v(), Mask.none(), Tensor.zeros(2, 4, 5, 9)), "out must have shape", "valueDim=8");
        refused(() -> K.linear(Tensor.zeros(3, 4), Tensor.zeros(5, 6), null, Tensor.zeros(3, 5)), "w must have shape", "K=x.dim(1)=4");
        refused(() -> K.gemm(1f, Tensor.zeros(3, 4), Tensor.zeros(5, 6), 0f, null, Tensor.zeros(3, 6)), "do not chain");
        refused(() -> K.matmul(Tensor.zeros(2, 3, 4), Tensor.zeros(3, 4, 2), Tensor.zeros(3, 3, 2)), "do not broadcast");
        refused(() -> K.softmax(Tensor.zeros(3, 4), 2, Tensor.zeros(3, 4)), "axis must be in [-2, 1]", "but is 2");
    }

    @Test
    void stridesThatLeaveTheStorageAreRefused() {
        refused(() -> Tensor.view(new float[10], 0, new int[] {3, 4}, new long[] {4, 1}),
                "reaches element 11 of a storage of 10");
        refused(() -> Tensor.view(new float[100], 0, new int[] {3, 4}, new long[] {-4, 1}), "negative stride");
        refused(() -> Tensor.view(new float[100], -1, new int[] {3, 4}, new long[] {4, 1}), "offset must be >= 0");
        refused(() -> Tensor.view(new float[100], 0, new int[] {3, 4}, new long[] {4}), "has 2 axes but strides");
    }

    @Test
    void headRatioIsChecked() {
        refused(() -> AttentionProblem.of(1, 12, 5, 4, 4, 8), "heads (12) must be a multiple of kvHeads (5)");
        refused(() -> AttentionProblem.of(1, 0, 1, 4, 4, 8), "heads must be >= 1 but is 0");
        refused(() -> AttentionProblem.of(1, 1, 1, 4, 4, 8).withScale(Float.NaN), "scale must be finite");
        refused(() -> AttentionProblem.of(1, 1, 1, 4, 4, 8).withSoftcap(-1f), "softcap must be finite and >= 0");
    }

    @Test
    void maskShapesAndLengthsAreChecked() {
        Tensor badMask = Tensor.zeros(5, 7);
        refused(() -> K.attention(P, q(), k(), v(), Mask.additive(badMask), sentinelOut()),
                "additive mask of shape [5, 7] must broadcast to [batch=2, heads=4, seqQ=5, seqK=6]");
        refused(() -> K.attention(P, q(), k(), v(), Mask.bool(Tensor.zeros(5, 6)), sentinelOut()), "bool mask must have dtype BOOL");
        refused(() -> K.attention(P, q(), k(), v(), Mask.additive(Tensor.ofBooleans(new byte[30], 5, 6)), sentinelOut()),
                "additive mask must be a float tensor");
        refused(() -> K.attention(P, q(), k(), v(), Mask.keyLengths(6, 7), sentinelOut()),
                "key length of batch 1 must be in [0, seqK=6] but is 7");
        refused(() -> K.attention(P, q(), k(), v(), Mask.keyLengths(6), sentinelOut()),
                "key lengths must have one entry per batch (2) but has 1");
        refused(() -> K.attention(P, q(), k(), v(), Mask.causal(Alignment.perBatch(1, 2, 3)), sentinelOut()),
                "causal mask alignment must have one offset per batch (2) but has 3");
        refused(() -> Mask.slidingWindow(-1, 0, Alignment.topLeft()), "sliding window left (-1)");
    }

    @Test
    void nullsAreNamed() {
        NullPointerException e = assertThrows(NullPointerException.class,
                () -> K.attention(P, null, k(), v(), Mask.none(), sentinelOut()));
        assertEquals("q must not be null", e.getMessage());
        e = assertThrows(NullPointerException.class, () -> K.attention(P, q(), k(), v(), null, sentinelOut()));
        assertTrue(e.getMessage().startsWith("mask must not be null"));
        e = assertThrows(NullPointerException.class, () -> K.attention(null, q(), k(), v(), Mask.none(), sentinelOut()));
        assertEquals("problem must not be null", e.getMessage());
    }

    @Test
    void dtypeAndOverlapAreChecked() {
        Tensor half = Tensor.of(java.lang.foreign.MemorySegment.ofArray(new short[(int) Tensor.count(P.qShape())]), DType.FLOAT16,
                P.qShape());
        refused(() -> K.attention(P, half, k(), v(), Mask.none(), sentinelOut()), "q must be FLOAT32 but is FLOAT16");
        float[] shared = new float[(int) Tensor.count(P.qShape())];
        Tensor q = Tensor.of(shared, P.qShape());
        Tensor out = Tensor.of(shared, P.outShape());
        refused(() -> K.attention(P, q, k(), v(), Mask.none(), out), "out must not overlap q");
        Tensor x = Tensor.zeros(4, 4);
        refused(() -> K.softmax(x, 1, Tensor.zeros(3, 4)), "y must have the shape of x [4, 4] but has [3, 4]");
        // y shifted by one element inside x's array: neither x itself nor disjoint
        Tensor y = Tensor.view(x.array(), 1, new int[] {3, 4}, new long[] {4, 1}).broadcastTo(3, 4);
        Tensor x3 = x.narrow(0, 0, 3);
        refused(() -> K.softmax(x3, 1, y), "must be x itself (in place) or not overlap it");
    }

    @Test
    void nothingIsWrittenWhenValidationFails() {
        Tensor out = sentinelOut();
        Tensor lse = Tensor.of(new float[2 * 4 * 5], 2, 4, 5);
        Arrays.fill(lse.array(), 42f);
        // every argument fine but the last part of a composed mask
        Mask mask = Mask.all(Mask.causalTopLeft(), Mask.keyLengths(6, 9));
        assertThrows(IllegalArgumentException.class, () -> K.attention(P, q(), k(), v(), mask, out, lse));
        // a wrong lse shape is only found after out was checked
        assertThrows(IllegalArgumentException.class,
                () -> K.attention(P, q(), k(), v(), Mask.none(), out, Tensor.zeros(2, 4, 6)));
        for (float f : out.array()) {
            assertEquals(42f, f);
        }
        for (float f : lse.array()) {
            assertEquals(42f, f);
        }
        Tensor scores = Tensor.of(new float[2 * 4 * 5 * 6], P.scoreShape());
        Arrays.fill(scores.array(), 42f);
        assertThrows(IllegalArgumentException.class,
                () -> K.maskedSoftmax(P, Mask.bool(Tensor.ofBooleans(new byte[7], 7)), scores));
        for (float f : scores.array()) {
            assertEquals(42f, f);
        }
    }
}
