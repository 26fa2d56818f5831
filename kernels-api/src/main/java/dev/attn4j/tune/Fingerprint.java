package dev.attn4j.tune;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * What a tuned configuration was measured on. Wisdom recorded under another fingerprint is foreign and
 * never trusted.
 *
 * @param cpu        CPU model name
 * @param vectorBits the vector width kernels use
 * @param cores      available processors
 * @param jdk        the JDK's feature version and vendor
 * @param gpu        GPU name and driver, or "none"
 * @param attn4j     attn4j's version
 */
public record Fingerprint(String cpu, int vectorBits, int cores, String jdk, String gpu, String attn4j) {

    /** Requires every part. */
    public Fingerprint {
        Objects.requireNonNull(cpu, "cpu");
        Objects.requireNonNull(jdk, "jdk");
        Objects.requireNonNull(gpu, "gpu");
        Objects.requireNonNull(attn4j, "attn4j");
    }

    /** This machine, as seen with the given vector width and GPU description. */
    public static Fingerprint current(int vectorBits, String gpu) {
        return new Fingerprint(cpuModel(), vectorBits, Runtime.getRuntime().availableProcessors(),
                Runtime.version().feature() + " " + System.getProperty("java.vendor", "?"), gpu == null ? "none" : gpu,
                Version.ATTN4J);
    }

    /** One line, used as the key in the wisdom file. */
    public String key() {
        return String.join("|", clean(cpu), Integer.toString(vectorBits), Integer.toString(cores), clean(jdk), clean(gpu),
                clean(attn4j));
    }

    static String clean(String s) {
        return s.replace('|', '/').replace('\t', ' ').replace('\n', ' ').trim();
    }

    static String cpuModel() {
        return CpuHolder.MODEL;
    }

    /** /proc/cpuinfo is read once per process. */
    private static final class CpuHolder {
        static final String MODEL = readCpuModel();
    }

    private static String readCpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return System.getProperty("os.arch") + " " + System.getProperty("os.name");
    }

    /** attn4j's version, from the jar manifest when packaged. */
    static final class Version {
        static final String ATTN4J;

        static {
            String v = Fingerprint.class.getPackage().getImplementationVersion();
            ATTN4J = v == null ? "0.1.0-SNAPSHOT" : v;
        }

        private Version() {
        }
    }
}
