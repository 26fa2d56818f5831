package dev.attn4j.simd;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;

/**
 * Which elements of a heap {@code float[]} begin a 64-byte cache line, where the JVM makes that knowable.
 * Java gives no address of a heap array, but G1 (the default collector) places an array of more than half a
 * region ("humongous") at the start of a region, so with the default object layout (a 16-byte array header:
 * compressed class pointers, no compact object headers) element i of such an array begins a line when
 * 16 + 4·i ≡ 0 (mod 64), that is i ≡ 12 (mod 16). Every other case (smaller arrays, other collectors or
 * layouts, no {@code jdk.management} module) is "unknown".
 *
 * <p>It matters because a 512-bit load that straddles two lines costs about twice an aligned one, and a KV
 * cache of [B, H, S, 128] floats in a humongous array has every row start at element ≡ 0, four floats past
 * a line: every V load of the decode straddles. A kernel that uses this answer must give the same bits
 * whatever it is (a wrong answer may only cost speed): see {@code DecodeBlocks.accumulate4}.
 * {@code -Dattn4j.simd.heapAlignment=false} turns it off.
 */
final class HeapAlignment {
    private static final System.Logger LOG = System.getLogger("dev.attn4j.simd");
    /** Elements of a line-aligned humongous float array: i ≡ LINE_RESIDUE (mod 16) begin a line. */
    private static final int LINE_RESIDUE = 12;
    /** The array header before element 0 in the default layout. */
    private static final long HEADER_BYTES = 16;

    private HeapAlignment() {
    }

    /** Decided once, on first use (the management beans load a native library). */
    private static final class Layout {
        /** Arrays of more bytes than this are humongous; Long.MAX_VALUE where that is not known. */
        static final long HUMONGOUS_ABOVE = humongousAbove();

        private static long humongousAbove() {
            if (!Boolean.parseBoolean(System.getProperty("attn4j.simd.heapAlignment", "true"))) {
                return Long.MAX_VALUE;
            }
            try {
                return VmFlags.humongousAbove();
            } catch (RuntimeException | LinkageError e) {
                // no java.management / jdk.management module (VmFlags then fails to link), or a VM without
                // these options: plain loads, the same results
                LOG.log(System.Logger.Level.DEBUG, "attn4j: heap array alignment unknown", e);
                return Long.MAX_VALUE;
            }
        }
    }

    /** Every use of the management modules, in a class of its own so that their absence is caught above. */
    private static final class VmFlags {
        static long humongousAbove() {
            HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            boolean g1 = flag(vm, "UseG1GC");
            boolean compressedClassPointers = flag(vm, "UseCompressedClassPointers");
            boolean compactHeaders = flag(vm, "UseCompactObjectHeaders");
            long region = Long.parseLong(vm.getVMOption("G1HeapRegionSize").getValue());
            if (g1 && compressedClassPointers && !compactHeaders && region > 0) {
                return region / 2;
            }
            LOG.log(System.Logger.Level.DEBUG, () -> "attn4j: heap array alignment unknown (G1 " + g1
                    + ", compressed class pointers " + compressedClassPointers + ", compact headers "
                    + compactHeaders + ")");
            return Long.MAX_VALUE;
        }

        private static boolean flag(HotSpotDiagnosticMXBean vm, String name) {
            try {
                return Boolean.parseBoolean(vm.getVMOption(name).getValue());
            } catch (IllegalArgumentException unknownOption) {
                return false;
            }
        }
    }

    /**
     * The residue r such that the elements i ≡ r (mod 16) of {@code a} begin a 64-byte line, or −1 where it is
     * not known. Cheap after the first call: a length comparison.
     */
    static int lineResidue(float[] a) {
        return a != null && HEADER_BYTES + 4L * a.length > Layout.HUMONGOUS_ABOVE ? LINE_RESIDUE : -1;
    }
}
