package dev.attn4j.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The two sides of a paired benchmark op, ours and the peer's, each call timed on its own: sums per iteration,
 * and at the end of the trial the speed ratio ours/peer (= peer time / our time) of every measurement
 * iteration and their median. The two alternate within every op, so whatever the machine does between
 * iterations (this VM drifts by ±40 % within minutes) hits both sides alike and cancels from the ratio,
 * which separate JMH runs of each side cannot offer.
 */
final class PairedTimes {
    private final String what;
    private final List<double[]> iterations = new ArrayList<>();
    private long oursNanos;
    private long peerNanos;
    private long ops;
    private boolean oursFirst = true;

    PairedTimes(String what) {
        this.what = what;
    }

    /** Which side runs first in this op: alternates, so neither always finds the caches as the other left them. */
    boolean oursFirst() {
        oursFirst = !oursFirst;
        return !oursFirst;
    }

    void add(long ours, long peer) {
        oursNanos += ours;
        peerNanos += peer;
        ops++;
    }

    /** Closes an iteration; only measurement iterations count. */
    void endIteration(boolean measured) {
        if (measured && ops > 0) {
            iterations.add(new double[] {oursNanos / 1e6 / ops, peerNanos / 1e6 / ops});
        }
        oursNanos = 0;
        peerNanos = 0;
        ops = 0;
    }

    /** The median of the iterations' ratios, NaN before any measurement iteration. */
    double medianSpeedRatio() {
        double[] r = iterations.stream().mapToDouble(t -> t[1] / t[0]).sorted().toArray();
        if (r.length == 0) {
            return Double.NaN;
        }
        return r.length % 2 == 1 ? r[r.length / 2] : (r[r.length / 2 - 1] + r[r.length / 2]) / 2;
    }

    /** One line per measurement iteration and the summary, on stdout (JMH shows a fork's output in its log). */
    void report() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%n[paired] %s%n", what));
        for (double[] t : iterations) {
            sb.append(String.format(Locale.ROOT, "[paired]   ours %.3f ms, peer %.3f ms: ours/peer speed %.3f%n",
                    t[0], t[1], t[1] / t[0]));
        }
        sb.append(String.format(Locale.ROOT, "[paired] %s: median ours/peer speed %.3f over %d iterations%n", what,
                medianSpeedRatio(), iterations.size()));
        System.out.print(sb);
    }
}
