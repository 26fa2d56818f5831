package dev.attn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.attn4j.api.Alignment;
import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.DType;
import dev.attn4j.api.Mask;
import dev.attn4j.api.Tensor;
import dev.attn4j.reference.ReferenceBackend;
import dev.attn4j.tune.CandidateCheck;
import dev.attn4j.tune.Fingerprint;
import dev.attn4j.tune.Planner;
import dev.attn4j.tune.ProblemClass;
import dev.attn4j.tune.Tunable;
import dev.attn4j.tune.TuneRequest;
import dev.attn4j.tune.TuningMode;
import dev.attn4j.tune.Wisdom;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The CUDA backend's launch tuning on the emulated device: every candidate against the reference, wisdom, tokens. */
class CudaTuningTest {
    private final EmulatedDevice device = new EmulatedDevice();
    private final Workspace workspace = new Workspace(device);
    private final KernelTable table = KernelTable.load();
    private final Wisdom wisdom = Wisdom.inMemory(Fingerprint.current(0, "emulated A100"));
    private final CudaTuning tuning = new CudaTuning(wisdom, device.limits(), table);
    private final CudaOps ops = new CudaOps(device, table, workspace, tuning);
    private final CudaBackend backend = new CudaBackend("emulated", ops, body -> {
        try {
            body.run();
        } finally {
            workspace.reset();
        }
    });

    /**
     * Problems with flash variants (GQA, odd sizes, causal; D 24 is covered by every bound, so its EXHAUSTIVE set
     * holds every variant of the manifest), one only the unfused path serves (D = 300).
     */
    private static final List<TuneRequest> REQUESTS = List.of(
            TuneRequest.attention(AttentionProblem.of(1, 4, 2, 33, 65, 40).withScale(0.2f), Mask.causalTopLeft()),
            TuneRequest.attention(AttentionProblem.of(2, 2, 2, 17, 129, 64), Mask.none()),
            TuneRequest.attention(AttentionProblem.of(1, 2, 2, 19, 37, 24), Mask.causalBottomRight()),
            TuneRequest.attention(AttentionProblem.of(1, 2, 1, 7, 31, 300), Mask.causalBottomRight()));

    private List<CudaTuning.AttentionTunable> tunables(TuneRequest r) {
        return backend.tunables(r).stream().map(t -> (CudaTuning.AttentionTunable) t).toList();
    }

    @Test
    void everyCandidateAgreesWithTheReference() {
        int checked = 0;
        Set<String> variants = new TreeSet<>();
        for (TuneRequest r : REQUESTS) {
            for (CudaTuning.AttentionTunable t : tunables(r)) {
                List<CudaLaunchConfig> all = t.candidates(true);
                assertTrue(all.size() >= 6, r.label() + ": " + all);
                DType dtype = t.problemClass().dtype().equals("f16") ? DType.FLOAT16 : DType.FLOAT32;
                int need = Math.max(r.attention().headDim(), r.attention().valueDim());
                // EXHAUSTIVE: every variant that covers the head dims, each once
                assertEquals(table.flashVariants(dtype, need).size(), all.stream().filter(CudaLaunchConfig::isFused).count(),
                        r.label() + ": " + all);
                t.check(t.estimate());
                for (CudaLaunchConfig c : all) {
                    t.check(c); // throws AssertionError naming the element and the configuration
                    checked++;
                    if (c.isFused()) {
                        variants.add(device.lastFlash());
                    }
                }
            }
        }
        assertTrue(checked > 100, "checked " + checked);
        // every f32 and f16 variant of the manifest was a candidate, launched by its own name
        Set<String> manifest = new TreeSet<>();
        for (KernelTable.Entry e : table.entries().values()) {
            if (e.flash() != null && e.flash().dtype() != DType.BFLOAT16) {
                manifest.add(e.name());
            }
        }
        assertEquals(manifest, variants);
    }

