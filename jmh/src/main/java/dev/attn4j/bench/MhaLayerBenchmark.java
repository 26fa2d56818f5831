package dev.attn4j.bench;

import dev.attn4j.api.Attn4j;
import dev.attn4j.api.Mask;
import dev.attn4j.api.MultiHeadAttention;
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
 * The multi-head attention layer: a causal self-attention forward pass over {@code S = seq} tokens,
 * and one decode step (one new token against a cache of {@code context} positions, rolled back to
 * {@code context} before each step). {@code B=1, E=256, H=4, D=64}, {@code kvHeads} 4 (MHA) or 1
 * (MQA). FLOPs: forward {@code 2·S·E·(E + 2·KVH·D) + 2·S·E² + 2·H·S²·2D} (projections, output
 * projection, dense attention also when causal); decode {@code 2·E·(E + 2·KVH·D) + 2·E² + 2·H·(L+1)·2D}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class MhaLayerBenchmark {
    static final int EMBED = 256;
    static final int HEADS = 4;

    @Param({"reference", "simd"})
    public String backend;

    @Param({"4", "1"})
    public int kvHeads;

    @Param({"128"})
    public int seq;

    @Param({"511"})
    public int context;

    MultiHeadAttention layer;
    Tensor x;
    Tensor y;
    Tensor token;
    Tensor tokenOut;

    @Setup(Level.Trial)
    public void setup() {
        layer = MultiHeadAttention.builder(EMBED, HEADS).kvHeads(kvHeads).kernels(Attn4j.kernels(backend)).build().initialize(5);
        x = Tensor.of(BenchData.random(6, (long) seq * EMBED), 1, seq, EMBED);
        y = Tensor.zeros(1, seq, EMBED);
        layer.causalSelfAttention(x, y);
        MultiHeadAttention ref = MultiHeadAttention.builder(EMBED, HEADS).kvHeads(kvHeads)
                .kernels(dev.attn4j.api.Kernels.of(new ReferenceBackend())).build().initialize(5);
        Tensor want = Tensor.zeros(1, seq, EMBED);
        ref.causalSelfAttention(x, want);
        BenchData.check("layer forward on " + backend, want, y, 1e-4);
        layer.startCache(1, context + 1);
        layer.append(Tensor.of(BenchData.random(7, (long) context * EMBED), 1, context, EMBED));
        token = Tensor.of(BenchData.random(8, EMBED), 1, 1, EMBED);
        tokenOut = Tensor.zeros(1, 1, EMBED);
    }

    /** FLOPs of the forward pass. */
    public static double forwardFlops(int seq, int kvHeads) {
        double d = EMBED / (double) HEADS;
        return 2.0 * seq * EMBED * (EMBED + 2 * kvHeads * d) + 2.0 * seq * EMBED * EMBED + 4.0 * HEADS * seq * (double) seq * d;
    }

    /** FLOPs of one decode step against {@code context} cached positions. */
    public static double decodeFlops(int context, int kvHeads) {
        double d = EMBED / (double) HEADS;
        return 2.0 * EMBED * (EMBED + 2 * kvHeads * d) + 2.0 * EMBED * EMBED + 4.0 * HEADS * (context + 1) * d;
    }

    @Benchmark
    public Tensor forward() {
        layer.selfAttention(x, Mask.causalTopLeft(), y);
        return y;
    }

    @Benchmark
    public Tensor decodeStep() {
        layer.truncateCache(context);
        layer.decode(token, tokenOut, null);
        return tokenOut;
    }
}
