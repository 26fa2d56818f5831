package dev.attn4j.bench;

import ai.onnxruntime.OrtException;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

/**
 * What the paired attention and decode benchmarks share: our call and the peer's, made by the subclass's
 * setup, timed one after the other within every op ({@link #timePair}), the iteration's ratio
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

    /** One op: both calls, in the order {@code times} chooses, each timed on its own. */
    void timePair(Blackhole bh) throws OrtException {
        AttentionCall first = times.oursFirst() ? ours : peer;
        AttentionCall second = first == ours ? peer : ours;
        long t0 = System.nanoTime();
        first.run(bh);
        long t1 = System.nanoTime();
        second.run(bh);
        long t2 = System.nanoTime();
        if (first == ours) {
            times.add(t1 - t0, t2 - t1);
        } else {
            times.add(t2 - t1, t1 - t0);
        }
    }
}
