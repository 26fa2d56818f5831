package dev.attn4j.cuda;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.DType;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The launch choices of the attention path on one GPU, the one place they come from ({@link CudaTuning} takes
 * them from the wisdom, else from {@link #estimate}). Only choices the compiled kernels already support are
 * here: the row kernel is written over {@code blockDim.x} (any multiple of the warp size up to the device's
 * limit), and every flash variant whose head-dim bound covers the problem computes the same result; the flash
 * kernels' tiles (head-dim bound, key tile, rows per warp; 128 threads in all) are compiled in, one
 * {@code kernels.def} variant per tile, so the tile is chosen by naming a variant.
 *
 * @param rowBlock         threads per block of {@code masked_softmax_rows_f32} (one block per score row), a
 *                         multiple of the warp size
 * @param flashHeadDim     the head-dim bound of the flash variant to launch ({@code kernels.def}), or 0 for the
 *                         unfused path (cuBLAS Q·Kᵀ, the row kernel, cuBLAS P·V)
 * @param flashKeyTile     the variant's keys per shared-memory tile (BN); 0 on the unfused path
 * @param flashRowsPerWarp the variant's query rows per warp (R; 4·R rows per block); 0 on the unfused path
 * @param tensorOpGemm     whether the FP16/BF16 GEMMs ({@code cublasGemmStridedBatchedEx}) ask for
 *                         {@code CUBLAS_GEMM_DEFAULT_TENSOR_OP} instead of {@code CUBLAS_GEMM_DEFAULT}; FP32 GEMMs
 *                         are {@code cublasSgemmStridedBatched} under {@code CUBLAS_DEFAULT_MATH} whatever this
 *                         says (TF32 tensor-op math rounds the inputs to 10 mantissa bits, about 1e-3 relative,
 *                         far outside the FP32 parity tolerance of 1e-5)
 */
record CudaLaunchConfig(int rowBlock, int flashHeadDim, int flashKeyTile, int flashRowsPerWarp, boolean tensorOpGemm) {
    private static final Pattern FLASH = Pattern.compile("(\\d+)(?:n(\\d+)r(\\d+))?");

    /** Checks the sizes that do not depend on a device: a flash tile is whole, or absent on the unfused path. */
    CudaLaunchConfig {
        boolean tile = flashHeadDim > 0
                ? flashKeyTile > 0 && flashRowsPerWarp > 0
                : flashKeyTile == 0 && flashRowsPerWarp == 0;
        if (rowBlock < 1 || flashHeadDim < 0 || !tile) {
            throw new IllegalArgumentException("invalid cuda launch configuration: rowBlock=" + rowBlock
                    + ", flashHeadDim=" + flashHeadDim + ", flashKeyTile=" + flashKeyTile + ", flashRowsPerWarp="
                    + flashRowsPerWarp);
        }
    }

    /** The unfused path: cuBLAS Q·Kᵀ, the row kernel at {@code rowBlock} threads, cuBLAS P·V. */
    static CudaLaunchConfig unfused(int rowBlock, boolean tensorOpGemm) {
        return new CudaLaunchConfig(rowBlock, 0, 0, 0, tensorOpGemm);
    }

    /** The fused path with {@code variant}; the row block is kept (unused there) and the GEMM algorithm is the default. */
    static CudaLaunchConfig fused(int rowBlock, KernelTable.Flash variant) {
        return new CudaLaunchConfig(rowBlock, variant.maxHeadDim(), variant.keyTile(), variant.rowsPerWarp(), false);
    }

    /** Whether this takes the fused flash kernel. */
    boolean isFused() {
        return flashHeadDim > 0;
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
        if (isFused()) {
            KernelTable.Entry e = table.flashVariant(dtype, flashHeadDim, flashKeyTile, flashRowsPerWarp);
            if (e == null) {
                return "no flash variant for " + dtype + " with head dims up to " + flashHeadDim + ", key tile "
                        + flashKeyTile + " and " + flashRowsPerWarp + " rows per warp";
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
     * <li>flashHeadDim: the smallest bound that covers the head dims (what {@link KernelTable#flashFor}
     * picks): a larger bound runs the same loops over zero padding and holds more shared memory, so fewer
     * blocks are resident. 0 (unfused) when no variant covers the problem.
     * <li>flashKeyTile, flashRowsPerWarp: that bound's default tile ({@link KernelTable#flashDefault}): the
     * largest key tile, so that every lane of a warp scores a key, then the most rows per warp up to 4 — key
     * tile 32 and 4 rows per warp up to bound 128, 16 and 2 at 256 (where a 32-key tile does not fit in 48 KiB
     * of static shared memory). These are the shapes the kernels had before the tile was a knob, kept so that
     * untuned calls and older wisdom run what they ran; no GPU has timed them against the other tiles yet.
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
        return flash == null ? unfused(rowBlock, false) : fused(rowBlock, flash.flash());
    }

    private static int roundUp(int n, int to) {
        return Math.max(to, (n + to - 1) / to * to);
    }

    /** One token: {@code rows256-flash64n32r4-gemmdefault} (or {@code flashnone}, {@code gemmtensorop}). */
    String encode() {
        return token(isFused() ? flashHeadDim + "n" + flashKeyTile + "r" + flashRowsPerWarp : "none");
    }

    private String token(String flash) {
        return "rows" + rowBlock + "-flash" + flash + "-gemm" + (tensorOpGemm ? "tensorop" : "default");
    }

    /**
     * Parses {@link #encode}; IllegalArgumentException for any other token. A token written before the flash
     * tile was a knob ({@code flash64}, the bound alone) reads as that bound's default tile for {@code dtype}
     * ({@link KernelTable#flashDefault}), the variant it ran then.
     */
    static CudaLaunchConfig decode(String token, DType dtype, KernelTable table) {
        String[] f = token.split("-", -1);
        if (f.length != 3 || !f[0].startsWith("rows") || !f[1].startsWith("flash") || !f[2].startsWith("gemm")) {
            throw new IllegalArgumentException("not a cuda launch configuration: " + token);
        }
        try {
            int rows = Integer.parseInt(f[0].substring(4));
            boolean tensorOp = switch (f[2].substring(4)) {
                case "default" -> false;
                case "tensorop" -> true;
                default -> throw new IllegalArgumentException("gemm must be default or tensorop");
            };
            String flash = f[1].substring(5);
            CudaLaunchConfig c;
            boolean older = false;
            if (flash.equals("none")) {
                c = unfused(rows, tensorOp);
            } else {
                Matcher m = FLASH.matcher(flash);
                if (!m.matches()) {
                    throw new IllegalArgumentException("flash must be none, a bound with its tile (64n32r4) or a bound");
                }
                int bound = Integer.parseInt(m.group(1));
                if (m.group(2) != null) {
                    c = new CudaLaunchConfig(rows, bound, Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)),
                            tensorOp);
                } else {
                    KernelTable.Entry e = bound > 0 ? table.flashDefault(dtype, bound) : null;
                    if (e == null) {
                        throw new IllegalArgumentException("no flash variant for " + dtype + " with head dims up to "
                                + flash);
                    }
                    older = true;
                    c = new CudaLaunchConfig(rows, bound, e.flash().keyTile(), e.flash().rowsPerWarp(), tensorOp);
                }
            }
            if (!(older ? c.token(Integer.toString(c.flashHeadDim)) : c.encode()).equals(token)) {
                throw new IllegalArgumentException("not in canonical form");
            }
            return c;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a cuda launch configuration: " + token + " (" + e.getMessage() + ")", e);
        }
    }
}
