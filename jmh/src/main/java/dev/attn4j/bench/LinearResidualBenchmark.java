package dev.attn4j.bench;

import dev.attn4j.api.Attn4j;
import dev.attn4j.api.Kernels;
import dev.attn4j.api.Tensor;
import dev.attn4j.reference.ReferenceBackend;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Whether fusing bias + residual into the projection's epilogue pays: {@code linearResidual} against
 * {@code linear} (with bias) followed by {@code add}, {@code y [M, N] = x [M, K]·wᵀ + bias + residual},
 * {@code 2·M·N·K} FLOPs. M = tokens, K = N = model width (an output projection). {@code separate} uses the
 * backend's {@code linear}, which may be another GEMM core; {@code unfusedSameCore} runs the same core as
 * {@code fused} with a zero residual and then the add, so that it isolates what the fusion saves.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class LinearResidualBenchmark {
    @Param({"reference", "simd"})
    public String backend;

    @Param({"1", "128"})
    public int m;

    @Param({"384"})
    public int width;

    Kernels kernels;
    Tensor x;
    Tensor w;
    Tensor bias;
    Tensor residual;
    Tensor y;
    Tensor tmp;
    Tensor zeros;

    @Setup(Level.Trial)
    public void setup() {
        kernels = Attn4j.kernels(backend);
        x = Tensor.of(BenchData.random(1, (long) m * width), m, width);
        w = Tensor.of(BenchData.random(2, (long) width * width), width, width);
        bias = Tensor.of(BenchData.random(3, width), width);
        residual = Tensor.of(BenchData.random(4, (long) m * width), m, width);
        y = Tensor.zeros(m, width);
        tmp = Tensor.zeros(m, width);
        zeros = Tensor.zeros(m, width);
        kernels.linearResidual(x, w, bias, residual, y);
        Tensor want = Tensor.zeros(m, width);
        Kernels.of(new ReferenceBackend()).linearResidual(x, w, bias, residual, want);
        BenchData.check("linearResidual on " + backend, want, y, 1e-4);
        separate();
        BenchData.check("linear + add on " + backend, want, y, 1e-4);
        unfusedSameCore();
        BenchData.check("linearResidual(0) + add on " + backend, want, y, 1e-4);
    }

    @Benchmark
    public Tensor fused() {
        kernels.linearResidual(x, w, bias, residual, y);
        return y;
    }

    @Benchmark
    public Tensor separate() {
        kernels.linear(x, w, bias, tmp);
        kernels.add(tmp, residual, y);
        return y;
    }

    @Benchmark
    public Tensor unfusedSameCore() {
        kernels.linearResidual(x, w, bias, zeros, tmp);
        kernels.add(tmp, residual, y);
        return y;
    }
}
