package dev.attn4j.bench.quick;

import dev.attn4j.api.Attn4j;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./attn4j bench}: the quick, honest summary of what attn4j does on this machine. The {@code jmh}
 * module's JMH suites stay the rigorous tool; this is what a newcomer runs first.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measures this machine's FP32 peak and memory bandwidth, then every kernel on representative shapes",
            "(encoder, LLM prefill and decode, projections, softmax) on each backend, with its error against the float64",
            "oracle, its speed-up over the reference backend and its ratio to ONNX Runtime measured in the same run;",
            "then all-MiniLM-L6-v2 end to end (LangChain4j embedAll of 32 texts, texts/s) against LangChain4j's ONNX Runtime model.",
            "Writes an HTML report with a roofline and a speed-up chart, and optionally the raw figures as JSON."})
public final class BenchCommand implements Callable<Integer> {

    @Option(names = "--quick", description = "Small shapes and short timings (under 30 s; CI's smoke test); MiniLM at 16 tokens only.")
    boolean quick;

    @Option(names = "--backend", split = ",", paramLabel = "NAME",
            description = "Backends to measure besides the reference (default: every available one).")
    List<String> backends;

    @Option(names = "--shape", paramLabel = "TEXT", description = "Only the cases whose kernel or shape contains TEXT (ignoring case), e.g. 'decode' or 'minilm'.")
    String shape;

    @Option(names = "--threads", paramLabel = "N", description = "Threads for the kernels (default: all cores).")
    Integer threads;

    @Option(names = "--report", paramLabel = "FILE", defaultValue = "target/attn4j-bench/report.html",
            description = "HTML report (default: ${DEFAULT-VALUE}).")
    Path report;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the raw figures as a JSON array.")
    Path json;

    @Option(names = "--no-peer", description = "Do not run ONNX Runtime.")
    boolean noPeer;

    /** Creates the command. */
    public BenchCommand() {
    }

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        if (threads != null) {
            if (threads < 1) {
                throw new CommandLine.ParameterException(new CommandLine(this), "--threads must be >= 1 but is " + threads);
            }
            System.setProperty("attn4j.threads", Integer.toString(threads));
        }
        int probeThreads = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        List<String> names = new ArrayList<>();
        if (backends == null || backends.isEmpty()) {
            for (Attn4j.BackendStatus s : Attn4j.backends()) {
                if (s.available() && !s.name().equals("reference")) {
                    names.add(s.name());
                } else if (!s.available()) {
                    out.println("skipping " + s.name() + ": " + s.reason());
                }
            }
        } else {
            for (String b : backends) {
                if (!b.equals("reference")) {
                    Attn4j.kernels(b); // a backend that cannot run is an error here, with its reason
                    names.add(b);
                }
            }
        }
        out.println("measuring the machine …");
        MachineProbe.Machine m = MachineProbe.probe(quick, probeThreads);
        out.printf(Locale.ROOT, "%s · %d cores · %d-bit vectors · JDK %s%s%n", m.cpu(), m.cores(), m.vectorBits(), m.jdk(),
                m.gpu() == null ? " · no GPU" : " · GPU " + m.gpu());
        out.printf(Locale.ROOT, "FP32 FMA peak %.0f GFLOP/s (%d threads), copy bandwidth %.1f GB/s%n", m.peakGflops(), probeThreads,
                m.bandwidthGBs());
        Peer peer = noPeer ? null : OrtPeers.create(out, probeThreads);
        boolean endToEnd = !EndToEnd.selected(quick, shape).isEmpty();
        String missing = endToEnd ? EndToEnd.unavailable() : null;
        if (missing != null) {
            out.println("skipping " + EndToEnd.KERNEL + ": " + missing);
            endToEnd = false;
        }
        List<QuickBench.Result> results;
        try {
            results = QuickBench.run(new QuickBench.Options(quick, names, shape, endToEnd), m, peer, new ProgressBar(System.err));
        } finally {
            if (peer != null) {
                peer.close();
            }
        }
        out.println();
        out.print(Report.table(results));
        for (String line : Report.endToEndLines(results)) {
            out.println(line);
        }
        String command = "./attn4j bench" + (quick ? " --quick" : "") + (shape == null ? "" : " --shape " + shape)
                + (threads == null ? "" : " --threads " + threads);
        Report.writeHtml(report, m, results, command);
        out.println("report: " + report.toAbsolutePath());
        if (json != null) {
            Report.writeJson(json, m, results);
            out.println("json: " + json.toAbsolutePath());
        }
        for (QuickBench.Result r : results) {
            // a wrong answer from one of ours fails the command; a peer's is only reported
            if (names.contains(r.backend()) && r.maxError() != null && !(r.maxError() <= 1e-4)) {
                out.println("FAIL: " + r.backend() + " " + r.kernel() + " " + r.shape() + " differs from the oracle by " + r.maxError());
                return 1;
            }
        }
        return 0;
    }

    /** Runs the command on its own. */
    public static void main(String[] args) {
        System.exit(new CommandLine(new BenchCommand()).execute(args));
    }

    /** A one-line progress bar on a terminal stream. */
    static final class ProgressBar implements QuickBench.Progress {
        private final PrintStream err;

        ProgressBar(PrintStream err) {
            this.err = err;
        }

        @Override
        public void update(int done, int total, String label) {
            int width = 30;
            int filled = total == 0 ? width : done * width / total;
            String text = label.length() > 60 ? label.substring(0, 59) + "…" : label;
            err.print("\r[" + "#".repeat(filled) + " ".repeat(width - filled) + "] " + done + "/" + total + " " + text
                    + " ".repeat(Math.max(0, 62 - text.length())));
            if (done == total) {
                err.println();
            }
            err.flush();
        }
    }
}
