package dev.attn4j.cuda;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import jcuda.driver.JCudaDriver;
import jcuda.jcublas.JCublas2;

/**
 * Loads, once per process and only after a successful probe, the CUDA libraries in the order
 * {@link CudaLibraries.CublasPlan#loadOrder} gives (cuBLAS 12 as it is, or cublasLt 13, cuBLAS 13 and the
 * shim), then JCuda's driver and JCublas2 JNI libraries, and initializes the driver.
 */
final class CudaRuntime {
    private static List<Path> loaded;

    private CudaRuntime() {
    }

    /** Loads everything (idempotent); throws {@link CudaException} naming the library that failed. */
    static synchronized List<Path> ensureLoaded(CudaLibraries.CublasPlan plan) {
        if (loaded != null) {
            return loaded;
        }
        List<Path> order = new ArrayList<>();
        Path shim = plan instanceof CudaLibraries.ViaShim ? NativeResources.extractShim() : null;
        try {
            for (Path lib : plan.loadOrder(shim)) {
                try {
                    System.load(lib.toAbsolutePath().toString());
                    order.add(lib);
                } catch (UnsatisfiedLinkError e) {
                    throw new CudaException("loading " + lib + " failed: " + e.getMessage(), e);
                }
            }
        } finally {
            if (shim != null) {
                NativeResources.discard(shim); // loaded or not, the copy is not needed any more
            }
        }
        try {
            JCudaDriver.setExceptionsEnabled(false);
            CudaException.check(JCudaDriver.cuInit(0), "cuInit(0)");
            JCublas2.setExceptionsEnabled(false);
            JCublas2.initialize();
        } catch (UnsatisfiedLinkError e) {
            throw new CudaException("loading JCuda's JNI libraries failed (" + plan.describe() + "): " + e.getMessage(), e);
        }
        loaded = List.copyOf(order);
        return loaded;
    }
}
