package dev.attn4j.bench;

import ai.onnxruntime.OrtException;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

/**
 * What the paired attention and decode benchmarks share: our call and the peer's, made by the subclass's
 * setup, timed one after the other within every op ({@link AttentionCall#timePair}), the iteration's ratio
 * recorded when a measurement iteration ends and the trial's report printed when it ends.
 */
abstract class PairedCalls {
    AttentionCall ours;
    AttentionCall peer;
    PairedTimes times;

    @TearDown(Level.Iteration)
    public void endIteration(IterationParams params) {
        times.endIteration(params.getType() == IterationType.MEASUREMENT);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws OrtException {
        times.report();
        ours.close();
        peer.close();
    }

    /** One op: both calls, each timed. */
    void timePair(Blackhole bh) throws OrtException {
        AttentionCall.timePair(ours, peer, times, bh);
    }
}
