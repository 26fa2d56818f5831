package dev.attn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every answer of the driver probe, against a stand-in driver (native/src/test/shim/fake_cuda.c, with a SONAME
 * of its own and loaded by path, so that neither a real driver nor the other tests' probe ever meets it).
 */
class DriverProbeTest {
    private static SymbolLookup fake;
    private static MethodHandle configure;

    @BeforeAll
    static void load() throws IOException {
        assumeTrue(CudaBackendProvider.platformProblem(System.getProperty("os.name"), System.getProperty("os.arch")) == null,
                "the stand-in driver is an x86-64 Linux library");
        Path dir = Files.createTempDirectory("attn4j-fake-cuda");
        Path lib = dir.resolve("libattn4j_fake_cuda.so");
        try (InputStream in = DriverProbeTest.class.getClassLoader().getResourceAsStream("attn4j-native-test/libattn4j_fake_cuda.so")) {
            Files.copy(in, lib, StandardCopyOption.REPLACE_EXISTING);
        }
        fake = SymbolLookup.libraryLookup(lib, Arena.global());
        // loaded: the mapping outlives the file (every run had left a directory with the library in /tmp)
        Files.delete(lib);
        Files.delete(dir);
        configure = Linker.nativeLinker().downcallHandle(fake.findOrThrow("fake_cuda_configure"), FunctionDescriptor.ofVoid(
                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    }

    private static DriverProbe.Result probe(int initRc, int version, int count, int cc, int device) throws Throwable {
        configure.invokeExact(initRc, version, count, cc);
        return DriverProbe.probe(fake, device);
    }

    @Test
    void aCuda13DriverWithAnAmpereOrNewerDeviceIsUsable() throws Throwable {
        DriverProbe.Result r = probe(0, 13000, 2, 90, 0);
        assertTrue(r.ok(), r.reason());
        assertEquals("2 device(s), driver CUDA 13.0", r.reason());
    }

    @Test
    void everyRefusalSaysWhy() throws Throwable {
        assertEquals("CUDA unavailable: cuInit(0) failed with CUDA_ERROR_NO_DEVICE (driver 13.0)",
                probe(100, 13000, 0, 90, 0).reason());
        assertEquals("CUDA unavailable: the driver (13.0) reports no device", probe(0, 13000, 0, 90, 0).reason());
        assertEquals("CUDA unavailable: the driver supports CUDA 12.4 but attn4j's kernels are built by nvcc 13 and need a "
                + "CUDA 13 driver (580 or newer)", probe(0, 12040, 1, 90, 0).reason());
        assertEquals("CUDA unavailable: device 0 is sm_75 and attn4j's kernels need sm_80 or newer",
                probe(0, 13000, 1, 75, 0).reason());
        assertEquals("CUDA unavailable: -Dattn4j.cuda.device=3 but the driver reports 2 device(s)",
                probe(0, 13000, 2, 90, 3).reason());
    }

    @Test
    void aMissingDriverIsAReasonNotACrash() {
        assumeTrue(lookupFails(), "this machine has an NVIDIA driver");
        assertEquals("CUDA unavailable: libcuda.so.1 not found (no NVIDIA driver)", DriverProbe.probe(List.of()).reason());
    }

    private static boolean lookupFails() {
        try {
            SymbolLookup.libraryLookup(DriverProbe.LIBCUDA, Arena.global());
            return false;
        } catch (IllegalArgumentException e) {
            return true;
        }
    }
}
