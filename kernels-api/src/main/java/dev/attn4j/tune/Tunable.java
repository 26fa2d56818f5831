package dev.attn4j.tune;

import java.util.List;

/**
 * One kernel of one backend on one representative problem, offered to the {@link Planner}: its
 * ESTIMATE default, its candidate configurations, a correctness check of a candidate against the
 * reference on a small problem of the same class, and one timed run.
 *
 * @param <C> the backend's configuration type (a small record that knows whether it fits)
 */
public interface Tunable<C> {

    /** The backend, e.g. "simd". */
    String backend();

    /** The class of problems the chosen configuration will serve. */
    ProblemClass problemClass();

    /** The ESTIMATE default: derived from cache sizes, vector width and cores, no timing. */
    C estimate();

    /** The plausible candidates (MEASURE), or every valid one (EXHAUSTIVE); each fits the problem. */
    List<C> candidates(boolean exhaustive);

    /** The configuration as one token without tabs or newlines. */
    String encode(C config);

    /** Parses {@link #encode}; throws IllegalArgumentException for a token this backend no longer accepts. */
    C decode(String token);

    /** Runs a small problem of the same class with {@code config} against the reference; throws if it is wrong. */
    void check(C config);

    /** Runs the representative problem once with {@code config}. */
    void run(C config);
}
