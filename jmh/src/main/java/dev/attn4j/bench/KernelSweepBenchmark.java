package dev.attn4j.bench;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Attn4j;
import dev.attn4j.api.GeluApproximation;
import dev.attn4j.api.Kernels;
import dev.attn4j.api.LocalP;
import dev.attn4j.api.Mask;
import dev.attn4j.api.ScoreFunction;
import dev.attn4j.api.ScoreStage;
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
 * Every kernel of the API that no other benchmark times against the reference backend, at a transformer
 * layer's shapes (BERT-base: width E = 768, H = 12 heads of D = 64, an MLP of 3072; the classic family
 * at H = 4, D = 64 over 128 keys), for {@code tokens} = 1 (a decode step's rows) and 128 (a prefill's):
 * the "every kernel ≥ 30× the reference backend", ratio simd / reference from one run. The
 * attention, decode, softmax, SGEMM, classic fused attention and layer benchmarks cover the rest.
 * Each setup checks the backend's result against the reference's first.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 4, time = 1)
public class KernelSweepBenchmark {
    static final int WIDTH = 768;
    static final int HEADS = 12;
    static final int DIM = 64;
    static final int MLP = 3072;
    static final int CLASSIC_HEADS = 4;
    static final int KEYS = 128;

    @Param({"reference", "simd"})
    public String backend;

    @Param({"linear", "linearResidual", "projectQkv", "mergeHeads", "gemm", "matmul", "scores", "maskedSoftmax",
            "softmax", "layerNorm", "rotary", "gelu", "add", "addSinusoidal", "topK", "sampled", "localP"})
    public String kernel;

    @Param({"1", "128"})
    public int tokens;

    Runnable call;

    @Setup(Level.Trial)
    public void setup() {
        Kernels ours = Attn4j.kernels(backend);
        Kernels oracle = Kernels.of(new ReferenceBackend());
        Call mine = build(ours);
        Call want = build(oracle);
        mine.run.run();
        want.run.run();
        BenchData.check(kernel + " tokens=" + tokens + " on " + backend, want.out, mine.out, 1e-4);
        call = mine.run;
    }

    /** One kernel call on fresh inputs (the same seeds for every backend) and the tensor it writes. */
    private record Call(Runnable run, Tensor out) {
    }

    private static Tensor rand(long seed, int... shape) {
        return Tensor.of(BenchData.random(seed, Tensor.count(shape)), shape);
    }

