package dev.attn4j.bench.quick;

import java.io.PrintStream;

/** Creates the ONNX Runtime peer, or says in one line why there is none. */
final class OrtPeers {
    private OrtPeers() {
    }

    /** The peer with {@code threads} intra-op threads, or null when ONNX Runtime cannot start here. */
    static Peer create(PrintStream out, int threads) {
        try {
            Peer p = new OrtPeer(threads);
            out.println("peer: ONNX Runtime " + ai.onnxruntime.OrtEnvironment.getEnvironment().getVersion() + " (CPU, "
                    + threads + " threads)");
            return p;
        } catch (RuntimeException | LinkageError e) {
            out.println("peer: ONNX Runtime unavailable (" + e + "); ratios to it are not measured");
            return null;
        }
    }
}
