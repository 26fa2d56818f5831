package dev.attn4j.ci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The conformance runner end to end: real cases when the shared folder exists, generated ones always. */
class ParityRunnerTest {
    private static final System.Logger LOG = System.getLogger(ParityRunnerTest.class.getName());

    private static final class Captured {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

        List<String> lines() {
            return bytes.toString(StandardCharsets.UTF_8).lines().toList();
        }
    }

    private static ParityRunner.Summary run(Captured c, List<Path> roots, String backends) {
        return new ParityRunner(c.out).run(roots, ParityRunner.resolveBackends(backends));
    }

    /** Every line but the last is a PASS/FAIL line; the last is the summary; the counts add up. */
    private static void assertWellFormed(Captured c, ParityRunner.Summary s) {
        List<String> lines = c.lines();
        assertEquals("parity: " + s.passed() + " passed, " + s.failed() + " failed", lines.getLast());
        List<String> body = lines.subList(0, lines.size() - 1);
        assertEquals(s.passed() + s.failed(), body.size());
        assertEquals(s.passed(), body.stream().filter(l -> l.startsWith("PASS  ")).count());
        assertEquals(s.failed(), body.stream().filter(l -> l.startsWith("FAIL  ")).count());
    }

    private static String failures(ParityRunner.Summary s) {
        StringBuilder sb = new StringBuilder();
        s.outcomes().stream().filter(o -> !o.passed()).forEach(o -> sb.append('\n').append(o.line()));
        return sb.toString();
    }

    @Test
    void sharedConformanceFoldersPassOnTheReferenceBackend(@TempDir Path tmp) throws IOException {
        List<Path> roots = new ArrayList<>();
        Path onnx = ConformanceData.onnxFolder();
        if (onnx != null) {
            roots.add(onnx);
            Path stress = ConformanceData.stressFolder();
            if (stress != null) {
                roots.add(stress);
            }
        } else {
            LOG.log(System.Logger.Level.WARNING, "no shared conformance folder (../../shared/conformance from "
                    + System.getProperty("basedir") + "): running the generated cases instead");
            GeneratedCases.writeAll(tmp);
            roots.add(tmp);
        }
        int expected = 0;
        for (Path r : roots) {
            expected += ParityRunner.findCases(r).size();
        }
        assertTrue(expected > 0, "no case found under " + roots);
        Captured c = new Captured();
        ParityRunner.Summary s = run(c, roots, "reference");
        assertWellFormed(c, s);
        assertEquals(0, s.failed(), "failures:" + failures(s));
        assertEquals(expected, s.passed());
        assertEquals(0, s.exitCode());
    }

    @Test
    void generatedCasesPassOnTheReferenceBackend(@TempDir Path tmp) throws IOException {
        List<Path> dirs = GeneratedCases.writeAll(tmp);
        Captured c = new Captured();
        ParityRunner.Summary s = run(c, List.of(tmp), "reference");
        assertWellFormed(c, s);
        assertEquals(0, s.failed(), "failures:" + failures(s));
        assertEquals(dirs.size(), s.passed());
    }

    @Test
    void everyAvailableBackendRunsEveryCase(@TempDir Path tmp) throws IOException {
        GeneratedCases.softmax(tmp);
        List<String> all = ParityRunner.resolveBackends("all");
        assertTrue(all.contains("reference"));
        Captured c = new Captured();
        ParityRunner.Summary s = new ParityRunner(c.out).run(List.of(tmp), all);
        assertWellFormed(c, s);
        assertEquals(all.size(), s.passed() + s.failed());
    }

    @Test
    void aWrongExpectedValueFailsWithTheElementAndTheTolerance(@TempDir Path tmp) throws IOException {
        Path dir = GeneratedCases.softmax(tmp);
        Npy.Array y = Npy.read(dir.resolve("output_0.npy"));
        float[] bad = y.toFloats();
        bad[5] += 1e-3f;
        Npy.writeFloat32(dir.resolve("output_0.npy"), bad, y.shape());
        ParityRunner.Outcome o = ParityRunner.runOne(dir, "reference");
        assertFalse(o.passed());
        assertTrue(o.line().startsWith("FAIL  reference  gen_softmax_axis1  max_err=1.0"), o.line());
        assertTrue(o.reason().contains("y[0, 2, 1]: got") && o.reason().contains("tolerance 1e-05"), o.reason());
    }

