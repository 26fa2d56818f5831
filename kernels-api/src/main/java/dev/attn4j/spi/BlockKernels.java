package dev.attn4j.spi;

import dev.attn4j.api.GeluApproximation;
import dev.attn4j.api.Tensor;

/** The ONNX building blocks a backend implements; arguments are validated by the API. */
public interface BlockKernels {

    /** Writes {@code y} = softmax of {@code x} along {@code axis} (same shape; y may be x). */
    void softmax(Tensor x, int axis, Tensor y);

    /**
     * Layer normalization over the axes {@code [axis, rank)}: {@code y = (x − mean)/√(var + eps)·scale + bias},
     * {@code scale} and {@code bias} (may be null) broadcast to {@code x.shape[axis:]}. When not null,
     * {@code mean} and {@code invStdDev} receive one value per normalized group, in row-major order.
     */
    void layerNorm(Tensor x, int axis, Tensor scale, Tensor bias, float epsilon, Tensor y, Tensor mean, Tensor invStdDev);

    /** Writes {@code y [M, N]} = alpha·{@code a [M, K]}·{@code b [K, N]} + beta·{@code c} (c broadcast to [M, N], may be null). */
    void gemm(float alpha, Tensor a, Tensor b, float beta, Tensor c, Tensor y);

    /**
     * Batched {@code y [..., M, N]} = {@code a [..., M, K]} @ {@code b [..., K, N]}: the API has already applied
     * numpy's rules, so the three views have the same rank (≥ 2) and batch shape; broadcast axes have stride 0.
     */
    void matmul(Tensor a, Tensor b, Tensor y);

    /**
     * Rotary position embedding on {@code x [B, H, S, D]} into {@code y} (same shape; y may be x).
     * With {@code positions} ({@code [B·S]}), {@code cos}/{@code sin} are caches {@code [maxPos, rotaryDim/2]};
     * without, they are {@code [B, S, rotaryDim/2]}. Only the first {@code rotaryDim} features rotate; pairs
     * are {@code (d, d + rotaryDim/2)}, or {@code (2d, 2d + 1)} when {@code interleaved}.
     */
    void rotary(Tensor x, Tensor cos, Tensor sin, int[] positions, int rotaryDim, boolean interleaved, Tensor y);

    /** Writes {@code y} = GELU({@code x}) elementwise (same shape; y may be x). */
    void gelu(Tensor x, GeluApproximation approximation, Tensor y);
}
