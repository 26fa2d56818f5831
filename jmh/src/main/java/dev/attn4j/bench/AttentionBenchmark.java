package dev.attn4j.bench;

import ai.onnxruntime.OrtException;
import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Mask;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * Fused attention, fp32, B=1, H=12, D=64 (defaults), against ONNX Runtime's CPU {@code Attention} op
 * (opset 23, model built in code by {@link OnnxModels}) on the same inputs, both on every core.
 * GFLOP/s = 4·B·H·S²·D / time, also for causal (skipped tiles show as speed).
 *
 * <p>{@code -p backend=ort-nospin} runs ONNX Runtime with its spin-waiting threads turned off, the peer of
 * {@link PairedAttentionBenchmark}, so that its cost to the peer can be read beside {@code ort}.
 *
 * <p>The reference backend takes seconds per call past S = 512: benchmark it at small S in a separate
 * run ({@code -p backend=reference -p seqLen=128}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx6g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class AttentionBenchmark {
    @Param({"simd", "ort"})
    public String backend;
    @Param({"512", "2048"})
    public int seqLen;
    @Param({"false", "true"})
    public boolean causal;
    @Param({"1"})
    public int batch;
    @Param({"12"})
    public int heads;
    @Param({"64"})
    public int headDim;

    private AttentionCall call;

    @Setup(Level.Trial)
    public void setup() throws OrtException {
        AttentionProblem p = AttentionProblem.of(batch, heads, heads, seqLen, seqLen, headDim);
        call = new AttentionCall(backend, p, causal ? Mask.causalTopLeft() : Mask.none(), causal, 42, 4);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws OrtException {
        call.close();
    }

    @Benchmark
    public void attention(Blackhole bh) throws OrtException {
        call.run(bh);
    }
}
