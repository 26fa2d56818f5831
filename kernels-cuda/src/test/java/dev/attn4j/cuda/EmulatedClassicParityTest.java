package dev.attn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.attn4j.api.Kernels;
import org.junit.jupiter.api.Test;

/**
 * The literature family's parity suite on the cuda backend's Java side over {@link EmulatedDevice}: the score
 * functions' cuBLAS compositions, what reaches the classic kernels (arguments, grids, scratch, skipped tiles) and
 * the write-back run everywhere; the kernels themselves are checked by {@link CudaClassicParityTest} on a GPU and by
 * the host SIMT harness of the native module.
 */
class EmulatedClassicParityTest extends CudaClassicCases {
    private static final Kernels KERNELS = EmulatedBackends.create();

    @Override
    protected Kernels kernels() {
        return KERNELS;
    }

    @Test
    void theFamilyRunsOnTheCudaBackendNotOnTheReferenceFallback() {
        assertInstanceOf(CudaClassic.class, KERNELS.backend().classic());
    }
}
