package dev.attn4j.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.attn4j.api.Kernels;
import dev.attn4j.api.Tensor;
import dev.attn4j.bench.ort.OnnxModel;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Map;
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
 * A linear projection {@code y [M, N] = x [M, K]·Wᵀ + b} with W stored as rows ({@code [N, K]}, a model's
 * weight), {@code 2·M·N·K} FLOPs, at BERT-base's fused QKV width (768 → 2304) by default: our
 * {@code Kernels.linear} against ONNX Runtime's {@code Gemm} (opset 13, {@code transB = 1}) on every core.
 * Both take W as an input of the call and pack it per call (for ONNX Runtime W is a graph input, not an
 * initializer it could pre-pack at session creation). M = 32 is a short prompt's rows, 256 the quick bench's
 * slice, 1024 a batch of sequences.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 8, time = 1)
public class ProjectionBenchmark {
    @Param({"simd", "ort"})
    public String backend;
    @Param({"32", "256", "1024"})
    public int m;
    @Param({"768"})
    public int k;
    @Param({"2304"})
    public int n;

    private Tensor x;
    private Tensor w;
    private Tensor bias;
    private Tensor y;
    private Kernels kernels;
    private OrtEnvironment env;
    private OrtSession session;
    private Map<String, OnnxTensor> feeds;

    @Setup(Level.Trial)
    public void setup() throws OrtException {
        x = Tensor.of(BenchData.random(1, (long) m * k), m, k);
        w = Tensor.of(BenchData.random(2, (long) n * k), n, k);
        bias = Tensor.of(BenchData.random(3, n), n);
        y = Tensor.zeros(m, n);
        Tensor want = Tensor.zeros(Math.min(m, 4), n);
        Check.kernels("reference").linear(x.narrow(0, 0, want.dim(0)), w, bias, want);
        double tol = 1e-5 * Math.max(1, k / 64.0);
        if (backend.equals("ort")) {
            env = OrtEnvironment.getEnvironment();
            OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
            opts.setIntraOpNumThreads(Runtime.getRuntime().availableProcessors());
            opts.setInterOpNumThreads(1);
            opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            byte[] model = OnnxModel.node("Gemm", 13).input("X", m, k).input("W", n, k).input("B", n).output("Y", m, n)
                    .attribute("transB", 1L).bytes();
            session = env.createSession(model, opts);
            feeds = Map.of("X", tensor(x, m, k), "W", tensor(w, n, k), "B", tensor(bias, n));
            try (OrtSession.Result r = session.run(feeds)) {
                float[] out = new float[m * n];
                ((OnnxTensor) r.get(0)).getFloatBuffer().get(out);
                Check.close("ort projection", want, Tensor.of(out, m, n).narrow(0, 0, want.dim(0)), tol);
            }
        } else {
            kernels = Check.kernels(backend);
            kernels.linear(x, w, bias, y);
            Check.close(backend + " projection", want, y.narrow(0, 0, want.dim(0)), tol);
        }
    }

    private OnnxTensor tensor(Tensor t, long... shape) throws OrtException {
        float[] data = t.toFloatArray();
        FloatBuffer buf = ByteBuffer.allocateDirect(4 * data.length).order(ByteOrder.nativeOrder()).asFloatBuffer();
        buf.put(data).flip();
        return OnnxTensor.createTensor(env, buf, shape);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws OrtException {
        if (session != null) {
            for (OnnxTensor t : feeds.values()) {
                t.close();
            }
            session.close();
        }
    }

    @Benchmark
    public void linear(Blackhole bh) throws OrtException {
        if (session != null) {
            try (OrtSession.Result r = session.run(feeds)) {
                bh.consume(r.get(0));
            }
        } else {
            kernels.linear(x, w, bias, y);
            bh.consume(y);
        }
    }
}
