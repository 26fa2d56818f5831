package dev.attn4j.bench;

import dev.attn4j.api.Kernels;
import dev.attn4j.api.Tensor;
import dev.attn4j.simd.SimdBackendProvider;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * SGEMM y [M, N] = a [M, K]·b [K, N], row-major fp32: the simd backend's packed SGEMM against OpenBLAS
 * through {@code dev.ludovic.netlib:blas} (JNI to the system {@code libblas.so.3}), at 1 and 2 threads.
 * GFLOP/s = 2·M·N·K / time.
 *
 * <p>OpenBLAS must run its AVX-512 kernels: Debian's 0.3.21 misdetects Zen 5 and falls back to AVX2.
 * JMH forks inherit the launcher's environment (JMH 1.37 has no per-fork environment), so start the run
 * with {@code OPENBLAS_CORETYPE=SkylakeX java -jar benchmarks.jar GemmBenchmark}; setup prints the core
 * OpenBLAS chose and refuses to run on the pure-Java fallback. Threads are set per trial with
 * {@code openblas_set_num_threads} (called through the FFM API). {@code backend=reference} (the
 * single-threaded float64 oracle) is there for the ×reference ratio; run it on a small shape
 * ({@code -p shape=256x256x256}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class GemmBenchmark {
    @Param({"simd", "openblas"})
    public String backend;
    @Param({"1024x1024x1024", "2048x2304x768"})
    public String shape;
    @Param({"1", "2"})
    public int threads;

    private GemmOperands ops;
    private float[] y;
    private Tensor ty;
    private Kernels kernels;
    private ExecutorService pool;
    private OpenBlas blas;

    @Setup(Level.Trial)
    public void setup() throws Throwable {
        ops = new GemmOperands(shape);
        y = ops.output();
        ty = Tensor.of(y, ops.m, ops.n);
        if (backend.equals("openblas")) {
            blas = OpenBlas.sgemmOn(threads);
        } else if (backend.equals("reference")) {
            kernels = Kernels.of(new dev.attn4j.reference.ReferenceBackend()); // single-threaded float64 oracle
        } else {
            pool = Executors.newFixedThreadPool(Math.max(1, threads - 1));
            kernels = Kernels.of(SimdBackendProvider.create(pool, threads));
        }
        multiply();
        Check.gemmRows(ops.ta, ops.tb, ty, 3, backend);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (pool != null) {
            pool.shutdown();
        }
    }

    private void multiply() {
        if (blas != null) {
            blas.sgemm(ops.m, ops.n, ops.k, ops.a, ops.b, y);
        } else {
            kernels.gemm(1f, ops.ta, ops.tb, 0f, null, ty);
        }
    }

    @Benchmark
    public float[] sgemm() {
        multiply();
        return y;
    }
}
