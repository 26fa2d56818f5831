package dev.attn4j.cuda;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.DType;

/**
 * The launch choices of the attention path on one GPU, the one place they come from ({@link CudaTuning} takes
 * them from the wisdom, else from {@link #estimate}). Only choices the compiled kernels already support are
 * here: the row kernel is written over {@code blockDim.x} (any multiple of the warp size up to the device's
 * limit), and every flash variant whose head-dim bound covers the problem computes the same result; the flash
 * kernels' own tiles (key tile, rows per warp, 128 threads) are compiled in and chosen by picking a variant.
 *
 * @param rowBlock     threads per block of {@code masked_softmax_rows_f32} (one block per score row), a
 *                     multiple of the warp size
 * @param flashHeadDim the head-dim bound of the flash variant to launch ({@code kernels.def}), or 0 for the
 *                     unfused path (cuBLAS Q·Kᵀ, the row kernel, cuBLAS P·V)
 * @param tensorOpGemm whether the FP16/BF16 GEMMs ({@code cublasGemmStridedBatchedEx}) ask for
 *                     {@code CUBLAS_GEMM_DEFAULT_TENSOR_OP} instead of {@code CUBLAS_GEMM_DEFAULT}; FP32 GEMMs are
 *                     {@code cublasSgemmStridedBatched} under {@code CUBLAS_DEFAULT_MATH} whatever this says
 *                     (TF32 tensor-op math rounds the inputs to 10 mantissa bits, about 1e-3 relative, far
 *                     outside the FP32 parity tolerance of 1e-5)
 */
record CudaLaunchConfig(int rowBlock, int flashHeadDim, boolean tensorOpGemm) {

    /** Checks the sizes that do not depend on a device. */
    CudaLaunchConfig {
        if (rowBlock < 1 || flashHeadDim < 0) {
            throw new IllegalArgumentException("invalid cuda launch configuration: rowBlock=" + rowBlock
                    + ", flashHeadDim=" + flashHeadDim);
        }
    }

    /**
     * What the launches depend on, from {@code cuDeviceGetAttribute}.
     *
     * @param multiprocessors    {@code CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT}
     * @param maxThreadsPerBlock {@code CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK}
     * @param warpSize           {@code CU_DEVICE_ATTRIBUTE_WARP_SIZE}
     */
    record Limits(int multiprocessors, int maxThreadsPerBlock, int warpSize) {
        /** Requires a plausible device. */
        Limits {
            if (multiprocessors < 1 || warpSize < 1 || maxThreadsPerBlock < warpSize || maxThreadsPerBlock % warpSize != 0) {
                throw new IllegalArgumentException("implausible device limits: multiprocessors=" + multiprocessors
                        + ", maxThreadsPerBlock=" + maxThreadsPerBlock + ", warpSize=" + warpSize);
            }
        }
    }

    /**
     * Why this configuration cannot run {@code p} with storage type {@code dtype} on a device with {@code limits},
     * or null when it can.
     */
    String misfit(AttentionProblem p, DType dtype, Limits limits, KernelTable table) {
        // block_reduce keeps one partial per warp in 32 floats of shared memory, so at most 32 warps
        if (rowBlock % limits.warpSize() != 0 || rowBlock > limits.maxThreadsPerBlock() || rowBlock / limits.warpSize() > 32) {
            return "rowBlock " + rowBlock + " is not a multiple of the warp size " + limits.warpSize() + " up to "
                    + Math.min(limits.maxThreadsPerBlock(), 32 * limits.warpSize());
        }
        if (flashHeadDim > 0) {
            KernelTable.Entry e = table.flashVariant(dtype, flashHeadDim);
            if (e == null) {
                return "no flash variant for " + dtype + " with head dims up to " + flashHeadDim;
            }
            if (Math.max(p.headDim(), p.valueDim()) > flashHeadDim) {
                return "the flash variant " + e.name() + " covers head dims up to " + flashHeadDim + ", not "
                        + Math.max(p.headDim(), p.valueDim());
            }
        }
        return null;
    }

