package dev.attn4j.bench;

import ai.onnxruntime.OrtException;
import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Mask;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * {@link AttentionBenchmark}'s fused attention, ours and ONNX Runtime's alternating within every op
 * ({@link PairedTimes}); the ratio ours/peer of each measurement iteration and their median are printed at the
 * end of the trial. ONNX Runtime runs with its spin-waiting turned off
 * ({@code session.intra_op.allow_spinning = 0}): its threads would otherwise keep spinning into our call. That
 * is a setting of the peer, not its default, so {@link AttentionBenchmark} stays the figure of record for
 * ONNX Runtime as shipped.
 */
@Warmup(iterations = 6, time = 2)
public class PairedAttentionBenchmark extends PairedCalls {
    @Param({"512", "2048"})
    public int seqLen;
    @Param({"false", "true"})
    public boolean causal;
    /** ONNX Runtime's spin-waiting threads, off by default here (see the class comment). */
    @Param({"false"})
    public boolean ortSpinning;

    @Setup(Level.Trial)
    public void setup() throws OrtException {
        // the shape, B=1 H=12 D=64, as AttentionBenchmark's defaults
        AttentionProblem p = AttentionProblem.of(1, 12, 12, seqLen, seqLen, 64);
        Mask mask = causal ? Mask.causalTopLeft() : Mask.none();
        ours = new AttentionCall("simd", p, mask, causal, 42, 4);
        peer = new AttentionCall("ort", p, mask, causal, 42, 4, ortSpinning);
        times = new PairedTimes("attention B=1 H=12 S=" + seqLen + " D=64"
                + (causal ? " causal" : "") + ": simd against ONNX Runtime" + (ortSpinning ? "" : " (no spinning)"));
    }

    @Benchmark
    public void pair(Blackhole bh) throws Exception {
        timePair(bh);
    }
}
