package dev.attn4j.cuda;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.GeluApproximation;
import dev.attn4j.api.Mask;
import dev.attn4j.api.ScoreStage;
import dev.attn4j.api.Tensor;
import dev.attn4j.spi.AttentionKernels;
import dev.attn4j.spi.Backend;
import dev.attn4j.spi.BlockKernels;
import dev.attn4j.spi.ProjectionKernels;

/**
 * The {@code cuda} backend: every SPI kernel on one GPU ({@code -Dattn4j.cuda.device}, default 0) through a
 * {@link CudaContext}. Host tensors are copied in and out per call (see {@link DeviceTensor} for the cost);
 * device tensors ({@link DeviceTensor#asTensor()}) are used in place. Each call runs under the context's
 * lock and returns after the GPU has finished (results are visible to the caller).
 */
final class CudaBackend implements Backend, AttentionKernels, ProjectionKernels, BlockKernels {
    /** System property: the device ordinal the backend uses. */
    static final String DEVICE_PROPERTY = "attn4j.cuda.device";

    private final CudaContext context;
    private final String description;

    private CudaBackend(CudaContext context, String loaded) {
        this.context = context;
        this.description = context.deviceName() + " (sm_" + context.computeCapability() + "), " + loaded;
    }

    static CudaBackend open(CudaLibraries.CublasPlan plan) {
        CudaRuntime.ensureLoaded(plan);
        CudaContext ctx = CudaContext.open(Integer.getInteger(DEVICE_PROPERTY, 0));
        return new CudaBackend(ctx, plan.describe());
    }

    /** The context the backend runs on. */
    CudaContext context() {
        return context;
    }

    @Override
    public String name() {
        return CudaBackendProvider.NAME;
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public AttentionKernels attention() {
        return this;
    }

    @Override
    public ProjectionKernels projections() {
        return this;
    }

    @Override
    public BlockKernels blocks() {
        return this;
    }

    @Override
    public void scores(AttentionProblem p, Tensor q, Tensor k, Mask mask, ScoreStage stage, Tensor scores) {
        context.run(() -> context.ops().scores(p, q, k, mask, stage, scores));
    }

    @Override
    public void maskedSoftmax(AttentionProblem p, Mask mask, Tensor scores) {
        context.run(() -> context.ops().maskedSoftmax(p, mask, scores));
    }

    @Override
    public void attention(AttentionProblem p, Tensor q, Tensor k, Tensor v, Mask mask, Tensor out, Tensor lse) {
        context.run(() -> context.ops().attention(p, q, k, v, mask, out, lse));
    }

    @Override
    public void linear(Tensor x, Tensor w, Tensor bias, Tensor y) {
        context.run(() -> context.ops().linear(x, w, bias, y));
    }

    @Override
    public void projectQkv(AttentionProblem p, Tensor x, Tensor w, Tensor bias, Tensor q, Tensor k, Tensor v) {
        context.run(() -> context.ops().projectQkv(p, x, w, bias, q, k, v));
    }

    @Override
    public void mergeHeads(AttentionProblem p, Tensor attn, Tensor wo, Tensor bias, Tensor y) {
        context.run(() -> context.ops().mergeHeads(p, attn, wo, bias, y));
    }

    @Override
    public void softmax(Tensor x, int axis, Tensor y) {
        context.run(() -> context.ops().softmax(x, axis, y));
    }

    @Override
    public void layerNorm(Tensor x, int axis, Tensor scale, Tensor bias, float epsilon, Tensor y, Tensor mean,
                          Tensor invStdDev) {
        context.run(() -> context.ops().layerNorm(x, axis, scale, bias, epsilon, y, mean, invStdDev));
    }

    @Override
    public void gemm(float alpha, Tensor a, Tensor b, float beta, Tensor c, Tensor y) {
        context.run(() -> context.ops().gemm(alpha, a, b, beta, c, y));
    }

    @Override
    public void matmul(Tensor a, Tensor b, Tensor y) {
        context.run(() -> context.ops().matmul(a, b, y));
    }

    @Override
    public void rotary(Tensor x, Tensor cos, Tensor sin, int[] positions, int rotaryDim, boolean interleaved, Tensor y) {
        context.run(() -> context.ops().rotary(x, cos, sin, positions, rotaryDim, interleaved, y));
    }

    @Override
    public void gelu(Tensor x, GeluApproximation approximation, Tensor y) {
        context.run(() -> context.ops().gelu(x, approximation, y));
    }
}
