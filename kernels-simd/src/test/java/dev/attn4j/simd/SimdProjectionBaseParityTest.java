package dev.attn4j.simd;

import dev.attn4j.api.Kernels;
import dev.attn4j.testing.ProjectionParityTest;

/** The API's projection parity suite on the simd backend (at the width of this JVM, see the surefire executions). */
class SimdProjectionBaseParityTest extends ProjectionParityTest {
    @Override
    protected Kernels kernels() {
        return Parity.SIMD;
    }
}
