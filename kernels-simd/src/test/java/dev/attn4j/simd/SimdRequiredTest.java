package dev.attn4j.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.attn4j.api.Attn4j;
import org.junit.jupiter.api.Test;

/** Fails when the runtime silently fell back to another backend (JVector's RequireSpecificVectorizationProvider). */
class SimdRequiredTest {

    @Test
    void defaultBackendIsSimd() {
        Attn4j.BackendStatus simd = Attn4j.backends().stream().filter(s -> s.name().equals("simd")).findFirst()
                .orElseThrow(() -> new AssertionError("no simd backend on the path: " + Attn4j.backends()));
        assertTrue(simd.available(), "simd cannot run: " + simd.reason());
        assertEquals("simd", Attn4j.kernels().backendName(), "the default backend is not simd: " + Attn4j.backends());
    }

    @Test
    void speciesMatchesTheRequestedWidth() {
        String forced = System.getProperty(Vec.BITS_PROPERTY);
        if (forced != null) {
            assertEquals(Integer.parseInt(forced), Vec.BITS);
        }
        assertEquals(Vec.BITS, Vec.L * 32);
    }
}
