package dev.attn4j.reference;

import dev.attn4j.api.Kernels;
import dev.attn4j.testing.ClassicParityTest;

/**
 * The literature family's parity suite on the reference backend: the oracle on contiguous heap
 * tensors against itself on every other layout and storage, so the suite runs and the oracle's result
 * does not depend on strides or off-heap memory.
 */
class ReferenceClassicParityTest extends ClassicParityTest {
    private static final Kernels KERNELS = Kernels.of(new ReferenceBackend());

    @Override
    protected Kernels kernels() {
        return KERNELS;
    }
}
