package dev.attn4j.bench;

import org.openjdk.jmh.infra.Blackhole;

/** One side of a paired benchmark op ({@link PairedCalls}): a call to time, and what it holds to release. */
@FunctionalInterface
interface TimedCall extends AutoCloseable {
    /** The timed call; what it computes goes to the blackhole. */
    void run(Blackhole bh) throws Exception;

    /** Releases what the call holds; nothing by default. */
    @Override
    default void close() throws Exception {
    }
}
