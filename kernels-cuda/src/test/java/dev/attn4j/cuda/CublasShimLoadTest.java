package dev.attn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;

/**
 * The point of the shim, without CUDA: once it is loaded, JCublas2's JNI library (from the jcublas-natives
 * jar), which links {@code libcublas.so.12}, loads, every import bound to the shim's version node (the C
 * check check_jcublas2_links.c, run by the -Pnvcc build, also loads it with RTLD_NOW).
 */
class CublasShimLoadTest {

    @Test
    void jcublas2LoadsAgainstTheShim() throws IOException {
        assumeTrue(CudaBackendProvider.platformProblem(System.getProperty("os.name"), System.getProperty("os.arch")) == null,
                "JCublas2's natives and the shim are linux-x86_64 libraries");
        Path shim = NativeResources.extractShim();
        String jni = "lib/libJCublas2-12.6.0-linux-x86_64.so";
        Path dir = Files.createTempDirectory("attn4j-jcublas2-test");
        Path lib = dir.resolve("libJCublas2.so");
        try {
            try (InputStream in = getClass().getClassLoader().getResourceAsStream(jni)) {
                assumeTrue(in != null, "the jcublas-natives jar is on the test class path");
                Files.copy(in, lib, StandardCopyOption.REPLACE_EXISTING);
            }
            // the order CudaRuntime uses when only CUDA 13 is installed: (cublasLt 13, cuBLAS 13,) the shim, JCublas2
            System.load(shim.toString());
            assertDoesNotThrow(() -> System.load(lib.toString()), "JCublas2 must link against the shim's libcublas.so.12");
        } finally {
            NativeResources.discard(shim);
            Files.deleteIfExists(lib);
            Files.deleteIfExists(dir);
        }
    }

    /** The extracted shim sits alone in a private directory, and {@link NativeResources#discard} removes both. */
    @Test
    void extractedShimIsDiscardedWithItsDirectory() throws IOException {
        assumeTrue(NativeResources.problem() == null, "the native jar is on the class path");
        Path shim = NativeResources.extractShim();
        Path dir = shim.getParent();
        assertTrue(Files.size(shim) > 0, "the shim's bytes were copied");
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "only the shim in " + dir);
        }
        if (Files.getFileStore(dir).supportsFileAttributeView("posix")) {
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        }
        NativeResources.discard(shim);
        assertFalse(Files.exists(shim), "the shim is deleted");
        assertFalse(Files.exists(dir), "its directory is deleted");
        NativeResources.discard(shim); // a second time: nothing left to do, no failure
    }
}
