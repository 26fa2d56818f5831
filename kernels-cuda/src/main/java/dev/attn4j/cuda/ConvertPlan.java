package dev.attn4j.cuda;

import java.util.Arrays;

/**
 * The arguments of {@code convert_strided}: a shape of rank at most 6, padded in front with size-1 axes
 * (stride 0), and both sides' strides. Pure Java, unit-tested against a CPU emulation of the kernel.
 *
 * @param shape      six sizes
 * @param srcStrides six source element strides
 * @param dstStrides six destination element strides
 */
record ConvertPlan(int[] shape, long[] srcStrides, long[] dstStrides) {
    static final int RANK = 6;

    static ConvertPlan of(int[] shape, long[] src, long[] dst) {
        if (shape.length > RANK) {
            throw new IllegalArgumentException("the CUDA backend handles tensors of rank <= " + RANK + " but got shape "
                    + Arrays.toString(shape));
        }
        int pad = RANK - shape.length;
        int[] n = new int[RANK];
        long[] s = new long[RANK];
        long[] d = new long[RANK];
        Arrays.fill(n, 1);
        for (int i = 0; i < shape.length; i++) {
            n[pad + i] = shape[i];
            s[pad + i] = src[i];
            d[pad + i] = dst[i];
        }
        return new ConvertPlan(n, s, d);
    }
}
