package dev.attn4j.tune;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;

/**
 * Chooses a configuration for a {@link Tunable} (FFTW's planner): ESTIMATE returns the default without
 * timing; MEASURE and EXHAUSTIVE first look in the {@link Wisdom}, and otherwise check every candidate
 * against the reference (dropping, with a log line, those that fail), time each (warm-up, then the
 * median of several runs), and keep the fastest only when it beats the default by more than the
 * measured spread (of its per-round time ratio to the default: rounds interleave the candidates, so the
 * ratio is immune to the drift of a shared machine that widens each candidate's own spread). The
 * choice is remembered in the wisdom. Tuning is an explicit step: nothing here runs on a kernel's hot
 * path.
 */
public final class Planner {
    private static final System.Logger LOG = System.getLogger("dev.attn4j.tune");

    private Planner() {
    }

    /**
     * One timed candidate.
     *
     * @param config       the encoded configuration
     * @param medianNanos  median time of one run (NaN when it failed its check)
     * @param spreadNanos  interquartile range of the runs
     * @param runs         timed runs
     * @param failure      why the candidate was dropped, or null
     * @param ratio        median over the rounds of this candidate's time over the first candidate's (the
     *                     ESTIMATE default) in the same round; NaN when not timed
     * @param ratioSpread  the 95 % confidence half-width of that median ratio, 1.82·IQR/√rounds (the median's
     *                     standard error is 1.2533·σ/√n, and σ ≈ IQR/1.349 for near-normal noise)
     */
    public record Measurement(String config, double medianNanos, double spreadNanos, int runs, String failure,
                              double ratio, double ratioSpread) {
        /** A measurement without paired ratios (a dropped candidate). */
        public Measurement(String config, double medianNanos, double spreadNanos, int runs, String failure) {
            this(config, medianNanos, spreadNanos, runs, failure, Double.NaN, Double.NaN);
        }
    }

    /**
     * The planner's answer.
     *
     * @param config        the chosen configuration
     * @param encoded       its encoding
     * @param fromWisdom    whether it came from the wisdom without measuring
     * @param measurements  every candidate timed now (empty for ESTIMATE or a wisdom hit)
     * @param estimateNanos the ESTIMATE default's median (NaN when not measured now)
     * @param chosenNanos   the chosen configuration's median (NaN when not measured now)
     * @param <C>           the configuration type
     */
    public record Plan<C>(C config, String encoded, boolean fromWisdom, List<Measurement> measurements, double estimateNanos,
                          double chosenNanos) {
        /** Number of timed runs this plan cost. */
        public int timedRuns() {
            return measurements.stream().mapToInt(Measurement::runs).sum();
        }
    }

    /** Receives progress: the candidate about to be timed, its index and the count. */
    @FunctionalInterface
    public interface Listener {
        /** Called before each candidate. */
        void candidate(int index, int count, String config);
    }

