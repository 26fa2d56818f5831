package dev.attn4j.api;

import dev.attn4j.spi.Availability;
import dev.attn4j.spi.Backend;
import dev.attn4j.spi.BackendProvider;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * The entry point: finds the backends on the class or module path ({@link ServiceLoader} over
 * {@link BackendProvider}) and hands out validating {@link Kernels}.
 *
 * <p>Without a forced choice the available backend of highest priority is used, and one INFO line
 * (System.Logger {@code dev.attn4j}) says which and why the others were skipped. With
 * {@code -Dattn4j.backend=NAME} that backend is used, and it is a hard error if it cannot run. The
 * {@code reference} backend is always there.
 */
public final class Attn4j {
    /** The system property that forces a backend. */
    public static final String BACKEND_PROPERTY = "attn4j.backend";

    private static final System.Logger LOG = System.getLogger("dev.attn4j");
    private static final Map<String, Kernels> CREATED = new ConcurrentHashMap<>();

    private Attn4j() {
    }

    /**
     * The status of one discovered backend.
     *
     * @param name      its name
     * @param priority  its priority (higher wins)
     * @param available whether it can run here
     * @param reason    why not, or what was found
     */
    public record BackendStatus(String name, int priority, boolean available, String reason) {
    }

    /** Lazy holder: discovery runs once, on first use, without class-initialization cycles. */
    private static final class Discovery {
        static final List<BackendProvider> PROVIDERS;
        static final List<BackendStatus> STATUS;

        static {
            List<BackendProvider> providers = new ArrayList<>();
            for (BackendProvider p : ServiceLoader.load(BackendProvider.class, Attn4j.class.getClassLoader())) {
                providers.add(p);
            }
            providers.sort(Comparator.comparingInt(BackendProvider::priority).reversed()
                    .thenComparing(BackendProvider::name));
            List<BackendStatus> status = new ArrayList<>();
            for (BackendProvider p : providers) {
                Availability a;
                try {
                    a = p.probe();
                } catch (RuntimeException | LinkageError e) {
                    a = Availability.no(p.name() + " probe failed: " + e);
                }
                status.add(new BackendStatus(p.name(), p.priority(), a.available(), a.reason()));
            }
            PROVIDERS = List.copyOf(providers);
            STATUS = List.copyOf(status);
        }
    }

    /** Lazy holder of the default kernels. */
    private static final class Default {
        static final Kernels KERNELS = chooseDefault();
    }

    /** Every discovered backend, highest priority first, with whether it can run and why. */
    public static List<BackendStatus> backends() {
        return Discovery.STATUS;
    }

    /** The kernels of the default backend (see the class comment). */
    public static Kernels kernels() {
        return Default.KERNELS;
    }

    /**
     * The kernels of the named backend.
     *
     * @throws IllegalStateException if no such backend was found or it cannot run here, with the reason
     */
    public static Kernels kernels(String name) {
        return CREATED.computeIfAbsent(name, Attn4j::create);
    }

    private static Kernels create(String name) {
        for (int i = 0; i < Discovery.PROVIDERS.size(); i++) {
            BackendProvider p = Discovery.PROVIDERS.get(i);
            if (p.name().equals(name)) {
                BackendStatus s = Discovery.STATUS.get(i);
                if (!s.available()) {
                    throw new IllegalStateException("attn4j backend '" + name + "' cannot run here: " + s.reason());
                }
                Backend backend = p.create();
                return Kernels.of(backend);
            }
        }
        throw new IllegalStateException("no attn4j backend named '" + name + "'; found: "
                + Discovery.PROVIDERS.stream().map(BackendProvider::name).collect(Collectors.joining(", ")));
    }

    private static Kernels chooseDefault() {
        String forced = System.getProperty(BACKEND_PROPERTY);
        if (forced != null && !forced.isBlank()) {
            Kernels k = kernels(forced.trim());
            LOG.log(System.Logger.Level.INFO, "attn4j backend: " + k.backendName() + " (forced by -D"
                    + BACKEND_PROPERTY + ")");
            return k;
        }
        List<String> skipped = new ArrayList<>();
        for (BackendStatus s : Discovery.STATUS) {
            if (s.available()) {
                Kernels k = kernels(s.name());
                LOG.log(System.Logger.Level.INFO, "attn4j backend: " + s.name() + " (" + s.reason() + ")"
                        + (skipped.isEmpty() ? "" : "; skipped " + String.join("; ", skipped)));
                return k;
            }
            skipped.add(s.name() + ": " + s.reason());
        }
        throw new IllegalStateException("no attn4j backend can run (the reference backend is missing from the path): "
                + String.join("; ", skipped));
    }
}