    @Test
    void everyFlashVariantOfTheManifestAgreesWithTheReference() {
        // Sq 19 and Sk 37 are multiples of no block's 4·R rows nor any key tile; D inside the bound, Dv at it
        List<Mask> masks = List.of(Mask.none(), Mask.causalBottomRight(), Mask.slidingWindow(3, 1, Alignment.topLeft()),
                Mask.keyLengths(20, 0));
        int checked = 0;
        for (KernelTable.Entry e : table.entries().values()) {
            KernelTable.Flash f = e.flash();
            if (f == null) {
                continue;
            }
            int d = f.maxHeadDim() - f.maxHeadDim() / 4 + 1;
            AttentionProblem p = new AttentionProblem(2, 4, 2, 19, 37, d, f.maxHeadDim(), (float) (1 / Math.sqrt(d)), 0f);
            CudaLaunchConfig c = CudaLaunchConfig.fused(256, f);
            assertEquals(f.dtype() == DType.FLOAT32 ? masks.size() : 1, checkedMasks(p, f, c, masks), e.name());
            assertEquals(e.name(), device.lastFlash());
            checked++;
        }
        assertTrue(checked >= 36, "variants checked: " + checked);
    }

    /** Each mask at f32, the first otherwise (the storage types share the tile code); the count checked. */
    private int checkedMasks(AttentionProblem p, KernelTable.Flash f, CudaLaunchConfig c, List<Mask> masks) {
        int n = 0;
        for (Mask mask : f.dtype() == DType.FLOAT32 ? masks : masks.subList(0, 1)) {
            Tensor q = CudaTuning.host(CandidateCheck.random(1, Tensor.count(p.qShape())), f.dtype(), p.qShape());
            Tensor k = CudaTuning.host(CandidateCheck.random(2, Tensor.count(p.kShape())), f.dtype(), p.kShape());
            Tensor v = CudaTuning.host(CandidateCheck.random(3, Tensor.count(p.vShape())), f.dtype(), p.vShape());
            Tensor want = Tensor.zeros(p.outShape());
            Tensor wantLse = Tensor.zeros(p.batch(), p.heads(), p.seqQ());
            new ReferenceBackend().attention().attention(p, q, k, v, mask, want, wantLse);
            Tensor got = Tensor.zeros(p.outShape());
            Tensor lse = Tensor.zeros(p.batch(), p.heads(), p.seqQ());
            try {
                ops.attention(p, q, k, v, mask, got, lse, c);
            } finally {
                workspace.reset();
            }
            // FP16 and BF16 outputs are stored rounded (2^-11 and 2^-8 relative)
            double tol = switch (f.dtype()) {
                case FLOAT16 -> 2e-3;
                case BFLOAT16 -> 1e-2;
                default -> 1e-5;
            };
            CandidateCheck.assertClose(c.encode() + " " + f.dtype() + " " + ProblemClass.maskKind(mask), want, got, tol);
            // lse: −∞ for the rows an empty key length hides, where the relative error is not defined
            float[] w = wantLse.toFloatArray();
            float[] g = lse.toFloatArray();
            for (int i = 0; i < w.length; i++) {
                String what = c.encode() + " lse " + ProblemClass.maskKind(mask) + " element " + i;
                if (Float.isInfinite(w[i])) {
                    assertEquals(w[i], g[i], what);
                } else {
                    assertEquals(w[i], g[i], 1e-5 * Math.max(1, Math.abs(w[i])), what);
                }
            }
            n++;
        }
        return n;
    }

    @Test
    void measureCandidatesAreASubsetOfTheExhaustiveOnesAndAllFit() {
        for (TuneRequest r : REQUESTS) {
            for (CudaTuning.AttentionTunable t : tunables(r)) {
                List<CudaLaunchConfig> all = t.candidates(true);
                List<CudaLaunchConfig> plausible = t.candidates(false);
                assertFalse(plausible.isEmpty());
                assertTrue(all.containsAll(plausible), plausible + " not in " + all);
                for (CudaLaunchConfig c : all) {
                    assertNull(c.misfit(r.attention(), DType.FLOAT32, device.limits(), table), c.encode());
                    assertEquals(c, t.decode(t.encode(c)));
                }
            }
        }
    }