    /**
     * Plans with a budget of about {@code secondsBudget} for the whole class: the reference checks and
     * the timing together (the timing gets what the checks leave, and always at least five rounds).
     */
    public static <C> Plan<C> plan(Tunable<C> t, TuningMode mode, Wisdom wisdom, double secondsBudget, Listener listener) {
        long started = System.nanoTime();
        Objects.requireNonNull(t, "tunable");
        Objects.requireNonNull(mode, "mode");
        C estimate = t.estimate();
        if (mode == TuningMode.ESTIMATE) {
            return new Plan<>(estimate, t.encode(estimate), false, List.of(), Double.NaN, Double.NaN);
        }
        if (wisdom != null) {
            Wisdom.Entry e = wisdom.get(t.backend(), t.problemClass());
            if (e != null) {
                try {
                    return new Plan<>(t.decode(e.config()), e.config(), true, List.of(), e.estimateNanos(), e.medianNanos());
                } catch (IllegalArgumentException bad) {
                    LOG.log(System.Logger.Level.WARNING, "wisdom entry " + e.config() + " for " + t.problemClass().key()
                            + " is not a valid configuration any more (" + bad.getMessage() + "); measuring again");
                }
            }
        }
        LinkedHashSet<String> seen = new LinkedHashSet<>();
        List<C> candidates = new ArrayList<>();
        candidates.add(estimate);
        seen.add(t.encode(estimate));
        for (C c : t.candidates(mode == TuningMode.EXHAUSTIVE)) {
            if (seen.add(t.encode(c))) {
                candidates.add(c);
            }
        }
        List<Measurement> measurements = new ArrayList<>();
        List<C> valid = new ArrayList<>();
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i < candidates.size(); i++) {
            C c = candidates.get(i);
            String token = t.encode(c);
            if (listener != null) {
                listener.candidate(i, 2 * candidates.size(), "check " + token);
            }
            try {
                t.check(c);
                valid.add(c);
                tokens.add(token);
            } catch (RuntimeException | AssertionError wrong) {
                LOG.log(System.Logger.Level.WARNING, "tuning " + t.problemClass().key() + ": candidate " + token
                        + " dropped, it disagrees with the reference: " + wrong.getMessage());
                measurements.add(new Measurement(token, Double.NaN, Double.NaN, 0, String.valueOf(wrong.getMessage())));
            }
        }
        if (valid.isEmpty()) {
            throw new IllegalStateException("tuning " + t.problemClass().key() + ": every candidate failed its check");
        }
        double left = Math.max(0.0, secondsBudget - (System.nanoTime() - started) / 1e9);
        List<Measurement> timed = timeRoundRobin(t, valid, tokens, left, listener, candidates.size());
        measurements.addAll(timed);
        C best = null;
        Measurement bestM = null;
        Measurement estimateM = valid.get(0) == estimate ? timed.get(0) : null;
        for (int i = 0; i < valid.size(); i++) {
            // with the default timed, candidates are ranked by their paired ratio to it: a shared machine's
            // drift moves every candidate of a round alike and cancels in the ratio, not in the medians
            double key = estimateM != null ? timed.get(i).ratio() : timed.get(i).medianNanos();
            double bestKey = bestM == null ? Double.POSITIVE_INFINITY : estimateM != null ? bestM.ratio() : bestM.medianNanos();
            if (key < bestKey) {
                best = valid.get(i);
                bestM = timed.get(i);
            }
        }
        if (bestM == null) {
            throw new IllegalStateException("tuning " + t.problemClass().key() + ": every candidate failed its check");
        }
        C chosen = best;
        Measurement chosenM = bestM;
        if (estimateM != null && bestM != estimateM && 1.0 - bestM.ratio() <= bestM.ratioSpread()) {
            chosen = estimate; // the win is inside the noise of the paired ratios: keep the default
            chosenM = estimateM;
        }
        double estimateNanos = estimateM == null ? chosenM.medianNanos() : estimateM.medianNanos();
        String token = t.encode(chosen);
        if (wisdom != null) {
            wisdom.put(t.problemClass(), new Wisdom.Entry(t.backend(), token, chosenM.medianNanos(), estimateNanos));
        }
        return new Plan<>(chosen, token, false, List.copyOf(measurements), estimateNanos, chosenM.medianNanos());
    }

    /**
     * Times the candidates in rounds, one run of each per round, so that JIT warm-up, frequency changes and
     * a busy neighbour fall on every candidate alike: first a warm-up of the first candidate until two runs
     * agree within 10 % (at most a quarter of the budget), then rounds until the budget is used (at least 5,
     * at most 200); each candidate's median and interquartile range over its rounds, and the median and
     * the 95 % confidence half-width of its per-round ratio to the first candidate.
     */
    static <C> List<Measurement> timeRoundRobin(Tunable<C> t, List<C> configs, List<String> tokens, double seconds,
                                                Listener listener, int offset) {
        long warmEnd = System.nanoTime() + (long) (seconds * 0.25e9);
        long previous = Long.MAX_VALUE;
        while (true) {
            long t0 = System.nanoTime();
            t.run(configs.get(0));
            long dt = System.nanoTime() - t0;
            if (Math.abs(dt - previous) <= 0.1 * previous || System.nanoTime() > warmEnd) {
                break;
            }
            previous = dt;
        }
        for (C c : configs) {
            t.run(c); // each candidate's own first run (allocation, first touch) is not timed
        }
        List<List<Long>> times = new ArrayList<>();
        for (int i = 0; i < configs.size(); i++) {
            times.add(new ArrayList<>());
        }
        long end = System.nanoTime() + (long) (seconds * 0.75e9);
        int rounds = 0;
        do {
            for (int i = 0; i < configs.size(); i++) {
                if (listener != null && rounds == 0) {
                    listener.candidate(offset + i, 2 * offset, tokens.get(i));
                }
                long t0 = System.nanoTime();
                t.run(configs.get(i));
                times.get(i).add(System.nanoTime() - t0);
            }
            rounds++;
        } while (rounds < 5 || (System.nanoTime() < end && rounds < 200));
        List<Measurement> out = new ArrayList<>();
        List<Long> first = times.get(0);
        for (int i = 0; i < configs.size(); i++) {
            List<Long> mine = times.get(i);
            double[] s = mine.stream().mapToDouble(Long::doubleValue).toArray();
            double[] r = new double[mine.size()];
            for (int k = 0; k < r.length; k++) {
                r[k] = mine.get(k) / (double) first.get(k);
            }
            out.add(new Measurement(tokens.get(i), median(s), iqr(s), s.length, null, median(r),
                    1.82 * iqr(r) / Math.sqrt(r.length)));
        }
        return out;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2.0;
    }

    private static double iqr(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[(3 * s.length) / 4] - s[s.length / 4];
    }
}
