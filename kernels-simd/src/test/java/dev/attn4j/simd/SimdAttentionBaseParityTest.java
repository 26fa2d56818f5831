package dev.attn4j.simd;

import dev.attn4j.api.Kernels;
import dev.attn4j.testing.AttentionParityTest;

/** The API's attention parity suite on the simd backend (at the width of this JVM, see the surefire executions). */
class SimdAttentionBaseParityTest extends AttentionParityTest {
    @Override
    protected Kernels kernels() {
        return Parity.SIMD;
    }
}
