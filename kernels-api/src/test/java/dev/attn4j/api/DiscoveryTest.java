package dev.attn4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** ServiceLoader discovery: the reference backend is always there; unknown names fail clearly. */
class DiscoveryTest {

    @Test
    void referenceIsAlwaysAvailable() {
        Attn4j.BackendStatus ref = Attn4j.backends().stream().filter(s -> s.name().equals("reference")).findFirst().orElseThrow();
        assertTrue(ref.available(), ref.reason());
        assertEquals(0, ref.priority());
        assertEquals("reference", Attn4j.kernels("reference").backendName());
        // in this module the reference is the only backend, so it is the default
        assertEquals("reference", Attn4j.kernels().backendName());
    }

    @Test
    void unknownBackendNamesTheOnesFound() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Attn4j.kernels("nope"));
        assertTrue(e.getMessage().contains("no attn4j backend named 'nope'; found: reference"), e.getMessage());
    }
}
