package dev.attn4j.bench.ort;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.attn4j.api.AttentionProblem;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Map;
import org.openjdk.jmh.infra.Blackhole;

/**
 * ONNX Runtime's CPU {@code Attention} op (opset 23, model bytes from {@link OnnxModel}) bound to fixed inputs,
 * on every core, fully optimized: the peer of the JMH attention benchmarks. GQA goes through the op's K/V
 * head count; {@code causal} is its top-left {@code is_causal}.
 */
public final class OrtAttention implements AutoCloseable {
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final Map<String, OnnxTensor> inputs;
    private final int outputSize;

    /** A session for {@code p} on the given [B, H, Sq, D], [B, KVH, Sk, D] and [B, KVH, Sk, Dv] inputs. */
    public OrtAttention(AttentionProblem p, boolean causal, float[] q, float[] k, float[] v) throws OrtException {
        this(p, causal, q, k, v, true);
    }

    /**
     * As {@link #OrtAttention(AttentionProblem, boolean, float[], float[], float[])}; {@code spinning} false turns
     * off ONNX Runtime's spin-waiting intra-op threads ({@code session.intra_op.allow_spinning = 0}), so that a
     * call timed right after one of ours does not run against them (and ours not against them after theirs).
     */
    public OrtAttention(AttentionProblem p, boolean causal, float[] q, float[] k, float[] v, boolean spinning)
            throws OrtException {
        OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
        if (!spinning) {
            opts.addConfigEntry("session.intra_op.allow_spinning", "0");
        }
        opts.setIntraOpNumThreads(Runtime.getRuntime().availableProcessors());
        opts.setInterOpNumThreads(1);
        opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        session = env.createSession(OnnxModel.attention(p.batch(), p.heads(), p.kvHeads(), p.seqQ(), p.seqK(), p.headDim(),
                p.valueDim(), causal, p.scale()), opts);
        inputs = Map.of("Q", tensor(q, p.qShape()), "K", tensor(k, p.kShape()), "V", tensor(v, p.vShape()));
        outputSize = p.batch() * p.heads() * p.seqQ() * p.valueDim();
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

    /** Runs the op once and returns its output, [B, H, Sq, Dv] row-major. */
    public float[] output() throws OrtException {
        try (OrtSession.Result r = session.run(inputs)) {
            float[] y = new float[outputSize];
            ((OnnxTensor) r.get(0)).getFloatBuffer().get(y);
            return y;
        }
    }

    /** Runs the op once, for timing: the output goes to the blackhole, uncopied. */
    public void run(Blackhole bh) throws OrtException {
        try (OrtSession.Result r = session.run(inputs)) {
            bh.consume(r.get(0));
        }
    }

    @Override
    public void close() throws OrtException {
        for (OnnxTensor t : inputs.values()) {
            t.close();
        }
        session.close();
    }
}
