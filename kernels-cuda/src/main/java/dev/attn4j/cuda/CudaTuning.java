package dev.attn4j.cuda;

import static dev.attn4j.tune.CandidateCheck.assertClose;
import static dev.attn4j.tune.CandidateCheck.random;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.DType;
import dev.attn4j.api.Mask;
import dev.attn4j.api.Tensor;
import dev.attn4j.reference.ReferenceBackend;
import dev.attn4j.tune.Fingerprint;
import dev.attn4j.tune.ProblemClass;
import dev.attn4j.tune.Tunable;
import dev.attn4j.tune.TuneRequest;
import dev.attn4j.tune.Wisdom;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where the CUDA attention path gets its launch choices ({@link CudaLaunchConfig}): the tuned choice from the
 * wisdom when it holds one for the call's problem class and it fits the call, else the ESTIMATE default
 * derived from the device's limits; and the {@link Tunable}s that {@code ./attn4j tune} times. A kernel call
 * pays a map lookup, never a measurement.
 *
 * <p>The GPU's wisdom is its own file beside the shared one ({@code wisdom.txt} → {@code wisdom-cuda.txt}):
 * a wisdom file holds one machine fingerprint, and the GPU's fingerprint (name, compute capability, SM
 * count, driver) must not make the simd backend's file foreign, nor the reverse.
 */
final class CudaTuning {
    static final String BACKEND = "cuda";
    private static final Map<String, CudaTuning> SHARED = new ConcurrentHashMap<>();

    private final Wisdom wisdom;
    private final CudaLaunchConfig.Limits limits;
    private final KernelTable table;
    private final Map<String, CudaLaunchConfig> decoded = new ConcurrentHashMap<>();
    /** Frees the device buffers of the tunable that timed last (one representative problem resident at a time). */
    private Runnable releaseBench;

    CudaTuning(Wisdom wisdom, CudaLaunchConfig.Limits limits, KernelTable table) {
        this.wisdom = wisdom;
        this.limits = limits;
        this.table = table;
    }

    /** The process-wide tuning of a GPU, over the wisdom file for its fingerprint (read once). */
    static CudaTuning shared(String gpu, CudaLaunchConfig.Limits limits, KernelTable table) {
        Path file = wisdomFile(Wisdom.defaultLocation());
        // vector width 0: no SIMD kernel's choice is recorded under the GPU's fingerprint
        Fingerprint f = Fingerprint.current(0, gpu);
        return SHARED.computeIfAbsent(file.toAbsolutePath() + "\n" + f.key(),
                k -> new CudaTuning(Wisdom.open(file, f), limits, table));
    }

    /** {@code dir/wisdom.txt} → {@code dir/wisdom-cuda.txt} (any other name gets {@code -cuda} before its extension). */
    static Path wisdomFile(Path shared) {
        String name = shared.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String cuda = dot > 0 ? name.substring(0, dot) + "-cuda" + name.substring(dot) : name + "-cuda";
        return shared.resolveSibling(cuda);
    }

    Wisdom wisdom() {
        return wisdom;
    }

    CudaLaunchConfig.Limits limits() {
        return limits;
    }

    /** The class of an attention call: {@link ProblemClass#attention} with the storage type of the GPU kernels. */
    static ProblemClass attentionClass(AttentionProblem p, Mask mask, DType dtype, String layout) {
        ProblemClass c = ProblemClass.attention(p, mask, layout);
        return new ProblemClass(c.kernel(), label(dtype), c.headDim(), c.seqQ(), c.seqK(), c.mask(), c.layout());
    }

    static String label(DType t) {
        return switch (t) {
            case FLOAT16 -> "f16";
            case BFLOAT16 -> "bf16";
            default -> "f32";
        };
    }

    /** The launch choices for an attention call: tuned if the wisdom knows the class and the entry fits, else ESTIMATE. */
    CudaLaunchConfig attention(AttentionProblem p, Mask mask, DType dtype, String layout) {
        Wisdom.Entry e = wisdom.get(BACKEND, attentionClass(p, mask, dtype, layout));
        if (e != null) {
            // keyed by the storage type too: an older token (the bound alone) reads as that type's default tile
            CudaLaunchConfig c = decoded.computeIfAbsent(label(dtype) + " " + e.config(),
                    k -> decodeOrNull(e.config(), dtype));
            // a class member may differ from the tuned problem (value dim, a larger variant gone from the table)
            if (c != null && c.misfit(p, dtype, limits, table) == null) {
                return c;
            }
        }
        return CudaLaunchConfig.estimate(p, dtype, limits, table);
    }

