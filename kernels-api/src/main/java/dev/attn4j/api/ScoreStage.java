package dev.attn4j.api;

/**
 * How far the {@code scores} kernel carries the score matrix before it writes it: ONNX
 * {@code Attention}'s {@code qk_matmul_output_mode} 0–3.
 */
public enum ScoreStage {
    /** {@code scale·q·kᵀ} (mode 0). */
    SCALED,
    /** After the softcap (mode 1; equal to {@link #SCALED} without one). */
    SOFTCAPPED,
    /** After the softcap and the mask: masked-out positions hold −∞ (mode 2). */
    MASKED,
    /** The softmax weights (mode 3): fully masked rows hold zeros. */
    SOFTMAX
}