    @Test
    void aSmallErrorWithinToleranceStillPasses(@TempDir Path tmp) throws IOException {
        Path dir = GeneratedCases.softmax(tmp);
        Npy.Array y = Npy.read(dir.resolve("output_0.npy"));
        float[] close = y.toFloats();
        close[5] += 5e-6f;
        Npy.writeFloat32(dir.resolve("output_0.npy"), close, y.shape());
        ParityRunner.Outcome o = ParityRunner.runOne(dir, "reference");
        assertTrue(o.passed(), o.line());
        assertTrue(o.maxError() > 4e-6 && o.maxError() < 6e-6, o.line());
    }

    @Test
    void nanNeverPasses(@TempDir Path tmp) throws IOException {
        Path dir = GeneratedCases.softmax(tmp);
        Npy.Array y = Npy.read(dir.resolve("output_0.npy"));
        float[] nan = y.toFloats();
        nan[0] = Float.NaN;
        Npy.writeFloat32(dir.resolve("output_0.npy"), nan, y.shape());
        ParityRunner.Outcome o = ParityRunner.runOne(dir, "reference");
        assertFalse(o.passed());
        assertTrue(o.reason().contains("NaN never passes"), o.reason());
    }

    @Test
    void mismatchedInfinitiesFail(@TempDir Path tmp) throws IOException {
        Path dir = GeneratedCases.attention3dGqaCausalBoolMaskPast(tmp);
        // output_3 is qk_matmul_output in mode 2: masked entries are −∞ and compare equal to −∞ only
        Npy.Array qk = Npy.read(dir.resolve("output_3.npy"));
        float[] v = qk.toFloats();
        int inf = -1;
        for (int i = 0; i < v.length && inf < 0; i++) {
            if (v[i] == Float.NEGATIVE_INFINITY) {
                inf = i;
            }
        }
        assertTrue(inf >= 0, "the generated mode-2 scores must hold -inf");
        assertTrue(ParityRunner.runOne(dir, "reference").passed());
        v[inf] = -1e30f;
        Npy.writeFloat32(dir.resolve("output_3.npy"), v, qk.shape());
        ParityRunner.Outcome o = ParityRunner.runOne(dir, "reference");
        assertFalse(o.passed());
        assertTrue(o.reason().contains("qk_matmul_output[") && o.reason().contains("infinities must match"), o.reason());
    }

    @Test
    void anUnknownOpIsAFailureNotASkip(@TempDir Path tmp) throws IOException {
        Path dir = new CaseWriter("gen_conv", "Conv", 11).nodeInputs("x").nodeOutputs("y")
                .input("x", new float[] {1f}, 1).output("y", new float[] {1f}, 1).write(tmp);
        ParityRunner.Outcome o = ParityRunner.runOne(dir, "reference");
        assertFalse(o.passed());
        assertTrue(o.reason().contains("unknown op_type 'Conv'"), o.reason());
    }

    @Test
    void anUnsupportedAttributeIsAFailureWithTheReason(@TempDir Path tmp) throws IOException {
        Path dir = new CaseWriter("gen_gelu_bad", "Gelu", 20).attr("approximate", "cubic").nodeInputs("x").nodeOutputs("y")
                .input("x", new float[] {1f}, 1).output("y", new float[] {1f}, 1).write(tmp);
        ParityRunner.Outcome o = ParityRunner.runOne(dir, "reference");
        assertFalse(o.passed());
        assertTrue(o.reason().contains("not expressible: Gelu approximate must be 'none' or 'tanh'"), o.reason());
    }

    @Test
    void aShapeTheApiRejectsIsAFailureWithItsMessage(@TempDir Path tmp) throws IOException {
        // 4 query heads over 3 kv heads: not a grouped-query layout
        Path dir = new CaseWriter("gen_attention_bad_heads", "Attention", 23).nodeInputs("Q", "K", "V").nodeOutputs("Y")
                .input("Q", new float[4 * 2 * 2], 1, 4, 2, 2).input("K", new float[3 * 2 * 2], 1, 3, 2, 2)
                .input("V", new float[3 * 2 * 2], 1, 3, 2, 2).output("Y", new float[4 * 2 * 2], 1, 4, 2, 2).write(tmp);
        ParityRunner.Outcome o = ParityRunner.runOne(dir, "reference");
        assertFalse(o.passed());
        assertTrue(o.reason().contains("heads (4) must be a multiple of kvHeads (3)"), o.reason());
    }

