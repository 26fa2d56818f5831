package dev.attn4j.bench.quick;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Mask;
import dev.attn4j.bench.ort.OnnxModel;
import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * ONNX Runtime (CPU) as the peer: the ONNX {@code Attention} operator (opset 23) for the attention cases
 * and {@code Gemm} (transB = 1) for the projection, on the very same inputs, with as many intra-op
 * threads as our kernels use.
 */
final class OrtPeer implements Peer {
    /** The peer's name in the report. */
    static final String NAME = "ort";
    private final OrtEnvironment env;
    private final int threads;
    private OrtSession session;
    private Map<String, OnnxTensor> feeds;

    OrtPeer(int threads) {
        this.env = OrtEnvironment.getEnvironment();
        this.threads = threads;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public boolean prepare(BenchCase c) throws OrtException {
        release();
        if (c instanceof Cases.AttentionCase a) {
            AttentionProblem p = a.p;
            if (!(a.mask == Mask.none() || a.mask.equals(Mask.causalTopLeft()) || p.seqQ() == 1)) {
                return false;
            }
            // ONNX's is_causal is aligned top-left; a single decode row sees every key either way
            boolean causal = a.mask != Mask.none() && p.seqQ() > 1;
            open(OnnxModel.attention(p.batch(), p.heads(), p.kvHeads(), p.seqQ(), p.seqK(), p.headDim(), p.valueDim(), causal,
                    p.scale()));
            feeds = new LinkedHashMap<>();
            feeds.put("Q", tensor(a.q.array(), p.qShape()));
            feeds.put("K", tensor(a.k.array(), p.kShape()));
            feeds.put("V", tensor(a.v.array(), p.vShape()));
            return true;
        }
        if (c instanceof Cases.LinearCase l) {
            OnnxModel m = OnnxModel.node("Gemm", 13)
                    .input("X", l.m, l.kDim).input("W", l.n, l.kDim).input("B", l.n)
                    .output("Y", l.m, l.n)
                    .attribute("transB", 1L);
            open(m.bytes());
            feeds = new LinkedHashMap<>();
            feeds.put("X", tensor(l.x.array(), l.m, l.kDim));
            feeds.put("W", tensor(l.w.array(), l.n, l.kDim));
            feeds.put("B", tensor(l.bias.array(), l.n));
            return true;
        }
        return false;
    }

    private void open(byte[] model) throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(threads);
        options.setInterOpNumThreads(1);
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        session = env.createSession(model, options);
    }

    private OnnxTensor tensor(float[] data, int... shape) throws OrtException {
        long[] s = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            s[i] = shape[i];
        }
        return OnnxTensor.createTensor(env, FloatBuffer.wrap(data), s);
    }

    @Override
    public void run() throws OrtException {
        try (OrtSession.Result r = session.run(feeds)) {
            if (r.size() != 1) {
                throw new IllegalStateException("ONNX Runtime returned " + r.size() + " outputs");
            }
        }
    }

    @Override
    public float[] output() throws OrtException {
        try (OrtSession.Result r = session.run(feeds)) {
            OnnxTensor y = (OnnxTensor) r.get(0);
            FloatBuffer fb = y.getFloatBuffer();
            float[] out = new float[fb.remaining()];
            fb.get(out);
            return out;
        }
    }

    private void release() {
        if (feeds != null) {
            feeds.values().forEach(OnnxTensor::close);
            feeds = null;
        }
        if (session != null) {
            try {
                session.close();
            } catch (OrtException e) {
                System.getLogger("dev.attn4j.bench").log(System.Logger.Level.WARNING, "closing an ONNX Runtime session: " + e);
            }
            session = null;
        }
    }

    @Override
    public void close() {
        release();
    }
}
