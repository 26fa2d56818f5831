package dev.attn4j.reference;

import dev.attn4j.api.Kernels;
import dev.attn4j.testing.ProjectionParityTest;

/**
 * The parity suite on the reference backend itself: the oracle runs on contiguous heap tensors, the
 * backend under test on every other layout and storage, so this checks that the oracle's result does
 * not depend on strides, offsets or off-heap memory, and that the suite itself runs.
 */
class ReferenceProjectionParityTest extends ProjectionParityTest {
    private static final Kernels KERNELS = Kernels.of(new ReferenceBackend());

    @Override
    protected Kernels kernels() {
        return KERNELS;
    }
}
