package dev.attn4j.simd;

import static dev.attn4j.tune.CandidateCheck.assertClose;
import static dev.attn4j.tune.CandidateCheck.random;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Mask;
import dev.attn4j.api.Tensor;
import dev.attn4j.reference.ReferenceBackend;
import dev.attn4j.tune.ProblemClass;
import dev.attn4j.tune.Tunable;
import dev.attn4j.tune.TuneRequest;
import dev.attn4j.tune.Wisdom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where the SIMD kernels get their tiles: the tuned choice from the wisdom when there is one for the
 * problem's class, else the ESTIMATE default of {@link FlashConfig#forProblem} / {@link GemmConfig#forShape};
 * and the {@link Tunable}s the autotuner times. The wisdom is read once per process; lookups are
 * cached, so a kernel call pays a map lookup, never a measurement.
 */
final class SimdTuning {
    static final String BACKEND = "simd";
    private static final Map<String, FlashConfig> FLASH = new ConcurrentHashMap<>();
    private static final Map<String, GemmConfig> GEMM = new ConcurrentHashMap<>();

    private SimdTuning() {
    }

    /** The process-wide wisdom for this machine and vector width, opened once (kernels look it up per call). */
    static Wisdom wisdom() {
        return WisdomHolder.WISDOM;
    }

    private static final class WisdomHolder {
        static final Wisdom WISDOM = Wisdom.shared(Vec.BITS, "none");
    }

    /** The flash tiles for a call: tuned if the wisdom knows the class, else ESTIMATE. */
    static FlashConfig flash(AttentionProblem p, Mask mask, Tensor q) {
        ProblemClass pc = ProblemClass.attention(p, mask, ProblemClass.layout(q));
        Wisdom.Entry e = wisdom().get(BACKEND, pc);
        if (e == null) {
            return FlashConfig.forProblem(p, mask);
        }
        return FLASH.computeIfAbsent(e.config(), SimdTuning::decodeFlash);
    }

    /**
     * The GEMM blocking for an M × N × K product: tuned if the wisdom knows the class, else ESTIMATE.
     */
    static GemmConfig gemm(int m, int n, int k) {
        Wisdom.Entry e = wisdom().get(BACKEND, gemmClass(m, n, k));
        if (e == null) {
            return GemmConfig.forShape(m, k);
        }
        return GEMM.computeIfAbsent(e.config(), SimdTuning::decodeGemm);
    }

    static ProblemClass gemmClass(int m, int n, int k) {
        return new ProblemClass("gemm", "f32", ProblemClass.bucket(k), ProblemClass.bucket(m), ProblemClass.bucket(n), "none",
                "rowmajor");
    }

    static String encode(FlashConfig c) {
        return "bk" + c.keyTile() + "-split" + c.splitBelowItems() + "-min" + c.minKeysPerSplit() + "-max" + c.maxSplits()
                + "-qt" + c.queryTilesPerItem();
    }

    static FlashConfig decodeFlash(String token) {
        String[] f = token.split("-");
        // 4 fields: wisdom written before query tiles were grouped per K/V pass (one tile per item)
        if (f.length < 4 || f.length > 5 || !f[0].startsWith("bk") || !f[1].startsWith("split") || !f[2].startsWith("min")
                || !f[3].startsWith("max") || f.length == 5 && !f[4].startsWith("qt")) {
            throw new IllegalArgumentException("not a flash configuration: " + token);
        }
        return new FlashConfig(Integer.parseInt(f[0].substring(2)), Integer.parseInt(f[1].substring(5)),
                Integer.parseInt(f[2].substring(3)), Integer.parseInt(f[3].substring(3)),
                f.length == 5 ? Integer.parseInt(f[4].substring(2)) : 1);
    }

    static String encode(GemmConfig c) {
        return "kc" + c.kc() + "-mt" + c.mTile() + "-it" + c.itemsPerThread() + "-mr" + c.mr() + (c.passes() ? "-kp" : "");
    }

    static GemmConfig decodeGemm(String token) {
        String[] f = token.split("-");
        // 2 or 3 fields: wisdom written before the thread split (4 items per thread) and the micro-kernel
        // shape (12 rows) were knobs; a fifth "kp" marks the pass order (GemmConfig.passes)
        if (f.length < 2 || f.length > 5 || !f[0].startsWith("kc") || !f[1].startsWith("mt")
                || f.length >= 3 && !f[2].startsWith("it") || f.length >= 4 && !f[3].startsWith("mr")
                || f.length == 5 && !f[4].equals("kp")) {
            throw new IllegalArgumentException("not a gemm configuration: " + token);
        }
        return new GemmConfig(Integer.parseInt(f[0].substring(2)), Integer.parseInt(f[1].substring(2)),
                f.length >= 3 ? Integer.parseInt(f[2].substring(2)) : 4, f.length >= 4 ? Integer.parseInt(f[3].substring(2)) : 12,
                f.length == 5);
    }

