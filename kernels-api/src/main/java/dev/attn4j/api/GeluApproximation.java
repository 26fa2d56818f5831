package dev.attn4j.api;

/** Which GELU the {@code gelu} kernel computes (ONNX {@code Gelu}'s {@code approximate}). */
public enum GeluApproximation {
    /** {@code x·Φ(x) = 0.5·x·(1 + erf(x/√2))}. */
    NONE,
    /** {@code 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))}. */
    TANH
}
