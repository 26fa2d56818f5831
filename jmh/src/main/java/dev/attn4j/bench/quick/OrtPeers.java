package dev.attn4j.bench.quick;

import java.io.PrintStream;

/** Creates the ONNX Runtime peer when its classes are on the class path. */
final class OrtPeers {
    private OrtPeers() {
    }

    /** The peer, or null (with one line saying why) when ONNX Runtime is not available. */
    static Peer create(PrintStream out) {
        out.println("ONNX Runtime peer: not wired yet");
        return null;
    }
}
