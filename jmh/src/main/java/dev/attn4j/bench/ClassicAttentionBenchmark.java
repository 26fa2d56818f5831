package dev.attn4j.bench;

import dev.attn4j.api.Attn4j;
import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Kernels;
import dev.attn4j.api.Mask;
import dev.attn4j.api.ScoreFunction;
import dev.attn4j.api.Tensor;
import dev.attn4j.reference.ReferenceBackend;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The fused softmax·V path of the literature's score functions (dot, general, additive, cosine),
 * {@code B=1, H=4, D=Dv=64}, additive hidden size {@code A=64}, no mask. FLOPs per call are
 * {@link #flops}: {@code 2·H·S²·(D + Dv)} for dot, plus {@code 2·H·S·D²} for general (q·W), plus
 * {@code 6·H·S·D} for cosine (norms); for additive {@code H·S²·(3·A + 2·Dv) + 4·H·S·A·D} (a tanh counted
 * as one operation). GFLOP/s = flops / time; the ratio to the reference backend comes from the same run.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ClassicAttentionBenchmark {
    static final int HEADS = 4;
    static final int DIM = 64;
    static final int HIDDEN = 64;

    @Param({"reference", "simd"})
    public String backend;

    @Param({"dot", "general", "additive", "cosine"})
    public String score;

    @Param({"128", "255"})
    public int seq;

    Kernels kernels;
    AttentionProblem p;
    ScoreFunction f;
    Tensor q;
    Tensor k;
    Tensor v;
    Tensor out;

    @Setup(Level.Trial)
    public void setup() {
        kernels = Attn4j.kernels(backend);
        p = AttentionProblem.of(1, HEADS, HEADS, seq, seq, DIM);
        f = score(score, 7);
        q = Tensor.of(BenchData.random(1, Tensor.count(p.qShape())), p.qShape());
        k = Tensor.of(BenchData.random(2, Tensor.count(p.kShape())), p.kShape());
        v = Tensor.of(BenchData.random(3, Tensor.count(p.vShape())), p.vShape());
        out = Tensor.zeros(p.outShape());
        kernels.attention(p, f, q, k, v, Mask.none(), out);
        Tensor want = Tensor.zeros(p.outShape());
        Kernels.of(new ReferenceBackend()).attention(p, f, q, k, v, Mask.none(), want);
        BenchData.check("attention " + score + " on " + backend, want, out, 1e-4);
    }

    static ScoreFunction score(String name, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float ws = (float) (1 / Math.sqrt(DIM));
        return switch (name) {
            case "dot" -> ScoreFunction.dot();
            case "general" -> ScoreFunction.general(Tensor.of(BenchData.random(rnd, HEADS * DIM * DIM, ws), HEADS, DIM, DIM));
            case "additive" -> ScoreFunction.additive(Tensor.of(BenchData.random(rnd, HIDDEN * DIM, ws), HIDDEN, DIM),
                    Tensor.of(BenchData.random(rnd, HIDDEN * DIM, ws), HIDDEN, DIM), Tensor.of(BenchData.random(rnd, HIDDEN, 1f), HIDDEN));
            case "cosine" -> ScoreFunction.cosine();
            default -> throw new IllegalArgumentException("unknown score " + name);
        };
    }

    /** FLOPs of one call (see the class comment). */
    public static double flops(String score, int seq) {
        double h = HEADS;
        double s = seq;
        double dot = 2 * h * s * s * (DIM + DIM);
        return switch (score) {
            case "dot" -> dot;
            case "general" -> dot + 2 * h * s * DIM * DIM;
            case "cosine" -> dot + 6 * h * s * DIM;
            case "additive" -> h * s * s * (3.0 * HIDDEN + 2 * DIM) + 4 * h * s * HIDDEN * DIM;
            default -> throw new IllegalArgumentException(score);
        };
    }

    @Benchmark
    public Tensor fused() {
        kernels.attention(p, f, q, k, v, Mask.none(), out);
        return out;
    }
}
