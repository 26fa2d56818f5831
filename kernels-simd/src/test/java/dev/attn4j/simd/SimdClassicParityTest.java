package dev.attn4j.simd;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.attn4j.api.Kernels;
import dev.attn4j.testing.ClassicParityTest;
import org.junit.jupiter.api.Test;

/** The literature family of the simd backend against the float64 oracle (run at 512, 256 and 128 bits). */
class SimdClassicParityTest extends ClassicParityTest {
    private static final Kernels SIMD = Kernels.of(new SimdBackend(Vec.BITS));

    @Override
    protected Kernels kernels() {
        return SIMD;
    }

    @Test
    void theFamilyRunsOnSimdNotOnTheReferenceFallback() {
        assertInstanceOf(SimdClassic.class, SIMD.backend().classic());
    }
}
