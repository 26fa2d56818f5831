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
 * {@link DecodeBenchmark}'s GQA decode step (B=1, H=32, KVH=8, Sk=4096, D=128), ours and a peer alternating
 * within every op ({@link PairedTimes}): {@code against=reference} is the "× the reference backend" without
 * the drift between separate trials (the float64 reference is compute-bound, our step memory-bound, and this
 * VM moves both, separately, by tens of percent from one trial to the next); {@code against=ort} is ONNX
 * Runtime's {@code Attention} op with its spin-waiting off. Each side has its own copy of the inputs, as in
 * the separate benchmark, so each call finds its KV cache where the other's call left the caches: after the
 * peer's reads of its own 33.5 MB, ours is mostly out of the 32 MB L3, a cold cache, as in a model's decode
 * step, where every layer reads its own cache. {@code against=read} pairs ours with {@link ReadRoof} summing
 * arrays of the cache's size: the machine's read roof under the same alternation, so ours/read says how close
 * to the memory a cold step is, and reference/read how many times the reference a cold step can be at most.
 * {@code warm=true} runs each side once untimed right before its timed call (as {@link PairedSoftmaxBenchmark}
 * does, both through {@link PairedCalls}). One call does not bring back the state {@link DecodeBenchmark}'s hundreds of repeated steps reach,
 * where the 32 MiB L3 keeps more of the 33.5 MB cache: measured on the Zen 4 VM, the warm pairs ran 1.07–1.18×
 * the cold ones' speed, well short of {@code DecodeBenchmark}'s (jmh/README), so {@code DecodeBenchmark} stays
 * the figure for repeated steps over one cache.
 */
@Warmup(iterations = 5, time = 2)
public class PairedDecodeBenchmark extends PairedCalls {
    @Param({"reference", "ort", "read"})
    public String against;
    @Param({"false", "true"})
    public boolean warm;

    @Setup(Level.Trial)
    public void setup() throws OrtException {
        AttentionProblem p = AttentionProblem.of(1, 32, 8, 1, 4096, 128);
        ours = new AttentionCall("simd", p, Mask.none(), false, 7, 1);
        if (against.equals("read")) {
            peer = ReadRoof.kvCache(p);
        } else {
            peer = new AttentionCall(against.equals("ort") ? "ort-nospin" : against, p, Mask.none(), false, 7, 1);
        }
        String peerName = switch (against) {
            case "ort" -> "ONNX Runtime (no spinning)";
            case "read" -> "the read roof (all cores summing K and V's bytes)";
            default -> "the " + against + " backend";
        };
        times = new PairedTimes("decode B=1 H=32 KVH=8 Sk=4096 D=128" + (warm ? ", warm" : ", cold") + ": simd against "
                + peerName);
    }

    @Override
    boolean warm() {
        return warm;
    }

    @Benchmark
    public void pair(Blackhole bh) throws Exception {
        timePair(bh);
    }
}
