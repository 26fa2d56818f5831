package dev.attn4j.tune;

/** How a tile configuration is chosen (FFTW's planner flags). */
public enum TuningMode {
    /** No timing: a default derived from cache sizes, vector width and core count. */
    ESTIMATE,
    /** Times the plausible candidates and keeps the fastest. */
    MEASURE,
    /** Times every valid candidate (used to check MEASURE). */
    EXHAUSTIVE
}