    /** The tunables of a request. */
    static List<Tunable<?>> tunables(TuneRequest r, Parallel par) {
        return switch (r.kernel()) {
            case "attention" -> List.of(new AttentionTunable(r.attention(), r.mask(), par));
            case "gemm" -> List.of(new GemmTunable(r.m(), r.n(), r.k(), par));
            default -> List.of();
        };
    }

    /** Flash attention's key tile and decode key split. */
    static final class AttentionTunable implements Tunable<FlashConfig> {
        private final AttentionProblem p;
        private final Mask mask;
        private final Parallel par;
        private Tensor q;
        private Tensor k;
        private Tensor v;
        private Tensor out;

        AttentionTunable(AttentionProblem p, Mask mask, Parallel par) {
            this.p = p;
            this.mask = mask;
            this.par = par;
        }

        @Override
        public String backend() {
            return BACKEND;
        }

        @Override
        public ProblemClass problemClass() {
            return ProblemClass.attention(p, mask, "bhsd");
        }

        @Override
        public FlashConfig estimate() {
            return FlashConfig.forProblem(p, mask);
        }

        /** Whether this problem has so few work items that the keys are split (counted as FlashAttention does). */
        private boolean splits() {
            return FlashAttention.unsplitItems(p) < estimate().splitBelowItems();
        }

        @Override
        public List<FlashConfig> candidates(boolean exhaustive) {
            FlashConfig e = estimate();
            // PERF-NOTES: Bk 64 was best and Bk 128 about 10 % slower; the plausible set brackets that
            // measured here (S = 2048, D = 64): the exhaustive best was Bk 256 with 8 query tiles per pass
            // decode: the key tile is the K (then V) tile of its passes and rounds the split boundaries; query
            // tiles per item do not apply
            int[] tiles = FlashAttention.decode(p)
                    ? (exhaustive ? new int[] {32, 64, 128, 256, 512} : new int[] {64, 128, 512})
                    : exhaustive ? new int[] {16, 32, 48, 64, 96, 128, 192, 256, 512} : new int[] {64, 128, 256, 512};
            int[] minKeys = splits() ? (exhaustive ? new int[] {64, 128, 256, 512, 1024} : new int[] {128, 256, 512})
                    : new int[] {e.minKeysPerSplit()};
            int[] maxSplits = splits() ? (exhaustive ? new int[] {2, 4, 8, 16, 32, 64} : new int[] {8, 16, 32})
                    : new int[] {e.maxSplits()};
            int[] groups = FlashAttention.decode(p) ? new int[] {1} : exhaustive ? new int[] {1, 2, 4, 8, 16, 32}
                    : e.queryTilesPerItem() > 1 ? new int[] {e.queryTilesPerItem(), 2 * e.queryTilesPerItem()} : new int[] {1};
            List<FlashConfig> list = new ArrayList<>();
            for (int bk : tiles) {
                for (int mk : minKeys) {
                    for (int ms : maxSplits) {
                        for (int qt : groups) {
                            if (mk >= bk) {
                                list.add(new FlashConfig(bk, e.splitBelowItems(), mk, ms, qt));
                            }
                        }
                    }
                }
            }
            return list;
        }

        @Override
        public String encode(FlashConfig config) {
            return SimdTuning.encode(config);
        }

        @Override
        public FlashConfig decode(String token) {
            return decodeFlash(token);
        }

        private AttentionProblem small;
        private Mask smallMask;
        private Tensor[] smallQkv;
        private Tensor smallWant;

        @Override
        public void check(FlashConfig config) {
            if (small == null) {
                // the same class on fewer heads and rows: same head dims, mask kind and split behaviour;
                // the oracle runs once for every candidate
                small = new AttentionProblem(1, p.groupSize(), 1, Math.min(p.seqQ(), 70), Math.min(p.seqK(), 1100),
                        p.headDim(), p.valueDim(), p.scale(), p.softcap());
                smallMask = ProblemClass.maskKind(mask).equals("causal") ? mask : Mask.none();
                smallQkv = new Tensor[] {
                    Tensor.of(random(11, Tensor.count(small.qShape())), small.qShape()),
                    Tensor.of(random(12, Tensor.count(small.kShape())), small.kShape()),
                    Tensor.of(random(13, Tensor.count(small.vShape())), small.vShape()),
                };
                smallWant = Tensor.zeros(small.outShape());
                new ReferenceBackend().attention().attention(small, smallQkv[0], smallQkv[1], smallQkv[2], smallMask, smallWant,
                        null);
            }
            Tensor got = Tensor.zeros(small.outShape());
            FlashAttention.run(small, smallQkv[0], smallQkv[1], smallQkv[2], smallMask, got, null, par, config);
            assertClose("flash " + encode(config), smallWant, got, 1e-5);
        }

        @Override
        public void run(FlashConfig config) {
            if (q == null) {
                q = Tensor.of(random(1, Tensor.count(p.qShape())), p.qShape());
                k = Tensor.of(random(2, Tensor.count(p.kShape())), p.kShape());
                v = Tensor.of(random(3, Tensor.count(p.vShape())), p.vShape());
                out = Tensor.zeros(p.outShape());
            }
            FlashAttention.run(p, q, k, v, mask, out, null, par, config);
        }
    }

