package dev.attn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.attn4j.api.Attn4j;
import dev.attn4j.api.Kernels;
import dev.attn4j.spi.Availability;
import dev.attn4j.testing.ProjectionParityTest;
import org.junit.jupiter.api.BeforeEach;

/** The projection parity suite on the {@code cuda} backend; skipped, with the probe's reason, where CUDA cannot run. */
class CudaProjectionParityTest extends ProjectionParityTest {

    @BeforeEach
    void requireCuda() {
        Availability a = new CudaBackendProvider().probe();
        assumeTrue(a.available(), a.reason());
    }

    @Override
    protected Kernels kernels() {
        Kernels k = Attn4j.kernels(CudaBackendProvider.NAME);
        // a test that requires a backend fails if the runtime silently fell back
        assertEquals(CudaBackendProvider.NAME, k.backendName());
        return k;
    }
}
