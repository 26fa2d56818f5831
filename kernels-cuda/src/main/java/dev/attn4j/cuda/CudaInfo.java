package dev.attn4j.cuda;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Prints what the {@code cuda} backend's probe found: the availability and its reason, the search path, how
 * cuBLAS would load and, when available, the device. A diagnostic for GPU machines without the CLI
 * ({@code bin/java dev.attn4j.cuda.CudaInfo} in the bundle).
 */
public final class CudaInfo {
    private CudaInfo() {
    }

    /** The report, one line per finding. */
    public static String report() {
        CudaBackendProvider.Found found = CudaBackendProvider.found();
        List<Path> dirs = CudaLibraries.searchPath();
        StringBuilder out = new StringBuilder();
        out.append("cuda: ").append(found.availability().available() ? "available" : "unavailable").append('\n');
        out.append("  reason: ").append(found.availability().reason()).append('\n');
        out.append("  search path: ").append(dirs).append('\n');
        out.append("  cuBLAS: ").append(CudaLibraries.planCublas(dirs, Files::isRegularFile).describe()).append('\n');
        if (found.availability().available()) {
            try (CudaContext ctx = CudaContext.open(Integer.getInteger(CudaBackend.DEVICE_PROPERTY, 0))) {
                out.append("  device: ").append(ctx).append('\n');
            }
        }
        return out.toString();
    }

    /** Writes {@link #report()} to standard output (the bundle's diagnostic entry point). */
    public static void main(String[] args) {
        System.out.print(report());
    }
}
