package dev.attn4j.ci;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the shared conformance data lies for the tests. CI runs in a fresh clone at {@code X/main}
 * with the data at {@code X/shared}: {@code ../shared/conformance} from the repository root, so
 * {@code ../../shared/conformance} from this module's folder (surefire's working directory and
 * {@code basedir}). A developer's worktree beside {@code /work/shared} finds it the same way; the
 * absolute {@code /work/shared} is the last resort.
 */
final class ConformanceData {
    private ConformanceData() {
    }

    /** The {@code conformance} folder, or null when none exists. */
    static Path root() {
        Path module = Path.of(System.getProperty("basedir", "")).toAbsolutePath();
        Path[] candidates = {
            module.resolve("../../shared/conformance"),
            module.resolve("../shared/conformance"),
            Path.of("/work/shared/conformance"),
        };
        for (Path c : candidates) {
            Path n = c.normalize();
            if (Files.isDirectory(n.resolve("onnx"))) {
                return n;
            }
        }
        return null;
    }

    /** The ONNX cases folder, or null. */
    static Path onnxFolder() {
        Path r = root();
        return r == null ? null : r.resolve("onnx");
    }

    /** The stress cases folder, or null. */
    static Path stressFolder() {
        Path r = root();
        return r == null || !Files.isDirectory(r.resolve("stress")) ? null : r.resolve("stress");
    }
}
