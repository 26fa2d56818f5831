package dev.attn4j.spi;

/**
 * The service a backend module registers (both {@code provides} in its {@code module-info} and
 * {@code META-INF/services} for the class path). {@link #probe()} must be cheap and must not throw or
 * crash the JVM when the backend cannot run: it returns the reason instead.
 */
public interface BackendProvider {

    /** The backend's short name, as given to {@code -Dattn4j.backend}. */
    String name();

    /** Higher wins when no backend is forced; the reference backend has 0. */
    int priority();

    /** Whether the backend can run here, and if not, why (one sentence). */
    Availability probe();

    /** Creates the backend; called once, after a successful probe. */
    Backend create();
}
