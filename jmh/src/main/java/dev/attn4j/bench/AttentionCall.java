package dev.attn4j.bench;

import ai.onnxruntime.OrtException;
import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Attn4j;
import dev.attn4j.api.Kernels;
import dev.attn4j.api.Mask;
import dev.attn4j.api.Tensor;
import dev.attn4j.bench.ort.OrtAttention;
import java.util.SplittableRandom;
import org.openjdk.jmh.infra.Blackhole;

/**
 * One attention call of a benchmark on one backend ({@code ort}: ONNX Runtime's {@code Attention} op;
 * {@code ort-nospin}: the same with its spin-waiting threads turned off, as {@link PairedAttentionBenchmark} runs it), on
 * random inputs in [−1, 1), its first rows checked against the float64 reference when it is made: what the
 * attention and decode benchmarks share.
 */
final class AttentionCall implements TimedCall {
    private final AttentionProblem p;
    private final Mask mask;
    private final Tensor q;
    private final Tensor k;
    private final Tensor v;
    private final Tensor out;
    private final Kernels kernels;
    private final OrtAttention ort;

    /**
     * @param ortCausal the mask as ONNX's top-left {@code is_causal} (the peer takes no other mask)
     * @param checkRows query rows compared with the reference
     */
    AttentionCall(String backend, AttentionProblem p, Mask mask, boolean ortCausal, long seed, int checkRows)
            throws OrtException {
        this(backend, p, mask, ortCausal, seed, checkRows, true);
    }

    /** As above; {@code ortSpinning} false turns off ONNX Runtime's spinning threads (paired timing). */
    AttentionCall(String backend, AttentionProblem p, Mask mask, boolean ortCausal, long seed, int checkRows,
                  boolean ortSpinning) throws OrtException {
        this.p = p;
        this.mask = mask;
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] qa = random(rnd, (int) Tensor.count(p.qShape()));
        float[] ka = random(rnd, (int) Tensor.count(p.kShape()));
        float[] va = random(rnd, (int) Tensor.count(p.vShape()));
        q = Tensor.of(qa, p.qShape());
        k = Tensor.of(ka, p.kShape());
        v = Tensor.of(va, p.vShape());
        if (backend.equals("ort") || backend.equals("ort-nospin")) {
            ort = new OrtAttention(p, ortCausal, qa, ka, va, ortSpinning && !backend.equals("ort-nospin"));
            kernels = null;
            out = Tensor.of(ort.output(), p.outShape());
        } else {
            ort = null;
            kernels = Attn4j.kernels(backend);
            out = Tensor.zeros(p.outShape());
            kernels.attention(p, q, k, v, mask, out);
        }
        Check.attentionRows(p, q, k, v, mask, out, checkRows, backend);
    }

    static float[] random(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return a;
    }

    /** The timed call; its output goes to the blackhole. */
    @Override
    public void run(Blackhole bh) throws OrtException {
        if (ort != null) {
            ort.run(bh);
        } else {
            kernels.attention(p, q, k, v, mask, out);
            bh.consume(out);
        }
    }

    @Override
    public void close() throws OrtException {
        if (ort != null) {
            ort.close();
        }
    }
}