    @Test
    void aMissingOutputShapeMismatchFails(@TempDir Path tmp) throws IOException {
        Path dir = new CaseWriter("gen_softmax_shape", "Softmax", 13).nodeInputs("x").nodeOutputs("y")
                .input("x", new float[] {1f, 2f}, 2).output("y", new float[] {0.5f, 0.5f}, 1, 2).write(tmp);
        ParityRunner.Outcome o = ParityRunner.runOne(dir, "reference");
        assertFalse(o.passed());
        assertTrue(o.reason().contains("output y has shape [2] but the expected shape is [1, 2]"), o.reason());
    }

    @Test
    void aBrokenCaseFileIsAFailure(@TempDir Path tmp) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("broken"));
        Files.writeString(dir.resolve("case.json"), "{ not json");
        Captured c = new Captured();
        ParityRunner.Summary s = run(c, List.of(tmp), "reference");
        assertWellFormed(c, s);
        assertEquals(1, s.failed());
        assertTrue(c.lines().getFirst().contains("cannot read the case"), c.lines().getFirst());
    }

    @Test
    void noCaseFoundIsNonZero(@TempDir Path tmp) {
        Captured c = new Captured();
        ParityRunner.Summary s = run(c, List.of(tmp), "reference");
        assertEquals(List.of("parity: 0 passed, 0 failed"), c.lines());
        assertEquals(1, s.exitCode());
        Captured missing = new Captured();
        ParityRunner.Summary m = run(missing, List.of(tmp.resolve("nope")), "reference");
        assertEquals(1, m.failed());
        assertEquals("parity: 0 passed, 1 failed", missing.lines().getLast());
        assertEquals(1, m.exitCode());
    }

    @Test
    void unknownOrUnavailableBackendIsAnErrorWithTheReason(@TempDir Path tmp) {
        Captured out = new Captured();
        Captured err = new Captured();
        int rc = Main.runParity(List.of(tmp), "no-such-backend", out.out, err.out);
        assertEquals(2, rc);
        assertTrue(err.lines().getFirst().contains("no attn4j backend named 'no-such-backend'"), err.lines().toString());
        assertEquals("parity: 0 passed, 1 failed", out.lines().getLast());
    }

    @Test
    void parityCommandExitCodes(@TempDir Path tmp) throws IOException {
        GeneratedCases.softmax(tmp);
        Captured out = new Captured();
        Captured err = new Captured();
        assertEquals(0, Main.runParity(List.of(tmp), "reference", out.out, err.out));
        assertEquals("parity: 1 passed, 0 failed", out.lines().getLast());
        Path bad = new CaseWriter("gen_conv", "Conv", 11).nodeInputs("x").nodeOutputs("y")
                .input("x", new float[] {1f}, 1).output("y", new float[] {1f}, 1).write(tmp);
        assertTrue(Files.isDirectory(bad));
        Captured out2 = new Captured();
        assertEquals(1, Main.runParity(List.of(tmp), "reference", out2.out, err.out));
        assertEquals("parity: 1 passed, 1 failed", out2.lines().getLast());
    }

    @Test
    void everyCommandHasHelp() {
        for (String cmd : new String[] {"info", "parity", "bench"}) {
            CommandLine cl = Main.commandLine();
            StringWriter sw = new StringWriter();
            cl.setOut(new PrintWriter(sw));
            assertEquals(0, cl.execute(cmd, "--help"), cmd);
            assertTrue(sw.toString().startsWith("Usage: attn4j " + cmd), sw.toString());
        }
        CommandLine cl = Main.commandLine();
        StringWriter sw = new StringWriter();
        cl.setOut(new PrintWriter(sw));
        assertEquals(0, cl.execute("--help"));
        assertTrue(sw.toString().contains("parity") && sw.toString().contains("info") && sw.toString().contains("bench"));
    }

    @Test
    void benchFallsBackToInfoAndParityWithoutTheJmhModule() {
        // the jmh module (which depends on this one) is not on this module's test class path
        assertTrue(Main.benchCommand() instanceof Main.Bench);
        CommandLine cl = Main.commandLine();
        assertTrue(cl.getSubcommands().get("bench").getCommand() instanceof Main.Bench);
    }

    @Test
    void infoReportsTheBackendsAndTheMachine() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        SystemInfo.print(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String s = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(s.contains("JDK:") && s.contains("CPU:") && s.contains("Vectors:") && s.contains("GPU:"), s);
        assertTrue(s.contains("  reference  available"), s);
        assertTrue(s.contains("cores available to the JVM"), s);
    }
}
