package dev.attn4j.reference;

import dev.attn4j.spi.Availability;
import dev.attn4j.spi.Backend;
import dev.attn4j.spi.BackendProvider;

/** Registers the {@code reference} backend: always available, priority 0. */
public final class ReferenceBackendProvider implements BackendProvider {

    /** Creates the provider (ServiceLoader needs a public no-argument constructor). */
    public ReferenceBackendProvider() {
    }

    @Override
    public String name() {
        return ReferenceBackend.NAME;
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public Availability probe() {
        return Availability.yes("plain Java loops accumulating in float64, always available");
    }

    @Override
    public Backend create() {
        return new ReferenceBackend();
    }
}
