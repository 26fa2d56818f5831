package dev.attn4j.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Asks the NVIDIA driver, through the FFM API and before any JCuda class is touched, whether a GPU is
 * there: {@code dlopen("libcuda.so.1")}, {@code cuInit(0)}, {@code cuDeviceGetCount}. A missing driver
 * is an exception from {@link SymbolLookup#libraryLookup}, never a crash, and JCuda's JNI libraries (which
 * link {@code libcuda.so.1}) are only loaded after this succeeded.
 */
final class DriverProbe {
    static final String LIBCUDA = "libcuda.so.1";
    /** The fatbin is built by nvcc 13: its SASS and PTX load on CUDA 13 drivers (580+) only. */
    static final int MIN_DRIVER = 13000;
    /** The oldest SASS and the PTX in the fatbin are sm_80 / compute_80. */
    static final int MIN_COMPUTE_CAPABILITY = 80;

    /**
     * What the driver said.
     *
     * @param ok            whether at least one device is usable
     * @param reason        why not, or what was found (one sentence)
     * @param devices       number of devices
     * @param driverVersion the driver's CUDA version as {@code 1000·major + 10·minor}
     */
    record Result(boolean ok, String reason, int devices, int driverVersion) {
    }

    private DriverProbe() {
    }

    /** Probes the driver; searches {@code dirs} for {@code libcuda.so.1} when the loader's path has none. */
    static Result probe(List<Path> dirs) {
        SymbolLookup cuda = lookup(dirs);
        if (cuda == null) {
            return new Result(false, "CUDA unavailable: " + LIBCUDA + " not found (no NVIDIA driver)", 0, 0);
        }
        return probe(cuda, Integer.getInteger(CudaBackend.DEVICE_PROPERTY, 0));
    }

    /** Asks the driver behind {@code cuda} about device {@code device}. */
    static Result probe(SymbolLookup cuda, int device) {
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle cuInit = linker.downcallHandle(cuda.findOrThrow("cuInit"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            MethodHandle getCount = linker.downcallHandle(cuda.findOrThrow("cuDeviceGetCount"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
            MethodHandle getVersion = linker.downcallHandle(cuda.findOrThrow("cuDriverGetVersion"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
            MethodHandle getAttribute = linker.downcallHandle(cuda.findOrThrow("cuDeviceGetAttribute"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment out = arena.allocate(ValueLayout.JAVA_INT);
                int version = 0;
                if ((int) getVersion.invokeExact(out) == 0) {
                    version = out.get(ValueLayout.JAVA_INT, 0);
                }
                int rc = (int) cuInit.invokeExact(0);
                if (rc != 0) {
                    return new Result(false, "CUDA unavailable: cuInit(0) failed with " + CudaException.errorName(rc)
                            + " (driver " + versionString(version) + ")", 0, version);
                }
                rc = (int) getCount.invokeExact(out);
                if (rc != 0) {
                    return new Result(false, "CUDA unavailable: cuDeviceGetCount failed with "
                            + CudaException.errorName(rc), 0, version);
                }
                int count = out.get(ValueLayout.JAVA_INT, 0);
                if (count < 1) {
                    return new Result(false, "CUDA unavailable: the driver (" + versionString(version)
                            + ") reports no device", 0, version);
                }
                if (version < MIN_DRIVER) {
                    return new Result(false, "CUDA unavailable: the driver supports CUDA " + versionString(version)
                            + " but attn4j's kernels are built by nvcc 13 and need a CUDA 13 driver (580 or newer)",
                            count, version);
                }
                // device ordinal == CUdevice handle for the driver API; 75/76 = COMPUTE_CAPABILITY_MAJOR/MINOR
                if (device < 0 || device >= count) {
                    return new Result(false, "CUDA unavailable: -D" + CudaBackend.DEVICE_PROPERTY + "=" + device
                            + " but the driver reports " + count + " device(s)", count, version);
                }
                MemorySegment minor = arena.allocate(ValueLayout.JAVA_INT);
                if ((int) getAttribute.invokeExact(out, 75, device) == 0
                        && (int) getAttribute.invokeExact(minor, 76, device) == 0) {
                    int cc = out.get(ValueLayout.JAVA_INT, 0) * 10 + minor.get(ValueLayout.JAVA_INT, 0);
                    if (cc < MIN_COMPUTE_CAPABILITY) {
                        return new Result(false, "CUDA unavailable: device " + device + " is sm_" + cc
                                + " and attn4j's kernels need sm_80 or newer", count, version);
                    }
                }
                return new Result(true, count + " device(s), driver CUDA " + versionString(version), count, version);
            }
        } catch (Throwable t) {
            return new Result(false, "CUDA unavailable: probing " + LIBCUDA + " failed: " + t, 0, 0);
        }
    }

    /** {@code 13000} → {@code "13.0"}. */
    static String versionString(int version) {
        return version / 1000 + "." + version % 1000 / 10;
    }

    private static SymbolLookup lookup(List<Path> dirs) {
        try {
            return SymbolLookup.libraryLookup(LIBCUDA, Arena.global());
        } catch (IllegalArgumentException | IllegalCallerException | LinkageError e) {
            // not on the dynamic loader's path: try the configured directories (WSL keeps it in /usr/lib/wsl/lib)
        }
        for (Path dir : dirs) {
            Path candidate = dir.resolve(LIBCUDA);
            if (Files.isRegularFile(candidate)) {
                try {
                    return SymbolLookup.libraryLookup(candidate, Arena.global());
                } catch (IllegalArgumentException | IllegalCallerException | LinkageError e) {
                    // unloadable (wrong architecture, ...): keep looking
                }
            }
        }
        return null;
    }
}
