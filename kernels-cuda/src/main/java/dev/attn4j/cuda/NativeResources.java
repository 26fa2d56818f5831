package dev.attn4j.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The {@code native} module's class-path resources under {@code attn4j-native/}: the kernels' fatbin
 * (loaded with {@code cuModuleLoadData}), the kernel manifest, the cuBLAS shim and the hash of their
 * sources. They live in a directory that is not a Java package so that every module can read them.
 */
final class NativeResources {
    static final String DIR = "attn4j-native/";
    static final String FATBIN = DIR + "attn4j_kernels.fatbin";
    static final String MANIFEST = DIR + "kernels.def";
    static final String SHIM = DIR + "libattn4j_cublas_shim.so";
    static final String HASH = DIR + "sources.sha256";

    private NativeResources() {
    }

    /** Why the resources cannot be used (one sentence), or null when they are all there. */
    static String problem() {
        for (String name : new String[] {FATBIN, MANIFEST, SHIM, HASH}) {
            if (loader().getResource(name) == null) {
                return "CUDA unavailable: the class-path resource " + name
                        + " is missing (is attn4j's native jar on the class path?)";
            }
        }
        return null;
    }

    /** The bytes of a resource. */
    static byte[] read(String name) {
        try (InputStream in = loader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("class-path resource " + name + " is missing");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading class-path resource " + name, e);
        }
    }

    /** The text of a resource (UTF-8). */
    static String text(String name) {
        return new String(read(name), StandardCharsets.UTF_8);
    }

    /**
     * Copies the shim to a private temporary directory and returns its path. {@link #discard} removes both once
     * the shim is loaded; they are also deleted at exit, the file before its directory (the exit hook deletes in
     * the reverse order of registration: registered the other way round, every JVM left an empty directory behind).
     */
    static Path extractShim() {
        try {
            Path dir = Files.createTempDirectory("attn4j-cuda-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            dir.toFile().deleteOnExit();
            Path shim = dir.resolve("libattn4j_cublas_shim.so");
            shim.toFile().deleteOnExit();
            try (InputStream in = loader().getResourceAsStream(SHIM)) {
                if (in == null) {
                    throw new IllegalStateException("class-path resource " + SHIM + " is missing");
                }
                Files.copy(in, shim, StandardCopyOption.REPLACE_EXISTING);
            }
            return shim;
        } catch (IOException e) {
            throw new UncheckedIOException("extracting " + SHIM, e);
        }
    }

    /**
     * Deletes an extracted shim and its directory now: a loaded library stays mapped after its file is gone (on
     * Linux, the one platform the shim is built for). What cannot be deleted is left to the exit hook.
     */
    static void discard(Path shim) {
        try {
            Files.deleteIfExists(shim);
            Files.deleteIfExists(shim.getParent());
        } catch (IOException e) {
            System.getLogger("dev.attn4j.cuda").log(System.Logger.Level.DEBUG,
                    "attn4j: " + shim + " stays until exit: " + e.getMessage());
        }
    }

    private static ClassLoader loader() {
        ClassLoader cl = NativeResources.class.getClassLoader();
        return cl != null ? cl : ClassLoader.getSystemClassLoader();
    }
}
