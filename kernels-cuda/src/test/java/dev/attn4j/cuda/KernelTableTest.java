package dev.attn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.attn4j.api.DType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The manifest as the Java side reads it, against the launch sites and the shipped binaries. */
class KernelTableTest {
    private final KernelTable table = KernelTable.load();

    @Test
    void everyLaunchSiteNamesAManifestKernel() throws IOException {
        List<String> launched = new ArrayList<>();
        for (String file : new String[] {"CudaOps.java", "CudaClassicOps.java"}) {
            Path source = Path.of("src/main/java/dev/attn4j/cuda", file);
            assumeTrue(Files.isRegularFile(source), "the module's sources are not here (a run from the bundle)");
            Matcher m = Pattern.compile("launch\\(\"(\\w+)\"").matcher(Files.readString(source));
            while (m.find()) {
                launched.add(m.group(1));
                assertNotNull(table.entries().get(m.group(1)), file + " launches " + m.group(1) + ", absent from kernels.def");
            }
        }
        assertTrue(launched.size() >= 17, "launch sites found: " + launched);
        for (KernelTable.Entry e : table.entries().values()) {
            assertTrue(e.flash() != null || launched.contains(e.name()), "kernels.def lists " + e.name() + " but nothing launches it");
        }
    }

    @Test
    void flashVariantsCoverEveryStorageTypeUpTo256AndFitStaticSharedMemory() {
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT16, DType.BFLOAT16}) {
            for (int d : new int[] {1, 8, 32, 33, 40, 59, 64, 65, 80, 111, 128, 129, 256}) {
                KernelTable.Entry e = table.flashFor(t, d, d);
                assertNotNull(e, t + " d=" + d);
                assertTrue(e.flash().maxHeadDim() >= d);
                assertTrue(e.flash().maxHeadDim() / 2 < d || e.flash().maxHeadDim() == 32, "smallest variant for d=" + d);
            }
            assertNull(table.flashFor(t, 257, 64), "head dims past 256 take the unfused path");
            assertEquals(table.flashFor(t, 64, 128), table.flashFor(t, 128, 128), "the larger of D and Dv decides");
        }
        Map<DType, Set<String>> tiles = new EnumMap<>(DType.class);
        for (KernelTable.Entry e : table.entries().values()) {
            if (e.flash() != null) {
                KernelTable.Flash f = e.flash();
                long smem = 4L * (f.blockRows() * f.maxHeadDim() + f.keyTile() * (2L * f.maxHeadDim() + 1));
                assertEquals(smem, f.sharedBytes(), e.name());
                assertTrue(smem <= 48 * 1024, e.name() + " needs " + smem + " bytes of static shared memory");
                assertTrue(f.keyTile() <= 32 && f.keyTile() > 0 && f.rowsPerWarp() > 0, "one key per lane: " + e.name());
                assertEquals(39, e.signature().length(), e.name());
                assertEquals("flash_fwd_" + CudaTuning.label(f.dtype()) + "_" + f.tile(), e.name(), "the name says the tile");
                tiles.computeIfAbsent(f.dtype(), t -> new TreeSet<>()).add(f.tile());
            }
        }
        // the same tiles for every storage type; more than one per bound, and a bounded count (the fatbin's size)
        assertEquals(tiles.get(DType.FLOAT32), tiles.get(DType.FLOAT16));
        assertEquals(tiles.get(DType.FLOAT32), tiles.get(DType.BFLOAT16));
        for (int bound : new int[] {32, 64, 128, 256}) {
            assertTrue(table.flashVariants(DType.FLOAT32, bound).stream().filter(e -> e.flash().maxHeadDim() == bound).count() >= 3,
                    "tiles of bound " + bound + ": " + tiles.get(DType.FLOAT32));
        }
        assertTrue(tiles.get(DType.FLOAT32).size() <= 12, "variants per storage type: " + tiles.get(DType.FLOAT32));
    }

    @Test
    void eachBoundsDefaultTileIsTheShapeItHadBeforeTheTileWasAKnob() {
        for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT16, DType.BFLOAT16}) {
            assertEquals("d32_n32_r4", table.flashDefault(t, 32).flash().tile());
            assertEquals("d64_n32_r4", table.flashDefault(t, 64).flash().tile());
            assertEquals("d128_n32_r4", table.flashDefault(t, 128).flash().tile());
            assertEquals("d256_n16_r2", table.flashDefault(t, 256).flash().tile());
            assertNull(table.flashDefault(t, 96));
            assertEquals(table.flashDefault(t, 128), table.flashFor(t, 100, 65));
            // covering variants: ascending bound, each bound's default first
            List<KernelTable.Entry> covering = table.flashVariants(t, 100);
            assertEquals(List.of(128, 128, 128, 256, 256, 256), covering.stream().map(e -> e.flash().maxHeadDim()).toList());
            assertEquals(table.flashDefault(t, 128), covering.get(0));
            assertEquals(table.flashDefault(t, 256), covering.get(3));
            assertTrue(table.flashVariants(t, 257).isEmpty());
        }
        // the rule on a manifest of its own: the largest key tile, then the most rows per warp up to 4
        KernelTable t = KernelTable.parse("#define SIG \"p\"\n"
                + "A4J_FLASH(a, float, 64, 16, 4, SIG)\nA4J_FLASH(b, float, 64, 32, 8, SIG)\n"
                + "A4J_FLASH(c, float, 64, 32, 1, SIG)\nA4J_FLASH(d, float, 64, 32, 2, SIG)  // 4 B\n");
        assertEquals("d", t.flashDefault(DType.FLOAT32, 64).name());
        assertEquals(List.of("d", "a", "b", "c"), t.flashVariants(DType.FLOAT32, 1).stream().map(KernelTable.Entry::name).toList());
        assertEquals("b", t.flashVariant(DType.FLOAT32, 64, 32, 8).name());
        assertNull(t.flashVariant(DType.FLOAT32, 64, 16, 8));
    }

    @Test
    void signaturesOfTheFixedKernels() {
        assertEquals("pipiiiiiiilllllllllllll", table.get("convert_strided").signature());
        assertEquals("ppiiiiffippppllllpllll", table.get("masked_softmax_rows_f32").signature());
    }

    @Test
    void argumentsThatDoNotSpellTheSignatureAreRefused() {
        KernelArgs a = new KernelArgs().p(1).p(2).l(3);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> a.check(table.get("gelu_f32")));
        assertEquals("kernel gelu_f32 takes (ppli) per kernels.def but the launch passes (ppl)", e.getMessage());
        new KernelArgs().p(1).p(2).l(3).i(0).check(table.get("gelu_f32"));
    }

    @Test
    void malformedManifestsAreRejectedWithTheLine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KernelTable.parse("// x\nA4J_KERNEL(a, \"pq\")\n"));
        assertTrue(e.getMessage().startsWith("kernels.def line 2: kernel a has no valid signature"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> KernelTable.parse("A4J_KERNEL(a, \"p\")\nA4J_KERNEL(a, \"p\")\n"));
        assertEquals("kernels.def line 2: kernel a is listed twice", e.getMessage());
        KernelTable t = KernelTable.parse("#define SIG \"pp\" \"i\"\nA4J_FLASH(f, __half, 64, 32, 4, SIG)\n");
        assertEquals(new KernelTable.Entry("f", "ppi", new KernelTable.Flash(DType.FLOAT16, 64, 32, 4)), t.get("f"));
    }

    @Test
    void fatbinHoldsSassForEveryTargetAndComputePtx() {
        ByteBuffer fatbin = ByteBuffer.wrap(NativeResources.read(NativeResources.FATBIN)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0xBA55ED50, fatbin.getInt(0), "fatbin magic");
        int headerSize = Short.toUnsignedInt(fatbin.getShort(6));
        long end = headerSize + fatbin.getLong(8);
        List<String> entries = new ArrayList<>();
        // each entry: kind (1 PTX, 2 ELF) at +0, its header size at +4, payload size at +8, the sm at +28
        for (long at = headerSize; at < end; ) {
            int kind = Short.toUnsignedInt(fatbin.getShort((int) at));
            entries.add((kind == 1 ? "compute_" : "sm_") + fatbin.getInt((int) at + 28));
            at += fatbin.getInt((int) at + 4) + fatbin.getLong((int) at + 8);
        }
        assertEquals(List.of("compute_80", "sm_80", "sm_86", "sm_89", "sm_90", "sm_100", "sm_120"), entries);
    }

    @Test
    void shippedBinariesAreSmall() {
        int fatbin = NativeResources.read(NativeResources.FATBIN).length;
        int shim = NativeResources.read(NativeResources.SHIM).length;
        assertTrue(fatbin > 100_000 && fatbin < 3 << 20, "fatbin is " + fatbin + " bytes");
        assertTrue(shim < 1 << 20, "shim is " + shim + " bytes");
        assertNull(NativeResources.problem());
    }
}
