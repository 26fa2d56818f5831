package dev.attn4j.nativekernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The committed shim, loaded for real through the FFM API after a stand-in {@code libcublas.so.13}
 * (src/test/shim/fake_cublas13.c): stubs forward register and stack arguments, absent symbols answer
 * CUBLAS_STATUS_NOT_SUPPORTED, and every symbol of the generated list is exported.
 */
class CublasShimTest {
    private static final Linker LINKER = Linker.nativeLinker();
    private static SymbolLookup shim;

    @BeforeAll
    static void load() throws IOException {
        String os = System.getProperty("os.name", "").toLowerCase();
        String arch = System.getProperty("os.arch", "");
        assumeTrue(os.contains("linux") && (arch.equals("amd64") || arch.equals("x86_64")),
                "the shim is an x86-64 Linux library; this is " + os + "/" + arch);
        Path dir = Files.createTempDirectory("attn4j-shim-test");
        Path fake = extract("attn4j-native-test/libcublas.so.13", dir.resolve("libcublas.so.13"));
        Path lib = extract("attn4j-native/libattn4j_cublas_shim.so", dir.resolve("libattn4j_cublas_shim.so"));
        // the stand-in is loaded first, as CudaLibraries loads the real one: the shim's dlopen("libcublas.so.13")
        // then finds it by SONAME
        SymbolLookup.libraryLookup(fake, Arena.global());
        shim = SymbolLookup.libraryLookup(lib, Arena.global());
        // both loaded: their mappings outlive the files, and the shim's dlopen finds the stand-in by SONAME among
        // the loaded libraries (every run had left a directory with both in /tmp)
        Files.delete(fake);
        Files.delete(lib);
        Files.delete(dir);
    }

    @Test
    void forwardsRegisterAndStackArgumentsToLibcublas13() throws Throwable {
        MethodHandle sgemm = LINKER.downcallHandle(shim.findOrThrow("cublasSgemm_v2"), FunctionDescriptor.of(
                ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment alpha = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 2f);
            MemorySegment a = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 3f);
            MemorySegment b = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 5f);
            MemorySegment beta = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 7f);
            MemorySegment c = arena.allocate(ValueLayout.JAVA_FLOAT);
            // twice: the first call resolves through the trampoline, the second jumps through the filled slot
            for (int call = 0; call < 2; call++) {
                int rc = (int) sgemm.invokeExact(MemorySegment.NULL, 1, 0, 3, 4, 5, alpha, a, 6, b, 7, beta, c, 8);
                // the stand-in encodes every int argument: transa + 2·transb + 4·m + 8·n + 16·k + 32·lda + 64·ldb + 128·ldc
                assertEquals(1 + 4 * 3 + 8 * 4 + 16 * 5 + 32 * 6 + 64 * 7 + 128 * 8, rc, "call " + call);
                assertEquals(2f * 3f * 5f + 7f, c.get(ValueLayout.JAVA_FLOAT, 0), "call " + call);
            }
        }
    }

    @Test
    void absentSymbolsAnswerNotSupported() throws Throwable {
        MethodHandle create = LINKER.downcallHandle(shim.findOrThrow("cublasCreate_v2"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
        try (Arena arena = Arena.ofConfined()) {
            assertEquals(15, (int) create.invokeExact(arena.allocate(ValueLayout.ADDRESS)), "CUBLAS_STATUS_NOT_SUPPORTED");
        }
        MethodHandle status = LINKER.downcallHandle(shim.findOrThrow("cublasGetStatusString"),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        MemorySegment text = ((MemorySegment) status.invokeExact(0)).reinterpret(256);
        assertTrue(text.getString(0).startsWith("CUBLAS_STATUS_NOT_SUPPORTED"), text.getString(0));
    }

    @Test
    void exportsEverySymbolOfTheGeneratedList() throws IOException {
        String def;
        try (InputStream in = Files.newInputStream(Path.of("src/main/shim/cublas_symbols.def"))) {
            def = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Matcher m = Pattern.compile("^A4J_CUBLAS\\((\\w+)\\)$", Pattern.MULTILINE).matcher(def);
        List<String> missing = new ArrayList<>();
        int count = 0;
        while (m.find()) {
            count++;
            if (shim.find(m.group(1)).isEmpty()) {
                missing.add(m.group(1));
            }
        }
        assertTrue(count > 400, "cublas_symbols.def lists " + count + " symbols; JCublas2 12.6 imports 494");
        assertEquals(List.of(), missing, "symbols of cublas_symbols.def the shim does not export");
    }

    private static Path extract(String resource, Path target) throws IOException {
        try (InputStream in = CublasShimTest.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("resource " + resource + " is missing: rebuild with ./mvnw -Pnvcc -pl native package");
            }
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
        return target;
    }
}
