package dev.attn4j.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * {@link HeapAlignment}'s guess checked against the real address: a critical downcall may take a heap
 * segment, and C's {@code memset(p, 0, 0)} returns p unchanged, so the test sees where the array lies.
 */
class HeapAlignmentTest {

    private static long addressOf(float[] a) throws Throwable {
        Linker linker = Linker.nativeLinker();
        MethodHandle memset = linker.downcallHandle(linker.defaultLookup().find("memset").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_LONG),
                Linker.Option.critical(true));
        return ((MemorySegment) memset.invokeExact(MemorySegment.ofArray(a), 0, 0L)).address();
    }

    private static boolean g1() {
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc.getName().startsWith("G1")) {
                return true;
            }
        }
        return false;
    }

    @Test
    void largeArraysUnderG1AreWhereTheGuessSays() throws Throwable {
        for (int floats : new int[] {16 << 20, 9 << 20, (32 << 20) + 5}) {
            float[] a = new float[floats];
            int residue = HeapAlignment.lineResidue(a);
            if (g1()) {
                assertTrue(residue >= 0, "a " + floats * 4L + "-byte array under G1 is humongous");
            }
            if (residue >= 0) {
                long address = addressOf(a);
                assertEquals(0, (address + 4L * residue) % 64,
                        "element " + residue + " of an array at 0x" + Long.toHexString(address) + " begins a line");
            }
        }
    }

    @Test
    void smallArraysAreUnknown() {
        assertEquals(-1, HeapAlignment.lineResidue(new float[1000]));
        assertEquals(-1, HeapAlignment.lineResidue(null));
    }
}
