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
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

/**
 * {@link GemmBenchmark}'s SGEMM, ours and OpenBLAS's alternating within every op ({@link PairedTimes}): the score
 * is the time of both calls; the ratio ours/peer of each measurement iteration and their median are printed at
 * the end of the trial. Run with {@code OPENBLAS_CORETYPE=SkylakeX OPENBLAS_THREAD_TIMEOUT=16}: OpenBLAS's
 * idle threads spin for 2^n TSC cycles after each of its calls before they sleep, by default 2^28 (about
 * 0.1 s here), right into our call that follows (at 2 threads that halved our measured speed). 2^16 cycles
 * (≈ 27 µs) keeps its own speed (its 1024³ 2-thread time stayed at its stand-alone 14–16 ms, where 2^4 made
 * it sleep between its own internal phases: 17–18 ms) and costs our call nothing measurable. Setup refuses
 * to run at 2 threads or more without the variable.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Dattn4j.spinMicros=0", "-Xmx4g"})
@Warmup(iterations = 6, time = 2)
@Measurement(iterations = 8, time = 2)
public class PairedGemmBenchmark {
    @Param({"1024x1024x1024", "2048x2304x768"})
    public String shape;
    @Param({"1", "2"})
    public int threads;

    private GemmOperands ops;
    private float[] yPeer;
    private Tensor ty;
    private Kernels kernels;
    private ExecutorService pool;
    private OpenBlas blas;
    private PairedTimes times;

    @Setup(Level.Trial)
    public void setup() throws Throwable {
        ops = new GemmOperands(shape);
        yPeer = ops.output();
        ty = Tensor.of(ops.output(), ops.m, ops.n);
        if (threads > 1 && System.getenv("OPENBLAS_THREAD_TIMEOUT") == null) {
            throw new IllegalStateException("PairedGemmBenchmark at " + threads + " threads needs OPENBLAS_THREAD_TIMEOUT=16"
                    + " in the environment: OpenBLAS's threads otherwise spin for ~0.1 s after each call, into ours");
        }
        blas = OpenBlas.sgemmOn(threads);
        pool = Executors.newFixedThreadPool(Math.max(1, threads - 1));
        kernels = Kernels.of(SimdBackendProvider.create(pool, threads));
        ours();
        peer();
        Check.gemmRows(ops.ta, ops.tb, ty, 3, "simd");
        Check.gemmRows(ops.ta, ops.tb, Tensor.of(yPeer, ops.m, ops.n), 3, "openblas");
        times = new PairedTimes("SGEMM " + shape + ", " + threads + " thread(s): simd against OpenBLAS");
    }

    @TearDown(Level.Iteration)
    public void endIteration(IterationParams params) {
        times.endIteration(params.getType() == IterationType.MEASUREMENT);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        times.report();
        pool.shutdown();
    }

    private void ours() {
        kernels.gemm(1f, ops.ta, ops.tb, 0f, null, ty);
    }

    private void peer() {
        blas.sgemm(ops.m, ops.n, ops.k, ops.a, ops.b, yPeer);
    }

    @Benchmark
    public float[] pair() {
        boolean oursFirst = times.oursFirst();
        long t0 = System.nanoTime();
        if (oursFirst) {
            ours();
        } else {
            peer();
        }
        long t1 = System.nanoTime();
        if (oursFirst) {
            peer();
        } else {
            ours();
        }
        long t2 = System.nanoTime();
        times.add(oursFirst ? t1 - t0 : t2 - t1, oursFirst ? t2 - t1 : t1 - t0);
        return yPeer;
    }
}
