package dev.attn4j.bench;

import dev.attn4j.bench.ort.OnnxModel;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Attn4j;
import dev.attn4j.api.Kernels;
import dev.attn4j.api.Mask;
import dev.attn4j.api.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Map;
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
    private OrtEnvironment env;
    private OrtSession session;
    private Map<String, OnnxTensor> inputs;

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
            env = OrtEnvironment.getEnvironment();
            OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
            opts.setIntraOpNumThreads(Runtime.getRuntime().availableProcessors());
            opts.setInterOpNumThreads(1);
            opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            session = env.createSession(OnnxModel.attention(batch, heads, heads, seqLen, seqLen, headDim, headDim, causal, p.scale()),
                    opts);
            inputs = Map.of("Q", tensor(qa, p.qShape()), "K", tensor(ka, p.kShape()), "V", tensor(va, p.vShape()));
            try (OrtSession.Result r = session.run(inputs)) {
                float[] y = new float[(int) Tensor.count(p.outShape())];
                ((OnnxTensor) r.get(0)).getFloatBuffer().get(y);
                out = Tensor.of(y, p.outShape());
            }
        } else {
            kernels = Attn4j.kernels(backend);
            kernels.attention(p, q, k, v, mask, out);
        }
        Check.attentionRows(p, q, k, v, mask, out, 4, backend);
    }

    private OnnxTensor tensor(float[] data, int[] shape) throws OrtException {
        FloatBuffer buf = ByteBuffer.allocateDirect(4 * data.length).order(ByteOrder.nativeOrder()).asFloatBuffer();
        buf.put(data).flip();
        long[] dims = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            dims[i] = shape[i];
        }
        return OnnxTensor.createTensor(env, buf, dims);
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
        if (session != null) {
            for (OnnxTensor t : inputs.values()) {
                t.close();
            }
            session.close();
        }
    }

    @Benchmark
    public void attention(Blackhole bh) throws OrtException {
        if (session != null) {
            try (OrtSession.Result r = session.run(inputs)) {
                bh.consume(r.get(0));
            }
        } else {
            kernels.attention(p, q, k, v, mask, out);
            bh.consume(out);
        }
    }
}
