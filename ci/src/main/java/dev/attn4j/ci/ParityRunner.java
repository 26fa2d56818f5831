package dev.attn4j.ci;

import dev.attn4j.api.Attn4j;
import dev.attn4j.api.Kernels;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The ONNX conformance runner: runs every case found under the given folders on every requested
 * backend and compares every graph output with the expected values.
 *
 * <p>Prints one line per case and backend — {@code PASS}/{@code FAIL}, the backend, the case, the
 * largest absolute error and, for a failure, the reason — then the last line
 * {@code parity: N passed, M failed}. A case the library cannot express fails with the reason; it is
 * never skipped.
 *
 * <p>Tolerance: {@code |got − expected| ≤ rtol·max(1, |expected|)} with rtol = 1e-5 for float32 and
 * 4e-3 for float16 expected outputs (float16 inputs are computed in float32); equal infinities compare
 * equal; NaN never passes.
 */
public final class ParityRunner {
    /** Relative tolerance for float32 outputs. */
    public static final double FLOAT32_RTOL = 1e-5;
    /** Relative tolerance for float16 outputs. */
    public static final double FLOAT16_RTOL = 4e-3;
    /** How deep below a --cases folder case folders are looked for. */
    private static final int MAX_DEPTH = 4;

    private final PrintStream out;

    /** A runner that prints to {@code out}. */
    public ParityRunner(PrintStream out) {
        this.out = out;
    }

    /**
     * The result of one case on one backend.
     *
     * @param status   PASS or FAIL
     * @param backend  the backend's name
     * @param caseName the case
     * @param maxError the largest |got − expected| over all outputs (NaN if nothing was compared)
     * @param reason   why it failed (empty for a pass)
     */
    public record Outcome(String status, String backend, String caseName, double maxError, String reason) {
        /** Whether the case passed. */
        public boolean passed() {
            return status.equals("PASS");
        }

        /** The printed line. */
        public String line() {
            String err = Double.isNaN(maxError) ? "-" : String.format(Locale.ROOT, "%.3e", maxError);
            String s = status + "  " + backend + "  " + caseName + "  max_err=" + err;
            return reason.isEmpty() ? s : s + "  " + reason;
        }
    }

    /**
     * Totals of one run.
     *
     * @param passed   cases × backends that passed
     * @param failed   cases × backends that failed
     * @param outcomes every outcome, in the printed order
     */
    public record Summary(int passed, int failed, List<Outcome> outcomes) {
        /** Copies the outcomes. */
        public Summary {
            outcomes = List.copyOf(outcomes);
        }

        /** The last line: {@code parity: N passed, M failed}. */
        public String line() {
            return "parity: " + passed + " passed, " + failed + " failed";
        }

        /** 0 when something ran and nothing failed, else 1. */
        public int exitCode() {
            return failed == 0 && passed > 0 ? 0 : 1;
        }
    }

    /** The folders holding a {@code case.json} under {@code root} (or root itself), sorted by path. */
    public static List<Path> findCases(Path root) throws IOException {
        if (Files.isRegularFile(root.resolve("case.json"))) {
            return List.of(root);
        }
        if (!Files.isDirectory(root)) {
            throw new IOException("cases folder " + root + " does not exist");
        }
        try (Stream<Path> s = Files.find(root, MAX_DEPTH, (p, a) -> a.isRegularFile() && p.getFileName().toString().equals("case.json"))) {
            return s.map(Path::getParent).sorted().toList();
        }
    }

    /**
     * Names of the backends to run: {@code all} is every available one; otherwise a comma-separated list.
     *
     * @throws IllegalArgumentException for an unknown name or a backend that cannot run here, with the reason
     */
    public static List<String> resolveBackends(String spec) {
        List<String> names = new ArrayList<>();
        if (spec == null || spec.isBlank() || spec.strip().equals("all")) {
            for (Attn4j.BackendStatus s : Attn4j.backends()) {
                if (s.available()) {
                    names.add(s.name());
                }
            }
            return names;
        }
        for (String raw : spec.split(",")) {
            String name = raw.strip();
            if (name.isEmpty()) {
                continue;
            }
            Attn4j.BackendStatus found = null;
            for (Attn4j.BackendStatus s : Attn4j.backends()) {
                if (s.name().equals(name)) {
                    found = s;
                }
            }
            if (found == null) {
                throw new IllegalArgumentException("no attn4j backend named '" + name + "'; found: "
                        + String.join(", ", Attn4j.backends().stream().map(Attn4j.BackendStatus::name).toList()));
            }
            if (!found.available()) {
                throw new IllegalArgumentException("backend '" + name + "' cannot run here: " + found.reason());
            }
            names.add(name);
        }
        return names;
    }