    /** The SGEMM's cache blocking. */
    static final class GemmTunable implements Tunable<GemmConfig> {
        private final int m;
        private final int n;
        private final int kDim;
        private final Parallel par;
        private Tensor a;
        private Tensor b;
        private Tensor y;

        GemmTunable(int m, int n, int kDim, Parallel par) {
            this.m = m;
            this.n = n;
            this.kDim = kDim;
            this.par = par;
        }

        @Override
        public String backend() {
            return BACKEND;
        }

        @Override
        public ProblemClass problemClass() {
            return gemmClass(m, n, kDim);
        }

        @Override
        public GemmConfig estimate() {
            return GemmConfig.forShape(m, kDim);
        }

        @Override
        public List<GemmConfig> candidates(boolean exhaustive) {
            // kc·NR floats of a B micro-panel in L1 (kc ≤ 384 at 512 bits on Zen 5's 48 KiB) or streamed from
            // L2 with C stored once per 1024 of K (GemmConfig.defaults: the faster on Zen 5)
            int[] kcs = exhaustive ? new int[] {64, 128, 192, 256, 320, 384, 512, 768, 1024, 2048}
                    : new int[] {256, 512, 1024};
            int[] tiles = exhaustive ? new int[] {12, 24, 36, 48, 72, 96, 144, 192} : new int[] {24, 48, 96};
            // the thread split only matters when the row tiles alone are too few items for the threads
            int rowTiles = (m + 47) / 48;
            boolean few = rowTiles < 4 * par.parallelism();
            int[] splits = exhaustive ? new int[] {1, 2, 4, 8} : few ? new int[] {2, 4, 8} : new int[] {4};
            // the micro-kernel shape: every shape in EXHAUSTIVE; MEASURE adds the 8-row kernel at the
            // default blocking only (alone, 12 × 2, 8 × 3, 6 × 4 and 14 × 2 tiles timed alike here)
            int[] shapes = exhaustive ? new int[] {12, 8, 4} : new int[] {12};
            // the loop order: both in EXHAUSTIVE; MEASURE tries the other order at the default blocking
            boolean[] orders = exhaustive ? new boolean[] {false, true} : new boolean[] {estimate().passes()};
            List<GemmConfig> list = new ArrayList<>();
            for (boolean passes : orders) {
                for (int kc : kcs) {
                    for (int t : tiles) {
                        for (int it : splits) {
                            for (int mr : shapes) {
                                list.add(new GemmConfig(kc, t, it, mr, passes));
                            }
                        }
                    }
                }
            }
            GemmConfig d = estimate();
            if (!list.contains(d)) {
                list.add(d); // one row tile (GemmConfig.forShape) is not on the grid
            }
            if (!exhaustive) {
                list.add(new GemmConfig(d.kc(), d.mTile(), d.itemsPerThread(), 8, d.passes()));
                list.add(d.withPasses(!d.passes()));
                list.add(new GemmConfig(256, d.mTile(), d.itemsPerThread(), d.mr(), true));
            }
            return list;
        }

        @Override
        public String encode(GemmConfig config) {
            return SimdTuning.encode(config);
        }

        @Override
        public GemmConfig decode(String token) {
            return decodeGemm(token);
        }

        private Tensor sa;
        private Tensor sb;
        private Tensor want;

        @Override
        public void check(GemmConfig config) {
            int sm = Math.min(m, 61);
            int sn = Math.min(n, 77);
            int sk = Math.min(kDim, 700);
            if (want == null) {
                sa = Tensor.of(random(21, (long) sm * sk), sm, sk);
                sb = Tensor.of(random(22, (long) sk * sn), sk, sn);
                want = Tensor.zeros(sm, sn);
                new ReferenceBackend().blocks().gemm(1f, sa, sb, 0f, null, want);
            }
            Tensor got = Tensor.zeros(sm, sn);
            Sgemm.gemm(1f, sa, sb, 0f, null, null, got, par, config);
            // sums of up to 700 products of values in [-1, 1]: relative to the row's scale, not 1
            float[] w = want.toFloatArray();
            float[] g = got.toFloatArray();
            for (int i = 0; i < w.length; i++) {
                if (!(Math.abs(g[i] - w[i]) <= 1e-5 * Math.max(1.0, Math.sqrt(sk)))) {
                    throw new AssertionError("gemm " + encode(config) + ": element " + i + " is " + g[i] + ", the reference says " + w[i]);
                }
            }
        }

        @Override
        public void run(GemmConfig config) {
            if (a == null) {
                a = Tensor.of(random(31, (long) m * kDim), m, kDim);
                b = Tensor.of(random(32, (long) kDim * n), kDim, n);
                y = Tensor.zeros(m, n);
            }
            Sgemm.gemm(1f, a, b, 0f, null, null, y, par, config);
        }
    }
}
