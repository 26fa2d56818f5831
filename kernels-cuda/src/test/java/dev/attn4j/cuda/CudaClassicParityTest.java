package dev.attn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.attn4j.api.Attn4j;
import dev.attn4j.api.Kernels;
import dev.attn4j.spi.Availability;
import org.junit.jupiter.api.BeforeEach;

/** The literature family's parity suite on the {@code cuda} backend; skipped, with the probe's reason, where CUDA cannot run. */
class CudaClassicParityTest extends CudaClassicCases {

    @BeforeEach
    void requireCuda() {
        Availability a = new CudaBackendProvider().probe();
        assumeTrue(a.available(), a.reason());
    }

    @Override
    protected Kernels kernels() {
        Kernels k = Attn4j.kernels(CudaBackendProvider.NAME);
        // a test that requires a backend fails if the runtime silently fell back, here to the reference family
        assertEquals(CudaBackendProvider.NAME, k.backendName());
        assertInstanceOf(CudaClassic.class, k.backend().classic());
        return k;
    }
}
