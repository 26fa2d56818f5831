package dev.attn4j.cuda;

import dev.attn4j.api.Kernels;
import dev.attn4j.testing.BlockParityTest;

/**
 * The block parity suite on the cuda backend's Java side over {@link EmulatedDevice}: runs everywhere and
 * checks what Java decides (staging, strides, write-back, GEMM plans, kernel arguments); the kernels
 * themselves are checked by {@link CudaBlockParityTest} on a GPU.
 */
class EmulatedBlockParityTest extends BlockParityTest {
    private static final Kernels KERNELS = EmulatedBackends.create();

    @Override
    protected Kernels kernels() {
        return KERNELS;
    }
}