    @Test
    void eachCandidateRunsThroughTheBackendWithItsOwnLaunches() {
        AttentionProblem p = AttentionProblem.of(1, 2, 2, 9, 70, 64);
        Mask mask = Mask.causalTopLeft();
        Tensor q = Tensor.of(CandidateCheck.random(1, Tensor.count(p.qShape())), p.qShape());
        Tensor k = Tensor.of(CandidateCheck.random(2, Tensor.count(p.kShape())), p.kShape());
        Tensor v = Tensor.of(CandidateCheck.random(3, Tensor.count(p.vShape())), p.vShape());
        Tensor want = Tensor.zeros(p.outShape());
        new ReferenceBackend().attention().attention(p, q, k, v, mask, want, null);
        CudaTuning.AttentionTunable t = tunables(TuneRequest.attention(p, mask)).get(0);
        for (CudaLaunchConfig c : t.candidates(true)) {
            // the configuration reaches the kernels through the wisdom, as a tuned one does after ./attn4j tune
            wisdom.put(t.problemClass(), new Wisdom.Entry(CudaTuning.BACKEND, c.encode(), 1, 1));
            assertEquals(c, tuning.attention(p, mask, DType.FLOAT32, "bhsd"));
            Tensor got = Tensor.zeros(p.outShape());
            Tensor lse = Tensor.zeros(p.batch(), p.heads(), p.seqQ());
            backend.attention(p, q, k, v, mask, got, lse);
            CandidateCheck.assertClose(c.encode(), want, got, 1e-5);
            if (c.isFused()) {
                assertEquals(table.flashVariant(DType.FLOAT32, c.flashHeadDim(), c.flashKeyTile(), c.flashRowsPerWarp()).name(),
                        device.lastFlash(), c.encode());
            } else {
                assertEquals(c.rowBlock(), device.lastBlock("masked_softmax_rows_f32"), c.encode());
            }
        }
    }

    @Test
    void plannedConfigurationIsRememberedAndUsedByTheKernels() {
        AttentionProblem p = AttentionProblem.of(1, 2, 2, 5, 40, 32);
        Mask mask = Mask.none();
        Map<String, Object> planned = new HashMap<>();
        for (Tunable<?> t : backend.tunables(TuneRequest.attention(p, mask))) {
            Planner.Plan<?> plan = Planner.plan(t, TuningMode.MEASURE, wisdom, 0.2, null);
            planned.put(t.problemClass().key(), plan.config());
            assertFalse(plan.fromWisdom());
            assertTrue(plan.measurements().stream().allMatch(m -> m.failure() == null), plan.measurements().toString());
            Planner.Plan<?> again = Planner.plan(t, TuningMode.MEASURE, wisdom, 0.2, null);
            assertTrue(again.fromWisdom());
            assertEquals(plan.encoded(), again.encoded());
        }
        // a configuration that is not the estimate, written as the planner writes it, is what the kernels take
        CudaTuning.AttentionTunable t = tunables(TuneRequest.attention(p, mask)).get(0);
        CudaLaunchConfig other = CudaLaunchConfig.unfused(64, false);
        assertFalse(other.equals(t.estimate()));
        wisdom.put(t.problemClass(), new Wisdom.Entry(CudaTuning.BACKEND, other.encode(), 1, 2));
        assertEquals(other, tuning.attention(p, mask, DType.FLOAT32, "bhsd"));
        Planner.Plan<?> fromWisdom = Planner.plan(t, TuningMode.MEASURE, wisdom, 0.2, null);
        assertTrue(fromWisdom.fromWisdom());
        assertEquals(other, fromWisdom.config());
        // the problem's class is all that matters: another member of it (Sq 5..8, Sk 33..64) takes the same entry
        assertEquals(other, tuning.attention(p.withSeq(7, 60), mask, DType.FLOAT32, "bhsd"));
        // another storage type is another class: FP16 keeps what its own plan above recorded (the timing
        // on the emulated device may well pick a non-default variant there)
        Object fp16 = planned.get(CudaTuning.attentionClass(p, mask, DType.FLOAT16, "bhsd").key());
        assertNotNull(fp16, "the FP16 class was planned");
        assertEquals(fp16, tuning.attention(p, mask, DType.FLOAT16, "bhsd"));
        // a tile other than the bound's default, as the planner writes it, reaches the launch
        CudaLaunchConfig tile = CudaLaunchConfig.fused(256, table.flashVariant(DType.FLOAT32, 64, 32, 8).flash());
        wisdom.put(t.problemClass(), new Wisdom.Entry(CudaTuning.BACKEND, tile.encode(), 1, 2));
        assertEquals("rows256-flash64n32r8-gemmdefault", tile.encode());
        assertEquals(tile, tuning.attention(p, mask, DType.FLOAT32, "bhsd"));
        backend.attention(p, CudaTuning.host(CandidateCheck.random(1, Tensor.count(p.qShape())), DType.FLOAT32, p.qShape()),
                CudaTuning.host(CandidateCheck.random(2, Tensor.count(p.kShape())), DType.FLOAT32, p.kShape()),
                CudaTuning.host(CandidateCheck.random(3, Tensor.count(p.vShape())), DType.FLOAT32, p.vShape()), mask,
                Tensor.zeros(p.outShape()), null);
        assertEquals("flash_fwd_f32_d64_n32_r8", device.lastFlash());
    }

