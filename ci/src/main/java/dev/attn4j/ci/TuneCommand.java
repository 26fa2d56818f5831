package dev.attn4j.ci;

import dev.attn4j.api.AttentionProblem;
import dev.attn4j.api.Attn4j;
import dev.attn4j.api.Kernels;
import dev.attn4j.api.Mask;
import dev.attn4j.spi.Backend;
import dev.attn4j.tune.Planner;
import dev.attn4j.tune.Tunable;
import dev.attn4j.tune.TuneRequest;
import dev.attn4j.tune.TuningMode;
import dev.attn4j.tune.Wisdom;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code attn4j tune}: times the tile candidates of a backend's kernels on representative shapes
 * (FFTW's planner) and remembers the winners in the wisdom file, which the backend reads from then on.
 */
@Command(name = "tune", mixinStandardHelpOptions = true,
        description = {"Chooses tile sizes for this machine: checks every candidate against the reference, times it "
                + "(warm-up, then the median of several runs), keeps the fastest when it beats the ESTIMATE default by "
                + "more than the measured spread, and remembers it in the wisdom file (-Dattn4j.wisdom, $ATTN4J_WISDOM, "
                + "or ~/.cache/attn4j/wisdom.txt). A class already in the wisdom is not measured again.",
            "Without --shape: the SIMD benchmarks' shapes (attention B=1 H=12 D=64 S=512 and 2048, with and without the "
                + "causal mask; GEMM 1024×1024×1024 and 2048×2304×768)."})
final class TuneCommand implements Callable<Integer> {

    @Option(names = "--mode", paramLabel = "MODE", defaultValue = "measure",
            description = "measure (plausible candidates, ≤ 10 s per problem class) or exhaustive (every valid one).")
    String mode;

    @Option(names = "--shape", paramLabel = "B,H,KVH,SQ,SK,D",
            description = "An attention shape to tune (repeatable); for --kernel gemm give M,N,K.")
    List<String> shapes;

    @Option(names = "--kernel", paramLabel = "NAME", defaultValue = "all", description = "attention, gemm or all.")
    String kernel;

    @Option(names = "--causal", description = "Tune --shape attention shapes with the causal mask (top-left).")
    boolean causal;

    @Option(names = "--backend", paramLabel = "NAME", description = "The backend to tune (default: the default backend).")
    String backend;

    @Override
    public Integer call() {
        PrintStream out = System.out;
        TuningMode m = switch (mode.toLowerCase(Locale.ROOT)) {
            case "measure" -> TuningMode.MEASURE;
            case "exhaustive" -> TuningMode.EXHAUSTIVE;
            default -> throw new CommandLine.ParameterException(new CommandLine(this),
                    "--mode must be measure or exhaustive but is " + mode);
        };
        Kernels k = backend == null ? Attn4j.kernels() : Attn4j.kernels(backend);
        Backend b = k.backend();
        Wisdom wisdom = b.wisdom();
        List<TuneRequest> requests = requests();
        List<Tunable<?>> tunables = new ArrayList<>();
        for (TuneRequest r : requests) {
            tunables.addAll(b.tunables(r));
        }
        if (tunables.isEmpty() || wisdom == null) {
            out.println("tune: the " + b.name() + " backend has nothing to tune for " + kernel
                    + " (simd tunes attention and gemm tiles, cuda the attention path's launches; --backend simd|cuda)");
            return 2;
        }
        out.println("tuning " + tunables.size() + " problem classes on " + b.name() + " (" + b.description() + "), mode "
                + m + ", wisdom " + wisdom.file());
        // MEASURE: 8.5 s for checks and timing, so that a problem class takes under 10 s with each
        // candidate's untimed first run
        double budget = m == TuningMode.MEASURE ? 8.5 : 30.0;
        int measurements = 0;
        List<String[]> rows = new ArrayList<>();
        for (int t = 0; t < tunables.size(); t++) {
            Tunable<?> tunable = tunables.get(t);
            String label = tunable.problemClass().key();
            int index = t;
            long started = System.nanoTime();
            Planner.Plan<?> plan = Planner.plan(tunable, m, wisdom, budget,
                    (i, n, c) -> progress(index, tunables.size(), i, n, label + " " + c));
            double seconds = (System.nanoTime() - started) / 1e9;
            progress(index + 1, tunables.size(), 0, 1, label);
            System.err.println();
            if (!plan.fromWisdom()) {
                System.err.printf(Locale.ROOT, "%s: %d candidates checked and timed in %.1f s%n", label,
                        plan.measurements().size(), seconds);
            }
            measurements += plan.timedRuns();
            if (plan.fromWisdom()) {
                rows.add(new String[] {label, plan.encoded(), nanos(plan.chosenNanos()), "yes (wisdom)",
                        speedup(plan.estimateNanos(), plan.chosenNanos())});
                continue;
            }
            for (Planner.Measurement x : plan.measurements()) {
                boolean chosen = x.config().equals(plan.encoded());
                rows.add(new String[] {label, x.config(), x.failure() != null ? "dropped: " + x.failure() : nanos(x.medianNanos())
                        + " ± " + nanos(x.spreadNanos()), chosen ? "yes" : "", x.failure() != null ? "" : Double.isNaN(x.ratio()) ? speedup(plan.estimateNanos(),
                        x.medianNanos()) : String.format(Locale.ROOT, "%.2f ± %.2f", 1.0 / x.ratio(), x.ratioSpread() / (x.ratio() * x.ratio()))});
            }
        }
        out.printf(Locale.ROOT, "%-46s %-28s %-24s %-13s %s%n", "problem class", "candidate", "median", "chosen", "× ESTIMATE");
        for (String[] r : rows) {
            out.printf(Locale.ROOT, "%-46s %-28s %-24s %-13s %s%n", (Object[]) r);
        }
        out.println("tune: " + measurements + " measurements, " + tunables.size() + " problem classes, wisdom "
                + (wisdom.isMemoryOnly() ? "(memory only: " + wisdom.lastWarning() + ")" : wisdom.file()));
        return 0;
    }

    private List<TuneRequest> requests() {
        boolean att = kernel.equals("all") || kernel.equals("attention");
        boolean gemm = kernel.equals("all") || kernel.equals("gemm");
        if (!att && !gemm) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--kernel must be attention, gemm or all but is " + kernel);
        }
        List<TuneRequest> list = new ArrayList<>();
        if (shapes == null || shapes.isEmpty()) {
            if (att) {
                for (int s : new int[] {512, 2048}) {
                    AttentionProblem p = AttentionProblem.of(1, 12, 12, s, s, 64);
                    list.add(TuneRequest.attention(p, Mask.none()));
                    list.add(TuneRequest.attention(p, Mask.causalTopLeft()));
                }
            }
            if (gemm) {
                list.add(TuneRequest.gemm(1024, 1024, 1024));
                list.add(TuneRequest.gemm(2048, 2304, 768));
            }
            return list;
        }
        for (String s : shapes) {
            int[] v;
            try {
                v = java.util.Arrays.stream(s.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
            } catch (NumberFormatException e) {
                throw new CommandLine.ParameterException(new CommandLine(this), "--shape must be comma-separated integers but is " + s);
            }
            if (v.length == 6 && att) {
                AttentionProblem p = AttentionProblem.of(v[0], v[1], v[2], v[3], v[4], v[5]);
                list.add(TuneRequest.attention(p, causal ? Mask.causalTopLeft() : Mask.none()));
            } else if (v.length == 3 && gemm) {
                list.add(TuneRequest.gemm(v[0], v[1], v[2]));
            } else {
                throw new CommandLine.ParameterException(new CommandLine(this), "--shape " + s
                        + " must be B,H,KVH,SQ,SK,D for attention or M,N,K for gemm (kernel " + kernel + ")");
            }
        }
        return list;
    }

    private static void progress(int cls, int classes, int cand, int cands, String label) {
        int width = 30;
        double f = (cls + (double) cand / Math.max(1, cands)) / classes;
        int filled = (int) Math.round(f * width);
        String text = label.length() > 70 ? label.substring(0, 69) + "…" : label;
        System.err.print("\r[" + "#".repeat(filled) + " ".repeat(width - filled) + "] " + text + " ".repeat(Math.max(0, 72 - text.length())));
        System.err.flush();
    }

    private static String nanos(double ns) {
        if (Double.isNaN(ns)) {
            return "-";
        }
        return ns >= 1e6 ? String.format(Locale.ROOT, "%.2f ms", ns / 1e6) : String.format(Locale.ROOT, "%.1f µs", ns / 1e3);
    }

    private static String speedup(double estimate, double x) {
        return Double.isNaN(estimate) || Double.isNaN(x) ? "-" : String.format(Locale.ROOT, "%.2f", estimate / x);
    }
}
