package dev.attn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.attn4j.api.Tensor;
import org.junit.jupiter.api.Test;

/** convert_strided's index arithmetic, run on the CPU over the plan the backend passes it. */
class ConvertPlanTest {

    /** The kernel's body (layout.cu) for float32 → float32, one index at a time. */
    private static void emulate(ConvertPlan plan, float[] src, long srcOffset, float[] dst, long dstOffset, long count) {
        int[] n = plan.shape();
        long[] s = plan.srcStrides();
        long[] d = plan.dstStrides();
        for (long idx = 0; idx < count; idx++) {
            long rest = idx;
            long from = srcOffset;
            long to = dstOffset;
            for (int axis = 5; axis >= 1; axis--) {
                long i = rest % n[axis];
                rest /= n[axis];
                from += i * s[axis];
                to += i * d[axis];
            }
            from += rest * s[0];
            to += rest * d[0];
            dst[(int) to] = src[(int) from];
        }
    }

    @Test
    void permutedBroadcastAndNarrowedViewsCopyInLogicalOrder() {
        float[] data = new float[2 * 3 * 4 * 5];
        for (int i = 0; i < data.length; i++) {
            data[i] = i;
        }
        Tensor base = Tensor.of(data, 2, 3, 4, 5);
        Tensor[] views = {
            base,
            base.permute(0, 2, 1, 3),
            base.narrow(3, 1, 3).permute(3, 1, 0, 2),
            Tensor.of(data, 120).narrow(0, 7, 5).reshape(5).broadcastTo(2, 3, 5),
            base.select(1, 2),
            Tensor.bshd(data, 2, 3, 4, 5),
        };
        for (Tensor v : views) {
            float[] out = new float[Math.toIntExact(v.elementCount())];
            ConvertPlan plan = ConvertPlan.of(v.shape(), v.strides(), Tensor.contiguousStrides(v.shape()));
            emulate(plan, data, v.offset(), out, 0, v.elementCount());
            assertArrayEquals(v.toFloatArray(), out, v.toString());
        }
    }

    @Test
    void rankAboveSixIsRefused() {
        int[] shape = {1, 1, 1, 1, 1, 1, 1};
        assertThrows(IllegalArgumentException.class, () -> ConvertPlan.of(shape, new long[7], new long[7]));
    }
}