    private CudaLaunchConfig decodeOrNull(String token, DType dtype) {
        try {
            return CudaLaunchConfig.decode(token, dtype, table);
        } catch (IllegalArgumentException e) {
            return null; // the Planner re-measures such an entry; kernels take ESTIMATE meanwhile
        }
    }

    /**
     * The tunables of a request: an attention request is tuned for FP32 and for FP16 storage (the FP16 path is
     * where the cuBLAS algorithm is a choice). A GEMM request has none: the backend's GEMMs are FP32 SGEMMs,
     * whose only knob is the math mode, and TF32 would break parity (see {@link CudaLaunchConfig}).
     */
    List<Tunable<?>> tunables(TuneRequest r, CudaOps ops, CudaBackend.Runner runner) {
        if (!r.kernel().equals("attention")) {
            return List.of();
        }
        return List.of(new AttentionTunable(r.attention(), r.mask(), DType.FLOAT32, ops, runner),
                new AttentionTunable(r.attention(), r.mask(), DType.FLOAT16, ops, runner));
    }

    /** Row-block candidates: warp multiples that are powers of two times the warp (exhaustive), or est/2, est, 2·est. */
    List<Integer> rowBlocks(int estimate, boolean exhaustive) {
        LinkedHashSet<Integer> out = new LinkedHashSet<>();
        int max = Math.min(limits.maxThreadsPerBlock(), 32 * limits.warpSize());
        if (exhaustive) {
            for (int b = limits.warpSize(); b <= max; b *= 2) {
                out.add(b);
            }
        } else {
            for (int b : new int[] {estimate, estimate / 2, estimate * 2}) {
                if (b >= limits.warpSize() && b <= max && b % limits.warpSize() == 0) {
                    out.add(b);
                }
            }
        }
        return List.copyOf(out);
    }

    /** A host tensor of {@code dtype} holding {@code values} (rounded to the type). */
    static Tensor host(float[] values, DType dtype, int... shape) {
        if (dtype == DType.FLOAT32) {
            return Tensor.of(values, shape);
        }
        Tensor t = Tensor.of(MemorySegment.ofArray(new short[values.length]), dtype, shape);
        for (int i = 0; i < values.length; i++) {
            t.setFloat(i, values[i]);
        }
        return t;
    }

    /**
     * The attention path's launch choices on one problem and storage type: the flash variant (head-dim bound,
     * key tile, rows per warp) or the unfused path, the row kernel's block and, for FP16, the cuBLAS algorithm
     * of Q·Kᵀ.
     */
    final class AttentionTunable implements Tunable<CudaLaunchConfig> {
        private final AttentionProblem p;
        private final Mask mask;
        private final DType dtype;
        private final CudaOps ops;
        private final CudaBackend.Runner runner;
        private Tensor[] bench;
        private AttentionProblem small;
        private Mask smallMask;
        private Tensor[] smallQkv;
        private Tensor smallWant;

        AttentionTunable(AttentionProblem p, Mask mask, DType dtype, CudaOps ops, CudaBackend.Runner runner) {
            this.p = p;
            this.mask = mask;
            this.dtype = dtype;
            this.ops = ops;
            this.runner = runner;
        }

        @Override
        public String backend() {
            return BACKEND;
        }

        @Override
        public ProblemClass problemClass() {
            return attentionClass(p, mask, dtype, "bhsd");
        }

        @Override
        public CudaLaunchConfig estimate() {
            return CudaLaunchConfig.estimate(p, dtype, limits, table);
        }

