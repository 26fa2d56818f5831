package dev.attn4j.bench;

import dev.attn4j.api.Attn4j;
import dev.attn4j.api.Kernels;
import dev.attn4j.api.Tensor;
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
 * Softmax over rows of 4096 floats, against the bandwidth yardstick measured in the same run: {@link #copy}
 * moves rows·cols floats x → y ({@link CopyYardstick}).
 * GB/s = 2·rows·cols·4 bytes / time for all three (one read and one write per element).
 *
 * <ul>
 * <li>{@link #softmaxInPlace}: the kernel's own form (the fused softmax rewrites a score buffer in place),
 * moving exactly the bytes the copy moves. Repeated calls keep its buffer a valid input: after the first,
 * every row holds probabilities, whose softmax costs the same (no branch or special value depends on them).
 * <li>{@link #softmax}: x → y into a separate output. Java stores read each destination line before writing
 * it, which the copy's large {@code arraycopy} (a streaming copy) does not, so this form moves 1.5× the
 * copy's bytes.
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class SoftmaxBenchmark {
    @Param({"simd"})
    public String backend;
    @Param({"1024"})
    public int rows;
    @Param({"4096"})
    public int cols;

    private CopyYardstick yardstick;
    private float[] y;
    private float[] z;
    private Tensor tx;
    private Tensor ty;
    private Tensor tz;
    private Kernels kernels;

    @Setup(Level.Trial)
    public void setup() {
        yardstick = new CopyYardstick(rows, cols);
        float[] x = yardstick.x;
        y = yardstick.y;
        z = x.clone();
        tx = Tensor.of(x, rows, cols);
        ty = Tensor.of(y, rows, cols);
        tz = Tensor.of(z, rows, cols);
        kernels = Attn4j.kernels(backend);
        kernels.softmax(tx, -1, ty);
        Tensor want = Tensor.zeros(4, cols);
        Attn4j.kernels("reference").softmax(tx.narrow(0, 0, 4), -1, want);
        Check.close(backend + " softmax", want, ty.narrow(0, 0, 4), 1e-5);
        kernels.softmax(tz, -1, tz);
        Check.close(backend + " softmax in place", want, tz.narrow(0, 0, 4), 1e-5);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        yardstick.close();
    }

    @Benchmark
    public float[] softmax() {
        kernels.softmax(tx, -1, ty);
        return y;
    }

    @Benchmark
    public float[] softmaxInPlace() {
        kernels.softmax(tz, -1, tz);
        return z;
    }

    @Benchmark
    public float[] copy() throws Exception {
        yardstick.copy();
        return y;
    }
}
