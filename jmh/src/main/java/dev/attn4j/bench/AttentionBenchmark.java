package dev.attn4j.bench;

import ai.onnxruntime.OrtException;
import dev.attn4j.bench.ort.OrtAttention;
import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Attn4j;
import dev.attn4j.api.Kernels;
import dev.attn4j.api.Mask;
import dev.attn4j.api.Tensor;
import java.util.SplittableRandom;
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

    private AttentionProblem p;
    private Mask mask;
    private Tensor q;
    private Tensor k;
    private Tensor v;
    private Tensor out;
    private Kernels kernels;
    private OrtAttention ort;

    @Setup(Level.Trial)
    public void setup() throws OrtException {
        p = AttentionProblem.of(batch, heads, heads, seqLen, seqLen, headDim);
        mask = causal ? Mask.causalTopLeft() : Mask.none();
        SplittableRandom rnd = new SplittableRandom(42);
        float[] qa = random(rnd, (int) Tensor.count(p.qShape()));
        float[] ka = random(rnd, (int) Tensor.count(p.kShape()));
        float[] va = random(rnd, (int) Tensor.count(p.vShape()));
        q = Tensor.of(qa, p.qShape());
        k = Tensor.of(ka, p.kShape());
        v = Tensor.of(va, p.vShape());
        out = Tensor.zeros(p.outShape());
        if (backend.equals("ort")) {
            ort = new OrtAttention(p, causal, qa, ka, va);
            out = Tensor.of(ort.output(), p.outShape());
        } else {
            kernels = Attn4j.kernels(backend);
            kernels.attention(p, q, k, v, mask, out);
        }
        Check.attentionRows(p, q, k, v, mask, out, 4, backend);
    }

    static float[] random(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return a;
    }

    @TearDown(Level.Trial)
    public void tearDown() throws OrtException {
        if (ort != null) {
            ort.close();
        }
    }

    @Benchmark
    public void attention(Blackhole bh) throws OrtException {
        if (ort != null) {
            ort.run(bh);
        } else {
            kernels.attention(p, q, k, v, mask, out);
            bh.consume(out);
        }
    }
}
