package dev.attn4j.bench.quick;

/**
 * A peer library measured in the same run on the same inputs (ONNX Runtime), for the kernels it has.
 * Implementations own native resources and must be closed.
 */
public interface Peer extends AutoCloseable {

    /** The peer's name in the report, e.g. "ort". */
    String name();

    /** Prepares the peer for {@code c}; returns false when it has no such operation. */
    boolean prepare(BenchCase c) throws Exception;

    /** Runs the prepared operation once. */
    void run() throws Exception;

    /** Runs the prepared operation once more and returns its output, row-major, for the check against the oracle. */
    float[] output() throws Exception;

    @Override
    void close();
}
