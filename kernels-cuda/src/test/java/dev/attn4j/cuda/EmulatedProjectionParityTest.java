package dev.attn4j.cuda;

import dev.attn4j.api.Kernels;
import dev.attn4j.testing.ProjectionParityTest;

/**
 * The projection parity suite on the cuda backend's Java side over {@link EmulatedDevice}: runs everywhere and
 * checks what Java decides (staging, strides, write-back, GEMM plans, kernel arguments); the kernels
 * themselves are checked by {@link CudaProjectionParityTest} on a GPU.
 */
class EmulatedProjectionParityTest extends ProjectionParityTest {
    private static final Kernels KERNELS = EmulatedBackends.create();

    @Override
    protected Kernels kernels() {
        return KERNELS;
    }
}
