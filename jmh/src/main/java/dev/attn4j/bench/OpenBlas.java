package dev.attn4j.bench;

import dev.ludovic.netlib.blas.BLAS;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * OpenBLAS's sgemm through {@code dev.ludovic.netlib:blas} (JNI to the system {@code libblas.so.3}), the peer of
 * the GEMM benchmarks: refuses netlib's pure-Java fallback, sets OpenBLAS's thread count through the FFM API
 * and prints the core it chose ({@code OPENBLAS_CORETYPE} must name the machine's AVX-512 kernels where
 * Debian's 0.3.21 misdetects the CPU).
 */
final class OpenBlas {
    private final BLAS blas;

    private OpenBlas(BLAS blas) {
        this.blas = blas;
    }

    /** The native OpenBLAS, set to {@code threads} threads. */
    static OpenBlas sgemmOn(int threads) throws Throwable {
        BLAS blas = BLAS.getInstance();
        if (!blas.getClass().getName().contains("JNIBLAS")) {
            throw new IllegalStateException("netlib fell back to " + blas.getClass().getName()
                    + ": install OpenBLAS (libopenblas0-pthread) so that libblas.so.3 is native");
        }
        SymbolLookup openblas = SymbolLookup.libraryLookup("libopenblas.so.0", Arena.global());
        Linker linker = Linker.nativeLinker();
        MethodHandle setThreads = linker.downcallHandle(openblas.find("openblas_set_num_threads").orElseThrow(),
                FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT));
        MethodHandle coreName = linker.downcallHandle(openblas.find("openblas_get_corename").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.ADDRESS));
        setThreads.invokeExact(threads);
        MemorySegment name = (MemorySegment) coreName.invokeExact();
        System.err.println("OpenBLAS core: " + name.reinterpret(64).getString(0) + " (OPENBLAS_CORETYPE="
                + System.getenv("OPENBLAS_CORETYPE") + "), threads " + threads + " (OPENBLAS_THREAD_TIMEOUT="
                + System.getenv("OPENBLAS_THREAD_TIMEOUT") + ")");
        return new OpenBlas(blas);
    }

    /** Row-major y [m, n] = a [m, k]·b [k, n]: column-major yᵀ = bᵀ·aᵀ. */
    void sgemm(int m, int n, int k, float[] a, float[] b, float[] y) {
        blas.sgemm("N", "N", n, m, k, 1f, b, n, a, k, 0f, y, n);
    }
}
