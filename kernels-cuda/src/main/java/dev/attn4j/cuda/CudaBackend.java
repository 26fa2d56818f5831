package dev.attn4j.cuda;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.GeluApproximation;
import dev.attn4j.api.Mask;
import dev.attn4j.api.ScoreStage;
import dev.attn4j.api.Tensor;
import dev.attn4j.spi.AttentionKernels;
import dev.attn4j.spi.Backend;
import dev.attn4j.spi.BlockKernels;
import dev.attn4j.spi.ClassicKernels;
import dev.attn4j.spi.ProjectionKernels;
import dev.attn4j.tune.Tunable;
import dev.attn4j.tune.TuneRequest;
import dev.attn4j.tune.Wisdom;
import java.util.List;

/**
 * The {@code cuda} backend: every SPI kernel on one GPU ({@code -Dattn4j.cuda.device}, default 0) through a
 * {@link CudaContext}. Host tensors are copied in and out per call (see {@link DeviceTensor} for the cost);
 * device tensors ({@link DeviceTensor#asTensor()}) are used in place. Each call runs under the context's
 * lock and returns after the GPU has finished (results are visible to the caller). The literature family
 * ({@link #classic()}) runs on the GPU too ({@link CudaClassic}), not on the reference fallback.
 */
final class CudaBackend implements Backend, AttentionKernels, ProjectionKernels, BlockKernels {
    /** System property: the device ordinal the backend uses. */
    static final String DEVICE_PROPERTY = "attn4j.cuda.device";

    /** How a call runs: under the context's lock, followed by a synchronize and a workspace reset. */
    interface Runner {
        void run(Runnable body);
    }

    private final String description;
    private final CudaOps ops;
    private final Runner runner;
    private final CudaClassic classic;

    CudaBackend(String description, CudaOps ops, Runner runner) {
        this.description = description;
        this.ops = ops;
        this.runner = runner;
        this.classic = new CudaClassic(new CudaClassicOps(ops), runner);
    }

    static CudaBackend open(CudaLibraries.CublasPlan plan) {
        CudaRuntime.ensureLoaded(plan);
        CudaContext ctx = CudaContext.open(Integer.getInteger(DEVICE_PROPERTY, 0));
        return new CudaBackend(ctx.deviceName() + " (sm_" + ctx.computeCapability() + "), " + plan.describe(), ctx.ops(),
                ctx::run);
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
    public Wisdom wisdom() {
        return ops.tuning().wisdom();
    }

    /** The attention path's launch choices (flash variant, row block, cuBLAS algorithm) for {@code ./attn4j tune}. */
    @Override
    public List<Tunable<?>> tunables(TuneRequest request) {
        return ops.tuning().tunables(request, ops, runner);
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
    public ClassicKernels classic() {
        return classic;
    }

    @Override
    public void scores(AttentionProblem p, Tensor q, Tensor k, Mask mask, ScoreStage stage, Tensor scores) {
        runner.run(() -> ops.scores(p, q, k, mask, stage, scores));
    }

    @Override
    public void maskedSoftmax(AttentionProblem p, Mask mask, Tensor scores) {
        runner.run(() -> ops.maskedSoftmax(p, mask, scores));
    }

    @Override
    public void attention(AttentionProblem p, Tensor q, Tensor k, Tensor v, Mask mask, Tensor out, Tensor lse) {
        runner.run(() -> ops.attention(p, q, k, v, mask, out, lse));
    }

    @Override
    public void linear(Tensor x, Tensor w, Tensor bias, Tensor y) {
        runner.run(() -> ops.linear(x, w, bias, y));
    }

    @Override
    public void projectQkv(AttentionProblem p, Tensor x, Tensor w, Tensor bias, Tensor q, Tensor k, Tensor v) {
        runner.run(() -> ops.projectQkv(p, x, w, bias, q, k, v));
    }

    @Override
    public void mergeHeads(AttentionProblem p, Tensor attn, Tensor wo, Tensor bias, Tensor y) {
        runner.run(() -> ops.mergeHeads(p, attn, wo, bias, y));
    }

    @Override
    public void softmax(Tensor x, int axis, Tensor y) {
        runner.run(() -> ops.softmax(x, axis, y));
    }

    @Override
    public void layerNorm(Tensor x, int axis, Tensor scale, Tensor bias, float epsilon, Tensor y, Tensor mean,
                          Tensor invStdDev) {
        runner.run(() -> ops.layerNorm(x, axis, scale, bias, epsilon, y, mean, invStdDev));
    }

    @Override
    public void gemm(float alpha, Tensor a, Tensor b, float beta, Tensor c, Tensor y) {
        runner.run(() -> ops.gemm(alpha, a, b, beta, c, y));
    }

    @Override
    public void matmul(Tensor a, Tensor b, Tensor y) {
        runner.run(() -> ops.matmul(a, b, y));
    }

    @Override
    public void rotary(Tensor x, Tensor cos, Tensor sin, int[] positions, int rotaryDim, boolean interleaved, Tensor y) {
        runner.run(() -> ops.rotary(x, cos, sin, positions, rotaryDim, interleaved, y));
    }

    @Override
    public void gelu(Tensor x, GeluApproximation approximation, Tensor y) {
        runner.run(() -> ops.gelu(x, approximation, y));
    }
}
