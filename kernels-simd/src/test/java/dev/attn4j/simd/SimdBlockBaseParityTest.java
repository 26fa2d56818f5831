package dev.attn4j.simd;

import dev.attn4j.api.Kernels;
import dev.attn4j.testing.BlockParityTest;

/** The API's block parity suite on the simd backend (at the width of this JVM, see the surefire executions). */
class SimdBlockBaseParityTest extends BlockParityTest {
    @Override
    protected Kernels kernels() {
        return Parity.SIMD;
    }
}
