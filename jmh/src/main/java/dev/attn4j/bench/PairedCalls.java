package dev.attn4j.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

/**
 * What the paired attention, decode and softmax benchmarks share: our call and the peer's, made by the subclass's
 * setup, timed one after the other within every op ({@link #timePair}), the iteration's ratio
 * recorded when a measurement iteration ends and the trial's report printed when it ends; and the JMH
 * settings (JMH reads them from the superclass): one fork whose pool parks at once
 * ({@code -Dattn4j.spinMicros=0}, so our idle helper never takes a core from the peer's call), 8
 * measurement iterations of 2 s. The subclasses choose their warm-up (and may override the rest).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Dattn4j.spinMicros=0", "-Xmx6g"})
@Measurement(iterations = 8, time = 2)
abstract class PairedCalls {
    TimedCall ours;
    TimedCall peer;
    PairedTimes times;

    @TearDown(Level.Iteration)
    public void endIteration(IterationParams params) {
        times.endIteration(params.getType() == IterationType.MEASUREMENT);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        times.report();
        ours.close();
        peer.close();
    }

    /**
     * Whether each side runs once, untimed, right before its timed call, so that it finds its own working set
     * in the caches as its separate trial does; false (the default): each timed call starts from the caches
     * as the other's call left them.
     */
    boolean warm() {
        return false;
    }

    /** One op: both calls, in the order {@code times} chooses, each timed on its own. */
    void timePair(Blackhole bh) throws Exception {
        TimedCall first = times.oursFirst() ? ours : peer;
        TimedCall second = first == ours ? peer : ours;
        long a = timed(first, bh);
        long b = timed(second, bh);
        if (first == ours) {
            times.add(a, b);
        } else {
            times.add(b, a);
        }
    }

    private long timed(TimedCall call, Blackhole bh) throws Exception {
        if (warm()) {
            call.run(bh);
        }
        long t0 = System.nanoTime();
        call.run(bh);
        return System.nanoTime() - t0;
    }
}
