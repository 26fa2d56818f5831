package dev.attn4j.cuda;

import dev.attn4j.spi.Availability;
import dev.attn4j.spi.Backend;
import dev.attn4j.spi.BackendProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Registers the {@code cuda} backend, priority 20 (above SIMD). {@link #probe()} never loads a JCuda
 * class: it checks the platform, asks the driver through the FFM API whether a device is there, finds
 * cuBLAS (12, or 13 through the shim) and the compiled kernels, and says in one sentence what is
 * missing, e.g. {@code "CUDA unavailable: libcuda.so.1 not found (no NVIDIA driver)"}.
 */
public final class CudaBackendProvider implements BackendProvider {
    /** The backend's name. */
    public static final String NAME = "cuda";

    /** Creates the provider (ServiceLoader needs a public no-argument constructor). */
    public CudaBackendProvider() {
    }

    /** The probe runs once per process (lazy holder: no work at class-loading time). */
    private static final class Probe {
        static final Found FOUND = run();
    }

    /**
     * What the probe found.
     *
     * @param availability the answer
     * @param cublas       how cuBLAS is loaded (null when unavailable before that step)
     * @param driver       the driver's answer (null when unavailable before that step)
     */
    record Found(Availability availability, CudaLibraries.CublasPlan cublas, DriverProbe.Result driver) {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return 20;
    }

    @Override
    public Availability probe() {
        return Probe.FOUND.availability();
    }

    @Override
    public Backend create() {
        Found found = Probe.FOUND;
        if (!found.availability().available()) {
            throw new IllegalStateException(found.availability().reason());
        }
        return CudaBackend.open(found.cublas());
    }

    static Found found() {
        return Probe.FOUND;
    }

    private static Found run() {
        try {
            String platform = platformProblem(System.getProperty("os.name", "?"), System.getProperty("os.arch", "?"));
            if (platform != null) {
                return new Found(Availability.no(platform), null, null);
            }
            List<Path> dirs = CudaLibraries.searchPath();
            String resources = NativeResources.problem();
            DriverProbe.Result driver = DriverProbe.probe(dirs);
            if (!driver.ok()) {
                return new Found(Availability.no(driver.reason()), null, driver);
            }
            if (resources != null) {
                return new Found(Availability.no(resources), null, driver);
            }
            CudaLibraries.CublasPlan plan = CudaLibraries.planCublas(dirs, Files::isRegularFile);
            if (plan instanceof CudaLibraries.Missing missing) {
                return new Found(Availability.no(missing.reason()), plan, driver);
            }
            return new Found(Availability.yes(driver.reason() + ", " + plan.describe()), plan, driver);
        } catch (RuntimeException | LinkageError e) {
            return new Found(Availability.no("CUDA unavailable: the probe failed with " + e), null, null);
        }
    }

    /** Why this OS/architecture cannot run JCuda's linux-x86_64 natives, or null when it can. */
    static String platformProblem(String osName, String osArch) {
        String os = osName.toLowerCase(Locale.ROOT);
        String arch = osArch.toLowerCase(Locale.ROOT);
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return "CUDA unavailable: attn4j ships JCuda natives and its kernels for linux-x86_64 only, not "
                    + osName + "/" + osArch;
        }
        return null;
    }
}
