package dev.attn4j.tune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The wisdom file: round trip, corrupt / foreign / stale files, concurrent writers, unwritable places. */
class WisdomTest {
    static final Fingerprint HERE = new Fingerprint("Test CPU", 512, 2, "25 Test", "none", "0.1.0-SNAPSHOT");
    static final Fingerprint ELSEWHERE = new Fingerprint("Other CPU", 256, 8, "25 Test", "none", "0.1.0-SNAPSHOT");

    static ProblemClass problem(int headDim) {
        return new ProblemClass("attention", "f32", headDim, 512, 512, "causal", "bhsd");
    }

    @TempDir
    Path dir;

    @Test
    void roundTripAndExportImport() throws IOException {
        Path file = dir.resolve("w/wisdom.txt");
        Wisdom w = Wisdom.open(file, HERE);
        w.put(problem(64), new Wisdom.Entry("simd", "q32k64", 1000, 1500));
        assertTrue(Files.exists(file));
        Wisdom again = Wisdom.open(file, HERE);
        assertEquals("q32k64", again.get("simd", problem(64)).config());
        assertEquals(1.5, again.get("simd", problem(64)).speedup(), 1e-12);
        assertNull(again.get("cuda", problem(64)));
        again.remove("simd", problem(64));
        assertNull(Wisdom.open(file, HERE).get("simd", problem(64)), "forgotten in the file too");
        again.put(problem(64), new Wisdom.Entry("simd", "q32k64", 1000, 1500));
        assertNull(again.lastWarning());
        Path exported = dir.resolve("export/shipped.txt");
        again.exportTo(exported);
        Wisdom fresh = Wisdom.open(dir.resolve("other/wisdom.txt"), HERE);
        assertEquals(1, fresh.importFrom(exported));
        assertEquals("q32k64", fresh.get("simd", problem(64)).config());
        Wisdom foreign = Wisdom.open(dir.resolve("foreign/wisdom.txt"), ELSEWHERE);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> foreign.importFrom(exported));
        assertTrue(e.getMessage().contains("foreign"), e.getMessage());
    }

    private void assertIgnoredThenRewritten(String content, String why) throws IOException {
        Path file = dir.resolve(why + ".txt");
        Files.writeString(file, content, StandardCharsets.UTF_8);
        Wisdom w = Wisdom.open(file, HERE);
        assertTrue(w.entries().isEmpty(), why + " entries must not be trusted");
        assertNotNull(w.lastWarning());
        assertTrue(w.lastWarning().contains(why), w.lastWarning());
        w.put(problem(128), new Wisdom.Entry("simd", "q64k64", 10, 20));
        Wisdom after = Wisdom.open(file, HERE);
        assertNull(after.lastWarning(), "the file was rewritten in the current format");
        assertEquals(1, after.entries().size());
    }

    @Test
    void corruptFileIsIgnoredWithOneWarningAndRewritten() throws IOException {
        assertIgnoredThenRewritten("\u0000\u0001garbage\n", "corrupt");
        assertIgnoredThenRewritten("attn4j-wisdom\t1\nfingerprint\t" + HERE.key() + "\nattention/f32/d64/q512/k512/causal/bhsd\tsimd\n",
                "corrupt");
        assertIgnoredThenRewritten("attn4j-wisdom\t1\nfingerprint\t" + HERE.key()
                + "\nattention/f32/d64/q512/k512/causal/bhsd\tsimd\tq32\tNaN\t5\n", "corrupt");
    }

    @Test
    void foreignFingerprintIsIgnored() throws IOException {
        assertIgnoredThenRewritten("attn4j-wisdom\t1\nfingerprint\t" + ELSEWHERE.key()
                + "\nattention/f32/d64/q512/k512/causal/bhsd\tsimd\tq32k64\t5\t6\n", "foreign");
    }

    @Test
    void staleVersionIsIgnored() throws IOException {
        assertIgnoredThenRewritten("attn4j-wisdom\t0\nfingerprint\t" + HERE.key() + "\n", "stale");
    }

    @Test
    void unwritableLocationFallsBackToMemory() throws IOException {
        Path notADirectory = dir.resolve("plain-file");
        Files.writeString(notADirectory, "x");
        Wisdom w = Wisdom.open(notADirectory.resolve("wisdom.txt"), HERE);
        w.put(problem(64), new Wisdom.Entry("simd", "q32k64", 1000, 1500));
        assertTrue(w.isMemoryOnly());
        assertTrue(w.lastWarning().contains("stay in memory"), w.lastWarning());
        assertEquals("q32k64", w.get("simd", problem(64)).config(), "still remembered in memory");
        w.put(problem(32), new Wisdom.Entry("simd", "q16k64", 1000, 1500));
        assertEquals(2, w.entries().size());
    }

    @Test
    void twoProcessesWritingAtOnceLoseNothing() throws Exception {
        Path file = dir.resolve("shared/wisdom.txt");
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<Process> writers = new ArrayList<>();
        for (int id = 0; id < 2; id++) {
            writers.add(new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), WisdomWriter.class.getName(),
                    file.toString(), Integer.toString(id), "25").redirectErrorStream(true).start());
        }
        for (Process p : writers) {
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "writer finished");
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), out);
        }
        Wisdom w = Wisdom.open(file, HERE);
        assertNull(w.lastWarning(), "the file is well-formed");
        assertEquals(50, w.entries().size(), "every entry of both writers survived");
        assertFalse(w.isMemoryOnly());
    }

    /** A child process that writes {@code count} entries of its own, one save per entry. */
    public static final class WisdomWriter {
        private WisdomWriter() {
        }

        /** args: file, writer id, count. */
        public static void main(String[] args) {
            Wisdom w = Wisdom.open(Path.of(args[0]), HERE);
            int id = Integer.parseInt(args[1]);
            int count = Integer.parseInt(args[2]);
            for (int n = 0; n < count; n++) {
                w.put(new ProblemClass("attention", "f32", 1 + n, 64 << id, 64, "none", "bhsd"),
                        new Wisdom.Entry("simd", "w" + id + "n" + n, 100 + n, 200 + n));
            }
        }
    }
}