        /**
         * The fused variants: EXHAUSTIVE every variant whose bound covers D and Dv; MEASURE every tile of the
         * smallest covering bound (the tile is what varies the work per block and per SM at a given bound) and
         * the next bound at its default tile only (what MEASURE tried before the tile was a knob). The unfused
         * path: cuBLAS Q·Kᵀ, the row kernel at each candidate block, cuBLAS P·V, with each GEMM algorithm for
         * FP16.
         */
        @Override
        public List<CudaLaunchConfig> candidates(boolean exhaustive) {
            CudaLaunchConfig e = estimate();
            List<CudaLaunchConfig> list = new ArrayList<>();
            // the fused kernel: the row block and the GEMM algorithm are not used, so they stay at the estimate's
            List<KernelTable.Entry> variants = table.flashVariants(dtype, Math.max(p.headDim(), p.valueDim()));
            int smallest = variants.isEmpty() ? 0 : variants.get(0).flash().maxHeadDim();
            int next = -1;
            for (KernelTable.Entry v : variants) {
                KernelTable.Flash f = v.flash();
                if (next < 0 && f.maxHeadDim() > smallest) {
                    next = f.maxHeadDim();
                }
                boolean plausible = f.maxHeadDim() == smallest
                        || f.maxHeadDim() == next && v.equals(table.flashDefault(dtype, next));
                if (exhaustive || plausible) {
                    list.add(CudaLaunchConfig.fused(e.rowBlock(), f));
                }
            }
            boolean[] algos = dtype == DType.FLOAT32 ? new boolean[] {false} : new boolean[] {false, true};
            for (int rows : rowBlocks(e.rowBlock(), exhaustive)) {
                for (boolean tensorOp : algos) {
                    list.add(CudaLaunchConfig.unfused(rows, tensorOp));
                }
            }
            return list.stream().filter(c -> c.misfit(p, dtype, limits, table) == null).toList();
        }

        @Override
        public String encode(CudaLaunchConfig config) {
            return config.encode();
        }

        @Override
        public CudaLaunchConfig decode(String token) {
            CudaLaunchConfig c = CudaLaunchConfig.decode(token, dtype, table);
            String misfit = c.misfit(p, dtype, limits, table);
            if (misfit != null) {
                throw new IllegalArgumentException(misfit);
            }
            return c;
        }

        @Override
        public void check(CudaLaunchConfig config) {
            if (small == null) {
                // the same class on fewer heads and rows: same head dims, mask kind and storage type; the oracle
                // runs once for every candidate
                small = new AttentionProblem(1, p.groupSize(), 1, Math.min(p.seqQ(), 37), Math.min(p.seqK(), 300),
                        p.headDim(), p.valueDim(), p.scale(), p.softcap());
                smallMask = ProblemClass.maskKind(mask).equals("causal") ? mask : Mask.none();
                smallQkv = new Tensor[] {
                    host(random(11, Tensor.count(small.qShape())), dtype, small.qShape()),
                    host(random(12, Tensor.count(small.kShape())), dtype, small.kShape()),
                    host(random(13, Tensor.count(small.vShape())), dtype, small.vShape()),
                };
                smallWant = Tensor.zeros(small.outShape());
                new ReferenceBackend().attention().attention(small, smallQkv[0], smallQkv[1], smallQkv[2], smallMask,
                        smallWant, null);
            }
            Tensor got = Tensor.zeros(small.outShape());
            runner.run(() -> ops.attention(small, smallQkv[0], smallQkv[1], smallQkv[2], smallMask, got, null, config));
            // FP32: the parity suites' 1e-5; FP16: the fused kernel stores its output in FP16 (2^-11 relative)
            assertClose("cuda attention " + label(dtype) + " " + config.encode(), smallWant, got,
                    dtype == DType.FLOAT32 ? 1e-5 : 2e-3);
        }

        @Override
        public void run(CudaLaunchConfig config) {
            if (bench == null) {
                if (releaseBench != null) {
                    releaseBench.run();
                }
                bench = new Tensor[] {
                    ops.resident(host(random(1, Tensor.count(p.qShape())), dtype, p.qShape())),
                    ops.resident(host(random(2, Tensor.count(p.kShape())), dtype, p.kShape())),
                    ops.resident(host(random(3, Tensor.count(p.vShape())), dtype, p.vShape())),
                    ops.resident(host(new float[Math.toIntExact(Tensor.count(p.outShape()))], dtype, p.outShape())),
                };
                releaseBench = () -> {
                    for (Tensor t : bench) {
                        ops.release(t);
                    }
                    bench = null;
                };
            }
            Tensor[] b = bench;
            runner.run(() -> ops.attention(p, b[0], b[1], b[2], mask, b[3], null, config));
        }
    }
}
