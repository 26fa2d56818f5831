package dev.attn4j.simd;

import dev.attn4j.spi.Availability;
import dev.attn4j.spi.Backend;
import dev.attn4j.spi.BackendProvider;
import java.util.concurrent.Executor;

/**
 * Registers the {@code simd} backend (priority 10): available when {@code jdk.incubator.vector} is in the
 * boot layer ({@code --add-modules jdk.incubator.vector}) and the CPU's preferred float species has at
 * least 128 bits. The probe touches the Vector API only after the module check, through a holder class.
 */
public final class SimdBackendProvider implements BackendProvider {
    /** The backend's name. */
    public static final String NAME = "simd";

    /** Creates the provider (ServiceLoader needs a public no-argument constructor). */
    public SimdBackendProvider() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return 10;
    }

    @Override
    public Availability probe() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return Availability.no("the Vector API is not enabled: start the JVM with --add-modules=jdk.incubator.vector");
        }
        try {
            return Probe.run();
        } catch (LinkageError | RuntimeException e) {
            return Availability.no("the Vector API failed to initialize: " + e);
        }
    }

    @Override
    public Backend create() {
        return new SimdBackend(Vec.BITS);
    }

    /**
     * A {@code simd} backend whose kernels run on {@code executor} with at most {@code parallelism}
     * threads (the calling thread included), instead of the shared pool of one thread per core.
     * Results are identical for any parallelism.
     *
     * @throws IllegalStateException if the backend cannot run here
     */
    public static Backend create(Executor executor, int parallelism) {
        Availability a = new SimdBackendProvider().probe();
        if (!a.available()) {
            throw new IllegalStateException("attn4j backend 'simd' cannot run here: " + a.reason());
        }
        return new SimdBackend(Vec.BITS, new Parallel(executor, parallelism));
    }

    /** Touches the Vector API; loaded only once the module is known to be present. */
    private static final class Probe {
        static Availability run() {
            int preferred = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize();
            if (preferred < 128) {
                return Availability.no("the CPU's widest float vector has " + preferred + " bits, fewer than 128");
            }
            String forced = System.getProperty(Vec.BITS_PROPERTY);
            int bits;
            try {
                bits = Vec.choose(forced).vectorBitSize();
            } catch (IllegalArgumentException e) {
                return Availability.no(e.getMessage());
            }
            if (bits > preferred) {
                return Availability.no("-D" + Vec.BITS_PROPERTY + "=" + bits + " asks for wider vectors than the CPU's "
                        + preferred + " bits");
            }
            return Availability.yes("Vector API with " + bits + "-bit float vectors"
                    + (forced == null ? "" : " (forced by -D" + Vec.BITS_PROPERTY + ")"));
        }
    }
}
