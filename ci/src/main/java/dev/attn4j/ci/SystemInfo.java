package dev.attn4j.ci;

import dev.attn4j.api.Attn4j;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * What {@code ./attn4j info} reports: the backends found (and why each unavailable one is unavailable),
 * the CPU, its preferred vector width, the JDK and the GPU if any. Nothing here needs
 * {@code jdk.incubator.vector} at compile time: the vector width is read reflectively when the module
 * is resolved, and from the CPU flags otherwise.
 */
final class SystemInfo {

    private SystemInfo() {
    }

    /** Prints the report. */
    static void print(PrintStream out) {
        out.println("attn4j " + version());
        Runtime.Version v = Runtime.version();
        out.println(row("JDK", v + " (" + System.getProperty("java.vendor", "?") + ", " + System.getProperty("java.home")
                + ")"));
        out.println(row("OS", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch")));
        out.println(row("CPU", cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " cores available to the JVM"));
        out.println(row("Vectors", vectorWidth()));
        out.println(row("Memory", Runtime.getRuntime().maxMemory() / (1024 * 1024) + " MiB max heap"));
        out.println(row("GPU", gpu()));
        out.println("Backends (highest priority first):");
        String chosen = null;
        for (Attn4j.BackendStatus s : Attn4j.backends()) {
            String detail = s.reason();
            if (s.available()) {
                if (chosen == null) {
                    chosen = s.name();
                }
                try {
                    String d = Attn4j.kernels(s.name()).backend().description();
                    if (d != null && !d.isBlank() && !d.equals(detail)) {
                        detail = d + "; " + detail;
                    }
                } catch (RuntimeException | LinkageError e) {
                    detail = detail + " (but creating it failed: " + e + ")";
                }
            }
            out.println(String.format(Locale.ROOT, "  %-10s %-12s priority %-3d %s", s.name(),
                    s.available() ? "available" : "UNAVAILABLE", s.priority(), detail));
        }
        String forced = System.getProperty(Attn4j.BACKEND_PROPERTY);
        if (forced != null && !forced.isBlank()) {
            out.println(row("Default", forced.strip() + " (forced by -D" + Attn4j.BACKEND_PROPERTY + ")"));
        } else {
            out.println(row("Default", chosen == null ? "none can run" : chosen + " (the available backend of highest priority)"));
        }
    }

    private static String row(String key, String value) {
        return String.format(Locale.ROOT, "%-9s %s", key + ":", value);
    }

    private static String version() {
        String v = SystemInfo.class.getPackage().getImplementationVersion();
        return v == null ? "(development build)" : v;
    }

    /** The first "model name" (x86) or "Hardware"/"CPU part" line of /proc/cpuinfo. */
    static String cpuModel() {
        List<String> lines = cpuinfo();
        for (String key : new String[] {"model name", "Hardware", "Model", "CPU part"}) {
            for (String l : lines) {
                int colon = l.indexOf(':');
                if (colon > 0 && l.substring(0, colon).strip().equals(key)) {
                    return l.substring(colon + 1).strip();
                }
            }
        }
        return System.getProperty("os.arch") + " (no model name in /proc/cpuinfo)";
    }

    /** The preferred vector width: from the Vector API when it is resolved, and what the CPU flags say. */
    static String vectorWidth() {
        String api;
        try {
            Class<?> fv = Class.forName("jdk.incubator.vector.FloatVector");
            Object species = fv.getField("SPECIES_PREFERRED").get(null);
            Method bits = Class.forName("jdk.incubator.vector.VectorSpecies").getMethod("vectorBitSize");
            int b = (Integer) bits.invoke(species);
            api = b + "-bit preferred species (" + b / 32 + " floats per FloatVector)";
        } catch (ClassNotFoundException e) {
            api = "Vector API not resolved (run with --add-modules=jdk.incubator.vector)";
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            api = "Vector API not usable: " + e;
        }
        String flags = cpuVectorFlags();
        return flags.isEmpty() ? api : api + "; CPU flags: " + flags;
    }

    private static String cpuVectorFlags() {
        List<String> found = new ArrayList<>();
        for (String l : cpuinfo()) {
            int colon = l.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String key = l.substring(0, colon).strip();
            if (key.equals("flags") || key.equals("Features")) {
                List<String> flags = List.of(l.substring(colon + 1).strip().split("\\s+"));
                for (String f : new String[] {"sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl",
                        "avx512_bf16", "avx512_fp16", "amx_tile", "asimd", "asimdhp", "sve", "sve2"}) {
                    if (flags.contains(f)) {
                        found.add(f);
                    }
                }
                break;
            }
        }
        return String.join(" ", found);
    }

    private static List<String> cpuinfo() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo"), StandardCharsets.ISO_8859_1);
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }

    /** The GPU from nvidia-smi, or why none was found. */
    static String gpu() {
        List<String> cmd = List.of("nvidia-smi", "--query-gpu=name,memory.total,driver_version,compute_cap",
                "--format=csv,noheader");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String text;
            try (InputStream in = p.getInputStream()) {
                text = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
            }
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "nvidia-smi did not answer within 10 s";
            }
            if (p.exitValue() != 0) {
                return "none usable (nvidia-smi exited with " + p.exitValue() + ": " + firstLine(text) + ")";
            }
            return text.isEmpty() ? "none (nvidia-smi lists no GPU)" : String.join("; ", text.lines().toList());
        } catch (IOException e) {
            return "none found (nvidia-smi is not on the PATH)";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown (interrupted)";
        }
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