    private Call build(Kernels kr) {
        int m = tokens;
        switch (kernel) {
            case "linear" -> {
                Tensor x = rand(1, m, WIDTH), w = rand(2, WIDTH, WIDTH), b = rand(3, WIDTH), y = Tensor.zeros(m, WIDTH);
                return new Call(() -> kr.linear(x, w, b, y), y);
            }
            case "linearResidual" -> {
                Tensor x = rand(1, m, WIDTH), w = rand(2, WIDTH, WIDTH), b = rand(3, WIDTH), r = rand(4, m, WIDTH);
                Tensor y = Tensor.zeros(m, WIDTH);
                return new Call(() -> kr.linearResidual(x, w, b, r, y), y);
            }
            case "projectQkv" -> {
                AttentionProblem p = AttentionProblem.of(1, HEADS, HEADS, m, m, DIM);
                Tensor x = rand(1, 1, m, WIDTH), w = rand(2, Kernels.qkvRows(p), WIDTH), b = rand(3, Kernels.qkvRows(p));
                Tensor q = Tensor.zeros(p.qShape()), k = Tensor.zeros(p.kShape()), v = Tensor.zeros(p.vShape());
                return new Call(() -> kr.projectQkv(p, x, w, b, q, k, v), v);
            }
            case "mergeHeads" -> {
                AttentionProblem p = AttentionProblem.of(1, HEADS, HEADS, m, m, DIM);
                Tensor attn = rand(1, p.outShape()), wo = rand(2, WIDTH, HEADS * DIM), b = rand(3, WIDTH);
                Tensor y = Tensor.zeros(1, m, WIDTH);
                return new Call(() -> kr.mergeHeads(p, attn, wo, b, y), y);
            }
            case "gemm" -> {
                Tensor a = rand(1, m, WIDTH), b = rand(2, WIDTH, WIDTH), c = rand(3, m, WIDTH), y = Tensor.zeros(m, WIDTH);
                return new Call(() -> kr.gemm(0.5f, a, b, 2f, c, y), y);
            }
            case "matmul" -> {
                Tensor a = rand(1, HEADS, m, DIM), b = rand(2, HEADS, DIM, KEYS), y = Tensor.zeros(HEADS, m, KEYS);
                return new Call(() -> kr.matmul(a, b, y), y);
            }
            case "scores" -> {
                AttentionProblem p = AttentionProblem.of(1, HEADS, HEADS, m, KEYS, DIM);
                Tensor q = rand(1, p.qShape()), k = rand(2, p.kShape());
                Tensor s = Tensor.zeros(1, HEADS, m, KEYS);
                Mask mask = Mask.causalBottomRight();
                return new Call(() -> kr.scores(p, q, k, mask, ScoreStage.SOFTMAX, s), s);
            }
            case "maskedSoftmax" -> {
                AttentionProblem p = AttentionProblem.of(1, HEADS, HEADS, m, KEYS, DIM);
                // in place, call after call: the weights of one call are the next one's (finite) scores
                Tensor s = rand(1, 1, HEADS, m, KEYS);
                Mask mask = Mask.causalBottomRight();
                return new Call(() -> kr.maskedSoftmax(p, mask, s), s);
            }
            case "softmax" -> {
                Tensor x = rand(1, HEADS, m, KEYS), y = Tensor.zeros(HEADS, m, KEYS);
                return new Call(() -> kr.softmax(x, -1, y), y);
            }
            case "layerNorm" -> {
                Tensor x = rand(1, m, WIDTH), g = rand(2, WIDTH), b = rand(3, WIDTH), y = Tensor.zeros(m, WIDTH);
                return new Call(() -> kr.layerNorm(x, -1, g, b, 1e-5f, y, null, null), y);
            }
            case "rotary" -> {
                Tensor x = rand(1, 1, HEADS, m, DIM), cos = rand(2, 4096, DIM / 2), sin = rand(3, 4096, DIM / 2);
                Tensor y = Tensor.zeros(1, HEADS, m, DIM);
                int[] pos = new int[m];
                for (int i = 0; i < m; i++) {
                    pos[i] = 1000 + i;
                }
                return new Call(() -> kr.rotary(x, cos, sin, pos, 0, false, y), y);
            }
            case "gelu" -> {
                Tensor x = rand(1, m, MLP), y = Tensor.zeros(m, MLP);
                return new Call(() -> kr.gelu(x, GeluApproximation.NONE, y), y);
            }
            case "add" -> {
                Tensor a = rand(1, m, WIDTH), b = rand(2, m, WIDTH), y = Tensor.zeros(m, WIDTH);
                return new Call(() -> kr.add(a, b, y), y);
            }
            case "addSinusoidal" -> {
                Tensor x = rand(1, 1, m, WIDTH), y = Tensor.zeros(1, m, WIDTH);
                return new Call(() -> kr.addSinusoidal(x, 1000, y), y);
            }
            case "topK", "sampled", "localP" -> {
                AttentionProblem p = AttentionProblem.of(1, CLASSIC_HEADS, CLASSIC_HEADS, m, KEYS, DIM);
                Tensor q = rand(1, p.qShape()), k = rand(2, p.kShape()), v = rand(3, p.vShape());
                Tensor out = Tensor.zeros(p.outShape());
                ScoreFunction f = ScoreFunction.dot();
                Mask mask = Mask.causalBottomRight();
                return switch (kernel) {
                    case "topK" -> new Call(() -> kr.topKAttention(p, f, q, k, v, mask, 8, out, null), out);
                    case "sampled" -> new Call(() -> kr.sampledAttention(p, f, q, k, v, mask, 11, out, null), out);
                    default -> {
                        LocalP local = new LocalP(rand(4, DIM, DIM), rand(5, DIM), 16);
                        yield new Call(() -> kr.localPAttention(p, f, local, q, k, v, mask, out, null), out);
                    }
                };
            }
            default -> throw new IllegalArgumentException("unknown kernel " + kernel);
        }
    }

    @Benchmark
    public void call() {
        call.run();
    }
}