    /** Runs every case found under {@code roots} on each backend, printing as it goes. */
    public Summary run(List<Path> roots, List<String> backends) {
        List<Outcome> outcomes = new ArrayList<>();
        int passed = 0;
        int failed = 0;
        List<Path> cases = new ArrayList<>();
        for (Path root : roots) {
            try {
                cases.addAll(findCases(root));
            } catch (IOException | UncheckedIOException e) {
                out.println("FAIL  -  " + root + "  max_err=-  cannot list cases: " + e.getMessage());
                failed++;
            }
        }
        for (Path dir : cases) {
            for (String backend : backends) {
                Outcome o = runOne(dir, backend);
                out.println(o.line());
                out.flush();
                outcomes.add(o);
                if (o.passed()) {
                    passed++;
                } else {
                    failed++;
                }
            }
        }
        Summary summary = new Summary(passed, failed, outcomes);
        out.println(summary.line());
        out.flush();
        return summary;
    }

    /** Runs one case folder on one backend. */
    public static Outcome runOne(Path dir, String backend) {
        String name = dir.getFileName() == null ? dir.toString() : dir.getFileName().toString();
        ConformanceCase c;
        try {
            c = ConformanceCase.load(dir);
            name = c.name();
        } catch (IOException | RuntimeException e) {
            return fail(backend, name, Double.NaN, "cannot read the case: " + message(e));
        }
        Map<Integer, Npy.Array> expected;
        Map<Integer, OnnxOps.Result> got;
        try {
            expected = c.expectedOutputs();
            if (expected.isEmpty()) {
                return fail(backend, name, Double.NaN, "the case has no expected outputs");
            }
            Kernels kernels = Attn4j.kernels(backend);
            got = OnnxOps.run(c, kernels);
        } catch (OnnxOps.Unsupported e) {
            return fail(backend, name, Double.NaN, "not expressible: " + e.getMessage());
        } catch (IOException | RuntimeException | AssertionError | LinkageError | StackOverflowError | OutOfMemoryError e) {
            // a backend that crashes on one case (a missing native library, an assert) fails that case only
            return fail(backend, name, Double.NaN, message(e));
        }
        double maxError = 0.0;
        for (Map.Entry<Integer, Npy.Array> e : expected.entrySet()) {
            int slot = e.getKey();
            String out = c.outputName(slot);
            OnnxOps.Result r = got.get(slot);
            if (r == null) {
                return fail(backend, name, Double.NaN, "output " + out + " (slot " + slot + ") was not computed");
            }
            Npy.Array want = e.getValue();
            if (!Arrays.equals(r.shape(), want.shape())) {
                return fail(backend, name, Double.NaN, "output " + out + " has shape " + Arrays.toString(r.shape())
                        + " but the expected shape is " + Arrays.toString(want.shape()));
            }
            double rtol = want.kind() == Npy.Kind.FLOAT16 ? FLOAT16_RTOL : FLOAT32_RTOL;
            float[] w = want.toFloats();
            float[] g = r.data();
            String firstBad = null;
            for (int i = 0; i < w.length; i++) {
                double exp = w[i];
                double act = g[i];
                if (Double.isNaN(exp) || Double.isNaN(act)) {
                    if (firstBad == null) {
                        firstBad = describe(out, want.shape(), i, act, exp, rtol, "NaN never passes");
                    }
                    maxError = Double.NaN;
                    continue;
                }
                if (Double.isInfinite(exp) || Double.isInfinite(act)) {
                    if (exp != act && firstBad == null) {
                        firstBad = describe(out, want.shape(), i, act, exp, rtol, "infinities must match");
                    }
                    if (exp != act) {
                        maxError = Double.POSITIVE_INFINITY;
                    }
                    continue;
                }
                double err = Math.abs(act - exp);
                if (!Double.isNaN(maxError)) {
                    maxError = Math.max(maxError, err);
                }
                if (err > rtol * Math.max(1.0, Math.abs(exp)) && firstBad == null) {
                    firstBad = describe(out, want.shape(), i, act, exp, rtol, null);
                }
            }
            if (firstBad != null) {
                return fail(backend, name, maxError, firstBad);
            }
        }
        return new Outcome("PASS", backend, name, maxError, "");
    }

    private static String describe(String out, int[] shape, int flat, double got, double want, double rtol, String note) {
        int[] idx = new int[shape.length];
        long rest = flat;
        for (int a = shape.length - 1; a >= 0; a--) {
            idx[a] = (int) (rest % shape[a]);
            rest /= shape[a];
        }
        String s = String.format(Locale.ROOT, "%s%s: got %s, expected %s (tolerance %.0e·max(1, |expected|))", out,
                Arrays.toString(idx), fmt(got), fmt(want), rtol);
        return note == null ? s : s + ": " + note;
    }

    private static String fmt(double v) {
        return Double.isNaN(v) || Double.isInfinite(v) ? Double.toString(v) : String.format(Locale.ROOT, "%.7g", v);
    }

    private static Outcome fail(String backend, String name, double maxError, String reason) {
        return new Outcome("FAIL", backend, name, maxError, reason.replace('\n', ' '));
    }

    private static String message(Throwable e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }
}