    /**
     * The default table (ESTIMATE), derived from the device, each rule with its reason:
     * <ul>
     * <li>rowBlock: the row kernel gives each score row one block whose threads stride over the Sk keys and
     * then meet in two block reductions. A thread should have at least 4 keys, or the reductions (two
     * {@code __syncthreads} rounds each) cost more than the loop they serve, and idle lanes hold an SM's
     * thread slots: so no more than ⌈Sk/4⌉ threads, rounded up to the warp size, and never less than a warp.
     * With at least 2 rows per SM the cap is 256 (the earlier constant: eight warps, several blocks resident
     * per SM to hide the exp/max latency); with fewer rows (decode against a long cache) a block per row
     * cannot fill the GPU, so each row takes up to the device's maximum threads per block.
     * <li>flashHeadDim: the smallest variant that covers the head dims (what {@link KernelTable#flashFor}
     * picks): a larger bound runs the same loops over zero padding and holds more shared memory, so fewer
     * blocks are resident. 0 (unfused) when no variant covers the problem.
     * <li>tensorOpGemm: false. Since cuBLAS 11 {@code CUBLAS_GEMM_DEFAULT} already uses tensor cores for
     * FP16/BF16 inputs with FP32 compute and the {@code *_TENSOR_OP} values are deprecated; the tuner
     * times both and keeps the default unless the other wins outside the noise.
     * </ul>
     */
    static CudaLaunchConfig estimate(AttentionProblem p, DType dtype, Limits limits, KernelTable table) {
        int warp = limits.warpSize();
        int max = Math.min(limits.maxThreadsPerBlock(), 32 * warp);
        long rows = (long) p.batch() * p.heads() * p.seqQ();
        int cap = rows >= 2L * limits.multiprocessors() ? Math.min(256, max) : max;
        int useful = roundUp((p.seqK() + 3) / 4, warp);
        int rowBlock = Math.max(warp, Math.min(cap, useful));
        KernelTable.Entry flash = table.flashFor(dtype, p.headDim(), p.valueDim());
        return new CudaLaunchConfig(rowBlock, flash == null ? 0 : flash.flash().maxHeadDim(), false);
    }

    private static int roundUp(int n, int to) {
        return Math.max(to, (n + to - 1) / to * to);
    }

    /** One token: {@code rows256-flash64-gemmdefault} (or {@code flashnone}, {@code gemmtensorop}). */
    String encode() {
        return "rows" + rowBlock + "-flash" + (flashHeadDim == 0 ? "none" : Integer.toString(flashHeadDim)) + "-gemm"
                + (tensorOpGemm ? "tensorop" : "default");
    }

    /** Parses {@link #encode}; IllegalArgumentException for any other token. */
    static CudaLaunchConfig decode(String token) {
        String[] f = token.split("-", -1);
        if (f.length != 3 || !f[0].startsWith("rows") || !f[1].startsWith("flash") || !f[2].startsWith("gemm")) {
            throw new IllegalArgumentException("not a cuda launch configuration: " + token);
        }
        try {
            int rows = Integer.parseInt(f[0].substring(4));
            String flash = f[1].substring(5);
            int flashHeadDim = flash.equals("none") ? 0 : Integer.parseInt(flash);
            if (flashHeadDim == 0 && !flash.equals("none")) {
                throw new IllegalArgumentException("flash0 is written flashnone");
            }
            boolean tensorOp = switch (f[2].substring(4)) {
                case "default" -> false;
                case "tensorop" -> true;
                default -> throw new IllegalArgumentException("gemm must be default or tensorop");
            };
            CudaLaunchConfig c = new CudaLaunchConfig(rows, flashHeadDim, tensorOp);
            if (!c.encode().equals(token)) {
                throw new IllegalArgumentException("not in canonical form");
            }
            return c;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a cuda launch configuration: " + token + " (" + e.getMessage() + ")", e);
        }
    }
}