    @Test
    void wisdomWrittenBeforeTheTileWasAKnobReadsAsTheBoundsDefaultTile() {
        AttentionProblem p = AttentionProblem.of(1, 2, 2, 5, 40, 64);
        CudaTuning.AttentionTunable f32 = tunables(TuneRequest.attention(p, Mask.none())).get(0);
        wisdom.put(f32.problemClass(), new Wisdom.Entry(CudaTuning.BACKEND, "rows128-flash128-gemmdefault", 1, 2));
        CudaLaunchConfig old = tuning.attention(p, Mask.none(), DType.FLOAT32, "bhsd");
        assertEquals(new CudaLaunchConfig(128, 128, 32, 4, false), old);
        Planner.Plan<?> plan = Planner.plan(f32, TuningMode.MEASURE, wisdom, 0.1, null);
        assertTrue(plan.fromWisdom(), "an older entry is read, not measured again");
        assertEquals(old, plan.config());
        // bound 256: its default tile is 16 keys and 2 rows per warp, for every storage type
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT16, DType.BFLOAT16}) {
            assertEquals(new CudaLaunchConfig(32, 256, 16, 2, true),
                    CudaLaunchConfig.decode("rows32-flash256-gemmtensorop", t, table), t.toString());
        }
        assertEquals(CudaLaunchConfig.unfused(48, false), CudaLaunchConfig.decode("rows48-flashnone-gemmdefault", DType.FLOAT16, table));
        // an older bound the manifest lacks is no configuration: the planner measures again, the kernels take ESTIMATE
        wisdom.put(f32.problemClass(), new Wisdom.Entry(CudaTuning.BACKEND, "rows128-flash96-gemmdefault", 1, 2));
        assertEquals(f32.estimate(), tuning.attention(p, Mask.none(), DType.FLOAT32, "bhsd"));
        assertFalse(Planner.plan(f32, TuningMode.MEASURE, wisdom, 0.1, null).fromWisdom());
    }

    @Test
    void aWisdomEntryThatNoLongerFitsIsIgnored() {
        AttentionProblem p = AttentionProblem.of(1, 2, 2, 5, 40, 64);
        CudaTuning.AttentionTunable t = tunables(TuneRequest.attention(p, Mask.none())).get(0);
        for (String token : new String[] {"rows256-flash32-gemmdefault", "rows48-flashnone-gemmdefault", "garbage",
            "rows256-flash32n32r4-gemmdefault", "rows256-flash64n16r4-gemmdefault", "rows256-flash64n32r2-gemmdefault"}) {
            wisdom.put(t.problemClass(), new Wisdom.Entry(CudaTuning.BACKEND, token, 1, 1));
            assertEquals(t.estimate(), tuning.attention(p, Mask.none(), DType.FLOAT32, "bhsd"), token);
            // the planner measures again instead of trusting it
            assertFalse(Planner.plan(t, TuningMode.MEASURE, wisdom, 0.1, null).fromWisdom(), token);
        }
    }

    @Test
    void encodeAndDecodeRejectBadTokens() {
        for (CudaLaunchConfig c : List.of(new CudaLaunchConfig(256, 64, 32, 4, false), CudaLaunchConfig.unfused(32, true),
                new CudaLaunchConfig(1024, 256, 8, 4, false), new CudaLaunchConfig(64, 128, 16, 8, false))) {
            assertEquals(c, CudaLaunchConfig.decode(c.encode(), DType.FLOAT32, table));
        }
        assertEquals("rows128-flashnone-gemmtensorop", CudaLaunchConfig.unfused(128, true).encode());
        assertEquals("rows256-flash256n8r4-gemmdefault", new CudaLaunchConfig(256, 256, 8, 4, false).encode());
        for (String bad : new String[] {"", "rows256", "rows256-flash64", "rows256-flash64-gemmfast",
            "rows-flash64-gemmdefault", "rows256-flash0-gemmdefault", "rows+256-flash64-gemmdefault",
            "rows0-flashnone-gemmdefault", "rows256-flash64-gemmdefault-x", "rows256-flash-1-gemmdefault",
            "bk64-split16-min256-max16-qt4", "rows256-flashNone-gemmdefault", "rows256\t-flash64-gemmdefault",
            "rows256-flash64n32-gemmdefault", "rows256-flash64r4-gemmdefault", "rows256-flash64n32r4x-gemmdefault",
            "rows256-flashn32r4-gemmdefault", "rows256-flash0n32r4-gemmdefault", "rows256-flash64n032r4-gemmdefault",
            "rows256-flash64N32R4-gemmdefault", "rows256-flash64n0r4-gemmdefault", "rows256-flash064-gemmdefault",
            "rows256-flash48-gemmdefault", "rows256-flashnonen32r4-gemmdefault"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> CudaLaunchConfig.decode(bad, DType.FLOAT32, table), bad);
            assertTrue(e.getMessage().contains("not a cuda launch configuration"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new CudaLaunchConfig(256, 0, 32, 4, false));
        assertThrows(IllegalArgumentException.class, () -> new CudaLaunchConfig(256, 64, 0, 4, false));
        // valid tokens that do not fit the problem or the device are rejected by the tunable
        CudaTuning.AttentionTunable t = tunables(TuneRequest.attention(AttentionProblem.of(1, 1, 1, 4, 40, 64), Mask.none())).get(0);
        for (String misfit : new String[] {"rows48-flashnone-gemmdefault", "rows2048-flashnone-gemmdefault",
            "rows256-flash32-gemmdefault", "rows256-flash48-gemmdefault", "rows256-flash32n32r4-gemmdefault",
            "rows256-flash64n16r8-gemmdefault", "rows256-flash256n32r4-gemmdefault"}) {
            assertThrows(IllegalArgumentException.class, () -> t.decode(misfit), misfit);
        }
    }

    @Test
    void estimateFollowsTheDevice() {
        CudaLaunchConfig.Limits a100 = EmulatedDevice.A100;
        // many rows, long keys: the former constant of 8 warps
        assertEquals(256, CudaLaunchConfig.estimate(AttentionProblem.of(4, 32, 32, 512, 4096, 64), DType.FLOAT32, a100, table).rowBlock());
        // decode against a long cache: 32 rows cannot fill 108 SMs, so each row gets the device's maximum
        assertEquals(1024, CudaLaunchConfig.estimate(AttentionProblem.of(1, 32, 8, 1, 8192, 128), DType.FLOAT32, a100, table).rowBlock());
        // short rows: at least 4 keys per thread, at least a warp
        assertEquals(32, CudaLaunchConfig.estimate(AttentionProblem.of(4, 32, 32, 512, 100, 64), DType.FLOAT32, a100, table).rowBlock());
        assertEquals(64, CudaLaunchConfig.estimate(AttentionProblem.of(4, 32, 32, 512, 200, 64), DType.FLOAT32, a100, table).rowBlock());
        // the smallest covering bound at its default tile (key tile 32, 4 rows per warp; 16 and 2 at 256), none past the largest
        assertEquals(new CudaLaunchConfig(32, 64, 32, 4, false),
                CudaLaunchConfig.estimate(AttentionProblem.of(1, 1, 1, 8, 8, 40), DType.FLOAT16, a100, table));
        assertEquals(new CudaLaunchConfig(32, 128, 32, 4, false),
                CudaLaunchConfig.estimate(AttentionProblem.of(1, 1, 1, 8, 8, 65), DType.BFLOAT16, a100, table));
        assertEquals(new CudaLaunchConfig(32, 256, 16, 2, false),
                CudaLaunchConfig.estimate(AttentionProblem.of(1, 1, 1, 8, 8, 200), DType.FLOAT32, a100, table));
        assertEquals(CudaLaunchConfig.unfused(32, false),
                CudaLaunchConfig.estimate(AttentionProblem.of(1, 1, 1, 8, 8, 300), DType.FLOAT32, a100, table));
        // a device with 64-thread blocks caps the row block
        CudaLaunchConfig.Limits tiny = new CudaLaunchConfig.Limits(2, 64, 32);
        assertEquals(64, CudaLaunchConfig.estimate(AttentionProblem.of(1, 1, 1, 1, 8192, 64), DType.FLOAT32, tiny, table).rowBlock());
        assertThrows(IllegalArgumentException.class, () -> new CudaLaunchConfig.Limits(0, 1024, 32));
        assertThrows(IllegalArgumentException.class, () -> new CudaLaunchConfig.Limits(8, 1000, 32));
    }

    @Test
    void everyCandidatePassesOnASmallDeviceToo() {
        // 4 SMs and 512-thread blocks: the candidate set follows the limits
        EmulatedDevice small = new EmulatedDevice(new CudaLaunchConfig.Limits(4, 512, 32));
        Workspace ws = new Workspace(small);
        CudaOps smallOps = new CudaOps(small, table, ws, new CudaTuning(Wisdom.inMemory(Fingerprint.current(0, "small")),
                small.limits(), table));
        CudaBackend b = new CudaBackend("small", smallOps, body -> {
            try {
                body.run();
            } finally {
                ws.reset();
            }
        });
        for (Tunable<?> raw : b.tunables(REQUESTS.get(0))) {
            CudaTuning.AttentionTunable t = (CudaTuning.AttentionTunable) raw;
            for (CudaLaunchConfig c : t.candidates(true)) {
                assertTrue(c.rowBlock() <= 512, c.encode());
                t.check(c);
            }
        }
    }

    @Test
    void backendOffersTheAttentionPathAndItsOwnWisdomFile() {
        assertEquals(2, backend.tunables(REQUESTS.get(1)).size());
        assertEquals(List.of("f32", "f16"), backend.tunables(REQUESTS.get(1)).stream().map(t -> t.problemClass().dtype()).toList());
        assertTrue(backend.tunables(TuneRequest.gemm(64, 64, 64)).isEmpty());
        assertNotNull(backend.wisdom());
        assertEquals(Path.of("/x/wisdom-cuda.txt"), CudaTuning.wisdomFile(Path.of("/x/wisdom.txt")));
        assertEquals(Path.of("/x/w-cuda"), CudaTuning.wisdomFile(Path.of("/x/w")));
    }

    @Test
    void tuningBuffersAreFreedWhenTheNextProblemIsTimed() {
        long before = device.liveBytes();
        List<Tunable<?>> ts = backend.tunables(REQUESTS.get(1));
        runOnce(ts.get(0));
        long one = device.liveBytes();
        assertTrue(one > before);
        runOnce(ts.get(1));
        runOnce(ts.get(0));
        assertEquals(one, device.liveBytes(), "only one representative problem stays resident");
    }

    @SuppressWarnings("unchecked")
    private static <C> void runOnce(Tunable<C> t) {
        t.run(t.estimate());
    }
}
